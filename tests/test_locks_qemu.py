"""The BQL on a real QEMU: the main loop stopped where it holds it, the vCPUs queueing for it.

The guest is a boot sector that writes to I/O port 0x80 forever; under TCG each port access
takes the BQL. gdb attaches in non-stop mode and stops only the main thread, in
main_loop_wait, which QEMU always enters with the BQL held (util/main-loop.c drops it just
around the poll). The running vCPU then blocks on the BQL. The truth comes from outside the
tool: the main thread's id (the pid), QMP's vCPU thread ids, and /proc/PID/task/TID/syscall,
where a thread asleep in futex(2) shows the futex address.
"""
from __future__ import annotations

import json
import time

from gdb_session import GdbSession
from qemu_vm import QemuVM

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


def test_main_loop_holds_the_bql_and_the_vcpus_queue_for_it():
    vm = QemuVM(accel="tcg", smp=2, names=True)
    vm.argv += ["-drive", "file=%s,format=raw,if=ide" % boot_disk(vm.dir)]
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
            gdb.wait_for("hit Breakpoint 1", 60, start)
            # the main thread is stopped holding the BQL; wait for a vCPU to sleep on it
            deadline = time.time() + 30
            queued = {}
            while time.time() < deadline and not queued:
                queued = {tid: addr for tid, addr in futex_waits(vm.pid, vcpus.values()).items()}
                time.sleep(0.2)
            assert queued, "no vCPU went to sleep while the main loop was stopped"
            time.sleep(0.5)
            queued = futex_waits(vm.pid, vcpus.values())
            gdb.command("interrupt -a")
            deadline = time.time() + 30
            while time.time() < deadline and "(running)" in gdb.command("info threads"):
                time.sleep(0.2)
            doc = json_of(gdb.command("qemu-threads --json"))
            text = gdb.command("qemu-threads --locks")
            table = gdb.command("qemu-threads")
            gdb.command("delete")
            gdb.command("detach")
            gdb.check()
        finally:
            gdb.close()

    threads = {t["lwp"]: t for t in doc["threads"]}
    main = threads[vm.pid]
    assert main["role"] == "main-loop" and main["waits_for"] is None
    bql = [lock for lock in doc["locks"] if lock["name"] == "BQL"]
    assert len(bql) == 1, doc["locks"]
    assert bql[0]["owner_lwp"] == vm.pid and bql[0]["owner_num"] == main["num"]
    waiters = {lwp for lwp, t in threads.items()
               if t["waits_for"] and t["waits_for"]["name"] == "BQL"}
    assert waiters, "no thread waits for the BQL:\n%s" % text
    assert waiters <= set(vcpus.values())
    for lwp in waiters:
        t = threads[lwp]
        assert t["role"] == "vcpu" and t["state"] == "lock"
        assert t["waits_for"]["owner_lwp"] == vm.pid
        assert t["activity"].startswith("BQL held by #%d main-loop" % main["num"]), t
        # the address the kernel has for the thread's futex sleep
        assert int(t["waits_for"]["address"], 16) == queued[lwp]
    # a vCPU that sleeps on another futex is waiting for an event (a halted one), not the BQL
    for lwp in set(vcpus.values()) - waiters:
        assert threads[lwp]["waits_for"] is None or threads[lwp]["waits_for"]["kind"] == "event"
    assert doc["deadlocks"] == []
    assert "No deadlock" in text
    row = next(line for line in text.splitlines() if line.startswith("BQL"))
    assert "#%d main-loop" % main["num"] in row
    assert "lock: BQL held by #%d main-loop" % main["num"] in table
