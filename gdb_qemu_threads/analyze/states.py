"""What a thread is doing now, from its innermost frames: guest, idle, lock, io, running.

Names are compared in their canonical form (vocab.canonical), so `__GI___poll` is `poll`.
"""
from __future__ import annotations

from typing import Sequence

from ..model import Frame, ThreadFacts
from ..vocab import (
    BQL_LOCKERS,
    CRASH_FRAMES,
    GUEST_RUN,
    IO,
    KVM_RUN_CALLERS,
    LIBC_WAIT,
    LOCK_WAIT,
    NESTED_LOOPS,
    SYSCALLS_X86_64,
    TCG_EXEC,
    THREAD_START,
    WAIT,
    WAIT_WRAPPERS,
    canonical,
    is_plumbing,
)

# Window of innermost frames that decides the state.
WINDOW = 8


def _short(name: str) -> str:
    """The wait or I/O call in words people know: futex variants are all a futex wait."""
    return "futex wait" if name.startswith(("futex", "lll_futex")) else name


def _where(frames: Sequence[Frame], start: int) -> str:
    """The frame that says where a thread waits: the first one that is not the C library or
    a thin QEMU wrapper, else the wrapper itself; never the thread-start plumbing."""
    fallback = ""
    for frame in frames[start + 1:]:
        name = canonical(frame.function)
        if not frame.function:
            continue
        if name in THREAD_START:
            break
        if name in WAIT_WRAPPERS or name.startswith("futex"):
            if not fallback and name not in LIBC_WAIT and name not in IO and name not in LOCK_WAIT:
                fallback = frame.function
            continue
        return frame.function
    return fallback


def crash_site(frames: Sequence[Frame]) -> str:
    """The program's own frame where a crash happened: past abort(), raise() and assert."""
    for frame in frames:
        if frame.function and canonical(frame.function) not in CRASH_FRAMES \
                and not is_plumbing(frame.function):
            return frame.function
    return ""


def is_context_frame(frame: Frame) -> bool:
    """A frame of the program's own code, past the C library and QEMU's thin wrappers.

    The state is decided by the frames up to and including the first such frame, so a
    reader that already knows the role (from the thread name) can stop unwinding there.
    abort() and its callers are not: the crash site is past them. Nor is an event loop: its
    caller tells the thread's own loop from a nested one (analyze/home.py)."""
    if is_plumbing(frame.function):
        return False
    name = canonical(frame.function)
    return name not in CRASH_FRAMES and name not in NESTED_LOOPS


def _phrase(what: str, frames: Sequence[Frame], start: int) -> str:
    where = _where(frames, start)
    return "%s in %s" % (what, where) if where else what


def decide_state(frames: Sequence[Frame], role: str = "unknown",
                 facts: ThreadFacts | None = None) -> tuple[str, str]:
    """(state, activity) from the innermost frames and what the reader found in registers;
    activity is a few words for people."""
    if facts is not None and facts.signal:
        where = crash_site(frames)
        at = " at 0x%x" % facts.fault_address if facts.fault_address is not None else ""
        if facts.signal_sender is not None:
            at = " sent by process %d" % facts.signal_sender
        if facts.assertion:
            at = ": assertion `%s` failed%s" % (facts.assertion, " at %s" % facts.assertion_at
                                                 if facts.assertion_at else "")
        return "crashed", "%s%s%s" % (facts.signal, at, " in %s" % where if where else "")
    if not frames:
        return "unknown", "no frames"
    if frames[0].pc == 0 and not frames[0].function and len(frames) == 1:
        return "unknown", "no user-space stack"
    state, activity = _from_frames(frames, role)
    if state in ("running", "unknown") and facts is not None and facts.syscall is not None \
            and facts.syscall in SYSCALLS_X86_64:
        state, call = SYSCALLS_X86_64[facts.syscall]
        return state, _phrase(call, frames, -1)
    if frames[0].pc == 0 and not frames[0].function:
        return "running", "at address 0"
    return state, activity


def _from_frames(frames: Sequence[Frame], role: str) -> tuple[str, str]:
    names: list[str] = [canonical(f.function) for f in frames[:WINDOW]]
    # A vCPU inside the guest.
    if names[0] == "ioctl" and any(n in KVM_RUN_CALLERS for n in names[1:4]):
        return "guest", "in KVM_RUN"
    if names[0] == "ioctl" and role == "vcpu" and len(frames) == 1:
        return "guest", "in ioctl: KVM_RUN, presumably"  # only the top frame is known
    for i, name in enumerate(names):
        if name in GUEST_RUN:
            return "guest", "running the guest (%s)" % frames[i].function
    if role == "vcpu" and any(n in TCG_EXEC for n in names):
        tb = next((i for i, n in enumerate(names) if n in TCG_EXEC), 0)
        jit = [f for f in frames[:tb] if not f.function and not f.library]
        if names[tb] == "code_gen_buffer" or jit or tb == 0:
            return "guest", "running translated code (TCG)"
    # Blocked on a mutex, the BQL included.
    for i, name in enumerate(names):
        if name in LOCK_WAIT:
            if any(canonical(f.function) in BQL_LOCKERS for f in frames[i:i + WINDOW]):
                return "lock", _phrase("waiting for the BQL", frames, i)
            return "lock", _phrase("waiting for a mutex", frames, i)
        if name not in WAIT and not name.startswith(("futex", "lll_")) and name != "":
            break
    top = names[0]
    if top in IO or (top == "" and len(names) > 1 and names[1] in IO):
        index = 0 if top in IO else 1
        return "io", _phrase(names[index], frames, index)
    for i, name in enumerate(names[:3]):
        if name in WAIT or name.startswith("futex"):
            return "idle", _phrase(_short(name), frames, i)
        if name and name not in WAIT_WRAPPERS:
            break
    if frames[0].function:
        return "running", "in %s" % frames[0].function
    return "unknown", "in ??"
