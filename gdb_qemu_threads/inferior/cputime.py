"""Each thread's CPU time at the stop, from /proc/PID/task/TID/stat (a live local process).

One snapshot cannot tell a thread spinning through its loop from one asleep there; the CPU
time it has used since it started, over its age, is a first hint: near one CPU all along is a
busy or spinning thread. Stopped threads use no CPU, so this reads what was used until now.
On a loaded host, or under a CPU quota, a spinning thread gets less than a CPU; the time it
spent ready to run (on a CPU or waiting in a run queue, /proc/PID/task/TID/schedstat) still
fills its age, while a thread that sleeps is seldom ready.
"""
from __future__ import annotations

import os
from typing import Sequence

import gdb

from ..model import ThreadSnapshot
from .process import is_local_live

# /proc/PID/task/TID/stat fields after the ")" that ends the name (proc(5), counted from 3).
UTIME, STIME, STARTTIME = 14 - 3, 15 - 3, 22 - 3


def _uptime() -> float:
    with open("/proc/uptime") as handle:
        return float(handle.read().split()[0])


def _share(seconds: float, age: float) -> float:
    return min(seconds / age, 1.0) if age > 0 else 0.0


def _ready_seconds(task: str) -> float | None:
    """Time on a CPU plus time waiting for one (nanoseconds in schedstat's first two fields)."""
    try:
        with open(task + "/schedstat") as handle:
            run, wait = handle.read().split()[:2]
        return (int(run) + int(wait)) / 1e9
    except (OSError, ValueError):
        return None  # a kernel without scheduler statistics


def _times(snap: ThreadSnapshot, lwp: int, pid: int, ticks: int, uptime: float) -> None:
    task = "/proc/%d/task/%d" % (pid, lwp)
    try:
        with open(task + "/stat", "rb") as handle:  # a name is any bytes
            fields = handle.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return  # exited since, or not ours
    facts = snap.facts
    age = uptime - int(fields[STARTTIME]) / ticks
    facts.cpu_seconds = (int(fields[UTIME]) + int(fields[STIME])) / ticks
    facts.cpu_share = _share(facts.cpu_seconds, age)
    facts.ready_seconds = _ready_seconds(task)
    if facts.ready_seconds is not None:
        facts.ready_share = _share(facts.ready_seconds, age)


def cpu_times(inferior: gdb.Inferior, snapshots: Sequence[ThreadSnapshot]) -> None:
    """Each snapshot's CPU and ready-to-run seconds and shares since it started, where /proc
    has them."""
    if not is_local_live(inferior):
        return
    ticks = os.sysconf("SC_CLK_TCK")
    uptime = _uptime()
    for snap in snapshots:
        if snap.lwp:
            _times(snap, snap.lwp, inferior.pid, ticks, uptime)
