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
import json
import os
import resource
import signal
import time
from pathlib import Path

import pytest

from gdb_session import GdbSession
from gdbrun import json_command, run_gdb
from qemu_vm import QemuVM, qemu_binary

SYS_TGKILL = 234  # x86-64
# cli; 1: out %al, $0x80; jmp 1b; then the boot signature: a guest that never halts
BOOT_SECTOR = bytes([0xFA, 0xE6, 0x80, 0xEB, 0xFC]) + bytes(505) + b"\x55\xaa"


def boot_disk(directory: str) -> str:
    path = "%s/spin.img" % directory
    Path(path).write_bytes(BOOT_SECTOR)
    return path


def json_of(text: str) -> dict:
    """The one JSON document in a command's output (gdb's prompts around it)."""
    return json.loads(text[text.index("{"):text.rindex("}") + 1])


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
    # the chain ends at the crashed thread; before it, only threads that wait for a lock it
    # held when it crashed (a vCPU or the monitor may queue for the BQL at that moment)
    assert verdict["kind"] == "crash" and verdict["chain"][-1] == crashed[0]["num"], verdict
    by_num = {t["num"]: t for t in doc["threads"]}
    for num in verdict["chain"][:-1]:
        waits = by_num[num]["waits_for"]
        assert waits and waits["owner_num"] == crashed[0]["num"], (verdict, by_num[num])
        if target == "main":
            assert "for a lock the main loop (#%d) holds" % crashed[0]["num"] in verdict["summary"]
    assert "(#%d) crashed: %s" % (crashed[0]["num"], signal.Signals(signo).name) in verdict["summary"]
    if target == "vcpu1":
        assert verdict["summary"].startswith("vCPU 1 (#")
    else:
        assert verdict["summary"].startswith("the main loop (#")


def gdb_thread_number(gdb: GdbSession, lwp: int) -> int:
    out = gdb.command("python print([t.num for t in gdb.selected_inferior().threads() "
                      "if t.ptid[1] == %d])" % lwp)
    return int(out[out.index("[") + 1:out.index("]")])


def asleep_in_futex(pid: int, tid: int) -> bool:
    try:
        return Path("/proc/%d/task/%d/syscall" % (pid, tid)).read_text().split()[0] == "202"
    except (OSError, IndexError):
        return False


def test_stop_while_gdb_holds_a_vcpu_blocks_the_main_loop_in_pause_all_vcpus():
    """gdb in non-stop mode holds vCPU 0; QMP `stop` makes the main loop wait in
    pause_all_vcpus for a vCPU that cannot stop. The truth is from outside the tool: the
    main thread stays asleep in futex(2) after `stop` was sent, and QMP never answers."""
    vm = QemuVM(accel="tcg", smp=2)
    vm.argv += ["-drive", "file=%s,format=raw,if=ide" % boot_disk(vm.dir)]
    with vm:
        vcpu0 = vm.vcpu_threads()[0]
        time.sleep(1)  # the firmware boots the spinning sector on vCPU 0
        gdb = GdbSession()
        try:
            gdb.command("set non-stop on")
            gdb.command("attach %d" % vm.pid)
            gdb.send("continue -a &")
            time.sleep(0.5)
            gdb.command("thread %d" % gdb_thread_number(gdb, vcpu0))
            gdb.command("interrupt")
            gdb.wait_for("stopped", 30)
            vm.qmp.sock.sendall(b'{"execute": "stop"}\n')  # its answer never comes
            deadline = time.time() + 30
            while time.time() < deadline and not asleep_in_futex(vm.pid, vm.pid):
                time.sleep(0.1)
            time.sleep(0.5)
            assert asleep_in_futex(vm.pid, vm.pid), "the main loop did not wait after `stop`"
            gdb.command("thread 1")
            gdb.command("interrupt")
            deadline = time.time() + 30
            while time.time() < deadline and "(running)" in gdb.command("info threads 1"):
                time.sleep(0.2)
            doc = json_of(gdb.command("qemu-threads --why --json"))
            text = gdb.command("qemu-threads --why")
            gdb.command("detach")
            gdb.check()
        finally:
            gdb.close()
    main = next(t for t in doc["threads"] if t["lwp"] == vm.pid)
    assert main["state"] == "blocked", main
    assert main["activity"].startswith("QemuCond") and main["activity"].endswith(
        " in pause_all_vcpus"), main
    verdict = doc["verdict"]
    assert verdict["kind"] == "blocked" and verdict["chain"][0] == main["num"], verdict
    assert "pause_all_vcpus waits for the vCPUs that have not stopped" in " ".join(verdict["facts"])
    assert any("could not be read (running" in fact for fact in verdict["facts"]), verdict
    assert "Verdict (blocked): the main loop (#%d) is blocked" % main["num"] in text
