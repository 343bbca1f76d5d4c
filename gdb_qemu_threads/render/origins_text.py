"""`qemu-thread-origins` output: the table, the creation backtraces, the JSON, the status line.

The table speaks as `qemu-threads` does: tabulate's "plain" format, the same lowercase headers,
role names and "?" for a role that rests on weak evidence."""
from __future__ import annotations

import json
from typing import Sequence

from tabulate import tabulate

from .. import SCHEMA, __version__
from ..creation.select import OriginRow, short_chain
from .text import role_cell

COMMAND = "qemu-thread-origins"


def _role(row: OriginRow) -> str:
    """As qemu-threads names it; "-" where it was not asked (exited, or another process)."""
    return role_cell(row.report, False) if row.report is not None else "-"


def _who(lwp: int | None, num: int | None) -> str:
    if lwp is None:
        return "-"
    return "LWP %d (thread %d)" % (lwp, num) if num is not None else "LWP %d" % lwp


def format_table(rows: Sequence[OriginRow], depth: int = 4) -> str:
    """One line a thread: who it is, its role, whether it lives, its creator, and the callers
    that asked for it (the frames above clone/clone3 and the thread library)."""
    headers = ["", "#", "LWP", "name", "role", "alive", "creator", "created by"]
    table = []
    for row in rows:
        record = row.record
        table.append(["*" if row.current else "",
                      record.num if record.num is not None else "", record.lwp,
                      record.name or "", _role(row), "yes" if record.alive else "gone",
                      _who(record.parent_lwp, row.parent_num), short_chain(record.frames, depth)])
    return tabulate(table, headers=headers, tablefmt="plain", disable_numparse=True)


def format_backtraces(rows: Sequence[OriginRow]) -> str:
    """Each record with its whole creation backtrace, as gdb would number the frames."""
    blocks = []
    for row in rows:
        record = row.record
        title = "Thread %s (LWP %d) %s%s, role %s, created by %s via %s:" % (
            record.num if record.num is not None else "-", record.lwp,
            '"%s"' % record.name if record.name else "(no name)",
            "" if record.alive else " [gone]", _role(row),
            _who(record.parent_lwp, row.parent_num), record.via)
        lines = [title]
        for level, frame in enumerate(record.frames):
            where = frame.location()
            pc = "0x%016x in " % frame.pc if frame.pc is not None else ""
            lines.append("  #%-2d %s%s%s" % (level, pc, frame.name, " from " + where if where else ""))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def json_entry(row: OriginRow) -> dict[str, object]:
    record = row.record
    verdict = row.report.verdict if row.report is not None else None
    return {
        "lwp": record.lwp,
        "num": record.num if record.alive else None,
        "name": record.name,
        "alive": record.alive,
        "parent_lwp": record.parent_lwp,
        "parent_num": row.parent_num,
        "role": verdict.role if verdict else None,
        "confidence": verdict.confidence if verdict else None,
        "pid": record.pid,
        "via": record.via,
        "frames": [f.name for f in record.frames],
    }


def json_document(rows: Sequence[OriginRow], pid: int | None = None) -> str:
    """The `show --json` document (DESIGN.md, "Origins JSON"), with the metadata every
    document carries: the process shown (null where none), the extension's version, the schema."""
    return json.dumps({"origins": [json_entry(row) for row in rows], "pid": pid or None,
                       "version": __version__, "schema": SCHEMA})


def nothing_recorded(for_this_process: bool, recording: bool, pending: int) -> str:
    """`show` with no row: what was seen, and what to do if nothing was."""
    if pending:
        return "No thread paired yet: %s seen whose thread gdb has not reported (see `%s " \
               "status`)." % (_plural(pending, "creation"), COMMAND)
    if recording:
        return "No thread created%s since recording started." % (
            " in this process" if for_this_process else "")
    return "No thread creation recorded%s. Record with `%s start` before threads are " \
           "created (before `run`, or while attached)." % (
               " for this process" if for_this_process else "", COMMAND)


def _plural(count: int, word: str) -> str:
    return "%d %s%s" % (count, word, "" if count == 1 else "s")


def status_line(recording: bool, counts: dict[str, int]) -> str:
    parts = ["recording thread creation" if recording else "not recording"]
    parts.append("%s recorded (%d alive)" % (_plural(counts["threads"], "thread"), counts["alive"]))
    if counts["pending"]:
        parts.append("%s not yet paired" % _plural(counts["pending"], "creation"))
    if counts["processes"]:
        parts.append("%s (fork/spawn) not counted as threads"
                     % _plural(counts["processes"], "process creation"))
    return "; ".join(parts) + "."


def status_text(recording: bool, counts: dict[str, int], notes: Sequence[str], errors: int,
                last_error: str) -> str:
    """`status`: the status line, then what is not recorded and why, then our own errors."""
    lines = [status_line(recording, counts)]
    lines += ["Note: %s." % note for note in notes]
    if errors:
        lines.append("%s while recording; last: %s" % (_plural(errors, "error"), last_error))
    return "\n".join(lines)
