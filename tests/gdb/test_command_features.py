"""`qemu-threads` options and settings in real gdb, on the QEMU 7.2-like fixture.

The fixture (tests/fixtures/qemu72.c) writes its own truth: one JSON line per thread with
its tid, role and name; the assertions compare with that, and with gdb's own output.
"""
from __future__ import annotations

import json
import re

from cbuild import build
from gdbrun import json_command, run_gdb

ARGS = ["-accel", "tcg", "-smp", "2", "-name", "guest=fx,debug-threads=on"]
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def truth_of(path):
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    return {t["tid"]: t for t in lines if "tid" in t}


def run_fixture(tmp_path, commands, variant="stripped", prelude=()):
    truth = tmp_path / "truth.jsonl"
    run = run_gdb(list(prelude) + ["run"] + commands, program=build("qemu72.c", variant), args=ARGS,
                  env={"FIXTURE_TRUTH": str(truth)}, timeout=120)
    return run.check(), truth_of(truth)


def info_threads_names(text):
    """Thread names as `info threads` prints them: `Thread 0x... (LWP n) "name"`."""
    return dict((int(lwp), name) for lwp, name in re.findall(r'\(LWP (\d+)\) "([^"]*)"', text))


def test_annotate_names_threads_in_info_threads_and_unannotate_restores(tmp_path):
    run, truth = run_fixture(tmp_path, [
        "echo @@before\\n", "info threads",
        "qemu-threads --annotate", "echo @@annotated\\n", "info threads",
        *json_command("qemu-threads --json"),
        "qemu-threads --unannotate", "echo @@restored\\n", "info threads"])
    before = info_threads_names(run.stdout.split("@@before")[1].split("@@annotated")[0])
    annotated = info_threads_names(run.stdout.split("@@annotated")[1].split("@@restored")[0])
    restored = info_threads_names(run.stdout.split("@@restored")[1])
    vcpu = next(t for t in truth.values() if t["role"] == "vcpu" and t["vcpu"] == 1)
    assert before[vcpu["tid"]] == "CPU 1/TCG"
    assert annotated[vcpu["tid"]] == "vCPU 1 (TCG)"
    assert restored == before
    # While annotated, the command still reports the names the threads really have.
    names = {t["lwp"]: t["name"] for t in run.json()["threads"]}
    assert names[vcpu["tid"]] == "CPU 1/TCG"


def test_annotate_keeps_a_name_the_user_gave(tmp_path):
    run, truth = run_fixture(tmp_path, [
        "thread 2", "thread name mine", "qemu-threads --annotate", "echo @@annotated\n",
        "info threads", "qemu-threads --unannotate", "echo @@restored\n", "info threads"])
    annotated = info_threads_names(run.stdout.split("@@annotated")[1].split("@@restored")[0])
    restored = info_threads_names(run.stdout.split("@@restored")[1])
    mine = [lwp for lwp, name in annotated.items() if name == "mine"]
    assert len(mine) == 1 and restored[mine[0]] == "mine"
    assert sum(1 for name in annotated.values() if name == "main loop") == 1


def test_group_backtrace_filter_and_colour(tmp_path):
    run, truth = run_fixture(tmp_path, [
        "echo @@group\\n", "qemu-threads --group",
        "echo @@bt\\n", "qemu-threads --bt --role vcpu",
        "echo @@colour\\n", "qemu-threads --color on --role main-loop",
        "echo @@plain\\n", "qemu-threads --role main-loop", "echo @@end\\n"])
    out = run.stdout
    group = out.split("@@group")[1].split("@@bt")[0].strip().splitlines()
    assert group[0].split()[:2] == ["count", "threads"]
    counts = [int(line.split()[0][:-1]) for line in group[1:] if re.match(r"^\d+x ", line)]
    assert sum(counts) == len(truth)  # every thread in exactly one group
    # Threads the fixture put in the same code path share a group; different paths do not.
    assert len(counts) == len({(t["role"], tuple(t["stack"])) for t in truth.values()})
    bt = out.split("@@bt")[1].split("@@colour")[0]
    vcpus = [t for t in truth.values() if t["role"] == "vcpu"]
    assert bt.count("#0 ") == len(vcpus)
    assert "mttcg" not in bt or "??" in bt  # stripped: the static thread function is ??
    assert "qemu_thread_create" not in bt and "kvm_cpu_exec" not in bt
    colour = out.split("@@colour")[1].split("@@plain")[0]
    plain = out.split("@@plain")[1].split("@@end")[0]
    assert ANSI.search(colour) and not ANSI.search(plain)
    assert ANSI.sub("", colour) == plain


def test_completion_and_errors(tmp_path):
    run, _ = run_fixture(tmp_path, [
        "complete qemu-threads --ro", "complete qemu-threads --role v",
        "qemu-threads --role nope", "qemu-threads 99x", "qemu-threads --frobnicate",
        "echo @@alive\\n", "qemu-threads --role main-loop"])
    assert "qemu-threads --role" in run.stdout
    assert "qemu-threads --role vcpu" in run.stdout and "qemu-threads --role vnc-worker" in run.stdout
    errors = [line for line in run.stderr.splitlines() if line.startswith("qemu-threads:")]
    assert len(errors) == 3
    assert "unknown role nope" in errors[0] and "99x is not a thread number" in errors[1]
    assert "Traceback" not in run.output
    assert "main-loop" in run.stdout.split("@@alive")[1]


def test_settings_max_frames_and_signatures_file(tmp_path):
    good = tmp_path / "sigs.json"
    good.write_text(json.dumps([{"id": "worker", "role": "qemu-other", "detail": "my pool",
                                 "names": ["^worker$"]}]))
    bad = tmp_path / "bad.json"
    bad.write_text("[{]")
    run, truth = run_fixture(tmp_path, [
        "set qemu-threads max-frames 2", *json_command("qemu-threads --json"),
        "set qemu-threads max-frames 0", "set qemu-threads signatures-file %s" % good,
        *json_command("qemu-threads --json"),
        "set qemu-threads signatures-file %s" % bad, "qemu-threads",
        "show qemu-threads max-frames"])
    short, custom = run.json_docs()
    assert all(len(t["frames"]) <= 2 for t in short["threads"])
    worker = next(t for t in truth.values() if t["role"] == "worker")
    by_lwp = {t["lwp"]: t for t in custom["threads"]}
    assert (by_lwp[worker["tid"]]["role"], by_lwp[worker["tid"]]["detail"]) == ("qemu-other", "my pool")
    assert "cannot read signatures from %s" % bad in run.stderr
    assert "Frames read per thread is 0" in run.stdout


def test_non_stop_running_threads_get_a_row(tmp_path):
    # In non-stop mode only the thread that got the stop signal stops; the others run on.
    run, truth = run_fixture(tmp_path, [*json_command("qemu-threads --json")],
                             prelude=["set non-stop on"])
    threads = run.json()["threads"]
    assert sorted(t["lwp"] for t in threads) == sorted(truth)
    running = [t for t in threads if "running" in (t.get("unreadable") or "")]
    assert running, "no thread was reported as running"
    for t in running:
        assert t["frames"] == [] and t["state"] == "unknown"
        expected = truth[t["lwp"]]
        if expected["named"] and expected["key"] != "main":
            assert t["role"] == expected["role"]  # the name still tells


def test_no_process_is_one_line_even_for_json():
    run = run_gdb(["qemu-threads", "qemu-threads --json"]).check()
    errors = [line for line in run.stderr.splitlines() if "qemu-threads" in line]
    assert len(errors) == 2 and all("no process" in line for line in errors)
    assert "{" not in run.stdout
