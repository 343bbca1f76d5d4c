"""One line of pasted gdb text -> the text the reader looks at, and undoing wrapped lines.

People paste gdb output quoted with "> " (at any depth), with tabs, with gdb's pager prompt
in the middle of a line, and wrapped by a terminal or a mail client. Everything here is
about the shape of lines; what a line means is the reader's business (reader.py).
"""
from __future__ import annotations

import re
from typing import Iterator

from ..model import ThreadSnapshot

_A = re.ASCII
# Quote marks of any depth ("> ", ">> ", "> > "), and one space after them.
_QUOTE = re.compile(r"[ \t]*>(?:[ \t]*>)*[ \t]?", _A)
_PAGER = re.compile(r"-{2,3}[ \t]*Type <(?:RET|return)>.*?-{2,3}", _A)

# gdb saying a thread's stack cannot be read.
UNREADABLE = ("Cannot access memory", "Selected thread is running", "Target is executing",
              "No stack.", "Cannot find ", "Could not ")
# Lines that start this way are gdb's own, never the rest of a wrapped line.
NOT_CONTINUED = ("No locals.", "No symbol table", "Backtrace stopped", "(More stack") + UNREADABLE

_LIBRARY_TAIL = re.compile(r"[\w.+-]{1,32}", _A)
_LIBRARY_END = re.compile(r"\.so(?:\.\d+)*$", _A)

_NAME_END = re.compile(r"[\w?>]$", _A)

_ADDRESS_END = re.compile(r"(?:^|\s)0x[0-9a-fA-F]+$", _A)

MAX_JOIN = 16        # continuation lines joined onto one line
MAX_JOINED = 16384   # characters a joined line may reach


class Pending:
    """A line kept back because the next one may continue it (a wrap)."""

    __slots__ = ("kind", "snap", "level", "text", "indent", "joins")

    def __init__(self, kind: str, snap: ThreadSnapshot | None, level: int | None,
                 text: str, indent: int) -> None:
        self.kind = kind      # "frame", "row" or "header"
        self.snap = snap      # a row's thread
        self.level = level    # a frame's number
        self.text = text
        self.indent = indent
        self.joins = 0


def split_lines(text: str) -> Iterator[str]:
    """The lines of a string, one at a time (no copy of the whole text); lone CRs are left
    for the reader, which splits at them itself."""
    start, end = 0, len(text)
    while start < end:
        stop = text.find("\n", start)
        if stop < 0:
            stop = end
        yield text[start:stop]
        start = stop + 1


def clean(line: str) -> tuple[str, int]:
    """(text, indent) of one line without CR: tabs made spaces, quote marks and pager prompts
    removed; text has no leading blanks and is "" for a blank line."""
    if "\t" in line:
        line = line.replace("\t", " ")
    text = line.lstrip(" ")
    if text[:1] == ">":
        line = _QUOTE.sub("", line, 1)
        text = line.lstrip(" ")
    while text[:1] == "-":  # the pager's prompt; the output may go on after it
        match = _PAGER.match(text)
        if not match:
            break
        line = text = text[match.end():].lstrip(" ")
    return text, len(line) - len(text)


def may_continue(head: str, head_indent: int, joins: int, text: str, indent: int) -> bool:
    """Whether `text` (at `indent`) may be the rest of the line `head`, joined `joins` times."""
    return not (text.startswith(NOT_CONTINUED) or indent > head_indent + 1 or joins >= MAX_JOIN
                or len(head) + len(text) > MAX_JOINED)


def join_frame(head: str, tail: str) -> str | None:
    """A frame's text `head` continued by `tail`, or None when `tail` is not its rest."""
    if head.endswith(")") and tail.startswith(("at ", "from ")) and frame_complete(head):
        return head + " " + tail  # the location went to a line of its own
    if frame_complete(head):
        # A terminal cut inside the line number ("at pthread_create.c:8" + "17") or inside a
        # library's version ("from /lib/libc.so" + ".6").
        if tail.isdigit() and tail.isascii() and len(head) >= 30 and _ends_with_line(head):
            return head + tail
        if _LIBRARY_TAIL.fullmatch(tail) and _LIBRARY_END.search(head + tail) and ") from " in head:
            return head + tail
        return None
    return join(head, tail)


def join(head: str, tail: str) -> str:
    """Undo a wrap. Terminals cut anywhere ("stackad" + "dr@entry"), so the parts join as
    they are; a mail client drops the space it broke at, which is put back before or after
    the words gdb puts around a location."""
    if head.endswith(" ") or tail.startswith(" "):
        return head + tail
    if tail[:1] == "(" and "(" not in head and _NAME_END.search(head):
        return head + " " + tail  # "in worker_thread" + "(opaque=...)": gdb puts a blank there
    # Only where gdb has a blank: a terminal's cut inside a name ("ma" + "in (") joins as is.
    if ((tail.startswith(("at ", "from ")) and head.endswith(")"))
            or (tail.startswith("in ") and _ADDRESS_END.search(head)) or tail[:1] == '"'
            or head.endswith((" at", " from", " in")) or (head.endswith(")") and tail[:1].isalpha())):
        return head + " " + tail
    return head + tail


def frame_complete(text: str) -> bool:
    """Whether a frame's text looks whole: args closed and, if any, a location after them."""
    if text.startswith("(running)"):
        return True
    if text[:1] == "<":
        return text.rstrip().endswith(">")
    if text.endswith(")"):
        return _balanced(text)
    at = text.rfind(") at ")
    frm = text.rfind(") from ")
    if frm > at:
        return ".so" in text[frm:] and _balanced(text[: frm + 1])
    if at >= 0:
        where = text[at + 5 :].strip()
        number = where.rpartition(":")[2]
        good = (number.isdigit() and number.isascii()) or (".so" in where and where[-1:] != ".")
        return good and _balanced(text[: at + 1])
    return False


def _ends_with_line(text: str) -> bool:
    at = text.rfind(") at ")
    if at < 0:
        return False
    number = text.rpartition(":")[2]
    return number.isdigit() and number.isascii()


def _balanced(text: str) -> bool:
    """Parentheses balance outside quoted strings and characters."""
    depth = 0
    quote = ""
    escaped = False
    for char in text:
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = ""
        elif char == '"' or char == "'":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
    return depth == 0 and not quote
