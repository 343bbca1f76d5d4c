"""Offline classification of real gdb text from a real QEMU (tests/data/qemu72-*.txt).

The dumps were saved by gdb from Debian's QEMU 7.2 (tests/capture_qemu_dumps.py); the truth
beside each (`*.truth.json`) holds only what QMP and /proc said at that moment.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from gdb_qemu_threads.analyze.pipeline import analyze
from gdb_qemu_threads.dump import parse_dumps

DATA = Path(__file__).resolve().parents[1] / "data"
DUMPS = sorted(p for p in DATA.glob("qemu72-*.txt"))
NAMED_ROLES = {"worker": "worker", "vnc_worker": "vnc-worker", "kvm-nx-lpage-re": "kernel-worker",
               "IO mon_iothread": "iothread"}


def truth_for(dump: Path) -> dict:
    stem = dump.name.rsplit("-", 1)[0]
    return json.loads((DATA / ("%s.truth.json" % stem)).read_text())


def expected(truth: dict) -> dict:
    """lwp -> (role, vcpu, iothread) for the threads QMP or QEMU's thread names identify."""
    comm = {int(k): v for k, v in truth["comm"].items()}
    out = {truth["pid"]: ("main-loop", None, None)}
    rr = truth["accel"] == "tcg-rr"
    for index, tid in truth["vcpus"].items():
        out[tid] = ("vcpu", None if rr else int(index), None)
    for ident, tid in truth["iothreads"].items():
        out[tid] = ("iothread", None, ident)
    named = any(name.startswith("CPU ") or name.startswith("ALL CPUs") for name in comm.values())
    for tid, name in comm.items():
        if tid in out:
            continue
        if name in NAMED_ROLES:
            out[tid] = (NAMED_ROLES[name], None, "mon_iothread" if name == "IO mon_iothread" else None)
        elif named and name == comm[truth["pid"]]:
            out[tid] = ("call-rcu", None, None)  # created before -name is read: keeps the process name
    return out


@pytest.mark.parametrize("dump", DUMPS, ids=[p.stem for p in DUMPS])
def test_offline_matches_truth(dump):
    truth = truth_for(dump)
    with open(dump) as handle:
        dumps = parse_dumps(handle)
    assert len(dumps) == 1
    reports = {r.snapshot.lwp: r for r in analyze(sorted(dumps[0], key=lambda s: s.num)).reports}
    assert sorted(reports) == sorted(int(t) for t in truth["comm"])
    only_top = dump.name.endswith("-info.txt")
    core = dump.name.endswith("-core.txt")
    for lwp, (role, vcpu, iothread) in expected(truth).items():
        v = reports[lwp].verdict
        if core and role == "kernel-worker":
            assert v.role in ("kernel-worker", "unknown")  # no name, no user-space stack
            continue
        assert v.role == role, (dump.name, lwp, truth["comm"][str(lwp)], v)
        if role == "vcpu":
            assert v.vcpu == vcpu and v.accel == truth["accel"].split("-")[0], (dump.name, v)
        if role == "iothread" and not core and truth["comm"][str(lwp)] == "IO %s" % iothread:
            assert v.iothread == iothread
        if only_top:
            assert v.confidence == "low" or reports[lwp].snapshot.name != truth["comm"][str(truth["pid"])]


def test_corpus_has_every_format():
    suffixes = {p.name.rsplit("-", 1)[1] for p in DUMPS}
    assert suffixes == {"bt.txt", "btfull.txt", "core.txt", "info.txt"}
