"""`qemu-threads`: the gdb command. Thin: parse, run the one pipeline, print."""
from __future__ import annotations

import argparse

import gdb

from ..analyze.groups import view
from ..model import ROLES, STATES, ThreadReport
from ..options import UsageError, bad_thread_words, flat, make_parser, option_words
from ..render.output import render
from . import session
from .errors import guarded
from .settings import settings

_SETTINGS_HELP = """
Settings: set qemu-threads max-frames N (frames read per thread, 0 for all; default 64),
set qemu-threads color auto|on|off, set qemu-threads signatures-file FILE (extra signatures),
set qemu-threads reuse-stacks on|off (recognise stacks already unwound; default on),
set qemu-threads debug on|off. Under gdb, let QEMU's vCPU kicks through with
`handle SIGUSR1 nostop noprint pass`."""


def _parser() -> argparse.ArgumentParser:
    parser = make_parser("qemu-threads")
    parser.add_argument("--annotate", action="store_true",
                        help="also name each thread in gdb's own `info threads` after its role "
                             "(the program is not changed)")
    parser.add_argument("--unannotate", action="store_true",
                        help="give the threads back the names gdb had for them")
    return parser


class QemuThreadsCommand(gdb.Command):
    def __init__(self) -> None:
        self.parser = _parser()
        self.__doc__ = self.parser.format_help().replace("usage: ", "Usage: ", 1) + _SETTINGS_HELP
        super().__init__("qemu-threads", gdb.COMMAND_STATUS)

    def invoke(self, argument: str, from_tty: bool) -> None:
        guarded("qemu-threads", lambda: self.run(argument))

    def run(self, argument: str) -> None:
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
            _unannotate()
            return
        config = settings()
        table = config.table()
        whole = opts.bt or opts.group  # those need whole stacks
        analysis = session.analyze_selected(
            want_lines=opts.bt,
            named_decides=None if whole else lambda name: table.by_name(name) is not None)
        if opts.annotate:
            _annotate(analysis.reports)
        shown = view(analysis, flat(opts.role), flat(opts.state), opts.threads)
        gdb.write(render(shown, opts, config.colour_on(opts.color)) + "\n")

    def complete(self, text: str, word: str) -> list[str]:
        words = option_words(self.parser)
        previous = text[: len(text) - len(word or "")].split()
        if previous and previous[-1] in ("-r", "--role"):
            return [r for r in ROLES if r.startswith(word or "")]
        if previous and previous[-1] in ("-s", "--state"):
            return [s for s in STATES if s.startswith(word or "")]
        return [w for w in words if w.startswith(word or "")]


def _annotate(reports: list[ThreadReport]) -> None:
    inferior = gdb.selected_inferior()
    by_num = {t.num: t for t in inferior.threads()}
    for report in reports:
        num, lwp = report.snapshot.num, report.snapshot.lwp
        thread = by_num.get(num) if num is not None else None
        if thread is None or lwp is None:
            continue
        key = (inferior.num, lwp)
        if key not in session.os_names:
            session.os_names[key] = report.snapshot.name
        v = report.verdict
        thread.name = "%s%s %s" % (v.role, "?" if v.confidence == "low" and v.role != "unknown" else "",
                                   v.detail) if v.detail else v.role


def _unannotate() -> None:
    inferior = gdb.selected_inferior()
    for thread in inferior.threads():
        if (inferior.num, thread.ptid[1]) in session.os_names:
            thread.name = None
    for key in [k for k in session.os_names if k[0] == inferior.num]:
        del session.os_names[key]
