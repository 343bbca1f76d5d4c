"""Pairing a creation with the thread gdb reports: by the id the kernel wrote, or the handle.

creation/store.py decides (see its docstring); this module reads what it needs. The new
thread's id is read at the creation's parent_tid address: on a native target through
/proc/PID/mem (gdb has no thread selected while it reports a new thread, so gdb itself
cannot read a native process's memory then), elsewhere (gdbserver) through gdb. The
thread's handle (its pthread_t) gdb learns only after the new-thread event: threads waiting
for it are kept in `state.deferred` and paired at the next chance.
"""
from __future__ import annotations

import contextlib
import os
import struct
from typing import Callable

import gdb

from . import process
from .clone_state import state

_TID = struct.Struct("<i")


class ProcMemory:
    """A native inferior's memory through /proc/PID/mem, open once per process."""

    def __init__(self) -> None:
        self.files: dict[int, int] = {}

    def _open(self, pid: int) -> int | None:
        fd = self.files.get(pid)
        if fd is None:
            try:
                fd = os.open("/proc/%d/mem" % pid, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
            except OSError:
                return None
            self.files[pid] = fd
        return fd

    def read_tid(self, pid: int, address: int) -> int | None:
        for _ in range(2):  # a file left from an earlier process of the same pid fails once
            fd = self._open(pid)
            if fd is None:
                return None
            try:
                data = os.pread(fd, _TID.size, address)
            except OSError:
                data = b""
            if len(data) == _TID.size:
                return int(_TID.unpack(data)[0])
            self.close(pid)
        return None

    def close(self, pid: int | None = None) -> None:
        for key in [k for k in self.files if pid is None or k == pid]:
            with contextlib.suppress(OSError):
                os.close(self.files.pop(key))


proc_memory = ProcMemory()


def _gdb_read_tid(inferior: gdb.Inferior, address: int) -> int | None:
    try:
        return int(_TID.unpack(bytes(inferior.read_memory(address, _TID.size)))[0])
    except (gdb.error, gdb.MemoryError, ValueError):
        return None


def tid_reader(inferior: gdb.Inferior, pid: int) -> Callable[[int], int | None]:
    """read_tid(address) for this inferior: /proc on a native target, else gdb."""
    if process.is_local_live(inferior):
        def read_tid(address: int) -> int | None:
            found = proc_memory.read_tid(pid, address)
            return found if found is not None else _gdb_read_tid(inferior, address)
    else:
        def read_tid(address: int) -> int | None:
            return _gdb_read_tid(inferior, address)
    return read_tid


def handle_value(thread: gdb.InferiorThread) -> int | None:
    try:
        handle = thread.handle()
    except (RuntimeError, gdb.error):
        return None  # gdb learns it only after the new-thread event
    if not handle:
        return None
    return int.from_bytes(bytes(handle), "little")


def on_new_thread(event: gdb.NewThreadEvent) -> None:
    try:
        thread = event.inferior_thread
        inferior = thread.inferior
        pid, lwp = thread.ptid[0], thread.ptid[1]
        store = state.store
        if state.deferred:
            resolve_deferred()
        if not store.has_pending(inferior.num, pid):
            return
        if store.pair_by_tid(inferior.num, pid, lwp, thread.num, tid_reader(inferior, pid)) is not None:
            return
        handle = handle_value(thread)
        if handle is not None and store.pair_by_handle(inferior.num, pid, lwp, thread.num,
                                                       handle) is not None:
            return
        if store.waits_for_handle(inferior.num, pid):
            state.deferred.append(thread)
    except Exception:
        state.note_error("new thread")


def resolve_deferred() -> None:
    """Pair threads whose handle gdb did not know when it reported them."""
    waiting, state.deferred = state.deferred, []
    for thread in waiting:
        if not thread.is_valid() or thread.is_exited():
            state.store.unpaired += 1
            continue
        handle = handle_value(thread)
        if handle is None:
            state.deferred.append(thread)
            continue
        state.store.pair_by_handle(thread.inferior.num, thread.ptid[0], thread.ptid[1], thread.num,
                                   handle)
