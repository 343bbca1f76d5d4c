"""Regenerate tests/data/eustack-*: real `eu-stack` text (elfutils) of a real QEMU, and the
truth beside it (from QMP thread ids and /proc names only).

    python tests/capture_eustack_dumps.py
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


def capture(name: str, vm_args: dict, options: list[str]) -> None:
    with QemuVM(**vm_args) as vm:
        vm.wait_for_threads(6)
        if vm_args.get("worker"):
            vm.start_worker()
        truth = truth_of(vm)
        out = subprocess.run(["eu-stack"] + options + ["-p", str(vm.pid)], capture_output=True,
                             text=True, timeout=120)
    (DATA / ("%s-stack.txt" % name)).write_text(out.stdout)
    (DATA / ("%s.truth.json" % name)).write_text(json.dumps(truth, indent=1, sort_keys=True) + "\n")
    print("captured", name)


def main() -> None:
    accel = "kvm" if kvm_usable()[0] else "tcg"
    capture("eustack-%s-unnamed" % accel, dict(accel=accel, smp=2, names=False, iothreads=["iot0"]), [])
    capture("eustack-tcg-modules", dict(accel="tcg", smp=2, names=False, iothreads=["iot0"], worker=True),
            ["-m"])


if __name__ == "__main__":
    main()
