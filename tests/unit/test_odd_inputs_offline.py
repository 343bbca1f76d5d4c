"""The catalogue of odd inputs tried on the offline command line, each with the one-line
outcome it must give: never a traceback, every error one line on standard error.

Each row: (what is tried, how the command is run, expected exit status, a regex the whole of
standard error must match: "" for nothing at all). The command runs as a user runs it
(`python -m gdb_qemu_threads ...` in a shell), with the file names of the row made in a
temporary directory.
"""
from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parents[2]
SEED = (ROOT / "tests" / "data" / "seed-info-threads.txt").read_bytes()
PROG = "gdb-qemu-threads"
MB = 1000 * 1000


class Odd(NamedTuple):
    what: str
    command: str      # shell words after `python -m gdb_qemu_threads`; {dir} is the temp dir
    status: int
    stderr: str       # regex for all of standard error ("" = empty)


def _files(tmp: Path) -> None:
    """The inputs the rows name."""
    (tmp / "seed.txt").write_bytes(SEED)
    (tmp / "empty.txt").write_bytes(b"")
    (tmp / "sub").mkdir()
    (tmp / "long-line.txt").write_bytes(b"x" * (3 * MB))  # a few MB, no line end
    (tmp / "dump-with-long-line.txt").write_bytes(SEED[:400] + b"#0 " + b"y" * (2 * MB) + b"\n" + SEED[400:])
    (tmp / "latin1-name.txt").write_bytes(SEED.replace(b'"gmain"', b'"gm\xe9in"'))
    (tmp / "elf.bin").write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 64)
    (tmp / "cr-only.txt").write_bytes(SEED.replace(b"\n", b"\r"))
    (tmp / "nul-bytes.txt").write_bytes(SEED.replace(b"\n", b"\x00\n"))
    (tmp / "bad.json").write_text("{")
    (tmp / "not-a-list.json").write_text('{"id": "x"}')
    (tmp / "good.json").write_text("[]")
    (tmp / "bad-regex.json").write_text('[{"id": "x", "role": "worker", "detail": "d", "names": ["("]}]')


def _one_line(message: str) -> str:
    return r"%s: %s\n" % (PROG, message)


NO_DUMP = re.escape("no gdb thread list or backtrace found (formats read: gdb's info threads and bt, "
                    "LLDB's thread list and bt all, eu-stack)")
CATALOGUE = [
    Odd("standard input closed", "- <&-", 2, _one_line("standard input is closed")),
    Odd("standard input open for writing only", "- 0>/dev/null", 2,
        _one_line("standard input: Bad file descriptor")),
    Odd("standard input empty", "- </dev/null", 2, _one_line("standard input: " + NO_DUMP)),
    Odd("empty file", "{dir}/empty.txt", 2, _one_line(r"\S+/empty.txt: " + NO_DUMP)),
    Odd("missing file", "{dir}/missing.txt", 2, _one_line(r"\S+/missing.txt: No such file or directory")),
    Odd("a directory", "{dir}/sub", 2, _one_line(r"\S+/sub: Is a directory")),
    Odd("a file that cannot be read", "/proc/self/mem", 2, _one_line("/proc/self/mem: Input/output error")),
    Odd("a few MB without a line end", "{dir}/long-line.txt", 2,
        _one_line(r"\S+/long-line.txt: %s \(line 1 was cut at 65536 characters\)" % NO_DUMP)),
    Odd("an endless line (/dev/zero)", "/dev/zero", 2,
        _one_line(r"/dev/zero: %s \(reading stopped in line 1, which goes on for more than 64 MiB\)" % NO_DUMP)),
    Odd("an endless line on standard input", "- < /dev/zero", 2,
        _one_line(r"standard input: %s \(reading stopped in line 1, .*\)" % NO_DUMP)),
    Odd("a dump with one 2 MB line in it", "{dir}/dump-with-long-line.txt", 0,
        _one_line(r"\S+/dump-with-long-line.txt: line \d+ was cut at 65536 characters")),
    Odd("a thread name that is not UTF-8", "{dir}/latin1-name.txt", 0, ""),
    Odd("a binary file", "{dir}/elf.bin", 2, _one_line(r"\S+/elf.bin: " + NO_DUMP)),
    Odd("old Mac line ends (CR only)", "{dir}/cr-only.txt", 0, ""),
    Odd("NUL bytes in a dump", "{dir}/nul-bytes.txt", 0, ""),
    Odd("--signatures: not JSON", "{dir}/seed.txt --signatures {dir}/bad.json", 2,
        _one_line(r"[^\n]*\S+/bad.json[^\n]*")),
    Odd("--signatures: no such file", "{dir}/seed.txt --signatures {dir}/none.json", 2,
        _one_line(r"[^\n]*\S+/none.json[^\n]*")),
    Odd("--signatures: a directory", "{dir}/seed.txt --signatures {dir}/sub", 2,
        _one_line(r"[^\n]*\S+/sub\b[^\n]*")),
    Odd("--signatures: not a list", "{dir}/seed.txt --signatures {dir}/not-a-list.json", 2,
        _one_line(r"[^\n]*\S+/not-a-list.json[^\n]*")),
    Odd("--signatures: the second of two files has a bad regex",
        "{dir}/seed.txt --signatures {dir}/good.json --signatures {dir}/bad-regex.json", 2,
        _one_line(r"[^\n]*\S+/bad-regex.json[^\n]*")),
    Odd("standard output closed", "{dir}/seed.txt >&-", 2, _one_line("standard output is closed")),
    Odd("standard output full", "{dir}/seed.txt >/dev/full", 2,
        _one_line("cannot write the output: No space left on device")),
    Odd("standard output full (--json)", "{dir}/seed.txt --json >/dev/full", 2,
        _one_line("cannot write the output: No space left on device")),
    Odd("standard error closed, error", "{dir}/missing.txt 2>&-", 2, ""),
    Odd("--dump past the last dump", "{dir}/seed.txt --dump 2", 2,
        _one_line(r"--dump 2: the file has 1 dump\(s\)")),
]


def shell(command: str, tmp: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    words = "%s -m gdb_qemu_threads %s" % (shlex.quote(sys.executable), command.format(dir=shlex.quote(str(tmp))))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(["sh", "-c", "exec " + words], cwd=str(ROOT), env=env, input=stdin,
                          capture_output=True, timeout=120, check=False)


@pytest.mark.parametrize("odd", CATALOGUE, ids=[odd.what for odd in CATALOGUE])
def test_catalogue(odd: Odd, tmp_path: Path) -> None:
    _files(tmp_path)
    run = shell(odd.command, tmp_path)
    err = run.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err and "Exception" not in err, err
    assert run.returncode == odd.status, err
    if odd.stderr:
        assert re.fullmatch(odd.stderr, err), err
        assert err.count("\n") == 1
    else:
        assert err == ""
    if odd.status == 0:
        assert b"threads" in run.stdout  # the table's summary line


def test_the_dumps_name_is_not_blamed_for_a_bad_signatures_file(tmp_path: Path) -> None:
    _files(tmp_path)
    run = shell("{dir}/seed.txt --signatures {dir}/bad.json", tmp_path)
    assert b"seed.txt" not in run.stderr


def test_a_name_that_is_not_utf8_is_shown_replaced(tmp_path: Path) -> None:
    _files(tmp_path)
    run = shell("{dir}/latin1-name.txt --json", tmp_path)
    assert run.returncode == 0
    assert b'"name": "gm\\ufffdin"' in run.stdout


def test_an_endless_line_keeps_memory_bounded() -> None:
    """150 MB with no line end, through a pipe: reading stops after 64 MiB of it, and the
    command never holds more than a small part of it."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    # GNU time measures the command's own peak: a child forked from this (large) test process
    # would count this process's pages too
    child = subprocess.Popen(["/usr/bin/time", "-q", "-f", "@@maxrss %M", sys.executable, "-m",
                              "gdb_qemu_threads", "-"], cwd=str(ROOT), env=env,
                             stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert child.stdin is not None and child.stderr is not None
    block = b"z" * MB
    try:
        for _ in range(150):
            child.stdin.write(block)
        child.stdin.close()
    except BrokenPipeError:  # it stopped reading, as it should
        pass
    err, _, peak = child.stderr.read().decode().partition("@@maxrss ")
    assert child.wait() == 2
    assert "reading stopped in line 1" in err and err.count("\n") == 1
    assert int(peak) * 1024 < 100 * MB  # the interpreter itself is ~25 MB


def test_ctrl_c_exits_130_quietly() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    child = subprocess.Popen([sys.executable, "-m", "gdb_qemu_threads", "-"], cwd=str(ROOT), env=env,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdin is not None
    child.stdin.write(SEED[:300])
    child.stdin.flush()  # it is reading now, waiting for more
    time.sleep(1.5)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=30)
    assert child.returncode == 130
    assert (out, err) == (b"", b"")

