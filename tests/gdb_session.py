"""An interactive gdb for tests that need gdb's event loop between commands.

`gdb -batch` runs its commands back to back, so in non-stop mode a breakpoint hit or an
`interrupt -a` is only handled once the script ends. Here gdb reads its commands from a pipe,
as from a terminal: it handles stops while it waits for the next line.
"""
from __future__ import annotations

import subprocess
import threading
import time

from gdbrun import LOADER, PRELUDE, PROBLEM_MARKERS, gdb_binary, gdb_env


class GdbSession:
    def __init__(self, load: bool = True, env: dict | None = None) -> None:
        self.proc = subprocess.Popen([gdb_binary(), "-nx", "-q"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=gdb_env(env),
                                     universal_newlines=True, errors="replace", bufsize=1)
        self.chunks: list[str] = []
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.marks = 0
        for command in PRELUDE:
            self.command(command)
        if load:
            self.command("source %s" % LOADER)

    def _read(self) -> None:
        for line in self.proc.stdout:
            with self.lock:
                self.chunks.append(line)

    @property
    def output(self) -> str:
        with self.lock:
            return "".join(self.chunks)

    def send(self, command: str) -> None:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def wait_for(self, text: str, timeout: float = 60, start: int = 0) -> str:
        """Wait until `text` shows up in the output after offset `start`; the output after it."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            out = self.output
            at = out.find(text, start)
            if at >= 0:
                return out[at + len(text):]
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError("gdb never printed %r:\n%s" % (text, self.output[-4000:]))

    def command(self, command: str, timeout: float = 120) -> str:
        """Run one command and return what it printed."""
        self.marks += 1
        mark = "@@mark-%d@@" % self.marks
        start = len(self.output)
        self.send(command)
        self.send("echo %s\\n" % mark)
        self.wait_for(mark + "\n", timeout, start)
        out = self.output
        return out[start:out.find(mark + "\n", start)]

    def check(self) -> None:
        for marker in PROBLEM_MARKERS:
            assert marker not in self.output, "Python error inside gdb:\n%s" % self.output[-4000:]

    def close(self) -> int | None:
        try:
            self.send("quit")
            self.proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()
