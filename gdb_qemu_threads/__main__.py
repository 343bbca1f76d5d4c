"""Offline: classify a saved gdb dump (`info threads`, `thread apply all bt [full]`) without gdb.

    python -m gdb_qemu_threads FILE [--json] [--role ROLE] [--group] [--bt] ...
    python -m gdb_qemu_threads -          (read standard input)

Any bytes may come in: bad UTF-8 is replaced, a line longer than 64 KiB is cut and one that
goes on past 64 MiB ends the reading (both said in one line on standard error).
Exit status: 0 printed a table or document; 2 bad usage, a file that cannot be read or is
not a gdb dump, or output that cannot be written; 130 interrupted (Ctrl-C). Every error is
one line on standard error.
"""
from __future__ import annotations

import gc
import json
import os
import re
import shutil
import sys
from json.encoder import encode_basestring_ascii as quote
from typing import Any, Callable, Sequence, TextIO

from .analyze.groups import View, missing_threads, summary, view
from .analyze.pipeline import analyze
from .dump import DumpError, parse_dumps
from .dump.source import LineSource
from .model import ThreadSnapshot
from .options import Parser, UsageError, add_view_options, bad_thread_words, flat
from .render.json_doc import document, thread_doc
from .render.output import render
from .render.report import ReportError, write_dot, write_report
from .signature_file import make_table
from .signatures import SignatureTable
from .threadlist import thread_range

PROG = "gdb-qemu-threads"


class Failure(Exception):
    """What ends the command: str() is the one line to show (without the program's name)."""


def make_parser() -> Parser:
    parser = Parser(prog=PROG, description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("file", metavar="FILE", help="a saved gdb dump, or - for standard input")
    add_view_options(parser)
    parser.add_argument("--dump", type=int, metavar="N",
                        help="with several dumps in the file, only the N-th (from 1)")
    parser.add_argument("--signatures", action="append", default=[], metavar="FILE",
                        help="a JSON file of extra thread signatures (repeatable)")
    return parser


def _shown(path: str) -> str:
    """A file name as one line of a message."""
    return "standard input" if path == "-" else path.replace("\n", "\\n").replace("\r", "\\r")


# What loading an untrusted signatures file may raise.
_SIGNATURE_ERRORS = (OSError, ValueError, re.error, RecursionError, OverflowError)


def _signature_table(paths: Sequence[str]) -> SignatureTable:
    """The built-in table with the user's files; an error names the file at fault."""
    try:
        return make_table(paths)
    except _SIGNATURE_ERRORS as err:
        message = getattr(err, "strerror", None) or str(err) or type(err).__name__
        culprit = next((path for path in paths if not _loads(path)), paths[-1])
        if culprit not in message:
            message = "--signatures %s: %s" % (_shown(culprit), message)
        raise Failure(message.replace("\n", " ")) from None


def _loads(path: str) -> bool:
    """Whether one signatures file loads on its own (to name the file at fault)."""
    try:
        make_table([path])
    except _SIGNATURE_ERRORS:
        return False
    return True


def _read_dumps(path: str) -> tuple[list[list[ThreadSnapshot]], list[str]]:
    """The dumps in a file (or standard input), and notes on what was left out of it."""
    name = _shown(path)
    source: LineSource | None = None
    try:
        if path == "-":
            stdin = sys.stdin
            if stdin is None:
                raise Failure("standard input is closed")
            buffered = getattr(stdin, "buffer", None)
            if buffered is None:  # a text stream put in place of standard input
                return parse_dumps(stdin), []
            source = LineSource(buffered)
            dumps = parse_dumps(source)
        else:
            with open(path, "rb") as stream:
                source = LineSource(stream)
                dumps = parse_dumps(source)
    except DumpError as err:
        notes = source.notes() if source is not None else []
        raise Failure("%s: %s%s" % (name, err, " (%s)" % "; ".join(notes) if notes else "")) from None
    except OSError as err:
        raise Failure("%s: %s" % (name, err.strerror or err)) from None
    return dumps, source.notes() if source is not None else []


def _by_number(snapshot: ThreadSnapshot) -> tuple[bool, int]:
    return (snapshot.num is None, snapshot.num or 0)


def _write_json(write: Callable[[str], Any], each: View, level: int, why: bool = False) -> None:
    """Write document(each) exactly as json.dumps(..., indent=1) would, nested `level` deep,
    one thread at a time: no giant string, no list of every thread's dict."""
    pad = "\n" + " " * level
    inner = pad + "  "
    write("{" + pad + ' "threads": [')
    for index, report in enumerate(each.reports):
        write(("," if index else "") + inner + _json_object(thread_doc(report), inner))
    write(pad + " ]" if each.reports else "]")
    rest = document(each, reports=[], why=why)
    rest["summary"] = summary(each.reports)
    for key, value in rest.items():
        if key != "threads":
            text = json.dumps(value, indent=1).replace("\n", pad + " ")
            write("," + pad + " " + json.dumps(key) + ": " + text)
    write(pad + "}")


def _json_object(doc: dict[str, Any], pad: str) -> str:
    """json.dumps(doc, indent=1) for a dict placed after `pad` (a line end and its indent).
    json's indenting encoder is pure Python; a thread's scalars and frame names go through
    its C string quoting here instead, three times faster on a large dump."""
    inner = pad + " "
    return "{" + ",".join(inner + quote(key) + ": " + _json_value(value, inner)
                          for key, value in doc.items()) + pad + "}"


def _json_value(value: Any, pad: str) -> str:
    if isinstance(value, str):
        return quote(value)
    if value is None or isinstance(value, bool):
        return "null" if value is None else "true" if value else "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        inner = pad + " "
        return "[" + ",".join(inner + quote(item) for item in value) + pad + "]"
    return json.dumps(value, indent=1).replace("\n", pad)  # anything else, the usual way


def _write_files(out: TextIO, views: list[View], opts: Any) -> bool:
    """--report and --dot: of the one dump (or the first; --dump picks another)."""
    if not (opts.report or opts.dot):
        return False
    try:
        if opts.dot:
            out.write(write_dot(views[0], opts.dot) + "\n")
        if opts.report:
            out.write(write_report(views[0], opts.report, {"source": "offline"}) + "\n")
    except ReportError as err:
        raise Failure(str(err)) from None
    return True


def _write_output(out: TextIO, views: list[View], opts: Any) -> None:
    write = out.write
    if _write_files(out, views, opts):
        return
    if opts.json:
        if len(views) == 1:
            _write_json(write, views[0], 0, bool(getattr(opts, "why", False)))
        else:  # several dumps: one document holding each dump's document
            write('{\n "dumps": [')
            for index, each in enumerate(views):
                write(("," if index else "") + "\n  ")
                _write_json(write, each, 2, bool(getattr(opts, "why", False)))
            write("\n ]\n}" if views else "]\n}")
        write("\n")
        return
    terminal = out.isatty()
    colour_on = opts.color == "on" or (opts.color in (None, "auto") and terminal
                                       and not os.environ.get("NO_COLOR"))
    width = shutil.get_terminal_size().columns if terminal else None  # a pipe: unlimited
    for index, each in enumerate(views):
        if len(views) > 1:
            write("%sdump %d of %d\n" % ("\n" if index else "", index + 1, len(views)))
        write(render(each, opts, colour_on, width) + "\n")


def _say(line: str) -> None:
    _error("%s: %s" % (PROG, line))


def _error(line: str) -> None:
    if sys.stderr is not None:  # standard error may be closed too
        sys.stderr.write(line + "\n")


def run(argv: Sequence[str], out: TextIO | None = None) -> int:
    # What is read and analysed lives to the end and holds no cycles: the collector would
    # only walk the growing heap again and again (a sixth of the time on a large dump). It
    # runs again for the output (json's encoder leaves cycles), on new objects only.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _run(argv, out)
    finally:
        gc.unfreeze()
        if collecting:
            gc.enable()


def _run(argv: Sequence[str], out: TextIO | None) -> int:
    parser = make_parser()
    try:
        opts = parser.parse_args(list(argv))
    except UsageError as err:
        shown_to = out or sys.stdout
        if err.help_text and shown_to is not None:
            shown_to.write(err.help_text)
            return 0
        _error(str(err))  # it names the program already
        return 2
    bad = bad_thread_words(opts.threads)
    if bad:
        _say("%s is not a thread number or lwp:N" % bad[0])
        return 2
    try:
        out = out or sys.stdout
        if out is None:
            raise Failure("standard output is closed")
        if out is sys.stdout and hasattr(out, "reconfigure"):
            out.reconfigure(errors="replace")  # any name prints, whatever the locale
        table = _signature_table(opts.signatures)
        dumps, notes = _read_dumps(opts.file)
        if notes:
            _say("%s: %s" % (_shown(opts.file), "; ".join(notes)))
        if opts.dump is not None:
            if not 1 <= opts.dump <= len(dumps):
                raise Failure("--dump %d: the file has %d dump(s)" % (opts.dump, len(dumps)))
            dumps = [dumps[opts.dump - 1]]
        # `thread apply all bt` lists threads newest first; show them as `info threads` does.
        views = [view(analyze(sorted(snapshots, key=_by_number), table, source="offline"),
                      flat(opts.role), flat(opts.state), opts.threads) for snapshots in dumps]
        del dumps
        for each in views:  # with several dumps, a thread in any of them will do
            missing = missing_threads(each.analysis, opts.threads)
            if missing and len(views) == 1:
                raise Failure("no thread %s in the dump (%s)" % (missing[0],
                                                                thread_range(each.analysis.reports)))
        gc.freeze()
        gc.enable()
        try:
            _write_output(out, views, opts)
            out.flush()
        except BrokenPipeError:
            raise
        except OSError as err:
            _quiet_stdout()
            raise Failure("cannot write the output: %s" % (err.strerror or err)) from None
    except Failure as failure:
        _say(str(failure))
        return 2
    return 0


def _quiet_stdout() -> None:
    """Point standard output at /dev/null, so that the interpreter's last flush of what could
    not be written does not print a traceback at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, AttributeError, ValueError):
        pass


def main(argv: list[str] | None = None) -> int:
    try:
        return run(sys.argv[1:] if argv is None else argv)
    except KeyboardInterrupt:
        _quiet_stdout()
        return 130
    except BrokenPipeError:  # `... | head`: the reader has seen enough
        _quiet_stdout()
        return 0


if __name__ == "__main__":
    sys.exit(main())
