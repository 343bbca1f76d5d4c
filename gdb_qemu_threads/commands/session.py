"""The selected inferior -> an Analysis, with the user's settings: what every command runs."""
from __future__ import annotations

from typing import Callable

import gdb

from ..analyze.pipeline import analyze
from ..inferior import recorder
from ..inferior.reader import NoProcess, Reading, read_process
from ..inferior.sampler import SampleError, sample
from ..model import Analysis
from .settings import settings

# OS names of threads that --annotate renamed in gdb, by (inferior, lwp).
os_names: dict[tuple[int, int], str | None] = {}


def name_decides() -> Callable[[str | None], bool]:
    """Whether a thread name alone decides a role, by the signatures in use."""
    table = settings().table()
    return lambda name: table.by_name(name) is not None


def analyze_selected(want_lines: bool = False,
                     named_decides: Callable[[str | None], bool] | None = None,
                     samples: int = 1, cpu: bool = False) -> Analysis:
    """Read every thread of the selected inferior and analyse them.

    named_decides(name) says a name alone decides a role, so such threads are unwound only
    as deep as their state needs; leave it None where whole stacks are wanted. samples > 1
    runs the program between that many stops (inferior/sampler.py); the first is shown.
    `cpu` reads each thread's CPU time too (sampling always does)."""
    config = settings()
    table = config.table()

    def read() -> Reading:
        return read_process(config.frames(), want_lines=want_lines, os_names=os_names,
                            named_decides=named_decides,
                            reuse_stacks=bool(config.reuse_stacks.value),
                            origin_of=recorder.origin_of, cpu=cpu or samples != 1)
    try:
        reading = read()
        if samples != 1:
            sample(samples, reading.snapshots, lambda: read().snapshots,
                   lambda snaps: {r.snapshot.lwp or 0: r.verdict.state
                                  for r in analyze(snaps, table, pid=reading.pid).reports})
    except (NoProcess, SampleError) as err:
        raise gdb.GdbError("qemu-threads: %s" % err) from None
    return analyze(reading.snapshots, table, pid=reading.pid, held=reading.held,
                   source=reading.source)
