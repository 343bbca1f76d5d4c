"""Lock facts -> text: `qemu-threads --locks`."""
from __future__ import annotations

import textwrap
from typing import Any, Sequence

from tabulate import tabulate

from ..analyze import locks
from ..model import Lock, LockReport, ThreadReport
from ..threadlist import thread_range
from .fit import fit
from .text import group_detail


def who_list(reports: Sequence[ThreadReport]) -> str:
    names = [locks.who(r) for r in reports]
    return ", ".join(names) if len(names) <= 6 else "%s, ... (%d in all)" % (", ".join(names[:5]), len(names))


def lock_label(lock: Lock) -> str:
    name = lock.name or lock.type
    if lock.name and lock.type != "mutex":
        name = "%s (%s)" % (lock.name, lock.type)
    if lock.depth and lock.type == "recursive mutex":
        name += ", taken %d time%s" % (lock.depth, "" if lock.depth == 1 else "s")
    return name


def holder_cell(lock: Lock) -> str:
    if lock.problem == "nobody holds it":
        return "nobody (a lost wake-up, or an unlock that never came)"
    if lock.problem == "owner exited":
        return "LWP %s, which has exited without unlocking it" % lock.owner_lwp
    if lock.released:
        return "nobody: released a moment ago, its waiters are being woken"
    if lock.owner is None:
        return "not known" if lock.owner_lwp is None else "LWP %s" % lock.owner_lwp
    v = lock.owner.verdict
    return "%s, %s" % (locks.who(lock.owner), "%s: %s" % (v.state, v.activity) if v.activity else v.state)


def _table(rows: list[list[str]], headers: list[str], width: int | None,
           shrinkable: Sequence[str]) -> str:
    headers, rows, _ = fit(headers, rows, width, [], shrinkable)
    return tabulate(rows, headers=headers, tablefmt="plain", disable_numparse=True)


def lock_text(reports: Sequence[ThreadReport], lock_report: LockReport,
              width: int | None = None) -> str:
    """`qemu-threads --locks`: holder -> waiters, deadlock cycles, then event waits; tables
    fit `width`, sentences wrap at it (None: unlimited)."""
    out: list[str] = []
    if lock_report.locks:
        rows = [[lock_label(lock),
                 "0x%x" % lock.address if lock.address is not None else "?",
                 holder_cell(lock), lock.held_at or "", who_list(lock.waiters)]
                for lock in lock_report.locks]
        out.append("Threads waiting for a lock:")
        out.append(_table(rows, ["lock", "address", "held by", "held at", "waiters"], width,
                          ["held by", "held at", "waiters"]))
    else:
        out.append("No thread waits for a mutex or rwlock.")
    if lock_report.deadlocks:
        for number, cycle in enumerate(lock_report.deadlocks, 1):
            out.append("")
            if len(cycle) == 1:
                out.append("DEADLOCK %d: a thread waits for a lock it holds itself" % number)
            else:
                out.append("DEADLOCK %d: %d threads wait for each other" % (number, len(cycle)))
            for entry in cycle:
                head = "#%s" % entry["num"] if entry["num"] is not None else "LWP %s" % entry["lwp"]
                holds = entry["holds"]
                out.append("  %s (LWP %s, %s) holds %s%s" % (
                    head, entry["lwp"], entry["role"], _doc_label(holds),
                    " since %s" % entry["held_at"] if entry["held_at"] else
                    " (which of its frames took it is not known)"))
                waits_at = " in %s" % entry["waits_at"] if entry["waits_at"] else ""
                out.append("      and waits for %s%s" % (_doc_label(entry["waits_for"]), waits_at))
    if lock_report.gaps:
        out.append("")
        out.append("%s: %s." % ("Other deadlocks may exist" if lock_report.deadlocks else
                                "Cannot tell whether there is a deadlock",
                                "; ".join(lock_report.gaps)))
    elif not lock_report.deadlocks:
        out.append("No deadlock among the %d threads read: every waiting thread's lock and its "
                   "owner were read, and no thread waits for itself through them." % len(reports))
    if lock_report.events:
        out.append("")
        out.append("Threads waiting for an event (nobody owns an event; someone must signal it):")
        out.append(_table(event_rows(lock_report), ["type", "object", "waits in", "threads"], width,
                          ["threads", "waits in", "object"]))
    if not width:
        return "\n".join(out)
    return "\n".join(line if "\n" in line or len(line) <= width else
                     textwrap.fill(line, width, subsequent_indent="  ") for line in out)


def event_rows(lock_report: LockReport) -> list[list[str]]:
    """One row per kind of wait: threads of one role waiting on one type of object in one
    function (128 halted vCPUs, each on its own halt_cond, are one row)."""
    groups: dict[tuple[str, str | None, str], list[tuple[ThreadReport, dict[str, Any]]]] = {}
    for report, doc in lock_report.events:
        key = (doc["type"], doc.get("waits_at"), report.verdict.role)
        groups.setdefault(key, []).append((report, doc))
    rows = []
    for (kind, where, role), members in groups.items():
        objects = sorted({doc["name"] or doc["address"] or "?" for _, doc in members})
        reports = [report for report, _ in members]
        if len(reports) > 6:  # "128: threads 5-132, vCPUs 0-127 (TCG)"
            what = group_detail(reports) if role == "vcpu" else role
            head = "%d: %s, %s" % (len(reports), thread_range(reports), what)
        else:
            head = who_list(reports)
        rows.append([kind, objects[0] if len(objects) == 1 else "%d objects" % len(objects),
                     where or "?", head])
    return rows


def _doc_label(doc: dict[str, Any] | None) -> str:
    if not doc:
        return "?"
    name = str(doc.get("name") or doc.get("type") or doc.get("kind") or "?")
    return "%s (%s)" % (name, doc["address"]) if doc.get("address") else name

