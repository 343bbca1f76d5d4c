"""Reports of a real QEMU (the distribution's qemu-system-x86_64): attached with -smp 4 and an
iothread, run under gdb with thread creation recorded (the creation tree), and with 128 TCG
vCPUs (one group, one box). Each Markdown report reads back offline to the live roles; each
HTML page opens in a real browser at a desktop's and a phone's size with no errors, no
requests, and its table and pictures in place."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from gdbrun import ROOT, json_command, run_gdb
from qemu_vm import QemuVM, qemu_binary
from report_browser import SIZES, open_report


def offline_roles(path: Path) -> dict:
    done = subprocess.run([sys.executable, "-m", "gdb_qemu_threads", str(path), "--json"], cwd=str(ROOT),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return roles(json.loads(done.stdout))


def roles(doc: dict) -> dict:
    return {t["lwp"]: (t["role"], t["vcpu"], t["iothread"]) for t in doc["threads"]}


def report_commands(tmp: Path, stem: str) -> list[str]:
    return (json_command("qemu-threads --json")
            + ["qemu-threads --report %s" % (tmp / (stem + ".md")),
               "qemu-threads --report %s" % (tmp / (stem + ".html"))])


def check_pages(page: Path, threads: int, tmp: Path, tree: bool) -> list:
    assert page.exists(), "no report was written"
    seen_all = []
    for size in SIZES:
        seen = open_report(page, size, tmp)
        assert seen.problems == [] and seen.requests == [], (seen.problems, seen.requests)
        facts = seen.facts
        assert facts["rows"] == threads
        assert facts["waitsSvg"] and facts["waitsSvg"][0] > 50, facts
        assert bool(facts["treeSvg"]) == tree, facts
        assert facts["pageWidth"] <= facts["viewWidth"], facts
        assert facts["cellFont"] >= 11 and facts["svgText"] >= 9, facts  # pictures not shrunk away
        seen_all.append(seen)
    return seen_all


def test_attached_smp4_with_an_iothread(tmp_path):
    with QemuVM(accel="tcg", smp=4, names=True, iothreads=["io0"], vnc=True) as vm:
        vm.wait_for_threads(8)
        run = run_gdb(report_commands(tmp_path, "smp4"), pid=vm.pid, timeout=240).check()
    live = run.json()
    assert run.stdout.count("report written to ") == 2, run.output[-3000:]
    kinds = {t["role"] for t in live["threads"]}
    assert {"main-loop", "vcpu", "iothread", "call-rcu"} <= kinds, kinds
    assert offline_roles(tmp_path / "smp4.md") == roles(live)
    text = (tmp_path / "smp4.md").read_text()
    assert "**read from** live" in text and "**gdb** " in text and "**pid** %d" % vm.pid in text
    check_pages(tmp_path / "smp4.html", len(live["threads"]), tmp_path, tree=False)


def test_run_under_gdb_with_origins_draws_the_creation_tree(tmp_path):
    args = ["-S", "-display", "none", "-nodefaults", "-machine", "pc", "-accel", "tcg", "-smp", "4",
            "-m", "64", "-name", "debug-threads=on", "-object", "iothread,id=io0"]
    run = run_gdb(["qemu-thread-origins start", "break qemu_main_loop", "run"]
                  + report_commands(tmp_path, "origins") + ["qemu-threads --dot %s" % (tmp_path / "g.dot"), "kill"],
                  program=qemu_binary(), args=args, timeout=240).check()
    live = run.json()
    assert run.stdout.count("report written to ") == 2, run.output[-3000:]
    assert offline_roles(tmp_path / "origins.md") == roles(live)
    dot = (tmp_path / "g.dot").read_text()
    assert "digraph creation {" in dot
    main = next(t for t in live["threads"] if t["role"] == "main-loop")
    made = [t for t in live["threads"] if (t.get("origin") or {}).get("parent_lwp") == main["lwp"]]
    assert len(made) >= 6  # call_rcu, the iothread, four vCPUs
    edges = re.findall(r"^  (t\d+) -> (t\d+)", dot.split("digraph creation {", 1)[1], re.M)
    assert len(edges) == len(made)
    pages = check_pages(tmp_path / "origins.html", len(live["threads"]), tmp_path, tree=True)
    shutil.copy(pages[0].screenshot, tmp_path / "desktop.png")


def test_128_tcg_vcpus_are_one_group(tmp_path):
    # -S: the guest never starts, so every vCPU waits for it the same way (one stack).
    with QemuVM(accel="tcg", smp=128, names=True, extra=["-S"]) as vm:
        vm.wait_for_threads(130, timeout=60)
        run = run_gdb(report_commands(tmp_path, "smp128"), pid=vm.pid, timeout=480).check()
    live = run.json()
    assert run.stdout.count("report written to ") == 2, run.output[-3000:]
    vcpus = [t for t in live["threads"] if t["role"] == "vcpu"]
    assert len(vcpus) == 128
    assert offline_roles(tmp_path / "smp128.md") == roles(live)
    text = (tmp_path / "smp128.md").read_text()
    summaries = re.findall(r"<summary>(\d+)x \u2014 vcpu", text)
    assert max(int(n) for n in summaries) >= 120, summaries  # the halted vCPUs: one box
    assert len(summaries) <= 4
    assert "All %d threads" % len(live["threads"]) in text  # the full table folded away
    seen = check_pages(tmp_path / "smp128.html", len(live["threads"]), tmp_path, tree=False)
    facts = seen[0].facts
    assert facts["groups"] <= 12 and facts["groupRows"] == facts["groups"]
    assert facts["visibleRows"] == 0  # the 131 rows folded under "All 131 threads"
    opened = open_report(tmp_path / "smp128.html", "desktop", tmp_path,
                         actions=lambda page: page.click("#all-threads > summary"))
    assert opened.facts["visibleRows"] == len(live["threads"])
    # the halted vCPUs wait for their events as one crowd in the graph, not 128 boxes
    assert re.search(r">1[0-9]{2} threads</text>", (tmp_path / "smp128.html").read_text())
