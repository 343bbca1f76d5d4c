"""A real QEMU for the tests: started with a QMP socket, queried for the truth, always killed.

The truth the tests compare with comes from QEMU itself (QMP `query-cpus-fast` and
`query-iothreads` thread ids) and from /proc, never from the code under test.

QEMUS lists the builds to test: the system's and a newer one that scripts/setup.sh qemu-newest
unpacks beside it (installed on first use; a failure to install fails the test).
"""
from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Sequence

KVM_GET_API_VERSION = 0xAE00
PF_USER_WORKER = 0x00004000


def kvm_usable():
    """(usable, reason): /dev/kvm opens and answers KVM_GET_API_VERSION with 12."""
    try:
        fd = os.open("/dev/kvm", os.O_RDWR)
    except OSError as err:
        return False, "/dev/kvm cannot be opened: %s" % err.strerror
    try:
        version = fcntl.ioctl(fd, KVM_GET_API_VERSION)
        return version == 12, "KVM API version %d" % version
    except OSError as err:
        return False, "KVM_GET_API_VERSION failed: %s" % err.strerror
    finally:
        os.close(fd)


def qemu_binary() -> str:
    path = shutil.which("qemu-system-x86_64")
    if not path:
        raise RuntimeError("qemu-system-x86_64 is needed by the tests and is not installed "
                           "(make test installs it)")
    return path


ROOT = Path(__file__).resolve().parents[1]
NEWEST = ROOT / ".qemu-newest" / "qemu-system-x86_64"


def version_of(command: str) -> str:
    """"7.2" from "QEMU emulator version 7.2.22 (Debian ...)"."""
    out = subprocess.run([command, "-version"], capture_output=True, text=True, timeout=60).stdout
    words = out.split()
    if "version" not in words:
        raise RuntimeError("%s -version printed no version: %r" % (command, out[:200]))
    return ".".join(words[words.index("version") + 1].split(".")[:2])


class Qemu:
    """One QEMU build to test: `id` is its major.minor version, for test ids."""

    def __init__(self, id: str, newest: bool) -> None:
        self.id = id
        self.newest = newest

    def __repr__(self) -> str:
        return "Qemu(%s)" % self.id

    def command(self) -> str:
        """What runs it; the newest is installed here when it is missing."""
        if not self.newest:
            return qemu_binary()
        if not NEWEST.exists():
            done = subprocess.run([str(ROOT / "scripts" / "setup.sh"), "qemu-newest"],
                                  capture_output=True, text=True, timeout=900)
            if done.returncode != 0 or not NEWEST.exists():
                raise RuntimeError("scripts/setup.sh qemu-newest failed: %s" % done.stderr[-2000:])
        return str(NEWEST)


def _qemus() -> list[Qemu]:
    system = shutil.which("qemu-system-x86_64")
    return [Qemu(version_of(system) if system else "system", newest=False),
            Qemu(version_of(str(NEWEST)) if NEWEST.exists() else "newest", newest=True)]


QEMUS = _qemus()
SYSTEM_QEMU = QEMUS[0]


class QMP:
    def __init__(self, path: str, timeout: float = 20) -> None:
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buffer = b""
        self.read()  # greeting
        self.command("qmp_capabilities")

    def read(self) -> dict:
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("QMP connection closed")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def command(self, name: str, **arguments) -> object:
        message = {"execute": name}
        if arguments:
            message["arguments"] = arguments
        self.sock.sendall(json.dumps(message).encode() + b"\n")
        while True:
            reply = self.read()
            if "event" in reply:
                continue
            if "error" in reply:
                raise RuntimeError("QMP %s: %s" % (name, reply["error"]))
            return reply["return"]

    def close(self) -> None:
        self.sock.close()


class QemuVM:
    """qemu-system-x86_64 with no disk (the firmware runs), QMP, and the options asked for."""

    def __init__(self, accel: str = "tcg", smp: int = 2, names: bool = True,
                 iothreads: Sequence[str] = (), vnc: bool = False, worker: bool = False,
                 extra: Sequence[str] = (), qemu: Qemu | None = None, memory: int = 128,
                 env: dict | None = None) -> None:
        self.dir = tempfile.mkdtemp(prefix="qemu-vm-")
        self.accel = accel
        self.qemu = qemu or SYSTEM_QEMU
        self.env = env
        accel_arg = {"tcg": "tcg,thread=multi", "tcg-rr": "tcg,thread=single", "kvm": "kvm"}[accel]
        self.argv: list[str] = [self.qemu.command(), "-M", "q35", "-m", str(memory), "-smp", str(smp),
                                "-nodefaults", "-display", "none", "-accel", accel_arg,
                                "-qmp", "unix:%s/qmp.sock,server=on,wait=off" % self.dir]
        if names:
            self.argv += ["-name", "guest=test,debug-threads=on"]
        for ident in iothreads:
            self.argv += ["-object", "iothread,id=%s" % ident]
        if vnc:
            self.argv += ["-vnc", "unix:%s/vnc.sock" % self.dir]
        if worker:
            image = os.path.join(self.dir, "disk.raw")
            with open(image, "wb") as handle:
                handle.truncate(1 << 20)
            self.argv += ["-drive", "if=none,id=drive0,format=raw,aio=threads,file=%s" % image]
        self.argv += list(extra)
        self.proc: subprocess.Popen | None = None
        self.qmp: QMP | None = None

    def __enter__(self) -> QemuVM:
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, start_new_session=True,
                                     env=self.env)
        deadline = time.time() + 30
        path = os.path.join(self.dir, "qmp.sock")
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("QEMU exited: %s" % self.proc.stderr.read().decode(errors="replace"))
            try:
                self.qmp = QMP(path)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.qmp:
            self.qmp.close()
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        if self.proc:
            self.proc.wait()
            self.proc.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def exe(self) -> str:
        """The running binary (what gdb needs beside a core): a wrapper may have exec'd it."""
        return os.readlink("/proc/%d/exe" % self.pid)

    def tids(self) -> list[int]:
        return sorted(int(t) for t in os.listdir("/proc/%d/task" % self.pid))

    def comm(self, tid: int) -> str:
        with open("/proc/%d/task/%d/comm" % (self.pid, tid)) as handle:
            return handle.read().rstrip("\n")

    def roles_by_name(self, names: Sequence[tuple[str, str]]) -> dict[int, str]:
        """lwp -> role, from each thread's name in /proc matched against (regex, role) pairs;
        the main thread is the process id. A thread no pair names fails the test, but the
        RCU thread: it starts before -name is read and may keep the process's name."""
        roles = {}
        for tid in self.tids():
            comm = self.comm(tid)
            if tid == self.pid:
                roles[tid] = "main-loop"
                continue
            found = [role for rx, role in names if re.fullmatch(rx, comm)]
            assert found or comm == self.comm(self.pid), "thread %d %r: no truth for it" % (tid, comm)
            roles[tid] = found[0] if found else "call-rcu"
        return roles

    def vcpu_threads(self) -> dict[int, int]:
        """cpu-index -> thread-id, from QMP."""
        return {cpu["cpu-index"]: cpu["thread-id"] for cpu in self.qmp.command("query-cpus-fast")}

    def iothreads(self) -> dict[str, int]:
        return {io["id"]: io["thread-id"] for io in self.qmp.command("query-iothreads")}

    def hmp(self, line: str) -> str:
        return self.qmp.command("human-monitor-command", **{"command-line": line})

    def start_worker(self) -> int:
        """Read the drive once with aio=threads: a thread-pool worker appears (and idles 10 s).
        (The kernel's KVM worker, which joins the process when a vCPU first runs, may appear
        meanwhile: it is not the one.)"""
        before = set(self.tids())
        self.hmp('qemu-io drive0 "read 0 4k"')
        deadline = time.time() + 10
        while time.time() < deadline:
            new = [t for t in self.tids() if t not in before and not self.kernel_worker(t)]
            if new:
                return new[0]
            time.sleep(0.05)
        raise RuntimeError("no worker thread appeared")

    def kernel_worker(self, tid: int) -> bool:
        """A kernel task in the process (KVM's NX huge page recovery): PF_USER_WORKER in the
        flags of /proc's stat (field 9; include/linux/sched.h)."""
        with open("/proc/%d/task/%d/stat" % (self.pid, tid), "rb") as handle:
            flags = int(handle.read().rsplit(b")", 1)[1].split()[6])
        return bool(flags & PF_USER_WORKER)

    def wait_for_threads(self, count: int, timeout: float = 20) -> None:
        deadline = time.time() + timeout
        while len(self.tids()) < count and time.time() < deadline:
            time.sleep(0.05)
