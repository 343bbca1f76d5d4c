"""Regenerate tests/data/qemu72-*: real gdb text of a real QEMU, and the truth beside it.

    python tests/capture_qemu_dumps.py

Each configuration starts the distribution's QEMU, attaches gdb, saves what people paste in
bug reports (`info threads`, `thread apply all bt`, `thread apply all bt full`, or a core
file's backtraces), and writes `<name>.truth.json` from QMP thread ids and /proc names only.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gdbrun import run_gdb  # noqa: E402
from qemu_vm import QemuVM, kvm_usable  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"


def save(command_sets, path):
    """gdb commands whose output, concatenated, forms the dump."""
    return ["python open(%r, 'w').write(%s)" % (str(path), " + ".join(
        "gdb.execute(%r, to_string=True)" % c for c in command_sets))]


def truth_of(vm):
    return {"pid": vm.pid, "accel": vm.accel,
            "vcpus": {str(k): v for k, v in vm.vcpu_threads().items()},
            "iothreads": vm.iothreads(),
            "comm": {str(t): vm.comm(t) for t in vm.tids()}}


def capture(name, vm_args, formats, core=False):
    with tempfile.TemporaryDirectory() as tmp:
        with QemuVM(**vm_args) as vm:
            vm.wait_for_threads(6)
            if vm_args.get("worker"):
                vm.start_worker()
            truth = truth_of(vm)
            commands = []
            for suffix, cmds in formats.items():
                commands += save(cmds, DATA / ("%s-%s.txt" % (name, suffix)))
            core_path = os.path.join(tmp, "core")
            if core:
                commands.append("generate-core-file %s" % core_path)
            run_gdb(commands, pid=vm.pid, load=False, timeout=300).check()
            binary = vm.argv[0]
        if core:
            run_gdb(save(["info threads", "thread apply all bt"], DATA / ("%s-core.txt" % name)),
                    program=binary, core=core_path, load=False, timeout=300).check()
    (DATA / ("%s.truth.json" % name)).write_text(json.dumps(truth, indent=1, sort_keys=True) + "\n")
    print("captured", name)


def main():
    DATA.mkdir(exist_ok=True)
    both = {"bt": ["info threads", "thread apply all bt"], "btfull": ["thread apply all bt full"],
            "info": ["info threads"]}
    capture("qemu72-tcg-named", dict(accel="tcg", smp=2, names=True, iothreads=["iot0"], vnc=True,
                                     worker=True), both)
    capture("qemu72-tcg-unnamed", dict(accel="tcg", smp=2, names=False, iothreads=["iot0"], vnc=True),
            {"bt": both["bt"]}, core=True)
    capture("qemu72-tcg-rr", dict(accel="tcg-rr", smp=2, names=True), {"bt": both["bt"]})
    if kvm_usable()[0]:
        capture("qemu72-kvm-unnamed", dict(accel="kvm", smp=2, names=False, iothreads=["iot0"]),
                {"bt": both["bt"], "info": both["info"]})
        capture("qemu72-kvm-named", dict(accel="kvm", smp=2, names=True), {"bt": both["bt"]})


if __name__ == "__main__":
    main()
