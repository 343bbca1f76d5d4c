"""Plain data shared by every part: frames and threads as read, verdicts as decided.

Nothing here imports gdb. A snapshot comes from a live inferior or a core file
(inferior/reader.py) or a saved text dump (dump/), and the analysis (analyze/) treats them
alike. Data flows one way: a reader makes snapshots and never touches them again; the
analysis reads them and makes verdicts; render presents verdicts and changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

UNKNOWN_FUNCTION = "??"


class Frame:
    """One stack frame, innermost first in a thread's list.

    Immutable and slotted by hand (dataclass slots need Python 3.10): a large dump holds
    millions of frames, and readers share one object between identical frames.
    """

    __slots__ = ("function", "library", "pc", "file", "line", "inlined")
    function: str | None
    library: str | None
    pc: int | None
    file: str | None
    line: int | None
    inlined: bool

    def __init__(self, function: str | None = None, library: str | None = None,
                 pc: int | None = None, file: str | None = None,
                 line: int | None = None, inlined: bool = False) -> None:
        setter = object.__setattr__
        setter(self, "function", function)  # None where gdb shows "??"
        setter(self, "library", library)    # shared object path ("from /lib/..."); None for the executable
        setter(self, "pc", pc)
        setter(self, "file", file)          # source file as gdb shows it ("../util/main-loop.c")
        setter(self, "line", line)
        setter(self, "inlined", inlined)    # an inlined frame (no address of its own)

    def __setattr__(self, key: str, value: object) -> None:
        raise AttributeError("Frame is immutable")

    def _key(self) -> tuple[str | None, str | None, int | None, str | None, int | None, bool]:
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
class ThreadFacts:
    """What a reader learnt of a thread besides its frames: from debug info, registers,
    /proc or memory (live), or from the arguments a saved backtrace printed (offline)."""

    vcpu: int | None = None           # CPU index
    vcpu_source: str | None = None    # where it came from, for the evidence
    accel: str | None = None
    accel_source: str | None = None   # where it came from, where not from the frames
    iothread: str | None = None       # iothread id
    iothread_source: str | None = None
    futex: int | None = None          # address of the futex(2) it sleeps in (frame 0's registers)
    wait_args: dict[str, int] = field(default_factory=dict)   # waiting function -> its lock/event argument
    arg_symbols: dict[int, str] = field(default_factory=dict)  # address -> symbol a saved bt named it by
    wait_symbol: str | None = None    # the symbol at the address it waits on ("qemu_global_mutex")
    lock_words: tuple[int, ...] | None = None  # the first ints of the mutex/rwlock it waits on
    syscall: int | None = None        # the system call it is in (x86-64: orig_rax), if any
    signal: str | None = None         # a fatal signal it received ("SIGSEGV")
    fault_address: int | None = None  # where that signal's fault was
    signal_sender: int | None = None  # the process that sent it (kill, tgkill): not a fault
    waits_on_threads: tuple[int, ...] | None = None  # LWPs an ownerless wait waits for, if read
    waits_on_note: str | None = None  # what they are waited for, or why they could not be read
    cpu_seconds: float | None = None  # CPU time used since it started (/proc, live local only)
    cpu_share: float | None = None    # that time over its age: 1.0 is one CPU all along
    # On a CPU or waiting in a run queue since it started (/proc schedstat): a spinning thread
    # is ready all along even when a loaded host or a CPU quota gives it little CPU.
    ready_seconds: float | None = None
    ready_share: float | None = None  # that time over its age
    samples: int | None = None        # --sample: in how many stops it was seen
    sample_states: tuple[str, ...] = ()      # its state at each of them
    sample_moved: bool | None = None  # whether its stack changed between them
    sample_cpu_share: float | None = None    # CPU used over the time the program ran between them
    sample_ready_share: float | None = None  # ready to run over that time
    assertion: str | None = None      # the failed assertion's text (from glibc's or GLib's message)
    assertion_at: str | None = None   # where it is in the sources: "file:line"


@dataclass
class ThreadSnapshot:
    """What was read of one thread. Only its reader fills it; nothing changes it afterwards."""

    num: int | None                  # gdb's thread number
    lwp: int | None                  # kernel thread id; None where a dump does not show it
    name: str | None = None          # OS name (comm, 15 characters); None on cores
    frames: list[Frame] = field(default_factory=list)
    current: bool = False               # the thread gdb had selected
    complete: bool = True               # frames reach the outermost frame (False: only the top frame, or cut)
    unreadable: str | None = None    # why frames could not be read ("running", "Backtrace stopped: ...")
    facts: ThreadFacts = field(default_factory=ThreadFacts)
    origin: list[Frame] | None = None  # the creation backtrace, when qemu-thread-origins recorded it
    parent_lwp: int | None = None      # the thread that created it, when recorded

    def frame_names(self) -> list[str]:
        return [f.name for f in self.frames]

    def stack_key(self) -> tuple[str, ...]:
        """Identity used to group threads with identical stacks."""
        return tuple(self.frame_names())


# Roles of the contract (DESIGN.md); a new one needs a line there too.
ROLES = (
    "main-loop", "vcpu", "iothread", "worker", "call-rcu",
    "migration", "migration-return-path", "multifd-send", "multifd-recv", "postcopy",
    "vnc-worker", "qemu-other", "gmain", "gdbus", "glib-pool", "pulseaudio", "library",
    "kernel-worker", "unknown",
)

# The roles of threads only QEMU itself has: one of them says the process is a QEMU.
QEMU_ROLES = frozenset(("main-loop", "vcpu", "iothread", "worker", "call-rcu", "migration",
                        "migration-return-path", "multifd-send", "multifd-recv", "postcopy",
                        "vnc-worker", "qemu-other"))

STATES = ("guest", "idle", "lock", "io", "running", "unknown", "blocked", "crashed")

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
    accel: str | None = None
    vcpu: int | None = None
    iothread: str | None = None
    signature: str | None = None  # id of the signature that matched
    waits_for: dict[str, Any] | None = None  # the lock it waits on (locks.py), or None
    holds: list[str] = field(default_factory=list)  # locks it holds that others wait for


@dataclass
class ThreadReport:
    """A snapshot with its verdict: one row of the table, one entry of the JSON."""

    snapshot: ThreadSnapshot
    verdict: Verdict


@dataclass
class Lock:
    """One lock that at least one thread waits for."""

    kind: str                                 # "mutex" or "rwlock"
    type: str                                 # "mutex", "recursive mutex", "rwlock"
    address: int | None
    name: str | None                       # "BQL", a symbol, or None
    owner_lwp: int | None = None
    owner: ThreadReport | None = None
    held_at: str | None = None             # the owner's frame that holds it
    problem: str | None = None             # "nobody holds it", "owner exited"
    depth: int | None = None               # a recursive mutex's lock count
    released: bool = False                    # free now; its waiters are being woken
    waiters: list[ThreadReport] = field(default_factory=list)


@dataclass
class LockReport:
    """Who waits for which lock or event, and the waits-for graph's cycles."""

    locks: list[Lock] = field(default_factory=list)
    events: list[tuple[ThreadReport, dict[str, Any]]] = field(default_factory=list)
    deadlocks: list[list[dict[str, Any]]] = field(default_factory=list)
    waits: dict[int, tuple[Lock, str | None]] = field(default_factory=dict)  # id(report) -> (lock, waits at)
    gaps: list[str] = field(default_factory=list)  # what was not read, so no "no deadlock" is claimed


@dataclass
class Analysis:
    """Everything decided about one process: what render presents."""

    reports: list[ThreadReport]
    locks: LockReport
    pid: int | None = None                 # None offline
    source: str = "live"                      # "live", "core" or "offline"
