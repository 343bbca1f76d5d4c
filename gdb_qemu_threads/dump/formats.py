"""Which debugger printed a text: the first lines that look like any dump decide whether
gdb's, LLDB's or eu-stack's reader reads it all.

Lines before the deciding one (prose, a command) are kept and given to the chosen reader;
so that memory stays bounded, a text that has not decided after MAX_UNDECIDED lines is
given to gdb's reader, which reads prose harmlessly.
"""
from __future__ import annotations

from typing import Callable, Protocol

from ..model import ThreadSnapshot
from . import eustack, lldb, patterns
from .lines import clean

MAX_UNDECIDED = 1000


class Reader(Protocol):
    def feed(self, line: str) -> None: ...

    def finish(self) -> list[list[ThreadSnapshot]]: ...


def format_of(line: str) -> str | None:
    """"gdb", "lldb", "eu-stack", or None for a line that looks like no dump."""
    text, _ = clean(line.rstrip("\r\n"))
    if not text:
        return None
    if lldb.looks_like(text):
        return "lldb"
    if eustack.looks_like(text):
        return "eu-stack"
    first = text[0]
    if first == "#" and patterns.FRAME.match(text):
        return "gdb"
    if first == "T" and (patterns.HEADER_START.match(text) or patterns.STOPPED.match(text)):
        return "gdb"
    if (first == "*" or "0" <= first <= "9") and patterns.ROW.match(text):
        return "gdb"
    if first == "I" and patterns.TABLE_HEADER.match(text):
        return "gdb"
    return None


class Dispatch:
    """A reader that waits for the deciding line, then hands everything to the right one."""

    def __init__(self, gdb_reader: Callable[[], Reader]) -> None:
        self.make_gdb = gdb_reader
        self.reader: Reader | None = None
        self.held: list[str] = []

    def feed(self, line: str) -> None:
        reader = self.reader
        if reader is not None:
            reader.feed(line)
            return
        kind = next(filter(None, map(format_of, line.split("\r"))), None)  # lone CRs end lines too
        self.held.append(line)
        if kind is not None or len(self.held) >= MAX_UNDECIDED:
            self.choose(kind or "gdb")

    def choose(self, kind: str) -> None:
        reader: Reader
        if kind == "lldb":
            reader = lldb.LldbReader()
        elif kind == "eu-stack":
            reader = eustack.EuStackReader()
        else:
            reader = self.make_gdb()
        self.reader = reader
        held, self.held = self.held, []
        for line in held:
            reader.feed(line)

    def finish(self) -> list[list[ThreadSnapshot]]:
        if self.reader is None:
            self.choose("gdb")
        assert self.reader is not None
        return self.reader.finish()
