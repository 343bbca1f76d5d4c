"""Offline: classify a saved gdb dump (`info threads`, `thread apply all bt [full]`) without gdb.

    python -m gdb_qemu_threads FILE [--json] [--role ROLE] [--group] [--bt] ...
    python -m gdb_qemu_threads -          (read standard input)

Exit status: 0 printed a table or document, 2 bad usage or a file that is not a gdb dump.
"""
from __future__ import annotations

import json
import sys
from typing import List, Optional, Sequence

from .analyze.groups import view
from .analyze.pipeline import analyze
from .dump import parse_dumps
from .options import Parser, UsageError, add_view_options, bad_thread_words, flat
from .render.json_doc import document
from .render.output import render
from .signature_file import make_table

PROG = "gdb-qemu-threads"


def make_parser() -> Parser:
    parser = Parser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("file", metavar="FILE", help="a saved gdb dump, or - for standard input")
    add_view_options(parser)
    parser.add_argument("--dump", type=int, metavar="N",
                        help="with several dumps in the file, only the N-th (from 1)")
    parser.add_argument("--signatures", action="append", default=[], metavar="FILE",
                        help="a JSON file of extra thread signatures (repeatable)")
    return parser


def _open(path: str):
    if path == "-":
        return sys.stdin
    return open(path, encoding="utf-8", errors="replace", newline=None)


def _by_number(snapshot) -> tuple:
    return (snapshot.num is None, snapshot.num or 0)


def run(argv: Sequence[str], out=None) -> int:
    out = out or sys.stdout
    parser = make_parser()
    try:
        opts = parser.parse_args(list(argv))
    except UsageError as err:
        if err.help_text:
            out.write(err.help_text)
            return 0
        sys.stderr.write("%s\n" % err)
        return 2
    bad = bad_thread_words(opts.threads)
    if bad:
        sys.stderr.write("%s: %s is not a thread number or lwp:N\n" % (PROG, bad[0]))
        return 2
    try:
        table = make_table(opts.signatures)
        with _open(opts.file) as handle:
            dumps = parse_dumps(handle)
    except (OSError, ValueError) as err:  # DumpError is a ValueError
        name = "standard input" if opts.file == "-" else opts.file
        message = getattr(err, "strerror", None) or str(err)
        sys.stderr.write("%s: %s: %s\n" % (PROG, name, message))
        return 2
    if opts.dump is not None:
        if not 1 <= opts.dump <= len(dumps):
            sys.stderr.write("%s: --dump %d: the file has %d dump(s)\n" % (PROG, opts.dump, len(dumps)))
            return 2
        dumps = [dumps[opts.dump - 1]]
    # `thread apply all bt` lists threads newest first; show them as `info threads` does.
    views = [view(analyze(sorted(snapshots, key=_by_number), table, source="offline"),
                  flat(opts.role), flat(opts.state), opts.threads) for snapshots in dumps]
    colour_on = opts.color == "on" or (opts.color in (None, "auto") and out.isatty())
    if opts.json and len(views) > 1:
        # Several dumps: one document holding each dump's document.
        out.write(json.dumps({"dumps": [document(v) for v in views]}, indent=1) + "\n")
        return 0
    for index, each in enumerate(views):
        if len(views) > 1:
            out.write("%sdump %d of %d\n" % ("\n" if index else "", index + 1, len(views)))
        out.write(render(each, opts, colour_on) + "\n")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    try:
        return run(sys.argv[1:] if argv is None else argv)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
