"""Home points, `blocked`, nested event loops and the verdict of --why: pure, no gdb.

The stacks follow QEMU's sources (pause_all_vcpus in softmmu/cpus.c, bdrv_drain_all_begin's
AIO_WAIT_WHILE in block/io.c, iothread_run in iothread.c) and real QEMU 7.2 stacks; the lock
words are glibc's struct __pthread_mutex_s as a reader finds them in memory.
"""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from gdb_qemu_threads.analyze.groups import view
from gdb_qemu_threads.analyze.pipeline import analyze
from gdb_qemu_threads.analyze.verdict import diagnose
from gdb_qemu_threads.dump import parse_dump_text
from gdb_qemu_threads.model import Frame, ThreadFacts, ThreadSnapshot
from gdb_qemu_threads.render.output import render

DATA = Path(__file__).resolve().parent.parent / "data"
START = ["qemu_thread_start", "start_thread", "clone3"]
MAIN_START = ["qemu_main_loop", "qemu_default_main", "__libc_start_call_main", "_start"]
COND = ["futex_wait", "__futex_abstimed_wait_common", "__pthread_cond_wait_common",
        "___pthread_cond_wait", "qemu_cond_wait_impl"]
POLL = ["__ppoll", "qemu_poll_ns", "fdmon_poll_wait", "aio_poll"]
MUTEX = ["futex_wait", "__GI___lll_lock_wait", "___pthread_mutex_lock", "qemu_mutex_lock_impl"]
MAIN = 4000
PAUSE_COND, BQL, OTHER = 0x5000, 0x6000, 0x7000


def snap(num: int, lwp: int, names: list, name: str | None = None, complete: bool = True,
         **facts) -> ThreadSnapshot:
    return ThreadSnapshot(num=num, lwp=lwp, name=name, complete=complete,
                          frames=[Frame(function=n) for n in names], facts=ThreadFacts(**facts))


def words(owner: int) -> tuple:
    return (2, 0, owner, 1, 0, 0, 0)


def main_in_pause_all_vcpus() -> ThreadSnapshot:
    return snap(1, MAIN, COND + ["pause_all_vcpus", "do_vm_stop", "vm_stop", "qmp_stop",
                                 "monitor_qmp_dispatch"] + MAIN_START,
                wait_args={"qemu_cond_wait_impl": PAUSE_COND},
                arg_symbols={PAUSE_COND: "qemu_pause_cond"})


def vcpu_wanting_bql(num: int, lwp: int, owner: int) -> ThreadSnapshot:
    return snap(num, lwp, MUTEX + ["qemu_mutex_lock_iothread_impl", "kvm_cpu_exec",
                                   "kvm_vcpu_thread_fn"] + START, name="CPU %d/KVM" % (num - 2),
                wait_args={"qemu_mutex_lock_impl": BQL}, lock_words=words(owner),
                arg_symbols={BQL: "qemu_global_mutex"})


def states(snaps, pid=MAIN):
    return {r.snapshot.num: (r.verdict.state, r.verdict.activity)
            for r in analyze(snaps, pid=pid).reports}


def test_home_points_stay_idle():
    got = states([
        snap(1, MAIN, POLL[:2] + ["os_host_main_loop_wait", "main_loop_wait"] + MAIN_START),
        snap(2, MAIN + 1, POLL + ["iothread_run"] + START, name="IO iot0"),
        snap(3, MAIN + 2, COND + ["qemu_wait_io_event", "kvm_vcpu_thread_fn"] + START,
             name="CPU 0/KVM"),
        snap(4, MAIN + 3, ["syscall", "qemu_futex_wait", "qemu_event_wait", "call_rcu_thread"]
             + START),
        snap(5, MAIN + 4, ["__futex_abstimed_wait_common", "___pthread_cond_timedwait",
                           "qemu_cond_timedwait_impl", "worker_thread"] + START, name="worker"),
        snap(6, MAIN + 5, COND + ["vnc_worker_thread_loop", "vnc_worker_thread"] + START,
             name="vnc_worker"),
    ])
    assert {num: state for num, (state, _) in got.items()} == dict.fromkeys(range(1, 7), "idle")


def test_cond_wait_away_from_home_is_blocked_with_object_and_function():
    got = states([main_in_pause_all_vcpus()])
    assert got[1] == ("blocked", "QemuCond qemu_pause_cond in pause_all_vcpus")


def test_vcpu_in_run_on_cpu_is_blocked_without_a_symbol():
    got = states([snap(3, MAIN + 2, COND + ["do_run_on_cpu", "kvm_vcpu_thread_fn"] + START,
                       name="CPU 0/KVM")])
    assert got[3] == ("blocked", "QemuCond in do_run_on_cpu")


def test_nested_aio_poll_names_its_callers():
    main = snap(1, MAIN, POLL + ["bdrv_drain_all_begin", "qmp_blockdev_del",
                                 "qmp_marshal_blockdev_del"] + MAIN_START)
    io = snap(2, MAIN + 1, POLL + ["bdrv_do_drained_begin", "bdrv_drained_begin",
                                   "iothread_run"] + START, name="IO iot0")
    got = states([main, io])
    assert got[1] == ("blocked", "nested aio_poll in bdrv_drain_all_begin <- qmp_blockdev_del")
    assert got[2] == ("blocked", "nested aio_poll in bdrv_do_drained_begin <- bdrv_drained_begin")


def test_what_cannot_be_told_stays_idle():
    # A stack read only to its first QEMU frame (the name decided the role): own or nested loop?
    cut = snap(2, MAIN + 1, POLL, name="IO iot0", complete=False)
    # A stripped build: QEMU's own frame has no name.
    stripped = snap(3, MAIN + 2, COND + [None] + START, name="vnc_worker")
    # A role with no home point known.
    gmain = snap(4, MAIN + 3, ["__poll", None, "g_main_context_iteration", "glib_worker_main",
                               "g_thread_proxy", "start_thread", "clone3"], name="gmain")
    got = states([snap(1, MAIN, POLL[:2] + ["main_loop_wait"] + MAIN_START), cut, stripped, gmain])
    assert [got[n][0] for n in (2, 3, 4)] == ["idle", "idle", "idle"]
    verdict = diagnose(analyze([snap(1, MAIN, POLL[:2] + ["main_loop_wait"] + MAIN_START), cut,
                                stripped, gmain], pid=MAIN))
    assert verdict.kind == "not-hung"
    facts = " ".join(verdict.facts)
    assert "threads 2-3 sleep where the frames cannot tell" in facts
    assert "thread 4 sleeps where no home point is known" in facts


def test_verdict_follows_the_bql_to_the_blocked_main_loop():
    snaps = [main_in_pause_all_vcpus(), vcpu_wanting_bql(3, MAIN + 2, MAIN),
             snap(2, MAIN + 1, ["syscall", "qemu_futex_wait", "qemu_event_wait",
                                "call_rcu_thread"] + START)]
    verdict = diagnose(analyze(snaps, pid=MAIN))
    assert verdict.kind == "blocked"
    assert verdict.chain == [3, 1]
    assert verdict.summary == ("vCPU 1 (#3) waits for the BQL held by the main loop (#1); the "
                               "main loop (#1) is blocked: QemuCond qemu_pause_cond in "
                               "pause_all_vcpus.")


def test_verdict_names_a_deadlock_cycle():
    main = snap(1, MAIN, MUTEX + ["take_other", "qmp_query_x"] + MAIN_START,
                wait_args={"qemu_mutex_lock_impl": OTHER}, lock_words=words(MAIN + 2),
                arg_symbols={OTHER: "other_lock"})
    snaps = [main, vcpu_wanting_bql(3, MAIN + 2, MAIN)]
    verdict = diagnose(analyze(snaps, pid=MAIN))
    assert verdict.kind == "deadlock"
    assert sorted(verdict.chain) == [1, 3]
    assert "the main loop (#1) waits for other_lock held by vCPU 1 (#3)" in verdict.summary
    assert "vCPU 1 (#3) waits for the BQL held by the main loop (#1)" in verdict.summary
    assert verdict.summary.endswith("a deadlock.")


def test_verdict_names_the_crashed_thread_first():
    crashed = snap(5, MAIN + 4, ["__pthread_kill_implementation", "raise", "abort",
                                 "__assert_fail", "bdrv_dec_in_flight", "iothread_run"] + START,
                   name="IO iot0", signal="SIGABRT")
    snaps = [snap(1, MAIN, POLL[:2] + ["main_loop_wait"] + MAIN_START), crashed,
             main_in_pause_all_vcpus()]
    snaps[2].num, snaps[2].lwp = 2, MAIN + 1
    verdict = diagnose(analyze(snaps, pid=MAIN))
    assert verdict.kind == "crash"
    assert verdict.chain == [5]
    assert verdict.summary == "iothread iot0 (#5) crashed: SIGABRT in bdrv_dec_in_flight."
    assert any("pause_all_vcpus" in fact for fact in verdict.facts)


def test_real_idle_qemu_dump_is_not_hung_and_says_what_was_not_judged():
    snaps = parse_dump_text((DATA / "qemu72-kvm-named-bt.txt").read_text())[0]
    analysis = analyze(snaps, source="offline")
    verdict = diagnose(analysis)
    assert (verdict.kind, verdict.chain) == ("not-hung", [])
    assert "2 in the guest" in verdict.summary
    assert verdict.facts and "threads 2-3 sleep where the frames cannot tell" in verdict.facts[0]


def test_why_in_text_and_json():
    snaps = [main_in_pause_all_vcpus(), vcpu_wanting_bql(3, MAIN + 2, MAIN)]
    shown = view(analyze(snaps, pid=MAIN))
    opts = SimpleNamespace(json=False, why=True, locks=False, group=False, bt=False, verbose=False)
    text = render(shown, opts, False, 80)
    assert text.startswith("Verdict (blocked): vCPU 1 (#3) waits for the BQL")
    assert "chain, symptom to root: #3 -> #1" in text
    assert "blocked: QemuCond qemu_pause_cond in pause_all_vcpus" in text  # the table follows
    doc = json.loads(render(shown, SimpleNamespace(json=True, why=True), False))
    assert doc["verdict"]["kind"] == "blocked" and doc["verdict"]["chain"] == [3, 1]
    assert "verdict" not in json.loads(render(shown, SimpleNamespace(json=True, why=False), False))


def test_an_ownerless_wait_leads_to_the_thread_it_waits_for():
    main = main_in_pause_all_vcpus()
    stuck = snap(4, MAIN + 3, ["syscall", "qemu_futex_wait", "qemu_event_wait",
                               "memory_region_dispatch_read", "kvm_vcpu_thread_fn"] + START,
                 name="CPU 1/KVM")
    main.facts.waits_on_threads = (MAIN + 3,)
    main.facts.waits_on_note = "pause_all_vcpus waits for the vCPUs that have not stopped"
    verdict = diagnose(analyze([main, stuck], pid=MAIN))
    assert (verdict.kind, verdict.chain) == ("blocked", [1, 4])
    assert verdict.summary == (
        "the main loop (#1) is blocked: QemuCond qemu_pause_cond in pause_all_vcpus, waiting for "
        "vCPU 1 (#4) to stop; vCPU 1 (#4) is blocked: QemuEvent in memory_region_dispatch_read.")
    assert verdict.facts == []  # vCPU 1 is told in the chain, not again


def test_an_ownerless_wait_not_read_says_what_naming_its_culprits_needs():
    verdict = diagnose(analyze([main_in_pause_all_vcpus()], pid=MAIN))
    assert verdict.chain == [1]
    assert verdict.facts == [
        "the main loop (#1): pause_all_vcpus waits for the vCPUs that have not stopped "
        "(CPUState.stopped is false); naming them needs memory (a live process or a core) and "
        "QEMU's debug info for CPUState and the cpus list"]


def test_a_lock_held_by_a_busy_thread_is_a_lock_wait_not_a_hang():
    main = snap(1, MAIN, ["memory_region_transaction_commit", "qmp_device_add"] + MAIN_START)
    verdict = diagnose(analyze([main, vcpu_wanting_bql(3, MAIN + 2, MAIN)], pid=MAIN))
    assert (verdict.kind, verdict.chain) == ("lock-wait", [3, 1])
    assert verdict.summary == ("vCPU 1 (#3) waits for the BQL held by the main loop (#1); the "
                               "main loop (#1) is running: in memory_region_transaction_commit.")


def test_many_waiters_on_a_blocked_holder_make_one_chain_quickly():
    import time
    snaps = [main_in_pause_all_vcpus()]
    snaps += [vcpu_wanting_bql(n, MAIN + n, MAIN) for n in range(2, 514)]
    analysis = analyze(snaps, pid=MAIN)
    started = time.perf_counter()
    verdict = diagnose(analysis)
    assert time.perf_counter() - started < 2.0
    assert verdict.kind == "blocked" and verdict.chain == [2, 1]
    assert verdict.summary.endswith("; threads 3-513 also wait for locks the main loop (#1) holds.")
    assert verdict.facts == [
        "the main loop (#1): pause_all_vcpus waits for the vCPUs that have not stopped "
        "(CPUState.stopped is false); naming them needs memory (a live process or a core) and "
        "QEMU's debug info for CPUState and the cpus list"]


def test_threads_waiting_for_a_lock_the_crashed_thread_held_lead_to_it():
    crashed = snap(1, MAIN, ["__pthread_kill_implementation", "raise", "qio_channel_writev_full",
                             "io_channel_send_full"] + POLL[:2] + ["main_loop_wait"] + MAIN_START,
                   signal="SIGABRT")
    verdict = diagnose(analyze([crashed, vcpu_wanting_bql(3, MAIN + 3, owner=MAIN)], pid=MAIN))
    assert verdict.kind == "crash" and verdict.chain == [3, 1]
    assert verdict.summary.endswith("; thread 3 waits for a lock the main loop (#1) holds.")


def _vcpu_in_guest(num: int, lwp: int, **facts) -> ThreadSnapshot:
    return snap(num, lwp, ["cpu_exec", "tcg_cpu_exec", "mttcg_cpu_thread_fn"] + START,
                name="CPU %d/TCG" % (num - 2), **facts)


def test_a_thread_ready_to_run_all_along_is_busy_even_when_the_host_gave_it_little_cpu():
    main = snap(1, MAIN, POLL[:2] + ["os_host_main_loop_wait", "main_loop_wait"] + MAIN_START)
    starved = _vcpu_in_guest(2, MAIN + 1, cpu_seconds=0.9, cpu_share=0.3, ready_seconds=2.9,
                             ready_share=0.97)
    asleep = _vcpu_in_guest(3, MAIN + 2, cpu_seconds=0.1, cpu_share=0.03, ready_seconds=0.12,
                            ready_share=0.04)
    facts = diagnose(analyze([main, starved, asleep], pid=MAIN)).facts
    busy = [f for f in facts if "of a CPU since it started" in f]
    assert busy == ["vCPU 0 (#2) has used 30% of a CPU since it started (0.9 s of CPU) and was "
                    "ready to run 97% of the time: busy or spinning"], facts


def test_a_busy_thread_on_an_idle_host_is_told_by_its_cpu_share_alone():
    main = snap(1, MAIN, POLL[:2] + ["os_host_main_loop_wait", "main_loop_wait"] + MAIN_START)
    busy = _vcpu_in_guest(2, MAIN + 1, cpu_seconds=2.0, cpu_share=0.95, ready_seconds=2.1,
                          ready_share=0.99)
    facts = diagnose(analyze([main, busy], pid=MAIN)).facts
    assert "vCPU 0 (#2) has used 95% of a CPU since it started (2.0 s of CPU): busy or spinning" \
        in facts, facts
