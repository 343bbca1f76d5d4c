"""One frame's text as gdb prints it -> a Frame, and the lock or event argument of a frame
that waits ("mutex=0x55d0c1a0 <qemu_global_mutex>") -> the thread's facts.

A large dump repeats the same frames thousands of times: identical frames come back as one
shared Frame object, and equal names one string. The memo of them is bounded (CACHE_LIMIT):
in a dump whose frames are all distinct it would only double the memory.
"""
from __future__ import annotations

import re
from typing import Optional, Tuple

from ..model import Frame, ThreadSnapshot
from ..vocab import WAIT_ARGUMENTS, canonical

_ADDR = re.compile(r"0x([0-9a-fA-F]{1,16})[ \t]+in[ \t]", re.ASCII)
# The usual shape, read in one match: "[0x.. in ]f (args)[ at file:line| from lib]". What it
# does not take (templates, spaces in names, odd locations) goes the long way.
# (Not re.ASCII: \s is then what str.strip() takes away, as the long way does.)
_PLAIN = re.compile(r"(?:0x([0-9a-fA-F]{1,16}) in )?([^\s<>()]+) \(.*\)"
                    r"(?: at ([^\s:]+):([0-9]{1,9})| from (\S+))?", re.DOTALL)

_ARGUMENT = {function: re.compile(r"\b%s=(?:\w+@entry=)?(0x[0-9a-fA-F]+)(?: <([^<>+ ]+)(\+\d+)?>)?" % arg)
             for function, arg in WAIT_ARGUMENTS.items()}

_NAME = re.compile(r"[A-Za-z_$.][\w$.:]*|\?\?")  # a C (or qualified C++) name

# No function name starts with a digit or a dash, or holds a quote, "=", ",", "/" or a blank
# (outside C++ templates, operators, anonymous namespaces and Objective-C methods): such a "name"
# is the piece of a wrapped line (a hex digit run, a thread name), never a function.
_NOT_A_NAME = re.compile(r'^[0-9-]|["=, /]')

FrameKey = Tuple[Optional[str], Optional[str], Optional[int], Optional[str], Optional[int], bool]

CACHE_LIMIT = 1 << 16  # frames remembered; when full, the memo starts again


class FrameParser:
    """Frame texts -> shared Frame objects; remembers which functions wait on an argument."""

    def __init__(self) -> None:
        self.frames: dict[FrameKey, Frame] = {}
        self.strings: dict[str, str] = {}  # one object for equal names, files and libraries
        self.probes: dict[str, str | None] = {}  # function -> its waited-on argument's probe, or None

    def parse(self, text: str, level: int | None) -> Frame | None:
        """The Frame a frame's text shows ("0x.. in f (args) at file:line"), or None if none.
        `level` is the frame's number, None for the top frame of an `info threads` row."""
        plain = _PLAIN.fullmatch(text)
        if plain is not None:
            address, name, file, line, library = plain.groups()
            if address is not None:
                pc: int | None = int(address, 16)
            elif text[:2] == "0x":
                return None
            else:
                pc = None
            if file is not None or library is not None or (") at " not in text and ") from " not in text):
                key = (None if name == "??" else name, library, pc, file, int(line) if line else None,
                       pc is None and bool(level))
                frame = self.frames.get(key)
                return frame if frame is not None else self.share(*key)
        return self._parse(text, level)

    def _parse(self, text: str, level: int | None) -> Frame | None:
        """parse() of any text: names with templates, blanks or odd locations."""
        pc = None
        match = _ADDR.match(text)
        if match:
            pc = int(match.group(1), 16)
            rest = text[match.end():]
        elif text.startswith("0x"):
            return None
        else:
            rest = text
        cut = rest.find(" (")
        if cut < 0:
            if rest.startswith("(") and rest[1:2] == ")":  # "0x.. in () at lib.so"
                cut = 0
            elif rest[:1] == "<" or pc is not None:  # "<signal handler called>", or cut short
                name = rest.strip() if rest[:1] == "<" else bare_name((rest.split() or [""])[0])
                return self.share(name or None, None, pc, None, None, False)
            else:
                return None
        name = rest[:cut].strip()
        if "(" in name and "operator" not in name and "(anonymous" not in name:
            name = bare_name(name)  # "f(a=1," + ...: a wrap lost the blank before the arguments
            cut = len(name)
        tries = 4
        while tries and name.count("<") > name.count(">") and "operator" not in name:
            # a template argument with " (" in it: "f<void (*)(int)> (x=1)"
            tries -= 1
            nxt = rest.find(" (", cut + 1)
            if nxt < 0:
                break
            cut = nxt
            name = rest[:cut].strip()
        function: str | None = None if name == "??" or not name else name
        library = file = None
        line = None
        at = rest.rfind(") at ", cut)
        frm = rest.rfind(") from ", cut)
        if frm > at:
            library = rest[frm + 7 :].strip() or None
        elif at >= 0:
            where = rest[at + 5 :].strip()
            path, colon, number = where.rpartition(":")
            if colon and number.isdigit() and number.isascii() and len(number) < 10:
                file, line = path, int(number)
            elif ".so" in where or where.startswith("/"):
                library = where or None  # gdb's "in  () at /lib/x.so" form
            else:
                file = where or None
        inlined = pc is None and bool(level) and not (function or "").startswith("<")
        return self.share(function, library, pc, file, line, inlined)

    def share(self, function: str | None, library: str | None, pc: int | None,
              file: str | None, line: int | None, inlined: bool) -> Frame:
        if (function is not None and _NOT_A_NAME.search(function.split("<", 1)[0])
                and "operator" not in function and not function.startswith(("(anonymous", "-[", "+["))):
            function = None  # the pieces of a line a wrap broke: no name rather than a wrong one
        key = (function, library, pc, file, line, inlined)
        frame = self.frames.get(key)
        if frame is None:
            if len(self.frames) >= CACHE_LIMIT:
                self.frames.clear()
                self.strings.clear()
            one = self.strings.setdefault
            frame = Frame(function=one(function, function) if function else None,
                          library=one(library, library) if library else None,
                          pc=pc, file=one(file, file) if file else None, line=line, inlined=inlined)
            self.frames[key] = frame
        return frame

    def wait_function(self, function: str) -> str | None:
        """The canonical name of a function whose lock or event argument is worth noting."""
        probe = self.probes.get(function, "")
        if probe == "":
            if "wait" not in function and "lock" not in function:
                # Every name in WAIT_ARGUMENTS has one of these words (a unit test checks it);
                # other names get no place in `probes`: a dump may have millions of them.
                return None
            if len(self.probes) >= CACHE_LIMIT:
                self.probes.clear()
            name = canonical(function)
            probe = self.probes[function] = name if name in WAIT_ARGUMENTS else None
        return probe


def note_wait_argument(snap: ThreadSnapshot, function: str, text: str) -> None:
    """A lock or event argument as gdb prints it ("mutex=0x55d0c1a0 <qemu_global_mutex>"),
    for the lock analysis: the address, and the symbol gdb named it by."""
    match = _ARGUMENT[function].search(text)
    if not match:
        return
    address = int(match.group(1), 16)
    snap.facts.wait_args[function] = address
    if match.group(2) and not match.group(3):
        snap.facts.arg_symbols[address] = match.group(2)


def bare_name(word: str) -> str:
    """The function name at the start of a word that runs on into its arguments
    ("f(a=1,"), or "" when the word is no name: a frame may lose its function, never get a
    wrong one."""
    if "(" not in word:
        return word
    match = _NAME.match(word)
    if match is None:
        return ""
    if match.end() < len(word) and word[match.end()] != "(":
        return ""
    return match.group(0)


def usable(frame: Frame) -> bool:
    """Whether a frame says anything about where the thread is."""
    return bool(frame.function or frame.library or frame.pc)
