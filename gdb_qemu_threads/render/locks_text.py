"""Lock facts -> text: `qemu-threads --locks`."""
from __future__ import annotations

from typing import Any, Sequence

from tabulate import tabulate

from ..analyze import locks
from ..model import Lock, LockReport, ThreadReport


def _who_list(reports: Sequence[ThreadReport]) -> str:
    names = [locks.who(r) for r in reports]
    return ", ".join(names) if len(names) <= 6 else "%s, ... (%d in all)" % (", ".join(names[:5]), len(names))


def _lock_label(lock: Lock) -> str:
    name = lock.name or lock.type
    if lock.name and lock.type != "mutex":
        name = "%s (%s)" % (lock.name, lock.type)
    if lock.depth and lock.type == "recursive mutex":
        name += ", taken %d time%s" % (lock.depth, "" if lock.depth == 1 else "s")
    return name


def _holder_cell(lock: Lock) -> str:
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


def lock_text(reports: Sequence[ThreadReport], lock_report: LockReport) -> str:
    """`qemu-threads --locks`: holder -> waiters, deadlock cycles, then event waits."""
    out: list[str] = []
    if lock_report.locks:
        rows = [[_lock_label(lock),
                 "0x%x" % lock.address if lock.address is not None else "?",
                 _holder_cell(lock), lock.held_at or "", _who_list(lock.waiters)]
                for lock in lock_report.locks]
        out.append("Threads waiting for a lock:")
        out.append(tabulate(rows, headers=["lock", "address", "held by", "held at", "waiters"],
                            tablefmt="plain", disable_numparse=True))
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
    else:
        unknown = [lock for lock in lock_report.locks
                   if lock.owner_lwp is None and not lock.problem and not lock.released]
        if unknown:
            one = len(unknown) == 1
            out.append("No cycle among the locks with a known owner; %d lock%s no known owner "
                       "(%s memory could not be read: a saved text, or a core file without it)."
                       % (len(unknown), " has" if one else "s have", "its" if one else "their"))
        else:
            out.append("No deadlock: the waits-for graph has no cycle.")
    if lock_report.events:
        groups: dict[tuple[str, str | None], list[ThreadReport]] = {}
        for report, doc in lock_report.events:
            groups.setdefault((doc["type"], doc["name"] or doc["address"]), []).append(report)
        out.append("")
        out.append("Threads waiting for an event (nobody owns an event; someone must signal it):")
        rows = [[kind, what or "?", _who_list(members)] for (kind, what), members in groups.items()]
        out.append(tabulate(rows, headers=["type", "object", "threads"], tablefmt="plain",
                            disable_numparse=True))
    return "\n".join(out)


def _doc_label(doc: dict[str, Any] | None) -> str:
    if not doc:
        return "?"
    name = str(doc.get("name") or doc.get("type") or doc.get("kind") or "?")
    return "%s (%s)" % (name, doc["address"]) if doc.get("address") else name

