"""A view -> a Markdown report for a GitLab or GitHub issue: header, thread table, locks and
deadlocks, the verdict, then each group of identical stacks once in a collapsible block whose
code is gdb's own backtrace text (the offline reader reads the report back).

Every piece of the process's text (names, paths, functions) is escaped: in a table cell as
Markdown, in <summary> as HTML, and in code blocks it needs nothing but a long enough fence.
Lines outside code blocks never start like gdb's own ("Thread N (", "#N ", digits), so the
offline reader takes them for prose.
"""
from __future__ import annotations

import html
import re
from typing import Any, Sequence

from ..analyze.groups import View, groups
from ..model import ThreadReport
from .locks_text import event_rows, holder_cell, lock_label, who_list
from .report_parts import (
    cycle_line,
    deadlock_heading,
    gaps_sentence,
    group_cells,
    group_title,
    header_items,
    printable,
    thread_cells,
    thread_lines,
    title_text,
)

FULL_TABLE_UP_TO = 40   # more threads than this: the grouped table, the full one folded
_SPECIAL = re.compile(r"([\\`*_\[\]|~!@#<>&])")
_ENTITY = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}
THREAD_COLUMNS = ("#", "LWP", "name", "role", "detail", "state", "evidence")
GROUP_COLUMNS = ("count", "threads", "role", "detail", "state", "where")


def md_text(text: str) -> str:
    """Text that Markdown shows as it is: no emphasis, links, HTML, mentions or cell breaks."""
    return _SPECIAL.sub(lambda m: _ENTITY.get(m.group(1), "\\" + m.group(1)),
                        printable(text).replace("\n", " "))


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    out = ["| %s |" % " | ".join(md_text(h) for h in headers),
           "|%s|" % "|".join("---" for _ in headers)]
    out += ["| %s |" % " | ".join(md_text(cell) or " " for cell in row) for row in rows]
    return out


def fence(lines: Sequence[str], info: str = "text") -> list[str]:
    """A fenced code block whose fence no line of it can close."""
    longest = max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0)
    mark = "`" * max(3, longest + 1)
    return [mark + info] + list(lines) + [mark]


def details(summary: str, body: Sequence[str]) -> list[str]:
    return ["<details><summary>%s</summary>" % html.escape(summary), ""] + list(body) + ["", "</details>", ""]


def header(view: View, meta: dict[str, Any]) -> list[str]:
    facts = ("**%s** %s" % (label, md_text(value)) for label, value in header_items(view, meta))
    out = ["## QEMU threads: %s" % md_text(title_text(view)), "", " \u00b7 ".join(facts), ""]
    if meta.get("verdict"):
        out += ["> **Verdict:** %s" % md_text(str(meta["verdict"])), ""]
    return out


def thread_section(view: View) -> list[str]:
    rows = [[thread_cells(r)[c] for c in THREAD_COLUMNS] for r in view.reports]
    origins = any(r.snapshot.origin is not None for r in view.reports)
    if origins:
        rows = [row + [thread_cells(r)["created by"]] for row, r in zip(rows, view.reports)]
    full = table(list(THREAD_COLUMNS) + (["created by"] if origins else []), rows)
    out = ["### Threads", ""]
    if len(view.reports) <= FULL_TABLE_UP_TO:
        return out + full + [""]
    grouped = [[group_cells(g)[c] for c in GROUP_COLUMNS] for g in groups(view.reports)]
    return out + table(GROUP_COLUMNS, grouped) + [""] + details("All %d threads" % len(view.reports), full)


def lock_section(view: View) -> list[str]:
    report = view.locks
    out = ["### Locks", ""]
    if report.locks:
        rows = [[lock_label(lock), "0x%x" % lock.address if lock.address is not None else "?",
                 holder_cell(lock), lock.held_at or "", who_list(lock.waiters)] for lock in report.locks]
        out += table(("lock", "address", "held by", "held at", "waiters"), rows) + [""]
    else:
        out += ["No thread waits for a mutex or rwlock.", ""]
    for number, cycle in enumerate(report.deadlocks, 1):
        heading, _, what = deadlock_heading(number, cycle).partition(": ")
        out += ["**%s:** %s" % (heading, what), ""]
        for entry in cycle:
            out.append("- %s" % md_text(cycle_line(entry)))
        out.append("")
    if gaps_sentence(report):
        out += [md_text(gaps_sentence(report)), ""]
    if report.events:
        out += ["Threads waiting for an event (nobody owns an event; someone must signal it):", ""]
        out += table(("type", "object", "waits in", "threads"), event_rows(report)) + [""]
    return out



def stack_section(reports: Sequence[ThreadReport]) -> list[str]:
    found = groups(reports)
    out = ["### Stacks", "",
           "Each group of identical stacks once, as gdb's `thread apply all bt` prints it (%d group%s); "
           "the offline reader reads this report back." % (len(found), "" if len(found) == 1 else "s"), ""]
    for group in found:
        lines = [line for member in group for line in thread_lines(member.snapshot)]
        out += details(group_title(group), fence(lines))
    return out


def markdown(view: View, meta: dict[str, Any]) -> str:
    parts = header(view, meta) + thread_section(view) + lock_section(view) + stack_section(view.reports)
    return "\n".join(parts).rstrip("\n") + "\n"
