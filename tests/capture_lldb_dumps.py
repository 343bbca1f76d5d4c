"""Regenerate tests/data/lldb-linux-*: real LLDB text (`thread list` and `bt all`) of a real
QEMU, and the truth beside it (from QMP thread ids and /proc names only).

    python tests/capture_lldb_dumps.py
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from capture_qemu_dumps import truth_of  # noqa: E402
from qemu_vm import QemuVM, kvm_usable  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"


def capture(name: str, vm_args: dict) -> None:
    with QemuVM(**vm_args) as vm:
        vm.wait_for_threads(6)
        if vm_args.get("worker"):
            vm.start_worker()
        truth = truth_of(vm)
        out = subprocess.run(["lldb", "--batch", "--no-lldbinit", "-p", str(vm.pid),
                              "-o", "thread list", "-o", "bt all", "-o", "detach"],
                             capture_output=True, text=True, timeout=300)
    (DATA / ("%s-session.txt" % name)).write_text(out.stdout)
    (DATA / ("%s.truth.json" % name)).write_text(json.dumps(truth, indent=1, sort_keys=True) + "\n")
    print("captured", name)


def main() -> None:
    accel = "kvm" if kvm_usable()[0] else "tcg"
    capture("lldb-linux-%s-named" % accel, dict(accel=accel, smp=2, names=True, iothreads=["iot0"]))
    capture("lldb-linux-tcg-unnamed", dict(accel="tcg", smp=2, names=False, iothreads=["iot0"], worker=True))


if __name__ == "__main__":
    main()
