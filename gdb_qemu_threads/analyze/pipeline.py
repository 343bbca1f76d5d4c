"""The one analysis every entry point runs: snapshots -> Analysis. Pure, no gdb.

The gdb command, the offline command line and qemu-thread-origins all call analyze(); none
of them classifies or collects locks on its own.
"""
from __future__ import annotations

from typing import Sequence

from ..model import Analysis, ThreadSnapshot
from ..signatures import DEFAULT_TABLE, SignatureTable
from . import home, locks
from .classify import classify


def analyze(snapshots: Sequence[ThreadSnapshot], table: SignatureTable | None = None,
            pid: int | None = None, held: locks.Held | None = None,
            source: str = "live") -> Analysis:
    """Roles, states and locks of one process's threads, in the order given.

    pid is the process id where known (its main thread's LWP; thread 1 otherwise); `held`
    maps an owner's LWP to {lock address: the frame that holds it}, where a reader found it.
    """
    table = table or DEFAULT_TABLE
    reports = classify(snapshots, table, main_lwp=pid or None)
    home.mark_blocked(reports, table)  # asleep away from its role's home point: blocked
    lock_report = locks.collect(reports, held)
    locks.apply(lock_report)  # the state of a lock's waiters names it and its holder
    return Analysis(reports=reports, locks=lock_report, pid=pid or None, source=source)
