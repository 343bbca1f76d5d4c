"""The gdb commands and settings: thin glue between gdb and the pure core."""
from __future__ import annotations

import traceback
from typing import Dict, List, Tuple

import gdb  # type: ignore[import-not-found]

from . import live, render
from .classify import classify
from .options import UsageError, make_parser, option_words
from .model import ROLES, STATES
from .signatures import DEFAULT_TABLE, SignatureTable, make_table

_registered = False
# OS names of threads that --annotate renamed in gdb, by (inferior, lwp).
_os_names: Dict[Tuple[int, int], str] = {}


class _Prefix(gdb.Command):
    def __init__(self, name: str, doc: str) -> None:
        self.__doc__ = doc
        super().__init__(name, gdb.COMMAND_DATA, gdb.COMPLETE_NONE, True)


class _Setting(gdb.Parameter):
    """A `set/show qemu-threads NAME` setting."""

    def __init__(self, name: str, kind: int, doc: str, default: object, *extra: object) -> None:
        self.__doc__ = doc
        self.set_doc = doc
        self.show_doc = doc
        super().__init__("qemu-threads " + name, gdb.COMMAND_DATA, kind, *extra)
        self.value = default

    def get_set_string(self) -> str:
        return ""

    def get_show_string(self, svalue: str) -> str:
        return "%s is %s." % (self.name_for_show, svalue)


class Settings:
    def __init__(self) -> None:
        self.max_frames = _Setting("max-frames", gdb.PARAM_ZUINTEGER,
                                   "How many frames of each thread qemu-threads reads (0: all).", 64)
        self.max_frames.name_for_show = "Frames read per thread"
        self.color = _Setting("color", gdb.PARAM_ENUM,
                              "Colour the qemu-threads table: auto follows `set style enabled`.",
                              "auto", ["auto", "on", "off"])
        self.color.name_for_show = "Colour"
        self.signatures_file = _Setting("signatures-file", gdb.PARAM_OPTIONAL_FILENAME,
                                        "A JSON file of extra thread signatures (see the README).", "")
        self.signatures_file.name_for_show = "Extra signatures file"
        self.reuse_stacks = _Setting("reuse-stacks", gdb.PARAM_BOOLEAN,
                                     "Recognise a stack another thread already showed (same pc, same "
                                     "return addresses) instead of unwinding it again (x86-64).", True)
        self.reuse_stacks.name_for_show = "Reusing unwound stacks"
        self.debug = _Setting("debug", gdb.PARAM_BOOLEAN,
                              "Show Python tracebacks of qemu-threads' own errors.", False)
        self.debug.name_for_show = "Tracebacks"
        self._table_key = None
        self._table: SignatureTable = DEFAULT_TABLE

    def table(self) -> SignatureTable:
        path = self.signatures_file.value or ""
        if path != self._table_key:
            try:
                self._table = make_table([path]) if path else DEFAULT_TABLE
            except ValueError as err:
                raise gdb.GdbError("qemu-threads: %s" % err)
            self._table_key = path
        return self._table

    def colour_on(self, choice: str = None) -> bool:
        choice = choice or self.color.value
        if choice == "auto":
            return bool(gdb.parameter("style enabled"))
        return choice == "on"


def _parser():
    parser = make_parser("qemu-threads")
    parser.add_argument("--annotate", action="store_true",
                        help="also name each thread in gdb's own `info threads` after its role "
                             "(the program is not changed)")
    parser.add_argument("--unannotate", action="store_true",
                        help="give the threads back the names gdb had for them")
    return parser


class QemuThreadsCommand(gdb.Command):
    def __init__(self, settings: Settings) -> None:
        self.parser = _parser()
        self.__doc__ = self.parser.format_help().replace("usage: ", "Usage: ", 1) + _SETTINGS_HELP
        self.settings = settings
        super().__init__("qemu-threads", gdb.COMMAND_STATUS)

    def invoke(self, argument: str, from_tty: bool) -> None:
        try:
            self.run(argument)
        except (gdb.GdbError, KeyboardInterrupt):
            raise
        except Exception as err:  # a bug of ours: one line, unless debugging
            if self.settings.debug.value:
                traceback.print_exc()
            raise gdb.GdbError("qemu-threads: internal error: %s: %s (set qemu-threads debug on "
                               "for a traceback)" % (type(err).__name__, err))

    def run(self, argument: str) -> None:
        try:
            opts = self.parser.parse_args(gdb.string_to_argv(argument))
        except UsageError as err:
            if err.help_text:
                gdb.write(err.help_text)
                return
            raise gdb.GdbError(str(err))
        bad = render.bad_thread_words(opts.threads)
        if bad:
            raise gdb.GdbError("qemu-threads: %s is not a thread number or lwp:N" % bad[0])
        if opts.unannotate:
            _unannotate()
            return
        table = self.settings.table()
        max_frames = self.settings.max_frames.value or 100000
        try:
            snapshots, pid = live.read_snapshots(max_frames, want_lines=opts.bt, os_names=_os_names,
                                                 named_decides=None if opts.bt or opts.group
                                                 else table.by_name,  # those need whole stacks
                                                 reuse_stacks=bool(self.settings.reuse_stacks.value))
        except live.NoProcess as err:
            raise gdb.GdbError("qemu-threads: %s" % err)
        _attach_origins(snapshots, pid)
        reports = classify(snapshots, table, main_lwp=pid or None)
        if opts.annotate:
            _annotate(reports)
        gdb.write(render.render(reports, opts, self.settings.colour_on(opts.color)) + "\n")

    def complete(self, text: str, word: str) -> List[str]:
        words = option_words(self.parser)
        previous = text[: len(text) - len(word or "")].split()
        if previous and previous[-1] in ("-r", "--role"):
            return [r for r in ROLES if r.startswith(word or "")]
        if previous and previous[-1] in ("-s", "--state"):
            return [s for s in STATES if s.startswith(word or "")]
        return [w for w in words if w.startswith(word or "")]


_SETTINGS_HELP = """
Settings: set qemu-threads max-frames N (frames read per thread, 0 for all; default 64),
set qemu-threads color auto|on|off, set qemu-threads signatures-file FILE (extra signatures),
set qemu-threads reuse-stacks on|off (recognise stacks already unwound; default on),
set qemu-threads debug on|off. Under gdb, let QEMU's vCPU kicks through with
`handle SIGUSR1 nostop noprint pass`."""


def _attach_origins(snapshots, pid: int) -> None:
    """The creation backtraces qemu-thread-origins recorded, where it is loaded and recording."""
    try:
        from . import origins
    except ImportError:
        return
    lookup = getattr(origins, "lookup", None)
    if lookup is None:
        return
    for snap in snapshots:
        record = lookup(pid, snap.lwp)
        if record is not None:
            snap.origin = list(record.frames)
            snap.parent_lwp = record.parent_lwp


def _annotate(reports) -> None:
    inferior = gdb.selected_inferior()
    by_num = {t.num: t for t in inferior.threads()}
    for report in reports:
        thread = by_num.get(report.snapshot.num)
        if thread is None:
            continue
        key = (inferior.num, report.snapshot.lwp)
        if key not in _os_names:
            _os_names[key] = report.snapshot.name
        v = report.verdict
        thread.name = "%s%s %s" % (v.role, "?" if v.confidence == "low" and v.role != "unknown" else "",
                                   v.detail) if v.detail else v.role


def _unannotate() -> None:
    inferior = gdb.selected_inferior()
    for thread in inferior.threads():
        if (inferior.num, thread.ptid[1]) in _os_names:
            thread.name = None
    for key in [k for k in _os_names if k[0] == inferior.num]:
        del _os_names[key]


def register_all() -> None:
    """Create the commands once, however often the loader is sourced."""
    global _registered
    if _registered:
        return
    _registered = True
    _Prefix("set qemu-threads", "Settings of the qemu-threads command.")
    _Prefix("show qemu-threads", "Settings of the qemu-threads command.")
    settings = Settings()
    QemuThreadsCommand(settings)
    try:
        from . import origins
    except ImportError:
        origins = None
    if origins is not None and hasattr(origins, "register"):
        origins.register()
