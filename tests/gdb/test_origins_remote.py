"""qemu-thread-origins over gdbserver (`target extended-remote`), with `run` and `attach`.

Over a remote target gdb reads the new thread's id through the remote protocol, not
/proc/PID/mem, and learns of new threads only when the program stops; a thread that ends
before the next stop may never be seen, which `start` and `status` say."""
from __future__ import annotations

import subprocess

import pytest
from test_origins_gdb import PID, check_fixture_origins, origins, pid_of

from cbuild import build
from gdbrun import json_command, run_gdb
from origins_gdbserver import gdbserver, remote

CMD = "qemu-thread-origins"
SHOW_JSON = json_command(CMD + " show --json")
REMOTE_NOTE = "on a remote target gdb learns of new threads only when the program stops"
pytestmark = pytest.mark.skipif(gdbserver() is None, reason="gdbserver is not installed")


@pytest.fixture(scope="module")
def fixture_program():
    return build("origins_threads.c", "nodebug")


def test_run_over_gdbserver_records_every_thread_gdb_sees(fixture_program):
    run = run_gdb(remote(fixture_program)
                  + [CMD + " start", "break checkpoint", "run"] + PID + SHOW_JSON
                  + [CMD + " status", "continue"] + SHOW_JSON).check()
    (pid,) = pid_of(run)
    check_fixture_origins(origins(run, 0), pid, alive=True, short_lived_seen=False)
    check_fixture_origins(origins(run, 1), pid, alive=False, short_lived_seen=False)
    status = run.stdout.split("@@json-end@@", 1)[1]
    assert "not yet paired" not in status.split("@@json-begin@@")[0]
    assert REMOTE_NOTE in run.stdout


def test_attach_over_gdbserver_without_libc_debug_symbols(fixture_program):
    proc = subprocess.Popen([str(fixture_program), "wait"], stdout=subprocess.PIPE,
                            universal_newlines=True)
    try:
        assert proc.stdout.readline().startswith("waiting")
        run = run_gdb(["set debug-file-directory /nonexistent-debug-dir"] + remote(fixture_program)
                      + ["attach %d" % proc.pid, CMD + " start", "set var *(int *) &go = 1",
                         "break checkpoint", "continue"] + SHOW_JSON + [CMD + " status", "detach"]
                      + SHOW_JSON, timeout=120).check()
        live, detached = origins(run, 0), origins(run, 1)
        check_fixture_origins(live, proc.pid, alive=True, short_lived_seen=False)
        check_fixture_origins(detached, proc.pid, alive=False, short_lived_seen=False)
        assert all(e["frames"][0] == "clone3" for e in live)  # found in libc's code
        # system()'s posix_spawn, read in the thread that made it, not in beta (see
        # clone_breakpoints._refetch_registers)
        assert "3 threads recorded (3 alive); 1 process creation (fork/spawn)" in run.stdout
        assert "Note: clone3 found in libc's code at *0x" in run.stdout
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0 and "origins fixture done" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_name_that_is_not_utf8_over_gdbserver_is_no_error():
    """gdbserver 13 sends the name raw and gdb cannot parse its thread list (it warns and
    never sees the thread); gdbserver 18 escapes it. Either way nothing fails."""
    program = build("origins_odd_names.c", "nodebug")
    run = run_gdb(remote(program) + [CMD + " start", "break checkpoint", "run", CMD + " status",
                                     CMD + " show", "python print('@@threads %d@@' % "
                                     "len(gdb.selected_inferior().threads()))"]
                  + SHOW_JSON + ["kill"]).check()
    assert "internal error" not in run.output
    entries = run.json()["origins"]
    if "@@threads 2@@" in run.stdout:
        (entry,) = entries
        assert "spawn_odd" in entry["frames"] and entry["alive"] is True
        assert "1 thread recorded (1 alive)" in run.stdout
    else:
        assert "while parsing threads: not well-formed" in run.output
        assert entries == [] and "0 threads recorded (0 alive); 1 creation not yet paired" in run.stdout
        assert "No thread paired yet: 1 creation seen whose thread gdb has not reported" in run.stdout
        assert "Record with" not in run.stdout  # it was started first: no advice to do so
