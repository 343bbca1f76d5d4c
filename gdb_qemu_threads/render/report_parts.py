"""What both reports (Markdown and HTML) say: the header facts, the table cells, and each
thread's stack written back in gdb's own `thread apply all bt` form.

The stack text is what the offline reader (dump/) reads, so a report parsed offline gives
the same roles: a header "Thread N (LWP n "name"):" and frames "#0  0x.. in f (args) at f:l".
The wait arguments a reader learnt (mutex=0x.. <symbol>) go back into the frames' arguments,
so the locks read back too. Nothing else of the process goes in: no environment, no memory.
"""
from __future__ import annotations

import re
from typing import Any, Sequence

from ..analyze.classify import ACCEL_NAMES
from ..analyze.groups import View, summary
from ..model import Frame, LockReport, ThreadReport, ThreadSnapshot
from ..vocab import WAIT_ARGUMENTS, canonical, is_libc_frame
from .text import group_detail, origin_summary, role_text, state_text, thread_list, where_frames

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MORE_FRAMES = "(More stack frames follow...)"
READ_BACK = ("Cannot access memory", "Selected thread is running", "Target is executing",
             "No stack.", "Backtrace stopped")


def printable(text: str) -> str:
    """Control characters as \\xNN escapes: a thread name is any 15 bytes, newlines included."""
    return _CONTROL.sub(lambda m: "\\x%02x" % ord(m.group()), text)


def accelerators(view: View) -> str:
    accels = sorted({r.verdict.accel for r in view.analysis.reports if r.verdict.accel})
    return ", ".join(ACCEL_NAMES.get(a, a) for a in accels)


def header_items(view: View, meta: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) pairs for the report's header, in order; unknown ones left out."""
    analysis = view.analysis
    binary = str(meta.get("binary") or "")
    version = str(meta.get("qemu_version") or "")
    items = [("QEMU", "%s (%s)" % (binary, version) if binary and version else binary or version),
             ("pid", str(meta.get("pid") or analysis.pid or "")),
             ("accelerator", str(meta.get("accel") or accelerators(view))),
             ("threads", str(len(analysis.reports)) if not view.filtered else
              "%d of %d shown" % (len(view.reports), len(analysis.reports))),
             ("gdb", str(meta.get("gdb_version") or "")),
             ("read from", str(meta.get("source") or analysis.source))]
    return [(label, printable(value)) for label, value in items if value]


def summary_text(reports: Sequence[ThreadReport]) -> str:
    return ", ".join("%d %s" % (n, role) for role, n in summary(reports).items())


def title_text(view: View) -> str:
    """"131 threads (1 main-loop, 128 vcpu, ...)"."""
    counts = summary_text(view.reports)
    return "%d threads%s" % (len(view.reports), " (%s)" % counts if counts else "")


def deadlock_heading(number: int, cycle: Sequence[dict[str, Any]]) -> str:
    return "Deadlock %d: %s" % (number, "a thread waits for a lock it holds itself" if len(cycle) == 1
                                else "%d threads wait for each other" % len(cycle))


def gaps_sentence(report: LockReport) -> str:
    """What keeps the analysis from saying there is no deadlock, or that it can say so."""
    if report.gaps:
        return "%s: %s." % ("Other deadlocks may exist" if report.deadlocks else
                            "Cannot tell whether there is a deadlock", "; ".join(report.gaps))
    return "" if report.deadlocks else "No deadlock: every waiting thread's lock and its owner were read."


def thread_cells(report: ThreadReport) -> dict[str, str]:
    """One row of the thread table, every cell printable text."""
    s, v = report.snapshot, report.verdict
    cells = {"#": "" if s.num is None else str(s.num), "LWP": "" if s.lwp is None else str(s.lwp),
             "name": s.name or "", "role": role_text(report), "detail": v.detail,
             "state": state_text(report), "evidence": v.evidence,
             "created by": origin_summary(s.origin)}
    return {key: printable(value) for key, value in cells.items()}


def group_cells(group: Sequence[ThreadReport]) -> dict[str, str]:
    """One row of the grouped table: count, threads, role, detail, state, where."""
    first = group[0]
    cells = {"count": "%dx" % len(group), "threads": thread_list(group), "role": role_text(first),
             "detail": group_detail(group), "state": state_text(first),
             "where": where_frames(first.snapshot.frames)}
    return {key: printable(value) for key, value in cells.items()}


def thread_header(snap: ThreadSnapshot) -> str:
    """gdb's `thread apply` header, in the form it prints for a core ("LWP n") plus the name;
    a thread without a gdb number (a lone `bt` in a dump) as gdb announces a switch to it."""
    target = "LWP %d" % snap.lwp if snap.lwp is not None else "Thread 0x0"
    name = ' "%s"' % printable(snap.name) if snap.name else ""
    if snap.num is None:
        return "[Switching to %s%s]" % (target, name)
    return "Thread %d (%s%s):" % (snap.num, target, name)


def _arguments(frame: Frame, snap: ThreadSnapshot) -> str:
    """The one argument a reader keeps (a lock's or event's address), as gdb prints it."""
    function = canonical(frame.function) if frame.function else ""
    argument = WAIT_ARGUMENTS.get(function)
    address = snap.facts.wait_args.get(function) if argument else None
    if argument is None or address is None:
        return ""
    symbol = snap.facts.arg_symbols.get(address) or (
        snap.facts.wait_symbol if snap.facts.wait_symbol and function != "lll_lock_wait" else None)
    return "%s=0x%x%s" % (argument, address, " <%s>" % symbol if symbol else "")


def frame_line(level: int, frame: Frame, snap: ThreadSnapshot) -> str:
    pc = "0x%016x in " % frame.pc if frame.pc is not None and not frame.inlined else ""
    where = frame.location()
    place = (" at " if frame.file else " from ") + where if where else ""
    name = printable(frame.name)
    if name.startswith("<"):  # "<signal handler called>" has no arguments
        return "#%-2d %s%s" % (level, pc, name)
    return "#%-2d %s%s (%s)%s" % (level, pc, name, _arguments(frame, snap), printable(place))


def thread_lines(snap: ThreadSnapshot) -> list[str]:
    """One thread as `thread apply all bt` prints it."""
    lines = [thread_header(snap)]
    lines += [frame_line(level, frame, snap) for level, frame in enumerate(snap.frames)]
    if not snap.frames and snap.unreadable and snap.unreadable.startswith(READ_BACK):
        lines.append(printable(snap.unreadable))
    elif snap.frames and not snap.complete:
        lines.append(MORE_FRAMES)
    return lines


def is_qemu_frame(frame: Frame) -> bool:
    """A frame of QEMU itself, not of a shared library: what a reader looks at first."""
    if frame.library is not None:  # QEMU's own modules (accel-tcg-x86_64.so) are QEMU's too
        return "/qemu/" in frame.library
    return frame.function is not None and not is_libc_frame(frame)


def group_title(group: Sequence[ThreadReport]) -> str:
    cells = group_cells(group)
    parts = [cells["count"], cells["role"], cells["detail"], cells["state"],
             ("thread " if len(group) == 1 else "threads ") + cells["threads"]]
    return " \u2014 ".join(part for part in parts if part)


def cycle_line(entry: dict[str, Any]) -> str:
    """One member of a deadlock cycle: what it holds since where, what it waits for where."""
    head = "thread %s" % entry["num"] if entry["num"] is not None else "LWP %s" % entry["lwp"]
    holds = entry.get("holds") or {}
    waits = entry.get("waits_for") or {}
    since = " since %s" % entry["held_at"] if entry.get("held_at") else ""
    where = " in %s" % entry["waits_at"] if entry.get("waits_at") else ""
    return "%s (LWP %s, %s) holds %s%s and waits for %s%s" % (
        head, entry["lwp"], entry["role"], lock_name(holds), since, lock_name(waits), where)


def lock_name(doc: dict[str, Any]) -> str:
    name = str(doc.get("name") or doc.get("type") or "?")
    return "%s (%s)" % (name, doc["address"]) if doc.get("address") else name
