"""`python -m gdb_qemu_threads FILE`: the offline command as a user runs it."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
SEED = DATA / "seed-info-threads.txt"


def offline(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "gdb_qemu_threads"] + [str(a) for a in args],
                          cwd=str(ROOT), input=stdin, capture_output=True, text=True, timeout=120, check=False)


def test_seed_reaches_the_write_ups_conclusions():
    """The write-up's `info thread` table (top frames only, names as gdb showed them).

    Its conclusions: thread 1 is the main loop; the threads QEMU created, in creation order,
    were (its qemu_thread_create debug print) call_rcu, IO io0, worker, CPU 0/KVM, CPU 1/KVM,
    worker; gmain, gdbus and threaded-ml come from GTK/GLib and PulseAudio.
    """
    run = offline(SEED, "--json")
    assert run.returncode == 0, run.stderr
    threads = {t["num"]: t for t in json.loads(run.stdout)["threads"]}
    assert sorted(threads) == list(range(1, 11))
    assert threads[1]["role"] == "main-loop"
    assert {threads[n]["role"] for n in (3, 4, 9)} == {"gmain", "gdbus", "pulseaudio"}
    assert [threads[n]["confidence"] for n in (3, 4, 9)] == ["high"] * 3
    # Threads the debug print lists, by LWP order (= creation order).
    created = sorted((t for t in threads.values() if t["name"] == "qemu-system-x86" and t["num"] != 1),
                     key=lambda t: t["lwp"])
    debug_print = ["call_rcu", "IO io0", "worker", "CPU 0/KVM", "CPU 1/KVM", "worker"]
    expected = {"call_rcu": "call-rcu", "IO io0": "iothread", "worker": "worker",
                "CPU 0/KVM": "vcpu", "CPU 1/KVM": "vcpu"}
    assert [t["role"] for t in created] == [expected[name] for name in debug_print]
    vcpus = [t for t in created if t["role"] == "vcpu"]
    assert [(t["vcpu"], t["accel"]) for t in vcpus] == [(0, "kvm"), (1, "kvm")]
    # Only top frames of `info threads`: what rests on them is marked as a guess.
    assert all(t["confidence"] == "low" for t in created)
    assert all(t["complete"] is False for t in threads.values())


def test_table_filter_and_summary():
    run = offline(SEED, "--role", "vcpu,worker")
    assert run.returncode == 0
    rows = [line for line in run.stdout.splitlines() if "qemu-system-x86" in line]
    assert [row.split()[0] for row in rows] == ["6", "7", "8", "10"]
    assert run.stdout.splitlines()[-1].startswith("4 of 10 threads: 2 vcpu, 2 worker")


def test_stdin_and_quoted_mail_text():
    quoted = "".join("> " + line for line in SEED.read_text().splitlines(True))
    run = offline("-", "--json", stdin=quoted)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["summary"]["vcpu"] == 2


@pytest.mark.parametrize("content", ["hello world\n", "", "\x00\x01\x02binary"])
def test_not_a_dump_is_one_line_and_exit_2(tmp_path, content):
    path = tmp_path / "notes.txt"
    path.write_text(content)
    run = offline(path)
    assert run.returncode == 2
    assert run.stdout == ""
    assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr


def test_bad_usage_and_missing_file_exit_2(tmp_path):
    for args in (["--role", "nope", SEED], [tmp_path / "missing.txt"], [SEED, "--dump", "5"], [SEED, "x1"]):
        run = offline(*args)
        assert run.returncode == 2, args
        assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr


def test_help_lists_the_options():
    run = offline("--help")
    assert run.returncode == 0
    for option in ("--json", "--role", "--state", "--group", "--bt", "--dump", "--signatures"):
        assert option in run.stdout


@pytest.mark.parametrize("args", [[], ["--role", "vcpu,worker"], ["--role", "migration"]],
                         ids=["all", "filtered", "none"])
def test_json_is_written_piece_by_piece_as_the_one_document(args):
    """The streamed --json output is, byte for byte, json.dumps(document(view), indent=1),
    with one document or with several dumps in one file."""
    import io

    from gdb_qemu_threads.__main__ import run
    from gdb_qemu_threads.analyze.groups import view
    from gdb_qemu_threads.analyze.pipeline import analyze
    from gdb_qemu_threads.dump import parse_dump_text
    from gdb_qemu_threads.render.json_doc import document

    roles = args[1].split(",") if args else []
    for path in sorted(DATA.glob("*.txt")):
        out = io.StringIO()
        assert run([str(path), "--json"] + args, out) == 0
        docs = [document(view(analyze(sorted(d, key=lambda s: (s.num is None, s.num or 0)), source="offline"),
                              roles))
                for d in parse_dump_text(path.read_text())]
        expected = docs[0] if len(docs) == 1 else {"dumps": docs}
        assert out.getvalue() == json.dumps(expected, indent=1) + "\n", path.name


def test_report_offline_reads_back_with_the_same_roles(tmp_path):
    dump = ROOT / "tests" / "data" / "qemu72-tcg-named-bt.txt"
    report = tmp_path / "r.md"
    made = offline(dump, "--report", report)
    assert made.returncode == 0 and made.stdout.strip() == "report written to %s" % report
    roles = [t["role"] for t in json.loads(offline(dump, "--json").stdout)["threads"]]
    again = [t["role"] for t in json.loads(offline(report, "--json").stdout)["threads"]]
    assert again == roles
    bad = offline(dump, "--report", tmp_path / "r.txt")
    assert bad.returncode == 2 and "must end in .md or .html" in bad.stderr
