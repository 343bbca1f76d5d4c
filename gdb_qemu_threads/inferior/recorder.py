"""`qemu-thread-origins`: record who created each thread, while the program runs.

What the commands call: start and stop recording, the status, the records to show, and
`origin_of` for `qemu-threads`. The work is done at gdb's events: clone_breakpoints.py reads
each creation at a breakpoint on clone3/clone, clone_pairing.py pairs it with the thread gdb
reports, clone_events.py follows processes and libraries, clone_libc_code.py finds clone3
in a libc without debug symbols; creation/store.py keeps the records (pure).
"""
from __future__ import annotations

from typing import Dict, NamedTuple, Optional, Tuple

import gdb

from ..creation.store import OriginRecord
from ..model import Frame
from . import clone_breakpoints, clone_events, clone_libc_code, process
from .clone_pairing import resolve_deferred
from .clone_state import ALL_FRAMES, DEFAULT_MAX_FRAMES, state

LiveThreads = Dict[int, Tuple[int, Optional[str]]]  # LWP -> (gdb number, OS name)

connect_events = clone_events.connect


class Status(NamedTuple):
    recording: bool
    counts: dict[str, int]
    notes: list[str]       # what is not recorded, and why
    errors: int            # bugs of ours met inside gdb events
    last_error: str


class Shown(NamedTuple):
    """What `show` lists from: the records, and the selected inferior as it is now."""

    records: list[OriginRecord]
    live: LiveThreads
    inferior: int
    pid: int               # the selected inferior's live process, 0 if none
    selected: int | None  # the selected thread's gdb number
    recorded_any: bool     # whether any process has records


def _refresh() -> tuple[gdb.Inferior, LiveThreads]:
    """Pair what can be paired and mark who lives; the selected inferior and its threads."""
    if state.deferred:
        resolve_deferred()
    inferior = gdb.selected_inferior()
    live = _live_threads(inferior)
    if inferior.pid > 0:
        state.store.refresh(inferior.num, inferior.pid, live)
    return inferior, live


def thread_name(thread: gdb.InferiorThread, pid: int) -> str | None:
    """The thread's OS name; one that is not UTF-8 keeps its bytes as replacement characters
    (gdb's thread.name fails on it; /proc has the bytes on a native target)."""
    try:
        return thread.name
    except UnicodeDecodeError:
        pass
    except (RuntimeError, gdb.error):
        return None
    if process.is_local_live(thread.inferior):
        try:
            with open("/proc/%d/task/%d/comm" % (pid, thread.ptid[1]), "rb") as comm:
                return comm.read().rstrip(b"\n").decode("utf-8", "replace")
        except OSError:
            pass
    return "\ufffd"  # gdb cannot hand the name to Python and no other source has it


def _live_threads(inferior: gdb.Inferior) -> LiveThreads:
    live: LiveThreads = {}
    if inferior.pid <= 0:
        return live
    for thread in inferior.threads():
        if thread.is_valid() and not thread.is_exited():
            live[thread.ptid[1]] = (thread.num, thread_name(thread, inferior.pid))
    return live


# --- what other commands use -----------------------------------------------------------------

def lookup(pid: int, lwp: int | None) -> OriginRecord | None:
    """The recorded creation of thread `lwp` of process `pid`, or None."""
    if lwp is None or not pid:
        return None
    if state.deferred:
        resolve_deferred()
    return state.store.lookup(pid, lwp)


def origin_of(pid: int, lwp: int) -> tuple[list[Frame], int | None] | None:
    """The recorded creation of a thread as the reader wants it: (frames, creator's LWP)."""
    record = lookup(pid, lwp)
    return (list(record.frames), record.parent_lwp) if record is not None else None


# --- the commands ------------------------------------------------------------------------------

def start(max_frames: int | None = None) -> str:
    """Start recording; max_frames None keeps the default, 0 keeps every frame."""
    if state.recording:
        return "Already recording thread creation (%s)." % _frames_text()
    state.max_frames = DEFAULT_MAX_FRAMES if max_frames is None else (max_frames or ALL_FRAMES)
    state.recording = True
    clone_breakpoints.place()
    notes = _notes()
    return "Recording thread creation (%s; %s)%s" % (
        _where_text(), _frames_text(), "".join("; " + note for note in notes) + ".")


def _frames_text() -> str:
    if state.max_frames >= ALL_FRAMES:
        return "every frame of each creation backtrace"
    return "%d frames of each creation backtrace" % state.max_frames


def _where_text() -> str:
    placed = [bp.via for bp in state.live_breakpoints()]
    if not placed:
        return "no breakpoint yet"
    return "breakpoints on %s" % " and ".join(sorted(set(placed), reverse=True))


def _notes() -> list[str]:
    """What is not (yet) recorded, and why."""
    notes = []
    missing = clone_breakpoints.missing()
    inferior = gdb.selected_inferior()
    if missing and (inferior.pid <= 0 or not clone_libc_code.libc_loaded()):
        notes.append("%s: waiting for libc to be loaded" % " and ".join(missing))
    elif missing:
        notes.append("%s not found: threads created through %s are not recorded (libc without "
                     "debug symbols? install them, e.g. libc6-dbg, or enable debuginfod)"
                     % (" and ".join(missing), " or ".join(missing)))
    code = clone_breakpoints.found_in_code()
    if code is not None:
        notes.append("clone3 found in libc's code at %s (libc has no debug symbols)" % code)
    if inferior.pid > 0 and process.target_kind(inferior) in ("remote", "extended-remote"):
        notes.append("on a remote target gdb learns of new threads only when the program stops: "
                     "a thread that ends before then is not recorded")
    return notes


def stop() -> str:
    state.recording = False
    count = state.delete_breakpoints()
    return "Stopped recording thread creation (%d breakpoint%s removed)." % (
        count, "" if count == 1 else "s")


def status() -> Status:
    _refresh()
    return Status(state.recording, state.store.counts(), _notes() if state.recording else [],
                  state.errors, state.last_error)


def shown(every_process: bool) -> Shown:
    inferior, live = _refresh()
    store = state.store
    if every_process:
        records = store.all_records()
    else:
        pid = inferior.pid if inferior.pid > 0 else store.latest_pid(inferior.num)
        records = store.records_of(inferior.num, pid) if pid else []
    selected = gdb.selected_thread()
    return Shown(records, live, inferior.num, max(inferior.pid, 0),
                 selected.num if selected is not None else None, bool(store.counts()["threads"]))


def clear() -> str:
    count = state.store.counts()["threads"]
    state.store.clear()
    state.deferred = []
    return "Forgot %d thread record%s." % (count, "" if count == 1 else "s")
