"""Regenerate tests/data/migration-*: stacks of a live migration between two local QEMUs, as a
stripped build without thread names shows them: eu-stack text (it prints no names) and gdb's
backtraces of a core file (gdb shows no names there). The truth beside each dump is /proc's
thread names, taken while the threads were named with debug-threads=on.

    python tests/capture_migration_dumps.py
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from capture_qemu_dumps import save  # noqa: E402
from gdbrun import run_gdb  # noqa: E402
from qemu_vm import QemuVM, kvm_usable  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
MB = 1 << 20


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def capture(vm: QemuVM, name: str, tmp: str) -> None:
    """eu-stack and a core's backtraces of `vm` now, and the names of its threads."""
    truth = {"pid": vm.pid, "comm": {str(t): vm.comm(t) for t in vm.tids()}}
    stack = subprocess.run(["eu-stack", "-p", str(vm.pid)], capture_output=True, text=True, timeout=120)
    (DATA / ("%s-stack.txt" % name)).write_text(stack.stdout)
    core = os.path.join(tmp, "%s.core" % name)
    run_gdb(["generate-core-file %s" % core], pid=vm.pid, load=False, timeout=300).check()
    run_gdb(save(["info threads", "thread apply all bt"], DATA / ("%s-core.txt" % name)),
            program=vm.argv[0], core=core, load=False, timeout=300).check()
    os.unlink(core)
    (DATA / ("%s.truth.json" % name)).write_text(json.dumps(truth, indent=1, sort_keys=True) + "\n")
    print("captured", name)


def main() -> None:
    accel = "kvm" if kvm_usable()[0] else "tcg"
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        blob = os.path.join(tmp, "blob")
        with open(blob, "wb") as handle:  # pages that are not zero: they take time to send
            handle.write(os.urandom(64 * MB))
        loader = ["-device", "loader,file=%s,addr=0x1000000,force-raw=on" % blob]
        with QemuVM(accel=accel, smp=2, names=True, extra=loader) as src, \
                QemuVM(accel=accel, smp=2, names=True, extra=["-incoming", "tcp:127.0.0.1:%d" % port]) as dst:
            caps = [{"capability": "postcopy-ram", "state": True}]
            for vm in (src, dst):
                vm.qmp.command("migrate-set-capabilities", capabilities=caps)
            src.qmp.command("migrate-set-parameters", **{"max-bandwidth": 4 * MB,
                                                          "max-postcopy-bandwidth": 4 * MB})
            src.qmp.command("migrate", uri="tcp:127.0.0.1:%d" % port)
            time.sleep(3)
            capture(src, "migration-src-precopy", tmp)
            src.qmp.command("migrate-start-postcopy")
            time.sleep(3)
            capture(dst, "migration-dst-postcopy", tmp)
            capture(src, "migration-src-postcopy", tmp)


if __name__ == "__main__":
    main()
