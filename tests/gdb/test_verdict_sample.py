"""`qemu-threads --why --sample N` under real gdb: the program runs between N stops, and the
verdict tells a busy thread (CPU, stack moving) from a stuck one (blocked in every sample,
stack still); gdb's signal handling, the selected thread and the stopped program are left as
they were found. The truth is the fixture's own (tests/fixtures/hang_classes.c)."""
from __future__ import annotations

import json
import re

import pytest

from cbuild import build
from gdbrun import json_command, run_gdb


def sampled(case: str, tmp_path, extra: tuple = ()):
    truth_path = tmp_path / "truth.jsonl"
    commands = ["run", "handle SIGUSR2 nopass", "thread 2",  # the fixture's stop signal: not passed
                "info signals SIGINT", "info signals SIGUSR1"]
    commands += json_command("qemu-threads --why --json --sample 5") + list(extra)
    commands += ["info signals SIGINT", "info signals SIGUSR1", "thread", "info threads"]
    run = run_gdb(commands, program=build("hang_classes.c", "debug"), args=[case],
                  env={"FIXTURE_TRUTH": str(truth_path)}, timeout=120).check()
    lines = [json.loads(ln) for ln in truth_path.read_text().splitlines()]
    return run, lines


def test_a_spinning_vcpu_is_busy_and_the_rest_is_left_as_found(tmp_path):
    run, lines = sampled("spin", tmp_path)
    spinning = next(ln["spinning"] for ln in lines if "spinning" in ln)
    doc = run.json()
    num = next(t["num"] for t in doc["threads"] if t["lwp"] == spinning)
    verdict = doc["verdict"]
    assert verdict["kind"] == "not-hung", verdict
    sampled_facts = [f for f in verdict["facts"] if "samples" in f]
    assert len(sampled_facts) == 1 and sampled_facts[0].startswith("vCPU 0 (#%d): " % num)
    # a tight loop may be caught at one instruction every time: CPU-bound either way
    # on a loaded host it gets less than a CPU, and is ready to run all the same
    assert re.search(r"\d+% of a CPU( and was ready to run \d+% of the time)?, stack "
                     r"(moving|still), running in 5 of 5 samples: (busy|spinning in one place)$",
                     sampled_facts[0]), sampled_facts
    before, after = run.stdout.split("@@json-begin@@")[0], run.stdout.split("@@json-end@@")[1]
    for name in ("SIGINT", "SIGUSR1"):  # gdb's handling restored
        found = [[ln for ln in text.splitlines() if ln.startswith(name + " ")]
                 for text in (before, after)]
        assert len(found[0]) == 1 and found[0] == found[1], found
    assert "[Current thread is 2 " in after  # the selected thread too
    assert after.count("(LWP ") >= 5  # still there, stopped: every thread listed


def test_a_blocked_main_loop_is_stuck_in_every_sample(tmp_path):
    run, _ = sampled("pause", tmp_path)
    verdict = run.json()["verdict"]
    stuck = [f for f in verdict["facts"] if f.endswith(": stuck")]
    assert len(stuck) == 2, verdict  # the main loop and the vCPU that never stops
    assert any(f.startswith("the main loop (#1): ") and "blocked in 5 of 5 samples" in f
               for f in stuck), stuck


def test_sampling_a_core_file_is_refused_in_one_line(tmp_path):
    core = tmp_path / "core"
    commands = ["run", "generate-core-file %s" % core, "kill", "core-file %s" % core,
                "qemu-threads --sample 3"]
    run = run_gdb(commands, program=build("hang_classes.c", "debug"), args=["idle"],
                  env={"FIXTURE_TRUTH": str(tmp_path / "truth.jsonl")}, timeout=120).check()
    assert "qemu-threads: --sample needs a live process on this machine (not a core file)" \
        in run.output
    assert "Traceback" not in run.output


@pytest.mark.parametrize("count", ("0", "x"))
def test_a_bad_sample_count_is_one_line(tmp_path, count):
    run = run_gdb(["run", "qemu-threads --sample %s" % count],
                  program=build("hang_classes.c", "debug"), args=["idle"],
                  env={"FIXTURE_TRUTH": str(tmp_path / "truth.jsonl")}, timeout=120).check()
    expected = "--sample takes 2 to 50 stops, not 0" if count == "0" else "invalid int value"
    assert "qemu-threads: " in run.output and expected in run.output, run.output[-2000:]
    assert "Traceback" not in run.output
