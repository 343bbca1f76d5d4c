"""qemu-thread-origins on odd input: names that are not UTF-8, every form of --max-frames,
what `status` says before the first thread, completion and --help."""
from __future__ import annotations

import re

import pytest

from cbuild import build
from gdbrun import json_command, run_gdb

CMD = "qemu-thread-origins"
SHOW_JSON = json_command(CMD + " show --json")
REPLACED = "\ufffdt\ufffd"  # "\xe9t\xe9" with each byte that is not UTF-8 replaced


@pytest.fixture(scope="module")
def threads_program():
    return build("origins_threads.c", "nodebug")


def test_a_name_that_is_not_utf8_is_shown_replaced_never_an_error():
    program = build("origins_odd_names.c", "nodebug")
    run = run_gdb([CMD + " start", "break checkpoint", "run", CMD + " status", CMD + " show",
                   CMD + " show --bt"] + SHOW_JSON + ["kill"], program=program).check()
    assert "internal error" not in run.output and "UnicodeDecodeError" not in run.output
    assert "1 thread recorded (1 alive)" in run.stdout
    (entry,) = run.json()["origins"]
    assert entry["name"] == REPLACED and entry["alive"] is True
    assert "spawn_odd" in entry["frames"]
    rows = [line for line in run.stdout.splitlines() if "spawn_odd <- main" in line]
    assert len(rows) == 1 and REPLACED in rows[0]
    assert 'Thread 2 (LWP %d) "%s"' % (entry["lwp"], REPLACED) in run.stdout


def frames_after(run, index):
    return [e["frames"] for e in run.json_docs()[index]["origins"]]


def test_max_frames_parses_one_way_in_every_form():
    """0 keeps every frame in each form; a bad count is the same one line in each form."""
    program = build("origins_deep.c", "nodebug")  # a thread created 70 calls deep
    run = run_gdb([CMD + " start", "run"] + SHOW_JSON
                  + [CMD + " clear", CMD + " stop", CMD + " start --max-frames=3", "run"] + SHOW_JSON
                  + [CMD + " clear", CMD + " stop", CMD + " start -n 0", "run"] + SHOW_JSON
                  + [CMD + " clear", CMD + " stop", CMD + " start --max-frames 0", "run"] + SHOW_JSON
                  + [CMD + " clear", CMD + " stop", CMD + " start --max-frames=0", "run"] + SHOW_JSON
                  + [CMD + " stop", CMD + " start -n2", CMD + " stop",
                     CMD + " start --max-frames x", CMD + " start --max-frames=x",
                     CMD + " start -n x", CMD + " start -n -1", CMD + " start --max-frames"],
                  program=program).check()
    docs = [doc["origins"] for doc in run.json_docs()]
    assert [len(doc) for doc in docs] == [1] * 5
    default, three, *every = [doc[0]["frames"] for doc in docs]
    assert len(default) == 48 and len(three) == 3 and three == default[:3]
    for frames in every:
        assert frames[:48] == default and frames[-1] == "main"
        assert frames.count("descend") == 71
    assert run.stdout.count("every frame of each creation backtrace") == 3
    assert "2 frames of each creation backtrace" in run.stdout
    for word in ("x", "-1"):
        assert "'%s' is not a number of frames (0 keeps them all)" % word in run.output
    assert run.output.count("is not a number of frames") == 4
    assert "argument -n/--max-frames: expected one argument" in run.output


def our_breakpoints(maint_info):
    """The internal breakpoints of type "breakpoint" (gdb's own are shlib events, longjmp...)."""
    return re.findall(r"^-\d+\s+breakpoint\s+keep\s+y\s+(.*)$", maint_info, re.M)


@pytest.mark.parametrize("libc_symbols", [True, False])
def test_status_before_the_first_thread_names_the_real_cause(threads_program, libc_symbols):
    run = run_gdb((["set debug-file-directory /nonexistent-debug-dir"] if not libc_symbols else [])
                  + [CMD + " start", CMD + " status", "break main", "run",
                     "echo @@functions@@\\n", "info functions ^clone3$",
                     "echo @@status@@\\n", CMD + " status", "echo @@maint@@\\n",
                     "maint info breakpoints", "echo @@end@@\\n", "kill"],
                  program=threads_program).check()
    assert "not defined" not in run.output  # no pending breakpoint, so no gdb message for one
    before_run = run.stdout.split("@@status@@")[0]
    assert "Note: clone3 and clone: waiting for libc to be loaded." in before_run
    status = run.stdout.split("@@status@@\n", 1)[1].split("@@maint@@")[0]
    placed = our_breakpoints(run.stdout.split("@@maint@@", 1)[1].split("@@end@@")[0])
    assert "waiting for libc" not in status and "not found" not in status
    assert len(placed) == 2, placed  # one on clone3, one on clone: nothing left over
    functions = run.stdout.split("@@functions@@", 1)[1].split("@@status@@")[0]
    if re.search(r"\bclone3\b", functions.split(":", 1)[1]):  # gdb has libc's debug symbols
        assert libc_symbols
        assert "no debug symbols" not in status and "Note:" not in status
        assert all(" in clone" in where for where in placed)
    else:
        assert "Note: clone3 found in libc's code at *0x" in status
        assert "(libc has no debug symbols)" in status


def test_completion_and_help_come_from_the_options(threads_program):
    run = run_gdb(["complete %s start --m" % CMD, "complete %s start --max-frames=" % CMD,
                   "complete %s show --" % CMD, "complete %s show --b" % CMD,
                   "complete %s show 2 --a" % CMD, "echo @@help@@\\n",
                   CMD + " show --help", CMD + " start -h", "help %s start" % CMD],
                  load=True).check()
    completions, help_text = run.stdout.split("@@help@@", 1)
    lines = completions.splitlines()
    assert "%s start --max-frames" % CMD in lines
    for option in ("--all", "--bt", "--help", "--json"):
        assert "%s show %s" % (CMD, option) in lines
    assert "%s show --bt" % CMD in lines and "%s show 2 --all" % CMD in lines
    assert "Usage: %s show [-h] [--bt] [--json] [--all] [THREAD ...]" % CMD not in help_text
    assert "usage: %s show [-h] [--bt] [--json] [--all] [THREAD ...]" % CMD in help_text
    words = " ".join(help_text.split())
    assert words.count("keep N frames of each creation backtrace; 0 keeps them all (default 48)") == 2
    assert "Start recording thread creation.\n\nUsage: %s start [-h] [-n N]" % CMD in help_text


def test_show_json_is_one_document_even_with_nothing_recorded():
    run = run_gdb(SHOW_JSON, load=True).check()
    doc = run.json()
    assert doc["origins"] == [] and doc["pid"] is None and set(doc) == {"origins", "pid", "version",
                                                                         "schema"}
