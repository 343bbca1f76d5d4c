"""Compile the C fixtures the tests run under gdb, in the variants real QEMU builds come in."""
from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
BUILD = ROOT / "tests" / ".build"

# debug: full DWARF, like a developer's build.
# nodebug: no DWARF, but the symbol table is kept: every function, static ones too, has a name.
# stripped: nodebug, then strip: only the dynamic symbol table is left, as in distribution
#   builds (-rdynamic, as QEMU links for its modules): exported functions have names, static
#   ones show as ??.
VARIANTS = {
    "debug": ["-g", "-O0", "-fno-omit-frame-pointer", "-rdynamic"],
    "nodebug": ["-O1", "-fno-omit-frame-pointer", "-fno-inline", "-rdynamic"],
    "stripped": ["-O1", "-fno-omit-frame-pointer", "-fno-inline", "-rdynamic"],
}


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise RuntimeError("%s is needed by the tests and is not installed (make test installs it)" % name)
    return path


def pkg_config(package: str) -> tuple:
    """(compiler flags, linker flags) of an installed library, from pkg-config."""
    tool = require_tool("pkg-config")
    try:
        cflags = subprocess.run([tool, "--cflags", package], check=True, stdout=subprocess.PIPE,
                                text=True).stdout.split()
        libs = subprocess.run([tool, "--libs", package], check=True, stdout=subprocess.PIPE,
                              text=True).stdout.split()
    except subprocess.CalledProcessError:
        raise RuntimeError("%s's development files are needed by the tests and are not installed "
                           "(make test installs them)" % package) from None
    return tuple(cflags), tuple(libs)


def _sources(src: Path, seen=None) -> list:
    """The fixture's text and that of every file it #includes "like this", recursively."""
    seen = set() if seen is None else seen
    if src in seen:
        return []
    seen.add(src)
    text = src.read_bytes()
    out = [text]
    for name in re.findall(rb'^#include "([^"]+)"', text, re.M):
        out += _sources(src.parent / name.decode(), seen)
    return out


def build(source: str, variant: str = "debug", extra: tuple = (), libs: tuple = ()) -> Path:
    """Compile tests/fixtures/<source> once per content and variant; return the binary."""
    src = FIXTURES / source
    flags = VARIANTS[variant] + list(extra)
    digest = hashlib.sha1(b"".join(_sources(src)) + repr(flags + list(libs)).encode()).hexdigest()[:10]
    out = BUILD / ("%s-%s-%s" % (src.stem, variant, digest))
    BUILD.mkdir(parents=True, exist_ok=True)
    with open(BUILD / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # pytest-xdist workers may build the same fixture
        if not out.exists():
            tmp = out.with_suffix(".tmp")
            subprocess.run([require_tool("gcc")] + flags + ["-o", str(tmp), str(src), "-pthread"]
                           + list(libs), check=True)
            if variant == "stripped":
                subprocess.run([require_tool("strip"), "--strip-all", str(tmp)], check=True)
            os.replace(tmp, out)
    return out


def make_core(binary: Path, dest: Path, args: tuple = (), env: dict = None,
              timeout: float = 120) -> Path:
    """Run a fixture under gdb until every thread is in place, write a core file, kill it.

    The fixtures signal themselves (SIGUSR2, see tests/fixtures/fixture_support.c) once each
    thread sleeps in its blocking call; gdb stops there and `generate-core-file` saves it.
    """
    gdb = os.environ.get("GDB") or require_tool("gdb")
    dest = Path(dest)
    script = ["set pagination off", "set confirm off", "handle SIGUSR1 nostop noprint pass",
              "run", "generate-core-file %s" % dest, "kill"]
    argv = [gdb, "-nx", "-batch", "-q"]
    for command in script:
        argv += ["-ex", command]
    argv += ["--args", str(binary)] + [str(a) for a in args]
    run_env = dict(os.environ, **(env or {}))
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=timeout, env=run_env,
                          text=True, errors="replace")
    if not dest.exists():
        raise RuntimeError("no core file from %s:\n%s" % (binary, proc.stdout[-3000:]))
    return dest
