"""The terminal tables from analysed snapshots: pure, no gdb."""
from types import SimpleNamespace

from gdb_qemu_threads.analyze.groups import view
from gdb_qemu_threads.analyze.pipeline import analyze
from gdb_qemu_threads.model import Frame, ThreadSnapshot
from gdb_qemu_threads.render.output import render
from gdb_qemu_threads.render.text import group_detail, grouped_table, where_frames

HALTED = ["futex_wait", "__futex_abstimed_wait_common", "__pthread_cond_wait_common",
          "___pthread_cond_wait", "qemu_cond_wait_impl", "qemu_wait_io_event", "mttcg_cpu_thread_fn",
          "qemu_thread_start", "start_thread", "clone3"]
MAIN = ["__ppoll", "qemu_poll_ns", "main_loop_wait", "qemu_main_loop", "qemu_default_main",
        "__libc_start_call_main", "__libc_start_main_impl", "_start"]


def frames(names):
    return [Frame(function=n) for n in names]


def process(vcpus=128):
    snaps = [ThreadSnapshot(num=1, lwp=100, name="qemu-system-x86", frames=frames(MAIN))]
    for i in range(vcpus):
        snaps.append(ThreadSnapshot(num=i + 5, lwp=200 + i, name="CPU %d/TCG" % i, frames=frames(HALTED)))
    return analyze(snaps, pid=100)


def opts(**kw):
    base = dict(role=[], state=[], threads=[], json=False, locks=False, group=False, bt=False,
                verbose=False)
    base.update(kw)
    return SimpleNamespace(**base)


def test_groups_use_gdb_ranges_vcpu_ranges_and_where_qemu_waits():
    text = grouped_table(process().reports)
    row = next(line for line in text.splitlines() if line.startswith("128x"))
    assert " 5-132 " in row
    assert "vCPUs 0-127 (TCG)" in row
    assert "qemu_cond_wait_impl <- qemu_wait_io_event <- mttcg_cpu_thread_fn" in row
    assert "futex_wait <-" not in row and "pthread_cond_wait <-" not in row


def test_group_detail_and_where():
    reports = process(3).reports
    assert group_detail(reports[1:]) == "vCPUs 0-2 (TCG)"
    assert group_detail(reports[:1]) == "main loop"
    assert where_frames(frames(HALTED), 2) == "qemu_cond_wait_impl <- qemu_wait_io_event"


def test_threads_without_numbers_are_named_by_lwp_or_counted():
    snaps = [ThreadSnapshot(num=None, lwp=None, frames=frames(MAIN)),
             ThreadSnapshot(num=None, lwp=7, frames=frames(MAIN))]
    text = grouped_table(analyze(snaps).reports)
    assert "None" not in text
    assert "lwp:7 1 without a number" in text


def test_the_table_fits_the_width_it_is_given():
    analysis = process(4)
    wide = render(view(analysis), opts(), False)
    narrow = render(view(analysis), opts(), False, width=60)
    assert "evidence" in wide.splitlines()[0] and "evidence" not in narrow.splitlines()[0]
    assert all(len(line) <= 60 for line in narrow.splitlines()), narrow
    assert "\u2026" in narrow  # long state cells were cut, not wrapped


def test_locks_groups_the_same_wait_of_many_threads_in_one_row():
    text = render(view(process()), opts(locks=True), False)
    rows = [line for line in text.splitlines() if line.startswith("QemuCond")]
    assert len(rows) == 1
    assert "qemu_wait_io_event" in rows[0]
    assert "128: threads 5-132, vCPUs 0-127 (TCG)" in rows[0]


def test_the_footer_says_what_would_decide_unknown_threads():
    snaps = [ThreadSnapshot(num=1, lwp=100, name="qemu-system-x86", frames=frames(MAIN)),
             ThreadSnapshot(num=2, lwp=101, name="qemu-system-x86",
                            frames=[Frame(pc=0x1000), Frame(function="g_main_context_dispatch"),
                                    Frame(pc=0x2000), Frame(function="start_thread")])]
    text = render(view(analyze(snaps, pid=100)), opts(), False)
    assert "1 unknown: QEMU's -name debug-threads=on names its threads; debug symbols name " \
           "their frames" in text
    named = [ThreadSnapshot(num=1, lwp=100, name="qemu-system-x86", frames=frames(MAIN))]
    assert "unknown:" not in render(view(analyze(named, pid=100)), opts(), False)
