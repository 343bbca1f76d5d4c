"""Who waits for whom, followed from a symptom to its root, in words. Pure, no gdb.

Two kinds of link: a lock wait (the lock report knows the holder) and an ownerless wait whose
culprits a reader found in QEMU's memory (ThreadFacts.waits_on_threads: the vCPUs that
pause_all_vcpus waits to stop, the RCU readers synchronize_rcu waits for).
"""
from __future__ import annotations

from typing import Sequence

from ..model import Analysis, ThreadReport
from ..vocab import OWNERLESS_WAITS, canonical

# A chain is a few links long; more would be a loop the walk did not see.
MAX_LINKS = 16


def label(report: ThreadReport) -> str:
    """"vCPU 1 (#4)", "the main loop (#1)", "iothread iot0 (#7)", "thread #9"."""
    s, v = report.snapshot, report.verdict
    num = "#%s" % s.num if s.num is not None else "LWP %s" % s.lwp
    if v.role == "main-loop":
        return "the main loop (%s)" % num
    if v.role == "vcpu" and v.vcpu is not None and v.signature != "vcpu-tcg-rr":
        return "vCPU %d (%s)" % (v.vcpu, num)
    if v.role == "iothread" and v.iothread:
        return "iothread %s (%s)" % (v.iothread, num)
    if v.role != "unknown" and v.detail:
        return "%s (%s)" % (v.detail, num)
    return "thread %s" % num


def lock_holder(analysis: Analysis, report: ThreadReport) -> ThreadReport | None:
    wait = analysis.locks.waits.get(id(report))
    return wait[0].owner if wait else None


def lock_name(analysis: Analysis, report: ThreadReport) -> str:
    lock = analysis.locks.waits[id(report)][0]
    if lock.name == "BQL":
        return "the BQL"
    return lock.name or ("a %s at 0x%x" % (lock.type, lock.address) if lock.address is not None
                         else "a " + lock.type)


def culprits(analysis: Analysis, report: ThreadReport) -> list[ThreadReport]:
    """The threads an ownerless wait of `report` waits for, as a reader found them."""
    lwps = report.snapshot.facts.waits_on_threads or ()
    by_lwp = {r.snapshot.lwp: r for r in analysis.reports}
    return [by_lwp[lwp] for lwp in lwps if lwp in by_lwp and by_lwp[lwp] is not report]


def follow(analysis: Analysis, start: ThreadReport, ownerless: bool = True) -> list[ThreadReport]:
    """start, then whom it waits for (a lock's holder, else the first culprit of an ownerless
    wait), and so on, without repeats."""
    chain = [start]
    node: ThreadReport | None = start
    while node is not None and len(chain) < MAX_LINKS:
        found = culprits(analysis, node) if ownerless else []
        node = lock_holder(analysis, node) or (found[0] if found else None)
        if node is None or any(node is c for c in chain):
            break
        chain.append(node)
    return chain


def _ownerless_for(report: ThreadReport) -> str:
    function = next((canonical(f.function) for f in report.snapshot.frames
                     if canonical(f.function) in OWNERLESS_WAITS), None)
    return OWNERLESS_WAITS[function][2] if function else ""


def _state(report: ThreadReport) -> str:
    v = report.verdict
    if v.state == "crashed":
        return "%s crashed: %s" % (label(report), v.activity)
    if v.state == "blocked":
        return "%s is blocked: %s" % (label(report), v.activity)
    return "%s is %s%s" % (label(report), v.state, ": " + v.activity if v.activity else "")


def chain_text(analysis: Analysis, chain: Sequence[ThreadReport]) -> str:
    """"vCPU 1 (#4) waits for the BQL held by the main loop (#1); the main loop (#1) is
    blocked: QemuCond qemu_pause_cond in pause_all_vcpus, waiting for vCPU 2 (#5) to stop;
    vCPU 2 (#5) is ..."."""
    parts = []
    for waiter, next_one in zip(chain, chain[1:]):
        if lock_holder(analysis, waiter) is next_one:
            parts.append("%s waits for %s held by %s" % (
                label(waiter), lock_name(analysis, waiter), label(next_one)))
        else:
            others = culprits(analysis, waiter)
            parts.append("%s, waiting for %s %s" % (
                _state(waiter), ", ".join(label(r) for r in others), _ownerless_for(waiter)))
    root = chain[-1]
    if root.verdict.state != "lock":
        parts.append(_state(root))
    return "; ".join(parts)


def ownerless_notes(analysis: Analysis) -> list[str]:
    """For each blocked thread in an ownerless wait whose culprits were not read: what it waits
    for and what reading them needs."""
    notes = []
    for report in analysis.reports:
        if report.verdict.state != "blocked" or report.snapshot.facts.waits_on_threads:
            continue
        note = report.snapshot.facts.waits_on_note
        if note is None:
            function = next((canonical(f.function) for f in report.snapshot.frames
                             if canonical(f.function) in OWNERLESS_WAITS), None)
            if function is None:
                continue
            what, needs, _ = OWNERLESS_WAITS[function]
            note = "%s waits for %s; naming them needs memory (a live process or a core) and %s" \
                % (function, what, needs)
        elif report.snapshot.facts.waits_on_threads == ():
            note += ", and none was found"
        notes.append("%s: %s" % (label(report), note))
    return notes
