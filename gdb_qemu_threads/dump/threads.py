"""The threads of the dumps read so far: which snapshot a thread number or LWP names, and
when a thread shown again means that a new dump has begun.

One text often holds an `info threads` table and a `thread apply all bt` of the same
threads (one dump: the two are merged), or several `thread apply all bt` runs one after the
other (several dumps: the same thread in a second block starts the next one).
"""
from __future__ import annotations

from typing import Optional, Tuple

from ..model import ThreadSnapshot

Ident = Tuple[Optional[int], Optional[int], Optional[str]]  # (num, lwp, name)


class Dump:
    """The snapshots of one dump, with what is needed to merge a table with backtraces."""

    __slots__ = ("threads", "by_num", "by_lwp", "rowed", "applied", "has_rows")

    def __init__(self) -> None:
        self.threads: list[ThreadSnapshot] = []
        self.by_num: dict[int, ThreadSnapshot] = {}
        self.by_lwp: dict[int, ThreadSnapshot] = {}
        self.rowed: set[int] = set()     # id() of threads with an `info threads` row
        self.applied: set[int] = set()   # id() of threads with a `thread apply` block
        self.has_rows = False

    def find(self, num: int | None, lwp: int | None) -> tuple[ThreadSnapshot | None, bool]:
        """The thread with this number (or else LWP), and whether the ids contradict it."""
        snap = self.by_num.get(num) if num is not None else None
        if snap is None and lwp is not None:
            snap = self.by_lwp.get(lwp)
        if snap is None:
            return None, False
        clash = ((lwp is not None and snap.lwp is not None and snap.lwp != lwp)
                 or (num is not None and snap.num is not None and snap.num != num))
        return snap, clash

    def add(self, num: int | None, lwp: int | None, name: str | None) -> ThreadSnapshot:
        snap = ThreadSnapshot(num=num, lwp=lwp, name=name)
        self.threads.append(snap)
        self.register(snap)
        return snap

    def register(self, snap: ThreadSnapshot) -> None:
        if snap.num is not None:
            self.by_num.setdefault(snap.num, snap)
        if snap.lwp is not None:
            self.by_lwp.setdefault(snap.lwp, snap)

    def merge(self, snap: ThreadSnapshot, num: int | None, lwp: int | None,
              name: str | None) -> None:
        """What a later line tells of a known thread, where it was not known yet."""
        fill(snap, num, lwp, name)
        self.register(snap)


class Threads:
    """Every dump found so far; the last one is the one being read."""

    def __init__(self) -> None:
        self.dumps: list[Dump] = [Dump()]

    @property
    def current(self) -> Dump:
        return self.dumps[-1]

    def new_dump(self) -> Dump:
        dump = Dump()
        self.dumps.append(dump)
        return dump

    def table_header(self) -> None:
        """An `info threads` header: a new table, so a new dump if this one has one already."""
        if self.dumps[-1].has_rows:
            self.new_dump()

    def apply_all(self) -> None:
        """A `thread apply all` command: a new dump if this one has such blocks already."""
        if self.dumps[-1].applied:
            self.new_dump()

    def row(self, num: int | None, lwp: int | None, name: str | None) -> ThreadSnapshot:
        """The thread of an `info threads` row (a second row for it starts a new dump)."""
        dump = self.dumps[-1]
        snap, clash = dump.find(num, lwp)
        if clash or (snap is not None and id(snap) in dump.rowed):
            dump = self.new_dump()
            snap = None
        if snap is None:
            snap = dump.add(num, lwp, name)
            snap.complete = False
        else:
            dump.merge(snap, num, lwp, name)
        if name is not None:
            snap.name = name
        dump.rowed.add(id(snap))
        dump.has_rows = True
        return snap

    def header(self, num: int | None, lwp: int | None, name: str | None) -> ThreadSnapshot:
        """The thread of a `thread apply` header (a second block for it starts a new dump)."""
        dump = self.dumps[-1]
        snap, clash = dump.find(num, lwp)
        if clash or (snap is not None and id(snap) in dump.applied):
            dump = self.new_dump()  # the same thread again: a later `thread apply all bt`
            snap = None
        if snap is None:
            snap = dump.add(num, lwp, name)
        else:
            dump.merge(snap, num, lwp, name)
        dump.applied.add(id(snap))
        return snap

    def selected(self, ident: Ident | None) -> ThreadSnapshot:
        """The thread gdb has selected, for frames with no header of their own (a thread of
        its own when the text does not say which one is selected)."""
        dump = self.dumps[-1]
        if ident is None:
            return dump.add(None, None, None)
        num, lwp, name = ident
        snap, clash = dump.find(num, lwp)
        if clash:
            dump = self.new_dump()
            snap = None
        if snap is None:
            return dump.add(num, lwp, name)
        dump.merge(snap, num, lwp, name)
        return snap

    def claim(self, snap: ThreadSnapshot, num: int | None, lwp: int | None,
              name: str | None) -> None:
        """Give a thread read without ids these ids, unless another thread has them."""
        dump = self.dumps[-1]
        if dump.find(num, lwp)[0] is None:
            dump.merge(snap, num, lwp, name)

    def has_block(self, snap: ThreadSnapshot) -> bool:
        """Whether the thread has a `thread apply` block in the current dump."""
        return id(snap) in self.dumps[-1].applied

    def finish(self) -> list[list[ThreadSnapshot]]:
        for dump in self.dumps:
            for snap in dump.threads:
                if not snap.frames:
                    snap.complete = False
        return [dump.threads for dump in self.dumps if dump.threads]


def thread_number(num: str | None, sub: str | None) -> int | None:
    """gdb's thread number; "2.3" (inferior 2, thread 3) gives 3."""
    return to_int(sub if sub is not None else num)


def to_int(text: str | None) -> int | None:
    return int(text) if text else None


def fill(snap: ThreadSnapshot, num: int | None, lwp: int | None, name: str | None) -> None:
    if snap.num is None:
        snap.num = num
    if snap.lwp is None:
        snap.lwp = lwp
    if snap.name is None:
        snap.name = name
