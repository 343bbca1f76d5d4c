"""Saved gdb text -> thread snapshots, without gdb.

Reads what people paste in bug reports: `info threads` tables, `thread apply all bt [full]`
and plain `bt` output, from gdb 7 to 15, possibly quoted with "> ", with CRLF line ends,
tabs, lines wrapped by a terminal or a mail client, and prose around it. Several dumps
in one text come back as several lists.

The reader streams: it looks at one line at a time, decides what the line is from its
first character before trying any regex, and keeps only the snapshots it builds.
Identical frames are one shared Frame object.
"""
from __future__ import annotations

import re
import sys
from typing import Dict, Iterable, Iterator, List, Optional, Tuple

from ..model import Frame, ThreadSnapshot
from ..vocab import WAIT_ARGUMENTS, canonical

__all__ = ["DumpError", "parse_dumps", "parse_dump_text"]


class DumpError(ValueError):
    """The text holds no gdb thread list or backtrace. str() is one line."""


_A = re.ASCII
# Quote marks of any depth ("> ", ">> ", "> > "), and one space after them.
_QUOTE = re.compile(r"[ \t]*>(?:[ \t]*>)*[ \t]?", _A)
# What identifies a thread: "Thread 0x7f.. (LWP n)", "LWP n", "process n", "Thread pid.tid".
_TARGET = (r"(?:Thread[ \t]+0x[0-9a-fA-F]{1,16}(?:[ \t]+\(LWP[ \t]+(\d{1,10})\))?"
           r"|LWP[ \t]+(\d{1,10})|process[ \t]+(\d{1,10})|Thread[ \t]+\d{1,10}\.(\d{1,10}))")
# An `info threads` row, leading blanks removed: "* 1    Thread 0x.. (LWP n) "name" FRAME".
_ROW = re.compile(r"(\*[ \t]*)?(\d{1,9})(?:\.(\d{1,9}))?[ \t]+" + _TARGET
                  + r'(?:[ \t]+"([^"]*)")?[ \t]*(.*)', _A)
_TABLE_HEADER = re.compile(r"Id[ \t]+Target[ \t]+Id(?:[ \t]+Frame)?[ \t]*$", _A)
# A `thread apply` header: "Thread 3 (Thread 0x.. (LWP n) "name"):".
_HEADER = re.compile(r"Thread[ \t]+(\d{1,9})(?:\.(\d{1,9}))?[ \t]+\((.*)\)[ \t]*:[ \t]*$", _A)
_HEADER_START = re.compile(r"Thread[ \t]+(\d{1,9})(?:\.(\d{1,9}))?[ \t]+\(", _A)
_LWP = re.compile(r"\(LWP[ \t]+(\d{1,10})\)", _A)
_INNER = re.compile(_TARGET + r'(?:[ \t]+"(.*)")?[ \t]*$', _A)
# gdb telling which thread is selected.
_SWITCH = re.compile(r"\[(?:Switching to thread|Current thread is)[ \t]+(\d{1,9})(?:\.(\d{1,9}))?"
                     r"(?:[ \t]+\((.*)\))?\]", _A)
_SWITCH_TARGET = re.compile(r"\[Switching to (.*)\]", _A)
_STOPPED = re.compile(r'Thread[ \t]+(\d{1,9})(?:\.(\d{1,9}))?(?:[ \t]+"[^"]*")?[ \t]+(?:hit|received)[ \t]',
                      _A)
_FRAME = re.compile(r"#(\d{1,9})[ \t]+(.*)", _A)
_ADDR = re.compile(r"0x([0-9a-fA-F]{1,16})[ \t]+in[ \t]", _A)
_APPLY_ALL = re.compile(r"(?:thread|thr|t)[ \t]+(?:apply|app|a)[ \t]+(?:all|a)\b|taas\b", _A)
_COMMAND = re.compile(r"(?:bt|backtrace|where|info[ \t]+thr\w*|thread(?:[ \t]+\d+)?|t[ \t]+\d+|"
                      r"frame|f|up|down)\b", _A)
_PAGER = re.compile(r"-{2,3}[ \t]*Type <(?:RET|return)>.*?-{2,3}", _A)
_SOURCE_LINE = re.compile(r"\d{1,9}[ \t]", _A)
_LOCAL = re.compile(r"[\w$.\[\]<>]+ = ", _A)

# Lines gdb itself prints around dumps: they neither belong to a frame nor end a block.
_GDB_SAYS = ("warning:", "Reading symbols", "Downloading", "Download failed", "Using host",
             "Attaching to", "Program ", "Continuing", "Run till exit", "Core was generated",
             "Starting program", "Detaching from", "Quit", "Python Exception", "Error ",
             "Breakpoint ", "Temporary breakpoint", "Thread ", "Symbols already loaded",
             "Missing separate debuginfo", "Try: ", "For help,", "Type \"", "GNU gdb",
             "Copyright", "License", "This is free", "There is NO", "This GDB", "Find the GDB",
             "<http", "--Type", "---Type", "Debuginfod", "Enable debuginfod", "No ")
_UNREADABLE = ("Cannot access memory", "Selected thread is running", "Target is executing",
               "No stack.", "Cannot find ", "Could not ")

# Lines that start this way are gdb's own, never the rest of a wrapped line.
_NOT_CONTINUED = ("No locals.", "No symbol table", "Backtrace stopped", "(More stack") + _UNREADABLE

_MAX_JOIN = 16        # continuation lines joined onto one frame
_MAX_JOINED = 16384   # characters a joined line may reach


def parse_dump_text(text: str) -> List[List[ThreadSnapshot]]:
    """parse_dumps() of a whole string."""
    return parse_dumps(_lines(text))


def parse_dumps(lines: Iterable[str]) -> List[List[ThreadSnapshot]]:
    """One list of snapshots per dump found, threads in the order the text shows them.

    Raises DumpError (only that) when the text holds no thread list and no backtrace.
    """
    reader = _Reader()
    feed = reader.feed
    try:
        for line in lines:
            if not isinstance(line, str):
                line = bytes(line).decode("utf-8", "replace")
            feed(line)
    except UnicodeDecodeError as err:
        raise DumpError("not a text file (%s at byte %d)" % (err.reason, err.start)) from None
    dumps = reader.finish()
    if not dumps:
        raise DumpError("no gdb thread list or backtrace found")
    return dumps


def _lines(text: str) -> Iterator[str]:
    """The lines of a string, one at a time (no copy of the whole text); the reader splits
    at lone CRs itself."""
    start, end = 0, len(text)
    while start < end:
        stop = text.find("\n", start)
        if stop < 0:
            stop = end
        yield text[start:stop]
        start = stop + 1


class _Dump:
    """The snapshots of one dump, with what is needed to merge a table with backtraces."""

    __slots__ = ("threads", "by_num", "by_lwp", "rowed", "applied", "has_rows")

    def __init__(self) -> None:
        self.threads: List[ThreadSnapshot] = []
        self.by_num: Dict[int, ThreadSnapshot] = {}
        self.by_lwp: Dict[int, ThreadSnapshot] = {}
        self.rowed: set = set()     # id() of threads with an `info threads` row
        self.applied: set = set()   # id() of threads with a `thread apply` block
        self.has_rows = False

    def find(self, num: Optional[int], lwp: Optional[int]) -> Tuple[Optional[ThreadSnapshot], bool]:
        """The thread with this number (or else LWP), and whether the ids contradict it."""
        snap = self.by_num.get(num) if num is not None else None
        if snap is None and lwp is not None:
            snap = self.by_lwp.get(lwp)
        if snap is None:
            return None, False
        clash = ((lwp is not None and snap.lwp is not None and snap.lwp != lwp)
                 or (num is not None and snap.num is not None and snap.num != num))
        return snap, clash

    def add(self, num: Optional[int], lwp: Optional[int], name: Optional[str]) -> ThreadSnapshot:
        snap = ThreadSnapshot(num=num, lwp=lwp, name=name)
        self.threads.append(snap)
        self.register(snap)
        return snap

    def register(self, snap: ThreadSnapshot) -> None:
        if snap.num is not None:
            self.by_num.setdefault(snap.num, snap)
        if snap.lwp is not None:
            self.by_lwp.setdefault(snap.lwp, snap)


Ident = Tuple[Optional[int], Optional[int], Optional[str]]  # (num, lwp, name)


class _Reader:
    """A line-at-a-time state machine; feed() every line, then finish()."""

    def __init__(self) -> None:
        self.dumps: List[_Dump] = [_Dump()]
        self.frames: Dict[tuple, Frame] = {}   # shared Frame objects
        self.probes: Dict[str, Optional[str]] = {}  # function -> its lock argument's probe, or None
        self.selected: Optional[Ident] = None  # the thread gdb has selected, as last shown
        self.block: Optional[ThreadSnapshot] = None  # thread whose frames are being read
        self.block_applied = False             # that block has a `thread apply` header
        self.block_frames = 0
        # A line kept back because the next one may continue it:
        # (kind, snapshot, level, text, indent, joins) with kind "frame", "row" or "header".
        self.pending: Optional[list] = None

    # -- lines ------------------------------------------------------------------------
    def feed(self, line: str) -> None:
        line = line.rstrip("\r\n")
        if "\r" in line:  # bare CRs: lines of their own
            for part in line.split("\r"):
                self.feed(part)
            return
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
        if not text:
            return  # blank lines change nothing: mail clients add and drop them
        indent = len(line) - len(text)
        first = text[0]
        if first == "#":
            match = _FRAME.match(text)
            if match:
                self.flush()
                self.on_frame(int(match.group(1)), match.group(2), indent)
                return
        elif first == "T":
            if self.header_line(text, indent):
                return
        elif first == "*" or "0" <= first <= "9":
            match = _ROW.match(text)
            if match:
                self.flush()
                self.on_row(match)
                return
            if first != "*" and _SOURCE_LINE.match(text) and not text.isdigit():
                return  # a source line gdb printed after a frame ("29\t../poll.c: No such file")
        elif first == "I":
            if _TABLE_HEADER.match(text):
                self.flush()
                self.on_table_header()
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
        match = _HEADER.match(text)
        if match:
            self.flush()
            self.on_header(match)
            return True
        match = _STOPPED.match(text)
        if match:  # 'Thread 2 "IO io0" hit Breakpoint 1, ...': that thread is selected now
            self.flush()
            self.select((_num(match.group(1), match.group(2)), None, None))
            return True
        if _HEADER_START.match(text):  # a header cut by a wrap: wait for its end
            self.flush()
            self.pending = ["header", None, 0, text, indent, 0]
            return True
        return False

    def other(self, text: str, indent: int) -> None:
        """A line that is no frame, row or header."""
        if text.startswith("Backtrace stopped"):
            self.on_stopped(text)
        elif text.startswith(("No locals.", "No symbol table info")):
            pass
        elif text.startswith(_UNREADABLE):
            block = self.block
            if block is not None and not block.frames:
                block.unreadable = text
                block.complete = False
        elif indent >= 2 or _LOCAL.match(text):
            pass  # `bt full` locals and what they print over several lines
        elif _APPLY_ALL.match(text):
            self.on_command(text)
        elif len(text) < 40 and _COMMAND.match(text):
            self.on_command(text)
        elif text.startswith(_GDB_SAYS) or text.startswith("0x"):
            pass
        else:
            # Prose: what follows is no longer the block or the thread shown before.
            self.block = None
            self.selected = None

    # -- wrapped lines ------------------------------------------------------------------
    def continue_pending(self, text: str, indent: int) -> bool:
        """Join a line that a wrap split off the pending one; False when it is no such line."""
        pending = self.pending
        kind, _, _, ptext, pindent, joins = pending
        if (text.startswith(_NOT_CONTINUED) or indent > pindent + 1 or joins >= _MAX_JOIN
                or len(ptext) + len(text) > _MAX_JOINED):
            return False
        if kind == "header":
            joined = _join(ptext, text)
            if _HEADER.match(joined):
                self.pending = None
                self.on_header(_HEADER.match(joined))
                return True
            pending[3], pending[5] = joined, joins + 1
            return True
        if ptext.endswith(")") and text.startswith(("at ", "from ")) and _frame_complete(ptext):
            joined = ptext + " " + text  # the location went to a line of its own
        elif _frame_complete(ptext):
            # A terminal cut inside the line number: "at pthread_create.c:8" + "17".
            if not (text.isdigit() and text.isascii() and len(ptext) >= 60 and _ends_with_line(ptext)):
                return False
            joined = ptext + text
        else:
            joined = _join(ptext, text)
        pending[3], pending[5] = joined, joins + 1
        return True

    def flush(self) -> None:
        pending = self.pending
        if pending is None:
            return
        self.pending = None
        kind, snap, level, text, _, _ = pending
        if kind == "header":  # a header whose end never came: take its number if it is one
            match = _HEADER_START.match(text)
            lwp = _LWP.search(text)
            if lwp or _INNER.match(text[match.end():].rstrip(" ):")):
                self.on_header_parts(_num(match.group(1), match.group(2)), _int(lwp and lwp.group(1)), None)
            else:
                self.other(text, 0)
            return
        if kind == "row":
            if text.startswith("(running)"):
                snap.unreadable = "running"
                return
            frame = self.frame(text, None)
            if frame is not None and id(snap) not in self.dumps[-1].applied and not snap.frames:
                snap.frames = [frame]
            return
        frame = self.frame(text, level)
        if frame is not None:
            self.add_frame(level, frame)
            function = frame.function
            if function is not None:
                probe = self.probes.get(function, "")
                if probe == "":
                    name = canonical(function)
                    probe = self.probes[function] = name if name in WAIT_ARGUMENTS else None
                if probe is not None:
                    _note_wait_argument(self.block, probe, text)

    # -- what lines mean -------------------------------------------------------------------
    def new_dump(self) -> _Dump:
        dump = _Dump()
        self.dumps.append(dump)
        self.block = None
        return dump

    def on_table_header(self) -> None:
        if self.dumps[-1].has_rows:
            self.new_dump()
        self.block = None

    def on_row(self, match) -> None:
        (star, num, sub, lwp1, lwp2, lwp3, lwp4, name, frame) = match.groups()
        num_i = _num(num, sub)
        lwp = _int(lwp1 or lwp2 or lwp3 or lwp4)
        dump = self.dumps[-1]
        snap, clash = dump.find(num_i, lwp)
        if clash or (snap is not None and id(snap) in dump.rowed):
            dump = self.new_dump()
            snap = None
        if snap is None:
            snap = dump.add(num_i, lwp, name)
            snap.complete = False
        else:
            _fill(snap, num_i, lwp, name)
            dump.register(snap)
        if name is not None:
            snap.name = name
        dump.rowed.add(id(snap))
        dump.has_rows = True
        self.block = None
        if star:
            snap.current = True
            self.selected = (snap.num, snap.lwp, snap.name)
        self.pending = ["row", snap, None, frame, 0, 0]

    def on_header(self, match) -> None:
        num = _num(match.group(1), match.group(2))
        inner = _INNER.match(match.group(3))
        if inner:
            lwp = _int(inner.group(1) or inner.group(2) or inner.group(3) or inner.group(4))
            self.on_header_parts(num, lwp, inner.group(5))
        else:
            self.on_header_parts(num, None, None)

    def on_header_parts(self, num: Optional[int], lwp: Optional[int], name: Optional[str]) -> None:
        dump = self.dumps[-1]
        snap, clash = dump.find(num, lwp)
        if clash or (snap is not None and id(snap) in dump.applied):
            dump = self.new_dump()  # the same thread again: a later `thread apply all bt`
            snap = None
        if snap is None:
            snap = dump.add(num, lwp, name)
        else:
            _fill(snap, num, lwp, name)
            dump.register(snap)
        dump.applied.add(id(snap))
        self.start_block(snap, True)

    def start_block(self, snap: ThreadSnapshot, applied: bool) -> None:
        snap.frames = []
        snap.complete = True
        snap.unreadable = None
        self.block = snap
        self.block_applied = applied
        self.block_frames = 0

    def on_frame(self, level: int, text: str, indent: int) -> None:
        # Which thread it is for is decided once the line is known to be whole (flush).
        self.pending = ["frame", None, level, text, indent, 0]

    def add_frame(self, level: int, frame: Frame) -> None:
        block = self.block
        restart = level == 0 and self.block_frames > 0
        if block is None or (restart and (self.block_applied or self.selected is None)):
            # Frames with no header of their own: a `bt` of the selected thread (a thread
            # of its own when the text does not say which one is selected).
            block = self.selected_thread()
            self.start_block(block, False)
        elif restart:
            self.start_block(block, False)  # `frame` output, then `bt` of the same thread
        self.block_frames += 1
        block.frames.append(frame)

    def selected_thread(self) -> ThreadSnapshot:
        dump = self.dumps[-1]
        if self.selected is None:
            return dump.add(None, None, None)
        num, lwp, name = self.selected
        snap, clash = dump.find(num, lwp)
        if clash:
            dump = self.new_dump()
            snap = None
        if snap is None:
            return dump.add(num, lwp, name)
        _fill(snap, num, lwp, name)
        dump.register(snap)
        return snap

    def on_stopped(self, text: str) -> None:
        block = self.block
        if block is not None and not any(_usable(f) for f in block.frames):
            block.unreadable = text

    def on_bracket(self, text: str) -> None:
        match = _SWITCH.match(text)
        if match:
            lwp, name = None, None
            inner = _INNER.match(match.group(3) or "")
            if inner:
                lwp = _int(inner.group(1) or inner.group(2) or inner.group(3) or inner.group(4))
                name = inner.group(5)
            num = _num(match.group(1), match.group(2))
            block = self.block
            if (text.startswith("[Current") and block is not None and block.num is None
                    and block.lwp is None and self.dumps[-1].find(num, lwp)[0] is None):
                # Loading a core, gdb shows the frame first and then whose it is.
                _fill(block, num, lwp, name)
                self.dumps[-1].register(block)
            self.select((num, lwp, name))
            return
        match = _SWITCH_TARGET.match(text)
        if match:
            inner = _INNER.match(match.group(1))
            if inner:
                lwp = _int(inner.group(1) or inner.group(2) or inner.group(3) or inner.group(4))
                self.select((None, lwp, inner.group(5)))

    def select(self, ident: Ident) -> None:
        self.selected = ident
        self.block = None

    def on_command(self, command: str) -> None:
        self.block = None
        if _APPLY_ALL.match(command) and self.dumps[-1].applied:
            self.new_dump()

    def finish(self) -> List[List[ThreadSnapshot]]:
        self.flush()
        for dump in self.dumps:
            for snap in dump.threads:
                if not snap.frames:
                    snap.complete = False
        return [dump.threads for dump in self.dumps if dump.threads]

    # -- frames ----------------------------------------------------------------------------
    def frame(self, text: str, level: Optional[int]) -> Optional[Frame]:
        """The Frame a frame's text shows ("0x.. in f (args) at file:line"), or None if none."""
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
                name = rest.strip() if rest[:1] == "<" else (rest.split() or [""])[0]
                return self.share(name or None, None, pc, None, None, False)
            else:
                return None
        name = rest[:cut].strip()
        tries = 4
        while tries and name.count("<") > name.count(">") and "operator" not in name:
            # a template argument with " (" in it: "f<void (*)(int)> (x=1)"
            tries -= 1
            nxt = rest.find(" (", cut + 1)
            if nxt < 0:
                break
            cut = nxt
            name = rest[:cut].strip()
        if name == "??" or not name:
            name = None
        library = file = line = None
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
        inlined = pc is None and bool(level) and not (name or "").startswith("<")
        return self.share(name, library, pc, file, line, inlined)

    def share(self, function, library, pc, file, line, inlined) -> Frame:
        key = (function, library, pc, file, line, inlined)
        frame = self.frames.get(key)
        if frame is None:
            intern = sys.intern
            frame = Frame(function=intern(function) if function else None,
                          library=intern(library) if library else None,
                          pc=pc, file=intern(file) if file else None, line=line, inlined=inlined)
            self.frames[key] = frame
        return frame


_ARGUMENT = {function: re.compile(r"\b%s=(?:\w+@entry=)?(0x[0-9a-fA-F]+)(?: <([^<>+ ]+)(\+\d+)?>)?" % arg)
             for function, arg in WAIT_ARGUMENTS.items()}


def _note_wait_argument(snap: Optional[ThreadSnapshot], function: str, text: str) -> None:
    """A lock or event argument as gdb prints it ("mutex=0x55d0c1a0 <qemu_global_mutex>"),
    for locks.py: the address, and the symbol gdb named it by."""
    if snap is None:
        return
    match = _ARGUMENT[function].search(text)
    if not match:
        return
    address = int(match.group(1), 16)
    snap.facts.wait_args[function] = address
    if match.group(2) and not match.group(3):
        snap.facts.arg_symbols[address] = match.group(2)


def _num(num: Optional[str], sub: Optional[str]) -> Optional[int]:
    """gdb's thread number; "2.3" (inferior 2, thread 3) gives 3."""
    return _int(sub if sub is not None else num)


def _int(text: Optional[str]) -> Optional[int]:
    return int(text) if text else None


def _fill(snap: ThreadSnapshot, num: Optional[int], lwp: Optional[int], name: Optional[str]) -> None:
    if snap.num is None:
        snap.num = num
    if snap.lwp is None:
        snap.lwp = lwp
    if snap.name is None:
        snap.name = name


def _usable(frame: Frame) -> bool:
    return bool(frame.function or frame.library or frame.pc)


def _ends_with_line(text: str) -> bool:
    at = text.rfind(") at ")
    if at < 0:
        return False
    number = text.rpartition(":")[2]
    return number.isdigit() and number.isascii()


def _join(head: str, tail: str) -> str:
    """Undo a wrap. Terminals cut anywhere ("stackad" + "dr@entry"), so the parts join as
    they are; a mail client drops the space it broke at, which is put back before or after
    the words gdb puts around a location."""
    if head.endswith(" ") or tail.startswith(" "):
        return head + tail
    if (tail.startswith(("at ", "from ", "in ", '"')) or head.endswith((" at", " from", " in"))
            or (head.endswith(")") and tail[:1].isalpha())):
        return head + " " + tail
    return head + tail


def _frame_complete(text: str) -> bool:
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
