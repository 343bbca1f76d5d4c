"""Locks under real gdb: tests/fixtures/deadlocks.c stops with every case in place and writes
its own truth (owner LWPs, lock addresses, cycles); qemu-threads must find the same, live and
on a core file, with debug info, without it, and stripped."""
import io
import json

import pytest

from cbuild import build
from gdb_qemu_threads.__main__ import run as offline_run
from gdbrun import json_command, run_gdb

VARIANTS = ("debug", "nodebug", "stripped")


class Observed:
    def __init__(self, variant, tmp):
        truth_path = tmp / "truth.jsonl"
        core = tmp / "core"
        binary = build("deadlocks.c", variant)
        commands = ["run"] + json_command("qemu-threads --json") + ["qemu-threads --locks"]
        commands += ["echo @@bt-begin@@\\n", "thread apply all bt", "echo @@bt-end@@\\n"]
        commands += ["generate-core-file %s" % core, "kill", "core-file %s" % core]
        commands += json_command("qemu-threads --json") + ["qemu-threads --locks"]
        self.run = run_gdb(commands, program=binary, env={"FIXTURE_TRUTH": str(truth_path)},
                           timeout=120).check()
        lines = [json.loads(ln) for ln in truth_path.read_text().splitlines()]
        ready = [ln for ln in lines if "ready" in ln]
        assert ready and ready[-1]["ready"], "the fixture did not get ready: %s" % lines[-3:]
        self.truth = [ln["lock"] for ln in lines if "lock" in ln]
        self.roles = {ln["tid"]: ln for ln in lines if "tid" in ln and "key" in ln}
        self.docs = self.run.json_docs()
        assert len(self.docs) == 2, self.run.output[-4000:]
        self.variant = variant
        self.bt = self.run.stdout.split("@@bt-begin@@\n", 1)[1].split("@@bt-end@@", 1)[0]


@pytest.fixture(scope="module")
def observed(tmp_path_factory):
    cache = {}

    def get(variant):
        if variant not in cache:
            cache[variant] = Observed(variant, tmp_path_factory.mktemp("locks-" + variant))
        return cache[variant]
    return get


def by_lwp(doc):
    return {t["lwp"]: t for t in doc["threads"]}


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("source", ("live", "core"))
def test_every_waiting_thread_names_its_lock_and_owner(observed, variant, source):
    seen = observed(variant)
    doc = seen.docs[0 if source == "live" else 1]
    threads = by_lwp(doc)
    for truth in seen.truth:
        thread = threads[truth["tid"]]
        waits = thread["waits_for"]
        assert waits is not None, (truth, thread)
        assert waits["kind"] == truth["kind"], (truth, waits)
        address = int(truth["address"], 16)
        if truth["kind"] == "mutex":
            assert int(waits["address"], 16) == address, (truth, waits)
            assert thread["state"] == "lock"
            if truth["problem"] == "owner exited":
                assert waits["owner_lwp"] == truth["owner"] and waits["problem"] == "owner exited"
            elif truth["problem"] == "nobody holds it":
                assert waits["owner_lwp"] is None and waits["problem"] == "nobody holds it"
            else:
                assert waits["owner_lwp"] == truth["owner"], (truth, waits)
                assert waits["owner_num"] == threads[truth["owner"]]["num"]
                assert "problem" not in waits
            if truth["name"] == "BQL" or variant != "stripped":
                # stripped: static variables lose their names, the BQL is named by its frames
                assert waits["name"] == truth["name"], (truth, waits)
        else:
            # the object's own address, not the futex word inside it that registers tell
            assert int(waits["address"], 16) == address, (truth, waits)
            assert waits["owner_lwp"] is None
    waiting = {t["tid"] for t in seen.truth}
    for lwp, thread in threads.items():
        if lwp not in waiting and thread["waits_for"] is not None:
            pytest.fail("thread %s waits for nothing, yet: %s" % (lwp, thread["waits_for"]))


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("source", ("live", "core"))
def test_the_cycles_are_exactly_the_deadlocks(observed, variant, source):
    seen = observed(variant)
    doc = seen.docs[0 if source == "live" else 1]
    expected = sorted({tuple(sorted(t["cycle"])) for t in seen.truth if t["cycle"]})
    found = sorted(tuple(sorted(e["lwp"] for e in cycle)) for cycle in doc["deadlocks"])
    assert found == expected
    for cycle in doc["deadlocks"]:
        for entry in cycle:
            truth = next(t for t in seen.truth if t["tid"] == entry["lwp"])
            assert int(entry["waits_for"]["address"], 16) == int(truth["address"], 16)
            assert entry["holds"]["owner_lwp"] == entry["lwp"]
            if truth["held_at"] and variant == "debug":
                assert entry["held_at"].startswith(truth["held_at"] + " ("), entry
            elif variant != "debug":
                assert entry["held_at"] is None  # only debug info tells which frame took it


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_bql_holder_and_its_queue(observed, variant):
    seen = observed(variant)
    doc = seen.docs[0]
    bql = [ln for ln in doc["locks"] if ln["name"] == "BQL"]
    assert len(bql) == 1, doc["locks"]
    main = next(t for t in doc["threads"] if t["role"] == "main-loop")
    assert bql[0]["owner_lwp"] == main["lwp"] and bql[0]["owner_num"] == main["num"]
    queued = sorted(t["tid"] for t in seen.truth if t["name"] == "BQL")
    assert sorted(by_lwp(doc)[n]["lwp"] for n in queued) == queued
    assert sorted(next(t["lwp"] for t in doc["threads"] if t["num"] == n) for n in bql[0]["waiters"]) == queued
    for lwp in queued:
        thread = by_lwp(doc)[lwp]
        assert thread["role"] == "vcpu"
        assert "for the BQL held by #%d main-loop" % main["num"] in thread["activity"], thread
    # the main loop itself waits on a condition: an event, with no owner
    assert main["waits_for"]["kind"] == "event"


@pytest.mark.parametrize("variant", ("debug", "stripped"))
def test_the_locks_text_names_holders_cycles_and_problems(observed, variant):
    seen = observed(variant)
    text = seen.run.stdout.split("@@json-end@@")[1]
    assert "Threads waiting for a lock:" in text
    assert "DEADLOCK 1: 2 threads wait for each other" in text
    assert "DEADLOCK 2: a thread waits for a lock it holds itself" in text
    assert "nobody (a lost wake-up, or an unlock that never came)" in text
    exited = next(t for t in seen.truth if t["problem"] == "owner exited")
    assert "LWP %d, which has exited without unlocking it" % exited["owner"] in text
    assert "recursive mutex" in text and "taken 2 times" in text
    assert "Threads waiting for an event" in text


@pytest.mark.parametrize("variant", ("debug", "stripped"))
def test_a_saved_backtrace_groups_the_waiters_by_lock(observed, variant, tmp_path):
    """Offline there is no memory: no owners, but the arguments gdb printed give each lock's
    address (and, with symbols, its name), so waiters of one lock are grouped."""
    seen = observed(variant)
    dump = tmp_path / "bt.txt"
    dump.write_text(seen.bt)

    def run_offline(option):
        out = io.StringIO()
        assert offline_run([str(dump), option], out) == 0
        return out.getvalue()
    doc = json.loads(run_offline("--json"))
    threads = by_lwp(doc)
    live = by_lwp(seen.docs[0])
    for truth in seen.truth:
        offline = threads[truth["tid"]]["waits_for"]
        assert offline is not None and offline["kind"] == truth["kind"], (truth, offline)
        assert offline["owner_lwp"] is None  # memory is not in a text dump
        if truth["kind"] == "mutex" or variant == "debug":  # an event's address is an argument
            assert offline["address"] == live[truth["tid"]]["waits_for"]["address"]
        if truth["kind"] == "mutex" and (truth["name"] == "BQL" or variant == "debug"):
            assert offline["name"] == truth["name"], (truth, offline)
    assert doc["deadlocks"] == []  # cycles need owners
    text = run_offline("--locks")
    assert "locks have no known owner" in text
    assert "No deadlock" not in text  # it cannot know
    bql = next(ln for ln in doc["locks"] if ln["name"] == "BQL")
    assert sorted(bql["waiters"]) == sorted(live[t["tid"]]["num"] for t in seen.truth if t["name"] == "BQL")
