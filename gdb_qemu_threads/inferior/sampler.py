"""`--sample N`: a few stops over a short interval, the program running in between.

One snapshot cannot tell a thread spinning through a loop from one asleep in it, nor a busy
thread from a stuck one. Between stops the program runs for INTERVAL seconds; at each stop
every thread's stack and state are read again and its CPU time from /proc. Each thread of
the first reading (the one shown) then carries its CPU share over the samples, whether its
stack moved, and its states.

Only a live process of this machine in all-stop mode, with no thread that received a fatal
signal (continuing would deliver it), is sampled. gdb is told to stop, silently, on the
SIGINT that ends each interval and not to pass it on (QEMU would shut down), and to pass
QEMU's vCPU kicks (SIGUSR1) without stopping; both are restored afterwards, as are the
selected thread and frame. The program is stopped at the end, as it was found.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Callable, Sequence

import gdb

from ..model import ThreadSnapshot
from .process import KeepSelection, is_local_live

INTERVAL = 0.1  # seconds the program runs between two stops
MAX_SAMPLES = 50
# gdb's handling while sampling: SIGINT ends an interval; SIGUSR1 is QEMU's vCPU kick.
# (`noprint` would imply `nostop`: gdb's reports of those stops are discarded instead.)
HANDLING = {"SIGINT": ("stop", "print", "nopass"), "SIGUSR1": ("nostop", "noprint", "pass")}

Read = Callable[[], list[ThreadSnapshot]]
Judge = Callable[[list[ThreadSnapshot]], dict[int, str]]  # snapshots -> {lwp: state}


class SampleError(Exception):
    """Sampling is not possible here: str() is one line."""


def _handling(name: str) -> tuple[str, str, str]:
    """gdb's current handling of a signal, as `handle` words."""
    text = gdb.execute("info signals %s" % name, to_string=True)
    line = next(ln for ln in text.splitlines() if ln.startswith(name + " ") or
                ln.startswith(name + "\t"))
    stop, shown, passed = line.split()[1:4]
    return ("stop" if stop == "Yes" else "nostop", "print" if shown == "Yes" else "noprint",
            "pass" if passed == "Yes" else "nopass")


def _set(name: str, words: Sequence[str]) -> None:
    gdb.execute("handle %s %s" % (name, " ".join(words)), to_string=True)


class _quiet:
    """gdb's report of each interval's stop (\"Thread 1 received signal SIGINT\") would fill the
    screen: gdb's standard output goes to /dev/null meanwhile (gdb prints stops itself,
    whatever `to_string` or logging say)."""

    def __enter__(self) -> None:
        sys.stdout.flush()  # gdb's stream (in gdb, Python's stdout flushes it)
        self.saved = os.dup(1)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.close(null)

    def __exit__(self, *exc: object) -> None:
        sys.stdout.flush()  # gdb's stream (in gdb, Python's stdout flushes it)
        os.dup2(self.saved, 1)
        os.close(self.saved)


def _run_for(pid: int, seconds: float) -> bool:
    """Let the program run for `seconds`; False when it is gone (exited, killed) meanwhile.

    The SIGINT that ends the interval comes from a small process of its own: gdb holds
    Python's lock while `continue` runs, so a Python thread could not send it."""
    timer = subprocess.Popen(["/bin/sh", "-c", "sleep %.3f; kill -INT %d" % (seconds, pid)],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        with _quiet():
            gdb.execute("continue", to_string=True)
    finally:
        if timer.poll() is None:
            timer.kill()
        timer.wait()
    inferior = gdb.selected_inferior()
    return inferior.pid == pid and bool(inferior.threads())


def check_can_sample(first: Sequence[ThreadSnapshot]) -> None:
    inferior = gdb.selected_inferior()
    if not is_local_live(inferior):
        raise SampleError("--sample needs a live process on this machine (not a core file)")
    if gdb.parameter("non-stop"):
        raise SampleError("--sample needs all-stop mode (set non-stop off before attaching)")
    crashed = [s.num for s in first if s.facts.signal]
    if crashed:
        raise SampleError("--sample would deliver the fatal signal thread %s received" % crashed[0])


def sample(count: int, first: list[ThreadSnapshot], read: Read, judge: Judge) -> None:
    """Run and stop the program count - 1 more times after `first`, and write each thread's
    sample facts into `first` (matched by LWP)."""
    if not 2 <= count <= MAX_SAMPLES:
        raise SampleError("--sample takes 2 to %d stops, not %d" % (MAX_SAMPLES, count))
    check_can_sample(first)
    pid = gdb.selected_inferior().pid
    readings = [first]
    walls = [time.monotonic()]
    saved = {name: _handling(name) for name in HANDLING}
    with KeepSelection():
        try:
            for name, words in HANDLING.items():
                _set(name, words)
            for _ in range(count - 1):
                started = time.monotonic()
                if not _run_for(pid, INTERVAL):
                    raise SampleError("the program ended while it was sampled")
                walls.append(walls[-1] + time.monotonic() - started)
                readings.append(read())
        finally:
            for name, words in saved.items():
                _set(name, words)
    _merge(first, readings, walls, judge)


def _merge(first: list[ThreadSnapshot], readings: list[list[ThreadSnapshot]],
           walls: list[float], judge: Judge) -> None:
    states = [judge(reading) for reading in readings]
    by_lwp = [{s.lwp: s for s in reading if s.lwp} for reading in readings]
    running = walls[-1] - walls[0]
    for snap in first:
        if not snap.lwp:
            continue
        seen = [index for index, snaps in enumerate(by_lwp) if snap.lwp in snaps]
        last = by_lwp[seen[-1]][snap.lwp]
        facts = snap.facts
        facts.samples = len(seen)
        facts.sample_states = tuple(states[i].get(snap.lwp, "unknown") for i in seen)
        facts.sample_moved = len({tuple(f.pc for f in by_lwp[i][snap.lwp].frames) for i in seen}) > 1
        facts.sample_cpu_share = _over(facts.cpu_seconds, last.facts.cpu_seconds, running)
        facts.sample_ready_share = _over(facts.ready_seconds, last.facts.ready_seconds, running)


def _over(first: float | None, last: float | None, running: float) -> float | None:
    """Seconds used between the first and the last sample, over the time the program ran."""
    if first is None or last is None or running <= 0:
        return None
    return (last - first) / running
