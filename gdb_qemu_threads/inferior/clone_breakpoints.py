"""The breakpoints on clone3 and clone, and what they read of a creation.

A Python breakpoint on each wrapper (internal: not in `info breakpoints`, no breakpoint
numbers taken from the user) reads the creating thread's backtrace and the clone arguments
in `stop()` and returns False, so the program never stops for the user. gdb's new-thread
event then pairs the creation with the new LWP (clone_pairing.py, creation/store.py).
"""
from __future__ import annotations

import struct

import gdb

from ..model import Frame
from ..vocab import CLONE, canonical
from . import clone_libc_code, process, stacks
from .clone_pairing import resolve_deferred
from .clone_state import state

# The wrappers broken on: each a function name gdb may resolve, and what a record says it came by.
WRAPPERS = ("clone3", "clone")
# The clone wrappers' arguments, by architecture: clone3(args, size) and
# clone(fn, stack, flags, arg, parent_tid, tls, child_tid).
_CLONE3_REGS = {"x86-64": ("rdi", "rsi"), "aarch64": ("x0", "x1")}
_CLONE_REGS = {"x86-64": ("rdx", "r8", "r9"), "aarch64": ("x2", "x4", "x5")}
# struct clone_args (linux/sched.h): u64 flags, pidfd, child_tid, parent_tid, exit_signal,
# stack, stack_size, tls, ...; 64 bytes up to tls (CLONE_ARGS_SIZE_VER0).
_CLONE_ARGS = struct.Struct("<8Q")


def _arch_key(frame: gdb.Frame) -> str | None:
    name = frame.architecture().name()
    if name not in state.arch_keys:
        state.arch_keys[name] = process.arch_key(name)
    return state.arch_keys[name]


def _register(frame: gdb.Frame, name: str) -> int:
    return int(frame.read_register(name)) & 0xFFFFFFFFFFFFFFFF


def _clone_arguments(frame: gdb.Frame, inferior: gdb.Inferior, via: str
                     ) -> tuple[int | None, int | None, int | None]:
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


def _library(pc: int) -> str | None:
    libraries = state.libraries
    if pc not in libraries:
        libraries[pc] = gdb.solib_name(pc)
    return libraries[pc]


def _reuse_stacks() -> bool:
    try:
        return bool(gdb.parameter("qemu-threads reuse-stacks"))
    except (gdb.error, RuntimeError):
        return True  # the qemu-threads settings are not registered (origins used alone)


def _backtrace(frame: gdb.Frame, inferior: gdb.Inferior) -> list[Frame]:
    """The creating thread's frames, innermost (the clone wrapper) first; plain data.
    A creator's stack seen at an earlier creation is recognised rather than unwound (stacks.py)."""
    stack_key = (inferior.num, frame.pc(), state.max_frames) \
        if _arch_key(frame) == "x86-64" and _reuse_stacks() else None
    if stack_key is not None:
        known = state.stacks.find(stack_key, frame, inferior)
        if known is not None:
            return list(known.frames)
    out: list[Frame] = []
    sps: list[int] = []
    types: list[int] = []
    interned = state.frames
    inline = gdb.INLINE_FRAME
    whole = True
    cursor: gdb.Frame | None = frame
    while cursor is not None and len(out) < state.max_frames:
        pc = cursor.pc()
        name = cursor.name()
        kind = cursor.type()
        inlined = kind == inline
        key = (name, None, pc, inlined)
        item = interned.get(key)
        if item is None:
            item = interned[key] = Frame(name, _library(pc), pc, inlined=inlined)
        out.append(item)
        try:
            if stack_key is not None:
                sps.append(int(cursor.read_register(stacks.SP)))
                types.append(kind)
            cursor = cursor.older()
        except gdb.error:
            whole = False
            break
    if stack_key is not None and whole:
        state.stacks.learn(stack_key, out, sps, types)
    return out


def _refetch_registers(thread: gdb.InferiorThread, inferior: gdb.Inferior) -> None:
    """Make a remote target send this thread's registers again, through another thread.

    When two threads reach a clone breakpoint together, gdb 18 over gdbserver has been
    seen to hand the first thread the second one's registers (the stub's current thread
    is not the one gdb believes); reading another thread's registers and coming back makes
    gdb name the thread to the stub again."""
    other = next((t for t in inferior.threads() if t.is_valid() and t.ptid != thread.ptid
                  and not t.is_exited()), None)
    if other is None:
        return
    other.switch()
    gdb.newest_frame().pc()
    thread.switch()
    gdb.execute("maintenance flush register-cache", to_string=True)


def _on_clone(via: str, found_by_code: bool) -> None:
    thread = gdb.selected_thread()
    if thread is None:
        return  # a breakpoint hit always has a thread; nothing to record without one
    inferior = gdb.selected_inferior()
    pid, lwp = thread.ptid[0], thread.ptid[1]
    if state.deferred:
        resolve_deferred()
    if process.target_kind(inferior) in ("remote", "extended-remote"):
        _refetch_registers(thread, inferior)
    frame = gdb.newest_frame()
    if not found_by_code and canonical(frame.name()) not in CLONE and frame.name() is not None:
        return  # a function of that name in another library: not the libc wrapper
    flags, tls, tid_address = _clone_arguments(frame, inferior, via)
    frames = _backtrace(frame, inferior)
    if found_by_code and frames:
        # libc has no symbol for it: gdb names the nearest exported function before it
        frames[0] = Frame(via, frames[0].library, frames[0].pc)
    state.store.note_clone(inferior.num, pid, lwp, thread.num, frames, flags, tls, tid_address, via)


class CloneBreakpoint(gdb.Breakpoint):
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
            state.note_error("at %s" % self.via)
        return False


def _resolves(spec: str) -> bool:
    """Whether gdb finds `spec` now; asked quietly (decode_line prints nothing)."""
    try:
        sals = gdb.decode_line(spec)[1]
    except gdb.error:
        return False
    return bool(sals)


def place(new_library: str | None = None) -> None:
    """Break on each clone wrapper that gdb can find now: at `start`, and whenever a library
    arrives (`new_library`, its file name).

    A location gdb cannot resolve yet gets no breakpoint rather than a pending one: gdb would
    print 'Function "clone3" not defined.' for it, and a later library retries. When libc
    has arrived and names no clone3 (no debug symbols), the clone3 system call is found in
    its code instead (clone_libc_code.py); libc's debug symbols arrive before libc itself,
    so a symbol, when there is one, is always preferred.
    """
    if not state.recording:
        return
    placed = {bp.via: bp for bp in state.live_breakpoints()}
    for via in WRAPPERS:
        bp = placed.get(via)
        if (bp is None or bp.found_by_code) and _resolves(via):
            if bp is not None:
                state.delete_breakpoints(found_by_code_only=True)
            placed[via] = CloneBreakpoint(via, via)
            state.breakpoints.append(placed[via])
    look_in_code = new_library is None or clone_libc_code.is_libc(new_library)
    if "clone3" not in placed and look_in_code:
        address = clone_libc_code.find_clone3(gdb.selected_inferior())
        if address is not None:
            state.breakpoints.append(CloneBreakpoint("*0x%x" % address, "clone3", found_by_code=True))


def missing() -> list[str]:
    """The wrappers that have no breakpoint yet."""
    placed = {bp.via for bp in state.live_breakpoints()}
    return [via for via in WRAPPERS if via not in placed]


def found_in_code() -> str | None:
    """Where clone3 was found in libc's code, if that is how it is broken on."""
    return next((bp.location for bp in state.live_breakpoints() if bp.found_by_code), None)
