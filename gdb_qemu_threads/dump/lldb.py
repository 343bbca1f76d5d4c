"""LLDB's `thread list` and `thread backtrace all` (`bt all`) text -> thread snapshots.

The lines are LLDB's defaults (settings thread-format, thread-stop-format, frame-format):

    * thread #1: tid = 0x1a2b3, 0x000000018d6c9c2c libsystem_kernel.dylib`__semwait_signal + 8, name = 'x'
    * thread #1, name = 'qemu-system-aar', queue = 'com.apple.main-thread', stop reason = ...
      * frame #0: 0x000000018d6c9c2c libsystem_kernel.dylib`__semwait_signal + 8
        frame #3: 0x0000000102a8b5c4 qemu-system-aarch64`qemu_main_loop at runstate.c:818:9 [opt]

Older LLDBs print `name = x` without quotes, after the stop reason; Linux LLDBs print the tid
in decimal. A frame's module is its library, except QEMU's own executable (gdb's frames name
no library for the executable either, and the table's stripped-build evidence relies on it).
"""
from __future__ import annotations

import re

from ..model import Frame, ThreadSnapshot
from .frames import FrameParser
from .lines import MAX_JOIN, MAX_JOINED, clean

_A = re.ASCII
THREAD = re.compile(r"(\*[ \t]*)?thread #(\d{1,9})\b(.*)", _A)
FRAME = re.compile(r"(?:\*[ \t]*)?frame #(\d{1,9}):[ \t]*(.*)", _A)
_TID = re.compile(r"\btid = (0x[0-9a-fA-F]{1,16}|\d{1,10})\b", _A)
_QUOTED_NAME = re.compile(r"\bname = '(.*?)'(?=,|$)")
_BARE_NAME = re.compile(r"\bname = ([^,']*?)(?:, (?:queue|stop reason|activity) = |$)")
_PC = re.compile(r"(0x[0-9a-fA-F]{1,16})(?: (.*))?$", _A)
_LOCATION = re.compile(r" at ([^\s:]+):(\d{1,9})(?::\d{1,9})?$", _A)
_OFFSET = re.compile(r" \+ \d{1,9}$", _A)
_MARKS = re.compile(r"(?: \[(?:opt|artificial|inlined)\])+$", _A)
# "-[Class(Category) selector:with:]": one blank, between the class and the selector.
_OBJC = re.compile(r"[-+]\[[A-Za-z_]\w*(?:\([A-Za-z_]\w*\))? [A-Za-z_][\w:]*\]", _A)
_ANSI = re.compile(r"\x1b\[[0-9;]*m", _A)
_FULL_PC = re.compile(r"0x[0-9a-fA-F]{16}$", _A)
_WORDS_AFTER = ("at ", "+ ", "[opt]", "[artificial]", "[inlined]", "name = ", "queue = ",
                "stop reason = ", "activity = ", "tid = ")
_WORDS = {"at", "+", "[opt]", "[artificial]", "[inlined]"}  # LLDB puts blanks around them
# Lines LLDB prints between listings: never the rest of a wrapped line.
_LLDB_SAYS = ("(lldb)", "Process ", "error:", "warning:", "Executable module", "Architecture set",
              "This version of LLDB")
# How QEMU's executable is called: its frames are the program's, not a library's.
_EXECUTABLE = re.compile(r"^qemu(?:-system-[\w-]+|-[\w-]+)?$", _A)


def looks_like(text: str) -> bool:
    """Whether a cleaned line is one of LLDB's thread or frame lines."""
    return bool(THREAD.match(text) and ("tid = " in text or "," in text or text.rstrip().endswith(
        tuple("0123456789")))) or bool(FRAME.match(text) and "`" in text)


class LldbReader:
    """feed() every line, then finish(): the threads, in the order the text shows them."""

    def __init__(self) -> None:
        self.parser = FrameParser()
        self.dumps: list[list[ThreadSnapshot]] = [[]]
        self.seen: dict[int, ThreadSnapshot] = {}  # the current dump's threads by number
        self.thread: ThreadSnapshot | None = None
        self.pending: str | None = None    # a thread or frame line a wrap may continue
        self.joins = 0

    def feed(self, line: str) -> None:
        line = _ANSI.sub("", line.rstrip("\r\n"))
        text, _ = clean(line)
        if not text:
            return
        if THREAD.match(text) or FRAME.match(text):
            self.flush()
            self.pending = text
            self.joins = 0
        elif self.pending is not None and not text.startswith(_LLDB_SAYS) and self.may_join(text):
            self.pending = _join(self.pending, text)
            self.joins += 1
        else:
            self.flush()  # prose or a command; frames come after a thread line in every dump

    def may_join(self, text: str) -> bool:
        assert self.pending is not None
        return self.joins < MAX_JOIN and len(self.pending) + len(text) < MAX_JOINED

    def flush(self) -> None:
        text, self.pending = self.pending, None
        if text is None:
            return
        match = THREAD.match(text)
        if match:
            self.on_thread(int(match.group(2)), bool(match.group(1)), match.group(3))
            return
        match = FRAME.match(text)
        thread = self.thread
        if match and thread is not None:
            if not thread.complete:  # the frames of a thread whose line showed frame 0 only
                thread.frames = []
                thread.complete = True
            frame = self.frame(match.group(2), int(match.group(1)))
            if frame is not None:
                thread.frames.append(frame)

    def on_thread(self, num: int, current: bool, rest: str) -> None:
        tid = _TID.search(rest)
        named = _QUOTED_NAME.search(rest) or _BARE_NAME.search(rest)
        lwp = int(tid.group(1), 0) if tid else None
        name = named.group(1) if named and named.group(1) else None
        snap = self.seen.get(num)
        if snap is not None and len(snap.frames) > 1:  # a second backtrace: a later moment
            self.dumps.append([])
            self.seen = {}
            snap = None
        if snap is None:
            snap = ThreadSnapshot(num=num, lwp=lwp, name=name)
            snap.complete = True
            self.dumps[-1].append(snap)
            self.seen[num] = snap
        else:
            # The stop display (frame 0 of each thread), `thread list` and `bt all` of one
            # stop: one dump, whose frames are the fullest listing's.
            snap.lwp = snap.lwp if lwp is None else lwp
            snap.name = snap.name if name is None else name
            snap.complete = False  # frames that follow replace the one frame known
        snap.current = snap.current or current
        self.thread = snap
        if rest.startswith(":"):  # `thread list`: frame 0 is on the line, before the name
            frame_text = rest[1:].split(", ", 2)
            if len(frame_text) >= 2 and frame_text[1].startswith("0x"):
                top = self.frame(_cut_fields(frame_text[1] + (", " + frame_text[2] if len(frame_text) > 2
                                                              else "")), 0)
                snap.frames = [top] if top is not None else []
                snap.complete = False  # one frame only

    def frame(self, text: str, level: int) -> Frame | None:
        """A frame's text after "frame #N: " -> a Frame."""
        text = _MARKS.sub("", text.strip())
        match = _PC.match(text)
        if match is None:
            return None
        pc = int(match.group(1), 16)
        rest = match.group(2) or ""
        file = None
        line = None
        where = _LOCATION.search(rest)
        if where:
            file, line = where.group(1), int(where.group(2))
            rest = rest[: where.start()]
        rest = _MARKS.sub("", _OFFSET.sub("", _MARKS.sub("", rest)))
        module, tick, symbol = rest.partition("`")
        function = _function(symbol) if tick else None
        library = module.strip() or None
        if library is not None and _EXECUTABLE.match(library):
            library = None
        return self.parser.share(function, library, pc, file, line, False)

    def finish(self) -> list[list[ThreadSnapshot]]:
        self.flush()
        return [dump for dump in self.dumps if dump]


def _cut_fields(text: str) -> str:
    """The frame of a `thread list` line, without the fields that follow it."""
    for field in (", name = ", ", queue = ", ", stop reason = ", ", activity = "):
        cut = text.find(field)
        if cut >= 0:
            text = text[:cut]
    return text


def _function(symbol: str) -> str | None:
    """The function's name alone: no arguments, no offset; None for LLDB's made-up names
    of a stripped binary's functions (___lldb_unnamed_symbol123)."""
    symbol = symbol.strip()
    if symbol.startswith(("-[", "+[")):  # Objective-C: "-[NSApplication run]"
        method = _OBJC.match(symbol)
        return method.group(0) if method else None  # a wrap's stray blank: no name
    inlined = symbol.rfind("[inlined] ")
    if inlined >= 0:  # "caller [inlined] callee(args)": the frame is the inlined callee's
        symbol = symbol[inlined + len("[inlined] "):]
    if symbol.startswith("___lldb_unnamed_symbol") or not symbol:
        return None
    paren = symbol.find("(")
    if paren > 0 and not symbol.startswith("(anonymous"):
        symbol = symbol[:paren]
    return symbol.strip() or None


def _join(head: str, tail: str) -> str:
    """A thread or frame line continued by a wrap; the blank a mail client dropped is put
    back where LLDB has one."""
    if head.endswith(" ") or tail.startswith(" "):
        return head + tail
    method = head.rpartition("`")[2]
    if method.startswith(("-[", "+[")) and " " not in method and "]" not in method:
        return head + " " + tail  # the blank between an Objective-C class and its selector
    if (tail.startswith(_WORDS_AFTER) or tail.split(" ", 1)[0] in _WORDS
            or head.rpartition(" ")[2] in _WORDS or head.endswith((",", ":"))
            or _FULL_PC.search(head) or tail.startswith("0x") or tail[:1] == "[" and head[-1:] != "-"):
        return head + " " + tail
    return head + tail
