"""Analysis -> the JSON document of the contract (DESIGN.md): plain dicts, dumped once."""
from __future__ import annotations

from typing import Any, Sequence

from .. import SCHEMA, __version__
from ..analyze import locks
from ..analyze.groups import View, summary
from ..analyze.states import crash_site
from ..analyze.verdict import diagnose
from ..model import LockReport, ThreadReport


def thread_doc(report: ThreadReport) -> dict[str, Any]:
    """One thread's entry of the JSON document (DESIGN.md)."""
    s, v = report.snapshot, report.verdict
    doc: dict[str, Any] = {
        "num": s.num, "lwp": s.lwp, "name": s.name, "role": v.role, "accel": v.accel,
        "vcpu": v.vcpu, "iothread": v.iothread, "state": v.state, "detail": v.detail,
        "evidence": v.evidence, "confidence": v.confidence, "frames": s.frame_names(),
        "current": s.current, "activity": v.activity, "complete": s.complete,
        "waits_for": v.waits_for, "holds": v.holds,
    }
    if s.unreadable:
        doc["unreadable"] = s.unreadable
    if s.facts.signal:
        doc["crash"] = {"signal": s.facts.signal,
                        "address": "0x%x" % s.facts.fault_address if s.facts.fault_address is not None
                        else None, "message": s.facts.assertion,
                        "location": s.facts.assertion_at or crash_site(s.frames) or None}
    if s.origin is not None:
        doc["origin"] = {"parent_lwp": s.parent_lwp, "frames": [f.name for f in s.origin]}
    return doc




def locks_doc(report: LockReport) -> list[dict[str, Any]]:
    """The holder -> waiters table."""
    out = []
    for lock in report.locks:
        doc = locks.lock_doc(lock)
        doc.update(owner_num=lock.owner.snapshot.num if lock.owner else None,
                   held_at=lock.held_at, problem=lock.problem, depth=lock.depth,
                   waiters=[w.snapshot.num if w.snapshot.num is not None else "lwp:%s" % w.snapshot.lwp
                            for w in lock.waiters])
        out.append(doc)
    return out


def document(view: View, reports: Sequence[ThreadReport] | None = None,
             why: bool = False) -> dict[str, Any]:
    """The whole document: the chosen threads, their counts, locks and deadlocks; with `why`,
    the verdict on the whole process."""
    chosen = view.reports if reports is None else reports
    doc = {"threads": [thread_doc(r) for r in chosen], "summary": summary(chosen),
            "locks": locks_doc(view.analysis.locks), "deadlocks": view.analysis.locks.deadlocks,
            "lock_gaps": view.analysis.locks.gaps,
            "pid": view.analysis.pid, "version": __version__, "schema": SCHEMA}
    if why:
        doc["verdict"] = diagnose(view.analysis).doc()
    return doc
