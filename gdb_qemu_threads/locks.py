"""Who waits for which lock, who holds it, and deadlock cycles: pure, no gdb.

The reader (live.py) leaves raw facts in each snapshot's hints:
  futex         the futex address of the syscall the thread sleeps in (frame 0's registers)
  wait_args     {canonical function: address} of the lock or event argument of the waiting
                frames, where debug info gives it (`mutex` of pthread_mutex_lock, `ev` of
                qemu_event_wait, ...)
  lock_words    the first ints of the mutex or rwlock, read from memory (glibc's layout below)
  wait_symbol   the symbol at the lock's address ("qemu_global_mutex", "c+40")
  arg_symbols   {address: symbol} as a saved backtrace names arguments (offline dumps)
  holds_at      {address: "function (file:line)"}: the frame that still references a lock
                the thread holds (debug info), filled for holders only
This module turns them into each verdict's `waits_for`, the state text, a holder -> waiters
table and the waits-for graph's cycles. glibc keeps a mutex's owner LWP in the mutex, so
owners come from memory alone: no function of the inferior is ever called.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .model import Frame, ThreadReport, ThreadSnapshot
from .states import BQL_LOCKERS, canonical, is_context_frame

# glibc's struct __pthread_mutex_s (all Linux architectures start it alike):
#   int __lock; unsigned __count; int __owner; unsigned __nusers; int __kind
# and struct __pthread_rwlock_arch_t on x86-64: __cur_writer is the 7th int.
MUTEX_LOCK, MUTEX_COUNT, MUTEX_OWNER, MUTEX_NUSERS, MUTEX_KIND = range(5)
RWLOCK_CUR_WRITER = 6
LOCK_WORDS = 7  # ints to read from a lock's address
PTHREAD_MUTEX_RECURSIVE = 1

# The frames of a mutex wait, glibc's and QEMU's; the first one met (innermost first) decides
# that the thread waits for a mutex, even inside pthread_cond_wait (re-taking its mutex).
MUTEX_FRAMES = frozenset("""
lll_lock_wait lll_lock_wait_private pthread_mutex_lock pthread_mutex_lock_full
pthread_mutex_cond_lock pthread_mutex_timedlock pthread_mutex_clocklock lll_mutex_lock_optimized
qemu_mutex_lock_impl qemu_rec_mutex_lock_impl qemu_mutex_lock qemu_rec_mutex_lock
""".split()) | BQL_LOCKERS
RWLOCK_FRAMES = frozenset("""
pthread_rwlock_rdlock pthread_rwlock_wrlock pthread_rwlock_rdlock_full pthread_rwlock_wrlock_full
pthread_rwlock_timedrdlock pthread_rwlock_timedwrlock pthread_rwlock_clockrdlock
pthread_rwlock_clockwrlock
""".split())
# Waits for something another thread signals, by the type people know them as; the
# outermost of these in the waiting frames names the type (a QemuSemaphore is built on a
# condition variable in some versions).
EVENT_TYPES = (
    (frozenset(["qemu_event_wait", "qemu_futex_wait"]), "QemuEvent"),
    (frozenset(["qemu_sem_wait", "qemu_sem_timedwait"]), "QemuSemaphore"),
    (frozenset(["qemu_cond_wait_impl", "qemu_cond_timedwait_impl", "qemu_cond_wait",
                "qemu_cond_timedwait", "qemu_cond_wait_bql"]), "QemuCond"),
    (frozenset(["g_cond_wait", "g_cond_wait_until"]), "GCond"),
    (frozenset(["pthread_cond_wait", "pthread_cond_timedwait", "pthread_cond_clockwait",
                "pthread_cond_wait_common"]), "condition variable"),
    (frozenset(["sem_wait", "sem_timedwait", "sem_clockwait", "do_futex_wait",
                "sem_wait_slow", "new_sem_wait_slow"]), "semaphore"),
)
EVENT_FRAMES = frozenset(name for names, _ in EVENT_TYPES for name in names)

# The argument that holds the lock or event, by function (canonical names): what a reader
# with debug info reads. A QemuMutex starts with its pthread_mutex_t, so both give one address.
ARG_PROBES: Dict[str, str] = {
    "lll_lock_wait": "futex", "pthread_mutex_lock": "mutex", "pthread_mutex_cond_lock": "mutex",
    "pthread_mutex_timedlock": "mutex", "pthread_mutex_clocklock": "mutex",
    "qemu_mutex_lock_impl": "mutex", "qemu_rec_mutex_lock_impl": "mutex",
    "pthread_rwlock_rdlock": "rwlock", "pthread_rwlock_wrlock": "rwlock",
    "pthread_cond_wait": "cond", "pthread_cond_timedwait": "cond", "pthread_cond_clockwait": "cond",
    "pthread_cond_wait_common": "cond", "qemu_cond_wait_impl": "cond",
    "qemu_cond_timedwait_impl": "cond", "qemu_event_wait": "ev", "qemu_sem_wait": "sem",
    "qemu_sem_timedwait": "sem", "sem_wait": "sem", "sem_timedwait": "sem", "sem_clockwait": "sem",
    "new_sem_wait_slow": "sem", "do_futex_wait": "sem",
}
# Order of preference among the arguments (outer objects first: a QemuEvent rather than the
# futex word inside it).
_ADDRESS_ORDER = ("qemu_rec_mutex_lock_impl", "qemu_mutex_lock_impl", "pthread_mutex_lock",
                  "pthread_mutex_cond_lock", "pthread_mutex_timedlock", "pthread_mutex_clocklock",
                  "lll_lock_wait", "pthread_rwlock_rdlock", "pthread_rwlock_wrlock",
                  "qemu_event_wait", "qemu_sem_wait", "qemu_sem_timedwait", "qemu_cond_wait_impl",
                  "qemu_cond_timedwait_impl", "pthread_cond_wait", "pthread_cond_timedwait",
                  "pthread_cond_clockwait", "pthread_cond_wait_common", "sem_wait", "sem_timedwait",
                  "sem_clockwait", "new_sem_wait_slow", "do_futex_wait")

# Names of well-known QEMU locks: by the symbol at the address, then by the waiting frame.
LOCK_SYMBOLS = {"qemu_global_mutex": "BQL", "bql": "BQL", "qemu_cpu_list_lock": "qemu_cpu_list_lock"}
# QEMU's waits on a condition whose mutex is the BQL (a vCPU's halt_cond, run_on_cpu's
# qemu_work_cond, pause_all_vcpus): waking up, they queue for the BQL inside pthread_cond_wait.
# qemu_wait_io_event (softmmu/cpus.c 4.2-8.2, system/cpus.c 9.0+), qemu_kvm_wait_io_event and
# qemu_tcg_wait_io_event (<=4.1), qemu_tcg_rr_wait_io_event (<=5.2), rr_wait_io_event (6.0+),
# qemu_cond_wait_iothread (8.2) -> qemu_cond_wait_bql (9.0+).
BQL_COND_WAITERS = frozenset([
    "qemu_wait_io_event", "qemu_kvm_wait_io_event", "qemu_tcg_wait_io_event",
    "qemu_tcg_rr_wait_io_event", "rr_wait_io_event", "qemu_cond_wait_iothread",
    "qemu_cond_timedwait_iothread", "qemu_cond_wait_bql", "qemu_cond_timedwait_bql",
    "do_run_on_cpu", "pause_all_vcpus",
])
LOCK_FRAMES = (
    (BQL_LOCKERS | BQL_COND_WAITERS, "BQL"),
    (frozenset(["aio_context_acquire"]), "AioContext lock"),
    (frozenset(["cpu_list_lock"]), "qemu_cpu_list_lock"),
)


@dataclass
class WaitSite:
    """What a thread's waiting frames say it sleeps on."""

    kind: str                 # "mutex", "rwlock" or "event"
    type: str                 # "mutex", "recursive mutex", "rwlock", "QemuEvent", "condition variable", ...
    frame_index: int          # the innermost frame of the wait (for "waits at")
    address: Optional[int]    # None where neither registers nor debug info give it


_WAIT_PLUMBING = MUTEX_FRAMES | RWLOCK_FRAMES | EVENT_FRAMES
_MAX_WAIT_FRAMES = 16  # a wait is a few frames of plumbing deep, inlined frames included


def wait_frames(frames: Sequence[Frame]) -> List[str]:
    """Canonical names of the innermost frames up to the program's own first frame."""
    names = []
    for frame in frames[:_MAX_WAIT_FRAMES]:
        name = canonical(frame.function)
        if frame.function and is_context_frame(frame) and name not in _WAIT_PLUMBING:
            break
        names.append(name)
    return names


def wait_site(frames: Sequence[Frame], hints: Dict[str, Any]) -> Optional[WaitSite]:
    """The lock or event a thread waits on, from its frames and the reader's raw facts.
    Worked out once per snapshot: the reader and every report ask again."""
    key = (len(frames), hints.get("futex"), len(hints.get("wait_args") or ()))
    memo = hints.get("_wait_site")
    if memo is not None and memo[0] == key:
        return memo[1]
    site = _wait_site(frames, hints)
    hints["_wait_site"] = (key, site)
    return site


def _wait_site(frames: Sequence[Frame], hints: Dict[str, Any]) -> Optional[WaitSite]:
    names = wait_frames(frames)
    kind = None
    index = 0
    for i, name in enumerate(names):
        if name in MUTEX_FRAMES:
            kind, index = "mutex", i
            break
        if name in RWLOCK_FRAMES:
            kind, index = "rwlock", i
            break
        if name in EVENT_FRAMES:
            kind, index = "event", i
            break
    if kind is None:
        return None
    args = hints.get("wait_args") or {}
    address = None
    if kind == "event":
        # the outermost object: a QemuEvent, not the futex word in it
        type_ = "event"
        for names_set, label in EVENT_TYPES:
            if any(n in names_set for n in names):
                type_ = label
                break
        for name in _ADDRESS_ORDER:
            if name in args and (name in EVENT_FRAMES):
                address = args[name]
                break
    else:
        type_ = kind
        for name in _ADDRESS_ORDER:
            if name in args and name in (MUTEX_FRAMES if kind == "mutex" else RWLOCK_FRAMES):
                address = args[name]
                break
    if address is None:
        address = hints.get("futex")
    return WaitSite(kind=kind, type=type_, frame_index=index, address=address)


def lock_name(site: WaitSite, frames: Sequence[Frame], symbol: Optional[str]) -> Optional[str]:
    """What people call the lock: the BQL, an AioContext lock, or the variable's name."""
    if symbol in LOCK_SYMBOLS:
        return LOCK_SYMBOLS[symbol]
    if site.kind == "mutex":
        chain = wait_frames(frames)
        names = set(chain)
        if len(chain) < len(frames):
            names.add(canonical(frames[len(chain)].function))  # the frame that asked for it
        for functions, label in LOCK_FRAMES:
            if names & functions:
                return label
    return symbol or None


def _frame_text(frame: Optional[Frame]) -> Optional[str]:
    if frame is None:
        return None
    where = frame.location()
    return "%s (%s)" % (frame.name, where) if where and frame.file else frame.name


def waits_at(frames: Sequence[Frame], site: WaitSite) -> Optional[str]:
    """The program's own frame that asked for the lock: the first past the wait's plumbing."""
    for frame in frames[site.frame_index:]:
        name = canonical(frame.function)
        if frame.function and name not in _WAIT_PLUMBING \
                and is_context_frame(frame):
            return _frame_text(frame)
    return None


@dataclass
class Lock:
    """One lock that at least one thread waits for."""

    kind: str
    type: str
    address: Optional[int]
    name: Optional[str]
    owner_lwp: Optional[int] = None
    owner: Optional[ThreadReport] = None
    held_at: Optional[str] = None                        # the owner's frame that holds it
    problem: Optional[str] = None                        # "nobody holds it", "owner exited"
    depth: Optional[int] = None                          # a recursive mutex's lock count
    released: bool = False                               # free now; its waiters are being woken
    waiters: List[ThreadReport] = field(default_factory=list)


@dataclass
class LockReport:
    locks: List[Lock] = field(default_factory=list)
    events: List[Tuple[ThreadReport, Dict[str, Any]]] = field(default_factory=list)
    deadlocks: List[List[Dict[str, Any]]] = field(default_factory=list)
    waits: Dict[int, Tuple[Lock, Optional[str]]] = field(default_factory=dict)  # id(report) -> (lock, waits at)


def who(report: Optional[ThreadReport], lwp: Optional[int] = None) -> str:
    """"#3 vcpu", or "LWP 4242" for a thread not in the process."""
    if report is None:
        return "LWP %s" % lwp
    s, v = report.snapshot, report.verdict
    head = "#%s" % s.num if s.num is not None else "LWP %s" % s.lwp
    return "%s %s" % (head, v.role) if v.role != "unknown" else head


def collect(reports: Sequence[ThreadReport]) -> LockReport:
    """The locks threads wait for, their holders and waiters, events, and deadlock cycles.
    Changes nothing; apply() writes the result into the verdicts."""
    by_lwp = {r.snapshot.lwp: r for r in reports if r.snapshot.lwp is not None}
    result = LockReport()
    locks: Dict[Tuple[str, Any], Lock] = {}
    for report in reports:
        snap = report.snapshot
        site = wait_site(snap.frames, snap.hints)
        if site is None:
            continue
        symbol = snap.hints.get("wait_symbol") or (snap.hints.get("arg_symbols") or {}).get(site.address)
        address = "0x%x" % site.address if site.address is not None else None
        if site.kind == "event":
            # the futex word may lie inside the object: "cond+40" names the object "cond"
            name = symbol.split("+", 1)[0] if symbol else None
            result.events.append((report, {"kind": "event", "type": site.type, "address": address,
                                           "name": name, "owner_lwp": None}))
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
        if lock.owner is not None:
            held = lock.owner.snapshot.hints.get("holds_at") or {}
            lock.held_at = held.get(lock.address)
    result.deadlocks = _cycles(result, reports)
    return result


def apply(result: LockReport) -> None:
    """Each waiting thread's verdict gains waits_for; a mutex waiter's state names the lock."""
    for report, doc in result.events:
        report.verdict.waits_for = dict(doc)
    for lock in result.locks:
        for waiter in lock.waiters:
            where = result.waits[id(waiter)][1]
            doc = _lock_doc(lock)
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
        node: Optional[ThreadReport] = report
        while node is not None and node.snapshot.lwp not in lwps:
            lwps.add(node.snapshot.lwp)
            wait = result.waits.get(id(node))
            node = wait[0].owner if wait else None
    return LockReport(
        locks=[lock for lock in result.locks
               if id(lock.owner) in ids or any(id(w) in ids for w in lock.waiters)],
        events=[(r, doc) for r, doc in result.events if id(r) in ids],
        deadlocks=[cycle for cycle in result.deadlocks if any(e["lwp"] in lwps for e in cycle)],
        waits={key: value for key, value in result.waits.items() if key in ids})


def held_locks(snapshots: Sequence[ThreadSnapshot]) -> Dict[int, List[int]]:
    """Owner LWP -> addresses of the locks others wait for: where a reader looks for the
    frames that hold them."""
    wanted: Dict[int, List[int]] = {}
    for snap in snapshots:
        site = wait_site(snap.frames, snap.hints)
        words = snap.hints.get("lock_words")
        if site is None or site.kind == "event" or site.address is None or not words \
                or len(words) < LOCK_WORDS:
            continue
        owner = words[MUTEX_OWNER] if site.kind == "mutex" else words[RWLOCK_CUR_WRITER]
        if owner > 0 and site.address not in wanted.get(owner, []):
            wanted.setdefault(owner, []).append(site.address)
    return wanted


def _new_lock(site: WaitSite, name: Optional[str], snap: ThreadSnapshot,
              by_lwp: Dict[int, ThreadReport]) -> Lock:
    lock = Lock(kind=site.kind, type=site.type, address=site.address, name=name)
    words = snap.hints.get("lock_words")
    if not words or len(words) < LOCK_WORDS:
        return lock  # nothing read (an offline dump, or memory missing from the core)
    if site.kind == "mutex":
        owner = words[MUTEX_OWNER]
        if words[MUTEX_KIND] & 3 == PTHREAD_MUTEX_RECURSIVE:
            lock.type = "recursive mutex"
            lock.depth = words[MUTEX_COUNT] or None
        if owner > 0:
            lock.owner_lwp = owner
        elif words[MUTEX_LOCK] != 0:
            # glibc writes __owner right after taking the lock and clears it just before
            # letting go: locked, asleep, and no owner means a wake-up that never came.
            lock.problem = "nobody holds it"
        else:
            lock.released = True  # unlocked a moment ago: the waiter is being woken
    else:
        writer = words[RWLOCK_CUR_WRITER]
        if writer > 0:
            lock.owner_lwp = writer
    if lock.owner_lwp is not None:
        lock.owner = by_lwp.get(lock.owner_lwp)
        if lock.owner is None:
            lock.problem = "owner exited"
    return lock


def _lock_activity(lock: Lock, where: Optional[str]) -> str:
    name = lock.name or lock.type
    if lock.problem == "nobody holds it":
        text = "%s, which nobody holds" % name
    elif lock.problem == "owner exited":
        text = "%s held by LWP %s, which has exited" % (name, lock.owner_lwp)
    elif lock.owner_lwp is not None:
        text = "%s held by %s" % (name, who(lock.owner, lock.owner_lwp))
    elif lock.released:
        text = "%s, released a moment ago" % name
    else:
        text = "waiting for %s" % ("the BQL" if name == "BQL" else name)
    where = where.split(" (", 1)[0] if where else None
    return "%s, in %s" % (text, where) if where else text


def _cycles(result: LockReport, reports: Sequence[ThreadReport]) -> List[List[Dict[str, Any]]]:
    """Cycles of the waits-for graph. A thread waits for one lock at a time, so each node has
    one edge out at most, and following it from every node finds every cycle once."""
    waits: Dict[int, Lock] = {key: lock for key, (lock, _) in result.waits.items()}
    done: set = set()
    cycles = []
    for start in reports:
        path: List[ThreadReport] = []
        seen: Dict[int, int] = {}
        node: Optional[ThreadReport] = start
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
                 cycle: Sequence[ThreadReport]) -> Dict[str, Any]:
    lock, where = result.waits[id(member)]
    held = [result.waits[id(r)][0] for r in cycle if result.waits[id(r)][0].owner is member]
    holds = held[0] if held else None
    return {
        "num": member.snapshot.num, "lwp": member.snapshot.lwp, "role": member.verdict.role,
        "holds": _lock_doc(holds) if holds else None,
        "held_at": holds.held_at if holds else None,
        "waits_for": _lock_doc(lock),
        "waits_at": where,
    }


def _lock_doc(lock: Lock) -> Dict[str, Any]:
    return {"kind": lock.kind, "type": lock.type,
            "address": "0x%x" % lock.address if lock.address is not None else None,
            "name": lock.name, "owner_lwp": lock.owner_lwp}


def locks_doc(report: LockReport) -> List[Dict[str, Any]]:
    """The holder -> waiters table as JSON."""
    out = []
    for lock in report.locks:
        doc = _lock_doc(lock)
        doc.update(owner_num=lock.owner.snapshot.num if lock.owner else None,
                   held_at=lock.held_at, problem=lock.problem, depth=lock.depth,
                   waiters=[w.snapshot.num if w.snapshot.num is not None else "lwp:%s" % w.snapshot.lwp
                            for w in lock.waiters])
        out.append(doc)
    return out
