"""The Markdown report: every saved dump reads back to the same roles, states and waits;
names cannot inject markup; --report's file names and errors."""
from __future__ import annotations

import re

import pytest
from report_samples import DUMPS, deadlock, dump_views, read_back

from gdb_qemu_threads.analyze.groups import view
from gdb_qemu_threads.analyze.pipeline import analyze
from gdb_qemu_threads.model import Frame, ThreadSnapshot
from gdb_qemu_threads.render.report import ReportError, write_report
from gdb_qemu_threads.render.report_md import markdown, md_text


def facts_of(analysis):
    return [(r.snapshot.num, r.snapshot.lwp, r.snapshot.name, r.verdict.role, r.verdict.vcpu,
             r.verdict.iothread, r.verdict.state, r.verdict.detail) for r in analysis.reports]


@pytest.mark.parametrize("name", DUMPS)
def test_every_saved_dump_reads_back_from_its_report(name):
    for shown in dump_views(name):
        back = read_back(markdown(shown, {}))
        assert facts_of(back) == facts_of(shown.analysis)
        assert len(back.locks.locks) == len(shown.analysis.locks.locks)
        assert [doc for _, doc in back.locks.events] == [doc for _, doc in shown.analysis.locks.events]


def test_a_deadlock_reads_back_with_its_lock_addresses():
    shown = deadlock()
    text = markdown(shown, {"verdict": "hung: two threads wait for each other"})
    assert "> **Verdict:** hung: two threads wait for each other" in text
    assert text.count("**Deadlock 1:** 2 threads wait for each other") == 1
    back = read_back(text)
    assert facts_of(back)[0][:4] == facts_of(shown.analysis)[0][:4]
    addresses = sorted(lock.address for lock in back.locks.locks)
    assert addresses == sorted(lock.address for lock in shown.analysis.locks.locks)
    assert "mutex=0x555500001000" in text  # the argument a reader keeps, as gdb prints it


HOSTILE = ("<img src=x onerror=alert(1)>", "a|b|c", "````` x", "**bold** _it_", "[l](http://x)",
           "@everyone #1", "line\nbreak", "</details>")


def hostile_view():
    snaps = [ThreadSnapshot(num=i + 1, lwp=500 + i, name=name,
                            frames=[Frame("pause", "/lib/x86_64-linux-gnu/libc.so.6", 0x7F00 + i),
                                    Frame("worker_%d" % i, None, 0x5500 + i, "../a|b`c`.c", 7)])
             for i, name in enumerate(HOSTILE)]
    return view(analyze(snaps, source="live", pid=500))


def outside_code(text):
    return re.sub(r"(?ms)^(`{3,})text\n.*?^\1$", "", text)


def test_names_cannot_inject_markup():
    text = markdown(hostile_view(), {"binary": "/x/<b>qemu</b>", "gdb_version": "13|1"})
    prose = outside_code(text)
    for name in HOSTILE[:-1]:
        assert name not in prose
    assert "&lt;/details&gt;" in prose  # the last name, in the table
    assert "<img" not in prose and "<b>" not in prose and "[l](" not in prose
    assert prose.count("</details>") == len(re.findall(r"^<details>", prose, re.M))
    for line in prose.splitlines():
        if line.startswith("| ") and not line.startswith("| \\#"):
            assert len(re.findall(r"(?<!\\)\|", line)) == 8, line  # 7 columns: no cell broken
    blocks = re.findall(r"(?ms)^(`{3,})text\n(.*?)^\1$", text)
    assert len(blocks) == len(HOSTILE)
    for fence, body in blocks:  # each fence longer than any run of backticks inside it
        assert len(fence) > max((len(run) for run in re.findall(r"`+", body)), default=2)
    assert sorted(len(fence) for fence, _ in blocks)[-1] == 6  # the name's five, plus one
    back = read_back(text)
    assert [r.snapshot.name for r in back.reports] == [n.replace("\n", "\\x0a") for n in HOSTILE]


def test_md_text_keeps_the_text_and_drops_the_meaning():
    assert md_text("a_b*c") == "a\\_b\\*c"
    assert md_text("<x>&") == "&lt;x&gt;&amp;"
    assert md_text("x|y") == "x\\|y"


def test_report_file_names_and_errors(tmp_path):
    shown = deadlock()
    printed = write_report(shown, "-", {})
    assert printed.startswith("## QEMU threads: 3 threads")
    assert write_report(shown, str(tmp_path / "r.md"), {}) == "report written to %s" % (tmp_path / "r.md")
    assert (tmp_path / "r.md").read_text().rstrip("\n") == printed
    assert write_report(shown, str(tmp_path / "r.HTML"), {}).startswith("report written to")
    assert (tmp_path / "r.HTML").read_text().startswith("<!DOCTYPE html>")
    with pytest.raises(ReportError, match=r"^--report r\.txt: the name must end in \.md or \.html"):
        write_report(shown, "r.txt", {})
    with pytest.raises(ReportError, match=r"^--report .*/missing/r\.md: No such file or directory$"):
        write_report(shown, str(tmp_path / "missing" / "r.md"), {})


def test_a_thread_without_a_number_keeps_its_lwp_and_name():
    snaps = [ThreadSnapshot(num=None, lwp=77, name="worker", frames=[
        Frame("qemu_futex_wait", None, 0x5500, "../util/qemu-thread-posix.c", 440),
        Frame("worker_thread", None, 0x5600, "../util/thread-pool.c", 91)])]
    back = read_back(markdown(view(analyze(snaps, source="offline")), {}))
    assert [(r.snapshot.num, r.snapshot.lwp, r.snapshot.name, r.verdict.role) for r in back.reports] == \
        [(None, 77, "worker", "worker")]


def test_a_report_too_long_for_a_github_comment_says_so(tmp_path):
    many = [ThreadSnapshot(num=i, lwp=1000 + i, name="CPU %d/TCG" % i, frames=[
        Frame("futex_wait", "/lib/x86_64-linux-gnu/libc.so.6", 0x7F00),
        Frame("qemu_wait_io_event", None, 0x5500, "../softmmu/cpus.c", 450),
        Frame("mttcg_cpu_thread_fn", None, 0x5600, "../accel/tcg/tcg-accel-ops-mttcg.c", 124)])
        for i in range(1, 400)]
    shown = view(analyze(many, source="offline"))
    message = write_report(shown, str(tmp_path / "big.md"), {})
    assert "more than a GitHub comment takes" in message
    assert len((tmp_path / "big.md").read_text()) > 65536
    assert "GitHub" not in write_report(shown, str(tmp_path / "big.html"), {})
    assert "GitHub" not in write_report(deadlock(), str(tmp_path / "small.md"), {})


def test_a_filtered_view_says_how_many_it_shows():
    shown = deadlock()
    only = view(shown.analysis, roles=["main-loop"])
    text = markdown(only, {})
    assert "**threads** 1 of 3 shown" in text
    assert [r.snapshot.num for r in read_back(text).reports] == [1]
