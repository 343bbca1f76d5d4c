"""Colour and width in gdb at a real terminal (a pty): on at the terminal, off in
`| qemu-threads | cat` and `to_string`, as for gdb's own `bt`."""
from __future__ import annotations

import contextlib
import os
import pty
import re
import select
import time

from cbuild import build
from gdbrun import LOADER, gdb_binary, gdb_env

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def at_a_terminal(program, commands, timeout=60.0):
    """Run gdb on a pty, type `commands`, and return each one's output (between markers)."""
    env = gdb_env({"TERM": "xterm"})  # gdb 17+ has no colours on a dumb terminal
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(gdb_binary(), [gdb_binary(), "-nx", "-q", str(program)], env)
    output = b""
    try:
        script = ["set pagination off", "set confirm off", "source %s" % LOADER]
        for number, command in enumerate(script + list(commands) + ["kill"]):
            os.write(fd, ("%s\necho @@%d@@\\n\n" % (command, number)).encode())
            deadline = time.time() + timeout
            while b"@@%d@@\r\n" % number not in output and time.time() < deadline:
                ready, _, _ = select.select([fd], [], [], 0.5)
                if ready:
                    output += os.read(fd, 65536)
        os.write(fd, b"quit\n")
    finally:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        os.close(fd)
    text = output.decode("utf-8", "replace").replace("\r\n", "\n")
    base = 3  # the commands' outputs follow the script's
    # A marker as echo prints it ends in a newline; the terminal's echo of the typed command
    # ("echo @@7@@\\n"), which may come before a busy command's output, does not.
    return [text.split("@@%d@@\n" % (base + i - 1), 1)[1].split("@@%d@@\n" % (base + i), 1)[0]
            for i in range(len(commands))]


def test_colour_at_the_terminal_and_none_in_a_gdb_pipe(tmp_path):
    into = tmp_path / "piped.txt"  # the shell of a gdb pipe writes after gdb's next prompt
    outputs = at_a_terminal(build("named_threads.c", "debug"), [
        "run odd", "set width 80", "set height 24", "set style enabled on", "qemu-threads",
        "| qemu-threads | cat > %s" % into,
        "python print('@@string', repr(gdb.execute('qemu-threads', to_string=True)))"])
    direct, _, string = outputs[4:]
    deadline = time.time() + 10
    while not (into.exists() and "threads:" in into.read_text()) and time.time() < deadline:
        time.sleep(0.1)
    piped = into.read_text()
    assert ANSI.search(direct), direct
    assert all(len(ANSI.sub("", line)) <= 80 for line in direct.splitlines()), direct
    assert not ANSI.search(piped), piped
    assert "evidence" in piped  # a pipe has no width: every column, as in batch mode
    assert "@@string" in string and "\\x1b[" not in string
