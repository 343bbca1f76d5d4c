"""Real dumps wrapped the way terminals and mail clients wrap them: a frame may lose its
function name, never get one that the dump does not have, and a thread whose function names
survived keeps its role."""
from __future__ import annotations

from pathlib import Path
from typing import Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gdb_qemu_threads.analyze.pipeline import analyze
from gdb_qemu_threads.dump import DumpError, parse_dump_text
from gdb_qemu_threads.model import ThreadSnapshot

DATA = Path(__file__).resolve().parents[1] / "data"
DUMPS = {path.name: path.read_text(encoding="utf-8")
         for path in sorted(DATA.glob("qemu72-*-bt*.txt")) + sorted(DATA.glob("qemu72-*-core.txt"))
         + sorted(DATA.glob("dump-*.txt")) + sorted(DATA.glob("seed-*.txt"))
         + sorted(DATA.glob("lldb-*.txt")) + sorted(DATA.glob("eustack-*.txt"))}
FUZZ = settings(deadline=None, max_examples=400, suppress_health_check=[HealthCheck.too_slow])
PAGER = "--Type <RET> for more, q to quit, c to continue without paging--"

Key = Tuple[object, object]


def terminal(line: str, width: int) -> list[str]:
    """A terminal's wrap: cut every `width` characters, nothing lost."""
    return [line[i:i + width] for i in range(0, len(line), width)] or [""]


def mail(line: str, width: int, keep_space: bool) -> list[str]:
    """A mail client's wrap: break at the last blank before `width`; the blank is dropped,
    or kept at the end of the line (format=flowed)."""
    out = []
    while len(line) > width:
        cut = line.rfind(" ", 1, width)
        if cut <= 0:
            cut = line.find(" ", width)  # a word longer than the width stays whole
            if cut < 0:
                break
        out.append(line[:cut + 1] if keep_space else line[:cut])
        line = line[cut + 1:]
    out.append(line)
    return out


def wrap(text: str, width: int, style: str, quote: str, quote_first: bool) -> str:
    lines = text.splitlines()
    if quote_first:
        lines = [quote + line for line in lines]
    out: list[str] = []
    for line in lines:
        out += terminal(line, width) if style == "terminal" else mail(line, width, style == "flowed")
    if not quote_first:
        out = [quote + line for line in out]
    return "\n".join(out)


def by_thread(text: str) -> dict[Key, ThreadSnapshot]:
    try:
        dumps = parse_dump_text(text)
    except DumpError:
        return {}
    seen: dict[Key, list[ThreadSnapshot]] = {}
    for dump in dumps:
        for snap in dump:
            seen.setdefault((snap.num, snap.lwp), []).append(snap)
    return {key: snaps[0] for key, snaps in seen.items() if len(snaps) == 1}


def roles(snaps: dict[Key, ThreadSnapshot]) -> dict[Key, str]:
    ordered = list(snaps.values())
    reports = analyze(ordered).reports
    return {(r.snapshot.num, r.snapshot.lwp): r.verdict.role for r in reports}


def names(snap: ThreadSnapshot) -> list[str]:
    return [frame.function for frame in snap.frames if frame.function]


ORIGINAL = {name: by_thread(text) for name, text in DUMPS.items()}
ALL_NAMES = {name: {fn for dump in parse_dump_text(text) for snap in dump for fn in names(snap)}
             for name, text in DUMPS.items()}
ROLES = {name: roles(threads) for name, threads in ORIGINAL.items()}


def check(name: str, wrapped: str) -> None:
    got = by_thread(wrapped)
    invented = {fn for snap in got.values() for fn in names(snap)} - ALL_NAMES[name]
    assert not invented, (name, invented)
    got_roles = roles(got) if got else {}
    for key, snap in got.items():
        before = ORIGINAL[name].get(key)
        if (before is not None and snap.name == before.name
                and [f.function for f in before.frames] == [f.function for f in snap.frames]):
            assert got_roles[key] == ROLES[name][key], (name, key, names(snap))


@FUZZ
@given(st.sampled_from(sorted(DUMPS)), st.integers(24, 140),
       st.sampled_from(["terminal", "mail", "flowed"]), st.sampled_from(["", "> ", ">> ", "> > "]),
       st.booleans())
def test_wrapped_at_a_width(name: str, width: int, style: str, quote: str, quote_first: bool) -> None:
    check(name, wrap(DUMPS[name], width, style, quote, quote_first))


@FUZZ
@given(st.sampled_from(sorted(DUMPS)),
       st.lists(st.tuples(st.integers(0, 10 ** 6), st.integers(12, 400),
                          st.sampled_from(["terminal", "mail", "flowed", "pager"])), max_size=25))
def test_wrapped_at_random_places(name: str, cuts: list[tuple[int, int, str]]) -> None:
    lines = DUMPS[name].splitlines()
    for where, at, style in cuts:
        index = where % len(lines)
        line = lines[index]
        if style == "pager":  # gdb's prompt, and the output goes on after it (then quoted)
            quote = len(line) - len(line.lstrip("> "))
            lines[index] = line[:quote] + PAGER + line[quote:]
            continue
        if at >= len(line):
            continue
        if style == "terminal":
            lines[index:index + 1] = [line[:at], line[at:]]
        else:
            space = line.find(" ", at)
            if space <= 0:
                continue
            head = line[:space + 1] if style == "flowed" else line[:space]
            lines[index:index + 1] = [head, line[space + 1:]]
    check(name, "\n".join(lines))


def test_a_wrap_before_the_arguments_keeps_the_function() -> None:
    text = ("Thread 7 (Thread 0x7f (LWP 7) \"worker\"):\n"
            "#0  0x00007f1 in __pthread_cond_wait\n(cond=cond@entry=0x55d0c0a8e7c0, mutex=0x1) at x.c:3\n"
            "#1  0x00007f2 in worker_thread\n(opaque=0x1) at ../util/thread-pool.c:111\n"
            "#2  0x00007f3 in qemu_thread_start (args=<optimized\nout>) at ../util/qemu-thread-posix.c:541\n"
            "#3  0x00007f4 in start_thread (arg=<optimized out>)\nat ./nptl/pthread_create.c:442\n"
            "#4  0x00007f5 in clone3 () from /lib/x86_64-linux-gnu/libc.so\n.6\n")
    snap = parse_dump_text(text)[0][0]
    assert names(snap) == ["__pthread_cond_wait", "worker_thread", "qemu_thread_start",
                           "start_thread", "clone3"]
    assert snap.frames[2].file == "../util/qemu-thread-posix.c"
    assert snap.frames[4].library == "/lib/x86_64-linux-gnu/libc.so.6"
    verdict = analyze([snap]).reports[0].verdict
    assert verdict.role == "worker"
    assert "(" not in verdict.state and "cond=" not in verdict.activity


def test_a_word_run_into_its_arguments_gives_the_name_only() -> None:
    snap = parse_dump_text("#0  0x00007f1 in __pthread_cond_wait(cond=cond@entry=0x55d0c0a8e7c0,\n")[0][0]
    assert names(snap) == ["__pthread_cond_wait"]
    snap = parse_dump_text("#0  0x00007f1 in =weird(cond=1,\n")[0][0]
    assert names(snap) == []


FRAME = ("#4  0x000055d0c08ab123 in qemu_cond_wait_impl (cond=0x55d0c1a0, mutex=<optimized out>, "
         "file=0x55d0c1 \"../util/qemu-thread-posix.c\", line=225) at ../util/qemu-thread-posix.c:225")
WRAPS = {
    "before the arguments": ("in qemu_cond_wait_impl", "(cond="),
    "inside an argument": ("mutex=<optimized", "out>"),
    "inside a string": ("qemu-thread-", "posix.c\""),
    "before at": ("line=225)", "at ../util"),
    "inside the file": ("at ../util/qemu-", "thread-posix.c:225"),
}


@pytest.mark.parametrize("where", sorted(WRAPS))
@pytest.mark.parametrize("quote", ["", "> ", ">> ", "> > "])
@pytest.mark.parametrize("style", ["terminal", "mail", "flowed"])
def test_one_frame_wrapped_anywhere(where: str, quote: str, style: str) -> None:
    head_end, tail_start = WRAPS[where]
    cut = FRAME.index(head_end) + len(head_end)
    head, tail = FRAME[:cut], FRAME[cut:]
    if style == "mail":
        tail = tail.lstrip(" ")
    elif style == "flowed":
        head, tail = head + " " if tail.startswith(" ") else head, tail.lstrip(" ")
    assert tail.startswith(tail_start) or tail.startswith(" " + tail_start)
    text = "\n".join(quote + line for line in [
        'Thread 5 (Thread 0x7f (LWP 5) "worker"):', head,
        "--Type <RET> for more, q to quit, c to continue without paging--" + tail,
        "#5  0x000055d0c08ab456 in worker_thread (opaque=0x1) at ../util/thread-pool.c:111"])
    frames = parse_dump_text(text)[0][0].frames
    assert [f.function for f in frames] == ["qemu_cond_wait_impl", "worker_thread"]
    assert (frames[0].file, frames[0].line) == ("../util/qemu-thread-posix.c", 225)
