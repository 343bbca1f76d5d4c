"""How `qemu-threads` fits gdb's habits and odd input, in real gdb: width, -v, colour, errors."""
from __future__ import annotations

import re

from cbuild import build
from gdbrun import json_command, run_gdb

ARGS = ["-accel", "tcg", "-smp", "2", "-name", "guest=fx,debug-threads=on"]
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def qemu_like(tmp_path, commands, variant="stripped", env=None):
    return run_gdb(["run"] + commands, program=build("qemu72.c", variant), args=ARGS,
                   env=dict(env or {}, FIXTURE_TRUTH=str(tmp_path / "truth.jsonl")),
                   timeout=120).check()


def between(text, start, end):
    return text.split(start, 1)[1].split(end, 1)[0]


def test_the_table_fits_80_columns_and_verbose_keeps_the_evidence(tmp_path):
    run = qemu_like(tmp_path, ["set width 80", "echo @@narrow\\n", "qemu-threads",
                               "echo @@verbose\\n", "qemu-threads -v", "echo @@others\\n",
                               "qemu-threads --group", "qemu-threads --locks", "echo @@wide\\n",
                               "set width 0", "qemu-threads", "echo @@end\\n"])
    others = between(run.stdout, "@@others\n", "@@wide").splitlines()
    assert all(len(line) <= 80 for line in others), others
    narrow = between(run.stdout, "@@narrow\n", "@@verbose").splitlines()
    rows = [line for line in narrow if re.match(r"^[ *]\s+\d+\s", line)]
    assert len(rows) >= 8
    assert all(len(line) <= 80 for line in narrow), narrow
    assert "evidence" not in narrow[0]
    verbose = between(run.stdout, "@@verbose\n", "@@others")
    assert verbose.count("      evidence: ") == len(rows)
    wide = between(run.stdout, "@@wide\n", "@@end").splitlines()
    assert "evidence" in wide[0] and any(len(line) > 80 for line in wide)


def test_no_colour_into_to_string_and_with_no_color(tmp_path):
    script = ('python import os; os.environ["NO_COLOR"] = "1"; '
              'print("@@nocolor", repr(gdb.execute("qemu-threads", to_string=True)))')
    run = qemu_like(tmp_path, ["set style enabled on",
                               'python print("@@string", repr(gdb.execute("qemu-threads", to_string=True)))',
                               script, "qemu-threads --color on"])
    assert "\\x1b[" not in between(run.stdout, "@@string", "\n")
    assert "\\x1b[" not in between(run.stdout, "@@nocolor", "\n")
    assert ANSI.search(run.stdout.split("@@nocolor", 1)[1])  # --color on still colours


def test_a_thread_that_is_not_there_is_an_error(tmp_path):
    run = qemu_like(tmp_path, ["qemu-threads --locks 999", "qemu-threads 999"])
    assert run.output.count("qemu-threads: no thread 999 in this process (threads 1-") == 2
    assert "No thread waits" not in run.stdout


def test_names_that_are_not_utf8_are_shown_replaced(tmp_path):
    program = build("named_threads.c", "debug")
    core = tmp_path / "core"
    run = run_gdb(["run", *json_command("qemu-threads --json"), "qemu-threads",
                   "generate-core-file %s" % core], program=program, args=["odd"],
                  timeout=120).check()
    names = sorted(t["name"] for t in run.json()["threads"])
    assert names == ["caf\ufffd", program.name[:15], "x\ufffd-y"]
    assert "internal error" not in run.output
    from_core = run_gdb(json_command("qemu-threads --json"), program=program, core=core,
                        timeout=120).check()
    assert len(from_core.json()["threads"]) == 3


def completions(line):
    run = run_gdb(["echo @@c\\n", "complete " + line]).check()
    return run.stdout.split("@@c\n", 1)[1].split("@@gdb-qemu-threads-end@@")[0].split()


def test_tab_completion_of_options_and_values():
    assert completions("qemu-threads --gr") == ["qemu-threads", "--group"]
    got = completions("qemu-threads --")
    assert "--json" in got and "----json" not in got and "--verbose" in got
    assert completions("qemu-threads --color ") == ["qemu-threads", "--color", "auto",
                                                     "qemu-threads", "--color", "off",
                                                     "qemu-threads", "--color", "on"]
    assert completions("qemu-threads -r vcpu,io") == ["qemu-threads", "-r", "vcpu,iothread"]
    assert completions("qemu-threads --role=vc") == ["qemu-threads", "--role=vcpu"]
    assert completions("qemu-threads -s lo") == ["qemu-threads", "-s", "lock"]


def test_help_starts_with_one_sentence_and_show_lists_every_setting():
    run = run_gdb(["apropos qemu-threads", "echo @@help\\n", "help qemu-threads",
                   "echo @@show\\n", "show qemu-threads", "echo @@set\\n",
                   "help set qemu-threads color"]).check()
    apropos = run.stdout.split("@@help")[0]
    assert "qemu-threads -- Show what every thread of a QEMU process is" in apropos
    assert "Usage" not in apropos
    first = run.stdout.split("@@help\n")[1].splitlines()[0]
    assert first.endswith(".") and first.count(". ") == 0
    shown = between(run.stdout, "@@show\n", "@@set").splitlines()
    assert [line.split(":")[0] for line in shown] == ["max-frames", "color", "signatures-file",
                                                      "reuse-stacks", "debug"]
    assert "max-frames:  Frames read per thread is 64." in shown
    helped = run.stdout.split("@@set\n")[1].split("@@gdb")[0].splitlines()
    assert helped[0] == "Set colour of the qemu-threads table."
    assert len(set(helped)) == len(helped)  # each sentence once


def test_convenience_functions_find_threads_by_role(tmp_path):
    run = qemu_like(tmp_path, [
        *json_command("qemu-threads --json"),
        'eval "thread %d", $_qemu_thread("vcpu", 1)', 'echo @@now\\n', 'python print(gdb.selected_thread().num)',
        'print $_qemu_thread("iothread", "iot0")', 'print $_qemu_thread("main-loop")',
        'print $_qemu_thread_role(1)', 'print $_qemu_thread("vcpu", 7)',
        'print $_qemu_thread("nope")', "help function _qemu_thread"], variant="debug")
    doc = run.json()
    vcpu1 = next(t["num"] for t in doc["threads"] if t["vcpu"] == 1)
    iot0 = next(t["num"] for t in doc["threads"] if t["iothread"] == "iot0")
    main = next(t["num"] for t in doc["threads"] if t["role"] == "main-loop")
    assert run.stdout.split("@@now\n")[1].splitlines()[0] == str(vcpu1)
    assert "= %d\n" % iot0 in run.stdout and "= %d\n" % main in run.stdout
    assert '= "main-loop"' in run.stdout
    assert "$_qemu_thread: no vcpu 7 in this process" in run.output
    assert "unknown role 'nope'" in run.output
    assert "Return the gdb number of a QEMU thread, found by its role." in run.stdout


def test_a_runaway_recursion_is_read_only_as_deep_as_max_frames():
    run = run_gdb(["run", "thread 2", "frame 40", *json_command("qemu-threads --json"),
                   "set qemu-threads max-frames 200", *json_command("qemu-threads --json --bt"),
                   'python print("@@level", gdb.selected_frame().level())'],
                  program=build("deep_stack.c", "debug"), timeout=120).check()
    default, wider = run.json_docs()
    deep = next(t for t in default["threads"] if t["num"] == 2)
    assert len(deep["frames"]) == 64 and not deep["complete"]
    assert len(next(t for t in wider["threads"] if t["num"] == 2)["frames"]) == 200
    assert "@@level 40" in run.stdout  # the frame the user had selected, restored


def test_bt_is_coloured_as_gdb_colours_bt_with_the_users_styles(tmp_path):
    run = qemu_like(tmp_path, ["set style function foreground magenta",
                               "echo @@bt\\n", "qemu-threads --bt --color on -r main-loop",
                               "echo @@plain\\n", "qemu-threads --bt --color off -r main-loop",
                               "echo @@end\\n"], variant="debug",
                    env={"TERM": "xterm"})  # gdb 17+ has no colours on a dumb terminal
    coloured = between(run.stdout, "@@bt\n", "@@plain")
    plain = between(run.stdout, "@@plain\n", "@@end")
    assert re.search(r"in \x1b\[35m\w+\x1b\[39", coloured)  # the user's function colour
    assert "\x1b[32m" in coloured                        # file names in gdb's green
    assert ANSI.sub("", coloured) == plain
    assert re.search(r"#\d+\s+0x[0-9a-f]+ in \w+ \(\) at ", plain)
