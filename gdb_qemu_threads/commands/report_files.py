"""`qemu-threads --report FILE` and `--dot FILE`: what gdb knows besides the analysis (its
version, the program, live or core), then the files render/report.py writes."""
from __future__ import annotations

from typing import Any

import gdb

from ..analyze.groups import View
from ..render.report import ReportError, write_dot, write_report


def meta(shown: View) -> dict[str, Any]:
    """The report's header facts: only what gdb shows anyway, nothing of the environment."""
    progspace = gdb.selected_inferior().progspace
    binary = progspace.filename if progspace is not None else None
    return {"binary": binary, "gdb_version": getattr(gdb, "VERSION", None), "source": shown.analysis.source,
            "pid": shown.analysis.pid}


def write(shown: View, report: str | None, dot: str | None) -> str:
    """Write what was asked; the lines to print."""
    lines = []
    try:
        if report:
            lines.append(write_report(shown, report, meta(shown)))
        if dot:
            lines.append(write_dot(shown, dot))
    except ReportError as err:
        raise gdb.GdbError("qemu-threads: %s" % err) from None
    return "\n".join(lines)
