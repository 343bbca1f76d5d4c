"""--why on a real QEMU: an idle one is "not hung"; one killed by a signal is a crash whose
verdict names the thread that received it.

The crashes are real: the test sends SIGSEGV with tgkill to a vCPU thread (QEMU leaves SIGSEGV
unblocked in its threads) or SIGABRT to the main thread, with RLIMIT_CORE unlimited, and the
kernel writes the core file (kernel.core_pattern must name a file; where it pipes to a
program, such as systemd-coredump or apport, there is no file to read and the test is
skipped). The truth comes from outside the tool: QMP's vCPU thread ids and the pid.
"""
from __future__ import annotations

import ctypes
import os
import resource
import signal
import time
from pathlib import Path

import pytest

from gdbrun import json_command, run_gdb
from qemu_vm import QemuVM, qemu_binary

SYS_TGKILL = 234  # x86-64


def core_pattern() -> str:
    return Path("/proc/sys/kernel/core_pattern").read_text().strip()


def tgkill(pid: int, tid: int, signo: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.syscall(SYS_TGKILL, pid, tid, signo) != 0:
        raise OSError(ctypes.get_errno(), "tgkill")


def why_json(**where) -> dict:
    run = run_gdb(json_command("qemu-threads --why --json"), timeout=180, **where).check()
    return run.json()


def test_an_idle_qemu_is_not_hung():
    with QemuVM(accel="tcg", smp=2, iothreads=["iot0"]) as vm:
        vm.wait_for_threads(5)
        time.sleep(1.0)  # the firmware finds no disk and halts
        doc = why_json(pid=vm.pid)
    verdict = doc["verdict"]
    assert verdict["kind"] == "not-hung" and verdict["chain"] == [], verdict
    assert verdict["summary"].startswith("Nothing looks hung")
    states = {t["lwp"]: t["state"] for t in doc["threads"]}
    assert "blocked" not in states.values() and "crashed" not in states.values(), doc["threads"]
    assert states[vm.pid] == "idle"


@pytest.fixture
def core_dir(tmp_path, monkeypatch):
    """QEMU starts in tmp_path (the kernel writes a relative core there) with cores on."""
    pattern = core_pattern()
    if pattern.startswith("|"):
        pytest.skip("kernel.core_pattern pipes cores to %s: no core file to read"
                    % pattern[1:].split()[0])
    limits = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (limits[1], limits[1]))
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    resource.setrlimit(resource.RLIMIT_CORE, limits)
    for core in tmp_path.glob("core*"):
        core.unlink()


def find_core(directory: Path, pid: int) -> Path:
    pattern = core_pattern()
    folder = Path(pattern).parent if pattern.startswith("/") else directory
    deadline = time.time() + 60
    while time.time() < deadline:
        # the kernel has written the core by the time the process is reaped
        cores = [c for c in folder.glob("core*") if str(pid) in c.name or c.name == "core"]
        if cores:
            return max(cores, key=lambda c: c.stat().st_mtime)
        time.sleep(0.2)
    raise AssertionError("no core file for %d in %s (core_pattern %r)" % (pid, folder, pattern))


@pytest.mark.parametrize("signo, target", [(signal.SIGSEGV, "vcpu1"), (signal.SIGABRT, "main")])
def test_a_kernel_core_names_the_crashed_thread(core_dir, signo, target):
    with QemuVM(accel="tcg", smp=2) as vm:
        vm.wait_for_threads(4)
        tid = vm.vcpu_threads()[1] if target == "vcpu1" else vm.pid
        pid = vm.pid
        tgkill(pid, tid, signo)
        vm.proc.wait(timeout=60)
        assert vm.proc.returncode == -signo
    core = find_core(core_dir, pid)
    doc = why_json(program=qemu_binary(), core=core)
    crashed = [t for t in doc["threads"] if t["state"] == "crashed"]
    assert [t["lwp"] for t in crashed] == [tid], doc["threads"]
    assert crashed[0]["crash"]["signal"] == signal.Signals(signo).name
    assert crashed[0]["crash"]["address"] is None  # sent by tgkill: no faulting address
    assert "sent by process %d" % os.getpid() in crashed[0]["activity"]
    verdict = doc["verdict"]
    assert verdict["kind"] == "crash" and verdict["chain"] == [crashed[0]["num"]], verdict
    assert "(#%d) crashed: %s" % (crashed[0]["num"], signal.Signals(signo).name) in verdict["summary"]
    if target == "vcpu1":
        assert verdict["summary"].startswith("vCPU 1 (#")
    else:
        assert verdict["summary"].startswith("the main loop (#")
