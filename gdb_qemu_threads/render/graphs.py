"""The two pictures of a report as Graphviz DOT: who waits for whom (threads and locks, each
deadlock cycle in red) and which thread created which (from qemu-thread-origins).

Graphviz lays them out (`dot -Tsvg`, Debian's graphviz): a well-kept layout beats boxes
placed by hand, and piping text to the program needs no Python package. Where `dot` is
missing, each graph also has a plain list of its edges for the page to show instead.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Callable

from ..analyze.groups import View
from ..analyze.locks import who
from ..model import Lock, ThreadReport
from ..threadlist import thread_range
from .report_html_assets import LIBRARY_COLOUR, ROLE_COLOURS
from .report_parts import printable
from .text import origin_summary

RED = "#d62728"
MANY = 6           # more waiters (or siblings) of one kind than this: one node for them all
DOT_TIMEOUT = 60


@dataclass
class Graph:
    name: str                 # "waits_for", "creation"
    title: str
    dot: str
    edges: list[tuple[str, str, bool]] = field(default_factory=list)  # (from, to, in a cycle)


def quoted(text: str) -> str:
    """A DOT string: backslashes and quotes escaped, control characters made visible, and
    the label's own line breaks as DOT's."""
    lines = (printable(line).replace("\\", "\\\\").replace('"', '\\"') for line in text.split("\n"))
    return '"%s"' % "\\n".join(lines)


def _attrs(**attrs: str) -> str:
    return "[%s]" % ", ".join("%s=%s" % (k, quoted(v)) for k, v in attrs.items() if v)


def thread_label(report: ThreadReport) -> str:
    s, v = report.snapshot, report.verdict
    lines = [who(report)]
    if s.lwp is not None and s.num is not None:
        lines[0] += " (LWP %d)" % s.lwp
    if v.detail:
        lines.append(v.detail)
    elif s.name and v.role == "unknown":  # nothing else tells what it is
        lines.append('"%s"' % s.name)
    return "\n".join(lines)


class _Builder:
    def __init__(self, name: str) -> None:
        self.name = name
        self.lines = ["digraph %s {" % name, '  graph [rankdir=LR, fontname="sans-serif", fontsize=10];',
                      '  node [fontname="sans-serif", fontsize=10, shape=box, style="rounded"];',
                      '  edge [fontname="sans-serif", fontsize=9];']
        self.labels: dict[str, str] = {}
        self.edges: list[tuple[str, str, bool]] = []

    def node(self, ident: str, label: str, red: bool = False, tooltip: str = "",
             role_of: ThreadReport | None = None, **extra: str) -> None:
        """A box; `role_of` tints it with that thread's role colour, as in the page's legend."""
        if ident in self.labels:
            return
        self.labels[ident] = label
        attrs = dict(label=label, tooltip=tooltip or label, **extra)
        if role_of is not None:
            colour = ROLE_COLOURS.get(role_of.verdict.role, LIBRARY_COLOUR)
            attrs.update(style="rounded,filled", fillcolor=colour + "40")  # a quarter strong
        if red:
            attrs.update(color=RED, fontcolor=RED, penwidth="2")
        self.lines.append("  %s %s;" % (ident, _attrs(**attrs)))

    def edge(self, head: str, tail: str, label: str = "", red: bool = False, **extra: str) -> None:
        attrs = dict(label=label, **extra)
        if red:
            attrs.update(color=RED, fontcolor=RED, penwidth="2.5")
        self.lines.append("  %s -> %s %s;" % (head, tail, _attrs(**attrs)))
        self.edges.append(("%s" % self.labels[head].replace("\n", ", "),
                           "%s" % self.labels[tail].replace("\n", ", ") + (" (%s)" % label if label else ""),
                           red))

    def graph(self, title: str) -> Graph:
        return Graph(self.name, title, "\n".join(self.lines + ["}"]) + "\n", self.edges)


def waits_for_graph(view: View) -> Graph | None:
    """Threads -> the lock they wait for -> its holder; events by kind; None if nobody waits."""
    report = view.locks
    if not report.locks and not report.events:
        return None
    ids = {id(r): "t%d" % i for i, r in enumerate(view.analysis.reports)}
    in_cycle = {entry["lwp"] for cycle in report.deadlocks for entry in cycle}
    out = _Builder("waits_for")

    def thread_node(r: ThreadReport) -> str:
        red = r.snapshot.lwp in in_cycle
        out.node(ids[id(r)], thread_label(r), red, tooltip="%s\n%s" % (thread_label(r), r.verdict.evidence),
                 role_of=r)
        return ids[id(r)]

    for index, lock in enumerate(report.locks):
        lock_id = "l%d" % index
        # In a cycle: held by a member of one and waited for by a member of it.
        red = (lock.owner is not None and lock.owner.snapshot.lwp in in_cycle
               and any(w.snapshot.lwp in in_cycle for w in lock.waiters))
        out.node(lock_id, lock_label(lock), red, shape="box", style="filled",
                 fillcolor="#fde0dd" if red else "#f0f0f0")
        owners = {id(lk.owner) for lk in report.locks if lk.owner is not None}
        single = [w for w in lock.waiters if w.snapshot.lwp in in_cycle or id(w) in owners]
        rest = [w for w in lock.waiters if w not in single]
        if len(rest) > MANY:
            crowd = "w%d" % index
            out.node(crowd, "%d threads\n%s" % (len(rest), thread_range(rest)), role_of=rest[0])
            out.edge(crowd, lock_id, "wait for")
        else:
            single += rest
        for waiter in single:
            cyclic = waiter.snapshot.lwp in in_cycle and red
            out.edge(thread_node(waiter), lock_id, "waits for", cyclic)
        if lock.owner is not None:
            out.edge(lock_id, thread_node(lock.owner), "held by", red, tooltip=lock.held_at or "")
        elif lock.problem or lock.owner_lwp is not None:
            ghost = "g%d" % index
            out.node(ghost, lock.problem or "LWP %s" % lock.owner_lwp, style="dashed")
            out.edge(lock_id, ghost, "held by", style="dashed")
    _event_nodes(out, view, thread_node)
    return out.graph("Who waits for whom")


def _event_nodes(out: _Builder, view: View, thread_node: Callable[[ThreadReport], str]) -> None:
    """One node per kind of event wait (128 halted vCPUs, each on its own halt_cond, are one),
    dashed: nobody owns an event."""
    kinds: dict[tuple[str, str, str], list[ThreadReport]] = {}
    objects: dict[tuple[str, str, str], set[str]] = {}
    for r, doc in view.locks.events:
        key = (str(doc.get("type") or "event"), str(doc.get("name") or ""), str(doc.get("waits_at") or ""))
        kinds.setdefault(key, []).append(r)
        objects.setdefault(key, set()).add(str(doc.get("address") or "?"))
    for index, ((kind, name, where), members) in enumerate(kinds.items()):
        event = "e%d" % index
        count = len(objects[(kind, name, where)])
        what = name or (objects[(kind, name, where)].pop() if count == 1 else "%d objects" % count)
        out.node(event, "%s %s\n(an event: no owner)" % (kind, what), shape="ellipse", style="dashed")
        if len(members) > MANY:
            crowd = "ew%d" % index
            out.node(crowd, "%d threads\n%s" % (len(members), thread_range(members)), role_of=members[0])
            out.edge(crowd, event, "wait in %s" % where if where else "wait", style="dashed")
        else:
            for r in members:
                out.edge(thread_node(r), event, "waits in %s" % where if where else "waits",
                         style="dashed")


def lock_label(lock: Lock) -> str:
    head = lock.name or lock.type
    if lock.name and lock.type != "mutex":
        head += " (%s)" % lock.type
    address = "0x%x" % lock.address if lock.address is not None else ""
    return "\n".join(part for part in (head, address, lock.problem or "") if part)


def creation_graph(view: View) -> Graph | None:
    """Creator -> created, from the origins recorded; None where nothing was recorded."""
    reports = view.analysis.reports
    if not any(r.snapshot.origin is not None or r.snapshot.parent_lwp is not None for r in reports):
        return None
    ids = {id(r): "t%d" % i for i, r in enumerate(reports)}
    by_lwp = {r.snapshot.lwp: r for r in reports if r.snapshot.lwp is not None}
    out = _Builder("creation")
    children: dict[int, list[ThreadReport]] = {}
    for r in reports:
        parent = by_lwp.get(r.snapshot.parent_lwp) if r.snapshot.parent_lwp is not None else None
        if parent is None:
            out.node(ids[id(r)], _created_label(r), tooltip=r.verdict.evidence, role_of=r)
        else:
            children.setdefault(id(parent), []).append(r)
    for parent_id, kids in children.items():
        parent = next(r for r in reports if id(r) == parent_id)
        out.node(ids[parent_id], _created_label(parent), tooltip=parent.verdict.evidence, role_of=parent)
        kinds: dict[tuple[str, str], list[ThreadReport]] = {}
        for kid in kids:
            kinds.setdefault((kid.verdict.role, origin_summary(kid.snapshot.origin)), []).append(kid)
        for (role, made_in), members in kinds.items():
            if len(members) > MANY and not any(id(m) in children for m in members):
                crowd = "c%s_%d" % (ids[parent_id], len(out.labels))
                label = "%d x %s\n%s" % (len(members), role, thread_range(members))
                out.node(crowd, label, role_of=members[0])
                out.edge(ids[parent_id], crowd, made_in)
                continue
            for kid in members:
                out.node(ids[id(kid)], _created_label(kid), tooltip=kid.verdict.evidence, role_of=kid)
                out.edge(ids[parent_id], ids[id(kid)], made_in)
    return out.graph("Which thread created which")


def _created_label(report: ThreadReport) -> str:
    label = thread_label(report)
    name = report.snapshot.name
    return label if name is None or '"%s"' % name in label else '%s\n"%s"' % (label, name)


def graphs(view: View) -> list[tuple[str, Graph | None]]:
    return [("waits_for", waits_for_graph(view)), ("creation", creation_graph(view))]


def dot_text(view: View) -> str:
    """Both graphs as DOT, one after the other in one text (`dot` reads every graph in a file)."""
    found = [graph.dot for _, graph in graphs(view) if graph is not None]
    return "".join(found) if found else "digraph empty {\n}\n"


def to_svg(dot: str) -> str | None:
    """The SVG Graphviz draws (its XML prologue and doctype cut, to inline it), or None."""
    program = shutil.which("dot")
    if program is None:
        return None
    try:
        done = subprocess.run([program, "-Tsvg"], input=dot, capture_output=True, text=True,
                              timeout=DOT_TIMEOUT, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0 or "<svg" not in done.stdout:
        return None
    svg = done.stdout[done.stdout.index("<svg"):]
    return re.sub(r"<!--.*?-->\n?", "", svg, flags=re.S)
