"""The gdb commands, settings and functions: with inferior/, the only code that imports gdb."""
from __future__ import annotations

_registered = False


def register_all() -> None:
    """Create the commands once, however often the loader is sourced."""
    global _registered
    if _registered:
        return
    _registered = True
    from . import functions, origins, threads
    from .settings import settings
    settings()
    threads.QemuThreadsCommand()
    origins.register()
    functions.register()
