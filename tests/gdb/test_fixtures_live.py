"""`qemu-threads --json` in real gdb on C programs that recreate QEMU's thread layouts.

Each fixture (tests/fixtures/*.c) imitates one QEMU version's threads: the same function
names, static-ness, nesting and thread names, so a debug, an unstripped (`nodebug`) and a
stripped build show the evidence real builds show. Each fixture writes its own truth (one
JSON line per thread: its tid, role, vCPU index, accelerator, iothread id, name and the frames
it sits in); the tests compare the command's JSON with that truth, never with the classifier.

One gdb run per fixture, build variant and naming: it runs the program until every thread
is in place, reads the stacks with a few lines of its own Python (to check the fixture), runs
`qemu-threads --json` twice with a non-default thread and frame selected, and, with naming off,
writes a core file and classifies that too (a core carries no thread names).
"""
from __future__ import annotations

import collections
import json
import os
import subprocess
import time

import pytest

from cbuild import build, make_core
from gdbrun import JSON_BEGIN, JSON_END, json_command, run_gdb

VARIANTS = ("debug", "nodebug", "stripped")
DEBUG_THREADS = ["-name", "guest=fx,debug-threads=on"]

# id: (source, arguments, whether QEMU's debug-threads switch changes anything)
CASES = {
    "qemu72-kvm": ("qemu72.c", ["-accel", "kvm", "-smp", "3"], True),
    "qemu72-tcg": ("qemu72.c", ["-accel", "tcg", "-smp", "2"], True),
    "qemu212": ("qemu_old.c", ["-qemu", "2.12"], True),
    "qemu41": ("qemu_old.c", ["-qemu", "4.1"], True),
    "qemu102-kvm": ("qemu102.c", ["-accel", "kvm"], True),
    "qemu102-rr": ("qemu102.c", ["-accel", "tcg"], True),
    "libraries": ("libthreads.c", [], False),
    "plain": ("plain.c", [], False),
}

# Exported functions that, seen in a stripped build, say what a thread is (QEMU-THREADS.md
# sections 2 and 4). Functions every kind of thread calls (qemu_cond_wait_impl,
# qemu_event_wait, g_main_loop_run, ...) are deliberately absent: under them, a stripped build
# with names off leaves the role open.
DECIDING_FRAMES = {
    "kvm_cpu_exec": "vcpu", "kvm_vcpu_ioctl": "vcpu", "qemu_wait_io_event": "vcpu",
    "qemu_process_cpu_events": "vcpu", "cpu_exec": "vcpu", "tcg_cpu_exec": "vcpu",
    "aio_poll": "iothread", "main_loop_wait": "main-loop", "qemu_main_loop": "main-loop",
    "qemu_default_main": "main-loop", "pa_mainloop_run": "pulseaudio",
}
ACCEL_FRAMES = {"kvm_cpu_exec": "kvm", "kvm_vcpu_ioctl": "kvm", "cpu_exec": "tcg",
                "tcg_cpu_exec": "tcg"}

SELECTION = 'python print("@@selection %d %d" % (gdb.selected_thread().num, gdb.selected_frame().level()))'

# The fixture check reads the stacks itself, so it does not depend on the code under test.
FRAMES_SCRIPT = r'''
import json
import gdb

def _fixture_stacks():
    keep = gdb.selected_thread()
    level = gdb.selected_frame().level()
    out = []
    for thread in sorted(gdb.selected_inferior().threads(), key=lambda t: t.num):
        thread.switch()
        names = []
        try:
            frame = gdb.newest_frame()
            while frame is not None and len(names) < 40:
                names.append(frame.name() or "??")
                frame = frame.older()
        except gdb.error as err:
            names.append("<%s>" % err)
        out.append({"num": thread.num, "lwp": thread.ptid[1], "name": thread.name,
                    "frames": names})
    keep.switch()
    frame = gdb.newest_frame()
    for _ in range(level):
        frame = frame.older()
    frame.select()
    print("@BEGIN@")
    print(json.dumps(out))
    print("@END@")

_fixture_stacks()
'''.replace("@BEGIN@", JSON_BEGIN).replace("@END@", JSON_END)


class Observation:
    """What one gdb run saw: fixture truth, stacks, and the command's documents."""

    def __init__(self, case, variant, names, tmp):
        source, args, _ = CASES[case]
        self.case, self.variant, self.names = case, variant, names
        self.binary = build(source, variant)
        truth_path = tmp / "truth.jsonl"
        script = tmp / "stacks.py"
        script.write_text(FRAMES_SCRIPT)
        core = tmp / "core"
        self.with_core = not names
        commands = ["run", "source %s" % script, "thread 2", "frame 1", SELECTION]
        commands += json_command("qemu-threads --json") + [SELECTION]
        commands += json_command("qemu-threads --json") + [SELECTION]
        if self.with_core:
            commands += ["generate-core-file %s" % core, "kill", "core-file %s" % core,
                         "source %s" % script] + json_command("qemu-threads --json")
        self.run = run_gdb(commands, program=self.binary,
                           args=list(args) + (DEBUG_THREADS if names else []),
                           env={"FIXTURE_TRUTH": str(truth_path)}, timeout=120)
        lines = [json.loads(ln) for ln in truth_path.read_text().splitlines()] \
            if truth_path.exists() else []
        self.ready = [ln for ln in lines if "ready" in ln]
        self.truth = [ln for ln in lines if "tid" in ln]
        self.selections = [tuple(int(x) for x in line.split()[1:])
                           for line in self.run.stdout.splitlines() if line.startswith("@@selection")]
        self.docs = self.run.json_docs()

    def doc(self, index):
        assert len(self.docs) > index, "gdb printed %d JSON documents:\n%s" % (
            len(self.docs), self.run.output[-4000:])
        return self.docs[index]


_observed = {}


def observe(case, variant, names, tmp_path_factory):
    key = (case, variant, names)
    if key not in _observed:
        _observed[key] = Observation(case, variant, names,
                                 tmp_path_factory.mktemp("%s-%s-%s" % (case, variant, names)))
    return _observed[key]


PARAMS = [pytest.param(case, variant, names, id="%s-%s-%s" % (case, variant, "names" if names else "nonames"))
          for case, (_, _, naming) in CASES.items()
          for variant in VARIANTS
          for names in ((False, True) if naming else (False,))]
CORE_PARAMS = [p for p in PARAMS if not p.values[2]]


# --------------------------------------------------------------------------------------------
# The fixtures themselves (independent of qemu-threads)


def expected_frames(stack, variant):
    """The fixture's own frames as this build shows them (see fixture_support.c)."""
    out = []
    for item in stack[1:]:
        name = item.rstrip("*^")
        if item.endswith("^"):
            if variant == "debug":
                out.append(name)
        elif item.endswith("*") and variant == "stripped":
            out.append("??")
        else:
            out.append(name)
    return out


# glibc implements sem_timedwait in __new_sem_wait_slow64
LIBC_NAMES = {"sem_timedwait": "sem_wait"}


def contains(frames, part):
    return any(frames[i:i + len(part)] == part for i in range(len(frames) - len(part) + 1))


@pytest.mark.parametrize("case,variant,names", PARAMS)
def test_fixture_layout(case, variant, names, tmp_path_factory):
    s = observe(case, variant, names, tmp_path_factory)
    assert s.ready and s.ready[-1]["ready"], "the fixture did not get every thread in place: %s\n%s" % (
        s.ready, s.run.output[-3000:])
    stacks = {t["lwp"]: t for t in s.doc(0)}
    assert sorted(stacks) == sorted(t["tid"] for t in s.truth)
    for t in s.truth:
        if not t["stack"]:
            continue
        frames = stacks[t["tid"]]["frames"]
        want = expected_frames(t["stack"], variant)
        assert contains(frames, want), "%s: expected %s in %s" % (t["key"], want, frames)
        blocking = LIBC_NAMES.get(t["stack"][0], t["stack"][0])
        if t["blocks"]:
            first = frames.index(want[0]) if want else len(frames)
            assert any(blocking in f for f in frames[:first]), \
                "%s: not inside %s: %s" % (t["key"], blocking, frames)
        if t["named"] and t["key"] != "main":
            assert stacks[t["tid"]]["name"] == t["name"]
    by_key = {t["key"]: t for t in s.truth}
    if names and "vcpu0" in by_key:
        assert by_key["vcpu0"]["name"].startswith("CPU 0/")
    if not names and CASES[case][2]:
        # without debug-threads, QEMU's threads keep the process name
        assert all(t["name"] == "qemu-system-x86" for t in s.truth if t["key"] != "extra")


# --------------------------------------------------------------------------------------------
# qemu-threads against the truth


def visible(stack, variant):
    """Function names of the fixture's stack that this build can show."""
    return [n for n in expected_frames(stack, variant) if n != "??"]


def problems(doc, s, live):
    """Every way `doc` disagrees with the fixture's truth; empty when it agrees."""
    out = []
    threads = doc.get("threads")
    if not isinstance(threads, list):
        return ["no threads list: %r" % doc]
    by_lwp = {t.get("lwp"): t for t in threads}
    want = {t["tid"]: t for t in s.truth}
    if sorted(by_lwp) != sorted(want):
        out.append("lwps %s, the fixture has %s" % (sorted(by_lwp, key=str), sorted(want)))
    counts = collections.Counter(t.get("role") for t in threads)
    if doc.get("summary") != {role: n for role, n in counts.items()} and \
            {k: v for k, v in (doc.get("summary") or {}).items() if v} != dict(counts):
        out.append("summary %s does not count the roles %s" % (doc.get("summary"), dict(counts)))
    for tid, t in want.items():
        v = by_lwp.get(tid)
        if v is None:
            continue
        where = "%s (lwp %d)" % (t["key"], tid)
        if not isinstance(v.get("num"), int) or v.get("confidence") not in ("high", "low"):
            out.append("%s: bad num/confidence: %r" % (where, v))
        if not isinstance(v.get("frames"), list) or not all(isinstance(f, str) for f in v["frames"]):
            out.append("%s: frames must be a list of names: %r" % (where, v.get("frames")))
        if t["role"] is None:
            continue
        seen = visible(t["stack"], s.variant)
        named = live and t["named"] and t["key"] != "main"
        decided = (t["role"] == "unknown" or named or s.variant != "stripped"
                   or any(DECIDING_FRAMES.get(f) == t["role"] for f in seen))
        role = v.get("role")
        if role != t["role"]:
            if decided:
                out.append("%s: role %r, expected %r (%s)" % (where, role, t["role"], v.get("evidence")))
            elif role != "unknown" and v.get("confidence") != "low":
                out.append("%s: role %r with high confidence where the evidence cannot decide "
                           "(expected %r, or unknown, or low confidence)" % (where, role, t["role"]))
            continue
        if t["state"] and v.get("state") != t["state"]:
            out.append("%s: state %r, expected %r" % (where, v.get("state"), t["state"]))
        if role == "vcpu":
            by_fd = live and t.get("kvm_fd") is True
            if s.variant == "debug" or named or by_fd or t["vcpu"] is None:
                if v.get("vcpu") != t["vcpu"]:
                    out.append("%s: vcpu %r, expected %r" % (where, v.get("vcpu"), t["vcpu"]))
            elif v.get("vcpu") not in (t["vcpu"], None):
                out.append("%s: vcpu %r, expected %r or null" % (where, v.get("vcpu"), t["vcpu"]))
            accel_seen = any(f in ACCEL_FRAMES for f in seen)
            if s.variant == "debug" or named or accel_seen:
                if v.get("accel") != t["accel"]:
                    out.append("%s: accel %r, expected %r" % (where, v.get("accel"), t["accel"]))
            elif v.get("accel") not in (t["accel"], None):
                out.append("%s: accel %r, expected %r or null" % (where, v.get("accel"), t["accel"]))
        elif v.get("vcpu") is not None or v.get("accel") is not None:
            out.append("%s: vcpu/accel set on a %s thread" % (where, role))
        if role == "iothread":
            if named:
                if v.get("iothread") != t["iothread"]:
                    out.append("%s: iothread %r, expected %r" % (where, v.get("iothread"), t["iothread"]))
            elif v.get("iothread") not in (t["iothread"], None):
                out.append("%s: iothread %r, expected %r or null" % (where, v.get("iothread"), t["iothread"]))
        elif v.get("iothread") is not None:
            out.append("%s: iothread id set on a %s thread" % (where, role))
    return out


def stacks_match(doc, stacks):
    """The command's frames are the ones gdb shows (?? where it has no name)."""
    ours = {t["lwp"]: t["frames"] for t in stacks}
    out = []
    for t in doc.get("threads", []):
        mine = ours.get(t.get("lwp"), [])
        theirs = t.get("frames") or []
        n = min(len(mine), len(theirs))
        if n == 0 or theirs[:n] != mine[:n]:
            out.append("lwp %s: frames %s, gdb shows %s" % (t.get("lwp"), theirs[:8], mine[:8]))
    return out


@pytest.mark.parametrize("case,variant,names", PARAMS)
def test_live_roles(case, variant, names, tmp_path_factory):
    s = observe(case, variant, names, tmp_path_factory)
    s.run.check()
    doc = s.doc(1)
    found = problems(doc, s, live=True) + stacks_match(doc, s.doc(0))
    assert not found, "\n".join(found)


@pytest.mark.parametrize("case,variant,names", PARAMS)
def test_selection_kept_and_repeatable(case, variant, names, tmp_path_factory):
    s = observe(case, variant, names, tmp_path_factory)
    s.run.check()
    assert len(s.selections) == 3, s.run.output[-3000:]
    assert s.selections[0] == (2, 1)
    assert s.selections[1] == s.selections[0], "qemu-threads changed the selected thread/frame"
    assert s.selections[2] == s.selections[0]
    assert s.doc(1) == s.doc(2), "a second run gave a different answer"


@pytest.mark.parametrize("case,variant,names", CORE_PARAMS)
def test_core_roles(case, variant, names, tmp_path_factory):
    s = observe(case, variant, names, tmp_path_factory)
    s.run.check()
    doc = s.doc(4)
    found = problems(doc, s, live=False) + stacks_match(doc, s.doc(3))
    assert not found, "\n".join(found)


# --------------------------------------------------------------------------------------------
# Other ways in


def test_core_file_on_the_command_line(tmp_path):
    """`gdb prog core`, as a user opens a crash dump."""
    binary = build("qemu72.c", "stripped")
    truth_path = tmp_path / "truth.jsonl"
    core = make_core(binary, tmp_path / "core", args=("-accel", "kvm"),
                     env={"FIXTURE_TRUTH": str(truth_path)})
    truth = [json.loads(ln) for ln in truth_path.read_text().splitlines()]
    tids = sorted(t["tid"] for t in truth if "tid" in t)
    run = run_gdb(json_command("qemu-threads --json"), program=binary, core=core).check()
    doc = run.json()
    assert sorted(t["lwp"] for t in doc["threads"]) == tids
    roles = {t["lwp"]: t["role"] for t in doc["threads"]}
    for t in truth:
        if t.get("key") in ("main", "vcpu0", "vcpu1", "vcpu2", "iothread-iot0"):
            assert roles[t["tid"]] == t["role"], t


def test_attach_to_running_fixture(tmp_path):
    """`gdb -p PID` on a process that is already running, the usual way to look at QEMU."""
    binary = build("qemu72.c", "stripped")
    truth_path = tmp_path / "truth.jsonl"
    env = dict(os.environ, FIXTURE_TRUTH=str(truth_path), FIXTURE_STOP="none")
    proc = subprocess.Popen([str(binary), "-accel", "kvm"] + DEBUG_THREADS, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        lines = []
        while time.monotonic() < deadline:
            if truth_path.exists():
                lines = [json.loads(ln) for ln in truth_path.read_text().splitlines()]
                if any("ready" in ln for ln in lines):
                    break
            time.sleep(0.05)
        assert any(ln.get("ready") for ln in lines), "fixture not ready: %s" % lines
        run = run_gdb(json_command("qemu-threads --json"), pid=proc.pid, timeout=120).check()
        doc = run.json()
        truth = {ln["tid"]: ln for ln in lines if "tid" in ln}
        got = {t["lwp"]: t for t in doc["threads"]}
        assert sorted(got) == sorted(truth)
        for tid, t in truth.items():
            if t["role"]:
                assert got[tid]["role"] == t["role"], (t, got[tid])
            if t["role"] == "vcpu":
                assert (got[tid]["vcpu"], got[tid]["accel"]) == (t["vcpu"], t["accel"])
            if t["key"] == "iothread-iot0":
                assert got[tid]["iothread"] == "iot0"
    finally:
        proc.kill()
        proc.wait(timeout=30)


# --------------------------------------------------------------------------------------------
# The command without a process, and its help


@pytest.mark.parametrize("command", ["qemu-threads", "qemu-threads --json"])
def test_no_process_is_one_line_error(command):
    run = run_gdb([command, "qemu-threads"]).check()
    errors = [ln for ln in run.output.splitlines() if "qemu-threads" in ln.lower() and ln.strip()]
    assert errors, run.output
    assert "Traceback" not in run.output and "Python Exception" not in run.output
    assert JSON_BEGIN not in run.stdout
    # one line per attempt, nothing else
    noise = [ln for ln in run.stderr.splitlines() if ln.strip()]
    assert len(noise) == 2, run.stderr


def test_help():
    run = run_gdb(["help qemu-threads"]).check()
    assert "--json" in run.stdout
    assert "Undefined command" not in run.output
