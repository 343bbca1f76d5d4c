"""Each thread's CPU time at the stop, from /proc/PID/task/TID/stat (a live local process).

One snapshot cannot tell a thread spinning through its loop from one asleep there; the CPU
time it has used since it started, over its age, is a first hint: near one CPU all along is a
busy or spinning thread. Stopped threads use no CPU, so this reads what was used until now.
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


def _times(pid: int, lwp: int, ticks: int, uptime: float) -> tuple[float, float] | None:
    try:
        with open("/proc/%d/task/%d/stat" % (pid, lwp), "rb") as handle:  # a name is any bytes
            fields = handle.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None  # exited since, or not ours
    used = (int(fields[UTIME]) + int(fields[STIME])) / ticks
    age = uptime - int(fields[STARTTIME]) / ticks
    return used, (used / age if age > 0 else 0.0)


def cpu_times(inferior: gdb.Inferior, snapshots: Sequence[ThreadSnapshot]) -> None:
    """Each snapshot's CPU seconds and share since it started, where /proc has them."""
    if not is_local_live(inferior):
        return
    ticks = os.sysconf("SC_CLK_TCK")
    uptime = _uptime()
    for snap in snapshots:
        found = _times(inferior.pid, snap.lwp, ticks, uptime) if snap.lwp else None
        if found is not None:
            snap.facts.cpu_seconds, snap.facts.cpu_share = found
