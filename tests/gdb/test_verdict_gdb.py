"""`qemu-threads --why` under real gdb: tests/fixtures/hang_classes.c recreates one hang class
per run (pause_all_vcpus waiting for a vCPU that never stops, synchronize_rcu waiting for a
reader stuck in its critical section, a nested aio_poll under a QMP handler, an AB/BA between
the BQL and another lock, a vCPU spinning, and all threads at home) and writes its own truth; the verdict must
find the same, live, on a core file and offline, with debug info, without it, and stripped.
With debug info and memory, an ownerless wait names whom it waits for (the vCPU that does not
stop, the RCU reader); otherwise the verdict says what naming them needs."""
from __future__ import annotations

import io
import json
import re

import pytest

from cbuild import build
from gdb_qemu_threads.__main__ import run as offline_run
from gdbrun import json_command, run_gdb

VARIANTS = ("debug", "nodebug", "stripped")
CASES = ("pause", "rcu", "nested", "abba", "spin", "idle")
SOURCES = ("live", "core", "offline")


class Observed:
    def __init__(self, case: str, variant: str, tmp) -> None:
        truth_path = tmp / "truth.jsonl"
        core = tmp / "core"
        commands = ["run"] + json_command("qemu-threads --why --json")
        commands += ["echo @@bt-begin@@\\n", "thread apply all bt", "echo @@bt-end@@\\n"]
        commands += ["generate-core-file %s" % core, "kill", "core-file %s" % core]
        commands += json_command("qemu-threads --why --json") + ["qemu-threads --why"]
        run = run_gdb(commands, program=build("hang_classes.c", variant), args=[case],
                      env={"FIXTURE_TRUTH": str(truth_path)}, timeout=120).check()
        lines = [json.loads(ln) for ln in truth_path.read_text().splitlines()]
        ready = [ln for ln in lines if "ready" in ln]
        assert ready and ready[-1]["ready"], "the fixture did not get ready: %s" % lines[-3:]
        self.verdict = next(ln["verdict"] for ln in lines if "verdict" in ln)
        self.in_flight = next((ln["in_flight"] for ln in lines if "in_flight" in ln), {})
        self.spinning = next((ln["spinning"] for ln in lines if "spinning" in ln), None)
        self.threads = {ln["tid"]: ln for ln in lines if "key" in ln and ln["key"] != "extra"}
        live, from_core = run.json_docs()
        dump = tmp / "bt.txt"
        dump.write_text(run.stdout.split("@@bt-begin@@\n", 1)[1].split("@@bt-end@@", 1)[0])
        out = io.StringIO()
        assert offline_run([str(dump), "--why", "--json"], out) == 0
        self.docs = {"live": live, "core": from_core, "offline": json.loads(out.getvalue())}
        self.text = run.stdout


@pytest.fixture(scope="module")
def observed(tmp_path_factory):
    cache: dict = {}

    def get(case: str, variant: str) -> Observed:
        if (case, variant) not in cache:
            cache[case, variant] = Observed(case, variant,
                                            tmp_path_factory.mktemp("%s-%s" % (case, variant)))
        return cache[case, variant]
    return get


def lwps(doc: dict, nums: list) -> list:
    by_num = {t["num"]: t["lwp"] for t in doc["threads"]}
    return [by_num.get(n) for n in nums]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("source", SOURCES)
def test_blocked_threads_say_on_what_and_where(observed, case, variant, source):
    seen = observed(case, variant)
    doc = seen.docs[source]
    threads = {t["lwp"]: t for t in doc["threads"]}
    blocked = {int(tid): spec for tid, spec in seen.verdict["blocked"].items()}
    for tid, truth in seen.threads.items():
        thread = threads[tid]
        if thread["role"] == "unknown":
            # a stripped core has no names: without a role there is no home point to judge by
            assert variant == "stripped" and thread["state"] in ("idle", truth["state"]), thread
        elif tid in blocked:
            what, where = blocked[tid]
            assert thread["state"] == "blocked", (truth, thread)
            activity = thread["activity"]
            if what.startswith("nested"):
                assert activity == "%s in %s" % (what, where), thread
            else:
                assert any(activity.endswith(" in " + w) for w in where.split("|")), thread
                assert activity.split()[0] == what.split()[0], thread  # QemuCond, QemuEvent
                if variant == "debug" or (variant == "nodebug" and source != "offline"):
                    assert activity.startswith(what + " in "), thread  # the object's name too
        elif truth["state"] == "idle":
            assert thread["state"] == "idle", (truth, thread)  # never blocked at its home point
        else:
            assert thread["state"] == truth["state"], (truth, thread)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("source", SOURCES)
def test_the_verdict_names_the_chain(observed, case, variant, source):
    seen = observed(case, variant)
    doc = seen.docs[source]
    verdict = doc["verdict"]
    truth = seen.verdict
    chain = lwps(doc, verdict["chain"])
    if truth["kind"] == "deadlock" and source == "offline":
        # a saved text has no memory, so no owner: the waits are told, not the cycle
        assert verdict["kind"] == "lock-wait" and chain and set(chain) <= set(truth["cycle"])
        assert any("no known owner" in fact for fact in verdict["facts"]), verdict
        return
    judged = {t["lwp"] for t in doc["threads"] if t["role"] != "unknown"}
    if truth["kind"] == "blocked" and not {int(tid) for tid in truth["blocked"]} & judged:
        # a stripped core: no thread names, and the blocked threads' own functions are static
        assert verdict["kind"] == "not-hung" and "as far as the frames tell" in verdict["summary"]
        unjudged = " ".join(verdict["facts"])
        assert all(re.search(r"\b%s\b" % t["num"], unjudged) for t in doc["threads"]
                   if str(t["lwp"]) in truth["blocked"]), verdict
        return
    assert verdict["kind"] == truth["kind"], verdict
    if truth["kind"] == "deadlock":
        assert sorted(chain) == sorted(truth["cycle"])
        assert verdict["summary"].endswith("a deadlock.")
    elif truth["kind"] == "blocked":
        named = set(chain)
        named |= {t["lwp"] for t in doc["threads"]
                  for text in verdict["facts"] if re.search(r"\(#%s\)" % t["num"], text)}
        assert named == {int(tid) for tid in truth["blocked"]} & judged, verdict
        if case in ("pause", "rcu"):  # ownerless waits: whom they wait for is in memory
            if variant == "debug" and source != "offline":
                assert chain == truth["chain"], verdict  # the waiter, then the thread it waits for
            else:
                assert any("naming them needs" in fact for fact in verdict["facts"]), verdict
        if case == "nested":  # a drain: the nodes with requests in flight are in memory
            facts = " ".join(verdict["facts"])
            if variant == "debug" and source != "offline":
                busy = ", ".join("%s (%d request%s)" % (node, n, "" if n == 1 else "s")
                                 for node, n in seen.in_flight.items())
                assert facts.endswith("in flight (BlockDriverState.in_flight): %s" % busy), verdict
            else:
                assert "bdrv_drain_all_begin waits for the block nodes with requests in flight" \
                    in facts and "naming them needs" in facts, verdict
    else:
        assert chain == [] and verdict["summary"].startswith("Nothing looks hung")
    busy = [fact for fact in verdict["facts"] if "of a CPU since it started" in fact]
    if seen.spinning is not None and source == "live":  # CPU time comes from /proc
        num = next(t["num"] for t in doc["threads"] if t["lwp"] == seen.spinning)
        assert len(busy) == 1 and "(#%d) has used" % num in busy[0], verdict
    else:
        assert busy == [], verdict


@pytest.mark.parametrize("variant", ("debug", "stripped"))
def test_why_prints_the_paragraph_above_the_table(observed, variant):
    seen = observed("pause", variant)
    text = seen.text.rsplit("@@json-end@@", 1)[-1] if "@@json-end@@" in seen.text else seen.text
    verdict = re.search(r"^Verdict \(blocked\): .*$", text, re.M)
    assert verdict, text[-3000:]
    assert "pause_all_vcpus" in text[verdict.start():].split("\n\n", 1)[0]
    table = text[verdict.start():].split("\n\n", 1)[1]
    assert re.search(r"main-loop .* blocked: QemuCond( qemu_pause_cond)? in pause_all_vcpus", table)
