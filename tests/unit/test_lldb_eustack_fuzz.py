"""LLDB's and eu-stack's readers on junk built from their lines' pieces: a parse or the one
DumpError line, never another exception, and every value of the type it should be."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gdb_qemu_threads.dump import DumpError, parse_dump_text
from gdb_qemu_threads.model import Frame, ThreadSnapshot

FUZZ = settings(deadline=2000, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
PIECES = ["* thread #1", "  thread #2", ", name = '", "CPU 0/HVF", "'", ", queue = 'com.apple.main-thread'",
          ": tid = 0x1a2b3", "tid = 12", ", stop reason = signal SIGSTOP", "  * frame #0: ", "frame #12: ",
          "0x000000018d6c9c2c", " libsystem_kernel.dylib`", "__semwait_signal", " + 8", " at runstate.c:818:9",
          " [opt]", " [inlined] ", "-[NSApplication run]", "-[", "]", "`", "(", ")", "___lldb_unnamed_symbol12",
          "qemu-system-aarch64`", "PID 12 - process", "PID 7 - core", "TID 13:", "TID ", "#0  ",
          "#1  0x00007f8b2c6a4d36 ", "qemu_cond_wait_impl", " - /usr/lib/libc.so.6", " - 1", "+0x43",
          "    ./nptl/x.c:57:12", "(lldb) bt all", "Process 4 stopped", "> ", ">> ", "\t", "\r", ":",
          "\x1b[32m", "\x1b[0m", "\u00b2", "\u0663"]


@FUZZ
@given(st.lists(st.lists(st.sampled_from(PIECES) | st.text(max_size=8), max_size=10).map("".join),
                max_size=50).map("\n".join))
def test_lldb_and_eustack_junk(text: str) -> None:
    try:
        dumps = parse_dump_text(text)
    except DumpError as err:
        assert "\n" not in str(err)
        return
    assert dumps and all(dumps)
    for dump in dumps:
        for snap in dump:
            assert isinstance(snap, ThreadSnapshot)
            assert snap.num is None or isinstance(snap.num, int)
            assert snap.lwp is None or isinstance(snap.lwp, int)
            for frame in snap.frames:
                assert isinstance(frame, Frame)
                assert frame.pc is None or isinstance(frame.pc, int)
                assert frame.function is None or (frame.function.strip() == frame.function and frame.function)
