"""An iothread's id from debug info, when its thread has no name: QEMU keeps it only in the
QOM tree, here real GLib hash tables (tests/fixtures/iothread_qom.c), live and on a core."""
import json

import pytest

from cbuild import build, pkg_config
from gdbrun import json_command, run_gdb

NAMES = ["-name", "guest=fx,debug-threads=on"]


@pytest.mark.parametrize("variant", ["debug", "nodebug", "stripped"])
@pytest.mark.parametrize("names", [False, True], ids=["unnamed", "named"])
def test_iothread_ids(tmp_path, variant, names):
    cflags, libs = pkg_config("glib-2.0")
    binary = build("iothread_qom.c", variant, extra=cflags, libs=libs)
    truth_path, core = tmp_path / "truth.jsonl", tmp_path / "core"
    run = run_gdb(["run"] + json_command("qemu-threads --json")
                  + ["generate-core-file %s" % core, "kill", "core-file %s" % core]
                  + json_command("qemu-threads --json"),
                  program=binary, args=NAMES if names else [],
                  env={"FIXTURE_TRUTH": str(truth_path)}, timeout=120).check()
    lines = [json.loads(line) for line in truth_path.read_text().splitlines()]
    assert lines[-1].get("ready"), lines[-1]
    iothreads = [ln for ln in lines if ln.get("role") == "iothread"]
    assert sorted(t["iothread"] for t in iothreads) == ["iot0", "iothread-disk-0"]
    docs = run.json_docs()
    assert len(docs) == 2
    for doc in docs:
        threads = {t["lwp"]: t for t in doc["threads"]}
        for truth in iothreads:
            got = threads[truth["tid"]]
            if variant == "debug":
                assert got["role"] == "iothread" and got["iothread"] == truth["iothread"], got
                assert got["detail"] == "iothread %s" % truth["iothread"]
            elif truth["named"] and got["name"]:  # a core file carries no names
                assert got["iothread"] == truth["iothread"], got
            else:
                assert got["iothread"] is None, got  # nothing tells it: no guess
