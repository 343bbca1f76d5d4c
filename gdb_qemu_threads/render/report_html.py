"""A view -> one self-contained HTML page: header, legend, the thread table (sortable and
filterable where JavaScript is on), locks and deadlocks, the waits-for graph and the creation
tree as inline SVG, and each group of identical stacks coloured by pygments.

Every text of the process goes through html.escape; a Content-Security-Policy forbids any
fetch, so nothing in a thread name can load or run anything.
"""
from __future__ import annotations

from html import escape
from typing import Any, Sequence

from ..analyze.groups import View, groups
from ..model import ROLES, STATES, ThreadReport
from .graphs import Graph, graphs, to_svg
from .locks_text import event_rows, holder_cell, lock_label, who_list
from .report_html_assets import CSP, CSS, LIBRARY_COLOUR, ROLE_COLOURS, SCRIPT, STATE_COLOURS
from .report_md import FULL_TABLE_UP_TO, GROUP_COLUMNS
from .report_parts import (
    cycle_line,
    deadlock_heading,
    gaps_sentence,
    group_cells,
    group_title,
    header_items,
    is_qemu_frame,
    printable,
    thread_cells,
    thread_header,
    thread_lines,
    title_text,
)

COLUMNS = ("#", "LWP", "name", "role", "detail", "state", "evidence")
ABSENT = {
    "waits_for": "No thread waits for a lock or an event, so there is no waits-for graph.",
    "creation": "No thread creation was recorded (<code>qemu-thread-origins start</code> before QEMU "
                "creates its threads records it), so there is no creation tree.",
}


def _text(value: str) -> str:
    return escape(printable(value))


def _role_chip(report: ThreadReport) -> str:
    colour = ROLE_COLOURS.get(report.verdict.role, LIBRARY_COLOUR)
    return _chip(colour, _text(thread_cells(report)["role"]))


def _chip(colour: str, text: str) -> str:
    return '<span class="chip" style="background:%s">%s</span>' % (colour, text)


def _state_mark(state: str, text: str) -> str:
    colour = STATE_COLOURS.get(state, "#ccc")
    return '<span class="state" style="border-color:%s">%s</span>' % (colour, _text(text))


def header(view: View, meta: dict[str, Any]) -> list[str]:
    out = ["<header><h1>QEMU threads: %s</h1>" % _text(title_text(view)),
           '<dl class="meta">']
    out += ["<div><dt>%s</dt><dd>%s</dd></div>" % (_text(k), _text(v)) for k, v in header_items(view, meta)]
    out.append("</dl>")
    if meta.get("verdict"):
        out.append('<p class="verdict"><strong>Verdict:</strong> %s</p>' % _text(str(meta["verdict"])))
    return out + ["</header>"]


def legend(view: View) -> list[str]:
    seen_roles = {r.verdict.role for r in view.analysis.reports}
    seen_states = {r.verdict.state for r in view.analysis.reports}
    roles = " ".join(_chip(ROLE_COLOURS.get(role, LIBRARY_COLOUR), role)
                     for role in ROLES if role in seen_roles)
    states = " ".join(_state_mark(state, state) for state in STATES if state in seen_states)
    return ['<section aria-label="legend"><div class="legend"><strong>Roles:</strong> %s</div>' % roles,
            '<div class="legend"><strong>States:</strong> %s</div>' % states,
            '<p class="note">A role followed by "?" rests on weak evidence; hover over a row or read '
            'its evidence column for what decided it. In the stacks, highlighted lines are QEMU\'s own '
            'frames, the others are libraries\'.</p></section>']


def thread_table(view: View) -> list[str]:
    origins = any(r.snapshot.origin is not None for r in view.reports)
    columns = COLUMNS + (("created by",) if origins else ())
    in_cycle = {e["lwp"] for cycle in view.locks.deadlocks for e in cycle}
    out = ['<section><h2 id="threads-title">Threads</h2>']
    folded = len(view.reports) > FULL_TABLE_UP_TO
    if folded:  # 128 vCPUs that are all the same: one row first, every thread on demand
        out += ['<div class="scroll"><table id="groups">'] + _groups_rows(view.reports)[1:]
        out.append('<details id="all-threads"><summary>All %d threads</summary>' % len(view.reports))
    out += ['<input id="filter" type="search" placeholder="filter the rows (role, name, state...)" '
            'aria-label="filter the thread table" hidden>',
            '<div class="scroll"><table id="threads" aria-labelledby="threads-title"><thead><tr>']
    out += ['<th class="col-%s">%s</th>' % (c.replace(" ", "-").replace("#", "num"), escape(c))
            for c in columns]
    out.append("</tr></thead><tbody>")
    for report in view.reports:
        cells = thread_cells(report)
        row_class = "deadlock" if report.snapshot.lwp in in_cycle and report.snapshot.lwp is not None else ""
        tds = []
        for column in columns:
            if column == "role":
                tds.append("<td>%s</td>" % _role_chip(report))
            elif column == "state":
                tds.append("<td>%s</td>" % _state_mark(report.verdict.state, cells["state"]))
            else:
                css = {"evidence": ' class="evidence"', "created by": ' class="created"'}.get(column, "")
                tds.append("<td%s>%s</td>" % (css, _text(cells[column])))
        out.append('<tr class="%s" title="%s">%s</tr>' % (row_class, _text(cells["evidence"]), "".join(tds)))
    out.append("</tbody></table></div>")
    return out + (["</details></section>"] if folded else ["</section>"])


def _groups_rows(reports: Sequence[ThreadReport]) -> list[str]:
    """The grouped table (its first line opens a table of its own, for the caller to drop)."""
    out = ["<table>", "<thead><tr>%s</tr></thead><tbody>" % "".join("<th>%s</th>" % c for c in GROUP_COLUMNS)]
    for group in groups(reports):
        cells = group_cells(group)
        first = group[0]
        tds = ["<td>%s</td>" % (_role_chip(first) if c == "role" else
                                _state_mark(first.verdict.state, cells[c]) if c == "state" else
                                _text(cells[c])) for c in GROUP_COLUMNS]
        out.append("<tr>%s</tr>" % "".join(tds))
    return out + ["</tbody></table></div>"]


def _simple_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    heads = "".join("<th>%s</th>" % escape(h) for h in headers)
    out = ['<div class="scroll"><table><thead><tr>%s</tr></thead><tbody>' % heads]
    out += ["<tr>%s</tr>" % "".join("<td>%s</td>" % _text(cell) for cell in row) for row in rows]
    return out + ["</tbody></table></div>"]


def lock_section(view: View) -> list[str]:
    report = view.locks
    out = ["<section><h2>Locks</h2>"]
    if report.locks:
        out += _simple_table(("lock", "address", "held by", "held at", "waiters"),
                             [[lock_label(lock), "0x%x" % lock.address if lock.address is not None else "?",
                               holder_cell(lock), lock.held_at or "", who_list(lock.waiters)]
                              for lock in report.locks])
    else:
        out.append("<p>No thread waits for a mutex or rwlock.</p>")
    for number, cycle in enumerate(report.deadlocks, 1):
        out.append('<p class="cycle">%s</p><ul>' % escape(deadlock_heading(number, cycle)))
        out += ['<li class="cycle">%s</li>' % _text(cycle_line(entry)) for entry in cycle]
        out.append("</ul>")
    if gaps_sentence(report):
        out.append("<p>%s</p>" % _text(gaps_sentence(report)))
    if report.events:
        out.append("<p>Threads waiting for an event (nobody owns an event; someone must signal it):</p>")
        out += _simple_table(("type", "object", "waits in", "threads"), event_rows(report))
    return out + ["</section>"]


def picture(name: str, graph: Graph | None) -> list[str]:
    caption = {"waits_for": "Who waits for whom", "creation": "Which thread created which"}[name]
    out = ['<figure id="%s"><figcaption>%s</figcaption>' % (name.replace("_", "-"), caption)]
    if graph is None:
        return out + ['<p class="note">%s</p></figure>' % ABSENT[name]]
    svg = to_svg(graph.dot)
    if svg is not None:
        return out + [svg, "</figure>"]
    out.append('<p class="note">The picture was left out: Graphviz\'s <code>dot</code> program was '
               'not found. Its arrows, as a list:</p><ul class="edges">')
    out += ['<li%s>%s &rarr; %s</li>' % (' class="cycle"' if red else "", _text(a), _text(b))
            for a, b, red in graph.edges]
    return out + ["</ul></figure>"]


def _highlighted(lines: list[str], marked: list[int]) -> str:
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter

        from .bt_lexer import GdbBacktraceLexer
    except ImportError:  # pygments is optional for the report: plain text then
        return '<pre class="plain">%s</pre>' % escape("\n".join(lines))
    formatter = HtmlFormatter(cssclass="bt", hl_lines=marked)
    return highlight("\n".join(lines) + "\n", GdbBacktraceLexer(), formatter)


def stack_section(reports: Sequence[ThreadReport]) -> list[str]:
    found = groups(reports)
    out = ["<section><h2>Stacks</h2><p>%d group%s of threads with identical stacks; each stack once.</p>"
           % (len(found), "" if len(found) == 1 else "s")]
    for group in found:
        first = group[0].snapshot
        lines = thread_lines(first)
        marked = [index + 2 for index, frame in enumerate(first.frames) if is_qemu_frame(frame)]
        members = ", ".join(thread_header(r.snapshot).rstrip(":") for r in group)
        out.append('<details class="group"><summary>%s</summary><div>' % _text(group_title(group)))
        if len(group) > 1:
            out.append('<p class="members">%s</p>' % escape(members))
        out += [_highlighted(lines, marked), "</div></details>"]
    return out + ["</section>"]


def page(view: View, meta: dict[str, Any]) -> str:
    try:
        from pygments.formatters import HtmlFormatter
        style = HtmlFormatter(cssclass="bt").get_style_defs(".bt")
    except ImportError:
        style = ""
    pid = meta.get("pid") or view.analysis.pid
    title = "QEMU threads of pid %s" % pid if pid else "QEMU threads"
    body = (header(view, meta) + legend(view) + thread_table(view) + lock_section(view)
            + ["<section><h2>Pictures</h2>"]
            + [line for name, graph in graphs(view) for line in picture(name, graph)]
            + ["</section>"] + stack_section(view.reports))
    return "\n".join(['<!DOCTYPE html>', '<html lang="en"><head><meta charset="utf-8">',
                      '<meta http-equiv="Content-Security-Policy" content="%s">' % CSP,
                      '<meta name="viewport" content="width=device-width, initial-scale=1">',
                      "<title>%s</title>" % escape(title),
                      "<style>%s\n%s</style></head><body>" % (CSS, style)]
                     + body + ["<script>%s</script>" % SCRIPT, "</body></html>", ""])
