"""What `qemu-thread-origins` keeps between gdb events: the records, its breakpoints, caches.

One instance, `state`, shared by the clone_* modules (the breakpoints that read a creation,
the pairing with new threads, the process events, clone3 found in libc's code) and by
recorder.py, which the commands call."""
from __future__ import annotations

import traceback
from typing import TYPE_CHECKING

import gdb

from ..creation.store import OriginStore
from ..model import Frame
from . import stacks

if TYPE_CHECKING:
    from .clone_breakpoints import CloneBreakpoint

DEFAULT_MAX_FRAMES = 48
ALL_FRAMES = 1 << 30  # --max-frames 0: the whole creation backtrace


class RecorderState:
    def __init__(self) -> None:
        self.store = OriginStore()
        self.recording = False
        self.breakpoints: list[CloneBreakpoint] = []
        self.max_frames = DEFAULT_MAX_FRAMES
        self.libraries: dict[int, str | None] = {}
        self.frames: dict[tuple[str | None, str | None, int, bool], Frame] = {}
        self.stacks = stacks.StackCache()  # creators' stacks, recognised at the next creation
        self.arch_keys: dict[str, str | None] = {}
        self.deferred: list[gdb.InferiorThread] = []  # new threads waiting for their handle
        self.errors = 0
        self.last_error = ""

    def forget_code(self) -> None:
        """Code moved (a library came or went, the program was re-run or exec'd)."""
        self.libraries.clear()
        self.frames.clear()
        self.stacks.clear()

    def live_breakpoints(self) -> list[CloneBreakpoint]:
        self.breakpoints = [bp for bp in self.breakpoints if bp.is_valid()]
        return self.breakpoints

    def delete_breakpoints(self, found_by_code_only: bool = False) -> int:
        """Delete our breakpoints (only those at an address found in libc's code, which the
        next run may load elsewhere); returns how many."""
        gone = [bp for bp in self.breakpoints if bp.found_by_code or not found_by_code_only]
        count = 0
        for bp in gone:
            if bp.is_valid():
                bp.delete()
                count += 1
            self.breakpoints.remove(bp)
        return count

    def note_error(self, where: str) -> None:
        """A bug of ours inside a gdb event: never stop the program for it; `status` tells."""
        self.errors += 1
        self.last_error = "%s: %s" % (where, traceback.format_exc().strip().splitlines()[-1])


state = RecorderState()
