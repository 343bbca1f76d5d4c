"""Saved gdb text -> thread snapshots, without gdb.

Reads what people paste in bug reports: `info threads` tables, `thread apply all bt [full]`
and plain `bt` output, from gdb 7 to 15, possibly quoted with "> ", with CRLF line ends,
tabs, lines wrapped by a terminal or a mail client, and prose around it. Several dumps
in one text come back as several lists.

The reader streams: it looks at one line at a time, decides what the line is from its
first character before trying any regex, and keeps only the snapshots it builds. Line
clean-up and wraps are lines.py's, one frame's text frames.py's, which thread a line names
threads.py's; this module is the state machine that ties them together.
"""
from __future__ import annotations

import re
from typing import Iterable

from ..model import Frame, ThreadSnapshot
from . import patterns
from .formats import Dispatch
from .frames import FrameParser, note_wait_argument, usable
from .lines import UNREADABLE, Pending, clean, frame_complete, join, join_frame, may_continue, split_lines
from .threads import Ident, Threads, thread_number, to_int

__all__ = ["NO_DUMP", "DumpError", "parse_dumps", "parse_dump_text"]


class DumpError(ValueError):
    """The text holds no thread list or backtrace. str() is one line."""


# Go, Rust and Python stacks, and every other text, get this line.
NO_DUMP = ("no gdb thread list or backtrace found (formats read: gdb's info threads and bt, "
           "LLDB's thread list and bt all, eu-stack)")


def parse_dump_text(text: str) -> list[list[ThreadSnapshot]]:
    """parse_dumps() of a whole string."""
    return parse_dumps(split_lines(text))


def parse_dumps(lines: Iterable[str | bytes]) -> list[list[ThreadSnapshot]]:
    """One list of snapshots per dump found, threads in the order the text shows them.

    Lines may be bytes (decoded as UTF-8, bad bytes replaced). Raises DumpError (only that)
    when the text holds no thread list and no backtrace.
    """
    reader = Dispatch(_Reader)
    feed = reader.feed
    try:
        for line in lines:
            if not isinstance(line, str):
                line = bytes(line).decode("utf-8", "replace")
            feed(line)
    except UnicodeDecodeError as err:  # from a file opened with strict decoding
        raise DumpError("not a text file (%s at byte %d)" % (err.reason, err.start)) from None
    dumps = reader.finish()
    if not dumps:
        raise DumpError(NO_DUMP)
    return dumps


class _Reader:
    """A line-at-a-time state machine; feed() every line, then finish()."""

    def __init__(self) -> None:
        self.threads = Threads()
        self.parser = FrameParser()
        self.selected: Ident | None = None  # the thread gdb has selected, as last shown
        self.block: ThreadSnapshot | None = None  # thread whose frames are being read
        self.block_applied = False             # that block has a `thread apply` header
        self.block_frames = 0
        self.pending: Pending | None = None

    # -- lines ------------------------------------------------------------------------
    def feed(self, line: str) -> None:
        line = line.rstrip("\r\n")
        if "\r" in line:  # bare CRs: lines of their own
            for part in line.split("\r"):
                self.feed(part)
            return
        text = line.lstrip(" ")
        first = text[:1]
        if first == ">" or first == "-" or not first or "\t" in line:  # quoted, a pager prompt, blank
            text, indent = clean(line)
            if not text:
                return  # blank lines change nothing: mail clients add and drop them
            first = text[0]
        else:
            indent = len(line) - len(text)
        if first == "#":
            match = patterns.FRAME.match(text)
            if match:
                self.flush()
                # Which thread it is for is decided once the line is known to be whole (flush).
                self.pending = Pending("frame", None, int(match.group(1)), match.group(2), indent)
                return
        elif first == "T":
            if self.header_line(text, indent):
                return
        elif first == "*" or "0" <= first <= "9":
            if patterns.ROW.match(text):
                self.flush()
                # The whole row waits for its end: a wrap may cut its target id or its frame.
                self.pending = Pending("row", None, None, text, indent)
                return
            if (first != "*" and patterns.SOURCE_LINE.match(text) and not text.isdigit()
                    and (self.pending is None or frame_complete(self.pending.text))):
                return  # a source line gdb printed after a frame ("29\t../poll.c: No such file")
        elif first == "I":
            if patterns.TABLE_HEADER.match(text):
                self.flush()
                self.threads.table_header()
                self.block = None
                return
        elif first == "[":
            self.flush()
            self.on_bracket(text)
            return
        elif first == "(":
            if text.startswith("(gdb)"):
                self.flush()
                self.on_command(text[5:].strip())
                return
            if text.startswith("(More stack frames follow"):
                self.flush()
                if self.block is not None:
                    self.block.complete = False
                return
        if self.pending is not None and self.continue_pending(text, indent):
            return
        self.flush()
        self.other(text, indent)

    def header_line(self, text: str, indent: int) -> bool:
        match = patterns.HEADER.match(text)
        if match:
            self.flush()
            self.on_header(match)
            return True
        match = patterns.STOPPED.match(text)
        if match:  # 'Thread 2 "IO io0" hit Breakpoint 1, ...': that thread is selected now
            self.flush()
            self.select((thread_number(match.group(1), match.group(2)), None, None))
            return True
        if patterns.HEADER_START.match(text):  # a header cut by a wrap: wait for its end
            self.flush()
            self.pending = Pending("header", None, 0, text, indent)
            return True
        return False

    def other(self, text: str, indent: int) -> None:
        """A line that is no frame, row or header."""
        if text.startswith("Backtrace stopped"):
            block = self.block
            if block is not None and not any(usable(f) for f in block.frames):
                block.unreadable = text
        elif text.startswith(("No locals.", "No symbol table info")):
            pass
        elif text.startswith(UNREADABLE):
            block = self.block
            if block is not None and not block.frames:
                block.unreadable = text
                block.complete = False
        elif indent >= 2 or patterns.LOCAL.match(text):
            pass  # `bt full` locals and what they print over several lines
        elif patterns.APPLY_ALL.match(text) or len(text) < 40 and patterns.COMMAND.match(text):
            self.on_command(text)
        elif text.startswith(patterns.GDB_SAYS) or text.startswith("0x"):
            pass
        else:
            # Prose: what follows is no longer the block or the thread shown before.
            self.block = None
            self.selected = None

    # -- wrapped lines ------------------------------------------------------------------
    def continue_pending(self, text: str, indent: int) -> bool:
        """Join a line that a wrap split off the pending one; False when it is no such line."""
        pending = self.pending
        assert pending is not None
        if not may_continue(pending.text, pending.indent, pending.joins, text, indent):
            return False
        if pending.kind == "header":
            joined = join(pending.text, text)
            match = patterns.HEADER.match(joined)
            if match:
                self.pending = None
                self.on_header(match)
                return True
        else:
            joined_frame = join_frame(pending.text, text)
            if joined_frame is None:
                return False
            joined = joined_frame
        pending.text = joined
        pending.joins += 1
        return True

    def flush(self) -> None:
        """Take the pending line as whole."""
        pending = self.pending
        if pending is None:
            return
        self.pending = None
        text = pending.text
        if pending.kind == "header":  # a header whose end never came: take its number if it is one
            match = patterns.HEADER_START.match(text)
            assert match is not None
            lwp = patterns.LWP.search(text)
            if lwp or patterns.INNER.match(text[match.end():].rstrip(" ):")):
                self.on_header_parts(thread_number(match.group(1), match.group(2)),
                                     to_int(lwp.group(1) if lwp else None), None)
            else:
                self.other(text, 0)
            return
        if pending.kind == "row":
            match = patterns.ROW.match(text)
            assert match is not None  # the row's start matched, and joins only add to its end
            self.on_row(match)
            return
        level = pending.level or 0
        frame = self.parser.parse(text, level)
        if frame is not None:
            block = self.add_frame(level, frame)
            if frame.function is not None:
                waits = self.parser.wait_function(frame.function)
                if waits is not None:
                    note_wait_argument(block, waits, text)

    # -- what lines mean -------------------------------------------------------------------
    def on_row(self, match: re.Match[str]) -> None:
        (star, num, sub, lwp1, lwp2, lwp3, lwp4, name, frame) = match.groups()
        snap = self.threads.row(thread_number(num, sub), to_int(lwp1 or lwp2 or lwp3 or lwp4), name)
        self.block = None
        if star:
            snap.current = True
            self.selected = (snap.num, snap.lwp, snap.name)
        if frame.startswith("(running)"):
            snap.unreadable = "running"
            return
        top = self.parser.parse(frame, None)  # the thread's top frame
        if top is not None and not self.threads.has_block(snap) and not snap.frames:
            snap.frames = [top]

    def on_header(self, match: re.Match[str]) -> None:
        inner = patterns.INNER.match(match.group(3))
        self.on_header_parts(thread_number(match.group(1), match.group(2)),
                             patterns.lwp_of(inner) if inner else None, inner.group(5) if inner else None)

    def on_header_parts(self, num: int | None, lwp: int | None, name: str | None) -> None:
        self.start_block(self.threads.header(num, lwp, name), True)

    def start_block(self, snap: ThreadSnapshot, applied: bool) -> None:
        snap.frames = []
        snap.complete = True
        snap.unreadable = None
        self.block = snap
        self.block_applied = applied
        self.block_frames = 0

    def add_frame(self, level: int, frame: Frame) -> ThreadSnapshot:
        """Add a frame to the thread it belongs to, and return that thread."""
        block = self.block
        restart = level == 0 and self.block_frames > 0
        if block is None or (restart and (self.block_applied or self.selected is None)):
            # Frames with no header of their own: a `bt` of the selected thread.
            block = self.threads.selected(self.selected)
            self.start_block(block, False)
        elif restart:
            self.start_block(block, False)  # `frame` output, then `bt` of the same thread
        self.block_frames += 1
        block.frames.append(frame)
        return block

    def on_bracket(self, text: str) -> None:
        match = patterns.SWITCH.match(text)
        if match:
            lwp, name = None, None
            inner = patterns.INNER.match(match.group(3) or "")
            if inner:
                lwp, name = patterns.lwp_of(inner), inner.group(5)
            num = thread_number(match.group(1), match.group(2))
            block = self.block
            if text.startswith("[Current") and block is not None and block.num is None and block.lwp is None:
                # Loading a core, gdb shows the frame first and then whose it is.
                self.threads.claim(block, num, lwp, name)
            self.select((num, lwp, name))
            return
        match = patterns.SWITCH_TARGET.match(text)
        if match:
            inner = patterns.INNER.match(match.group(1))
            if inner:
                self.select((None, patterns.lwp_of(inner), inner.group(5)))

    def select(self, ident: Ident) -> None:
        self.selected = ident
        self.block = None

    def on_command(self, command: str) -> None:
        self.block = None
        if patterns.APPLY_ALL.match(command):
            self.threads.apply_all()

    def finish(self) -> list[list[ThreadSnapshot]]:
        self.flush()
        return self.threads.finish()
