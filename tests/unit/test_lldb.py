"""LLDB's `thread list` and `bt all` read offline (samples written for the tests from LLDB's
default thread and frame formats: tests/data/lldb-*, truth in lldb-*.truth.json), and the
stacks of other languages refused."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_wraps_fuzz import wrap

from gdb_qemu_threads.analyze.pipeline import analyze
from gdb_qemu_threads.dump import NO_DUMP, DumpError, parse_dump_text
from gdb_qemu_threads.model import ThreadReport

DATA = Path(__file__).resolve().parents[1] / "data"
BACKTRACES = [DATA / "lldb-hvf-cocoa-btall.txt", DATA / "lldb-hvf-cocoa-mailed.txt"]
TRUTH = json.loads((DATA / "lldb-hvf-cocoa.truth.json").read_text())["threads"]


def reports(text: str) -> dict[int, ThreadReport]:
    dumps = parse_dump_text(text)
    assert len(dumps) == 1
    return {r.snapshot.num: r for r in analyze(dumps[0]).reports if r.snapshot.num is not None}


def check_truth(got: dict[int, ThreadReport], only_top: bool) -> None:
    assert sorted(got) == sorted(int(n) for n in TRUTH)
    for num, want in TRUTH.items():
        verdict = got[int(num)].verdict
        if only_top and num == "1":
            # One frame and no name: nothing shows AppKit's loop; a guess, never a certainty.
            assert verdict.confidence == "low"
            continue
        assert verdict.role == want["role"], (num, verdict)
        assert verdict.confidence == "high", (num, verdict)
        for key in ("vcpu", "accel", "detail"):
            if key in want:
                assert getattr(verdict, key) == want[key], (num, key, verdict)


@pytest.mark.parametrize("path", BACKTRACES, ids=[p.stem for p in BACKTRACES])
def test_bt_all_matches_truth(path: Path) -> None:
    check_truth(reports(path.read_text()), only_top=False)


@pytest.mark.parametrize("width,style,quote", [(41, "terminal", ""), (57, "mail", "> "),
                                                (64, "flowed", ">> "), (90, "mail", "> > ")])
def test_bt_all_wrapped_matches_truth(width: int, style: str, quote: str) -> None:
    text = wrap((DATA / "lldb-hvf-cocoa-btall.txt").read_text(), width, style, quote, False)
    check_truth(reports(text), only_top=False)


def test_thread_list_gives_tids_names_and_top_frames() -> None:
    got = reports((DATA / "lldb-hvf-cocoa-list.txt").read_text())
    check_truth(got, only_top=True)
    main = got[1].snapshot
    assert main.lwp == 0x1A2B3 and main.name is None and main.current
    assert got[4].snapshot.name == "CPU 0/HVF" and got[4].snapshot.lwp == 0x1A2B9
    top = got[4].snapshot.frames
    assert len(top) == 1 and (top[0].function, top[0].library, top[0].pc) == ("hv_trap", "Hypervisor",
                                                                              0x1A0F7E9D8)


def test_frames_of_every_shape() -> None:
    text = """* thread #1: tid = 12345, 0x0000000100000e85 a.out`main + 4 at test.c:19, stop reason = \
breakpoint 1.1, name = qemu_main
  * frame #0: 0x0000000100000e85 a.out`main(argc=1, argv=0x000000016fdff4a8) at test.c:19:3 [opt]
    frame #1: 0x0000000102b0a1f0 qemu-system-aarch64`___lldb_unnamed_symbol4821 + 56
    frame #2: 0x0000000102d9e1a4 qemu-system-aarch64`main_loop_wait [inlined] os_host_main_loop_wait(timeout=1) at main-loop.c:305:11 [opt]
    frame #3: 0x000000018d3780e0 dyld`start + 2360
    frame #4: 0x0000000000000000
"""
    snap = parse_dump_text(text)[0][0]
    assert (snap.num, snap.lwp, snap.name) == (1, 12345, "qemu_main")
    frames = snap.frames
    assert [f.function for f in frames] == ["main", None, "os_host_main_loop_wait", "start", None]
    assert (frames[0].file, frames[0].line, frames[0].library) == ("test.c", 19, "a.out")
    assert frames[1].library is None and frames[1].pc == 0x102B0A1F0  # QEMU's own, unnamed
    assert frames[3].library == "dyld"


def test_a_second_bt_all_is_a_second_dump() -> None:
    text = (DATA / "lldb-hvf-cocoa-btall.txt").read_text()
    assert len(parse_dump_text(text + "\n(lldb) bt all\n" + text)) == 2


GO = """goroutine 1 [running]:
main.main()
	/home/u/x/main.go:7 +0x1d
exit status 2
"""
RUST = """thread 'main' panicked at src/main.rs:2:5:
boom
stack backtrace:
   0: rust_begin_unwind
             at /rustc/abc/library/std/src/panicking.rs:645:5
   1: core::panicking::panic_fmt
   2: x::main
note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.
"""
PYTHON = """Traceback (most recent call last):
  File "/tmp/x.py", line 3, in <module>
    main()
  File "/tmp/x.py", line 2, in main
    raise ValueError("boom")
ValueError: boom
Thread 0x00007f0e2a7fc700 (most recent call first):
  File "/usr/lib/python3.11/threading.py", line 320 in wait
"""


@pytest.mark.parametrize("text", [GO, RUST, PYTHON], ids=["go", "rust", "python"])
def test_other_languages_are_refused_in_one_line(text: str) -> None:
    with pytest.raises(DumpError) as err:
        parse_dump_text(text)
    assert str(err.value) == NO_DUMP
    assert "LLDB" in NO_DUMP and "eu-stack" in NO_DUMP and "\n" not in NO_DUMP


SESSIONS = sorted(DATA.glob("lldb-linux-*-session.txt"))


@pytest.mark.parametrize("path", SESSIONS, ids=[p.stem for p in SESSIONS])
@pytest.mark.parametrize("width,style,quote", [(0, "", ""), (47, "terminal", ""), (66, "mail", "> "),
                                                (72, "flowed", ">> ")])
def test_real_lldb_session_matches_truth(path: Path, width: int, style: str, quote: str) -> None:
    """LLDB 14 attached to Debian's QEMU 7.2 (tests/capture_lldb_dumps.py): the stop display,
    `thread list` and `bt all` of one stop make one dump."""
    truth = json.loads((DATA / path.name.replace("-session.txt", ".truth.json")).read_text())
    text = path.read_text()
    if width:
        text = wrap(text, width, style, quote, False)
    dumps = parse_dump_text(text)
    assert len(dumps) == 1
    verdicts = {r.snapshot.lwp: r.verdict for r in analyze(dumps[0]).reports}
    assert sorted(verdicts) == sorted(int(t) for t in truth["comm"])
    assert verdicts[truth["pid"]].role == "main-loop"
    for tid in truth["vcpus"].values():
        assert verdicts[tid].role == "vcpu" and verdicts[tid].accel == truth["accel"]
    for tid in truth["iothreads"].values():
        assert verdicts[tid].role == "iothread"
    for tid, name in truth["comm"].items():
        if name.startswith(("IO ", "CPU ", "kvm-")):
            assert verdicts[int(tid)].confidence == "high", (tid, name)
    main = dumps[0][0]
    assert main.num == 1 and main.current and len(main.frames) > 3  # bt all's frames, not frame 0's


def test_macos_waits_are_waits_not_running() -> None:
    got = reports((DATA / "lldb-hvf-cocoa-btall.txt").read_text())
    states = {num: r.verdict.state for num, r in got.items()}
    assert "running" not in states.values(), states
    waiting = [r for r in got.values() if r.snapshot.frames[0].function == "__psynch_cvwait"]
    assert waiting and all(r.verdict.state == "idle" for r in waiting)
