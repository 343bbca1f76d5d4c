"""The running, attached or core-file inferior -> snapshots. The only reader of gdb frames.

gdb throws away its frame cache on every thread switch and re-finds a gdb.Frame on every
method call, so each thread is walked once, into plain data, and no gdb.Frame escapes.
Nothing here calls a function in the inferior: it reads registers and memory only, so it
works the same on core files and never changes the program.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Callable, List, Optional, Tuple

import gdb

from ..analyze.states import is_context_frame
from ..analyze.waits import owner_addresses
from ..model import Frame, ThreadSnapshot
from ..vocab import CPU_INDEX_ARGUMENTS, IOTHREAD_ENTRY, THREAD_START, WAIT_ARGUMENTS, canonical
from . import qom, stacks
from .cputime import cpu_times
from .lock_probes import LockProbes
from .ownerless import explain_ownerless
from .process import KeepSelection, accel_from_flags, arg_registers, is_local_live, target_kind, thread_name
from .signals import may_have_crashed as _may_have_crashed
from .signals import signal_facts

KVM_RUN = 0xAE80
_KVM_VCPU_FD = re.compile(r"^anon_inode:kvm-vcpu:(\d+)$")


class NoProcess(Exception):
    """There is nothing to read: no live process and no core file."""


class ThreadReader:
    """Walks each thread once into a snapshot; keeps what threads share (libraries, stacks)."""

    def __init__(self, inferior: gdb.Inferior, max_frames: int, want_lines: bool,
                 os_names: dict[tuple[int, int], str | None],
                 named_decides: Callable[[str | None], bool] | None,
                 reuse_stacks: bool = True) -> None:
        self.inferior = inferior
        self.max_frames = max_frames
        self.named_decides = named_decides
        self.want_lines = want_lines
        self.os_names = os_names
        self.local = is_local_live(inferior)
        self.libraries: dict[int, str | None] = {}
        self.cpu_type: gdb.Type | None = None
        self.cpu_type_looked_up = False
        self.arg_registers = arg_registers()
        self.locks = LockProbes(inferior, self.arg_registers, max_frames)
        self.probed = False
        self.stacks = stacks.StackCache() if reuse_stacks and self.arg_registers and \
            self.arg_registers[0] == "rdi" else None
        selected = gdb.selected_thread()
        # gdb selects the thread whose event stopped the program (a core: the one that dumped)
        self.selected = selected.num if selected is not None else None

    def library(self, pc: int) -> str | None:
        # solib_name walks the list of shared objects; pcs repeat a lot across threads.
        if pc not in self.libraries:
            self.libraries[pc] = gdb.solib_name(pc)
        return self.libraries[pc]

    def thread_name(self, thread: gdb.InferiorThread, lwp: int) -> str | None:
        # A name `qemu-threads --annotate` gave the thread hides the OS name in thread.name.
        key = (self.inferior.num, lwp)
        if key in self.os_names:
            return self.os_names[key]
        return thread_name(thread)

    def snapshot(self, thread: gdb.InferiorThread) -> ThreadSnapshot:
        pid, lwp, tid = thread.ptid
        lwp = lwp or tid or pid
        snap = ThreadSnapshot(num=thread.num, lwp=lwp, name=self.thread_name(thread, lwp))
        if thread.is_running():
            snap.unreadable = "running (non-stop mode): frames cannot be read"
            snap.complete = False
            return snap
        thread.switch()
        shallow = bool(self.named_decides and self.named_decides(snap.name))
        self.walk(snap, shallow)
        if thread.num == self.selected or _may_have_crashed(snap):
            signal_facts(snap)
        return snap

    def walk(self, snap: ThreadSnapshot, shallow: bool) -> None:
        """Unwind to the thread-start plumbing, or, when `shallow`, only to the first frame
        of the program's own code (enough for the state; the name already gave the role).
        A stack another thread already showed is recognised instead (stacks.py)."""
        try:
            newest = gdb.newest_frame()
            if self.stacks is not None and self.reuse(newest, snap, shallow):
                self.locks.lock_facts(snap)
                return
        except gdb.error:
            newest = None
        frames: list[Frame] = []
        sps: list[int] = []
        types: list[int] = []
        waiting = True  # still in the C library's or QEMU's wait plumbing
        self.probed = False
        frame = None
        try:
            frame = newest if newest is not None else gdb.newest_frame()
            last = frame
            while frame is not None and len(frames) < self.max_frames:
                frames.append(self.frame(frame, snap, len(frames)))
                if self.stacks is not None:
                    sps.append(int(frame.read_register(stacks.SP)))
                    types.append(frame.type())
                if waiting:
                    waiting = self.locks.wait_facts(frame, frames[-1], snap, len(frames) - 1)
                    self.probed |= self.locks.probed
                if canonical(frames[-1].function) in THREAD_START:
                    frame = None  # outer frames are the thread-start plumbing: nothing to learn
                    break
                if shallow and is_context_frame(frames[-1]):
                    break
                last, frame = frame, frame.older()
            snap.complete = frame is None
            if frame is None:
                self.note_stop(snap, last)
            if self.stacks is not None and not self.probed:
                self.stacks.learn((frames[0].pc, shallow) if frames else None, frames, sps, types,
                                  (snap.complete, snap.unreadable))
        except gdb.error as err:  # gdb.MemoryError is a gdb.error
            snap.unreadable = "Backtrace stopped: %s" % err
            snap.complete = False
        snap.frames = frames
        self.locks.lock_facts(snap)

    def reuse(self, newest: gdb.Frame, snap: ThreadSnapshot, shallow: bool) -> bool:
        """The frames of a stack another thread showed, if this thread has it too."""
        if self.stacks is None:
            return False
        stack = self.stacks.find((newest.pc(), shallow), newest, self.inferior)
        if stack is None:
            return False
        snap.frames = list(stack.frames)
        self.level0_facts(newest, snap)
        if snap.facts.futex is None and any(canonical(f.function) in WAIT_ARGUMENTS
                                            for f in stack.frames):
            snap.frames = []  # its lock arguments would come from debug info, frame by frame
            return False
        snap.complete, snap.unreadable = stack.extra
        return True

    def level0_facts(self, newest: gdb.Frame, snap: ThreadSnapshot) -> None:
        """What a replayed stack still needs from the thread itself: frame 0's registers."""
        top = snap.frames[0]
        if top.function and canonical(top.function) == "ioctl":
            self.kvm_vcpu_from_fd(newest, snap)
        self.locks.wait_facts(newest, top, snap, 0)

    @staticmethod
    def note_stop(snap: ThreadSnapshot, last: gdb.Frame) -> None:
        """Say why unwinding stopped, where it was not at the outermost frame."""
        try:
            reason = last.unwind_stop_reason()
        except gdb.error:
            return
        if reason not in (gdb.FRAME_UNWIND_NO_REASON, gdb.FRAME_UNWIND_OUTERMOST):
            snap.unreadable = "Backtrace stopped: %s" % gdb.frame_stop_reason_string(reason)

    def frame(self, frame: gdb.Frame, snap: ThreadSnapshot, level: int) -> Frame:
        # Each gdb.Frame method re-finds the frame from the newest one, so ask only what
        # is needed: the name always; pc and library where the name is missing (they decide
        # ?? frames) or where a backtrace is shown.
        name = frame.name()
        pc = library = file = line = None
        inlined = False
        if name is None or self.want_lines or self.stacks is not None:
            pc = frame.pc()
            library = self.library(pc)
        if self.want_lines:
            inlined = frame.type() == gdb.INLINE_FRAME
            sal = frame.find_sal()
            if sal.symtab is not None:
                file, line = sal.symtab.filename, sal.line or None
        if name and level == 0 and canonical(name) == "ioctl":
            self.kvm_vcpu_from_fd(frame, snap)
        if name in CPU_INDEX_ARGUMENTS and snap.facts.vcpu is None:
            self.cpu_index_from_debug_info(frame, name, snap)
        if name == IOTHREAD_ENTRY and snap.facts.iothread is None:
            self.iothread_id_from_qom(frame, snap)
        return Frame(function=name, library=library, pc=pc, file=file, line=line, inlined=inlined)

    def kvm_vcpu_from_fd(self, frame: gdb.Frame, snap: ThreadSnapshot) -> None:
        """A thread inside ioctl(fd, KVM_RUN): /proc names the fd `kvm-vcpu:N`."""
        if not self.local or self.arg_registers is None:
            return
        try:
            fd = int(frame.read_register(self.arg_registers[0]))
            request = int(frame.read_register(self.arg_registers[1])) & 0xFFFFFFFF
            if request != KVM_RUN:
                return
            target = os.readlink("/proc/%d/fd/%d" % (self.inferior.pid, fd))
        except (gdb.error, ValueError, OSError):
            return
        m = _KVM_VCPU_FD.match(target)
        if m:
            snap.facts.vcpu = int(m.group(1))
            snap.facts.accel = "kvm"
            snap.facts.vcpu_source = "its KVM vCPU file descriptor"

    def cpu_index_from_debug_info(self, frame: gdb.Frame, function: str, snap: ThreadSnapshot) -> None:
        """With debug info, the CPUState argument of a vCPU function gives cpu_index."""
        try:
            value = frame.read_var(CPU_INDEX_ARGUMENTS[function])
            if value.type.strip_typedefs().code == gdb.TYPE_CODE_PTR and \
                    value.type.target().strip_typedefs().code == gdb.TYPE_CODE_VOID:
                cpu_type = self.cpu_state_type()
                if cpu_type is None:
                    return
                value = value.cast(cpu_type)
            if int(value) == 0:
                return
            snap.facts.vcpu = int(value.dereference()["cpu_index"])
            snap.facts.vcpu_source = "debug info (%s)" % function
            self.probed = True
        except (gdb.error, ValueError, RuntimeError):
            return  # no debug info for this frame, or no such argument

    def iothread_id_from_qom(self, frame: gdb.Frame, snap: ThreadSnapshot) -> None:
        """With debug info, iothread_run's IOThread: its id is its name in its QOM parent."""
        try:
            obj_type = gdb.lookup_type("Object").pointer()
            prop_type = gdb.lookup_type("ObjectProperty").pointer()
            char_p = gdb.lookup_type("char").pointer()
            obj = frame.read_var("opaque").cast(obj_type)
            if int(obj) == 0 or int(obj["parent"]) == 0:
                return
            table = int(obj["parent"].dereference()["properties"])
        except (gdb.error, ValueError, RuntimeError):
            return  # no debug info, or not QEMU's QOM
        def read(address: int, length: int) -> bytes:
            return self.inferior.read_memory(address, length).tobytes()
        for key, value in qom.hash_table_entries(read, table) or ():
            try:
                prop = gdb.Value(value).cast(prop_type).dereference()
                if int(prop["opaque"]) == int(obj) and prop["type"].string().startswith("child<"):
                    snap.facts.iothread = gdb.Value(key).cast(char_p).string()
                    snap.facts.iothread_source = "debug info (its QOM parent's child property)"
                    self.probed = True
                    return
            except (gdb.error, ValueError, RuntimeError, UnicodeDecodeError):
                continue

    def cpu_state_type(self) -> gdb.Type | None:
        if not self.cpu_type_looked_up:
            self.cpu_type_looked_up = True
            try:
                self.cpu_type = gdb.lookup_type("CPUState").pointer()
            except gdb.error:
                self.cpu_type = None
        return self.cpu_type


@dataclass
class Reading:
    """What one read of the selected inferior gave."""

    snapshots: list[ThreadSnapshot]
    pid: int                                   # 0 where there is no process id
    held: dict[int, dict[int, str]]            # owner LWP -> {lock address: frame holding it}
    source: str                                # "live" or "core"


Origin = Tuple[List[Frame], Optional[int]]     # a recorded creation: frames, creator's LWP


def read_process(max_frames: int = 64, want_lines: bool = False,
                 os_names: dict[tuple[int, int], str | None] | None = None,
                 named_decides: Callable[[str | None], bool] | None = None,
                 reuse_stacks: bool = True,
                 origin_of: Callable[[int, int], Origin | None] | None = None,
                 cpu: bool = False) -> Reading:
    """Every thread of the selected inferior, by gdb number, with what else was read.

    named_decides(name) says that a thread's name alone decides its role: such threads are
    unwound only as deep as their state needs. origin_of(pid, lwp) gives the creation
    qemu-thread-origins recorded, if any. `cpu`: each thread's CPU time from /proc too (what
    the verdict and --sample use; two files a thread)."""
    inferior = gdb.selected_inferior()
    threads = [t for t in inferior.threads() if t.is_valid() and not t.is_exited()]
    if not threads:
        raise NoProcess("no process: run QEMU, attach to it (gdb -p PID) or load a core file first")
    threads.sort(key=lambda t: t.num)
    reader = ThreadReader(inferior, max_frames, want_lines, os_names or {}, named_decides,
                          reuse_stacks)
    current = gdb.selected_thread()
    snapshots = []
    held: dict[int, dict[int, str]] = {}
    with KeepSelection():
        for thread in threads:
            snap = reader.snapshot(thread)
            snap.current = current is not None and thread.num == current.num
            origin = origin_of(inferior.pid, snap.lwp) if origin_of and snap.lwp else None
            if origin is not None:
                snap.origin, snap.parent_lwp = origin
            snapshots.append(snap)
        # With debug info: which frame of each lock's owner still refers to the lock.
        by_lwp = {snap.lwp: thread for thread, snap in zip(threads, snapshots)}
        for owner, addresses in owner_addresses(snapshots).items():
            if owner in by_lwp and not by_lwp[owner].is_running():
                found = reader.locks.holding_frames(by_lwp[owner], addresses)
                if found:
                    held[owner] = found
        explain_ownerless(threads, snapshots)  # pause_all_vcpus, synchronize_rcu: whom they wait for
    accel_from_flags(inferior, snapshots)
    if cpu:
        cpu_times(inferior, snapshots)
    return Reading(snapshots, inferior.pid, held,
                   "core" if target_kind(inferior) == "core" else "live")
