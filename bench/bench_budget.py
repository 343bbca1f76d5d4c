"""Where one `qemu-threads` spends its time on a small QEMU, next to `thread apply all bt`.

    python bench/bench_budget.py [--smp N] [--accel tcg|kvm] [--repeat N]

Attaches gdb to a real QEMU (as bench_live.py does) and, on the same stop with the frame and
register caches flushed before each run, times alternately:
  - `thread apply all bt` and `qemu-threads` (the ratio bench_live.py reports);
  - the stages of one `qemu-threads`: option parsing, reading the threads, analysis, rendering;
  - `qemu-threads` with its table joined by hand instead of tabulate (what the table costs);
  - the gdb floor: for each thread only what any per-thread reader must ask gdb (switch to it,
    its name, its newest frame; older frames only for the first thread with a given stack,
    as qemu-threads replays the others), through gdb's Python API and nothing else.
Prints the best and the median of each, and their ratio to `thread apply all bt`.
"""
from __future__ import annotations

import argparse
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
from gdbrun import LOADER, PRELUDE, gdb_binary  # noqa: E402

# Runs inside gdb: prints the table.
MEASURE = r'''
import os, statistics, time, gdb
from gdb_qemu_threads.analyze.groups import view
from gdb_qemu_threads.analyze.pipeline import analyze
from gdb_qemu_threads.commands import session
from gdb_qemu_threads.commands.settings import settings
from gdb_qemu_threads.inferior import recorder
from gdb_qemu_threads.inferior.reader import read_process
from gdb_qemu_threads.options import flat, make_parser
from gdb_qemu_threads.render import text
from gdb_qemu_threads.render.output import render

REPEAT = int(os.environ["BENCH_REPEAT"])
now = time.perf_counter

def flush():
    gdb.execute("maint flush register-cache", to_string=True)  # cold frame cache

def timed(command):
    flush()
    start = now()
    gdb.execute(command, to_string=True)
    return now() - start

def stages(parser, out):
    flush()
    t0 = now()
    opts = parser.parse_args([])
    config = settings()
    table = config.table()
    t1 = now()
    reading = read_process(config.frames(), os_names=session.os_names, named_decides=table.by_name,
                           reuse_stacks=bool(config.reuse_stacks.value), origin_of=recorder.origin_of)
    t2 = now()
    analysis = analyze(reading.snapshots, table, pid=reading.pid, held=reading.held,
                       source=reading.source)
    t3 = now()
    render(view(analysis, flat(opts.role), flat(opts.state), opts.threads), opts, False)
    t4 = now()
    for key, value in (("  parse options, settings", t1 - t0), ("  read threads", t2 - t1),
                       ("  analyze", t3 - t2), ("  render (view + table)", t4 - t3)):
        out.setdefault(key, []).append(value)
    return reading.snapshots

def plain_table(rows, headers=(), **_):
    return "\n".join("  ".join(str(cell) for cell in row) for row in [list(headers)] + list(rows))

def floor(threads, depth):
    start = now()
    current = gdb.selected_thread()
    for thread in threads:
        thread.switch()
        thread.name
        frame = gdb.newest_frame()
        frame.name()
        for _ in range(depth[thread.num] - 1):
            frame = frame.older()
            if frame is None:
                break
            frame.name()
    current.switch()
    return now() - start

parser = make_parser()
threads = sorted(gdb.selected_inferior().threads(), key=lambda t: t.num)
timed("thread apply all bt")  # load the symbols both commands need, once, outside the timing
snapshots = stages(parser, {})
seen, depth = set(), {}
for snap in snapshots:  # a stack seen before is replayed, not unwound
    stack = tuple((f.function, f.pc) for f in snap.frames)
    depth[snap.num] = 1 if stack in seen else max(1, len(snap.frames))
    seen.add(stack)
runs = {}
def add(key, value):
    runs.setdefault(key, []).append(value)
for _ in range(REPEAT):
    add("thread apply all bt", timed("thread apply all bt"))
    add("qemu-threads", timed("qemu-threads"))
    stages(parser, runs)
    text.tabulate, real_tabulate = plain_table, text.tabulate
    try:
        add("qemu-threads, table without tabulate", timed("qemu-threads"))
    finally:
        text.tabulate = real_tabulate
    flush()
    add("gdb floor (switch, name, frames read)", floor(threads, depth))
bt_best, bt_median = min(runs["thread apply all bt"]), statistics.median(runs["thread apply all bt"])
print("@@bench %d threads; frames unwound per thread: %s" % (len(threads), [depth[t.num] for t in threads]))
for key, values in runs.items():
    print("@@bench %-40s best %7.2f ms (ratio %.2f)   median %7.2f ms (ratio %.2f)"
          % (key, min(values) * 1e3, min(values) / bt_best,
             statistics.median(values) * 1e3, statistics.median(values) / bt_median))
'''


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smp", type=int, default=4)
    parser.add_argument("--accel", choices=("tcg", "kvm"), default="tcg")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    qemu_bin = shutil.which("qemu-system-x86_64")
    if not qemu_bin:
        raise SystemExit("qemu-system-x86_64 is not installed (make install installs it)")
    with tempfile.TemporaryDirectory() as workdir:
        script = os.path.join(workdir, "measure.py")
        with open(script, "w") as handle:
            handle.write(MEASURE)
        proc = subprocess.Popen([qemu_bin, "-M", "pc", "-m", "256", "-smp", str(args.smp),
                                 "-nodefaults", "-display", "none", "-accel",
                                 "tcg,thread=multi" if args.accel == "tcg" else "kvm",
                                 "-name", "bench,debug-threads=on",  # a QMP monitor, as bench_live:
                                 "-qmp", "unix:%s/qmp.sock,server=on,wait=off" % workdir],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            deadline = time.time() + 60
            while len(os.listdir("/proc/%d/task" % proc.pid)) < args.smp + 2 and time.time() < deadline:
                time.sleep(0.2)
            argv = [gdb_binary(), "-nx", "-batch", "-q"]
            for command in PRELUDE + ["source %s" % LOADER, "source %s" % script]:
                argv += ["-ex", command]
            out = subprocess.run(argv + ["-p", str(proc.pid)], stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 text=True, timeout=600,
                                 env=dict(os.environ, BENCH_REPEAT=str(args.repeat)))
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    lines = [line[len("@@bench "):] for line in out.stdout.splitlines()
             if line.startswith("@@bench ")]
    if not lines:
        raise SystemExit("benchmark run failed:\n" + out.stdout[-3000:])
    print("QEMU -smp %d (%s), attached, best and median of %d:" % (args.smp, args.accel.upper(), args.repeat))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
