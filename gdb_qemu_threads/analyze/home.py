"""Home points: where a thread of each role sleeps when all is well. Pure, no gdb.

A thread asleep (`idle`) anywhere else is `blocked`, and its activity says on what it waits and
in which QEMU function: "QemuCond qemu_pause_cond in pause_all_vcpus", or, for an event loop
run inside another function, "nested aio_poll in bdrv_drain_all_begin <- qmp_blockdev_del".
Where the frames cannot tell (no home known for the role, an unnamed frame of the program, a
stack cut before the caller that decides), the thread stays `idle`: unknown beats wrong.
"""
from __future__ import annotations

from typing import Sequence

from ..model import Frame, ThreadReport
from ..signatures import Signature, SignatureTable
from ..vocab import NESTED_LOOPS, THREAD_START, canonical, is_libc_frame, is_plumbing
from .waits import symbol_of, wait_site

# How a sleeping thread stands to its role's home point.
AT_HOME, AWAY, UNSURE, NO_HOME = "home", "away", "unsure", "no home"


# Libraries whose unnamed frames are their own plumbing (GLib's static g_main_context_iterate),
# unlike an unnamed frame of QEMU's executable or of one of its modules.
PLUMBING_LIBRARIES = ("libglib-2.0.so", "libgio-2.0.so")

# How many callers of a nested event loop its activity names.
NESTED_CALLERS = 2


def own_frame(frames: Sequence[Frame]) -> int | None:
    """Index of the first frame of QEMU's own code past the wait's plumbing; None where an
    unnamed frame of the program comes first (a stripped build) or none is left."""
    for index, frame in enumerate(frames):
        if not frame.function:
            if frame.library and (is_libc_frame(frame) or frame.library.rsplit("/", 1)[-1]
                                  .startswith(PLUMBING_LIBRARIES)):
                continue
            return None
        if canonical(frame.function) in THREAD_START:
            return None
        if not is_plumbing(frame.function):
            return index
    return None


def _caller(frames: Sequence[Frame], index: int) -> str | None:
    """The canonical name of the frame that called frames[index]; "" for an unnamed one, None
    past the end of what was read."""
    if index + 1 >= len(frames):
        return None
    return canonical(frames[index + 1].function)


def at_home(frames: Sequence[Frame], index: int, home: Sequence[str]) -> str | None:
    """AT_HOME where frames[index] is one of the home points ("function" or
    "function<caller|..."), UNSURE where the function is but its caller is unnamed or was not
    read, None where it is none of them."""
    name = canonical(frames[index].function)
    found = None
    for point in home:
        function, _, callers = point.partition("<")
        if name != function:
            continue
        caller = _caller(frames, index)
        if not callers or caller in callers.split("|"):
            return AT_HOME
        if not caller:
            found = UNSURE
    return found


def callers(frames: Sequence[Frame], index: int, limit: int = NESTED_CALLERS) -> list[str]:
    """The named callers of frames[index], innermost first, up to the thread-start plumbing."""
    out: list[str] = []
    for frame in frames[index + 1:]:
        if len(out) >= limit or canonical(frame.function) in THREAD_START:
            break
        if frame.function:
            out.append(frame.function)
    return out


def waited_on(report: ThreadReport) -> str:
    """What a thread sleeps on, in words: "QemuCond qemu_pause_cond", "QemuEvent", "ppoll"."""
    snap = report.snapshot
    site = wait_site(snap.frames, snap.facts)
    if site is None:
        top = next((f.function for f in snap.frames if f.function), None)
        return canonical(top) if top else "a wait"
    symbol = symbol_of(snap, site)
    name = symbol.split("+", 1)[0] if symbol else None
    return "%s %s" % (site.type, name) if name else site.type


def judge(report: ThreadReport, home: Sequence[str]) -> tuple[str, str | None]:
    """(AT_HOME, AWAY, UNSURE or NO_HOME, the activity of a thread away from home)."""
    if not home:
        return NO_HOME, None
    frames = report.snapshot.frames
    index = own_frame(frames)
    if index is None:
        return UNSURE, None  # no named frame of QEMU's own code to judge by
    standing = at_home(frames, index, home)
    if standing is not None:
        return standing, None
    function = frames[index].function or ""
    if canonical(function) in NESTED_LOOPS:
        chain = callers(frames, index)
        if not chain and not report.snapshot.complete:
            return UNSURE, None  # cut right here: its own loop or a nested one, nothing tells
        where = " <- ".join(chain)
        return AWAY, "nested %s in %s" % (function, where) if where else "nested %s" % function
    return AWAY, "%s in %s" % (waited_on(report), function)


def home_of(report: ThreadReport, table: SignatureTable) -> tuple[str, ...]:
    sig: Signature | None = table.by_id.get(report.verdict.signature or "")
    return sig.home if sig is not None else ()


def mark_blocked(reports: Sequence[ThreadReport], table: SignatureTable) -> None:
    """Threads asleep away from their role's home point become `blocked`."""
    for report in reports:
        verdict = report.verdict
        if verdict.state != "idle":
            continue
        standing, activity = judge(report, home_of(report, table))
        if standing == AWAY and activity is not None:
            verdict.state = "blocked"
            verdict.activity = activity
