"""Stacks already unwound, recognised in other threads without unwinding them again.

gdb's unwinder costs tens of microseconds a frame, and a QEMU process has many threads
parked in the same place (128 vCPUs in one wait), or created from the same place. On x86-64
a caller's return address sits just below the caller's sp, at a distance from the callee's sp
that is fixed for a given pc (dynamic stack allocation aside). So when another thread stops at
a pc a known stack starts at, one read of its stack checks every return address at the
distance the first thread had it: all equal means the same frames (same pcs, so the same
functions, files and lines). Any difference, and the caller unwinds with gdb as usual.
Inlined and tail-call frames have no return address of their own and are carried along.
"""
from __future__ import annotations

from typing import Any, Hashable

import gdb

from ..model import Frame

SP = "rsp"
MAX_SHAPES = 16      # different stacks kept for one key
MAX_SPAN = 1 << 20   # a stack deeper than this in bytes is not worth a single read


class Stack:
    """A stack as gdb unwound it: its frames, and where each return address was found."""

    __slots__ = ("frames", "offsets", "span", "extra")

    def __init__(self, frames: list[Frame], offsets: list[int | None], span: int, extra: Any) -> None:
        self.frames = frames    # Frame objects (pc set), innermost first
        self.offsets = offsets  # per frame after the first: its return address's offset from
                                # frame 0's sp, or None (inlined or tail-call: no slot)
        self.span = span        # bytes of stack the offsets cover
        self.extra = extra      # what the caller keeps with it (how the walk ended)


class StackCache:
    def __init__(self) -> None:
        self.stacks: dict[Hashable, list[Stack]] = {}
        self.reused = 0

    def clear(self) -> None:
        self.stacks.clear()

    def learn(self, key: Hashable, frames: list[Frame], sps: list[int], types: list[int],
              extra: Any = None) -> None:
        """Keep a stack gdb unwound: its frames, each frame's sp and gdb frame type."""
        if not frames or any(f.pc is None for f in frames):
            return
        known = self.stacks.setdefault(key, [])
        if len(known) >= MAX_SHAPES or any(k.frames == frames for k in known):
            return
        offsets: list[int | None] = []
        for level in range(1, len(frames)):
            if types[level - 1] == gdb.INLINE_FRAME or types[level] == gdb.TAILCALL_FRAME:
                # an inlined frame shares pc and sp with the frame it is inlined into; a
                # tail-call frame is gdb's inference from call-site debug info
                offsets.append(None)
                continue
            if types[level] not in (gdb.NORMAL_FRAME, gdb.INLINE_FRAME):
                return  # a signal trampoline, a dummy frame: leave it to gdb
            offset = sps[level] - 8 - sps[0]
            if offset < 0 or offset > MAX_SPAN:
                return  # a signal frame on an alternate stack: leave it to gdb
            offsets.append(offset)
        slots = [o for o in offsets if o is not None]
        known.append(Stack(frames, offsets, (max(slots) + 8) if slots else 0, extra))

    def find(self, key: Hashable, newest: gdb.Frame, inferior: gdb.Inferior) -> Stack | None:
        """The known stack that the thread of `newest` has too, or None."""
        candidates = self.stacks.get(key)
        if not candidates:
            return None
        sp = int(newest.read_register(SP))
        for stack in candidates:
            if self._matches(stack, sp, inferior):
                self.reused += 1
                return stack
        return None

    @staticmethod
    def _matches(stack: Stack, sp: int, inferior: gdb.Inferior) -> bool:
        if not stack.span:
            return True
        try:
            raw = inferior.read_memory(sp, stack.span).tobytes()
        except (gdb.error, ValueError, OverflowError):
            return False
        for frame, offset in zip(stack.frames[1:], stack.offsets):
            if offset is not None and int.from_bytes(raw[offset:offset + 8], "little") != frame.pc:
                return False
        return True
