"""Lists of threads in gdb's own syntax ("5-132 140"), so they paste into `thread apply`."""
from __future__ import annotations

from typing import Sequence

from .model import ThreadReport


def number_ranges(numbers: Sequence[int]) -> str:
    """[1, 2, 3, 5, 7, 8] -> "1-3 5 7-8": gdb's thread ID lists take spaces, not commas."""
    out: list[str] = []
    ordered = sorted(set(numbers))
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        out.append(str(ordered[i]) if i == j else "%d-%d" % (ordered[i], ordered[j]))
        i = j + 1
    return " ".join(out)


def thread_range(reports: Sequence[ThreadReport]) -> str:
    """"thread 3", "threads 5-132 140" (threads without a gdb number by their LWP)."""
    nums = [r.snapshot.num for r in reports if r.snapshot.num is not None]
    parts = [number_ranges(nums)] if nums else []
    parts += ["LWP %s" % r.snapshot.lwp for r in reports if r.snapshot.num is None]
    return ("thread %s" if len(reports) == 1 else "threads %s") % ", ".join(parts)
