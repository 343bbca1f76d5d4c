"""`qemu-thread-origins`: the gdb commands over the thread-creation recorder."""
from __future__ import annotations

import argparse
from typing import Callable

import gdb

from ..creation.select import OriginRow, SelectionError, select
from ..inferior import recorder
from ..inferior.clone_state import DEFAULT_MAX_FRAMES
from ..model import ThreadReport
from ..options import Parser, UsageError, option_words
from ..render import origins_text
from . import session
from .errors import guarded

COMMAND = origins_text.COMMAND

_PREFIX_DOC = """Record which thread created each thread, and from where.

Usage: qemu-thread-origins start|stop|clear|status|show [OPTION...] [THREAD...]

`start` before `run` (or while attached) puts internal breakpoints on clone3 and clone that
note the creating thread and its backtrace and let the program run on (about half a
millisecond per new thread); `show` then lists, for each thread created since, its creation
backtrace, the thread that created it and its role as `qemu-threads` sees it. Threads that
exited stay listed, marked gone. `qemu-threads` shows the creator too while records exist.
Process creations (fork, posix_spawn, system) are counted, not listed as threads.
Recording survives `run` again, `kill`, `detach` and exec; records are kept per inferior.
Each subcommand takes --help."""


def _frame_count(text: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError("%r is not a number of frames (0 keeps them all)" % text)
    return value


def _parser(name: str, description: str) -> Parser:
    return Parser(prog="%s %s" % (COMMAND, name), description=description,
                  formatter_class=argparse.RawDescriptionHelpFormatter)


def _start_parser() -> Parser:
    parser = _parser("start", """\
Use it before `run` (the breakpoints wait until libc is loaded) or while attached; threads
created before it are not recorded.""")
    parser.add_argument("-n", "--max-frames", type=_frame_count, metavar="N",
                        help="keep N frames of each creation backtrace; 0 keeps them all "
                             "(default %d)" % DEFAULT_MAX_FRAMES)
    return parser


def _show_parser() -> Parser:
    parser = _parser("show", """\
Without THREAD, every thread created while recording in the current process (or the last
one of this inferior) is listed, in creation order, exited ones marked gone. Columns as in
qemu-threads: gdb thread number, LWP, name, role ("?": weak evidence), then whether it is
alive, the creating thread (LWP and gdb number while it lives), and the callers that asked
for the thread (the frames above clone/clone3 and the thread library).""")
    parser.add_argument("threads", nargs="*", metavar="THREAD",
                        help="a gdb thread number, an LWP, or lwp:N")
    parser.add_argument("--bt", action="store_true",
                        help="the whole creation backtrace of each thread, innermost frame first")
    parser.add_argument("--json", action="store_true",
                        help='one JSON document: {"origins": [{"lwp", "num", "name", "alive", '
                             '"parent_lwp", "parent_num", "role", "confidence", "pid", "via", '
                             '"frames": [innermost first, from clone3/clone]}]}')
    parser.add_argument("--all", action="store_true",
                        help="every process recorded (earlier runs, other inferiors), not just "
                             "the current one")
    return parser


def _parse(parser: Parser, argument: str) -> argparse.Namespace | None:
    """The options, or None when --help was printed; a bad word is one line."""
    try:
        opts, extra = parser.parse_known_args(gdb.string_to_argv(argument))
    except UsageError as err:
        if err.help_text:
            gdb.write(err.help_text)
            return None
        raise gdb.GdbError(str(err)) from None
    if extra:
        options = option_words(parser)
        if extra[0].startswith("-"):
            raise gdb.GdbError("%s: unknown option %s (options: %s)"
                               % (parser.prog, extra[0], ", ".join(options)))
        if options == ["--help"]:
            raise gdb.GdbError("%s takes no arguments" % parser.prog)
        raise gdb.GdbError("%s: unexpected %r (see `%s --help`)" % (parser.prog, extra[0], parser.prog))
    return opts


class _Subcommand(gdb.Command):
    """One subcommand: its parser makes its help, its options and their completion."""

    def __init__(self, name: str, summary: str, parser: Parser,
                 run: Callable[[argparse.Namespace], str]) -> None:
        self.parser = parser
        self.run = run
        self.__doc__ = summary + "\n\n" + parser.format_help().replace("usage: ", "Usage: ", 1)
        super().__init__("%s %s" % (COMMAND, name), gdb.COMMAND_STATUS)

    def invoke(self, argument: str, from_tty: bool) -> None:
        def body() -> None:
            opts = _parse(self.parser, argument)
            if opts is not None:
                text = self.run(opts)
                if text:
                    gdb.write(text + "\n")
        guarded(COMMAND, body)

    def complete(self, text: str, word: str | None) -> list[str]:
        # gdb breaks words at "-": `word` may be only the end of the option being typed.
        token = "" if not text or text[-1].isspace() else text.split()[-1]
        cut = len(token) - len(word or "")
        return [o[cut:] for o in option_words(self.parser) if o.startswith(token)]


def _status_text() -> str:
    status = recorder.status()
    return origins_text.status_text(status.recording, status.counts, status.notes, status.errors,
                                    status.last_error)


def _reports(pid: int) -> dict[int, ThreadReport]:
    """What qemu-threads decides of every live thread of the selected inferior, by LWP, with
    the user's settings (signatures file, max-frames); nothing if it cannot decide."""
    try:
        analysis = session.analyze_selected()
    except Exception:
        return {}
    if analysis.pid != pid:
        return {}
    return {r.snapshot.lwp: r for r in analysis.reports if r.snapshot.lwp is not None}


def _show(opts: argparse.Namespace) -> str:
    shown = recorder.shown(opts.all)
    try:
        chosen = select(shown.records, opts.threads)
    except SelectionError as err:
        raise gdb.GdbError("%s: %s" % (COMMAND, err)) from None
    reports: dict[int, ThreadReport] = {}
    if shown.pid and any(r.alive and r.pid == shown.pid for r in chosen):
        reports = _reports(shown.pid)
    rows = []
    for record in chosen:
        current = record.pid == shown.pid and record.inferior == shown.inferior
        parent = shown.live.get(record.parent_lwp) if current else None
        rows.append(OriginRow(record, reports.get(record.lwp) if current and record.alive else None,
                              parent[0] if parent else None,
                              current and record.alive and record.num == shown.selected))
    if opts.json:
        return origins_text.json_document(rows, shown.pid)
    status = recorder.status()
    if not rows:
        return origins_text.nothing_recorded(shown.recorded_any, status.recording,
                                             status.counts["pending"])
    body = origins_text.format_backtraces(rows) if opts.bt else origins_text.format_table(rows)
    return body + "\n" + origins_text.status_line(status.recording, status.counts)


class _Prefix(gdb.Command):
    def __init__(self) -> None:
        self.__doc__ = _PREFIX_DOC
        super().__init__(COMMAND, gdb.COMMAND_STATUS, gdb.COMPLETE_NONE, True)

    def invoke(self, argument: str, from_tty: bool) -> None:
        def body() -> None:
            if argument.strip():
                raise gdb.GdbError("%s: unknown subcommand %r (start, stop, clear, status, show)"
                                   % (COMMAND, argument.split()[0]))
            gdb.write(_status_text() + "\nSubcommands: start, stop, clear, status, show; "
                      "see `help %s`.\n" % COMMAND)
        guarded(COMMAND, body)


_registered = False


def register() -> None:
    """Create the commands and connect the event handlers, once however often it is called."""
    global _registered
    if _registered:
        return
    _registered = True
    recorder.connect_events()
    _Prefix()
    _Subcommand("start", "Start recording thread creation.", _start_parser(),
                lambda opts: recorder.start(opts.max_frames))
    _Subcommand("stop", "Stop recording thread creation and remove its breakpoints.",
                _parser("stop", "The records are kept: `show` still lists them, `clear` forgets "
                                "them."), lambda opts: recorder.stop())
    _Subcommand("clear", "Forget every thread creation recorded so far.",
                _parser("clear", "Recording goes on if it was on."), lambda opts: recorder.clear())
    _Subcommand("status", "Say whether thread creation is recorded, and how much is.",
                _parser("status", "Also says what is not recorded, and why."),
                lambda opts: _status_text())
    _Subcommand("show", "List the recorded creation of each thread.", _show_parser(), _show)
