"""The life of processes as the recorder follows it: threads and processes that end, programs
that exec or run again, libraries that come and go."""
from __future__ import annotations

import contextlib
from typing import Callable

import gdb

from . import clone_breakpoints
from .clone_pairing import on_new_thread, proc_memory
from .clone_state import state

_HANDLERS_ATTR = "_gdb_qemu_threads_origin_handlers"


def _on_exited(event: gdb.ExitedEvent) -> None:
    try:
        inferior = getattr(event, "inferior", None) or gdb.selected_inferior()
        state.deferred = [t for t in state.deferred if t.is_valid()]
        state.store.process_ended(inferior.num)
        proc_memory.close()
        state.delete_breakpoints(found_by_code_only=True)  # the next run may load libc elsewhere
    except Exception:
        state.note_error("exit")


def _on_inferior_deleted(event: gdb.InferiorDeletedEvent) -> None:
    try:
        state.store.forget_pending(event.inferior.num)
    except Exception:
        state.note_error("inferior deleted")


def _on_clear_objfiles(event: gdb.ClearObjFilesEvent) -> None:
    # An exec (or a new run): creations the old image started will never be answered.
    try:
        state.forget_code()
        state.delete_breakpoints(found_by_code_only=True)
        for inferior in gdb.inferiors():
            if inferior.progspace == event.progspace:
                state.store.forget_pending(inferior.num)
    except Exception:
        state.note_error("clear objfiles")


def _on_new_objfile(event: gdb.NewObjFileEvent) -> None:
    state.forget_code()
    try:
        clone_breakpoints.place(event.new_objfile.filename or "")
    except Exception:
        state.note_error("new objfile")


def _on_free_objfile(event: object) -> None:
    state.forget_code()


def _on_thread_exited(event: object) -> None:
    try:
        thread = event.inferior_thread  # type: ignore[attr-defined]
        state.store.thread_gone(thread.inferior.num, thread.ptid[0], thread.ptid[1])
    except Exception:
        state.note_error("thread exited")


def _handlers() -> list[tuple[str, Callable[..., None]]]:
    handlers: list[tuple[str, Callable[..., None]]] = [
        ("new_thread", on_new_thread), ("exited", _on_exited),
        ("inferior_deleted", _on_inferior_deleted), ("clear_objfiles", _on_clear_objfiles),
        ("new_objfile", _on_new_objfile)]
    if hasattr(gdb.events, "free_objfile"):
        handlers.append(("free_objfile", _on_free_objfile))
    if hasattr(gdb.events, "thread_exited"):  # gdb 14 and later
        handlers.append(("thread_exited", _on_thread_exited))
    return handlers


def connect() -> None:
    """Connect the event handlers, once: a reload of these modules (importlib.reload) must
    not leave the old handlers connected."""
    for event_name, handler in getattr(gdb, _HANDLERS_ATTR, []):
        with contextlib.suppress(Exception):
            getattr(gdb.events, event_name).disconnect(handler)
    handlers = _handlers()
    for event_name, handler in handlers:
        getattr(gdb.events, event_name).connect(handler)
    setattr(gdb, _HANDLERS_ATTR, handlers)
