"""Reports -> text: the table (tabulate), its colours (pygments), the JSON document, groups."""
from __future__ import annotations

import json
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from tabulate import tabulate

from . import locks
from .classify import summary
from .model import Frame, ThreadReport
from .options import flat
from .states import canonical

ROLE_COLOURS = {
    "main-loop": "*cyan*", "vcpu": "*green*", "iothread": "blue", "worker": "yellow",
    "call-rcu": "magenta", "unknown": "red", "kernel-worker": "gray", "library": "gray",
    "gmain": "gray", "gdbus": "gray", "glib-pool": "gray", "pulseaudio": "gray",
}
STATE_COLOURS = {"lock": "*red*", "guest": "green", "io": "yellow", "running": "*yellow*",
                 "unknown": "red"}

# Frames that say nothing about who created a thread: the C library's and the thread
# libraries' wrappers (compared by canonical name: `__GI___clone_internal` is clone_internal).
CREATION_PLUMBING = frozenset(["clone", "clone3", "clone_internal", "create_thread",
                               "pthread_create", "pthread_create_2_1", "qemu_thread_create",
                               "g_thread_new", "g_thread_new_internal", "g_thread_try_new",
                               "g_system_thread_new", "pa_thread_new"])


def colour(text: str, spec: Optional[str], enabled: bool) -> str:
    if not enabled or not spec or not text:
        return text
    from pygments.console import ansiformat
    return ansiformat(spec, text)


def origin_summary(frames: Optional[Sequence[Frame]]) -> str:
    """"who made it": the first two frames above the thread-creation plumbing."""
    if not frames:
        return ""
    names = [f.function for f in frames
             if f.function and canonical(f.function) not in CREATION_PLUMBING]
    return " <- ".join(names[:2]) if names else "??"


def thread_doc(report: ThreadReport) -> Dict[str, Any]:
    """One thread's entry of the JSON document (DESIGN.md)."""
    s, v = report.snapshot, report.verdict
    doc: Dict[str, Any] = {
        "num": s.num, "lwp": s.lwp, "name": s.name, "role": v.role, "accel": v.accel,
        "vcpu": v.vcpu, "iothread": v.iothread, "state": v.state, "detail": v.detail,
        "evidence": v.evidence, "confidence": v.confidence, "frames": s.frame_names(),
        "current": s.current, "activity": v.activity, "complete": s.complete,
        "waits_for": v.waits_for,
    }
    if s.unreadable:
        doc["unreadable"] = s.unreadable
    if s.origin is not None:
        doc["origin"] = {"parent_lwp": s.parent_lwp, "frames": [f.name for f in s.origin]}
    return doc


def json_document(reports: Sequence[ThreadReport], extra: Optional[Dict[str, Any]] = None,
                  lock_report: Optional[locks.LockReport] = None) -> str:
    lock_report = lock_report or locks.collect(reports)
    doc: Dict[str, Any] = {"threads": [thread_doc(r) for r in reports], "summary": summary(reports),
                           "locks": locks.locks_doc(lock_report), "deadlocks": lock_report.deadlocks}
    if extra:
        doc.update(extra)
    return json.dumps(doc, indent=1)


def _state_cell(report: ThreadReport, enabled: bool) -> str:
    v = report.verdict
    text = "%s: %s" % (v.state, v.activity) if v.activity else v.state
    return colour(text, STATE_COLOURS.get(v.state), enabled)


def _role_cell(report: ThreadReport, enabled: bool) -> str:
    v = report.verdict
    text = v.role + ("?" if v.confidence == "low" and v.role != "unknown" else "")
    return colour(text, ROLE_COLOURS.get(v.role), enabled)


def _frame_lines(frames: Sequence[Frame], indent: str = "      ") -> List[str]:
    lines = []
    for level, frame in enumerate(frames):
        where = frame.location()
        pc = "0x%016x in " % frame.pc if frame.pc is not None and not frame.inlined else ""
        lines.append("%s#%-3d %s%s%s" % (indent, level, pc, frame.name,
                                        (" at " if frame.file else " from ") + where if where else ""))
    return lines


def _with_backtraces(table: str, blocks: Sequence[List[str]]) -> str:
    """Put each row's frames under it; "plain" tables have one header line, then a line a row."""
    lines = table.split("\n")
    out = lines[:1]
    for row, block in zip(lines[1:], blocks):
        out.append(row)
        out.extend(block)
    return "\n".join(out)


def table(reports: Sequence[ThreadReport], colour_on: bool = False, backtraces: bool = False) -> str:
    show_origin = any(r.snapshot.origin is not None for r in reports)
    headers = ["", "#", "LWP", "name", "role", "detail", "state", "evidence"]
    if show_origin:
        headers.append("created by")
    rows = []
    for r in reports:
        s, v = r.snapshot, r.verdict
        row = ["*" if s.current else "", s.num if s.num is not None else "",
               s.lwp if s.lwp is not None else "", s.name or "", _role_cell(r, colour_on),
               v.detail, _state_cell(r, colour_on), v.evidence]
        if show_origin:
            row.append(origin_summary(s.origin))
        rows.append(row)
    text = tabulate(rows, headers=headers, tablefmt="plain", disable_numparse=True)
    if backtraces:
        text = _with_backtraces(text, [_frame_lines(r.snapshot.frames) or ["      (no frames)"]
                                       for r in reports])
    return text


def groups(reports: Sequence[ThreadReport]) -> List[List[ThreadReport]]:
    """Threads with identical stacks (function names), biggest group first."""
    by_key: Dict[Tuple[Any, ...], List[ThreadReport]] = {}
    for r in reports:
        key = (r.verdict.role, r.snapshot.stack_key())
        by_key.setdefault(key, []).append(r)
    return sorted(by_key.values(), key=lambda g: -len(g))


def _thread_list(group: Sequence[ThreadReport]) -> str:
    nums = ["%s%s" % ("*" if r.snapshot.current else "",
                      r.snapshot.num if r.snapshot.num is not None else "lwp %s" % r.snapshot.lwp)
            for r in group]
    return ",".join(nums) if len(nums) <= 8 else "%s,...,%s" % (",".join(nums[:6]), nums[-1])


def grouped_table(reports: Sequence[ThreadReport], colour_on: bool = False,
                  backtraces: bool = False) -> str:
    rows, blocks = [], []
    for group in groups(reports):
        first = group[0]
        details = sorted({r.verdict.detail for r in group})
        top = " <- ".join(first.snapshot.frame_names()[:3])
        rows.append(["%dx" % len(group), _thread_list(group), _role_cell(first, colour_on),
                     details[0] if len(details) == 1 else "%s, ..." % details[0],
                     _state_cell(first, colour_on), top])
        blocks.append(_frame_lines(first.snapshot.frames) or ["      (no frames)"])
    text = tabulate(rows, headers=["count", "threads", "role", "detail", "state", "top frames"],
                    tablefmt="plain", disable_numparse=True)
    return _with_backtraces(text, blocks) if backtraces else text


def summary_line(reports: Sequence[ThreadReport], total: Optional[int] = None) -> str:
    counts = summary(reports)
    parts = ", ".join("%d %s" % (n, role) for role, n in counts.items())
    shown = len(reports)
    head = "%d thread%s" % (shown, "" if shown == 1 else "s")
    if total is not None and total != shown:
        head = "%d of %d threads" % (shown, total)
    line = "%s: %s" % (head, parts) if parts else head
    if any(r.verdict.confidence == "low" and r.verdict.role != "unknown" for r in reports):
        line += '.  "?": weak evidence, see the evidence column'
    return line


def select(reports: Iterable[ThreadReport], roles: Sequence[str] = (), states: Sequence[str] = (),
           threads: Sequence[str] = ()) -> List[ThreadReport]:
    """The reports the filters let through; `threads` are gdb numbers or lwp:N."""
    nums = {int(t) for t in threads if t.isdigit()}
    lwps = {int(t.split(":", 1)[1]) for t in threads if t.startswith("lwp:")}
    chosen = []
    for r in reports:
        if roles and r.verdict.role not in roles:
            continue
        if states and r.verdict.state not in states:
            continue
        if threads and r.snapshot.num not in nums and r.snapshot.lwp not in lwps:
            continue
        chosen.append(r)
    return chosen


def bad_thread_words(threads: Sequence[str]) -> List[str]:
    return [t for t in threads if not (t.isdigit() or (t.startswith("lwp:") and t[4:].isdigit()))]


def _who_list(reports: Sequence[ThreadReport]) -> str:
    names = [locks.who(r) for r in reports]
    return ", ".join(names) if len(names) <= 6 else "%s, ... (%d in all)" % (", ".join(names[:5]), len(names))


def _lock_label(lock: locks.Lock) -> str:
    name = lock.name or lock.type
    if lock.name and lock.type != "mutex":
        name = "%s (%s)" % (lock.name, lock.type)
    if lock.depth and lock.type == "recursive mutex":
        name += ", taken %d time%s" % (lock.depth, "" if lock.depth == 1 else "s")
    return name


def _holder_cell(lock: locks.Lock) -> str:
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


def lock_text(reports: Sequence[ThreadReport], lock_report: locks.LockReport) -> str:
    """`qemu-threads --locks`: holder -> waiters, deadlock cycles, then event waits."""
    out: List[str] = []
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
                out.append("      and waits for %s%s" % (_doc_label(entry["waits_for"]),
                                                      " in %s" % entry["waits_at"] if entry["waits_at"] else ""))
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
        groups: Dict[Tuple[str, Optional[str]], List[ThreadReport]] = {}
        for report, doc in lock_report.events:
            groups.setdefault((doc["type"], doc["name"] or doc["address"]), []).append(report)
        out.append("")
        out.append("Threads waiting for an event (nobody owns an event; someone must signal it):")
        rows = [[kind, what or "?", _who_list(members)] for (kind, what), members in groups.items()]
        out.append(tabulate(rows, headers=["type", "object", "threads"], tablefmt="plain",
                            disable_numparse=True))
    return "\n".join(out)


def _doc_label(doc: Optional[Dict[str, Any]]) -> str:
    if not doc:
        return "?"
    name = doc.get("name") or doc.get("type") or doc.get("kind")
    return "%s (%s)" % (name, doc["address"]) if doc.get("address") else name


def render(reports: Sequence[ThreadReport], opts: Any, colour_on: bool,
           extra_json: Optional[Dict[str, Any]] = None) -> str:
    """The whole output of `qemu-threads` for parsed options `opts`."""
    chosen = select(reports, flat(opts.role), flat(opts.state), opts.threads)
    lock_report = locks.collect(reports)  # holders may be threads the filters leave out
    if opts.json:
        return json_document(chosen, extra_json, lock_report)
    if getattr(opts, "locks", False):
        if len(chosen) != len(reports):  # filters: the locks and cycles that involve those threads
            lock_report = locks.involving(lock_report, chosen)
        return lock_text(reports, lock_report)
    if not chosen:
        return "no thread matches (%d threads in all)" % len(reports)
    body = (grouped_table if opts.group else table)(chosen, colour_on, opts.bt)
    return body + "\n" + summary_line(chosen, len(reports))
