"""Reports -> the terminal tables: one row per thread, or per group of identical stacks."""
from __future__ import annotations

from typing import Sequence

from tabulate import tabulate

from ..analyze.groups import groups, summary
from ..model import Frame, ThreadReport
from ..vocab import THREAD_CREATION, canonical
from .colour import ROLE_COLOURS, STATE_COLOURS, colour


def origin_summary(frames: Sequence[Frame] | None) -> str:
    """"who made it": the first two frames above the thread-creation plumbing."""
    if not frames:
        return ""
    names = [f.function for f in frames
             if f.function and canonical(f.function) not in THREAD_CREATION]
    return " <- ".join(names[:2]) if names else "??"


def _state_cell(report: ThreadReport, enabled: bool) -> str:
    v = report.verdict
    text = "%s: %s" % (v.state, v.activity) if v.activity else v.state
    return colour(text, STATE_COLOURS.get(v.state), enabled)


def _role_cell(report: ThreadReport, enabled: bool) -> str:
    v = report.verdict
    text = v.role + ("?" if v.confidence == "low" and v.role != "unknown" else "")
    return colour(text, ROLE_COLOURS.get(v.role), enabled)


def _frame_lines(frames: Sequence[Frame], indent: str = "      ") -> list[str]:
    lines = []
    for level, frame in enumerate(frames):
        where = frame.location()
        pc = "0x%016x in " % frame.pc if frame.pc is not None and not frame.inlined else ""
        lines.append("%s#%-3d %s%s%s" % (indent, level, pc, frame.name,
                                        (" at " if frame.file else " from ") + where if where else ""))
    return lines


def _with_backtraces(table: str, blocks: Sequence[list[str]]) -> str:
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


def summary_line(reports: Sequence[ThreadReport], total: int | None = None) -> str:
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


