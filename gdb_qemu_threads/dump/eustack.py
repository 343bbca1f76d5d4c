"""elfutils' `eu-stack` text -> thread snapshots.

What eu-stack prints (src/stack.c), with its options' additions in brackets:

    PID 1234 - process                      ("- core" for a core file)
    TID 1235:
    #0  0x00007f8b2c6a4d36 __futex_abstimed_wait_common64 [- /usr/lib/.../libc.so.6]
    #1  0x000055d0c08ab123 qemu_cond_wait_impl [- /usr/bin/qemu-system-x86_64]
        [../util/qemu-thread-posix.c:225]  (-s: the source line, on a line of its own)
    #2  0x000055d0c08ab456 - 1 ...          (-a: "- 1" marks a frame that is no call's return)

A frame without a symbol shows the address alone. Threads have no names; TID is the LWP.
"""
from __future__ import annotations

import re

from ..model import ThreadSnapshot
from .frames import FrameParser
from .lines import MAX_JOIN, MAX_JOINED, clean

_A = re.ASCII
PROCESS = re.compile(r"PID (\d{1,10}) - (?:process|core)\b", _A)
THREAD = re.compile(r"TID (\d{1,10}):$", _A)
FRAME = re.compile(r"#(\d{1,9})[ \t]+0x([0-9a-fA-F]{1,16})(?:[ \t]+(.*))?$", _A)
# A frame line's start that a wrap cut before or inside its address: it starts a frame too
# (the address follows on the next line), never continues the one before.
_FRAME_START = re.compile(r"#\d{1,9}(?:[ \t]+(?:0x[0-9a-fA-F]{0,16})?)?$", _A)
_LEVEL = re.compile(r"#\d{1,9}$", _A)  # a frame's number, its address cut off by a wrap
_SOURCE = re.compile(r"(\S+?):(\d{1,9})(?::\d{1,9})?$", _A)
_FULL_PC = re.compile(r"0x[0-9a-fA-F]{16}$", _A)  # 64-bit addresses are printed 16 digits wide
_OFFSET = re.compile(r"\+0x[0-9a-fA-F]+$", _A)
# QEMU's own executable: gdb names no library for the program's frames, and neither do we.
_EXECUTABLE = re.compile(r"(?:^|/)qemu(?:-system-[\w-]+|-[\w-]+)?$", _A)


def looks_like(text: str) -> bool:
    """Whether a cleaned line is eu-stack's process or thread line. (Its frame lines do not
    decide: "#1  0x000055eb131c3c61" alone may as well be a gdb frame cut by a wrap.)"""
    return bool(PROCESS.match(text) or THREAD.match(text))


class EuStackReader:
    """feed() every line, then finish(): one list per process shown."""

    def __init__(self) -> None:
        self.parser = FrameParser()
        self.dumps: list[list[ThreadSnapshot]] = [[]]
        self.thread: ThreadSnapshot | None = None
        self.pending: str | None = None
        self.joins = 0

    def feed(self, line: str) -> None:
        text, indent = clean(line.rstrip("\r\n"))
        if not text:
            return
        if PROCESS.match(text):
            self.flush()
            if self.dumps[-1]:
                self.dumps.append([])
            self.thread = None
        elif text[:4] == "TID " and THREAD.match(text):
            self.flush()
            snap = ThreadSnapshot(num=len(self.dumps[-1]) + 1, lwp=int(text[4:-1]))
            snap.complete = True
            self.dumps[-1].append(snap)
            self.thread = snap
        elif FRAME.match(text) or _FRAME_START.match(text):
            self.flush()
            self.pending = text
            self.joins = 0
        elif indent >= 2 and _SOURCE.match(text):
            self.flush()
            self.on_source(text)
        elif self.pending is not None and self.may_join(text):
            self.pending = _join(self.pending, text)
            self.joins += 1
        else:
            # Prose, or the rest of a wrapped source line: frames still need a TID line
            # before them, so the thread read so far stays the one frames go to.
            self.flush()

    def may_join(self, text: str) -> bool:
        assert self.pending is not None
        return self.joins < MAX_JOIN and len(self.pending) + len(text) < MAX_JOINED

    def flush(self) -> None:
        text, self.pending = self.pending, None
        if text is None or self.thread is None:
            return
        match = FRAME.match(text)
        if match is None:
            return
        rest = (match.group(3) or "").strip()
        if rest.startswith("- 1"):  # -a: not a call's return address
            rest = rest[3:].strip()
        symbol, _, module = rest.partition(" - ")
        if symbol.startswith("- "):  # a module and no symbol
            symbol, module = "", symbol[2:]
        symbol = _OFFSET.sub("", symbol.strip())
        function = symbol if symbol and " " not in symbol and "(" not in symbol else None
        library = module.strip() or None
        if library is not None and _EXECUTABLE.search(library):
            library = None
        self.thread.frames.append(self.parser.share(function, library, int(match.group(2), 16), None, None,
                                                    False))

    def on_source(self, text: str) -> None:
        """-s: the source line of the frame just read."""
        thread = self.thread
        match = _SOURCE.match(text)
        if thread is None or match is None or not thread.frames:
            return
        last = thread.frames[-1]
        thread.frames[-1] = self.parser.share(last.function, last.library, last.pc, match.group(1),
                                              int(match.group(2)), last.inlined)

    def finish(self) -> list[list[ThreadSnapshot]]:
        self.flush()
        return [dump for dump in self.dumps if dump]


def _join(head: str, tail: str) -> str:
    """A frame line continued by a wrap; the blank a mail client dropped is put back after
    the frame's number or its address, and around the " - " before a module."""
    if head.endswith(" ") or tail.startswith(" "):
        return head + tail
    if (_FULL_PC.search(head) or head.endswith(" -") or tail.startswith(("- ", "/"))
            or (tail.startswith("0x") and _LEVEL.match(head))):
        return head + " " + tail
    return head + tail
