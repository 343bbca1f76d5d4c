"""eu-stack (elfutils) text read offline: real output of Debian's QEMU 7.2 (tests/data/eustack-*,
made by tests/capture_eustack_dumps.py), as saved and as a mail client quotes and wraps it."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_wraps_fuzz import wrap

from gdb_qemu_threads.analyze.pipeline import analyze
from gdb_qemu_threads.dump import parse_dump_text
from gdb_qemu_threads.dump.formats import format_of

DATA = Path(__file__).resolve().parents[1] / "data"
STACKS = sorted(DATA.glob("eustack-*-stack.txt"))


def truth_for(path: Path) -> dict:
    return json.loads((DATA / path.name.replace("-stack.txt", ".truth.json")).read_text())


def copies(path: Path) -> list[tuple[str, str]]:
    text = path.read_text()
    return [("as saved", text), ("quoted", wrap(text, 1000, "mail", "> ", True)),
            ("wrapped by mail", wrap(text, 38, "mail", "> ", False)),
            ("wrapped by a terminal", wrap(text, 33, "terminal", "", False)),
            ("flowed", wrap(text, 45, "flowed", ">> ", True))]


@pytest.mark.parametrize("path", STACKS, ids=[p.stem for p in STACKS])
def test_eustack_matches_truth(path: Path) -> None:
    truth = truth_for(path)
    for how, text in copies(path):
        dumps = parse_dump_text(text)
        assert len(dumps) == 1, how
        reports = {r.snapshot.lwp: r.verdict for r in analyze(dumps[0], pid=truth["pid"]).reports}
        assert sorted(reports) == sorted(int(t) for t in truth["comm"]), how
        assert reports[truth["pid"]].role == "main-loop", how
        for tid in truth["vcpus"].values():
            assert reports[tid].role == "vcpu" and reports[tid].accel == truth["accel"], (how, tid)
        for tid in truth["iothreads"].values():
            assert reports[tid].role == "iothread", (how, tid)
        for tid, verdict in reports.items():
            if verdict.role not in ("main-loop", "vcpu", "iothread", "unknown"):
                assert verdict.confidence == "low" or verdict.role in ("call-rcu", "worker"), (how, tid)


def test_eustack_frames_and_modules() -> None:
    text = (DATA / "eustack-tcg-modules-stack.txt").read_text()
    snap = parse_dump_text(text)[0][0]
    assert snap.num == 1 and snap.lwp == truth_for(DATA / "eustack-tcg-modules-stack.txt")["pid"]
    top = snap.frames[0]
    assert (top.function, top.library) == ("ppoll", "/usr/lib/x86_64-linux-gnu/libc.so.6")
    assert top.pc == int(text.split("#0  ", 1)[1].split()[0], 16)
    assert snap.frames[1].function == "qemu_poll_ns" and snap.frames[1].library is None  # QEMU's own
    anonymous = parse_dump_text(text)[0][1].frames[2]
    assert anonymous.function is None and anonymous.pc


def test_eustack_source_lines_and_activation_marks() -> None:
    text = ("PID 40 - core\nTID 40:\n#0  0x00007f8b2c6a4d36 - 1 __futex_abstimed_wait_common64\n"
            "    ./nptl/futex-internal.c:57:12\n#1  0x000055d0c08ab123 qemu_cond_wait_impl+0x43\n"
            "TID 41:\n#0  0x00007f8b2c6a4d36\n")
    threads = parse_dump_text(text)[0]
    frames = threads[0].frames
    assert [f.function for f in frames] == ["__futex_abstimed_wait_common64", "qemu_cond_wait_impl"]
    assert (frames[0].file, frames[0].line) == ("./nptl/futex-internal.c", 57)
    assert threads[1].lwp == 41 and threads[1].frames[0].function is None


@pytest.mark.parametrize("cut", ["#3\n 0x000055bcdc32fc06", "#3\n0x000055bcdc32fc06",
                                 "#3  0x0000\n55bcdc32fc06"])
def test_a_frame_cut_before_or_inside_its_address_starts_a_frame(cut: str) -> None:
    """A pager prompt or a wrap right after a frame's number: the next line holds its address;
    the frame before keeps its own function name."""
    text = ("PID 40 - process\nTID 41:\n#2  0x000055bcdc4622c7 aio_poll\n"
            "--Type <RET> for more, q to quit, c to continue without paging--%s\n"
            "#4  0x00007f932376f1f5 start_thread\n" % cut)
    frames = parse_dump_text(text)[0][0].frames
    assert [(f.function, f.pc) for f in frames] == [
        ("aio_poll", 0x55bcdc4622c7), (None, 0x55bcdc32fc06), ("start_thread", 0x7f932376f1f5)]


def test_formats_are_told_apart() -> None:
    assert format_of("TID 1235:") == "eu-stack"
    assert format_of("PID 1234 - process") == "eu-stack"
    assert format_of("#1  0x000055d0c08ab123 qemu_cond_wait_impl") == "gdb"  # eu-stack has TID lines first
    assert format_of("#1  0x000055d0c08ab123 in qemu_cond_wait_impl (cond=0x1) at x.c:3") == "gdb"
    assert format_of("#3  0x000055d0c08ab123 in ?? ()") == "gdb"
    assert format_of("  thread #2: tid = 0x1a2b4, 0x000000018d6c93ec libsystem_kernel.dylib`x + 8") == "lldb"
    assert format_of("    frame #3: 0x0000000102a8b5c4 qemu-system-aarch64`qemu_main_loop at r.c:8:9") == "lldb"
    assert format_of("Hello, here is my backtrace:") is None
