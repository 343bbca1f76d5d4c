"""Why is it hung, why did it crash: one short diagnosis of a whole process. Pure, no gdb.

From the threads' states (crashed, blocked, lock, idle at their home point) and the lock
report (owners, deadlock cycles, gaps), it names the chain from a symptom to its root with
gdb thread numbers, or says that nothing looks hung and on what that rests. It never claims
more than the facts show: what could not be read is said.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from ..model import Analysis, ThreadReport
from ..signatures import DEFAULT_TABLE, SignatureTable
from ..threadlist import thread_range
from .chains import chain_text, follow, label, lock_name, ownerless_notes
from .home import AT_HOME, NO_HOME, UNSURE, home_of, judge

# How the quiet verdict counts threads by state.
STATE_WORDS = {"guest": "in the guest", "io": "in I/O", "running": "running",
               "unknown": "in an unknown state"}

# A thread that has used, or been ready to run, at least this share of the time since it
# started is named as busy; its readiness is told when it exceeds its CPU share by READY_MORE.
BUSY_SHARE = 0.5
READY_MORE = 0.2
BUSY_SHOWN = 5

# Kinds, most telling first: the first that applies is the verdict's kind.
KINDS = ("crash", "deadlock", "blocked", "lock-wait", "not-hung", "unknown")


@dataclass
class Diagnosis:
    kind: str
    summary: str
    chain: list[int | None] = field(default_factory=list)  # gdb thread numbers, symptom -> root
    facts: list[str] = field(default_factory=list)

    def doc(self) -> dict[str, Any]:
        return {"kind": self.kind, "summary": self.summary, "chain": self.chain, "facts": self.facts}


def _crash_text(report: ThreadReport) -> str:
    return "%s crashed: %s" % (label(report), report.verdict.activity)


def _nums(reports: Sequence[ThreadReport]) -> list[int | None]:
    return [r.snapshot.num for r in reports]


def _lock_chains(analysis: Analysis) -> list[list[ThreadReport]]:
    return [follow(analysis, r, ownerless=False) for r in analysis.reports
            if id(r) in analysis.locks.waits]


def _waiters_of(chains: list[list[ThreadReport]], root: ThreadReport) -> list[ThreadReport]:
    """The threads whose lock chain ends at root, longest chain first."""
    ending = sorted((c for c in chains if c[-1] is root), key=len, reverse=True)
    out: list[ThreadReport] = []
    for chain in ending:
        out += [r for r in chain[:-1] if all(r is not o for o in out)]
    return out


def _blocked_chain(analysis: Analysis, chains: list[list[ThreadReport]],
                   report: ThreadReport) -> list[ThreadReport]:
    """The longest lock chain that ends at a blocked thread, then whom that one waits for."""
    ending = [c for c in chains if c[-1] is report]
    head = max(ending, key=len)[:-1] if ending else []
    return head + follow(analysis, report)


def _deadlock_text(analysis: Analysis, cycle: Sequence[dict[str, Any]]) -> tuple[str, list[int | None]]:
    by_num = {r.snapshot.num: r for r in analysis.reports}
    members = [by_num[entry["num"]] for entry in cycle if entry["num"] in by_num]
    ring = members + members[:1]
    parts = ["%s waits for %s held by %s" % (label(a), lock_name(analysis, a), label(b))
             for a, b in zip(ring, ring[1:])]
    return "; ".join(parts) + ": a deadlock", [entry["num"] for entry in cycle]


def _busyness(cpu: float | None, ready: float | None) -> float:
    """The larger of its CPU share and its ready-to-run share (a loaded host gives it less CPU)."""
    return max(cpu or 0.0, ready or 0.0)


def _busy(cpu: float | None, ready: float | None) -> bool:
    return _busyness(cpu, ready) >= BUSY_SHARE


def _ready_text(cpu: float | None, ready: float | None) -> str:
    """How long it waited for a CPU as well, when that tells more than its CPU share."""
    if ready is None or ready - (cpu or 0.0) < READY_MORE:
        return ""
    return " and was ready to run %d%% of the time" % round(100 * ready)


def _cpu_facts(analysis: Analysis) -> list[str]:
    """The threads that have used, or waited for, most of a CPU since they started (live local
    processes)."""
    busy = sorted((r for r in analysis.reports
                   if _busy(r.snapshot.facts.cpu_share, r.snapshot.facts.ready_share)),
                  key=lambda r: -_busyness(r.snapshot.facts.cpu_share, r.snapshot.facts.ready_share))
    out = []
    for report in busy[:BUSY_SHOWN]:
        facts = report.snapshot.facts
        out.append("%s has used %d%% of a CPU since it started (%.1f s of CPU)%s: busy or spinning"
                   % (label(report), round(100 * (facts.cpu_share or 0.0)), facts.cpu_seconds or 0.0,
                      _ready_text(facts.cpu_share, facts.ready_share)))
    return out


def _sample_facts(analysis: Analysis) -> list[str]:
    """With --sample: the busy, spinning and stuck threads; else the CPU used since start."""
    sampled = [r for r in analysis.reports if (r.snapshot.facts.samples or 0) > 1]
    if not sampled:
        return _cpu_facts(analysis)
    out = []
    for report in sampled:
        facts = report.snapshot.facts
        share, ready = facts.sample_cpu_share, facts.sample_ready_share
        states = facts.sample_states
        stuck = all(s in ("blocked", "lock") for s in states)
        if _busy(share, ready):
            what = "busy" if facts.sample_moved else "spinning in one place"
        elif stuck and not facts.sample_moved:
            what = "stuck"
        else:
            continue
        counts = ", ".join("%s in %d" % (s, states.count(s)) for s in dict.fromkeys(states))
        cpu = "%d%% of a CPU%s, " % (round(100 * share), _ready_text(share, ready)) \
            if share is not None else ""
        out.append("%s: %sstack %s, %s of %d samples: %s" % (
            label(report), cpu, "moving" if facts.sample_moved else "still", counts,
            facts.samples or 0, what))
    return out


def _not_judged(analysis: Analysis) -> list[str]:
    """What the verdict could not judge: unread stacks, unknown states, the lock gaps."""
    facts = list(analysis.locks.gaps)
    unknown = [r for r in analysis.reports
               if r.verdict.state == "unknown" and r.verdict.role != "kernel-worker"
               and not (r.snapshot.unreadable and not r.snapshot.frames)]
    if unknown:
        facts.append("the state of %s is unknown" % thread_range(unknown))
    return facts


def diagnose(analysis: Analysis, table: SignatureTable = DEFAULT_TABLE) -> Diagnosis:
    """The verdict on a whole process; `table` gives the home points (the analysis's)."""
    reports = analysis.reports
    crashed = [r for r in reports if r.verdict.state == "crashed"]
    blocked = [r for r in reports if r.verdict.state == "blocked"]
    waiting = [r for r in reports if id(r) in analysis.locks.waits]
    lock_chains = _lock_chains(analysis)
    findings: list[tuple[str, str, list[int | None]]] = []
    for report in crashed:
        waiters = _waiters_of(lock_chains, report)
        text = _crash_text(report)
        if waiters:
            text += "; %s wait%s for a lock %s holds" % (
                thread_range(waiters), "s" if len(waiters) == 1 else "", label(report))
        findings.append(("crash", text, _nums(waiters) + [report.snapshot.num]))
    for cycle in analysis.locks.deadlocks:
        text, nums = _deadlock_text(analysis, cycle)
        findings.append(("deadlock", text, nums))
    chains = sorted((_blocked_chain(analysis, lock_chains, r) for r in blocked), key=len,
                    reverse=True)
    told: list[ThreadReport] = []
    for chain in chains:
        if any(r is t for r in chain for t in told):
            continue  # a part of a longer chain told already
        told += chain
        text = chain_text(analysis, chain)
        root = next(r for r in chain if r.verdict.state == "blocked")
        more = [r for r in _waiters_of(lock_chains, root) if all(r is not c for c in chain)]
        if more:
            text += "; %s also wait%s for locks %s holds" % (
                thread_range(more), "s" if len(more) == 1 else "", label(root))
        findings.append(("blocked", text, _nums(chain)))
    in_cycle = {entry["num"] for cycle in analysis.locks.deadlocks for entry in cycle}
    accounted = {id(r) for r in crashed + blocked}
    holders = {id(lock.owner) for lock in analysis.locks.locks if lock.owner and lock.waiters}
    for report in waiting:
        chain = follow(analysis, report, ownerless=False)
        if any(c.snapshot.num in in_cycle for c in chain) or id(chain[-1]) in accounted \
                or id(report) in holders:
            continue  # told above, or a link inside a longer chain told below
        findings.append(("lock-wait", chain_text(analysis, chain), _nums(chain)))
    gaps = ownerless_notes(analysis) + _sample_facts(analysis) + _not_judged(analysis)
    if findings:
        kind, summary, numbers = findings[0]
        return Diagnosis(kind, _sentence(summary), numbers,
                         [_sentence(text) for _, text, _ in findings[1:]] + gaps)
    return _quiet(analysis, gaps, table)


def _quiet(analysis: Analysis, gaps: list[str], table: SignatureTable) -> Diagnosis:
    """No crash, no deadlock, no blocked thread, no lock wait: say so, and on what it rests."""
    reports = analysis.reports
    if not reports or all(not r.snapshot.frames for r in reports):
        return Diagnosis("unknown", "No stack could be read: no verdict.", [], gaps)
    counts: dict[str, int] = {}
    standing: dict[str, list[ThreadReport]] = {}
    for report in reports:
        if report.verdict.role == "kernel-worker":
            continue  # the kernel's own workers: no user-space stack to judge
        state = report.verdict.state
        if state == "idle":
            where = judge(report, home_of(report, table))[0]
            standing.setdefault(where, []).append(report)
            state = "at home" if where == AT_HOME else "asleep, home not judged"
        counts[state] = counts.get(state, 0) + 1
    homeless = standing.get(NO_HOME, [])
    unsure = standing.get(UNSURE, [])
    said = ", ".join("%d %s" % (n, STATE_WORDS.get(s, s))
                     for s, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    tell = " as far as the frames tell" if unsure or homeless else ""
    summary = "Nothing looks hung%s: no thread crashed, is blocked away from its home point " \
              "or waits for a lock (threads: %s)." % (tell, said)
    facts = []
    if unsure:
        facts.append("%s sleep%s where the frames cannot tell whether it is %s home point "
                     "(no function name for QEMU's own frame, or the stack was cut): not judged"
                     % (thread_range(unsure), "s" if len(unsure) == 1 else "",
                        "its" if len(unsure) == 1 else "their"))
    if homeless:
        facts.append("%s sleep%s where no home point is known for %s role: not judged"
                     % (thread_range(homeless), "s" if len(homeless) == 1 else "",
                        "its" if len(homeless) == 1 else "their"))
    busy = [r for r in reports if r.verdict.state == "running"]
    if busy and not any((r.snapshot.facts.samples or 0) > 1 for r in reports):
        facts.append("%s %s running: one snapshot cannot tell busy from spinning"
                     % (thread_range(busy), "is" if len(busy) == 1 else "are"))
    return Diagnosis("not-hung", summary, [], facts + gaps)


def _sentence(text: str) -> str:
    return text if text.endswith(".") else text + "."
