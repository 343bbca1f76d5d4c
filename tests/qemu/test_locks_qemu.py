"""The BQL on a real QEMU: the main loop stopped where it holds it, the vCPUs queueing for it.

The guest is a boot sector that writes to I/O port 0x80 forever; each port access takes the
BQL (under TCG in the I/O dispatch, under KVM around KVM_EXIT_IO). gdb attaches in non-stop mode and stops only the main thread, in
main_loop_wait, which QEMU always enters with the BQL held (util/main-loop.c drops it just
around the poll). The running vCPU then blocks on the BQL. The truth comes from outside the
tool: the main thread's id (the pid), QMP's vCPU thread ids, and /proc/PID/task/TID/syscall,
where a thread asleep in futex(2) shows the futex address. The core file gdb writes at that
stop must give the same answer.
"""
from __future__ import annotations

import json
import time

import pytest

from gdb_session import GdbSession
from gdbrun import json_command, run_gdb
from qemu_vm import QemuVM, kvm_usable, qemu_binary

KVM, KVM_REASON = kvm_usable()
needs_kvm = pytest.mark.skipif(not KVM, reason="KVM is not usable here: %s" % KVM_REASON)

SYS_FUTEX = 202
# cli; 1: out %al, $0x80; jmp 1b; then the boot signature
BOOT_SECTOR = bytes([0xFA, 0xE6, 0x80, 0xEB, 0xFC]) + bytes(505) + b"\x55\xaa"


def futex_waits(pid, tids):
    """tid -> futex address of the threads asleep in futex(2) now."""
    waits = {}
    for tid in tids:
        try:
            with open("/proc/%d/task/%d/syscall" % (pid, tid)) as handle:
                fields = handle.read().split()
        except OSError:
            continue
        if fields and fields[0] == str(SYS_FUTEX):
            waits[tid] = int(fields[1], 16)
    return waits


def boot_disk(directory):
    path = "%s/spin.img" % directory
    with open(path, "wb") as handle:
        handle.write(BOOT_SECTOR)
    return path


def json_of(text):
    """The one JSON document in a command's output (gdb's prompts around it)."""
    return json.loads(text[text.index("{"):text.rindex("}") + 1])


def check_bql(doc, vm, vcpus, queued):
    """The main loop holds the BQL; vCPU 0 and any other thread asleep on it are its waiters,
    at the address the kernel has for their futex sleep."""
    threads = {t["lwp"]: t for t in doc["threads"]}
    main = threads[vm.pid]
    assert main["role"] == "main-loop" and main["waits_for"] is None
    bql = [lock for lock in doc["locks"] if lock["name"] == "BQL"]
    assert len(bql) == 1, doc["locks"]
    assert bql[0]["owner_lwp"] == vm.pid and bql[0]["owner_num"] == main["num"]
    waiters = {lwp for lwp, t in threads.items()
               if t["waits_for"] and t["waits_for"]["name"] == "BQL"}
    assert vcpus[0] in waiters, doc["locks"]  # the vCPU running the spinning sector
    # Other threads may queue too (call_rcu runs its callbacks under the BQL): each waiter
    # sleeps on the futex the kernel shows, at the BQL's address.
    for lwp in waiters:
        t = threads[lwp]
        assert t["state"] == "lock" and t["role"] != "main-loop"
        assert t["waits_for"]["owner_lwp"] == vm.pid
        assert "for the BQL held by #%d main-loop" % main["num"] in t["activity"], t
        assert int(t["waits_for"]["address"], 16) == int(bql[0]["address"], 16)
        if lwp in queued or lwp == vcpus[0]:  # (others may have gone to sleep after /proc was read)
            assert int(t["waits_for"]["address"], 16) == queued[lwp]
    # a vCPU that sleeps otherwise is waiting for an event (halted), or is in KVM_RUN
    for lwp in set(vcpus.values()) - waiters:
        assert threads[lwp]["waits_for"] is None or threads[lwp]["waits_for"]["kind"] == "event"
    assert doc["deadlocks"] == []
    return main


@pytest.mark.parametrize("accel", ["tcg", pytest.param("kvm", marks=needs_kvm)])
def test_main_loop_holds_the_bql_and_the_vcpus_queue_for_it(accel, tmp_path):
    vm = QemuVM(accel=accel, smp=2, names=True)
    vm.argv += ["-drive", "file=%s,format=raw,if=ide" % boot_disk(vm.dir)]
    core = tmp_path / "core"
    with vm:
        vcpus = vm.vcpu_threads()
        time.sleep(1)  # the firmware boots the spinning sector
        gdb = GdbSession()
        try:
            gdb.command("set non-stop on")
            gdb.command("attach %d" % vm.pid)
            gdb.command("break main_loop_wait")
            start = len(gdb.output)
            gdb.send("continue -a &")
            # A main loop with nothing to do sleeps in ppoll (under KVM the spinning guest
            # makes no timer events): a monitor command wakes it. Its answer never comes, as
            # the main loop stops at the breakpoint; the test does not wait for it.
            vm.qmp.sock.sendall(b'{"execute": "query-status"}\n')
            gdb.wait_for("hit Breakpoint 1", 60, start)
            # the main thread is stopped holding the BQL; wait for vCPU 0, which runs the
            # spinning sector (the other is never started), to sleep on it
            deadline = time.time() + 30
            while time.time() < deadline and vcpus[0] not in futex_waits(vm.pid, [vcpus[0]]):
                time.sleep(0.1)
            time.sleep(0.3)
            queued = futex_waits(vm.pid, vm.tids())
            assert vcpus[0] in queued, "vCPU 0 did not go to sleep while the main loop was stopped"
            gdb.command("interrupt -a")
            deadline = time.time() + 30
            while time.time() < deadline and "(running)" in gdb.command("info threads"):
                time.sleep(0.2)
            doc = json_of(gdb.command("qemu-threads --json"))
            text = gdb.command("qemu-threads --locks")
            table = gdb.command("qemu-threads")
            gdb.command("generate-core-file %s" % core)
            gdb.command("delete")
            gdb.command("detach")
            gdb.check()
        finally:
            gdb.close()

    main = check_bql(doc, vm, vcpus, queued)
    assert "No deadlock" in text
    row = next(line for line in text.splitlines() if line.startswith("BQL"))
    assert "#%d main-loop" % main["num"] in row
    assert "for the BQL held by #%d main-loop" % main["num"] in table
    # the same stop from the core file gdb wrote: memory alone gives the same answer
    run = run_gdb(json_command("qemu-threads --json"), program=qemu_binary(), core=core,
                  timeout=180).check()
    from_core = run.json()
    check_bql(from_core, vm, vcpus, queued)
    assert from_core["locks"] == doc["locks"]
