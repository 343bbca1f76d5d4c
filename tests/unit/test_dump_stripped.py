"""Threads of stripped builds without names, decided by the exported functions under their
anonymous frames: real stacks of a live migration between two of Debian's QEMU 7.2
(tests/data/migration-*, made by tests/capture_migration_dumps.py: eu-stack text and gdb's
backtraces of a core, neither with thread names; the truth is /proc's names, taken with
debug-threads=on), GLib's worker context, and a Xen device model's xenstore thread."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from gdb_qemu_threads.analyze.pipeline import analyze
from gdb_qemu_threads.dump import parse_dump_text
from gdb_qemu_threads.signatures import DEFAULT_TABLE

DATA = Path(__file__).resolve().parents[1] / "data"
DUMPS = sorted(DATA.glob("migration-*-stack.txt")) + sorted(DATA.glob("migration-*-core.txt"))


def truth_for(path: Path) -> dict:
    return json.loads((DATA / ("%s.truth.json" % path.name.rsplit("-", 1)[0])).read_text())


@pytest.mark.parametrize("path", DUMPS, ids=[p.stem for p in DUMPS])
def test_migration_threads_without_names(path: Path) -> None:
    truth = truth_for(path)
    dumps = parse_dump_text(path.read_text())
    assert len(dumps) == 1
    verdicts = {r.snapshot.lwp: r.verdict for r in analyze(dumps[0], pid=truth["pid"]).reports}
    assert sorted(verdicts) == sorted(int(t) for t in truth["comm"])
    decided = set()
    for tid, name in truth["comm"].items():
        verdict = verdicts[int(tid)]
        assert verdict.role != "unknown" or verdict.confidence == "low"
        named = DEFAULT_TABLE.by_name(name)
        if named is None:
            continue  # the process's name: the main thread, or call_rcu created before -name is read
        want = named[0].role
        # Never a role other than the name's; "unknown" where the frames cannot tell.
        assert verdict.role in (want, "unknown"), (path.name, name, verdict)
        if verdict.role == want:
            decided.add(name)
    if "live_migration" in truth["comm"].values():
        assert "live_migration" in decided
        migration = next(v for t, v in verdicts.items() if truth["comm"][str(t)] == "live_migration")
        assert migration.confidence == "low" and "migration_rate_limit" in migration.evidence
    if "return path" in truth["comm"].values():
        assert "return path" in decided
    if "postcopy/listen" in truth["comm"].values():
        assert "postcopy/listen" in decided


# Copied from eu-stack and gdb on a program whose GLib worker context runs (Debian 12's
# libglib 2.74, stripped of its static functions).
GMAIN_EUSTACK = """PID 27699 - process
TID 27699:
#0  0x00007fd8f29cb26f __poll
#1  0x00007fd8f2b0598e
#2  0x00007fd8f2b05ccf g_main_loop_run
#3  0x00005555e4956098 main
TID 27701:
#0  0x00007fd8f29cb26f __poll
#1  0x00007fd8f2b0598e
#2  0x00007fd8f2b05aac g_main_context_iteration
#3  0x00007fd8f2b05af1
#4  0x00007fd8f2b2fcdd
#5  0x00007fd8f29581f5 start_thread
#6  0x00007fd8f29d88ec __clone3
"""
GMAIN_GDB = """Thread 2 (Thread 0x7f69407ea6c0 (LWP 27637) "gm"):
#0  0x00007f6940a6326f in __GI___poll (fds=0x55caa76a6fe0, nfds=1, timeout=-1) at ../sysdeps/unix/sysv/linux/poll.c:29
#1  0x00007f6940b9d98e in ?? () from /lib/x86_64-linux-gnu/libglib-2.0.so.0
#2  0x00007f6940b9daac in g_main_context_iteration () from /lib/x86_64-linux-gnu/libglib-2.0.so.0
#3  0x00007f6940b9daf1 in ?? () from /lib/x86_64-linux-gnu/libglib-2.0.so.0
#4  0x00007f6940bc7cdd in ?? () from /lib/x86_64-linux-gnu/libglib-2.0.so.0
#5  0x00007f69409f01f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#6  0x00007f6940a708ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81
"""


def test_glib_worker_context_without_names() -> None:
    reports = analyze(parse_dump_text(GMAIN_EUSTACK)[0]).reports
    assert (reports[1].verdict.role, reports[1].verdict.confidence) == ("gmain", "low")
    # gdb names the ?? frames' library: all GLib's, so GLib's own thread function (not QEMU's)
    verdict = analyze(parse_dump_text(GMAIN_GDB)[0]).reports[0].verdict
    assert (verdict.role, verdict.confidence) == ("gmain", "low")
    # One ?? frame of the program's own between them: a thread function that is not GLib's.
    other = GMAIN_GDB.replace("in ?? () from /lib/x86_64-linux-gnu/libglib-2.0.so.0\n#4", "in ?? ()\n#4")
    assert other != GMAIN_GDB
    assert analyze(parse_dump_text(other)[0]).reports[0].verdict.role == "unknown"


# Written for the test from libxenstore's read_thread (tools/libs/store/xs.c): a blocking read
# of the xenstore socket in a thread that the library started; Debian's libxenstore.so.4 keeps
# only exported names.
XENSTORE = """Thread 4 (Thread 0x7f3a2d7fe6c0 (LWP 3104) "qemu-system-i38"):
#0  0x00007f3a3b8e8a5c in __GI___libc_read (fd=9, buf=0x7f3a2d7fdc20, nbytes=16) at ../sysdeps/unix/sysv/linux/read.c:26
#1  0x00007f3a3c2a61f3 in ?? () from /lib/x86_64-linux-gnu/libxenstore.so.4
#2  0x00007f3a3c2a6b4d in ?? () from /lib/x86_64-linux-gnu/libxenstore.so.4
#3  0x00007f3a3b86f1f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#4  0x00007f3a3b8ef8ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81
"""


def test_xenstore_watch_thread_is_a_library_thread() -> None:
    verdict = analyze(parse_dump_text(XENSTORE)[0]).reports[0].verdict
    assert (verdict.role, verdict.detail) == ("library", "Xen xenstore watch thread (libxenstore)")
    assert "libxenstore.so.4" in verdict.evidence
