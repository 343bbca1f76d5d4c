"""`qemu-threads`: the gdb command. Thin: parse, run the one pipeline, print."""
from __future__ import annotations

import argparse
import contextlib
import os
import shutil

import gdb

from ..analyze.groups import missing_threads, view
from ..options import UsageError, bad_thread_words, complete, flat, make_parser
from ..render.colour import GDB_STYLES
from ..render.output import render
from ..threadlist import thread_range
from . import annotate, report_files, session
from .errors import guarded
from .settings import settings

SUMMARY = "Show what every thread of a QEMU process is: its role, what it does now, and why."
_SETTINGS_HELP = """
Examples:
  qemu-threads                  the table (fits gdb's width; -v adds the evidence)
  qemu-threads -r vcpu -s lock  the vCPUs waiting for a lock
  qemu-threads --locks          who holds the lock each thread waits for, deadlocks
  qemu-threads -g --bt          each group of identical stacks once, with its backtrace

Settings: `show qemu-threads` lists them; `help set qemu-threads` explains them.
Under gdb, let QEMU's vCPU kicks through with `handle SIGUSR1 nostop noprint pass`."""


def _parser() -> argparse.ArgumentParser:
    parser = make_parser("qemu-threads")
    parser.add_argument("--annotate", action="store_true",
                        help="also name each thread in gdb's own `info threads` after its role "
                             "(the program is not changed)")
    parser.add_argument("--unannotate", action="store_true",
                        help="give the threads back the names gdb had for them")
    parser.add_argument("--sample", type=int, default=1, metavar="N",
                        help="stop N times, the program running 0.1 s in between, for each "
                             "thread's CPU share, whether its stack moved and its states (with "
                             "--why: busy, spinning or stuck); a live local process in all-stop "
                             "mode only; it is left stopped, as found")
    return parser


class QemuThreadsCommand(gdb.Command):
    def __init__(self) -> None:
        self.parser = _parser()
        self.__doc__ = SUMMARY + "\n\n" + self.parser.format_help().replace("usage: ", "Usage: ", 1) \
            + _SETTINGS_HELP
        super().__init__("qemu-threads", gdb.COMMAND_STATUS)

    def invoke(self, argument: str, from_tty: bool) -> None:
        guarded("qemu-threads", lambda: self.run(argument, from_tty))

    def run(self, argument: str, from_tty: bool = False) -> None:
        try:
            opts = self.parser.parse_args(gdb.string_to_argv(argument))
        except UsageError as err:
            if err.help_text:
                gdb.write(err.help_text)
                return
            raise gdb.GdbError(str(err)) from None
        bad = bad_thread_words(opts.threads)
        if bad:
            raise gdb.GdbError("qemu-threads: %s is not a thread number or lwp:N" % bad[0])
        if opts.unannotate:
            annotate.restore()
            return
        config = settings()
        whole = opts.bt or opts.group or opts.report or opts.dot  # those need whole stacks
        analysis = session.analyze_selected(want_lines=opts.bt,
                                            named_decides=None if whole else session.name_decides(),
                                            samples=opts.sample, cpu=opts.why)
        if opts.annotate:
            annotate.annotate(analysis.reports)
        missing = missing_threads(analysis, opts.threads)
        if missing:
            raise gdb.GdbError("qemu-threads: no thread %s in this process (%s)"
                               % (missing[0], thread_range(analysis.reports)))
        shown = view(analysis, flat(opts.role), flat(opts.state), opts.threads)
        if opts.report or opts.dot:
            gdb.write(report_files.write(shown, opts.report, opts.dot) + "\n")
            return
        to_terminal = at_terminal(from_tty)
        colour_on = config.colour_on(opts.color, to_terminal)
        if colour_on and opts.bt:
            GDB_STYLES.update(_gdb_styles())
        gdb.write(render(shown, opts, colour_on, _width(to_terminal)) + "\n")

    def complete(self, text: str, word: str) -> list[str]:
        return complete(self.parser, text, word)


def _gdb_styles() -> dict[str, str]:
    """The user's `set style function|filename|address foreground` colours, as bt uses them."""
    styles = {}
    for name in GDB_STYLES:
        with contextlib.suppress(gdb.error, RuntimeError):
            styles[name] = str(gdb.parameter("style %s foreground" % name))
    return styles


def at_terminal(from_tty: bool) -> bool:
    """Typed at gdb's terminal, output going to it. gdb runs a command whose output goes into
    a pipe (`| cmd | ...`) or a string as in batch mode, with width and height unlimited:
    both unlimited is taken for that (set them to 0 by hand and colour needs --color on)."""
    return from_tty and not (gdb.parameter("width") is None and gdb.parameter("height") is None)


def _width(to_terminal: bool) -> int | None:
    """gdb's `width`; where gdb says unlimited, the terminal's when typed at one, else none."""
    value = gdb.parameter("width")
    if isinstance(value, int) and value:
        return value
    if to_terminal and os.isatty(1):
        return shutil.get_terminal_size().columns
    return None
