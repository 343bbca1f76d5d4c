"""What a thread sleeps on: the lock or event of its innermost frames. Pure, no gdb.

Readers use it to know which memory to read (the lock's words, its symbol); the lock
analysis (locks.py) uses it to group waiters. glibc keeps a mutex's owner LWP in the mutex,
so owners come from memory alone: no function of the inferior is ever called.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ..model import Frame, ThreadFacts, ThreadSnapshot
from ..vocab import (
    EVENT_TYPES,
    EVENT_WAIT,
    LOCK_SYMBOLS,
    LOCKS_BY_FRAME,
    MUTEX_WAIT,
    RWLOCK_WAIT,
    THREAD_START,
    WAIT_ARGUMENTS,
    canonical,
    is_plumbing,
)

# glibc's struct __pthread_mutex_s (all Linux architectures start it alike):
#   int __lock; unsigned __count; int __owner; unsigned __nusers; int __kind
# and struct __pthread_rwlock_arch_t on x86-64: __cur_writer is the 7th int.
MUTEX_LOCK, MUTEX_COUNT, MUTEX_OWNER, MUTEX_NUSERS, MUTEX_KIND = range(5)
RWLOCK_CUR_WRITER = 6
LOCK_WORDS = 7  # ints to read from a lock's address
PTHREAD_MUTEX_RECURSIVE = 1
# A wait is a few frames of plumbing deep, inlined frames included.
MAX_WAIT_FRAMES = 16

WAIT_PLUMBING = MUTEX_WAIT | RWLOCK_WAIT | EVENT_WAIT


@dataclass(frozen=True)
class WaitSite:
    """What a thread's waiting frames say it sleeps on."""

    kind: str                 # "mutex", "rwlock" or "event"
    type: str                 # "mutex", "rwlock", "QemuEvent", "condition variable", ...
    frame_index: int          # the innermost frame of the wait (for "waits at")
    address: int | None    # None where neither registers nor debug info give it


def wait_frames(frames: Sequence[Frame]) -> list[str]:
    """Canonical names of the innermost frames up to the program's own first frame."""
    names = []
    for frame in frames[:MAX_WAIT_FRAMES]:
        name = canonical(frame.function)
        if not is_plumbing(frame.function) and name not in WAIT_PLUMBING:
            break
        names.append(name)
    return names


def wait_site(frames: Sequence[Frame], facts: ThreadFacts) -> WaitSite | None:
    """The lock or event a thread waits on, from its frames and what its reader found."""
    names = wait_frames(frames)
    for index, name in enumerate(names):
        if name in MUTEX_WAIT:
            return WaitSite("mutex", "mutex", index, _address(facts, MUTEX_WAIT))
        if name in RWLOCK_WAIT:
            return WaitSite("rwlock", "rwlock", index, _address(facts, RWLOCK_WAIT))
        if name in EVENT_WAIT:
            # the outermost object names the type: a QemuEvent, not the futex word in it
            type_ = next((label for members, label in EVENT_TYPES
                          if any(n in members for n in names)), "event")
            return WaitSite("event", type_, index, _address(facts, EVENT_WAIT))
    return None


def _address(facts: ThreadFacts, functions: frozenset) -> int | None:
    for name in WAIT_ARGUMENTS:  # outer objects first
        if name in functions and name in facts.wait_args:
            return facts.wait_args[name]
    return facts.futex


def lock_name(site: WaitSite, frames: Sequence[Frame], symbol: str | None) -> str | None:
    """What people call the lock: the BQL, an AioContext lock, or the variable's name."""
    if symbol in LOCK_SYMBOLS:
        return LOCK_SYMBOLS[symbol]
    if site.kind == "mutex":
        chain = wait_frames(frames)
        names = set(chain)
        if len(chain) < len(frames):
            names.add(canonical(frames[len(chain)].function))  # the frame that asked for it
        for functions, label in LOCKS_BY_FRAME:
            if names & functions:
                return label
    return symbol or None


def frame_text(frame: Frame | None) -> str | None:
    """`function (file:line)`, or the function alone without debug info."""
    if frame is None:
        return None
    where = frame.location()
    return "%s (%s)" % (frame.name, where) if where and frame.file else frame.name


def waits_at(frames: Sequence[Frame], site: WaitSite) -> str | None:
    """The program's own frame that asked for the lock: the first past the wait's plumbing."""
    for frame in frames[site.frame_index:]:
        if canonical(frame.function) not in WAIT_PLUMBING and not is_plumbing(frame.function):
            return frame_text(frame)
    return None


def wait_function(frames: Sequence[Frame]) -> str | None:
    """The outermost named frame of the wait itself ("qemu_event_wait"): where a thread waits
    when its own function has no name (a static function in a stripped build)."""
    chain = wait_frames(frames)
    return next((f.function for f in reversed(frames[:len(chain)])
                 if f.function and canonical(f.function) not in THREAD_START), None)


def symbol_of(snap: ThreadSnapshot, site: WaitSite) -> str | None:
    """The symbol of the object waited on: read live, or as a saved backtrace printed it."""
    facts = snap.facts
    if facts.wait_symbol:
        return facts.wait_symbol
    return facts.arg_symbols.get(site.address) if site.address is not None else None


def owner_of(site: WaitSite, words: Sequence[int] | None) -> int | None:
    """The owner LWP glibc keeps in a mutex (or an rwlock's writer), if any."""
    if site.kind == "event" or not words or len(words) < LOCK_WORDS:
        return None
    owner = words[MUTEX_OWNER] if site.kind == "mutex" else words[RWLOCK_CUR_WRITER]
    return owner if owner > 0 else None


def owner_addresses(snapshots: Sequence[ThreadSnapshot]) -> dict[int, list[int]]:
    """Owner LWP -> addresses of the locks others wait for: where a reader looks for the
    frames that hold them."""
    wanted: dict[int, list[int]] = {}
    for snap in snapshots:
        site = wait_site(snap.frames, snap.facts)
        owner = owner_of(site, snap.facts.lock_words) if site is not None else None
        if owner is None or site is None or site.address is None:
            continue
        if site.address not in wanted.get(owner, []):
            wanted.setdefault(owner, []).append(site.address)
    return wanted
