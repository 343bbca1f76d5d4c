"""The options of `qemu-threads`, shared by the gdb command and the offline command line.

argparse would exit the process (and gdb with it) on --help or a bad option; this parser
raises UsageError instead, carrying the one line to show.
"""
from __future__ import annotations

import argparse
from typing import NoReturn, Sequence

from .model import ROLES, STATES


class UsageError(Exception):
    """A bad option: str() is one line. `help_text` is set when --help was asked for."""

    def __init__(self, message: str, help_text: str | None = None) -> None:
        super().__init__(message)
        self.help_text = help_text


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError("%s: %s (see `%s --help`)" % (self.prog, message, self.prog))

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise UsageError(message or "", help_text=self.format_help())

    def print_help(self, file: object = None) -> None:  # --help: let the caller print it
        raise UsageError("", help_text=self.format_help())


class _CommaList:
    """An argparse type: a comma-separated list of known values (kept for completion)."""

    def __init__(self, choices: Sequence[str], what: str) -> None:
        self.choices = list(choices)
        self.what = what

    def __call__(self, text: str) -> list[str]:
        items = [item.strip() for item in text.split(",") if item.strip()]
        bad = [item for item in items if item not in self.choices]
        if bad:
            raise argparse.ArgumentTypeError("unknown %s %s (one of: %s)"
                                             % (self.what, ", ".join(bad), ", ".join(self.choices)))
        return items


def _csv(choices: Sequence[str], what: str) -> _CommaList:
    return _CommaList(choices, what)


DESCRIPTION = """\
Print every thread with its role in QEMU (main loop, vCPU, iothread, thread-pool worker,
call_rcu, migration, VNC, GLib/GTK, PulseAudio, other libraries, kernel workers), its vCPU
index and accelerator or iothread id, what it is doing now (guest, idle, lock, io, running),
and the evidence that decided it. A role followed by "?" rests on weak evidence."""


def add_view_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("threads", nargs="*", metavar="THREAD",
                        help="only these threads (gdb thread numbers, or LWPs as lwp:N)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON document and nothing else")
    parser.add_argument("-r", "--role", action="append", default=[], type=_csv(ROLES, "role"),
                        metavar="ROLE[,ROLE]", help="only threads of these roles (%s)" % ", ".join(ROLES))
    parser.add_argument("-s", "--state", action="append", default=[], type=_csv(STATES, "state"),
                        metavar="STATE[,STATE]", help="only threads in these states (%s)" % ", ".join(STATES))
    parser.add_argument("-g", "--group", action="store_true",
                        help="one row per group of threads with identical stacks")
    parser.add_argument("-b", "--bt", action="store_true", help="each thread's backtrace under its row")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="the evidence that decided each role (and who created the thread) "
                             "on a line under its row")
    parser.add_argument("-l", "--locks", action="store_true",
                        help="the locks threads wait for: each mutex (the BQL by name) with its "
                             "holder and waiters, deadlock cycles, and the threads waiting for an "
                             "event (condition variable, QemuEvent, semaphore), which have no owner; "
                             "with threads, --role or --state, only what concerns those threads")
    parser.add_argument("--report", metavar="FILE",
                        help="write a report to share instead of the table: FILE.md (Markdown "
                             "for a bug tracker, read back by the offline reader), FILE.html "
                             "(one page with the graphs), or - (Markdown here)")
    parser.add_argument("--dot", metavar="FILE",
                        help="write the waits-for graph and the thread-creation tree as Graphviz DOT")
    parser.add_argument("-w", "--why", action="store_true",
                        help="first a verdict on the whole process: the thread that crashed and "
                             "why, deadlocks, threads blocked away from their home point and who "
                             "waits for them, or that nothing looks hung, and what could not be read")
    parser.add_argument("--color", choices=("auto", "on", "off"), default=None,
                        help="colour the table (default: the `qemu-threads color` setting, "
                             "which follows gdb's `style enabled`)")


def make_parser(prog: str = "qemu-threads") -> argparse.ArgumentParser:
    parser = Parser(prog=prog, description=DESCRIPTION, add_help=True,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_view_options(parser)
    return parser


def flat(lists: Sequence[Sequence[str]]) -> list[str]:
    return [item for items in lists for item in items]


def option_words(parser: argparse.ArgumentParser) -> list[str]:
    """Every option string, for TAB completion."""
    words: list[str] = []
    for action in parser._actions:  # argparse has no public accessor
        words += [s for s in action.option_strings if s.startswith("--")]
    return sorted(words)


def bad_thread_words(threads: Sequence[str]) -> list[str]:
    """The words that are neither a gdb thread number nor lwp:N."""
    return [t for t in threads if not (t.isdigit() or (t.startswith("lwp:") and t[4:].isdigit()))]


def value_choices(parser: argparse.ArgumentParser) -> dict[str, Sequence[str]]:
    """Option string -> the values it takes, for options whose values are a known list."""
    out: dict[str, Sequence[str]] = {}
    for action in parser._actions:  # argparse has no public accessor
        choices = action.choices or getattr(action.type, "choices", None)
        if choices:
            for option in action.option_strings:
                out[option] = list(choices)
    return out


def complete(parser: argparse.ArgumentParser, text: str, word: str) -> list[str]:
    """TAB completion of options and of their values (`--opt value`, `--opt=value`, and the
    last item of a comma list), as gdb asks for it: `text` is the line after the command,
    `word` the end of it that gdb replaces (gdb breaks words at "-", "=" and ","), so each
    answer is what replaces `word`."""
    word = word or ""
    token = "" if not text or text[-1].isspace() else text.split()[-1]
    before = text[: len(text) - len(token)].split()
    choices = value_choices(parser)
    candidates: list[str] = []
    if token.startswith("--") and "=" in token:
        option, _, value = token.partition("=")
        candidates = [option + "=" + c for c in _list_values(choices.get(option, ()), value)]
    elif before and before[-1] in choices and not token.startswith("-"):
        candidates = _list_values(choices[before[-1]], token)
    elif token.startswith("-") or not token:
        candidates = [w for w in option_words(parser) + _short_options(parser) if w.startswith(token)]
    cut = len(token) - len(word)
    return sorted(c[cut:] for c in candidates if c.startswith(token))


def _list_values(values: Sequence[str], typed: str) -> list[str]:
    """Completions of a comma list: what was typed before the last comma, then each value."""
    head, _, last = typed.rpartition(",")
    prefix = head + "," if head else ""
    done = set(head.split(",")) if head else set()
    return [prefix + v for v in values if v.startswith(last) and v not in done]


def _short_options(parser: argparse.ArgumentParser) -> list[str]:
    return sorted(s for action in parser._actions for s in action.option_strings
                  if not s.startswith("--") and s != "-h")
