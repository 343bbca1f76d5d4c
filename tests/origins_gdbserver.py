"""gdbserver for the qemu-thread-origins tests over a remote target."""
from __future__ import annotations

import os
import shutil

from gdbrun import gdb_binary


def gdbserver() -> str | None:
    """$GDBSERVER, else the gdbserver beside the gdb under test, else the one on PATH."""
    beside = os.path.join(os.path.dirname(shutil.which(gdb_binary()) or ""), "gdbserver")
    return os.environ.get("GDBSERVER") or (beside if os.access(beside, os.X_OK) else None) \
        or shutil.which("gdbserver")


def remote(program: object) -> list[str]:
    """gdb commands that run a gdbserver of our own through a pipe (no port to choose or
    leak) and make `run` start `program` there."""
    return ["set sysroot /", "target extended-remote | %s --multi -" % gdbserver(),
            "set remote exec-file %s" % program, "file %s" % program]
