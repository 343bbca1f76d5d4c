"""States that reflect what happened: a crash and its signal, a raw system call (real gdb)."""
from __future__ import annotations

import pytest

from cbuild import build
from gdbrun import json_command, run_gdb


def states(how, variant, tmp_path):
    program = build("crashes.c", variant)
    core = tmp_path / "core"
    run = run_gdb(["run", *json_command("qemu-threads --json"), "generate-core-file %s" % core],
                  program=program, env={"CRASH": how}, timeout=120).check()
    live = run.json()["threads"]
    from_core = run_gdb(json_command("qemu-threads --json"), program=program, core=core,
                        timeout=120).check().json()["threads"]
    return live, from_core


@pytest.mark.parametrize("variant", ["debug", "stripped"])
def test_a_jump_to_address_zero_is_a_crash_with_its_signal(variant, tmp_path):
    for threads in states("null", variant, tmp_path):
        crashed = [t for t in threads if t["state"] == "crashed"]
        assert len(crashed) == 1, threads
        assert crashed[0]["activity"].startswith("SIGSEGV at 0x0")
        assert crashed[0]["crash"]["signal"] == "SIGSEGV" and crashed[0]["crash"]["address"] == "0x0"
        assert "no user-space stack" not in crashed[0]["activity"]
        assert all(t["role"] != "kernel-worker" for t in threads)


def test_abort_is_a_crash(tmp_path):
    for threads in states("abort", "debug", tmp_path):
        crashed = [t for t in threads if t["state"] == "crashed"]
        assert len(crashed) == 1 and crashed[0]["crash"]["signal"] == "SIGABRT"
        assert crashed[0]["activity"] == "SIGABRT in crasher"


@pytest.mark.parametrize("variant", ["debug", "stripped"])
def test_a_raw_futex_system_call_is_a_wait(variant, tmp_path):
    for threads in states("syscall", variant, tmp_path):
        assert not any(t["state"] == "crashed" for t in threads)  # SIGTRAP is gdb's own
        # one thread sleeps in its own `syscall` instruction (main waits in pthread_join)
        sleepers = [t for t in threads if t["activity"].startswith("futex wait")
                    and "join" not in t["activity"]]
        assert len(sleepers) == 1, threads
        sleeper = sleepers[0]
        assert sleeper["state"] == "idle"
        if variant == "debug":
            assert sleeper["activity"] == "futex wait in sleeper"
