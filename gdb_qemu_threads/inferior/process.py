"""Facts about the selected inferior that several readers need, each found one way."""
from __future__ import annotations

import os

import gdb

from ..model import ThreadSnapshot
from ..vocab import THREAD_START, VCPU_NEUTRAL_WAITS, canonical

# Registers holding a function's first two arguments at its entry, by architecture.
_ARG_REGISTERS = {"x86-64": ("rdi", "rsi"), "aarch64": ("x0", "x1")}


def arch_key(name: str) -> str | None:
    """"x86-64" or "aarch64" for an architecture name gdb gives ("i386:x86-64"), else None."""
    return next((key for key in _ARG_REGISTERS if key in name), None)


def arg_registers() -> tuple[str, str] | None:
    key = arch_key(gdb.selected_inferior().architecture().name())
    return _ARG_REGISTERS[key] if key else None


# QEMU's flags for the accelerator in use (accel/kvm, accel/tcg), exported even by stripped builds.
_ACCEL_FLAGS = (("kvm", "kvm_allowed"), ("tcg", "tcg_allowed"))


# Per process (inferior, pid, executable): the flags are set once, before any vCPU runs, and
# a symbol gdb does not find costs milliseconds to look up again.
_flags_seen: dict[tuple[int, int, str | None], tuple[str, str] | None] = {}


def accelerator_flags(inferior: gdb.Inferior) -> tuple[str, str] | None:
    """(accelerator, flag) when exactly one of QEMU's kvm_allowed and tcg_allowed is set;
    None where either is missing or unreadable. Memory only: a core file has it too."""
    key = (inferior.num, inferior.pid, inferior.progspace.filename)
    if key not in _flags_seen:
        _flags_seen[key] = _read_flags(inferior)
    return _flags_seen[key]


def _read_flags(inferior: gdb.Inferior) -> tuple[str, str] | None:
    on = []
    for accel, symbol in _ACCEL_FLAGS:
        try:
            address = int(gdb.parse_and_eval("(unsigned long)&%s" % symbol))
            if inferior.read_memory(address, 1).tobytes() != b"\0":
                on.append((accel, symbol))
        except (gdb.error, gdb.MemoryError, RuntimeError, ValueError):
            return None
    return on[0] if len(on) == 1 else None


def _neutral(snap: ThreadSnapshot) -> bool:
    """A vCPU whose frames do not say its accelerator: asleep in the neutral wait under an
    unnamed thread function (a named one, mttcg_cpu_thread_fn say, decides it)."""
    if snap.facts.accel is not None:
        return False
    waits = [i for i, f in enumerate(snap.frames) if canonical(f.function or "") in VCPU_NEUTRAL_WAITS]
    return bool(waits) and not any(f.function and canonical(f.function) not in THREAD_START
                                   for f in snap.frames[waits[-1] + 1:])


def accel_from_flags(inferior: gdb.Inferior, snapshots: list[ThreadSnapshot]) -> None:
    """A vCPU seen only in the accelerator-neutral wait (qemu_wait_io_event under a static
    thread function) takes the accelerator from QEMU's flags: QEMU 10.0 builds TCG in, so
    no accel-tcg module says it."""
    neutral = [s for s in snapshots if _neutral(s)]
    found = accelerator_flags(inferior) if neutral else None
    if found is None:
        return
    for snap in neutral:
        snap.facts.accel, snap.facts.accel_source = found[0], "QEMU's %s" % found[1]


def target_kind(inferior: gdb.Inferior) -> str | None:
    """gdb's connection type: "native", "core", "remote", "extended-remote", or None."""
    connection = inferior.connection
    return connection.type if connection is not None else None


def is_local_live(inferior: gdb.Inferior) -> bool:
    """A live process of this machine (gdb's native target), whose /proc entries are its own."""
    return target_kind(inferior) == "native" and inferior.pid > 0 \
        and os.path.isdir("/proc/%d" % inferior.pid)


class KeepSelection:
    """Restore the selected thread and frame, as the user had them."""

    def __enter__(self) -> KeepSelection:
        self.thread = gdb.selected_thread()
        self.level: int | None = None
        if self.thread is not None and self.thread.is_valid() and not self.thread.is_running():
            try:
                self.level = gdb.selected_frame().level()
            except gdb.error:
                self.level = None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.thread is None or not self.thread.is_valid():
            return
        self.thread.switch()
        if self.level:
            frame = gdb.newest_frame()
            for _ in range(self.level):
                older = frame.older()
                if older is None:
                    break
                frame = older
            frame.select()


def thread_name(thread: gdb.InferiorThread) -> str | None:
    """The thread's name as gdb shows it. gdb's Python decodes names as UTF-8 and raises on
    other bytes (a Latin-1 program name, a name a program set), where `info threads` shows
    replacement characters: read the raw name then, and replace what is not UTF-8."""
    try:
        return thread.name
    except UnicodeDecodeError:
        pass
    pid, lwp, tid = thread.ptid
    if is_local_live(thread.inferior):
        try:
            with open("/proc/%d/task/%d/comm" % (pid, lwp or tid or pid), "rb") as handle:
                return handle.read().rstrip(b"\n").decode("utf-8", "replace")
        except OSError:
            pass
    try:
        text = gdb.execute("info threads %d" % thread.num, to_string=True)
    except (gdb.error, UnicodeDecodeError):
        return None
    quoted = text.split('"')
    return quoted[1] if len(quoted) >= 3 else None


def os_thread_name(thread: gdb.InferiorThread) -> str | None:
    """The name the system gives the thread, as opposed to one set with `thread name`: its
    comm for a live local process, none in a core file; elsewhere what gdb says."""
    if target_kind(thread.inferior) == "core":
        return None
    if not is_local_live(thread.inferior):
        return thread_name(thread)
    pid, lwp, tid = thread.ptid
    try:
        with open("/proc/%d/task/%d/comm" % (pid, lwp or tid or pid), "rb") as handle:
            return handle.read().rstrip(b"\n").decode("utf-8", "replace")
    except OSError:
        return thread_name(thread)
