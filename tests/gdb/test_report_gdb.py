"""`qemu-threads --report` and `--dot` under real gdb, on tests/fixtures/deadlocks.c (locks held,
two deadlock cycles) and on threads with hostile names: the Markdown reads back offline to
the same roles, the HTML opens in a real browser with each cycle drawn red, nothing injects."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cbuild import build
from gdbrun import ROOT, json_command, run_gdb
from report_browser import open_report


def offline_json(path: Path) -> dict:
    done = subprocess.run([sys.executable, "-m", "gdb_qemu_threads", str(path), "--json"], cwd=str(ROOT),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def roles(doc: dict) -> dict:
    return {t["lwp"]: (t["role"], t["vcpu"], t["iothread"], t["state"]) for t in doc["threads"]}


@pytest.fixture(scope="module")
def deadlocks(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report-deadlocks")
    # A build path as long as people's, with no hyphen to break at (the report's header shows
    # it): on a phone it wraps.
    binary = tmp / "a_qemu_build_tree_of_someone" / "build_x86_64_softmmu_debug" / "deadlocks"
    binary.parent.mkdir(parents=True)
    shutil.copy2(build("deadlocks.c", "debug"), binary)
    out = {ext: tmp / ("deadlocks." + ext) for ext in ("md", "html", "dot")}
    commands = ["run"] + json_command("qemu-threads --json")
    commands += ["qemu-threads --report %s" % out["md"], "qemu-threads --report %s" % out["html"],
                 "qemu-threads --dot %s" % out["dot"], "echo @@md@@\\n", "qemu-threads --report -",
                 "echo @@md-end@@\\n", "qemu-threads --report %s" % (tmp / "bad.txt"),
                 "generate-core-file %s" % (tmp / "core"), "kill", "core-file %s" % (tmp / "core")]
    commands += json_command("qemu-threads --json") + ["qemu-threads --report %s" % (tmp / "core.md")]
    run = run_gdb(commands, program=binary, env={"FIXTURE_TRUTH": str(tmp / "truth.jsonl")},
                  timeout=180).check()
    return run, out, tmp


def test_deadlock_report_markdown_reads_back_to_the_same_roles(deadlocks):
    run, out, _ = deadlocks
    live = run.json_docs()[0]
    assert live["deadlocks"], "the fixture has two cycles"
    assert "report written to %s" % out["md"] in run.stdout
    assert "report written to %s" % out["html"] in run.stdout, run.output[-3000:]
    assert "graphs written to %s" % out["dot"] in run.stdout
    assert roles(offline_json(out["md"])) == roles(live)
    text = out["md"].read_text()
    assert text.count("**Deadlock ") == len(live["deadlocks"])
    assert text.count("<details>") == text.count("</details>") >= 2
    printed = run.stdout.split("@@md@@\n", 1)[1].split("@@md-end@@", 1)[0]
    assert printed.startswith("## QEMU threads: %d threads" % len(live["threads"]))
    assert "--report %s: the name must end in .md or .html" % (deadlocks[2] / "bad.txt") in run.output
    assert "Traceback" not in run.output


def test_a_core_file_report_reads_back_too(deadlocks):
    run, _, tmp = deadlocks
    from_core = run.json_docs()[1]
    text = (tmp / "core.md").read_text()
    assert "**read from** core" in text
    assert text.count("**Deadlock ") == len(from_core["deadlocks"]) == 2
    assert roles(offline_json(tmp / "core.md")) == roles(from_core)


def test_deadlock_dot_file_draws_each_cycle_red(deadlocks):
    run, out, _ = deadlocks
    dot = out["dot"].read_text()
    assert dot.startswith("digraph waits_for {")
    red_edges = [line for line in dot.splitlines() if "->" in line and "#d62728" in line]
    cycle_members = sum(len(cycle) for cycle in run.json_docs()[0]["deadlocks"])
    # each member of a cycle waits for a lock (red) that is held by the next member (red)
    assert len(red_edges) == 2 * cycle_members, red_edges
    svg = subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, text=True, check=True).stdout
    assert svg.count("<svg") == 1  # no creation recorded: the waits-for graph only


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_deadlock_report_html_in_a_browser(deadlocks, size, tmp_path):
    run, out, _ = deadlocks
    live = run.json_docs()[0]
    seen = open_report(out["html"], size, tmp_path)
    assert seen.problems == [] and seen.requests == []
    facts = seen.facts
    assert facts["rows"] == len(live["threads"]) and facts["filterShown"]
    assert facts["waitsSvg"] and facts["waitsSvg"][0] > 100
    assert facts["treeSvg"] is None  # no creation recorded: the page says so instead
    cycle_members = sum(len(cycle) for cycle in live["deadlocks"])
    assert facts["redStrokes"] >= 2 * cycle_members and facts["redFills"] >= 2 * cycle_members
    assert facts["pageWidth"] <= facts["viewWidth"], "wide parts scroll inside their boxes"
    assert facts["cellFont"] >= 11 and facts["bodyFont"] >= 13 and facts["svgText"] >= 9
    html = out["html"].read_text()
    assert "no creation tree" in html and "<svg" in html
    assert seen.screenshot.stat().st_size > 10000


def test_the_table_sorts_and_filters_with_javascript_and_reads_without(deadlocks, tmp_path):
    run, out, _ = deadlocks

    def sort_and_filter(page):
        page.click("#threads th.col-LWP button")
        page.click("#threads th.col-LWP button")  # descending
        page.fill("#filter", "lock")

    seen = open_report(out["html"], "desktop", tmp_path, actions=sort_and_filter)
    lock_waiters = [t for t in run.json_docs()[0]["threads"] if "lock" in (t["state"] + t["detail"]).lower()]
    assert 0 < seen.facts["visibleRows"] < seen.facts["rows"]
    assert seen.facts["visibleRows"] >= len(lock_waiters)
    plain = open_report(out["html"], "phone", tmp_path, javascript=False)
    assert plain.problems == [] and plain.requests == []


HOSTILE = ["<script>alert(1", "a|b`c`**d**", "[x](http://e.x)", "@everyone ```", '"q"&amp;\\n']


def test_hostile_thread_names_stay_text(tmp_path):
    binary = build("named_threads.c", "debug")
    md, page = tmp_path / "names.md", tmp_path / "names.html"
    run = run_gdb(["run", "qemu-threads --report %s" % md, "qemu-threads --report %s" % page,
                   *json_command("qemu-threads --json"), "kill"], program=binary, args=["markup"], timeout=120).check()
    names = {t["name"] for t in run.json_docs()[0]["threads"]}
    assert set(HOSTILE) <= names, names
    text = md.read_text()
    outside_code = re.sub(r"(?ms)^(`{3,})text\n.*?^\1$", "", text)
    for name in HOSTILE:
        assert name not in outside_code, name      # escaped wherever Markdown would read it
    assert "<script" not in outside_code
    assert "[x](" not in outside_code  # the brackets escaped: no link
    for line in outside_code.splitlines():
        if line.startswith("| ") and "LWP" not in line and not line.startswith("|---"):
            assert len(re.findall(r"(?<!\\)\|", line)) == 8, line  # 7 columns, no cell broken
    assert {t["name"] for t in offline_json(md)["threads"]} == names
    seen = open_report(page, "desktop", tmp_path)
    assert seen.problems == [] and seen.requests == [] and not seen.facts["hostile"]
