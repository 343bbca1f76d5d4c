"""One way for every command to fail: one line, a traceback only when debugging."""
from __future__ import annotations

import traceback
from typing import Callable, TypeVar

import gdb

T = TypeVar("T")


def debugging() -> bool:
    try:
        return bool(gdb.parameter("qemu-threads debug"))
    except (gdb.error, RuntimeError):
        return False


def guarded(command: str, run: Callable[[], T]) -> T:
    """Run a command's body: gdb's own errors and Ctrl-C pass; a bug of ours is one line."""
    try:
        return run()
    except (gdb.GdbError, KeyboardInterrupt):
        raise
    except gdb.error as err:
        raise gdb.GdbError("%s: %s" % (command, err)) from err
    except Exception as err:
        if debugging():
            traceback.print_exc()
        raise gdb.GdbError("%s: internal error: %s: %s (set qemu-threads debug on for a "
                           "traceback)" % (command, type(err).__name__, err)) from err
