"""Locks, owners and deadlock cycles from snapshots: pure, no gdb.

The frames are copied from real stacks (Debian 12's glibc with and without libc6-dbg, QEMU
7.2); the lock words are glibc's struct __pthread_mutex_s as a reader finds them in memory.
"""
import json
from types import SimpleNamespace

from gdb_qemu_threads.analyze import locks, waits
from gdb_qemu_threads.analyze.groups import view
from gdb_qemu_threads.analyze.pipeline import analyze
from gdb_qemu_threads.model import Frame, ThreadFacts, ThreadSnapshot
from gdb_qemu_threads.options import flat
from gdb_qemu_threads.render.json_doc import document
from gdb_qemu_threads.render.output import render as render_view

# A vCPU queueing for the BQL, glibc with debug symbols (inlined futex_wait first).
BQL_WAIT = ["futex_wait", "__GI___lll_lock_wait", "lll_mutex_lock_optimized", "___pthread_mutex_lock",
            "qemu_mutex_lock_impl", "qemu_mutex_lock_iothread_impl", "mttcg_cpu_thread_fn",
            "qemu_thread_start", "start_thread", "clone3"]
# A halted TCG vCPU woken up, re-taking the BQL inside pthread_cond_wait (real QEMU 7.2).
BQL_REACQUIRE = ["futex_wait", "__GI___lll_lock_wait", "__pthread_mutex_cond_lock",
                 "__pthread_cond_wait_common", "___pthread_cond_wait", "qemu_cond_wait_impl",
                 "qemu_wait_io_event", None, "qemu_thread_start", "start_thread", "clone3"]
# The same wait without libc6-dbg: glibc's exported names only.
BQL_WAIT_NO_LIBC_DEBUG = ["__lll_lock_wait", "pthread_mutex_lock", "qemu_mutex_lock_impl",
                          "qemu_mutex_lock_iothread_impl", None, "start_thread", "clone3"]
MAIN_IDLE = ["__ppoll", "qemu_poll_ns", "main_loop_wait", "qemu_main_loop", "qemu_default_main",
             "__libc_start_call_main", "__libc_start_main_impl", "_start"]
CALL_RCU = ["syscall", "qemu_event_wait", "call_rcu_thread", "qemu_thread_start", "start_thread", "clone3"]
TAKE = ["futex_wait", "__GI___lll_lock_wait", "___pthread_mutex_lock", "take_in_order",
        "abba_thread", "start_thread", "clone3"]


def frames(names):
    return [Frame(function=n) for n in names]


def words(owner, lock=2, count=0, kind=0, cur_writer=0):
    """The first ints of a pthread_mutex_t (or rwlock) in memory."""
    return (lock, count, owner, 1, kind, 0, cur_writer)


def snap(num, lwp, names, name=None, **facts):
    return ThreadSnapshot(num=num, lwp=lwp, name=name, frames=frames(names), facts=ThreadFacts(**facts))


def classify(snaps, main_lwp=None, held=None):
    return analyze(snaps, pid=main_lwp, held=held).reports


def analysis_of(reports):
    """The analysis the reports came from (reports are analysed with their locks)."""
    snaps = [r.snapshot for r in reports]
    return analyze(snaps, pid=_PIDS.get(id(reports)), held=_HELD.get(id(reports)))


_PIDS: dict = {}
_HELD: dict = {}


def render(reports, opts, colour):
    analysis = analysis_of(reports)
    return render_view(view(analysis, flat(opts.role), flat(opts.state), opts.threads), opts, colour)


def json_document(reports):
    return json.dumps(document(view(analysis_of(reports))))


def test_a_mutex_wait_is_found_with_and_without_glibc_debug_symbols():
    for stack in (BQL_WAIT, BQL_WAIT_NO_LIBC_DEBUG):
        site = waits.wait_site(frames(stack), ThreadFacts(futex=0x1000))
        assert (site.kind, site.type, site.address) == ("mutex", "mutex", 0x1000)
        assert waits.lock_name(site, frames(stack), None) == "BQL"


def test_retaking_the_mutex_inside_a_condition_wait_is_a_mutex_wait():
    site = waits.wait_site(frames(BQL_REACQUIRE), ThreadFacts(futex=0x2000))
    assert site.kind == "mutex"
    # qemu_wait_io_event waits on halt_cond with the BQL: the mutex is the BQL
    assert waits.lock_name(site, frames(BQL_REACQUIRE), None) == "BQL"


def test_debug_info_arguments_win_over_the_futex_word_and_outer_objects_win():
    hints = ThreadFacts(futex=0x3028, wait_args={"pthread_cond_wait": 0x3000, "qemu_cond_wait_impl": 0x3000})
    site = waits.wait_site(frames(["futex_wait", "__pthread_cond_wait_common", "___pthread_cond_wait",
                                   "qemu_cond_wait_impl", "worker_thread"]), hints)
    assert (site.kind, site.type, site.address) == ("event", "QemuCond", 0x3000)
    site = waits.wait_site(frames(CALL_RCU), ThreadFacts(futex=0x4000, wait_args={"qemu_event_wait": 0x4000}))
    assert (site.kind, site.type) == ("event", "QemuEvent")


def test_threads_that_wait_for_no_lock_have_no_site():
    assert waits.wait_site(frames(MAIN_IDLE), ThreadFacts()) is None
    assert waits.wait_site(frames(["ioctl", "kvm_vcpu_ioctl", "kvm_cpu_exec"]), ThreadFacts()) is None
    # a lock function deep under the program's own frames is not where it sleeps
    assert waits.wait_site(frames(["__ppoll", "aio_poll", "qemu_mutex_lock_impl"]), ThreadFacts()) is None


def test_symbols_name_well_known_locks():
    site = waits.wait_site(frames(TAKE), ThreadFacts(futex=1))
    assert waits.lock_name(site, frames(TAKE), "qemu_global_mutex") == "BQL"
    assert waits.lock_name(site, frames(TAKE), "bql") == "BQL"
    assert waits.lock_name(site, frames(TAKE), "lock_b") == "lock_b"
    assert waits.lock_name(site, frames(TAKE), None) is None


def qemu_process(owner_words):
    return [
        snap(1, 100, MAIN_IDLE, "qemu-system-x86"),
        snap(2, 101, CALL_RCU, "qemu-system-x86", futex=0x9000),
        snap(3, 102, BQL_WAIT, "CPU 0/TCG", futex=0x5000, lock_words=owner_words),
        snap(4, 103, BQL_REACQUIRE, "CPU 1/TCG", futex=0x5000, lock_words=owner_words),
    ]


def test_bql_holder_and_waiters_and_the_state_column():
    reports = classify(qemu_process(words(owner=100)), main_lwp=100)
    result = locks.collect(reports)
    assert len(result.locks) == 1
    bql = result.locks[0]
    assert (bql.name, bql.owner_lwp, bql.owner.snapshot.num) == ("BQL", 100, 1)
    assert [w.snapshot.num for w in bql.waiters] == [3, 4]
    assert result.deadlocks == []
    cpu0 = reports[2].verdict
    assert cpu0.state == "lock"
    assert cpu0.activity == "for the BQL held by #1 main-loop; waiting in mttcg_cpu_thread_fn"
    assert cpu0.waits_for == {"kind": "mutex", "type": "mutex", "address": "0x5000", "name": "BQL",
                              "owner_lwp": 100, "owner_num": 1}
    assert reports[1].verdict.waits_for["kind"] == "event"
    assert reports[1].verdict.waits_for["owner_lwp"] is None
    assert reports[0].verdict.waits_for is None


def test_nobody_holds_it_and_owner_exited():
    reports = classify(qemu_process(words(owner=0)), main_lwp=100)
    assert reports[2].verdict.waits_for["problem"] == "nobody holds it"
    assert reports[2].verdict.waits_for["owner_lwp"] is None
    assert "which nobody holds" in reports[2].verdict.activity
    reports = classify(qemu_process(words(owner=4242)), main_lwp=100)
    assert reports[2].verdict.waits_for["problem"] == "owner exited"
    assert reports[2].verdict.waits_for["owner_lwp"] == 4242
    assert "LWP 4242, which has exited" in reports[2].verdict.activity


def test_a_recursive_mutex_says_so_with_its_depth():
    reports = classify([snap(1, 10, ["sem_wait", "holder"], futex=0x100),
                        snap(2, 11, TAKE, futex=0x200,
                             lock_words=words(owner=10, count=2, kind=waits.PTHREAD_MUTEX_RECURSIVE))])
    lock = locks.collect(reports).locks[0]
    assert (lock.type, lock.depth, lock.owner_lwp) == ("recursive mutex", 2, 10)


HELD = {20: {0xA000: "take_in_order (t.c:8)"}}  # where thread 20 holds lock_a


def abba():
    a, b = 0xA000, 0xB000
    return [
        snap(1, 10, MAIN_IDLE),
        snap(2, 20, TAKE, futex=b, lock_words=words(owner=30), wait_symbol="lock_b"),
        snap(3, 30, TAKE, futex=a, lock_words=words(owner=20), wait_symbol="lock_a"),
        snap(4, 40, ["futex_wait", "__GI___lll_lock_wait", "___pthread_mutex_lock", "queue_thread"],
             futex=a, lock_words=words(owner=20), wait_symbol="lock_a"),
        snap(5, 50, TAKE, futex=0xC000, lock_words=words(owner=50), wait_symbol="self_lock"),
    ]


def held_reports():
    reports = classify(abba(), held=HELD)
    _HELD[id(reports)] = HELD
    return reports


def test_cycles_of_the_waits_for_graph():
    result = analyze(abba(), held=HELD).locks
    cycles = sorted(sorted(e["lwp"] for e in c) for c in result.deadlocks)
    assert cycles == [[20, 30], [50]]  # the queued thread 40 waits, but is in no cycle
    two = next(c for c in result.deadlocks if len(c) == 2)
    first = next(e for e in two if e["lwp"] == 20)
    assert first["holds"]["name"] == "lock_a" and first["waits_for"]["name"] == "lock_b"
    assert first["held_at"] == "take_in_order (t.c:8)"
    assert first["waits_at"] == "take_in_order"
    lock_a = next(ln for ln in result.locks if ln.name == "lock_a")
    assert [w.snapshot.lwp for w in lock_a.waiters] == [30, 40]


def test_held_locks_asks_the_owners_only():
    assert waits.owner_addresses(abba()) == {30: [0xB000], 20: [0xA000], 50: [0xC000]}


def test_without_memory_the_owner_is_unknown_and_no_cycle_is_claimed():
    snaps = [snap(1, 10, TAKE, futex=0xA000), snap(2, 20, TAKE, futex=0xB000)]
    reports = classify(snaps)
    result = locks.collect(reports)
    assert result.deadlocks == []
    assert all(r.verdict.waits_for["owner_lwp"] is None for r in reports)
    assert "problem" not in reports[0].verdict.waits_for


def options(**kw):
    base = dict(role=[], state=[], threads=[], json=False, locks=False, group=False, bt=False)
    base.update(kw)
    return SimpleNamespace(**base)


def test_the_document_carries_locks_and_deadlocks_even_when_filtered():
    reports = classify(abba())
    doc = json.loads(render(reports, options(json=True, threads=["1"]), False))
    assert [t["num"] for t in doc["threads"]] == [1]
    assert len(doc["deadlocks"]) == 2
    names = {ln["name"]: ln for ln in doc["locks"]}
    assert names["lock_a"]["owner_lwp"] == 20 and names["lock_a"]["waiters"] == [3, 4]
    idle = json.loads(json_document(classify([snap(1, 10, MAIN_IDLE)])))
    assert idle["locks"] == [] and idle["deadlocks"] == []


def test_the_locks_text():
    text = render(held_reports(), options(locks=True), False)
    assert "DEADLOCK 1: 2 threads wait for each other" in text
    assert "a thread waits for a lock it holds itself" in text
    assert "holds lock_a (0xa000) since take_in_order (t.c:8)" in text
    text = render(process_reports(), options(locks=True), False)
    assert "No deadlock" in text
    bql_row = next(line for line in text.splitlines() if line.startswith("BQL"))
    assert "#1 main-loop" in bql_row and "#3 vcpu, #4 vcpu" in bql_row
    assert "QemuEvent" in text


def process_reports():
    reports = classify(qemu_process(words(owner=100)), main_lwp=100)
    _PIDS[id(reports)] = 100
    return reports


def test_a_mutex_released_a_moment_ago_is_no_problem():
    reports = classify(qemu_process(words(owner=0, lock=0)), main_lwp=100)
    waits = reports[2].verdict.waits_for
    assert waits["owner_lwp"] is None and "problem" not in waits
    assert reports[2].verdict.activity.startswith("for the BQL, released a moment ago")


def test_filters_narrow_the_locks_view_to_the_chosen_threads():
    reports = held_reports()
    text = render(reports, options(locks=True, threads=["5"]), False)
    assert "a thread waits for a lock it holds itself" in text
    assert "lock_a" not in text and "2 threads wait for each other" not in text
    text = render(reports, options(locks=True, threads=["4"]), False)  # queued on lock_a
    assert "lock_a" in text and "self_lock" not in text
    assert "DEADLOCK 1: 2 threads wait for each other" in text  # what it is stuck behind
    text = render(process_reports(), options(locks=True, role=[["call-rcu"]]), False)
    assert "No thread waits for a mutex" in text and "QemuEvent" in text and "BQL" not in text


def test_no_deadlock_is_claimed_when_a_thread_could_not_be_read():
    # non-stop: thread 3 holds m2 but runs (as gdb sees it), so its own wait is unknown
    running = ThreadSnapshot(num=3, lwp=30, name=None, frames=[], complete=False,
                             unreadable="running (non-stop mode): frames cannot be read")
    snaps = [snap(1, 10, MAIN_IDLE), snap(2, 20, TAKE, futex=0xB000, lock_words=words(owner=30)),
             running]
    analysis = analyze(snaps)
    assert analysis.locks.deadlocks == []
    text = render_view(view(analysis), options(locks=True), False)
    assert "No deadlock" not in text
    assert "Cannot tell whether there is a deadlock" in text
    assert "the frames of thread 3 could not be read (running (non-stop mode)" in text


def test_no_deadlock_is_claimed_without_symbols():
    nameless = ThreadSnapshot(num=2, lwp=20, frames=[Frame(pc=0x1234), Frame(pc=0x5678)])
    analysis = analyze([snap(1, 10, MAIN_IDLE), nameless])
    text = render_view(view(analysis), options(locks=True), False)
    assert "No deadlock" not in text
    assert "the stack of thread 2 has no function names (no symbols)" in text
    assert document(view(analysis))["lock_gaps"] == [
        "the stack of thread 2 has no function names (no symbols)"]


def test_no_deadlock_is_said_with_its_premises_when_everything_was_read():
    analysis = analyze(qemu_process(words(owner=100)), pid=100)
    text = render_view(view(analysis), options(locks=True), False)
    assert "No deadlock among the 4 threads read" in text
    assert document(view(analysis))["lock_gaps"] == []


def test_thread_lists_use_gdbs_range_syntax():
    from gdb_qemu_threads.threadlist import number_ranges
    assert number_ranges([5, 6, 7, 9, 132, 8, 1]) == "1 5-9 132"
    assert number_ranges([]) == ""


def test_the_holder_is_marked_in_the_table_and_the_document():
    analysis = analyze(qemu_process(words(owner=100)), pid=100)
    assert analysis.reports[0].verdict.holds == ["BQL"]
    text = render_view(view(analysis), options(verbose=False), False)
    main_row = next(line for line in text.splitlines() if " 100 " in line)
    assert "holds BQL; idle" in main_row
    assert document(view(analysis))["threads"][0]["holds"] == ["BQL"]
