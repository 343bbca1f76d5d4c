"""The distribution's gdb and the newest gdb read the same core file to the same answers.

gdb's Python API differs between releases (Frame.level, Inferior.architecture,
TargetConnection, events); the extension checks for features, and this test holds the two
gdbs to identical documents on one core file.
"""
from __future__ import annotations

import shutil

import pytest

from cbuild import build, make_core
from gdbrun import ROOT, json_command, run_gdb

NEWEST = ROOT / ".venv-gdb-newest" / "bin" / "gdb"
KEYS = ("num", "lwp", "name", "role", "accel", "vcpu", "iothread", "state", "detail", "evidence",
        "confidence", "frames", "activity")


def gdbs():
    system = shutil.which("gdb")
    missing = [what for what, path in (("gdb", system), (str(NEWEST), NEWEST.exists() and NEWEST))
               if not path]
    if missing:
        pytest.fail("needs %s: `make test` (scripts/setup.sh gdb-newest) installs it" % ", ".join(missing))
    return system, str(NEWEST)


@pytest.mark.parametrize("variant", ["debug", "stripped"])
def test_same_core_same_document(variant, tmp_path):
    system, newest = gdbs()
    binary = build("qemu72.c", variant)
    core = make_core(binary, tmp_path / "core", args=("-accel", "kvm", "-smp", "2"))
    docs = []
    versions = []
    for gdb in (system, newest):
        run = run_gdb(json_command("qemu-threads --json") + ["show version"], program=binary,
                      core=core, gdb=gdb).check()
        docs.append(run.json())
        versions.append(run.stdout.split("GNU gdb", 1)[1].splitlines()[0])
    assert versions[0] != versions[1], versions
    first, second = ([{k: t[k] for k in KEYS} for t in d["threads"]] for d in docs)
    assert first == second
    assert docs[0]["summary"] == docs[1]["summary"]
    assert docs[0]["summary"]["vcpu"] == 2
