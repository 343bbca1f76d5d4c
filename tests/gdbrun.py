"""Run real gdb in batch mode for the tests.

gdb's exit status only reflects its last command and a Python error in one -ex does not stop
the next, so every run ends with a sentinel and the checks read the output.
"""
from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

ROOT = Path(__file__).resolve().parents[1]
LOADER = ROOT / "gdb_qemu_threads" / "load.py"
SENTINEL = "@@gdb-qemu-threads-end@@"
JSON_BEGIN = "@@json-begin@@"
JSON_END = "@@json-end@@"

PRELUDE = [
    "set pagination off",
    "set width 0",
    "set height 0",
    "set confirm off",
    "set print thread-events off",
    "set print inferior-events off",
    "handle SIGUSR1 nostop noprint pass",  # QEMU kicks vCPUs with SIGUSR1
]

PROBLEM_MARKERS = ("Traceback (most recent call last)", "Python Exception <")


def gdb_binary() -> str:
    """The gdb under test: $GDB, else the one on PATH."""
    return os.environ.get("GDB") or "gdb"


@dataclass
class GdbRun:
    argv: list[str]
    stdout: str
    stderr: str
    returncode: int

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def check(self) -> GdbRun:
        """Every command ran and none raised a Python error."""
        assert SENTINEL in self.stdout, "gdb stopped early:\n%s" % self.output[-4000:]
        for marker in PROBLEM_MARKERS:
            assert marker not in self.output, "Python error inside gdb:\n%s" % self.output[-4000:]
        return self

    def json_docs(self) -> list:
        """The JSON documents printed between json markers (see json_command)."""
        docs = []
        rest = self.stdout
        while JSON_BEGIN in rest:
            rest = rest.split(JSON_BEGIN + "\n", 1)[1]
            body, rest = rest.split(JSON_END, 1)
            docs.append(json.loads(body))
        return docs

    def json(self):
        docs = self.json_docs()
        assert len(docs) == 1, "expected one JSON document, got %d:\n%s" % (len(docs), self.output[-4000:])
        return docs[0]


def json_command(command: str) -> list[str]:
    """Commands that print a command's JSON between markers, so a test can find it."""
    return ["echo %s\\n" % JSON_BEGIN, command, "echo %s\\n" % JSON_END]


def gdb_env(extra: dict | None = None) -> dict:
    """The environment gdb runs in for the tests: a fixed locale, no terminal, and none of
    this Python's own settings, which would leak into the Python gdb embeds."""
    env = dict(os.environ, LC_ALL="C.UTF-8", TERM="dumb")
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)
    env.update(extra or {})
    return env


def run_gdb(commands: Sequence[str], *, program: os.PathLike | None = None,
            args: Sequence[str] = (), core: os.PathLike | None = None,
            pid: int | None = None, load: bool = True, prelude: bool = True,
            timeout: float = 300, gdb: str | None = None,
            env: dict | None = None) -> GdbRun:
    """gdb -nx -batch with our loader and `commands`, on a program, a core or a pid."""
    argv = [gdb or gdb_binary(), "-nx", "-batch", "-q"]
    script = list(PRELUDE) if prelude else []
    if load:
        script.append("source %s" % LOADER)
    script += list(commands)
    script.append("echo %s\\n" % SENTINEL)
    for command in script:
        argv += ["-ex", command]
    if pid is not None:
        argv += ["-p", str(pid)]
    elif program is not None and core is not None:
        argv += [str(program), str(core)]
    elif program is not None:
        argv += ["--args", str(program)] + [str(a) for a in args]
    run_env = gdb_env(env)
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                          timeout=timeout, env=run_env,
                          text=True, errors="replace")
    return GdbRun(argv, proc.stdout, proc.stderr, proc.returncode)
