"""What `(gdb) source <checkout>/gdb_qemu_threads/load.py` runs.

It makes the package and its two dependencies (pygments, tabulate) importable by the Python
that gdb embeds, then registers the commands. Sourcing it twice is harmless. It keeps to
syntax that old Pythons can parse, so that a too-old one gets a message, not a SyntaxError.
"""
import os
import sys
from typing import Optional

MIN_PYTHON = (3, 8)


def _checkout_root() -> str:
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.dirname(here)


def _add_paths(root: str) -> None:
    # `make install` puts pygments and tabulate under .deps/pyX.Y, one folder per Python
    # version, since gdb may embed a different Python than the one on PATH.
    deps = os.path.join(root, ".deps", "py%d.%d" % sys.version_info[:2])
    for path in (deps, root):
        if os.path.isdir(path) and path not in sys.path:
            sys.path.insert(0, path)


def _problem(root: str) -> Optional[str]:
    """One line saying why the extension cannot load here, or None."""
    version = "%d.%d" % sys.version_info[:2]
    if sys.version_info[:2] < MIN_PYTHON:
        return ("gdb-qemu-threads needs Python %d.%d or newer inside gdb; this gdb embeds Python %s"
                % (MIN_PYTHON + (version,)))
    missing = []
    for module in ("tabulate", "pygments"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        return ("gdb-qemu-threads: %s not importable by gdb's Python %s (%s); run `make install` in %s"
                % (" and ".join(missing), version, sys.executable, root))
    return None


def main() -> bool:
    import gdb

    root = _checkout_root()
    _add_paths(root)
    problem = _problem(root)
    if problem:
        gdb.write(problem + "\n", gdb.STDERR)
        return False
    from gdb_qemu_threads import commands
    commands.register_all()
    return True


main()
