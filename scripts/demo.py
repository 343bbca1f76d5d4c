"""`make demo`: start a small real QEMU, attach gdb, and print `qemu-threads`.

The guest has no disk (the firmware just runs), 2 vCPUs, an iothread, a VNC server on a
unix socket, and QMP; KVM where /dev/kvm is usable, TCG otherwise. Everything it starts is
stopped again, also on Ctrl-C.
"""
from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOADER = os.path.join(ROOT, "gdb_qemu_threads", "load.py")
KVM_GET_API_VERSION = 0xAE00


def kvm_usable() -> bool:
    try:
        fd = os.open("/dev/kvm", os.O_RDWR)
    except OSError:
        return False
    try:
        return fcntl.ioctl(fd, KVM_GET_API_VERSION) == 12
    except OSError:
        return False
    finally:
        os.close(fd)


def wait_for_threads(pid: int, count: int, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if len(os.listdir("/proc/%d/task" % pid)) >= count:
                return
        except FileNotFoundError:
            raise SystemExit("QEMU exited early") from None
        time.sleep(0.1)


def main() -> int:
    qemu = shutil.which("qemu-system-x86_64")
    gdb = os.environ.get("GDB") or shutil.which("gdb")
    if not qemu or not gdb:
        print("demo: needs qemu-system-x86_64 and gdb (make demo installs them)", file=sys.stderr)
        return 1
    accel = "kvm" if kvm_usable() else "tcg,thread=multi"
    workdir = tempfile.mkdtemp(prefix="qemu-threads-demo-")
    argv = [qemu, "-M", "q35", "-m", "128", "-smp", "2", "-nodefaults", "-display", "none",
            "-accel", accel, "-name", "guest=demo,debug-threads=on",
            "-object", "iothread,id=iot0", "-vnc", "unix:%s/vnc.sock" % workdir,
            "-qmp", "unix:%s/qmp.sock,server=on,wait=off" % workdir]
    print("demo: starting %s" % " ".join(os.path.basename(a) if a == qemu else a for a in argv))
    print("demo: accelerator %s%s" % (accel.split(",")[0].upper(),
                                       "" if accel == "kvm" else " (/dev/kvm is not usable here)"))
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for_threads(proc.pid, 6)
        # gdb in batch mode has no width: give it the terminal's, as an interactive gdb has
        width = shutil.get_terminal_size((80, 24)).columns
        commands = ["set pagination off", "set width %d" % width, "set print thread-events off",
                    "handle SIGUSR1 nostop noprint pass", "source %s" % LOADER,
                    "echo \\n(gdb) qemu-threads\\n", "qemu-threads",
                    "echo \\n(gdb) qemu-threads --group\\n", "qemu-threads --group",
                    "echo \\n(gdb) qemu-threads --locks\\n", "qemu-threads --locks", "detach"]
        gdb_argv = [gdb, "-nx", "-batch", "-q", "-p", str(proc.pid)]
        for command in commands:
            gdb_argv += ["-ex", command]
        print("demo: attaching gdb to QEMU (pid %d)" % proc.pid)
        out = subprocess.run(gdb_argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, timeout=120)
        shown = out.stdout.split("\n(gdb) qemu-threads\n", 1)
        print("(gdb) qemu-threads\n" + shown[1] if len(shown) == 2 else out.stdout)
        return 0 if len(shown) == 2 and out.returncode == 0 else 1
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
