"""Facts about the selected inferior that several readers need, each found one way."""
from __future__ import annotations

import os

import gdb

# Registers holding a function's first two arguments at its entry, by architecture.
_ARG_REGISTERS = {"x86-64": ("rdi", "rsi"), "aarch64": ("x0", "x1")}


def arch_key(name: str) -> str | None:
    """"x86-64" or "aarch64" for an architecture name gdb gives ("i386:x86-64"), else None."""
    return next((key for key in _ARG_REGISTERS if key in name), None)


def arg_registers() -> tuple[str, str] | None:
    key = arch_key(gdb.selected_inferior().architecture().name())
    return _ARG_REGISTERS[key] if key else None


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
