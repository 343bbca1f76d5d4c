"""The shapes of the lines gdb prints around threads and backtraces, as regexes matched
against a line's text after clean-up (lines.clean: no leading blanks, no tabs)."""
from __future__ import annotations

import re

_A = re.ASCII
# What identifies a thread: "Thread 0x7f.. (LWP n)", "LWP n", "process n", "Thread pid.tid".
TARGET = (r"(?:Thread[ \t]+0x[0-9a-fA-F]{1,16}(?:[ \t]+\(LWP[ \t]+(\d{1,10})\))?"
          r"|LWP[ \t]+(\d{1,10})|process[ \t]+(\d{1,10})|Thread[ \t]+\d{1,10}\.(\d{1,10}))")
# An `info threads` row, leading blanks removed: "* 1    Thread 0x.. (LWP n) "name" FRAME".
ROW = re.compile(r"(\*[ \t]*)?(\d{1,9})(?:\.(\d{1,9}))?[ \t]+" + TARGET
                 + r'(?:[ \t]+"([^"]*)")?[ \t]*(.*)', _A)
TABLE_HEADER = re.compile(r"Id[ \t]+Target[ \t]+Id(?:[ \t]+Frame)?[ \t]*$", _A)
# A `thread apply` header: "Thread 3 (Thread 0x.. (LWP n) "name"):".
HEADER = re.compile(r"Thread[ \t]+(\d{1,9})(?:\.(\d{1,9}))?[ \t]+\((.*)\)[ \t]*:[ \t]*$", _A)
HEADER_START = re.compile(r"Thread[ \t]+(\d{1,9})(?:\.(\d{1,9}))?[ \t]+\(", _A)
LWP = re.compile(r"\(LWP[ \t]+(\d{1,10})\)", _A)
INNER = re.compile(TARGET + r'(?:[ \t]+"(.*)")?[ \t]*$', _A)
# gdb telling which thread is selected.
SWITCH = re.compile(r"\[(?:Switching to thread|Current thread is)[ \t]+(\d{1,9})(?:\.(\d{1,9}))?"
                    r"(?:[ \t]+\((.*)\))?\]", _A)
SWITCH_TARGET = re.compile(r"\[Switching to (.*)\]", _A)
STOPPED = re.compile(r'Thread[ \t]+(\d{1,9})(?:\.(\d{1,9}))?(?:[ \t]+"[^"]*")?[ \t]+(?:hit|received)[ \t]',
                     _A)
FRAME = re.compile(r"#(\d{1,9})[ \t]+(.*)", _A)
APPLY_ALL = re.compile(r"(?:thread|thr|t)[ \t]+(?:apply|app|a)[ \t]+(?:all|a)\b|taas\b", _A)
COMMAND = re.compile(r"(?:bt|backtrace|where|info[ \t]+thr\w*|thread(?:[ \t]+\d+)?|t[ \t]+\d+|"
                     r"frame|f|up|down)\b", _A)
SOURCE_LINE = re.compile(r"\d{1,9}[ \t]", _A)
LOCAL = re.compile(r"[\w$.\[\]<>]+ = ", _A)

# Lines gdb itself prints around dumps: they neither belong to a frame nor end a block.
GDB_SAYS = ("warning:", "Reading symbols", "Downloading", "Download failed", "Using host",
            "Attaching to", "Program ", "Continuing", "Run till exit", "Core was generated",
            "Starting program", "Detaching from", "Quit", "Python Exception", "Error ",
            "Breakpoint ", "Temporary breakpoint", "Thread ", "Symbols already loaded",
            "Missing separate debuginfo", "Try: ", "For help,", "Type \"", "GNU gdb",
            "Copyright", "License", "This is free", "There is NO", "This GDB", "Find the GDB",
            "<http", "--Type", "---Type", "Debuginfod", "Enable debuginfod", "No ")


def lwp_of(target: re.Match[str]) -> int | None:
    """The LWP in a match of INNER (or of any pattern that starts with TARGET's groups)."""
    text = target.group(1) or target.group(2) or target.group(3) or target.group(4)
    return int(text) if text else None
