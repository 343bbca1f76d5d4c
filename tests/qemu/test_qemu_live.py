"""qemu-threads on a real QEMU, attached and from a core: the distribution's qemu-system-x86 and,
for the key cases, a newer build beside it (qemu_vm.QEMUS).

Truth: QMP's thread ids for vCPUs (query-cpus-fast) and iothreads (query-iothreads); the
process id for the main thread; and, with -name debug-threads=on, the kernel's own thread
names in /proc (QEMU's source names them: "worker", "vnc_worker", "IO <id>"; call_rcu is the
one QEMU thread created before names are switched on, so it keeps the process name).
"""
from __future__ import annotations

import collections
import json
import subprocess
import sys

import pytest

from gdbrun import ROOT, json_command, run_gdb
from qemu_vm import QEMUS, QemuVM, kvm_usable

KVM, KVM_REASON = kvm_usable()
needs_kvm = pytest.mark.skipif(not KVM, reason="KVM is not usable here: %s" % KVM_REASON)
each_qemu = pytest.mark.parametrize("qemu", QEMUS, ids=[q.id for q in QEMUS])

# Roles QEMU's own thread names give (util/thread-pool.c, ui/vnc-jobs.c, iothread.c).
NAMED_ROLES = {"worker": "worker", "vnc_worker": "vnc-worker", "kvm-nx-lpage-re": "kernel-worker"}


def classify_attached(vm, extra_commands=()):
    run = run_gdb(json_command("qemu-threads --json") + list(extra_commands), pid=vm.pid,
                  timeout=180).check()
    doc = run.json_docs()[0]
    # An idle QEMU is no hang: no cycle, no lost wake-up, no lock left by a dead thread.
    assert doc["deadlocks"] == [], doc["deadlocks"]
    assert not [lock for lock in doc["locks"] if lock["problem"]], doc["locks"]
    return run, {t["lwp"]: t for t in doc["threads"]}


def expected_roles(vm, names):
    """lwp -> (role, vcpu, iothread) for every thread the truth can name."""
    truth = {vm.pid: ("main-loop", None, None)}
    for index, tid in vm.vcpu_threads().items():
        truth[tid] = ("vcpu", None if vm.accel == "tcg-rr" else index, None)
    for ident, tid in vm.iothreads().items():
        truth[tid] = ("iothread", None, ident)
    if names:
        for tid in vm.tids():
            comm = vm.comm(tid)
            if tid in truth:
                continue
            if comm in NAMED_ROLES:
                truth[tid] = (NAMED_ROLES[comm], None, None)
            elif comm == "IO mon_iothread":
                truth[tid] = ("iothread", None, "mon_iothread")
            elif comm == vm.comm(vm.pid) or comm == "call_rcu":
                truth[tid] = ("call-rcu", None, None)
    return truth


def check_against_truth(threads, truth, vm):
    assert sorted(threads) == vm.tids(), "every thread of the process has a row"
    for lwp, (role, vcpu, iothread) in truth.items():
        t = threads[lwp]
        assert t["role"] == role, "LWP %d (%s): %s, expected %s: %s" % (
            lwp, t["name"], t["role"], role, t["evidence"])
        if role == "vcpu":
            assert t["vcpu"] == vcpu and t["accel"] == vm.accel.split("-")[0], t
        if role == "iothread":
            # Only the name carries the id in a build without debug info.
            named = vm.comm(lwp) == "IO %s" % iothread
            assert t["iothread"] == (iothread if named else None), t


@each_qemu
@pytest.mark.parametrize("accel", ["tcg", pytest.param("kvm", marks=needs_kvm)])
def test_named_threads_every_one_right(accel, qemu):
    with QemuVM(accel=accel, smp=2, names=True, iothreads=["iot0", "io-long-name-xyz"], vnc=True,
                worker=True, qemu=qemu) as vm:
        vm.wait_for_threads(8)
        worker = vm.start_worker()
        truth = expected_roles(vm, names=True)
        run, threads = classify_attached(vm)
        assert worker in truth and truth[worker][0] == "worker"
        # The long id does not fit in 15 characters: QEMU could not name that thread.
        long_tid = vm.iothreads()["io-long-name-xyz"]
        assert vm.comm(long_tid) == vm.comm(vm.pid)
        check_against_truth(threads, truth, vm)
        assert all(threads[t]["confidence"] == "high" for t in vm.vcpu_threads().values())
        if accel == "kvm":
            assert all(threads[t]["state"] == "guest" for t in vm.vcpu_threads().values())


@each_qemu
@pytest.mark.parametrize("accel", ["tcg", pytest.param("kvm", marks=needs_kvm)])
def test_unnamed_threads(accel, qemu):
    with QemuVM(accel=accel, smp=3, names=False, iothreads=["iot0"], vnc=True, qemu=qemu) as vm:
        vm.wait_for_threads(8)
        truth = expected_roles(vm, names=False)
        run, threads = classify_attached(vm)
        check_against_truth(threads, truth, vm)
        others = collections.Counter(t["role"] for lwp, t in threads.items() if lwp not in truth)
        # What QEMU 7.2 and 10.0 start besides vCPUs and iothreads: call_rcu, the monitor
        # iothread (QMP on a socket), the VNC worker, and with KVM the kernel's NX-recovery worker.
        expected = {"call-rcu": 1, "iothread": 1, "vnc-worker": 1}
        if accel == "kvm":
            expected["kernel-worker"] = 1
        assert dict(others) == expected
        if accel == "kvm":  # the vCPU's own KVM file descriptor names its index
            assert all(threads[t]["confidence"] == "high" for t in vm.vcpu_threads().values())


def test_round_robin_tcg_one_thread_for_all_vcpus():
    with QemuVM(accel="tcg-rr", smp=4, names=True) as vm:
        vm.wait_for_threads(4)
        tids = set(vm.vcpu_threads().values())
        assert len(tids) == 1  # QMP gives every CPU the same thread
        run, threads = classify_attached(vm)
        t = threads[tids.pop()]
        assert (t["role"], t["vcpu"], t["accel"], t["detail"]) == \
            ("vcpu", None, "tcg", "all vCPUs (TCG round-robin)")


@each_qemu
@pytest.mark.parametrize("accel", ["tcg", pytest.param("kvm", marks=needs_kvm)])
def test_core_file_without_names(accel, qemu, tmp_path):
    core = tmp_path / "qemu.core"
    with QemuVM(accel=accel, smp=2, names=True, iothreads=["iot0"], vnc=True, qemu=qemu) as vm:
        vm.wait_for_threads(7)
        truth = expected_roles(vm, names=True)
        run, live = classify_attached(vm, ["generate-core-file %s" % core])
        tids, exe = vm.tids(), vm.exe
    run = run_gdb(json_command("qemu-threads --json"), program=exe, core=core,
                  timeout=180).check()
    threads = {t["lwp"]: t for t in run.json()["threads"]}
    assert sorted(threads) == tids
    assert all(t["name"] is None for t in threads.values())  # a core keeps no names
    for lwp, (role, vcpu, _iothread) in truth.items():
        if role == "kernel-worker":
            continue  # no user-space stack and no name: nothing in a core says what it is
        assert threads[lwp]["role"] == role, (lwp, threads[lwp])
        if role == "vcpu":
            assert threads[lwp]["accel"] == accel
        # Without names or /proc, vCPU indexes are a guess by creation order, marked low.
        if role == "vcpu" and threads[lwp]["vcpu"] != vcpu:
            assert threads[lwp]["confidence"] == "low"


def test_live_and_offline_agree_on_the_same_stop(tmp_path):
    """The text gdb prints (info threads + thread apply all bt), classified offline, gives
    the same roles, vCPUs and iothreads as the live command on the same stop."""
    dump = tmp_path / "dump.txt"
    save = ("python open(%r, 'w').write(gdb.execute('info threads', to_string=True) + "
            "gdb.execute('thread apply all bt', to_string=True))" % str(dump))
    with QemuVM(accel="tcg", smp=2, names=False, iothreads=["iot0"], vnc=True) as vm:
        vm.wait_for_threads(7)
        run, live = classify_attached(vm, [save])
    offline = subprocess.run([sys.executable, "-m", "gdb_qemu_threads", str(dump), "--json"],
                             cwd=str(ROOT), stdout=subprocess.PIPE, text=True, check=True)
    by_num = {t["num"]: t for t in json.loads(offline.stdout)["threads"]}
    assert sorted(by_num) == sorted(t["num"] for t in live.values())
    for t in live.values():
        o = by_num[t["num"]]
        assert (o["lwp"], o["role"], o["vcpu"], o["accel"], o["iothread"]) == \
            (t["lwp"], t["role"], t["vcpu"], t["accel"], t["iothread"]), (t, o)
