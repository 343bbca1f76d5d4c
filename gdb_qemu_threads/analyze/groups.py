"""What a view shows: the threads filters let through, groups of identical stacks, counts."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from ..model import ROLES, Analysis, LockReport, ThreadReport
from . import locks


@dataclass
class View:
    """The part of an analysis that a command's filters chose."""

    analysis: Analysis
    reports: list[ThreadReport]
    locks: LockReport              # with filters: only what concerns the chosen threads
    filtered: bool


def view(analysis: Analysis, roles: Sequence[str] = (), states: Sequence[str] = (),
         threads: Sequence[str] = ()) -> View:
    chosen = select(analysis.reports, roles, states, threads)
    filtered = len(chosen) != len(analysis.reports)
    lock_report = locks.involving(analysis.locks, chosen) if filtered else analysis.locks
    return View(analysis, chosen, lock_report, filtered)


def select(reports: Iterable[ThreadReport], roles: Sequence[str] = (), states: Sequence[str] = (),
           threads: Sequence[str] = ()) -> list[ThreadReport]:
    """The reports the filters let through; `threads` are gdb numbers or lwp:N."""
    nums = {int(t) for t in threads if t.isdigit()}
    lwps = {int(t.split(":", 1)[1]) for t in threads if t.startswith("lwp:")}
    chosen = []
    for r in reports:
        if roles and r.verdict.role not in roles:
            continue
        if states and r.verdict.state not in states:
            continue
        if threads and r.snapshot.num not in nums and r.snapshot.lwp not in lwps:
            continue
        chosen.append(r)
    return chosen


def groups(reports: Sequence[ThreadReport]) -> list[list[ThreadReport]]:
    """Threads with identical stacks (function names), biggest group first."""
    by_key: dict[tuple[Any, ...], list[ThreadReport]] = {}
    for r in reports:
        key = (r.verdict.role, r.snapshot.stack_key())
        by_key.setdefault(key, []).append(r)
    return sorted(by_key.values(), key=lambda g: -len(g))


def summary(reports: Sequence[ThreadReport]) -> dict[str, int]:
    """Threads per role, in the contract's role order."""
    counts = Counter(r.verdict.role for r in reports)
    return {role: counts[role] for role in ROLES if counts[role]}


def missing_threads(analysis: Analysis, threads: Sequence[str]) -> list[str]:
    """The words of a thread selection (gdb numbers, lwp:N) that name no thread read."""
    nums = {r.snapshot.num for r in analysis.reports}
    lwps = {r.snapshot.lwp for r in analysis.reports}
    return [t for t in threads
            if (t.isdigit() and int(t) not in nums) or (t.startswith("lwp:") and int(t[4:]) not in lwps)]
