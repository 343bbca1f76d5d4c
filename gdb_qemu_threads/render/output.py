"""A view -> the whole output of `qemu-threads` (and of the offline command line)."""
from __future__ import annotations

import json
import textwrap
from typing import Any, Sequence

from ..analyze.classify import inherited_name
from ..analyze.groups import View
from ..analyze.verdict import diagnose
from ..model import QEMU_ROLES, ThreadReport
from .json_doc import document
from .locks_text import lock_text
from .text import grouped_table, summary_line, table
from .verdict_text import verdict_text


def render(view: View, opts: Any, colour_on: bool, width: int | None = None) -> str:
    """The text for parsed options `opts`: a JSON document, the lock report, or a table no
    wider than `width` (None: unlimited); with --why, the verdict first."""
    why = bool(getattr(opts, "why", False))
    if opts.json:
        return json.dumps(document(view, why=why), indent=1)
    body = _body(view, opts, colour_on, width)
    if why:
        return verdict_text(diagnose(view.analysis), width) + "\n\n" + body
    return body


def _body(view: View, opts: Any, colour_on: bool, width: int | None) -> str:
    everyone = view.analysis.reports
    if getattr(opts, "locks", False):
        return lock_text(everyone, view.locks, width)
    if not view.reports:
        return "no thread matches (%d threads in all)" % len(everyone)
    verbose = bool(getattr(opts, "verbose", False))
    if opts.group:
        body = grouped_table(view.reports, colour_on, opts.bt, width)
        return body + "\n" + _wrapped(summary_line(view.reports, len(everyone), evidence_shown=False)
                                      + _footer(view), width)
    body, dropped = table(view.reports, colour_on, opts.bt, width, verbose)
    footer = summary_line(view.reports, len(everyone), "evidence" not in dropped and not verbose) + \
        _footer(view)
    return body + "\n" + _wrapped(footer, width)


def _wrapped(text: str, width: int | None) -> str:
    """Lines under a table wrap at gdb's width, as gdb's own messages do."""
    if not width:
        return text
    return "\n".join(textwrap.fill(line, width, subsequent_indent="  ") for line in text.split("\n"))


def _footer(view: View) -> str:
    """What matters most, said under the table: deadlocks and lock problems, with the
    command that shows them."""
    lines = []
    report = view.analysis.locks
    if report.deadlocks:
        lines.append("%d deadlock%s: see qemu-threads --locks"
                     % (len(report.deadlocks), "" if len(report.deadlocks) == 1 else "s"))
    problems = sorted({lock.problem for lock in report.locks if lock.problem})
    if problems:
        lines.append("lock problems (%s): see qemu-threads --locks" % ", ".join(problems))
    hint = _better_answers(view.analysis.reports)
    if hint:
        lines.append(hint)
    return "".join("\n" + line for line in lines)


def _better_answers(reports: Sequence[ThreadReport]) -> str:
    """What would decide the threads of a QEMU that nothing decided: names, or symbols."""
    unknown = [r for r in reports if r.verdict.role == "unknown"]
    if not unknown or not any(r.verdict.role in QEMU_ROLES for r in reports):
        return ""
    nameless = any(inherited_name(r.snapshot.name) for r in unknown)
    symbolless = any(not f.function for r in unknown for f in r.snapshot.frames)
    ways = (["QEMU's -name debug-threads=on names its threads"] if nameless else []) + \
        (["debug symbols name their frames (Debian: qemu-system-*-dbgsym, Fedora: "
          "qemu-debuginfo; or gdb's set debuginfod enabled on)"] if symbolless else [])
    if not ways:
        return ""
    return "%d unknown: %s." % (len(unknown), "; ".join(ways))
