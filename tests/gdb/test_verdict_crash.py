"""Crash facts under real gdb: tests/fixtures/hang_assert.c fails an assertion in an iothread
(glibc's assert() or GLib's g_assert()) and writes the text, file and line it fails at; the
crashed thread's row, its JSON `crash` and the verdict of --why must say the same, live and
on a core file, with debug info and stripped (the messages are read from the C libraries'
memory, not from debug info)."""
from __future__ import annotations

import json

import pytest

from cbuild import build, pkg_config
from gdbrun import json_command, run_gdb


@pytest.mark.parametrize("variant", ("debug", "stripped"))
@pytest.mark.parametrize("how", ("assert", "glib"))
def test_the_failed_assertion_is_named_live_and_on_a_core(how, variant, tmp_path):
    cflags, libs = pkg_config("glib-2.0")
    binary = build("hang_assert.c", variant, extra=cflags, libs=libs)
    truth_path, core = tmp_path / "truth.jsonl", tmp_path / "core"
    commands = ["run"] + json_command("qemu-threads --why --json")
    commands += ["generate-core-file %s" % core, "kill", "core-file %s" % core]
    commands += json_command("qemu-threads --why --json") + ["qemu-threads --why"]
    run = run_gdb(commands, program=binary, args=[how], timeout=120,
                  env={"FIXTURE_TRUTH": str(truth_path), "FIXTURE_STOP": "none"}).check()
    truth = next(json.loads(ln)["crash"] for ln in truth_path.read_text().splitlines()
                 if ln.startswith('{"crash"'))
    location = "%s:%d" % (truth["file"], truth["line"])
    for doc in run.json_docs():
        crashed = [t for t in doc["threads"] if t["state"] == "crashed"]
        assert [t["lwp"] for t in crashed] == [truth["tid"]], doc["threads"]
        crash = crashed[0]["crash"]
        assert crash["signal"] == "SIGABRT"
        assert crash["message"] == truth["text"] and crash["location"] == location, crash
        assert crashed[0]["activity"] == "SIGABRT: assertion `%s` failed at %s in %s" % (
            truth["text"], location, truth["function"])
        verdict = doc["verdict"]
        assert verdict["kind"] == "crash" and verdict["chain"] == [crashed[0]["num"]], verdict
        assert "#%d" % crashed[0]["num"] in verdict["summary"].split(" crashed: ")[0]
        assert " crashed: SIGABRT: assertion `%s` failed" % truth["text"] in verdict["summary"]
    text = run.stdout.rsplit("@@json-end@@", 1)[1]
    assert text.lstrip().startswith("Verdict (crash): ")
