"""Which records `qemu-thread-origins show` lists, and what each row carries. Pure."""
from __future__ import annotations

from typing import NamedTuple, Sequence

from ..model import Frame, ThreadReport
from ..vocab import THREAD_LIBRARY, canonical
from .store import OriginRecord


class SelectionError(ValueError):
    pass


class OriginRow(NamedTuple):
    """One thread of `show`: its record, what qemu-threads decided of it (live threads of
    the current process only), the creator's gdb number while the creator lives, and whether
    it is the thread gdb has selected."""

    record: OriginRecord
    report: ThreadReport | None = None
    parent_num: int | None = None
    current: bool = False


def select(records: Sequence[OriginRecord], words: Sequence[str]) -> list[OriginRecord]:
    """The records named by `words`: gdb thread numbers, `lwp:N`, or an LWP given bare.

    A bare number names the live thread with that gdb number, else the thread with that LWP.
    """
    if not words:
        return list(records)
    chosen: list[OriginRecord] = []
    for word in words:
        if word.startswith("lwp:") and word[4:].isdigit():
            lwp = int(word[4:])
            hits = [r for r in records if r.lwp == lwp]
        elif word.isdigit():
            n = int(word)
            hits = [r for r in records if r.alive and r.num == n] or [r for r in records if r.lwp == n]
        else:
            raise SelectionError("%s is not a thread number, an LWP or lwp:N" % word)
        if not hits:
            raise SelectionError("no recorded creation of thread %s" % word)
        for record in hits:
            if record not in chosen:
                chosen.append(record)
    chosen.sort(key=lambda r: r.seq)
    return chosen


def caller_frames(frames: Sequence[Frame]) -> list[Frame]:
    """The frames above the thread library: who asked for the thread."""
    i = 0
    while i < len(frames) and (frames[i].name == "??" or canonical(frames[i].function) in THREAD_LIBRARY):
        i += 1
    return list(frames[i:]) if i < len(frames) else list(frames)


def short_chain(frames: Sequence[Frame], depth: int = 4) -> str:
    """`qemu_thread_create <- iothread_complete <- ...`, innermost caller first."""
    callers = caller_frames(frames)
    names = [f.name for f in callers[:depth]]
    text = " <- ".join(names)
    if len(callers) > depth:
        text += " <- ..."
    return text or "-"
