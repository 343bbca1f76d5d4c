"""`qemu-thread-origins`: record who created each thread, while the program runs.

A Python breakpoint on clone3 and one on clone (internal: not in `info breakpoints`, no
breakpoint numbers taken from the user) read the creating thread's backtrace and the clone
arguments in `stop()` and return False, so the program never stops for the user. gdb's
new-thread event then pairs the creation with the new LWP (see origins_store for how). All
the bookkeeping lives in the pure origins_store; this file only talks to gdb.
"""
from __future__ import annotations

import os
import re
import struct
import traceback
from typing import Dict, List, Optional, Tuple

import gdb  # type: ignore[import-not-found]

from ..creation.store import (OriginRecord, OriginStore, SelectionError, format_backtraces,
                              format_table, json_document, select, status_line)
from ..model import Frame
from ..vocab import CLONE, canonical
from . import process, stacks

COMMAND = "qemu-thread-origins"
DEFAULT_MAX_FRAMES = 48
# The clone wrappers' arguments, by architecture: clone3(args, size) and
# clone(fn, stack, flags, arg, parent_tid, tls, child_tid).
_CLONE3_REGS = {"x86-64": ("rdi", "rsi"), "aarch64": ("x0", "x1")}
_CLONE_REGS = {"x86-64": ("rdx", "r8", "r9"), "aarch64": ("x2", "x4", "x5")}
# struct clone_args (linux/sched.h): u64 flags, pidfd, child_tid, parent_tid, exit_signal,
# stack, stack_size, tls, ...; 64 bytes up to tls (CLONE_ARGS_SIZE_VER0).
_CLONE_ARGS = struct.Struct("<8Q")
_TID = struct.Struct("<i")
# Where the wrappers are: libc without debug symbols names clone but not clone3.
_LOCATIONS = (("clone3", "clone3"), ("clone", "clone"))
_HANDLERS_ATTR = "_gdb_qemu_threads_origin_handlers"


class _State:
    def __init__(self) -> None:
        self.store = OriginStore()
        self.breakpoints: List["_CloneBreakpoint"] = []
        self.max_frames = DEFAULT_MAX_FRAMES
        self.libraries: Dict[int, Optional[str]] = {}
        self.frames: Dict[Tuple[Optional[str], Optional[str], int, bool], Frame] = {}
        self.stacks = stacks.StackCache()  # creators' stacks, recognised at the next creation
        self.arch_keys: Dict[str, Optional[str]] = {}
        self.deferred: List["gdb.InferiorThread"] = []  # new threads waiting for their handle
        self.errors = 0
        self.last_error = ""

    @property
    def recording(self) -> bool:
        return bool(self.breakpoints)

    def forget_code(self) -> None:
        """Code moved (a library came or went, the program was re-run or exec'd)."""
        self.libraries.clear()
        self.frames.clear()
        self.stacks.clear()


_state = _State()


# --- reading the creation at the breakpoint ----------------------------------------------------

def _arch_key(frame: "gdb.Frame") -> Optional[str]:
    name = frame.architecture().name()
    if name not in _state.arch_keys:
        key = None
        for candidate in ("x86-64", "aarch64"):
            if candidate in name:
                key = candidate
        _state.arch_keys[name] = key
    return _state.arch_keys[name]


def _register(frame: "gdb.Frame", name: str) -> int:
    return int(frame.read_register(name)) & 0xFFFFFFFFFFFFFFFF


def _clone_arguments(frame: "gdb.Frame", inferior: "gdb.Inferior", via: str
                     ) -> Tuple[Optional[int], Optional[int], Optional[int]]:
    """(flags, tls, parent_tid address) of the clone or clone3 call about to be made."""
    arch = _arch_key(frame)
    if arch is None:
        return None, None, None
    if via == "clone3":
        args_reg, size_reg = _CLONE3_REGS[arch]
        address = _register(frame, args_reg)
        size = _register(frame, size_reg)
        if not address or size < 32:
            return None, None, None
        fields = _CLONE_ARGS.unpack(bytes(inferior.read_memory(address, _CLONE_ARGS.size)))
        tls = fields[7] if size >= _CLONE_ARGS.size else None
        return fields[0], tls, fields[3] or None
    flags_reg, ptid_reg, tls_reg = _CLONE_REGS[arch]
    return (_register(frame, flags_reg) & 0xFFFFFFFF, _register(frame, tls_reg),
            _register(frame, ptid_reg) or None)


def _library(pc: int) -> Optional[str]:
    libraries = _state.libraries
    if pc not in libraries:
        libraries[pc] = gdb.solib_name(pc)
    return libraries[pc]


def _reuse_stacks() -> bool:
    try:
        return bool(gdb.parameter("qemu-threads reuse-stacks"))
    except (gdb.error, RuntimeError):
        return True  # the qemu-threads settings are not registered (origins used alone)


def _backtrace(frame: "gdb.Frame", inferior: "gdb.Inferior") -> List[Frame]:
    """The creating thread's frames, innermost (the clone wrapper) first; plain data.
    A creator's stack seen at an earlier creation is recognised rather than unwound (stacks.py)."""
    stack_key = (inferior.num, frame.pc(), _state.max_frames) \
        if _arch_key(frame) == "x86-64" and _reuse_stacks() else None
    if stack_key is not None:
        known = _state.stacks.find(stack_key, frame, inferior)
        if known is not None:
            return list(known.frames)
    out: List[Frame] = []
    sps: List[int] = []
    types: List[int] = []
    interned = _state.frames
    inline = gdb.INLINE_FRAME
    whole = True
    while frame is not None and len(out) < _state.max_frames:
        pc = frame.pc()
        name = frame.name()
        kind = frame.type()
        inlined = kind == inline
        key = (name, None, pc, inlined)
        item = interned.get(key)
        if item is None:
            item = interned[key] = Frame(name, _library(pc), pc, inlined=inlined)
        out.append(item)
        try:
            if stack_key is not None:
                sps.append(int(frame.read_register(stacks.SP)))
                types.append(kind)
            frame = frame.older()
        except gdb.error:
            whole = False
            break
    if stack_key is not None and whole:
        _state.stacks.learn(stack_key, out, sps, types)
    return out


def _on_clone(via: str, found_by_code: bool = False) -> None:
    thread = gdb.selected_thread()
    inferior = gdb.selected_inferior()
    pid, lwp = thread.ptid[0], thread.ptid[1]
    if _state.deferred:
        _resolve_deferred()
    frame = gdb.newest_frame()
    if not found_by_code and canonical(frame.name()) not in CLONE and frame.name() is not None:
        return  # a function of that name in another library: not the libc wrapper
    if found_by_code and any(bp.is_valid() and bp.via == via and not bp.found_by_code
                             and not bp.pending for bp in _state.breakpoints):
        gdb.post_event(_drop_code_breakpoints)  # the symbol was found after all: it records
        return
    flags, tls, tid_address = _clone_arguments(frame, inferior, via)
    frames = _backtrace(frame, inferior)
    if found_by_code and frames:
        # libc has no symbol for it: gdb names the nearest exported function before it
        frames[0] = Frame(via, frames[0].library, frames[0].pc)
    _state.store.note_clone(inferior.num, pid, lwp, thread.num, frames, flags, tls, tid_address,
                            via)


def _note_error(where: str) -> None:
    _state.errors += 1
    _state.last_error = "%s: %s" % (where, traceback.format_exc().strip().splitlines()[-1])


class _CloneBreakpoint(gdb.Breakpoint):
    """Stops in clone/clone3 only long enough to read the creation; the program runs on."""

    def __init__(self, spec: str, via: str, found_by_code: bool = False) -> None:
        self.via = via
        self.found_by_code = found_by_code  # at an address found in libc's code, not a symbol
        super().__init__(spec, gdb.BP_BREAKPOINT, internal=True)
        self.silent = True

    def stop(self) -> bool:
        try:
            _on_clone(self.via, self.found_by_code)
        except Exception:  # never stop the program for a bug of ours; `status` reports it
            _note_error("at %s" % self.via)
        return False


# --- pairing the new thread ------------------------------------------------------------------

def _handle_value(thread: "gdb.InferiorThread") -> Optional[int]:
    try:
        handle = thread.handle()
    except (RuntimeError, gdb.error):
        return None  # gdb 13 learns it only after the new-thread event
    if not handle:
        return None
    return int.from_bytes(bytes(handle), "little")


class _ProcMemory:
    """The inferior's memory through /proc/PID/mem, open once per process.

    gdb has no thread selected while it reports a new thread, so gdb cannot read memory then;
    the file can (gdb traces the process), and costs one pread.
    """

    def __init__(self) -> None:
        self.files: Dict[int, int] = {}

    def _open(self, pid: int) -> Optional[int]:
        fd = self.files.get(pid)
        if fd is None:
            try:
                fd = os.open("/proc/%d/mem" % pid, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
            except OSError:
                return None
            self.files[pid] = fd
        return fd

    def read_tid(self, pid: int, address: int) -> Optional[int]:
        for _ in range(2):  # a file left from an earlier process of the same pid fails once
            fd = self._open(pid)
            if fd is None:
                return None
            try:
                data = os.pread(fd, 4, address)
            except OSError:
                data = b""
            if len(data) == 4:
                return _TID.unpack(data)[0]
            self.close(pid)
        return None

    def close(self, pid: Optional[int] = None) -> None:
        for key in [k for k in self.files if pid is None or k == pid]:
            try:
                os.close(self.files.pop(key))
            except OSError:
                pass


_proc_memory = _ProcMemory()
def _on_new_thread(event: "gdb.NewThreadEvent") -> None:
    try:
        thread = event.inferior_thread
        inferior = thread.inferior
        pid, lwp = thread.ptid[0], thread.ptid[1]
        store = _state.store
        if _state.deferred:
            _resolve_deferred()
        if not store.has_pending(inferior.num, pid):
            return

        if process.is_local_live(inferior):
            def read_tid(address: int) -> Optional[int]:
                return _proc_memory.read_tid(pid, address)

            if store.pair_by_tid(inferior.num, pid, lwp, thread.num, read_tid) is not None:
                return
        handle = _handle_value(thread)
        if handle is not None and store.pair_by_handle(inferior.num, pid, lwp, thread.num,
                                                       handle) is not None:
            return
        if store.waits_for_handle(inferior.num, pid):
            _state.deferred.append(thread)
    except Exception:
        _note_error("new thread")


def _resolve_deferred() -> None:
    """Pair threads whose handle gdb did not know when it reported them."""
    waiting, _state.deferred = _state.deferred, []
    for thread in waiting:
        if not thread.is_valid() or thread.is_exited():
            _state.store.unpaired += 1
            continue
        handle = _handle_value(thread)
        if handle is None:
            _state.deferred.append(thread)
            continue
        inferior = thread.inferior
        _state.store.pair_by_handle(inferior.num, thread.ptid[0], thread.ptid[1], thread.num,
                                    handle)


# --- the life of processes -------------------------------------------------------------------

def _on_exited(event: "gdb.ExitedEvent") -> None:
    try:
        inferior = getattr(event, "inferior", None) or gdb.selected_inferior()
        _state.deferred = [t for t in _state.deferred if t.is_valid()]
        _state.store.process_ended(inferior.num)
        _proc_memory.close()
        _drop_code_breakpoints()  # the next run may load libc elsewhere
    except Exception:
        _note_error("exit")


def _on_inferior_deleted(event: "gdb.InferiorDeletedEvent") -> None:
    try:
        _state.store.forget_pending(event.inferior.num)
    except Exception:
        _note_error("inferior deleted")


def _on_clear_objfiles(event: "gdb.ClearObjFilesEvent") -> None:
    # An exec (or a new run): creations the old image started will never be answered.
    try:
        _state.forget_code()
        _drop_code_breakpoints()
        for inferior in gdb.inferiors():
            if inferior.progspace == event.progspace:
                _state.store.forget_pending(inferior.num)
    except Exception:
        _note_error("clear objfiles")


def _on_objfile_change(event: object) -> None:
    _state.forget_code()
    try:
        objfile = getattr(event, "new_objfile", None)
        if objfile is not None and _is_libc(objfile.filename):
            _clone3_by_code()
    except Exception:
        _note_error("new objfile")


# --- clone3 without libc's debug symbols --------------------------------------------------------

# glibc's __clone3 (sysdeps/unix/sysv/linux/x86_64/clone3.S) ends in `movl $435, %eax;
# syscall` (435: SYS_clone3) with its arguments still in rdi and rsi. libc exports no symbol
# for it, so without libc's debug symbols `break clone3` finds nothing; the instruction bytes
# do. A breakpoint on the mov reads the same registers as one at the entry.
_CLONE3_SYSCALL = bytes([0xB8, 0xB3, 0x01, 0x00, 0x00, 0x0F, 0x05])
_SHLIB_LINE = re.compile(r"^(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+\S+\s+(?:\(\*\)\s+)?(\S*libc\.so[^\s]*)\s*$")


def _drop_code_breakpoints() -> None:
    for bp in [bp for bp in _state.breakpoints if bp.found_by_code]:
        if bp.is_valid():
            bp.delete()
        _state.breakpoints.remove(bp)


def _is_libc(path: Optional[str]) -> bool:
    return bool(path) and os.path.basename(path).startswith("libc.so")


def _clone3_by_code() -> None:
    """If `break clone3` is pending while libc is loaded (no debug symbols), break where
    libc's code makes the clone3 system call instead."""
    if not _state.recording or any(bp.found_by_code for bp in _state.breakpoints):
        return
    clone3 = [bp for bp in _state.breakpoints if bp.is_valid() and bp.via == "clone3"]
    if not clone3 or not all(bp.pending for bp in clone3):
        return
    # When libc arrives gdb has not yet re-set the breakpoints, so `break clone3` may still be
    # pending although libc's debug symbols name it: the first hit tells (see _on_clone).
    inferior = gdb.selected_inferior()
    if inferior.pid <= 0 or "x86-64" not in inferior.architecture().name():
        return
    for line in gdb.execute("info sharedlibrary", to_string=True).splitlines():
        m = _SHLIB_LINE.match(line.strip())
        if not m:
            continue
        low, high = int(m.group(1), 16), int(m.group(2), 16)
        code = inferior.read_memory(low, high - low).tobytes()
        at = code.find(_CLONE3_SYSCALL)
        if at < 0 or code.find(_CLONE3_SYSCALL, at + 1) >= 0:
            return  # not there, or not only there: no guessing
        address = low + at
        _state.breakpoints.append(_CloneBreakpoint("*0x%x" % address, "clone3", found_by_code=True))
        return


def _on_thread_exited(event: object) -> None:
    try:
        thread = event.inferior_thread  # type: ignore[attr-defined]
        _state.store.thread_gone(thread.inferior.num, thread.ptid[0], thread.ptid[1])
    except Exception:
        _note_error("thread exited")


def _handlers() -> List[Tuple[str, object]]:
    handlers = [("new_thread", _on_new_thread), ("exited", _on_exited),
                ("inferior_deleted", _on_inferior_deleted),
                ("clear_objfiles", _on_clear_objfiles), ("new_objfile", _on_objfile_change)]
    if hasattr(gdb.events, "free_objfile"):
        handlers.append(("free_objfile", _on_objfile_change))
    if hasattr(gdb.events, "thread_exited"):  # gdb 14 and later
        handlers.append(("thread_exited", _on_thread_exited))
    return handlers


# --- what other commands use -----------------------------------------------------------------

def lookup(pid: int, lwp: Optional[int]) -> Optional[OriginRecord]:
    """The recorded creation of thread `lwp` of process `pid`, or None."""
    if lwp is None or not pid:
        return None
    if _state.deferred:
        _resolve_deferred()
    return _state.store.lookup(pid, lwp)


def origin_of(pid: int, lwp: int) -> Optional[Tuple[List[Frame], Optional[int]]]:
    """The recorded creation of a thread as the reader wants it: (frames, creator's LWP)."""
    record = lookup(pid, lwp)
    return (list(record.frames), record.parent_lwp) if record is not None else None


# --- commands --------------------------------------------------------------------------------

def start(max_frames: Optional[int] = None) -> str:
    if max_frames:
        _state.max_frames = max_frames
    if _state.recording:
        return "Already recording thread creation."
    # Made inside a captured command: before libc is loaded gdb would otherwise print
    # 'Function "clone3" not defined.' for each, although they are only pending.
    gdb.execute("python __import__('%s', fromlist=['_']).%s()" % (__name__, _make_breakpoints.__name__),
                to_string=True)
    return "Recording thread creation (breakpoints on %s%s)." % (
        " and ".join(spec for spec, _ in _LOCATIONS), _pending_note())


def _make_breakpoints() -> None:
    _state.breakpoints = [_CloneBreakpoint(spec, via) for spec, via in _LOCATIONS]
    _clone3_by_code()  # attached, or libc already loaded


def _pending_note() -> str:
    by_code = [bp for bp in _state.breakpoints if bp.is_valid() and bp.found_by_code]
    pending = [bp.location for bp in _state.breakpoints if bp.is_valid() and bp.pending
               and not (by_code and bp.via == "clone3")]
    if by_code and not pending:
        return "; clone3 found in libc's code at %s (libc has no debug symbols)" % by_code[0].location
    if not pending:
        return ""
    if gdb.selected_inferior().pid > 0:
        return "; %s not found: threads created through %s are not recorded (libc without " \
               "debug symbols? install them, e.g. libc6-dbg, or enable debuginfod)" % (
                   " and ".join(pending), " or ".join(pending))
    return "; pending until libc is loaded"


def stop() -> str:
    count = 0
    for bp in _state.breakpoints:
        if bp.is_valid():
            bp.delete()
            count += 1
    _state.breakpoints = []
    return "Stopped recording thread creation (%d breakpoint%s removed)." % (
        count, "" if count == 1 else "s")


def _status() -> str:
    if _state.deferred:
        _resolve_deferred()
    inferior = gdb.selected_inferior()
    if inferior.pid > 0:
        _state.store.refresh(inferior.num, inferior.pid, _live_threads(inferior))
    text = status_line(_state.recording, _state.store.counts())
    if _state.recording:
        note = _pending_note()
        if note:
            text += "\nNote: " + note[2:] + "."
    if _state.errors:
        text += "\n%d error%s while recording; last: %s" % (
            _state.errors, "" if _state.errors == 1 else "s", _state.last_error)
    return text


def _live_threads(inferior: "gdb.Inferior") -> Dict[int, Tuple[int, Optional[str]]]:
    live = {}
    if inferior.pid <= 0:
        return live
    for thread in inferior.threads():
        if thread.is_valid() and not thread.is_exited():
            try:
                name = thread.name
            except (RuntimeError, gdb.error):
                name = None
            live[thread.ptid[1]] = (thread.num, name)
    return live


def _roles(pid: int) -> Dict[int, str]:
    """The qemu-threads role of every live thread of the selected inferior, by LWP."""
    from ..commands import session  # the one pipeline, with the user's settings
    try:
        analysis = session.analyze_selected()
    except Exception:
        return {}
    if analysis.pid != pid:
        return {}
    return {r.snapshot.lwp: r.verdict.role for r in analysis.reports if r.snapshot.lwp is not None}


def show(words: List[str], as_json: bool, backtraces: bool, every_process: bool) -> str:
    if _state.deferred:
        _resolve_deferred()
    store_ = _state.store
    inferior = gdb.selected_inferior()
    live = _live_threads(inferior)
    if inferior.pid > 0:
        store_.refresh(inferior.num, inferior.pid, live)
    if every_process:
        records = store_.all_records()
    else:
        pid = inferior.pid if inferior.pid > 0 else store_.latest_pid(inferior.num)
        records = store_.records_of(inferior.num, pid) if pid else []
    try:
        chosen = select(records, words)
    except SelectionError as err:
        raise gdb.GdbError("%s: %s" % (COMMAND, err))
    roles: Dict[int, str] = {}
    if inferior.pid > 0 and any(r.alive and r.pid == inferior.pid for r in chosen):
        roles = _roles(inferior.pid)
    rows = []
    for record in chosen:
        current = record.pid == inferior.pid and record.inferior == inferior.num
        role = roles.get(record.lwp) if current and record.alive else None
        parent = live.get(record.parent_lwp) if current else None
        rows.append((record, role, parent[0] if parent else None))
    if as_json:
        return json_document(rows)
    if not rows:
        return "No thread creation recorded%s. Record with `%s start` before threads are " \
               "created (before `run`, or while attached)." % (
                   " for this process" if store_.counts()["threads"] else "", COMMAND)
    body = format_backtraces(rows) if backtraces else format_table(rows)
    return body + "\n" + status_line(_state.recording, store_.counts())


def clear() -> str:
    counts = _state.store.counts()
    _state.store.clear()
    _state.deferred = []
    return "Forgot %d thread record%s." % (counts["threads"], "" if counts["threads"] == 1 else "s")


def connect_events() -> None:
    """Connect the event handlers, once: a reload of this module (importlib.reload) must
    not leave the old handlers connected."""
    for event_name, handler in getattr(gdb, _HANDLERS_ATTR, []):
        try:
            getattr(gdb.events, event_name).disconnect(handler)
        except Exception:
            pass
    handlers = _handlers()
    for event_name, handler in handlers:
        getattr(gdb.events, event_name).connect(handler)
    setattr(gdb, _HANDLERS_ATTR, handlers)
