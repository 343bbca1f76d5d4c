"""What a live or core-file thread's lock wait looks like in memory and registers: the
reader's half of the lock analysis (analyze/waits.py, analyze/locks.py). Reads registers and
memory, never calls a function of the inferior."""
from __future__ import annotations

import re
from typing import Literal

import gdb

from ..analyze.states import is_context_frame
from ..analyze.waits import LOCK_WORDS, MAX_WAIT_FRAMES, WAIT_PLUMBING, wait_site
from ..model import Frame, ThreadSnapshot
from ..vocab import WAIT_ARGUMENTS, canonical

# A thread asleep in futex(2) on x86-64: the syscall number stays in orig_rax (rax holds the
# return value once interrupted) and the futex address in rdi.
SYS_FUTEX_X86_64 = 202
# glibc's pthread_cond_t since 2.25 (x86-64): __wrefs at 36, __g_signals[2] at 40.
WREFS, G_SIGNALS, COND_SIZE = 36, 40, 48
# The waits whose futex word lies inside a condition variable, and the frame its address is
# filed under once found (as a reader with debug info files pthread_cond_wait's argument).
COND_TYPES = ("QemuCond", "condition variable")
COND_KEY = "pthread_cond_wait"
_FORMATTED = re.compile(r"<([^<>]+)>")
ByteOrder = Literal["little", "big"]


class LockProbes:
    """Reads the lock facts of one inferior's threads; remembers symbols and byte order."""

    def __init__(self, inferior: gdb.Inferior, arg_registers: tuple[str, str] | None,
                 max_frames: int) -> None:
        self.inferior = inferior
        self.arg_registers = arg_registers
        self.max_frames = max_frames
        self.symbols: dict[int, str | None] = {}
        self._byteorder: ByteOrder | None = None
        self.probed = False  # the last wait_facts read debug info (per-thread facts)

    def wait_facts(self, gframe: gdb.Frame, frame: Frame, snap: ThreadSnapshot, level: int) -> bool:
        """Registers and debug-info arguments of the frames a thread waits in (locks.py reads
        them); False once past them, at the program's own first frame."""
        name = canonical(frame.function)
        self.probed = False
        if level == 0 and self.arg_registers and self.arg_registers[0] == "rdi":
            # orig_rax is the system call a thread sleeps in (-1 in user code), even where the
            # syscall instruction sits in the program's own code
            try:
                number = int(gframe.read_register("orig_rax"))
                if number >= 0:
                    snap.facts.syscall = number
                if number == SYS_FUTEX_X86_64:
                    snap.facts.futex = int(gframe.read_register("rdi")) & 0xFFFFFFFFFFFFFFFF
            except (gdb.error, ValueError):
                pass
        # The futex address is the mutex's own (its first word); debug-info arguments are
        # asked only where the registers did not tell (not in the syscall, not x86-64).
        probe = WAIT_ARGUMENTS.get(name) if snap.facts.futex is None else None
        if probe:
            try:
                value = gframe.read_var(probe)
                if value.type.strip_typedefs().code == gdb.TYPE_CODE_STRUCT:
                    address = int(value.address) if value.address is not None else 0
                else:
                    address = int(value)
                if address:
                    snap.facts.wait_args[name] = address
                    self.probed = True  # per-thread debug-info facts: not a stack to replay
            except (gdb.error, ValueError, RuntimeError, TypeError):
                pass  # no debug info here
        if level >= MAX_WAIT_FRAMES:
            return False
        return not is_context_frame(frame) or name in WAIT_PLUMBING

    def lock_facts(self, snap: ThreadSnapshot) -> None:
        """For a thread waiting on a lock: the lock's words (owner, kind) and its symbol."""
        site = wait_site(snap.frames, snap.facts)
        if site is None or site.address is None:
            return
        if site.type in COND_TYPES and site.address == snap.facts.futex:
            found = self.cond_of_futex(site.address)
            if found is not None:  # the object's own address, as debug info gives it
                snap.facts.wait_args[COND_KEY] = found
                site = wait_site(snap.frames, snap.facts) or site
        if site.address is None:
            return
        snap.facts.wait_symbol = self.symbol(site.address)
        if site.kind == "event":
            return
        try:
            raw = self.inferior.read_memory(site.address, 4 * LOCK_WORDS).tobytes()
        except (gdb.error, ValueError, OverflowError):
            return  # not in the core file, or a bad address
        snap.facts.lock_words = tuple(int.from_bytes(raw[i:i + 4], self.byteorder(), signed=True)
                                         for i in range(0, len(raw), 4))

    def cond_of_futex(self, futex: int) -> int | None:
        """The pthread_cond_t whose __g_signals word a thread sleeps on (glibc 2.25 and later).

        The object is 8-byte aligned and __g_signals[0] and [1] sit at 40 and 44, so the
        futex's alignment tells which; memory confirms it: the object's __wrefs (at 36)
        counts this waiter from bit 3 up. Older glibc lays it out otherwise: None then."""
        start = futex - (G_SIGNALS if futex % 8 == 0 else G_SIGNALS + 4)
        try:
            raw = self.inferior.read_memory(start, COND_SIZE).tobytes()
        except (gdb.error, ValueError, OverflowError):
            return None  # not in the core file
        wrefs = int.from_bytes(raw[WREFS:WREFS + 4], self.byteorder())
        return start if futex % 4 == 0 and wrefs >> 3 >= 1 else None

    def byteorder(self) -> ByteOrder:
        if self._byteorder is None:
            text = gdb.execute("show endian", to_string=True)
            self._byteorder = "big" if "big endian" in text else "little"
        return self._byteorder

    def holding_frames(self, thread: gdb.InferiorThread, addresses: list[int]) -> dict[int, str]:
        """With debug info, the innermost frame of a lock's owner whose arguments or locals
        point at the lock (or are it): where the owner took it, or its caller."""
        thread.switch()
        found: dict[int, str] = {}
        frame: gdb.Frame | None = gdb.newest_frame()
        depth = 0
        try:
            while frame is not None and depth < self.max_frames and len(found) < len(addresses):
                own = is_context_frame(Frame(function=frame.name()))  # not glibc's or QEMU's lock plumbing
                for address in _frame_references(frame, addresses) if own else ():
                    if address not in found:
                        found[address] = _frame_label(frame)
                frame, depth = frame.older(), depth + 1
        except gdb.error:
            pass
        return found

    def symbol(self, address: int) -> str | None:
        """The data symbol at an address ("qemu_global_mutex", "c+40"), from any symbol table."""
        if address not in self.symbols:
            name = None
            try:
                m = _FORMATTED.search(gdb.format_address(address))  # "0x... <c+40>"
                name = m.group(1) if m else None
            except (gdb.error, ValueError):
                pass
            self.symbols[address] = name
        return self.symbols[address]


def _frame_references(frame: gdb.Frame, addresses: list[int]) -> list[int]:
    """The addresses among `addresses` that the frame's arguments or locals point at or are."""
    try:
        block: gdb.Block | None = frame.block()
    except RuntimeError:
        return []  # no debug info for this frame
    hits = []
    while block is not None:
        for symbol in block:
            if not (symbol.is_argument or symbol.is_variable):
                continue
            try:
                value = symbol.value(frame)
                code = value.type.strip_typedefs().code
                if code == gdb.TYPE_CODE_PTR:
                    address = int(value)
                elif code in (gdb.TYPE_CODE_STRUCT, gdb.TYPE_CODE_UNION) and value.address is not None:
                    address = int(value.address)
                else:
                    continue
            except (gdb.error, ValueError, RuntimeError):
                continue
            if address in addresses and address not in hits:
                hits.append(address)
        if block.function is not None:
            break  # the function's outermost block: stop before the file's statics
        block = block.superblock
    return hits


def _frame_label(frame: gdb.Frame) -> str:
    name = frame.name() or "??"
    sal = frame.find_sal()
    if sal.symtab is not None and sal.line:
        return "%s (%s:%d)" % (name, sal.symtab.filename, sal.line)
    return name
