"""Reports -> text: the table (tabulate), its colours (pygments), the JSON document, groups."""
from __future__ import annotations

import json
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from tabulate import tabulate

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


def json_document(reports: Sequence[ThreadReport], extra: Optional[Dict[str, Any]] = None) -> str:
    doc: Dict[str, Any] = {"threads": [thread_doc(r) for r in reports], "summary": summary(reports)}
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


def render(reports: Sequence[ThreadReport], opts: Any, colour_on: bool,
           extra_json: Optional[Dict[str, Any]] = None) -> str:
    """The whole output of `qemu-threads` for parsed options `opts`."""
    chosen = select(reports, flat(opts.role), flat(opts.state), opts.threads)
    if opts.json:
        return json_document(chosen, extra_json)
    if not chosen:
        return "no thread matches (%d threads in all)" % len(reports)
    body = (grouped_table if opts.group else table)(chosen, colour_on, opts.bt)
    return body + "\n" + summary_line(chosen, len(reports))
