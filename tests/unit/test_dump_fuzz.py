"""The offline reader never fails on odd input with anything but DumpError, stays fast, and
reads a dump the same whether it is quoted with "> " or has CRLF line ends."""
from __future__ import annotations

import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gdb_qemu_threads.dump import DumpError, parse_dump_text, parse_dumps
from gdb_qemu_threads.model import Frame, ThreadSnapshot

DATA = Path(__file__).resolve().parents[1] / "data"
REAL = {path.name: path.read_text(encoding="utf-8").splitlines()
        for path in sorted(DATA.glob("seed-*.txt")) + sorted(DATA.glob("dump-*.txt"))}
FUZZ = settings(deadline=2000, max_examples=150, suppress_health_check=[HealthCheck.too_slow])

# Pieces of gdb output to build junk from: what the reader looks for, in bits.
PIECES = ["#0  ", "#1  ", "0x00007ffff61a6bf6 in ", "__ppoll ", "(fds=0x1, nfds=8)", " at ",
          "../util/main-loop.c:232", " from ", "/lib/x86_64-linux-gnu/libc.so.6", "?? ()", "(",
          ")", '"', "'", "\\", "Thread 3 (", "Thread 0x7f (LWP 12)", ' "gmain"', "):", "* 1    ",
          "  Id   Target Id   Frame", "Backtrace stopped: ", "[Switching to thread 2 (", "]",
          "> ", ">>> ", "(gdb) ", "thread apply all bt", "No locals.", "        x = 1", "\t", "\r",
          "--Type <RET> for more, q to quit, c to continue without paging--", "<signal handler called>",
          "LWP 5", "process 7", "(running)", "[Current thread is 1 (", ":", "817", "\u00b2", "\u0663"]


def check(dumps) -> None:
    """What a successful parse must look like."""
    assert dumps and all(dump for dump in dumps)
    for dump in dumps:
        for snap in dump:
            assert isinstance(snap, ThreadSnapshot)
            assert snap.num is None or isinstance(snap.num, int)
            assert snap.lwp is None or isinstance(snap.lwp, int)
            assert all(isinstance(f, Frame) for f in snap.frames)
            for f in snap.frames:
                assert f.pc is None or isinstance(f.pc, int)
                assert f.line is None or isinstance(f.line, int)


def parse_or_dump_error(text: str) -> None:
    try:
        dumps = parse_dump_text(text)
    except DumpError as err:
        assert "\n" not in str(err)
        return
    check(dumps)


@FUZZ
@given(st.text(max_size=3000))
def test_random_text(text):
    parse_or_dump_error(text)


@FUZZ
@given(st.lists(st.lists(st.sampled_from(PIECES) | st.text(max_size=12), max_size=12).map("".join),
                max_size=60).map("\n".join))
def test_gdb_like_junk(text):
    parse_or_dump_error(text)


@FUZZ
@given(st.binary(max_size=2000))
def test_binary_lines(data):
    try:
        dumps = parse_dumps(data.split(b"\n"))
    except DumpError:
        return
    check(dumps)


# A mutation: (what, where, junk).
MUTATION = st.tuples(st.sampled_from(["drop", "dup", "cut", "junk", "flip", "join"]),
                     st.integers(0, 10 ** 6), st.text(max_size=30))


def mutate(lines, mutations):
    lines = list(lines)
    for what, where, junk in mutations:
        if not lines:
            break
        i = where % len(lines)
        line = lines[i]
        if what == "drop":
            del lines[i]
        elif what == "dup":
            lines.insert(i, line)
        elif what == "cut":
            lines[i] = line[: where % (len(line) + 1)]
            lines.insert(i + 1, line[where % (len(line) + 1):])
        elif what == "junk":
            lines.insert(i, junk)
        elif what == "flip" and line:
            j = where % len(line)
            lines[i] = line[:j] + (junk[:1] or "(") + line[j + 1:]
        elif what == "join" and i + 1 < len(lines):
            lines[i: i + 2] = [line + junk + lines[i + 1]]
    return "\n".join(lines)


@FUZZ
@given(st.sampled_from(sorted(REAL)), st.lists(MUTATION, max_size=25))
def test_mutated_real_dumps(name, mutations):
    parse_or_dump_error(mutate(REAL[name], mutations))


QUOTES = ["", "> ", ">> ", "> > ", ">", "> >> ", ">>> "]


@FUZZ
@given(st.sampled_from(sorted(REAL)), st.lists(st.sampled_from(QUOTES[1:]), min_size=1),
       st.booleans())
def test_quoting_and_crlf_do_not_change_a_dump(name, quotes, crlf):
    lines = REAL[name]
    plain = "\n".join(lines) + "\n"
    # One quote style per line: what a mail thread with mixed quoting shows.
    quoted = "".join(quotes[i % len(quotes)] + line + ("\r\n" if crlf else "\n")
                     for i, line in enumerate(lines))
    assert shape(parse_dump_text(quoted)) == shape(parse_dump_text(plain))


def shape(dumps):
    return [[(t.num, t.lwp, t.name, t.current, t.complete, t.unreadable, tuple(t.frames)) for t in d]
            for d in dumps]


def test_long_hostile_lines_are_fast():
    n = 200000
    hostile = [
        "#0  0x1 in f (" + '"' * n,
        "#0  f<" + " (" * (n // 2),
        "#0  0x00007f00000001 in g (a=" + "(" * n + "\n" + "x" * 100 + "\n" + ")" * n,
        "Thread 1 (" + "(" * n + "\n" + ")" * n,
        "--Type <RET> for more, q to quit, c to continue without paging--" * 5000,
        "[Switching to thread 2 (" + "(" * n,
        "  " + "* 1    Thread 0x7f (LWP 1) " * 10000,
        "> " * n + "#0  0x1 in f () at a.c:1",
        "\r" * n + "#0  0x1 in f () at a.c:1",
        "#0  0x1 in f () at a.c:" + "9" * 5000,
        "#0  0x1 in f () at a.c:1\n" + "1" * 5000,
        "#0  0x" + "f" * 5000 + " in f ()",
    ]
    for text in hostile:
        start = time.perf_counter()
        parse_or_dump_error(text)
        assert time.perf_counter() - start < 2.0, text[:40]
