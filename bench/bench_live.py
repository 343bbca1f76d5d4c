"""Benchmark: `qemu-threads` against `thread apply all bt` on the same stop, cold caches.

The inferiors: real QEMUs, attached (one thread per vCPU, named as libvirt runs it): -smp 128
under TCG, and small ones, -smp 4 and -smp 16, under TCG and under KVM where /dev/kvm is
usable; and a fixture with 2,000 threads parked in QEMU-like stacks, once with QEMU's thread
names and once unnamed (where every stack is read to its end). For each, one gdb session times
both commands alternately (the frame and register caches flushed before each), keeps the best
of five (of fifteen on the small QEMUs, whose few milliseconds a shared machine blurs), and
reads gdb's own memory growth across the qemu-threads runs. Targets: ratio <= 0.5; <= 0.3 on
the small QEMUs, where a cost paid once per command would show most.

    python bench/bench_live.py [--threads N] [--smp N] [--small-smp N,N] [--skip-qemu]
                               [--baseline DIR] [--rounds N]

With --baseline, every row is measured with an earlier checkout's extension, then with this
one's, one gdb after the other on the same inferior (--rounds times, alternating). On a shared machine two separate
runs differ by more than most changes do; rows measured side by side can be compared.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
import cbuild  # noqa: E402
from gdbrun import PRELUDE, gdb_binary  # noqa: E402
from qemu_vm import kvm_usable  # noqa: E402

# Runs inside gdb: prints one JSON line with the timings.
MEASURE = r'''
import json, os, time, gdb

def rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

REPEAT = int(os.environ.get("BENCH_REPEAT", "5"))

def timed(command):
    gdb.execute("maint flush register-cache", to_string=True)  # cold frame cache
    start = time.perf_counter()
    gdb.execute(command, to_string=True)
    return time.perf_counter() - start

threads = len(gdb.selected_inferior().threads())
bt, qt = [], []
timed("thread apply all bt")  # load the symbols both commands need, once, outside the timing
before = rss_kb()
for _ in range(REPEAT):
    bt.append(timed("thread apply all bt"))
    qt.append(timed("qemu-threads"))
after_bt_and_qt = rss_kb()
for _ in range(3):
    timed("qemu-threads")
after = rss_kb()
extra = {}
if os.environ.get("BENCH_WHY"):  # what the verdict and a few samples add
    extra["why"] = min(timed("qemu-threads --why") for _ in range(REPEAT))
    extra["sample"] = timed("qemu-threads --why --sample 5")
print("@@bench " + json.dumps({"threads": threads, "bt": min(bt), "qt": min(qt), **extra,
                               "rss_before_kb": before, "rss_after_kb": after,
                               "rss_growth_qt_only_kb": after - after_bt_and_qt}))
'''


def run_gdb(args, script_path, root=ROOT):
    """gdb in batch mode with the extension of the checkout at `root` loaded."""
    loader = Path(root) / "gdb_qemu_threads" / "load.py"
    setup = []
    if not (Path(root) / ".deps").exists():  # an extra checkout: this one's pygments, tabulate
        setup = ["python import os, sys; sys.path.insert(0, os.path.join(%r, '.deps', "
                 "'py%%d.%%d' %% sys.version_info[:2]))" % str(ROOT)]
    argv = [gdb_binary(), "-nx", "-batch", "-q"]
    for command in PRELUDE + setup + ["source %s" % loader] + args + ["source %s" % script_path]:
        argv += ["-ex", command]
    return argv


def measure(argv, repeat=5, timeout=900, why=False):
    env = dict(os.environ, BENCH_REPEAT=str(repeat))
    if why:
        env["BENCH_WHY"] = "1"
    out = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, timeout=timeout, env=env)
    for line in out.stdout.splitlines():
        if line.startswith("@@bench "):
            return json.loads(line[len("@@bench "):])
    raise SystemExit("benchmark run failed:\n" + out.stdout[-3000:])


ROUNDS = 1  # --rounds


def report(label, r, target=0.5):
    """One row: both commands' best times and their ratio, then gdb's memory."""
    ratio = r["qt"] / r["bt"]
    print("%-40s %5d threads  thread apply all bt %8.1f ms  qemu-threads %8.1f ms  ratio %.2f "
          "(target <= %.1f)%s" % (label, r["threads"], r["bt"] * 1e3, r["qt"] * 1e3, ratio, target,
                                  "" if ratio <= target else "  MISSED"))
    print("%-40s gdb RSS %d MB; growth over 3 more qemu-threads runs %+.1f MB"
          % ("", r["rss_after_kb"] // 1024, r["rss_growth_qt_only_kb"] / 1024.0))
    if "why" in r:
        print("%-40s qemu-threads --why %.1f ms; --why --sample 5 %.2f s (0.4 s of it the program "
              "running between the stops)" % ("", r["why"] * 1e3, r["sample"]))


def fixture(n, script, named, checkouts):
    binary = cbuild.build("many_threads.c", "nodebug")
    label = "fixture, %d threads, %s" % (n, "named" if named else "unnamed")
    args = [str(binary), str(n)] + (["named"] if named else [])
    side_by_side(label, checkouts,
                 lambda root: run_gdb(["break break_here", "run"], script, root) + ["--args"] + args)


def side_by_side(label, checkouts, argv_for, repeat=5, target=0.5, why=False):
    """A row per checkout. Over several rounds (checkouts alternating within each), the round
    of median ratio is shown, with every round's ratio."""
    results = {name: [] for name, _ in checkouts}
    for _ in range(ROUNDS):
        for name, root in checkouts:
            results[name].append(measure(argv_for(root), repeat, why=why and root == ROOT))
    for name, _ in checkouts:
        ratios = [r["qt"] / r["bt"] for r in results[name]]
        median = sorted(results[name], key=lambda r: r["qt"] / r["bt"])[len(ratios) // 2]
        report(label + name, median, target)
        if len(ratios) > 1:
            print("%-40s ratio of each round: %s" % ("", " ".join("%.2f" % x for x in ratios)))




def qemu(smp, script, workdir, checkouts, accel="tcg", repeat=5, target=0.5, why=False):
    qemu_bin = shutil.which("qemu-system-x86_64")
    if not qemu_bin:
        raise SystemExit("qemu-system-x86_64 is not installed (make install installs it)")
    proc = subprocess.Popen([qemu_bin, "-M", "pc", "-m", "256", "-smp", str(smp), "-nodefaults",
                             "-display", "none",
                             "-accel", "tcg,thread=multi" if accel == "tcg" else accel,
                             "-name", "bench,debug-threads=on",
                             "-qmp", "unix:%s/qmp.sock,server=on,wait=off" % workdir],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 60
        while len(os.listdir("/proc/%d/task" % proc.pid)) < smp + 2 and time.time() < deadline:
            time.sleep(0.2)
        # one gdb after the other, on the same QEMU
        side_by_side("QEMU -smp %d (%s)" % (smp, accel.upper()), checkouts,
                     lambda root: run_gdb([], script, root) + ["-p", str(proc.pid)], repeat, target,
                     why)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2000)
    parser.add_argument("--smp", type=int, default=128)
    parser.add_argument("--small-smp", default="4,16",
                        help="vCPU counts of the small QEMUs (comma-separated; empty for none)")
    parser.add_argument("--skip-qemu", action="store_true")
    parser.add_argument("--baseline", metavar="DIR",
                        help="a checkout of an earlier version (git worktree add DIR COMMIT): each "
                             "row is measured with it, then with this one, one after the other")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure each row this many times (checkouts alternating)")
    args = parser.parse_args()
    global ROUNDS
    ROUNDS = max(1, args.rounds)
    checkouts = [("", ROOT)]
    if args.baseline:
        if not (Path(args.baseline) / "gdb_qemu_threads" / "load.py").is_file():
            raise SystemExit("--baseline %s: no gdb_qemu_threads/load.py there" % args.baseline)
        checkouts = [(" [baseline]", Path(args.baseline).resolve()), (" [this]", ROOT)]
    small = [int(n) for n in args.small_smp.split(",") if n.strip()]
    accels = ["tcg"] + (["kvm"] if kvm_usable()[0] else [])
    with tempfile.TemporaryDirectory() as workdir:
        script = os.path.join(workdir, "measure.py")
        with open(script, "w") as handle:
            handle.write(MEASURE)
        if not args.skip_qemu:
            if "kvm" not in accels and small:
                print("KVM rows skipped: /dev/kvm is not usable here")
            for smp in small:
                for accel in accels:
                    qemu(smp, script, workdir, checkouts, accel, repeat=15, target=0.3)
            qemu(args.smp, script, workdir, checkouts, why=True)
        fixture(args.threads, script, True, checkouts)
        fixture(args.threads, script, False, checkouts)


if __name__ == "__main__":
    main()
