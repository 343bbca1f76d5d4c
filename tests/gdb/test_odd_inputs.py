"""A catalogue of odd input to the gdb commands, each with its expected one-line outcome.

Every case runs in one gdb on the QEMU 7.2-like fixture; after the last, the session must
still work (the table prints) and no Python traceback may have been shown.
"""
from __future__ import annotations

from cbuild import build
from gdbrun import run_gdb

ARGS = ["-accel", "tcg", "-smp", "2", "-name", "guest=fx,debug-threads=on"]

# (command, what its one line says)
CATALOGUE = [
    ("qemu-threads --role nope", "unknown role nope"),
    ("qemu-threads --state sleepy", "unknown state sleepy"),
    ("qemu-threads 99x", "99x is not a thread number or lwp:N"),
    ("qemu-threads 999", "no thread 999 in this process"),
    ("qemu-threads --locks 999", "no thread 999 in this process"),
    ("qemu-threads lwp:1", "no thread lwp:1 in this process"),
    ("qemu-threads --frobnicate", "unrecognized arguments: --frobnicate"),
    ("qemu-threads --color purple", "invalid choice: 'purple'"),
    ("qemu-threads --role", "expected one argument"),
    ('print $_qemu_thread("nope")', "unknown role 'nope'"),
    ('print $_qemu_thread("vcpu", 99)', "no vcpu 99 in this process"),
    ("print $_qemu_thread(1)", "expected a string"),
    ("set qemu-threads max-frames -1", "integer -1 out of range"),
    ("set qemu-threads color purple", 'Undefined item: "purple"'),
    ("show qemu-threads nothing", 'Undefined show qemu-threads command: "nothing"'),
]


def test_each_odd_input_is_one_clear_line_and_the_session_goes_on(tmp_path):
    commands = []
    for number, (command, _) in enumerate(CATALOGUE):
        commands += ["echo @@case %d\\n" % number, command]
    commands += ["echo @@after\\n", "qemu-threads"]
    run = run_gdb(["run"] + commands, program=build("qemu72.c", "stripped"), args=ARGS,
                  env={"FIXTURE_TRUTH": str(tmp_path / "truth.jsonl")}, timeout=120).check()
    output = run.stdout + run.stderr
    for command, expected in CATALOGUE:
        assert expected in output, (command, expected)
    assert "internal error" not in output
    table = run.stdout.split("@@after\n", 1)[1]
    assert "main-loop" in table and "threads:" in table


def test_without_a_process_every_command_says_so_in_one_line():
    run = run_gdb(["qemu-threads", "qemu-threads --locks", "qemu-threads --json",
                   'print $_qemu_thread("vcpu")']).check()
    assert run.output.count("no process: run QEMU, attach to it (gdb -p PID) or load a core "
                            "file first") == 4
