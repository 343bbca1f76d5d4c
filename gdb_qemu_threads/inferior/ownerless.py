"""Whom an ownerless wait waits for, read from QEMU's memory with its debug info.

glibc knows no owner of a condition variable or an event, but QEMU keeps the culprit in
memory: pause_all_vcpus waits for the vCPUs whose CPUState.stopped is false, synchronize_rcu
for the threads whose rcu_reader counter says they are inside a read-side critical section.
Only memory is read (live or in a core); no function of the inferior is called. Without debug
info the waiter's facts say what reading them would need.
"""
from __future__ import annotations

from typing import Sequence

import gdb

from ..model import ThreadSnapshot
from ..vocab import DRAINS, OWNERLESS_WAITS, canonical

MAX_CPUS = 4096
PAUSE = "pause_all_vcpus"
MAX_NODES = 4096
# The CPU list's name by version: `cpus` (cpus-common.c, 2.x-8.1), `cpus_queue` (8.2+).
CPU_LISTS = ("cpus_queue", "cpus")


def _waiting_in(snap: ThreadSnapshot) -> str | None:
    return next((canonical(f.function) for f in snap.frames
                 if canonical(f.function) in OWNERLESS_WAITS), None)


def _unstopped_vcpus() -> tuple[int, ...] | None:
    for name in CPU_LISTS:
        try:
            cpu = gdb.parse_and_eval(name)["tqh_first"]
        except gdb.error:
            continue
        lwps: list[int] = []
        try:
            for _ in range(MAX_CPUS):
                if not int(cpu):
                    break
                if not bool(cpu["stopped"]) and int(cpu["thread_id"]) not in lwps:
                    lwps.append(int(cpu["thread_id"]))
                cpu = cpu["node"]["tqe_next"]
        except (gdb.error, gdb.MemoryError):
            return None
        return tuple(lwps)
    return None


def _rcu_readers(threads: Sequence[gdb.InferiorThread], waiter: ThreadSnapshot) -> tuple[int, ...] | None:
    try:
        grace_period = int(gdb.parse_and_eval("rcu_gp_ctr"))
    except gdb.error:
        return None
    readers: list[int] = []
    read_any = False
    for thread in threads:
        lwp = thread.ptid[1] or thread.ptid[2]
        if lwp == waiter.lwp or thread.is_running():
            continue
        thread.switch()
        try:
            counter = int(gdb.parse_and_eval("rcu_reader.ctr"))
        except (gdb.error, gdb.MemoryError):
            if not read_any:
                return None  # no debug info for the thread-local variable
            continue
        read_any = True
        if counter and counter != grace_period:  # util/rcu.c rcu_gp_ongoing()
            readers.append(lwp)
    return tuple(readers)


def _nodes_in_flight() -> str | None:
    """"drive0 (1 request), file0 (2 requests)", "" where none has any; None without debug info."""
    try:
        node = gdb.parse_and_eval("all_bdrv_states")["tqh_first"]
    except gdb.error:
        return None
    busy: list[str] = []
    try:
        for _ in range(MAX_NODES):
            if not int(node):
                break
            count = int(node["in_flight"])
            if count:
                name = node["node_name"].string().rstrip("\0") or "0x%x" % int(node)
                busy.append("%s (%d request%s)" % (name, count, "" if count == 1 else "s"))
            node = node["bs_list"]["tqe_next"]
    except (gdb.error, gdb.MemoryError):
        return None
    return ", ".join(busy)


def explain_ownerless(threads: Sequence[gdb.InferiorThread],
                      snapshots: Sequence[ThreadSnapshot]) -> None:
    """The facts of each thread in pause_all_vcpus, synchronize_rcu or a drain: whom or what
    it waits for.
    Changes the selected thread; the caller restores it."""
    for snap in snapshots:
        function = _waiting_in(snap)
        if function is None:
            continue
        what, needs, _ = OWNERLESS_WAITS[function]
        if function in DRAINS:
            nodes = _nodes_in_flight()
            snap.facts.waits_on_note = (
                "%s waits for %s; naming them needs %s" % (function, what, needs) if nodes is None
                else "%s waits for %s: %s" % (function, what, nodes or "none has any now"))
            continue
        found = _unstopped_vcpus() if function == PAUSE else _rcu_readers(threads, snap)
        if found is None:
            snap.facts.waits_on_note = "%s waits for %s; naming them needs %s" % (function, what, needs)
        else:
            snap.facts.waits_on_threads = found
            snap.facts.waits_on_note = "%s waits for %s" % (function, what)
