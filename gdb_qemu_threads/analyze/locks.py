"""Who waits for which lock, who holds it, and deadlock cycles: pure, no gdb.

From each snapshot's wait site (waits.py) and the lock's words its reader read, this makes
each verdict's `waits_for`, the state text, a holder -> waiters table and the cycles of the
waits-for graph. `held` (owner LWP -> {lock address: frame}) says, where debug info told,
which frame of an owner still refers to the lock it holds.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..model import Lock, LockReport, ThreadReport, ThreadSnapshot
from ..threadlist import thread_range
from .waits import (
    LOCK_WORDS,
    MUTEX_COUNT,
    MUTEX_KIND,
    MUTEX_LOCK,
    PTHREAD_MUTEX_RECURSIVE,
    WaitSite,
    lock_name,
    owner_of,
    symbol_of,
    wait_function,
    wait_site,
    waits_at,
)

Held = Mapping[int, Mapping[int, str]]


def who(report: ThreadReport | None, lwp: int | None = None) -> str:
    """"#3 vcpu", or "LWP 4242" for a thread not in the process."""
    if report is None:
        return "LWP %s" % lwp
    s, v = report.snapshot, report.verdict
    head = "#%s" % s.num if s.num is not None else "LWP %s" % s.lwp
    return "%s %s" % (head, v.role) if v.role != "unknown" else head


def collect(reports: Sequence[ThreadReport], held: Held | None = None) -> LockReport:
    """The locks threads wait for, their holders and waiters, events, and deadlock cycles.
    Changes nothing; apply() writes the result into the verdicts."""
    by_lwp = {r.snapshot.lwp: r for r in reports if r.snapshot.lwp is not None}
    result = LockReport()
    locks: dict[tuple[str, Any], Lock] = {}
    for report in reports:
        snap = report.snapshot
        site = wait_site(snap.frames, snap.facts)
        if site is None:
            continue
        symbol = symbol_of(snap, site)
        address = "0x%x" % site.address if site.address is not None else None
        if site.kind == "event":
            # the futex word may lie inside the object: "cond+40" names the object "cond"
            name = symbol.split("+", 1)[0] if symbol else None
            where = waits_at(snap.frames, site) or wait_function(snap.frames)
            result.events.append((report, {"kind": "event", "type": site.type, "address": address,
                                           "name": name, "owner_lwp": None,
                                           "waits_at": where.split(" (", 1)[0] if where else None}))
            continue
        name = lock_name(site, snap.frames, symbol)
        key = (site.kind, site.address) if site.address is not None else (site.kind, name or id(report))
        lock = locks.get(key)
        if lock is None:
            lock = locks[key] = _new_lock(site, name, snap, by_lwp)
            result.locks.append(lock)
        elif lock.name is None or lock.name == symbol != name:
            lock.name = name  # another waiter's frames tell what it is (the BQL, ...)
        lock.waiters.append(report)
        result.waits[id(report)] = (lock, waits_at(snap.frames, site))
    for lock in result.locks:
        if lock.owner is not None and held and lock.address is not None:
            lock.held_at = held.get(lock.owner.snapshot.lwp or 0, {}).get(lock.address)
    result.deadlocks = _cycles(result, reports)
    result.gaps = gaps(reports, result)
    return result


def gaps(reports: Sequence[ThreadReport], result: LockReport) -> list[str]:
    """What was not read and so keeps the analysis from saying there is no deadlock."""
    out = []
    unread: dict[str, list[ThreadReport]] = {}
    for report in reports:
        snap = report.snapshot
        if not snap.frames and snap.unreadable and report.verdict.role != "kernel-worker":
            unread.setdefault(snap.unreadable.split(":", 1)[0], []).append(report)
    for reason, members in unread.items():
        out.append("the frames of %s could not be read (%s)" % (thread_range(members), reason))
    nameless = [r for r in reports if r.snapshot.frames and r.verdict.role != "kernel-worker"
                and not any(f.function for f in r.snapshot.frames)]
    if nameless:
        out.append("the stack of %s has no function names (no symbols)" % thread_range(nameless))
    ownerless = [lock for lock in result.locks
                 if lock.owner_lwp is None and not lock.problem and not lock.released]
    if ownerless:
        one = len(ownerless) == 1
        out.append("%d lock%s no known owner (%s memory could not be read: a saved text, or a "
                   "core file without it)" % (len(ownerless), " has" if one else "s have",
                                             "its" if one else "their"))
    return out


def apply(result: LockReport) -> None:
    """Each waiting thread's verdict gains waits_for; a mutex waiter's state names the lock."""
    for report, doc in result.events:
        report.verdict.waits_for = dict(doc)
    for lock in result.locks:
        if lock.owner is not None:
            label = lock.name or ("0x%x" % lock.address if lock.address is not None else lock.type)
            if label not in lock.owner.verdict.holds:
                lock.owner.verdict.holds.append(label)
        for waiter in lock.waiters:
            where = result.waits[id(waiter)][1]
            doc = lock_doc(lock)
            doc["owner_num"] = lock.owner.snapshot.num if lock.owner else None
            if lock.problem:
                doc["problem"] = lock.problem
            waiter.verdict.waits_for = doc
            waiter.verdict.state = "lock"
            waiter.verdict.activity = _lock_activity(lock, where)


def involving(result: LockReport, chosen: Sequence[ThreadReport]) -> LockReport:
    """The part of a lock report that concerns the chosen threads: the locks they wait for or
    hold, their event waits, and the cycles they are in or wait on (through owners)."""
    ids = {id(r) for r in chosen}
    lwps = set()
    for report in chosen:  # follow waiter -> owner: a thread queued behind a deadlock is stuck too
        node: ThreadReport | None = report
        while node is not None and node.snapshot.lwp not in lwps:
            lwps.add(node.snapshot.lwp)
            wait = result.waits.get(id(node))
            node = wait[0].owner if wait else None
    return LockReport(
        locks=[lock for lock in result.locks
               if id(lock.owner) in ids or any(id(w) in ids for w in lock.waiters)],
        events=[(r, doc) for r, doc in result.events if id(r) in ids],
        deadlocks=[cycle for cycle in result.deadlocks if any(e["lwp"] in lwps for e in cycle)],
        waits={key: value for key, value in result.waits.items() if key in ids},
        gaps=result.gaps)


def _new_lock(site: WaitSite, name: str | None, snap: ThreadSnapshot,
              by_lwp: dict[int, ThreadReport]) -> Lock:
    lock = Lock(kind=site.kind, type=site.type, address=site.address, name=name)
    words = snap.facts.lock_words
    lock.owner_lwp = owner_of(site, words)
    if words is None or len(words) < LOCK_WORDS:
        return lock  # nothing read (an offline dump, or memory missing from the core)
    if site.kind == "mutex":
        if words[MUTEX_KIND] & 3 == PTHREAD_MUTEX_RECURSIVE:
            lock.type = "recursive mutex"
            lock.depth = words[MUTEX_COUNT] or None
        if lock.owner_lwp is None and words[MUTEX_LOCK] != 0:
            # glibc writes __owner right after taking the lock and clears it just before
            # letting go: locked, asleep, and no owner means a wake-up that never came.
            lock.problem = "nobody holds it"
        elif lock.owner_lwp is None:
            lock.released = True  # unlocked a moment ago: the waiter is being woken
    if lock.owner_lwp is not None:
        lock.owner = by_lwp.get(lock.owner_lwp)
        if lock.owner is None:
            lock.problem = "owner exited"
    return lock


def _lock_activity(lock: Lock, where: str | None) -> str:
    """"for the BQL held by #1 main-loop; waiting in qemu_wait_io_event": what it waits for
    first (a narrow table cuts the end), then where this thread waits."""
    name = "the BQL" if lock.name == "BQL" else lock.name or "a " + lock.type
    if lock.problem == "nobody holds it":
        text = "%s, which nobody holds" % name
    elif lock.problem == "owner exited":
        text = "%s held by LWP %s, which has exited" % (name, lock.owner_lwp)
    elif lock.owner_lwp is not None:
        text = "%s held by %s" % (name, who(lock.owner, lock.owner_lwp))
    elif lock.released:
        text = "%s, released a moment ago" % name
    else:
        text = name
    where = where.split(" (", 1)[0] if where else None
    return "for %s; waiting in %s" % (text, where) if where else "for %s" % text


def _cycles(result: LockReport, reports: Sequence[ThreadReport]) -> list[list[dict[str, Any]]]:
    """Cycles of the waits-for graph. A thread waits for one lock at a time, so each node has
    one edge out at most, and following it from every node finds every cycle once."""
    waits: dict[int, Lock] = {key: lock for key, (lock, _) in result.waits.items()}
    done: set = set()
    cycles = []
    for start in reports:
        path: list[ThreadReport] = []
        seen: dict[int, int] = {}
        node: ThreadReport | None = start
        while node is not None and id(node) not in done and id(node) not in seen:
            seen[id(node)] = len(path)
            path.append(node)
            lock = waits.get(id(node))
            node = lock.owner if lock is not None else None
        if node is not None and id(node) in seen:
            cycle = path[seen[id(node)]:]
            cycles.append([_cycle_entry(member, result, cycle) for member in cycle])
        done.update(id(n) for n in path)
    return cycles


def _cycle_entry(member: ThreadReport, result: LockReport,
                 cycle: Sequence[ThreadReport]) -> dict[str, Any]:
    lock, where = result.waits[id(member)]
    held = [result.waits[id(r)][0] for r in cycle if result.waits[id(r)][0].owner is member]
    holds = held[0] if held else None
    return {
        "num": member.snapshot.num, "lwp": member.snapshot.lwp, "role": member.verdict.role,
        "holds": lock_doc(holds) if holds else None,
        "held_at": holds.held_at if holds else None,
        "waits_for": lock_doc(lock),
        "waits_at": where,
    }


def lock_doc(lock: Lock) -> dict[str, Any]:
    """A lock as verdicts, cycles and the JSON document name it."""
    return {"kind": lock.kind, "type": lock.type,
            "address": "0x%x" % lock.address if lock.address is not None else None,
            "name": lock.name, "owner_lwp": lock.owner_lwp}
