"""Migration between two local QEMUs of the same version (each of qemu_vm.QEMUS): every
migration thread of both ends gets its role, attached with names and from a core without.

Truth: with -name debug-threads=on, the kernel's thread names in /proc, which QEMU's sources
give (migration/migration.c, multifd.c, postcopy-ram.c, savevm.c): "live_migration" and
"return path" (<=9.0) or "mig/src/main" and "mig/src/return" (9.1+) on the source;
"multifdsend_N"/"mig/src/send_N" and "multifdrecv_N"/"mig/dst/recv_N"; on the destination
"postcopy/listen" or "mig/dst/listen", and the fault thread "fault-default" (7.x-9.0) or
"mig/dst/fault".
"""
from __future__ import annotations

import os
import time

import pytest

from gdbrun import json_command, run_gdb
from qemu_vm import QEMUS, QemuVM

KB = 1024
TRUTH_BY_NAME = [
    (r"live_migration|mig/src/main", "migration"),
    (r"return path|mig/src/rp-thr|mig/src/return", "migration-return-path"),
    (r"multifdsend_\d+|mig/src/send_\d+", "multifd-send"),
    (r"multifdrecv_\d+|mig/dst/recv_\d+", "multifd-recv"),
    (r"postcopy/listen|mig/dst/listen|postcopy/fault|fault-default|mig/dst/fault", "postcopy"),
    (r"CPU \d+/TCG", "vcpu"),
    (r"IO mon_iothread", "iothread"),  # QMP on a socket has its own iothread
    (r"call_rcu", "call-rcu"),
]
# Stops (cores) a role decided from frames alone may take to show: see core_deciding.
STOPS = 5
MIGRATION_ROLES = {"migration", "migration-return-path", "multifd-send", "multifd-recv", "postcopy"}
CASES = {
    # multifd: paused before switchover, a state that lasts (10.0's multifd ignores max-bandwidth)
    "multifd": {"caps": ["multifd", "pause-before-switchover"], "params": {"multifd-channels": 2},
                "source": {"multifd-send": 2, "migration": 1}, "destination": {"multifd-recv": 2}},
    # postcopy: the source throttled (max-postcopy-bandwidth) while the destination faults pages in
    "postcopy": {"caps": ["postcopy-ram", "return-path"], "params": {},
                 "source": {"migration": 1, "migration-return-path": 1},
                 "destination": {"postcopy": 2}},
}


@pytest.fixture(scope="module")
def blob(tmp_path_factory):
    """32 MiB of guest RAM that is not zero: a minute to send at the low bandwidth below, time
    enough to attach to both ends (on a slow machine too)."""
    path = tmp_path_factory.mktemp("blob") / "blob"
    path.write_bytes(os.urandom(32 << 20))
    return path


def truth(vm: QemuVM) -> dict[int, str]:
    return vm.roles_by_name(TRUTH_BY_NAME)


def wait_until(vm: QemuVM, what, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, "timed out: %s" % vm.qmp.command("query-migrate")
        time.sleep(0.1)


def status(vm: QemuVM) -> str:
    return vm.qmp.command("query-migrate").get("status", "")


def count(vm: QemuVM, role: str) -> int:
    return sum(1 for r in truth(vm).values() if r == role)


def classify(vm: QemuVM, core) -> tuple[dict, dict[int, str]]:
    """qemu-threads --json attached (names), and a core file of the same stop."""
    roles = truth(vm)
    run = run_gdb(json_command("qemu-threads --json") + ["generate-core-file %s" % core],
                  pid=vm.pid, timeout=240).check()
    assert truth(vm) == roles, "threads changed while gdb read them"
    return {t["lwp"]: t for t in run.json()["threads"]}, roles


def from_core(exe: str, core) -> dict:
    run = run_gdb(json_command("qemu-threads --json"), program=exe, core=core, timeout=240).check()
    os.unlink(core)
    return {t["lwp"]: t for t in run.json()["threads"]}


def check_core(side: str, cored: dict, roles: dict[int, str]) -> set[str]:
    """Every thread of a core right or unknown, never another role; the roles it decided."""
    assert sorted(cored) == sorted(roles)
    for lwp, role in roles.items():
        t = cored[lwp]
        assert t["role"] in (role, "unknown"), "%s core LWP %d: %s, expected %s: %s" % (
            side, lwp, t["role"], role, t["evidence"])
    return {t["role"] for t in cored.values()}


def core_deciding(vm: QemuVM, side: str, core, roles: dict[int, str], wanted: set[str]) -> None:
    """Cores of further stops, up to STOPS in all, until one decides every role of `wanted`
    from frames alone: a thread caught between its waits (checking the stream for errors,
    say) shows no function that only it calls. Each core is checked in full."""
    cored = from_core(vm.exe, core)
    for _ in range(STOPS - 1):
        if wanted <= check_core(side, cored, roles):
            return
        run_gdb(["generate-core-file %s" % core], pid=vm.pid, timeout=240).check()
        cored = from_core(vm.exe, core)
    assert wanted <= check_core(side, cored, roles), \
        [(cored[lwp]["frames"], cored[lwp]["evidence"]) for lwp in roles]


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("qemu", QEMUS, ids=[q.id for q in QEMUS])
def test_migration_threads_both_ends(qemu, case, blob, tmp_path):
    spec = CASES[case]
    loader = ["-device", "loader,file=%s,addr=0x1000000,force-raw=on" % blob]
    small = {"accel": "tcg", "smp": 1, "names": True, "memory": 64, "qemu": qemu}
    with QemuVM(extra=loader, **small) as src, QemuVM(extra=["-incoming", "defer"], **small) as dst:
        sock = os.path.join(dst.dir, "migration.sock")
        caps = [{"capability": c, "state": True} for c in spec["caps"]]
        for vm in (src, dst):
            vm.qmp.command("migrate-set-capabilities", capabilities=caps)
            if spec["params"]:
                vm.qmp.command("migrate-set-parameters", **spec["params"])
        if case == "postcopy":
            src.qmp.command("migrate-set-parameters", **{"max-bandwidth": 512 * KB,
                                                          "max-postcopy-bandwidth": 512 * KB})
        dst.qmp.command("migrate-incoming", uri="unix:" + sock)
        src.qmp.command("migrate", uri="unix:" + sock)
        if case == "postcopy":
            wait_until(src, lambda: status(src) == "active")
            src.qmp.command("migrate-start-postcopy")
            wait_until(src, lambda: status(src) == "postcopy-active")
        else:
            wait_until(src, lambda: status(src) == "pre-switchover")
        for vm, side in ((src, "source"), (dst, "destination")):
            wanted = spec[side]
            wait_until(vm, lambda vm=vm, wanted=wanted: all(count(vm, r) >= n for r, n in wanted.items()))
        ends = {}
        for vm, side in ((src, "source"), (dst, "destination")):
            core = tmp_path / ("%s.core" % side)
            live, roles = classify(vm, core)
            ends[side] = (vm, live, roles, core)
        still = status(src)
        assert still == ("postcopy-active" if case == "postcopy" else "pre-switchover"), still
        for side, (vm, live, roles, core) in ends.items():
            assert sorted(live) == sorted(roles), side
            for lwp, role in roles.items():
                t = live[lwp]
                assert t["role"] == role, "%s LWP %d (%s): %s, expected %s: %s" % (
                    side, lwp, t["name"], t["role"], role, t["evidence"])
            assert {r for r in roles.values() if r in MIGRATION_ROLES} == set(spec[side])
            # Decided from frames alone: the source's migration thread while it is throttled
            # and its return path reading a message, and the destination's postcopy listen thread.
            wanted = {"source": {"migration", "migration-return-path"},
                      "destination": {"postcopy"}}[side] if case == "postcopy" else set()
            core_deciding(vm, side, core, roles, wanted)
