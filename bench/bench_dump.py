"""Benchmark: the offline command line end to end on large generated dumps.

Writes two dumps of about --mb megabytes each to temporary files: a QEMU-like one (an `info
threads` table, then `thread apply all bt` with `bt full` locals for some threads; most frames
repeat) and one whose frames are all distinct. Runs `python -m gdb_qemu_threads FILE` and
`... FILE --json` on each, output to /dev/null, and prints for every run the time, the
throughput and the child's peak RSS (from wait4) as a ratio of the input size.
Targets: >= 50 MB/s, peak RSS <= 3x the input.

    python bench/bench_dump.py [--mb N] [--keep]
"""
from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
TARGET_MBPS = 50.0
TARGET_RSS_RATIO = 3.0

LIBC = "/lib/x86_64-linux-gnu/libc.so.6"
GLIB = "/lib/x86_64-linux-gnu/libglib-2.0.so.0"
QEMU = "/usr/bin/qemu-system-x86_64"
TCG = "/usr/lib/x86_64-linux-gnu/qemu/accel-tcg-x86_64.so"
START = [("start_thread", "arg=<optimized out>", "./nptl/pthread_create.c:442"),
         ("clone3", "", "../sysdeps/unix/sysv/linux/x86_64/clone3.S:81")]
THREAD_START = [("qemu_thread_start", "args=0x{p}", "../util/qemu-thread-posix.c:541")] + START

# (thread name, top frame for `info threads`, frames innermost first: (function, args, where)).
# "where" is "file:line", "@lib" for "from lib", or "" for none.
KINDS = [
    ("qemu-system-x86", [
        ("__ppoll", "fds=0x{p}, nfds=8, timeout=<optimized out>, timeout@entry=0x7ffd{h}, sigmask=sigmask@entry=0x0",
         "../sysdeps/unix/sysv/linux/ppoll.c:42"),
        ("ppoll", "__ss=0x0, __timeout=0x7ffd{h}, __nfds=<optimized out>, __fds=<optimized out>",
         "/usr/include/x86_64-linux-gnu/bits/poll2.h:64"),
        ("qemu_poll_ns", "fds=<optimized out>, nfds=<optimized out>, timeout=timeout@entry=999000000",
         "../util/qemu-timer.c:351"),
        ("os_host_main_loop_wait", "timeout=999000000", "../util/main-loop.c:308"),
        ("main_loop_wait", "nonblocking=nonblocking@entry=0", "../util/main-loop.c:592"),
        ("qemu_main_loop", "", "../softmmu/runstate.c:731"),
        ("qemu_default_main", "", "../softmmu/main.c:37"),
        ("__libc_start_call_main", "main=main@entry=0x{p}, argc=argc@entry=18, argv=argv@entry=0x7ffd{h}",
         "../sysdeps/nptl/libc_start_call_main.h:58"),
        ("__libc_start_main_impl", "main=0x{p}, argc=18, argv=0x7ffd{h}, init=<optimized out>, fini=<optimized out>, "
         "rtld_fini=<optimized out>, stack_end=0x7ffd{h}", "../csu/libc-start.c:360"),
        ("_start", "", "")]),
    ("CPU {n}/KVM", [
        ("__GI___ioctl", "fd=fd@entry={n}, request=request@entry=44672", "../sysdeps/unix/sysv/linux/ioctl.c:36"),
        ("kvm_vcpu_ioctl", "cpu=cpu@entry=0x{p}, type=type@entry=44672", "../accel/kvm/kvm-all.c:3035"),
        ("kvm_cpu_exec", "cpu=cpu@entry=0x{p}", "../accel/kvm/kvm-all.c:2850"),
        ("kvm_vcpu_thread_fn", "arg=arg@entry=0x{p}", "../accel/kvm/kvm-accel-ops.c:51")] + THREAD_START),
    ("worker", [
        ("__futex_abstimed_wait_common64", "private=0, cancel=true, abstime=0x7f{h}, op=137, expected=0, "
         "futex_word=0x{p}", "./nptl/futex-internal.c:57"),
        ("__futex_abstimed_wait_common", "futex_word=futex_word@entry=0x{p}, expected=expected@entry=0, "
         "clockid=clockid@entry=0, abstime=abstime@entry=0x7f{h}, private=private@entry=0, cancel=cancel@entry=true",
         "./nptl/futex-internal.c:87"),
        ("__pthread_cond_wait_common", "abstime=0x7f{h}, clockid=0, mutex=0x{p}, cond=0x{p}",
         "./nptl/pthread_cond_wait.c:503"),
        ("___pthread_cond_timedwait64", "cond=cond@entry=0x{p}, mutex=mutex@entry=0x{p}, abstime=abstime@entry=0x7f{h}",
         "./nptl/pthread_cond_wait.c:643"),
        ("qemu_sem_timedwait", "sem=sem@entry=0x{p}, ms=ms@entry=10000", "../util/qemu-thread-posix.c:314"),
        ("worker_thread", "opaque=opaque@entry=0x{p}", "../util/thread-pool.c:91")] + THREAD_START),
    ("IO iothread{n}", [
        ("__ppoll", "fds=0x{p}, nfds=3, timeout=<optimized out>, sigmask=0x0", "../sysdeps/unix/sysv/linux/ppoll.c:42"),
        ("qemu_poll_ns", "fds=<optimized out>, nfds=<optimized out>, timeout=<optimized out>", "../util/qemu-timer.c:351"),
        ("fdmon_poll_wait", "ctx=0x{p}, ready_list=0x7f{h}, timeout=-1", "../util/fdmon-poll.c:79"),
        ("aio_poll", "ctx=0x{p}, blocking=blocking@entry=true", "../util/aio-posix.c:670"),
        ("iothread_run", "opaque=opaque@entry=0x{p}", "../iothread.c:63")] + THREAD_START),
    ("qemu-system-x86", [
        ("syscall", "", "../sysdeps/unix/sysv/linux/x86_64/syscall.S:38"),
        ("qemu_futex_wait", "val=<optimized out>, f=<optimized out>", "./include/qemu/futex.h:29"),
        ("qemu_event_wait", "ev=ev@entry=0x{p} <rcu_call_ready_event>", "../util/qemu-thread-posix.c:464"),
        ("call_rcu_thread", "opaque=opaque@entry=0x0", "../util/rcu.c:278")] + THREAD_START),
    ("gmain", [
        ("__GI___poll", "fds=0x{p}, nfds=1, timeout=-1", "../sysdeps/unix/sysv/linux/poll.c:29"),
        ("??", "", "@" + GLIB),
        ("g_main_context_iteration", "", "@" + GLIB),
        ("??", "", "@" + GLIB),
        ("??", "", "@" + GLIB)] + START),
    ("CPU {n}/TCG", [
        ("??", "", ""), ("??", "", ""),
        ("cpu_tb_exec", "cpu=cpu@entry=0x{p}, itb=<optimized out>, tb_exit=tb_exit@entry=0x7f{h}", "@" + TCG),
        ("cpu_loop_exec_tb", "", "@" + TCG),
        ("cpu_exec_loop", "", "@" + TCG),
        ("cpu_exec", "", "@" + TCG),
        ("tcg_cpus_exec", "", "@" + TCG),
        ("mttcg_cpu_thread_fn", "", "@" + TCG)] + THREAD_START),
]
WEIGHTS = [1, 30, 40, 10, 1, 2, 16]
LOCALS = ["        ret = <optimized out>", "        pd = 0x7f{h}", "        __res = {n}",
          "        unwind_buf = {{cancel_jmp_buf = {{{{jmp_buf = {{140704247948992, -128, 0}}, "
          "mask_was_saved = 0}}}}, priv = {{pad = {{0x0, 0x0}}}}}}", "No locals."]


def frame_text(kind: tuple[str, str, str], index: int, rng: random.Random,
               site_pcs: dict[tuple[str, str, int], int]) -> str:
    name, args, where = kind
    pc = site_pcs.get((name, where, index))
    if pc is None:
        pc = site_pcs[(name, where, index)] = rng.randrange(0x7f0000000000, 0x7fffffffffff)
    if name == "??" and not where:
        pc = rng.randrange(0x7fff00000000, 0x7fff7fffffff)  # translated code: always new pcs
    args = args.format(p="%012x" % rng.getrandbits(44), h="%08x" % rng.getrandbits(32), n=rng.randrange(64))
    out = "0x%016x in %s (%s)" % (pc, name, args)
    if where.startswith("@"):
        out += " from " + where[1:]
    elif where:
        out += " at " + where
    return out


def generate(path: str, megabytes: float, seed: int = 1) -> int:
    rng = random.Random(seed)
    site_pcs: dict[tuple[str, str, int], int] = {}
    target = megabytes * 1000 * 1000
    threads: list[tuple[tuple[str, list], int, int]] = []
    size_guess = 0
    while size_guess < target:
        kind = rng.choices(KINDS, WEIGHTS)[0]
        threads.append((kind, rng.randrange(64), 0x7f0000000000 + rng.getrandbits(24) * 0x1000))
        size_guess += 1290 * len(kind[1]) // 10 + 260  # about what a thread writes
    lwp0 = rng.randrange(10000, 3000000)
    with open(path, "w") as out:
        out.write("(gdb) info threads\n  Id   Target Id                                   Frame \n")
        for num, (kind, n, handle) in enumerate(threads, 1):
            name = kind[0].format(n=n)
            out.write("%s %-5d Thread 0x%x (LWP %d) %-18s %s\n" % (
                "*" if num == 1 else " ", num, handle, lwp0 + num, '"%s"' % name,
                frame_text(kind[1][0], 0, rng, site_pcs)))
        out.write("(gdb) thread apply all bt full\n")
        for num in range(len(threads), 0, -1):
            kind, n, handle = threads[num - 1]
            out.write('\nThread %d (Thread 0x%x (LWP %d) "%s"):\n' % (num, handle, lwp0 + num, kind[0].format(n=n)))
            full = rng.random() < 0.2
            for level, frame in enumerate(kind[1]):
                out.write("#%-2d %s\n" % (level, frame_text(frame, level, rng, site_pcs)))
                if full:
                    for _ in range(rng.randrange(3)):
                        out.write(rng.choice(LOCALS).format(h="%08x" % rng.getrandbits(32), n=rng.randrange(99)) + "\n")
        out.write("(gdb) \n")
    return len(threads)


def generate_distinct(path: str, megabytes: float, seed: int = 2) -> int:
    """A dump in which no two frames are alike: every function, file, line and pc is new."""
    rng = random.Random(seed)
    target = megabytes * 1000 * 1000
    written = 0
    serial = 0
    num = 0
    with open(path, "w") as out:
        out.write("(gdb) thread apply all bt\n")
        while written < target:
            num += 1
            lines = ['\nThread %d (Thread 0x7f%010x (LWP %d) "worker"):' % (num, rng.getrandbits(36), 100000 + num)]
            for level in range(rng.randrange(8, 24)):
                serial += 1
                lines.append("#%-2d 0x%016x in fn_%d_%x (opaque=0x%012x, n=%d) at ../src/file_%d.c:%d"
                             % (level, 0x550000000000 + serial * 16, serial, rng.getrandbits(24),
                                rng.getrandbits(44), serial, serial, serial % 100000))
            block = "\n".join(lines) + "\n"
            out.write(block)
            written += len(block)
        out.write("(gdb) \n")
    return num


class Result(NamedTuple):
    wall: float      # seconds
    cpu: float       # user + system seconds of the child (steadier on a busy machine)
    rss: int         # the child's peak RSS in bytes
    status: int


def run_once(tree: Path, path: str, extra: list[str]) -> Result:
    """One offline run of the package in `tree`, output to /dev/null."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    with open(os.devnull, "w") as sink, tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "gdb_qemu_threads", path] + extra,
                                 cwd=str(tree), env=env, stdout=sink, stderr=errors)
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        child.returncode = code
        if code:
            errors.seek(0)
            sys.stderr.write("exit %d: %s\n" % (code, errors.read().decode(errors="replace").strip()[-500:]))
    return Result(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, code)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=100, help="size of each dump in MB (default 100)")
    parser.add_argument("--keep", action="store_true", help="keep the generated files and print their names")
    parser.add_argument("--compare", metavar="DIR", type=Path,
                        help="another checkout of the project: run it on the same files and print the ratios")
    opts = parser.parse_args(argv)
    paths: dict[str, str] = {}
    failed = False
    trees = [("this", ROOT)] + ([("other", opts.compare.resolve())] if opts.compare else [])
    try:
        for kind, make in (("qemu-like", generate), ("all-distinct", generate_distinct)):
            fd, paths[kind] = tempfile.mkstemp(prefix="dump-bench-%s-" % kind, suffix=".txt")
            os.close(fd)
            threads = make(paths[kind], opts.mb)
            print("%s: %.1f MB, %d threads" % (kind, os.path.getsize(paths[kind]) / 1e6, threads))
        print("%-6s %-13s %-6s %8s %8s %8s %10s %9s" % (
            "tree", "dump", "output", "seconds", "cpu s", "MB/s", "peak RSS", "RSS/input"))
        for kind, path in paths.items():
            size = os.path.getsize(path)
            for label, extra in (("table", []), ("json", ["--json"])):
                results = {}
                for name, tree in trees:
                    got = results[name] = run_once(tree, path, extra)
                    failed = failed or got.status != 0
                    print("%-6s %-13s %-6s %8.2f %8.2f %8.1f %7.0f MB %8.2fx" % (
                        name, kind, label, got.wall, got.cpu, size / 1e6 / got.wall, got.rss / 1e6, got.rss / size))
                if opts.compare:
                    this, other = results["this"], results["other"]
                    print("%-6s %-13s %-6s %8s %8s speedup %.2fx (cpu %.2fx), memory %.2fx" % (
                        "ratio", kind, label, "", "", other.wall / this.wall, other.cpu / this.cpu,
                        this.rss / other.rss))
        print("targets: >= %.0f MB/s, peak RSS <= %.0fx the input" % (TARGET_MBPS, TARGET_RSS_RATIO))
        if opts.keep:
            for path in paths.values():
                print("kept: %s" % path)
    finally:
        if not opts.keep:
            for path in paths.values():
                os.unlink(path)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
