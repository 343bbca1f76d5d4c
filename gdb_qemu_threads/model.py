"""Plain data shared by every part: frames and threads as read, verdicts as decided.

Nothing here imports gdb: a snapshot comes from a live inferior (live.py), a core file
(also live.py) or a saved text dump (dump.py), and the classifier treats them alike.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

UNKNOWN_FUNCTION = "??"


class Frame:
    """One stack frame, innermost first in a thread's list.

    Immutable and slotted by hand (dataclass slots need Python 3.10): a large dump holds
    millions of frames, and readers share one object between identical frames.
    """

    __slots__ = ("function", "library", "pc", "file", "line", "inlined")

    def __init__(self, function: Optional[str] = None, library: Optional[str] = None,
                 pc: Optional[int] = None, file: Optional[str] = None,
                 line: Optional[int] = None, inlined: bool = False) -> None:
        setter = object.__setattr__
        setter(self, "function", function)  # None where gdb shows "??"
        setter(self, "library", library)    # shared object path ("from /lib/..."); None for the executable
        setter(self, "pc", pc)
        setter(self, "file", file)          # source file as gdb shows it ("../util/main-loop.c")
        setter(self, "line", line)
        setter(self, "inlined", inlined)    # an inlined frame (no address of its own)

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("Frame is immutable")

    def _key(self) -> Tuple[Any, ...]:
        return (self.function, self.library, self.pc, self.file, self.line, self.inlined)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Frame) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        fields = ("%s=%r" % (k, v) for k, v in zip(self.__slots__, self._key()) if v not in (None, False))
        return "Frame(%s)" % ", ".join(fields)

    @property
    def name(self) -> str:
        return self.function or UNKNOWN_FUNCTION

    def location(self) -> str:
        """Where the frame is, as gdb would print it after "at" or "from"."""
        if self.file:
            return "%s:%s" % (self.file, self.line) if self.line else self.file
        return self.library or ""


@dataclass
class ThreadSnapshot:
    """What was read of one thread. Only the reader fills it; the classifier never changes it."""

    num: Optional[int]                  # gdb's thread number
    lwp: Optional[int]                  # kernel thread id; None where a dump does not show it
    name: Optional[str] = None          # OS name (comm, 15 characters); None on cores
    frames: List[Frame] = field(default_factory=list)
    current: bool = False               # the thread gdb had selected
    complete: bool = True               # frames reach the outermost frame (False: only the top frame, or cut)
    unreadable: Optional[str] = None    # why frames could not be read ("running", "Backtrace stopped: ...")
    hints: Dict[str, Any] = field(default_factory=dict)  # facts from debug info or /proc (vcpu, accel, iothread, ...)
    origin: Optional[List[Frame]] = None  # the creation backtrace, when qemu-thread-origins recorded it
    parent_lwp: Optional[int] = None      # the thread that created it, when recorded

    def frame_names(self) -> List[str]:
        return [f.name for f in self.frames]

    def stack_key(self) -> Tuple[str, ...]:
        """Identity used to group threads with identical stacks."""
        return tuple(self.frame_names())


# Roles of the contract (DESIGN.md); a new one needs a line there too.
ROLES = (
    "main-loop", "vcpu", "iothread", "worker", "call-rcu",
    "migration", "migration-return-path", "multifd-send", "multifd-recv", "postcopy",
    "vnc-worker", "qemu-other", "gmain", "gdbus", "glib-pool", "pulseaudio", "library",
    "kernel-worker", "unknown",
)

STATES = ("guest", "idle", "lock", "io", "running", "unknown")

ACCELS = ("kvm", "tcg", "hvf", "whpx", "nvmm", "hax", "xen", "qtest", "mshv")


@dataclass
class Verdict:
    """What the classifier decided for one thread, and why."""

    role: str = "unknown"
    detail: str = ""
    state: str = "unknown"
    activity: str = ""               # what it is doing now, in a few words ("ppoll in main_loop_wait")
    evidence: str = ""               # the frame, name or library that decided the role
    confidence: str = "low"          # "high" or "low"
    accel: Optional[str] = None
    vcpu: Optional[int] = None
    iothread: Optional[str] = None
    signature: Optional[str] = None  # id of the signature that matched
    waits_for: Optional[Dict[str, Any]] = None  # the lock it waits on (locks.py), or None


@dataclass
class ThreadReport:
    """A snapshot with its verdict: one row of the table, one entry of the JSON."""

    snapshot: ThreadSnapshot
    verdict: Verdict
