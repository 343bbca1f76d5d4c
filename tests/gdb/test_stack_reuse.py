"""Recognising a stack another thread showed must give exactly what gdb's unwinder gives.

qemu-threads reads one thread's stack with gdb and, for other threads stopped at the same pc,
checks the return addresses on their stacks instead of unwinding (stacks.py). Each
test reads the same stop twice, with `reuse-stacks` on and off, and compares the JSON and the
`--bt` text (every frame's pc, function, file and line), live and on a core file. A counter
shows the reuse happened; otherwise the comparison would prove nothing.
"""
from __future__ import annotations

import json

import pytest

from cbuild import build
from gdbrun import json_command, run_gdb
from qemu_vm import QemuVM

COMPARE = r'''
import gdb, json
from gdb_qemu_threads.inferior import reader as live
counts = {"reused": 0}
_reuse = live.ThreadReader.reuse
def counting(self, *args):
    done = _reuse(self, *args)
    counts["reused"] += done
    return done
live.ThreadReader.reuse = counting
out = {}
for setting in ("on", "off"):
    gdb.execute("set qemu-threads reuse-stacks " + setting)
    counts["reused"] = 0
    text = gdb.execute("qemu-threads --json", to_string=True)
    doc = json.loads(text[text.index("{"):])  # gdb 18 puts a core file's warnings first
    text = gdb.execute("qemu-threads --bt --color off", to_string=True)
    text = text[text.index("  #"):]
    out[setting] = {"doc": doc, "text": text, "reused": counts["reused"]}
live.ThreadReader.reuse = _reuse
print("@@reuse " + json.dumps(out))
'''


def compare_runs(run):
    results = [json.loads(line[len("@@reuse "):]) for line in run.stdout.splitlines()
               if line.startswith("@@reuse ")]
    assert results, run.output[-3000:]
    for result in results:
        on, off = result["on"], result["off"]
        assert off["reused"] == 0
        assert on["doc"] == off["doc"]
        assert on["text"] == off["text"]
    return results


@pytest.fixture
def compare_script(tmp_path):
    path = tmp_path / "compare.py"
    path.write_text(COMPARE)
    return path


@pytest.mark.parametrize("variant", ["debug", "nodebug", "stripped"])
def test_fixture_threads_live_and_core(tmp_path, compare_script, variant):
    core = tmp_path / "core"
    binary = build("many_threads.c", variant)
    run = run_gdb(["break break_here", "run", "source %s" % compare_script,
                   "generate-core-file %s" % core, "kill", "core-file %s" % core,
                   "source %s" % compare_script], program=binary, args=["40"], timeout=300).check()
    live_result, core_result = compare_runs(run)
    # 40 threads in two kinds of stacks: all but the first of each kind are recognised
    for result in (live_result, core_result):
        assert result["on"]["reused"] >= 30, result["on"]["reused"]


@pytest.mark.parametrize("variant", ["debug", "stripped"])
def test_lock_waiters_keep_their_own_lock_facts(tmp_path, compare_script, variant):
    run = run_gdb(["handle SIGUSR2 stop nopass", "run", "source %s" % compare_script],
                  program=build("deadlocks.c", variant), timeout=120).check()
    (result,) = compare_runs(run)
    # the two BQL waiters share a stack, the owners and addresses are still each thread's own
    assert result["on"]["reused"] >= 1
    assert result["on"]["doc"]["deadlocks"]


def test_real_qemu(compare_script):
    with QemuVM(accel="tcg", smp=8, names=False) as vm:
        run = run_gdb(["source %s" % compare_script], pid=vm.pid, timeout=180).check()
    (result,) = compare_runs(run)
    assert result["on"]["reused"] >= 6  # eight vCPUs parked alike


def origin_frames(run):
    """Each recorded creation's frames, without the ids that differ from run to run."""
    doc = run.json()
    return sorted(tuple(entry["frames"]) for entry in doc["origins"])


@pytest.mark.parametrize("source, args", [("origins_threads.c", []), ("origins_bench.c", ["300"])])
def test_creation_backtraces_are_the_same_either_way(source, args):
    """qemu-thread-origins recognises a creator's stack seen at an earlier creation."""
    binary = build(source, "nodebug")
    results = {}
    for setting in ("on", "off"):
        run = run_gdb(["set qemu-threads reuse-stacks %s" % setting, "qemu-thread-origins start",
                       "run"] + json_command("qemu-thread-origins show --json"),
                      program=binary, args=args, timeout=300).check()
        results[setting] = origin_frames(run)
    assert results["on"] == results["off"]
    assert len(results["on"]) >= (4 if not args else 300)
