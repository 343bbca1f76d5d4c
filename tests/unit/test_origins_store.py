"""The thread-creation records: pairing, life and death (creation/store.py), selection
(creation/select.py) and what `show` and `status` print (render/origins_text.py). No gdb."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gdb_qemu_threads.creation.select import OriginRow, SelectionError, caller_frames, select, short_chain
from gdb_qemu_threads.creation.store import (
    CLONE_PARENT_SETTID,
    CLONE_SETTLS,
    CLONE_THREAD,
    CLONE_VM,
    OriginStore,
)
from gdb_qemu_threads.model import Frame, ThreadReport, ThreadSnapshot, Verdict
from gdb_qemu_threads.render.origins_text import (
    format_backtraces,
    format_table,
    json_document,
    nothing_recorded,
    status_line,
    status_text,
)

# What glibc's pthread_create passes, and what posix_spawn passes.
THREAD_FLAGS = 0x3D0F00
SPAWN_FLAGS = CLONE_VM | 0x4000  # CLONE_VM | CLONE_VFORK
assert THREAD_FLAGS & CLONE_THREAD and THREAD_FLAGS & CLONE_SETTLS and THREAD_FLAGS & CLONE_PARENT_SETTID

INF, PID = 1, 1000


def frames(*names):
    return [Frame(n) for n in names]


def pthread_frames(caller):
    return frames("clone3", "__GI___clone_internal", "create_thread", "__pthread_create_2_1",
                   caller, "main")


class Memory:
    """The inferior's memory as far as the tid fields go: address -> 32-bit value."""

    def __init__(self):
        self.cells = {}
        self.reads = 0

    def read(self, address):
        self.reads += 1
        return self.cells.get(address, 0)


def clone(store, parent, caller, pd, flags=THREAD_FLAGS, via="clone3", pid=PID, inf=INF):
    """A glibc pthread_create: tls = pd (the pthread_t), parent_tid = &pd->tid."""
    return store.note_clone(inf, pid, parent, None, pthread_frames(caller), flags, pd, pd + 0x2D0, via)


def test_one_creation_pairs_with_its_thread():
    store, mem = OriginStore(), Memory()
    assert clone(store, PID, "spawn_alpha", 0x7000) == "thread"
    mem.cells[0x7000 + 0x2D0] = 1001
    record = store.pair_by_tid(INF, PID, 1001, 2, mem.read)
    assert record is not None and record.lwp == 1001 and record.parent_lwp == PID
    assert record.num == 2 and record.paired_by == "tid"
    assert "spawn_alpha" in record.frame_names
    assert store.lookup(PID, 1001) is record
    assert not store.has_pending(INF, PID)


def test_concurrent_creations_pair_by_the_tid_the_kernel_wrote_not_by_order():
    store, mem = OriginStore(), Memory()
    clone(store, 1001, "creator_a", 0xA000)
    clone(store, 1002, "creator_b", 0xB000)
    clone(store, 1003, "creator_c", 0xC000)
    # The kernel finished b's clone first, then c's, then a's.
    mem.cells[0xB000 + 0x2D0] = 2001
    rb = store.pair_by_tid(INF, PID, 2001, None, mem.read)
    mem.cells[0xC000 + 0x2D0] = 2002
    rc = store.pair_by_tid(INF, PID, 2002, None, mem.read)
    mem.cells[0xA000 + 0x2D0] = 2003
    ra = store.pair_by_tid(INF, PID, 2003, None, mem.read)
    assert (rb.parent_lwp, rc.parent_lwp, ra.parent_lwp) == (1002, 1003, 1001)
    assert "creator_b" in rb.frame_names and "creator_c" in rc.frame_names
    assert "creator_a" in ra.frame_names


def test_thread_nobody_announced_is_not_paired():
    store, mem = OriginStore(), Memory()
    clone(store, PID, "spawn_alpha", 0x7000)
    mem.cells[0x7000 + 0x2D0] = 0  # not yet written: the new LWP is someone else's
    assert store.pair_by_tid(INF, PID, 4242, None, mem.read) is None
    assert store.has_pending(INF, PID)
    assert store.lookup(PID, 4242) is None


def test_pthread_t_used_again_after_join_pairs_with_the_new_thread():
    store, mem = OriginStore(), Memory()
    clone(store, PID, "first_maker", 0x7000)
    mem.cells[0x72D0] = 1001
    first = store.pair_by_tid(INF, PID, 1001, 2, mem.read)
    mem.cells[0x72D0] = 0  # CLONE_CHILD_CLEARTID when it exits; then it is joined
    store.thread_gone(INF, PID, 1001)
    clone(store, PID, "second_maker", 0x7000)
    mem.cells[0x72D0] = 1002
    second = store.pair_by_tid(INF, PID, 1002, 2, mem.read)
    assert "first_maker" in first.frame_names and "second_maker" in second.frame_names
    assert not first.alive and second.alive
    assert [r.lwp for r in store.records_of(INF, PID)] == [1001, 1002]


def test_clone3_falling_back_to_clone_makes_one_record():
    store, mem = OriginStore(), Memory()
    clone(store, PID, "spawn", 0x7000, via="clone3")
    # glibc calls clone when clone3 fails with ENOSYS: same pthread_t, same tid address
    store.note_clone(INF, PID, PID, None, frames("clone", "__GI___clone_internal", "spawn"),
                     THREAD_FLAGS & 0xFFFFFFFF, 0x7000, 0x72D0, "clone")
    mem.cells[0x72D0] = 1001
    record = store.pair_by_tid(INF, PID, 1001, None, mem.read)
    assert record.via == "clone"
    assert store.counts()["pending"] == 0 and store.counts()["threads"] == 1


def test_process_creations_are_counted_and_never_paired():
    store, mem = OriginStore(), Memory()
    assert store.note_clone(INF, PID, PID, None, frames("clone3", "__spawni", "system", "main"),
                            SPAWN_FLAGS, 0, 0x9000, "clone3") == "process"
    mem.cells[0x9000] = 1005  # even if the address held the child's id
    assert store.pair_by_tid(INF, PID, 1005, None, mem.read) is None
    assert store.counts() == {"threads": 0, "alive": 0, "pending": 0, "processes": 1, "unpaired": 0}


def test_creation_without_tls_or_tid_address_is_ignored():
    store = OriginStore()
    assert store.note_clone(INF, PID, PID, None, frames("clone"), CLONE_THREAD | CLONE_VM,
                            0x7000, 0x72D0, "clone") == "ignored"
    assert store.counts()["pending"] == 0


def test_handle_pairing_for_creations_without_parent_tid():
    store = OriginStore()
    flags = CLONE_VM | CLONE_THREAD | CLONE_SETTLS
    store.note_clone(INF, PID, PID, None, frames("clone", "raw_maker"), flags, 0x7000, 0x72D0, "clone")
    assert store.waits_for_handle(INF, PID)
    assert store.pair_by_tid(INF, PID, 1001, None, lambda a: 1001) is None  # no address to read
    assert store.pair_by_handle(INF, PID, 1001, 3, 0x6000) is None
    record = store.pair_by_handle(INF, PID, 1001, 3, 0x7000)
    assert record.paired_by == "handle" and record.handle == 0x7000
    assert store.pair_by_handle(INF, PID, 1002, 4, 0x7000) is None  # consumed


def test_processes_and_inferiors_are_kept_apart():
    store, mem = OriginStore(), Memory()
    clone(store, 10, "in_inferior_1", 0x7000, pid=10, inf=1)
    clone(store, 20, "in_inferior_2", 0x7000, pid=20, inf=2)
    mem.cells[0x72D0] = 21
    assert store.pair_by_tid(1, 10, 21, None, mem.read) is not None
    assert store.has_pending(2, 20)
    record = store.pair_by_tid(2, 20, 21, None, mem.read)
    assert "in_inferior_2" in record.frame_names
    assert store.lookup(10, 21).inferior == 1 and store.lookup(20, 21).inferior == 2


def test_refresh_and_process_end():
    store, mem = OriginStore(), Memory()
    for i, pd in enumerate((0x7000, 0x8000, 0x9000)):
        clone(store, PID, "maker", pd)
        mem.cells[pd + 0x2D0] = 1001 + i
        store.pair_by_tid(INF, PID, 1001 + i, None, mem.read)
    store.refresh(INF, PID, {PID: (1, "main"), 1001: (2, "worker"), 1003: (4, None)})
    alive = {r.lwp: (r.alive, r.num, r.name) for r in store.records_of(INF, PID)}
    assert alive == {1001: (True, 2, "worker"), 1002: (False, None, None), 1003: (True, 4, None)}
    clone(store, PID, "maker", 0xA000)
    store.process_ended(INF)
    assert not any(r.alive for r in store.all_records())
    assert store.counts()["pending"] == 0
    assert store.latest_pid(INF) == PID and store.latest_pid(2) is None


def test_lwp_used_again_marks_the_older_record_gone():
    store, mem = OriginStore(), Memory()
    clone(store, PID, "old", 0x7000)
    mem.cells[0x72D0] = 1001
    old = store.pair_by_tid(INF, PID, 1001, 2, mem.read)
    clone(store, PID, "new", 0x8000)
    mem.cells[0x82D0] = 1001
    new = store.pair_by_tid(INF, PID, 1001, 5, mem.read)
    assert not old.alive and new.alive and store.lookup(PID, 1001) is new


def test_clear_forgets_everything():
    store, mem = OriginStore(), Memory()
    clone(store, PID, "maker", 0x7000)
    mem.cells[0x72D0] = 1001
    store.pair_by_tid(INF, PID, 1001, 2, mem.read)
    store.clear()
    assert store.all_records() == [] and store.lookup(PID, 1001) is None
    assert store.counts()["threads"] == 0


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=40), st.integers(min_value=1, max_value=6),
       st.randoms(use_true_random=False))
def test_any_interleaving_pairs_every_thread_exactly(total, creators, rnd):
    """Creators clone concurrently; the kernel finishes and gdb reports in any order; the
    stacks (pthread_t values) of finished threads are used again."""
    store, mem = OriginStore(), Memory()
    free_pds = [0x10000 * (i + 1) for i in range(6)]
    in_flight = []  # (pd, creator) cloned but not yet reported
    truth = {}
    next_lwp = 5000
    made = 0
    while (made < total and free_pds) or in_flight:
        if made < total and free_pds and (not in_flight or rnd.random() < 0.5):
            pd = free_pds.pop(rnd.randrange(len(free_pds)))
            creator = rnd.randrange(creators)
            clone(store, 100 + creator, "creator_%d" % creator, pd)
            in_flight.append((pd, creator))
            made += 1
        else:
            pd, creator = in_flight.pop(rnd.randrange(len(in_flight)))
            lwp = next_lwp
            next_lwp += 1
            mem.cells[pd + 0x2D0] = lwp
            record = store.pair_by_tid(INF, PID, lwp, None, mem.read)
            assert record is not None
            truth[lwp] = creator
            if rnd.random() < 0.7:  # exits and is joined: its pthread_t may come back
                mem.cells[pd + 0x2D0] = 0
                store.thread_gone(INF, PID, lwp)
                free_pds.append(pd)
    records = store.records_of(INF, PID)
    assert sorted(r.lwp for r in records) == sorted(truth)
    for record in records:
        assert record.parent_lwp == 100 + truth[record.lwp]
        assert "creator_%d" % truth[record.lwp] in record.frame_names
    assert store.counts()["pending"] == 0


def _two_records():
    store, mem = OriginStore(), Memory()
    clone(store, PID, "spawn_alpha", 0x7000)
    mem.cells[0x72D0] = 1001
    store.pair_by_tid(INF, PID, 1001, 2, mem.read)
    clone(store, 1001, "spawn_nested", 0x8000)
    mem.cells[0x82D0] = 1002
    store.pair_by_tid(INF, PID, 1002, 3, mem.read)
    store.refresh(INF, PID, {PID: (1, "prog"), 1001: (2, "alpha")})
    return store.records_of(INF, PID)


def test_select_by_number_lwp_and_lwp_prefix():
    records = _two_records()
    assert [r.lwp for r in select(records, [])] == [1001, 1002]
    assert [r.lwp for r in select(records, ["2"])] == [1001]          # gdb thread 2
    assert [r.lwp for r in select(records, ["1002"])] == [1002]       # not a live number: an LWP
    assert [r.lwp for r in select(records, ["lwp:1001", "2"])] == [1001]
    with pytest.raises(SelectionError):
        select(records, ["7"])
    with pytest.raises(SelectionError):
        select(records, ["alpha"])


def test_caller_frames_skip_the_thread_library():
    f = pthread_frames("qemu_thread_create")
    assert [x.name for x in caller_frames(f)] == ["qemu_thread_create", "main"]
    assert short_chain(frames("clone3", "create_thread", "pthread_create", "pa_thread_new",
                              "pa_threaded_mainloop_start", "qpa_audio_init", "audio_init",
                              "main"), depth=3) == \
        "pa_thread_new <- pa_threaded_mainloop_start <- qpa_audio_init <- ..."
    assert caller_frames(frames("clone3", "??")) == frames("clone3", "??")


def report(lwp, role, confidence="high"):
    return ThreadReport(ThreadSnapshot(num=None, lwp=lwp), Verdict(role=role, confidence=confidence))


def test_json_document_follows_the_contract():
    records = _two_records()
    doc = json.loads(json_document([OriginRow(records[0], report(1001, "vcpu"), 1),
                                    OriginRow(records[1])]))
    first, second = doc["origins"]
    assert set(doc) == {"origins", "pid", "version", "schema"} and doc["schema"] == 1
    assert first["lwp"] == 1001 and first["num"] == 2 and first["alive"] is True
    assert first["name"] == "alpha" and first["parent_lwp"] == PID and first["role"] == "vcpu"
    assert first["confidence"] == "high" and second["role"] is None
    assert first["frames"][0] == "clone3" and "spawn_alpha" in first["frames"]
    assert second["alive"] is False and second["num"] is None and second["parent_lwp"] == 1001


def test_table_speaks_as_qemu_threads_and_says_who_and_where():
    records = _two_records()
    table = format_table([OriginRow(records[0], report(1001, "call-rcu", "low"), 1, current=True),
                          OriginRow(records[1])])
    lines = table.splitlines()
    assert lines[0].split() == ["#", "LWP", "name", "role", "alive", "creator", "created", "by"]
    assert lines[1].startswith("*")
    assert "alpha" in lines[1] and "LWP 1000 (thread 1)" in lines[1]
    assert lines[1].split()[4] == "call-rcu?"  # low confidence, marked as qemu-threads marks it
    assert "spawn_alpha <- main" in lines[1]
    assert "gone" in lines[2] and "LWP 1001" in lines[2] and "spawn_nested" in lines[2]
    assert lines[0].index("creator") == lines[1].index("LWP 1000") == lines[2].index("LWP 1001")
    sure = format_table([OriginRow(records[0], report(1001, "vcpu"), 1)]).splitlines()[1]
    assert " vcpu " in sure and "vcpu?" not in sure
    bt = format_backtraces([OriginRow(records[1])])
    assert "[gone]" in bt and "#0  clone3" in bt and "#4  spawn_nested" in bt
    assert "role call-rcu?" in format_backtraces([OriginRow(records[0], report(1001, "call-rcu", "low"))])


def test_status_line():
    store = OriginStore()
    assert status_line(False, store.counts()) == "not recording; 0 threads recorded (0 alive)."
    store.note_clone(INF, PID, PID, None, [], SPAWN_FLAGS, None, None, "clone3")
    assert "1 process creation" in status_line(True, store.counts())
    assert status_line(True, store.counts()).startswith("recording thread creation")
    text = status_text(True, store.counts(), ["clone: waiting for libc to be loaded"], 2, "boom")
    assert text.splitlines()[1:] == ["Note: clone: waiting for libc to be loaded.",
                                     "2 errors while recording; last: boom"]


def test_an_empty_show_says_what_was_seen():
    assert nothing_recorded(False, False, 0).startswith("No thread creation recorded. Record with")
    assert "for this process" in nothing_recorded(True, False, 0)
    assert nothing_recorded(False, True, 0) == "No thread created since recording started."
    # started first, but gdb never reported the threads (a remote stub that hid them)
    assert nothing_recorded(False, True, 2).startswith(
        "No thread paired yet: 2 creations seen whose thread gdb has not reported")
