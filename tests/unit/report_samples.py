"""Analyses for the report tests: the saved dumps of tests/data, and a made-up process whose
two threads deadlock (lock words as a live reader would have read them)."""
from __future__ import annotations

from pathlib import Path

from gdb_qemu_threads.analyze.groups import View, view
from gdb_qemu_threads.analyze.pipeline import analyze
from gdb_qemu_threads.dump import parse_dump_text, parse_dumps
from gdb_qemu_threads.model import Analysis, Frame, ThreadFacts, ThreadSnapshot

DATA = Path(__file__).resolve().parents[1] / "data"
DUMPS = sorted(p.name for p in DATA.glob("*.txt"))
LOCK_A, LOCK_B = 0x5555_0000_1000, 0x5555_0000_2000


def offline(snapshots: list[ThreadSnapshot]) -> Analysis:
    """As the offline command line analyses a dump: threads in gdb's order."""
    return analyze(sorted(snapshots, key=lambda s: (s.num is None, s.num or 0)), source="offline")


def dump_views(name: str) -> list[View]:
    with open(DATA / name, encoding="utf-8", errors="replace") as handle:
        return [view(offline(snapshots)) for snapshots in parse_dumps(handle)]


def read_back(text: str) -> Analysis:
    dumps = parse_dump_text(text)
    assert len(dumps) == 1, "the report reads back as one dump, not %d" % len(dumps)
    return offline(dumps[0])


def _waiter(num: int, lwp: int, name: str, waits: int, owner: int) -> ThreadSnapshot:
    frames = [Frame("__futex_abstimed_wait_common", "/lib/x86_64-linux-gnu/libc.so.6", 0x7F00_0000_1000),
              Frame("__pthread_mutex_lock", "/lib/x86_64-linux-gnu/libc.so.6", 0x7F00_0000_2000),
              Frame("take_in_order", None, 0x5555_0000_0100, "../fixture.c", 40 + num),
              Frame("start_thread", "/lib/x86_64-linux-gnu/libc.so.6", 0x7F00_0000_3000)]
    facts = ThreadFacts(wait_args={"pthread_mutex_lock": waits}, lock_words=(2, 0, owner, 1, 0, 0, 0))
    return ThreadSnapshot(num=num, lwp=lwp, name=name, frames=frames, facts=facts)


def deadlock(names: tuple[str, str] = ("abba-1", "abba-2")) -> View:
    main = ThreadSnapshot(num=1, lwp=100, name="qemu-system-x86", frames=[
        Frame("ppoll", "/lib/x86_64-linux-gnu/libc.so.6", 0x7F00_0000_4000),
        Frame("qemu_poll_ns", None, 0x5555_0000_0200, "../util/qemu-timer.c", 339),
        Frame("main_loop_wait", None, 0x5555_0000_0300, "../util/main-loop.c", 596),
        Frame("qemu_main_loop", None, 0x5555_0000_0400, "../softmmu/runstate.c", 731),
        Frame("main", None, 0x5555_0000_0500, "../softmmu/main.c", 38)])
    first = _waiter(2, 101, names[0], LOCK_B, 102)   # waits for B, which #3 holds
    second = _waiter(3, 102, names[1], LOCK_A, 101)  # waits for A, which #2 holds
    return view(analyze([main, first, second], source="live", pid=100))
