"""The offline reader's parts on their own: line clean-up and wraps (dump/lines.py), bytes to
bounded lines (dump/source.py), one frame's text (dump/frames.py)."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gdb_qemu_threads.dump.frames import FrameParser
from gdb_qemu_threads.dump.lines import clean, join, join_frame
from gdb_qemu_threads.dump.source import LineSource
from gdb_qemu_threads.model import ThreadSnapshot

DATA = Path(__file__).resolve().parents[1] / "data"

# -- lines.py -------------------------------------------------------------------------------


@pytest.mark.parametrize("line, expected", [
    ("#0  f () at a.c:1", ("#0  f () at a.c:1", 0)),
    ("\t#1  g ()", ("#1  g ()", 1)),
    ("> > #2  h ()", ("#2  h ()", 0)),
    (">>   x = 1", ("x = 1", 2)),
    ("--Type <RET> for more, q to quit, c to continue without paging--#3  i ()", ("#3  i ()", 0)),
    ("   ", ("", 3)),
])
def test_clean(line: str, expected: tuple[str, int]) -> None:
    assert clean(line) == expected


def test_join_frame_puts_back_what_a_wrap_split() -> None:
    # A location on a line of its own; a terminal cut inside a line number; a mail client's cut.
    assert join_frame("0x1 in f (a=1)", "at x.c:5") == "0x1 in f (a=1) at x.c:5"
    head = "0x00007ffff628b2ec in start_thread (arg=<optimized out>) at pthread_create.c:8"
    assert join_frame(head, "17") == head + "17"
    assert join_frame("0x1 in f (a=1,", "b=2) at x.c:5") == "0x1 in f (a=1,b=2) at x.c:5"
    # A whole frame is not continued by an unrelated line.
    assert join_frame("0x1 in f (a=1) at x.c:5", "hello") is None
    assert join("f (a=1)", "from /lib/x.so") == "f (a=1) from /lib/x.so"


# -- source.py ------------------------------------------------------------------------------


def lines_of(data: bytes, **kwargs: int) -> tuple[list[str], LineSource]:
    source = LineSource(io.BytesIO(data), **kwargs)
    return list(source), source


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="ab\u00e9\u20ac\r\n", max_size=30), max_size=20), st.integers(1, 9))
def test_lines_do_not_depend_on_where_chunks_end(parts: list[str], chunk: int) -> None:
    data = "".join(parts).encode()
    whole = data.decode().split("\n")
    if whole[-1] == "":
        whole.pop()  # as a file's lines: a last line end starts no line
    expected = [part for line in whole for part in line.split("\r")]
    got, source = lines_of(data, chunk=chunk, limit=1000)
    # Lone CRs may or may not be split here (the reader splits at them): compare without them.
    assert [part for line in got for part in line.split("\r")] == expected
    assert source.notes() == []


def test_a_long_line_is_cut_and_said_so() -> None:
    got, source = lines_of(b"short\n" + b"x" * 50 + b"\nafter\n" + b"y" * 30, limit=10, chunk=7)
    assert got == ["short", "x" * 10, "after", "y" * 10]
    assert source.notes() == ["2 lines were cut at 10 characters, the first is line 2"]


def test_an_endless_line_stops_the_reading() -> None:
    got, source = lines_of(b"#0  f ()\n" + b"\0" * 1000, limit=10, chunk=16, stop_after=100)
    assert got == ["#0  f ()", "\0" * 10]
    assert source.stopped_at == 2
    assert source.notes() == ["reading stopped in line 2, which goes on for more than 0 MiB"]


def test_bad_utf8_is_replaced_even_across_chunks() -> None:
    got, _ = lines_of("caf\u00e9\n".encode() + b"\xff\xfe\n", chunk=4)
    assert got == ["caf\u00e9", "\ufffd\ufffd"]


def test_cr_only_line_ends_are_not_one_long_line() -> None:
    got, source = lines_of(b"\r".join([b"line %d" % n for n in range(100)]), limit=20, chunk=8)
    assert [part for line in got for part in line.split("\r")] == ["line %d" % n for n in range(100)]
    assert source.cut == 0


# -- frames.py ------------------------------------------------------------------------------


def test_frame_forms() -> None:
    parse = FrameParser().parse
    frame = parse("0x00007f0553a1a8ec in clone3 () at ../sysdeps/clone3.S:81", 3)
    assert frame is not None
    assert (frame.function, frame.pc, frame.file, frame.line, frame.inlined) == (
        "clone3", 0x7F0553A1A8EC, "../sysdeps/clone3.S", 81, False)
    lib = parse("0x00007ffff6df31d6 in ?? () from /lib/libpulse.so.0", 1)
    assert lib is not None and (lib.function, lib.library) == (None, "/lib/libpulse.so.0")
    inlined = parse("worker (arg=0x0) at t.c:6", 2)
    assert inlined is not None and inlined.inlined and inlined.pc is None
    template = parse("0x1 in f<void (*)(int)> (x=1) at a.cc:3", 0)
    assert template is not None and template.function == "f<void (*)(int)>"
    signal = parse("<signal handler called>", 1)
    assert signal is not None and signal.function == "<signal handler called>"
    assert parse("0x", 0) is None and parse("hello world", 0) is None


def test_identical_frames_are_one_object() -> None:
    parser = FrameParser()
    first = parser.parse("0x1 in f (a=1) at a.c:2", 0)
    second = parser.parse("0x1 in f (a=2) at a.c:2", 0)
    assert first is second


def test_wait_functions_are_known_by_their_canonical_name() -> None:
    parser = FrameParser()
    assert parser.wait_function("__GI___pthread_mutex_lock") == "pthread_mutex_lock"
    assert parser.wait_function("qemu_mutex_lock_impl") == "qemu_mutex_lock_impl"
    assert parser.wait_function("main_loop_wait") is None
    assert parser.wait_function("clone3") is None


def test_wait_argument_noted() -> None:
    from gdb_qemu_threads.dump.frames import note_wait_argument
    snap = ThreadSnapshot(num=1, lwp=2)
    note_wait_argument(snap, "qemu_mutex_lock_impl",
                       "0x1 in qemu_mutex_lock_impl (mutex=0x55d0c1a0 <qemu_global_mutex>, file=0x0) at q.c:9")
    assert snap.facts.wait_args == {"qemu_mutex_lock_impl": 0x55D0C1A0}
    assert snap.facts.arg_symbols == {0x55D0C1A0: "qemu_global_mutex"}


FRAME_TEXTS = [line.split(None, 1)[1] for path in sorted(DATA.glob("*.txt"))
               for line in path.read_text(encoding="utf-8").splitlines()
               if line.lstrip().startswith("#") and len(line.split(None, 1)) == 2]
FRAME_BITS = ["0x00007f0553a1a8ec in ", "0x1 in ", "0x", "f", "??", "g<int>", "operator()", " (", "(", ")",
              "a=1", ", ", ") at ", ") from ", " at ", " from ", "x.c", ":", "42", "/lib/x.so.6", " ",
              "\u00b2", "\u3000", "\x0b", "<signal handler called>", '"', "C:/a.c"]


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.sampled_from(FRAME_TEXTS),
                 st.lists(st.sampled_from(FRAME_BITS) | st.text(max_size=4), max_size=12).map("".join)),
       st.sampled_from([None, 0, 1, 7]))
def test_the_quick_frame_reading_agrees_with_the_long_way(text: str, level: int | None) -> None:
    assert FrameParser().parse(text, level) == FrameParser()._parse(text, level)


def test_every_wait_function_has_wait_or_lock_in_its_name() -> None:
    """FrameParser.wait_function looks up only names with "wait" or "lock" in them; canonical()
    only takes away (prefixes, "@..." and "64"), so a name it maps to a wait has the word too."""
    from gdb_qemu_threads.vocab import WAIT_ARGUMENTS
    assert all("wait" in name or "lock" in name for name in WAIT_ARGUMENTS)
