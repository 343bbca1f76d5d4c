"""Reports -> the terminal tables: one row per thread, or per group of identical stacks."""
from __future__ import annotations

from typing import Sequence

from tabulate import tabulate

from ..analyze.classify import ACCEL_NAMES
from ..analyze.groups import groups, summary
from ..model import Frame, ThreadReport
from ..threadlist import number_ranges
from ..vocab import THREAD_CREATION, canonical, is_libc_frame
from .colour import ROLE_COLOURS, STATE_COLOURS, backtrace, colour
from .fit import fit


def origin_summary(frames: Sequence[Frame] | None) -> str:
    """"who made it": the first two frames above the thread-creation plumbing."""
    if not frames:
        return ""
    names = [f.function for f in frames
             if f.function and canonical(f.function) not in THREAD_CREATION]
    return " <- ".join(names[:2]) if names else "??"


def state_text(report: ThreadReport) -> str:
    """"idle: ppoll in main_loop_wait", led by the locks it holds that others wait for."""
    v = report.verdict
    text = "%s: %s" % (v.state, v.activity) if v.activity else v.state
    return "holds %s; %s" % (", ".join(v.holds), text) if v.holds else text


def role_cell(report: ThreadReport, enabled: bool) -> str:
    return colour(role_text(report), ROLE_COLOURS.get(report.verdict.role), enabled)


def _bt_lines(frames: Sequence[Frame], colour_on: bool) -> list[str]:
    lines = _frame_lines(frames) or ["      (no frames)"]
    return backtrace(lines) if colour_on and frames else lines


def _frame_lines(frames: Sequence[Frame], indent: str = "      ") -> list[str]:
    lines = []
    for level, frame in enumerate(frames):
        where = frame.location()
        pc = "0x%016x in " % frame.pc if frame.pc is not None and not frame.inlined else ""
        # "f ()" as gdb writes a frame whose arguments it does not show
        lines.append("%s#%-3d %s%s ()%s" % (indent, level, pc, frame.name,
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


def _name_adds(report: ThreadReport) -> bool:
    """A thread name says more than role and detail: a thread nothing else decided."""
    return bool(report.snapshot.name) and report.verdict.role == "unknown"


def table(reports: Sequence[ThreadReport], colour_on: bool = False, backtraces: bool = False,
          width: int | None = None, verbose: bool = False) -> tuple[str, list[str]]:
    """One row per thread. With a width, the columns that fit it: evidence and the creator go
    to a second line (-v) or away, the name stays only where it says more, long cells are cut."""
    show_origin = any(r.snapshot.origin is not None for r in reports)
    headers = ["", "#", "LWP", "name", "role", "detail", "state", "evidence", "created by"]
    rows = []
    for r in reports:
        s, v = r.snapshot, r.verdict
        rows.append(["*" if s.current else "", str(s.num) if s.num is not None else "",
                     str(s.lwp) if s.lwp is not None else "",
                     s.name or "" if width is None or _name_adds(r) else "",
                     role_text(r), v.detail, state_text(r), v.evidence, origin_summary(s.origin)])
    gone = [] if show_origin and not verbose else ["created by"]
    gone += ["evidence"] if verbose else []
    gone += ["name"] if not any(row[3] for row in rows) else []
    for name in gone:
        headers, rows = _without(headers, rows, name)
    headers, rows, dropped = fit(headers, rows, width, ["created by", "evidence"],
                                 ["state", "detail", "name"])
    text = _coloured(tabulate(rows, headers=headers, tablefmt="plain", disable_numparse=True),
                     reports, headers, colour_on)
    lines = text.split("\n")
    blocks: list[list[str]] = []
    for r in reports:
        block = []
        if verbose:
            block.append("      evidence: %s" % r.verdict.evidence)
            if r.snapshot.origin is not None:
                block.append("      created by: %s" % origin_summary(r.snapshot.origin))
        if backtraces:
            block += _bt_lines(r.snapshot.frames, colour_on)
        blocks.append(block)
    return _with_backtraces("\n".join(lines), blocks), dropped


def _without(headers: list[str], rows: list[list[str]], name: str) -> tuple[list[str], list[list[str]]]:
    if name not in headers:
        return headers, rows
    i = headers.index(name)
    return headers[:i] + headers[i + 1:], [row[:i] + row[i + 1:] for row in rows]


def role_text(report: ThreadReport) -> str:
    v = report.verdict
    return v.role + ("?" if v.confidence == "low" and v.role != "unknown" else "")


def _coloured(text: str, reports: Sequence[ThreadReport], headers: Sequence[str], enabled: bool) -> str:
    """Colour the role and state words of each row (after fitting: escapes take no room)."""
    if not enabled:
        return text
    lines = text.split("\n")
    for i, report in enumerate(reports, 1):
        v = report.verdict
        role = role_text(report)
        line = lines[i]
        at = line.find(" " + role + " ") if "role" in headers else -1
        if at >= 0:
            line = line[:at + 1] + colour(role, ROLE_COLOURS.get(v.role), True) + line[at + 1 + len(role):]
        state_at = line.rfind(" " + v.state + ":") if "state" in headers else -1
        if state_at < 0 and "state" in headers:
            state_at = line.rfind(" " + v.state)
        if state_at >= 0:
            line = line[:state_at + 1] + colour(v.state, STATE_COLOURS.get(v.state), True) + \
                line[state_at + 1 + len(v.state):]
        lines[i] = line
    return "\n".join(lines)


def thread_list(group: Sequence[ThreadReport]) -> str:
    """gdb's own thread-list syntax ("5-132"), so it pastes into `thread apply 5-132 bt`."""
    nums = [r.snapshot.num for r in group if r.snapshot.num is not None]
    others = ["lwp:%s" % r.snapshot.lwp for r in group if r.snapshot.num is None and r.snapshot.lwp]
    unnamed = sum(1 for r in group if r.snapshot.num is None and not r.snapshot.lwp)
    parts = ([number_ranges(nums)] if nums else []) + others
    if unnamed:
        parts.append("%d without a number" % unnamed)
    return " ".join(parts)


def group_detail(group: Sequence[ThreadReport]) -> str:
    """One detail for the group: "vCPUs 0-127 (TCG)" for vCPUs, else the shared detail."""
    details = sorted({r.verdict.detail for r in group})
    if len(details) == 1:
        return details[0]
    verdicts = [r.verdict for r in group]
    accels = {v.accel for v in verdicts}
    if all(v.role == "vcpu" and v.vcpu is not None for v in verdicts) and len(accels) == 1:
        accel = accels.pop()
        low = any(v.confidence == "low" for v in verdicts)
        return "vCPUs %s%s%s" % (number_ranges([v.vcpu for v in verdicts if v.vcpu is not None]),
                                 "?" if low else "",
                                 " (%s)" % ACCEL_NAMES.get(accel, accel) if accel else "")
    return "%s, ..." % details[0]


def where_frames(frames: Sequence[Frame], count: int = 3) -> str:
    """Where QEMU waits: the first frames past the C library's."""
    skip = 0
    while skip < len(frames) - 1 and is_libc_frame(frames[skip]):
        skip += 1
    return " <- ".join(f.name for f in frames[skip:skip + count])


def grouped_table(reports: Sequence[ThreadReport], colour_on: bool = False,
                  backtraces: bool = False, width: int | None = None) -> str:
    """One row per group of identical stacks, no wider than `width` (None: unlimited)."""
    rows, blocks, firsts = [], [], []
    for group in groups(reports):
        first = group[0]
        firsts.append(first)
        rows.append(["%dx" % len(group), thread_list(group), role_text(first),
                     group_detail(group), state_text(first), where_frames(first.snapshot.frames)])
        blocks.append(_bt_lines(first.snapshot.frames, colour_on))
    headers, rows, _ = fit(["count", "threads", "role", "detail", "state", "where"], rows, width,
                           [], ["where", "state", "detail", "threads"])
    text = _coloured(tabulate(rows, headers=headers, tablefmt="plain", disable_numparse=True),
                     firsts, headers, colour_on)
    return _with_backtraces(text, blocks) if backtraces else text


def summary_line(reports: Sequence[ThreadReport], total: int | None = None,
                 evidence_shown: bool = True) -> str:
    counts = summary(reports)
    parts = ", ".join("%d %s" % (n, role) for role, n in counts.items())
    shown = len(reports)
    head = "%d thread%s" % (shown, "" if shown == 1 else "s")
    if total is not None and total != shown:
        head = "%d of %d threads" % (shown, total)
    line = "%s: %s" % (head, parts) if parts else head
    if any(r.verdict.confidence == "low" and r.verdict.role != "unknown" for r in reports):
        line += '.  "?": weak evidence, see %s' % ("the evidence column" if evidence_shown else "-v")
    return line


