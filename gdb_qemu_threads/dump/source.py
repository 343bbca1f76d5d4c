"""Bytes from a file or a pipe -> lines of text, in bounded memory, whatever the bytes are.

A saved dump may be anything a user points the command at: a core file, /dev/zero, a log
with one endless line. Lines are decoded as UTF-8 with bad bytes replaced; a line longer
than gdb ever prints is cut (the rest is skipped, not kept), and a line that goes on past
STOP_AFTER stops the reading altogether, so that memory stays bounded and the command ends.
"""
from __future__ import annotations

import codecs
from typing import BinaryIO, Iterator

LINE_LIMIT = 64 * 1024           # characters: gdb's longest lines (a `bt full` local) are far shorter
STOP_AFTER = 64 * 1024 * 1024    # characters of one line after which reading stops
CHUNK = 1024 * 1024              # bytes read at a time


class LineSource:
    """Iterate to get the lines (without their line ends); afterwards `cut`, `first_cut` and
    `stopped_at` say what was left out."""

    def __init__(self, stream: BinaryIO, limit: int = LINE_LIMIT, stop_after: int = STOP_AFTER,
                 chunk: int = CHUNK) -> None:
        self.stream = stream
        self.limit = limit
        self.stop_after = stop_after
        self.chunk = chunk
        self.cut = 0                       # lines cut at `limit`
        self.first_cut: int | None = None   # the first of them (line number from 1)
        self.stopped_at: int | None = None  # the endless line that stopped the reading
        self._line = 0                     # number of the line being read, from 0

    def __iter__(self) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        read = self.stream.read
        limit = self.limit
        carry = ""          # the start of a line whose end has not come yet
        skipped = -1        # characters of an over-long line dropped so far; -1: not in one
        while True:
            data = read(self.chunk)
            text = decoder.decode(data, not data)
            pieces = text.split("\n")
            if len(pieces) == 1:  # no line end in this chunk
                if skipped >= 0:
                    skipped += len(text)
                    if skipped > self.stop_after:
                        self._line += 1
                        self.stopped_at = self._line
                        yield carry
                        return
                else:
                    carry += text
                    if len(carry) > limit:
                        done, carry, skipped = self._overflow(carry)
                        yield from done
            else:
                if skipped >= 0:  # the end of an over-long line: what was kept of it
                    skipped = -1
                    pieces[0] = carry
                else:
                    pieces[0] = carry + pieces[0]
                carry = pieces.pop()
                for line in pieces:
                    self._line += 1
                    if len(line) > limit:
                        yield from self._long_line(line)
                    else:
                        yield line
                if len(carry) > limit:
                    done, carry, skipped = self._overflow(carry)
                    yield from done
            if not data:
                break
        if carry or skipped >= 0:
            self._line += 1
            yield carry

    def _long_line(self, line: str) -> list[str]:
        """A whole line over the limit: lines of its own at lone CRs (old Mac line ends), and
        each part cut at the limit."""
        return [self._cut(part) for part in line.split("\r")]

    def _overflow(self, carry: str) -> tuple[list[str], str, int]:
        """An unfinished line grew past the limit: (lines done, what is kept of the rest,
        the skip state)."""
        done: list[str] = []
        if "\r" in carry:  # lone CRs end lines too
            done = carry.split("\r")
            carry = done.pop()
            done = [self._cut(part) for part in done]
            if len(carry) <= self.limit:
                return done, carry, -1
        return done, self._cut(carry), 0

    def _cut(self, part: str) -> str:
        if len(part) <= self.limit:
            return part
        self.cut += 1
        if self.first_cut is None:
            self.first_cut = self._line + 1
        return part[: self.limit]

    def notes(self) -> list[str]:
        """What was left out, one clause each, for the user."""
        notes = []
        stopped = self.stopped_at
        cut = self.cut - (1 if stopped is not None else 0)  # the endless line is told apart
        if cut == 1:
            notes.append("line %d was cut at %d characters" % (self.first_cut or 0, self.limit))
        elif cut > 1:
            notes.append("%d lines were cut at %d characters, the first is line %d"
                         % (cut, self.limit, self.first_cut or 0))
        if stopped is not None:
            notes.append("reading stopped in line %d, which goes on for more than %d MiB"
                         % (stopped, self.stop_after // (1024 * 1024)))
        return notes
