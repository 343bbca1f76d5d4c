"""qemu-thread-origins on a real QEMU run under gdb: QEMU's own threads and a library's."""
from __future__ import annotations

import os
import shutil

import pytest

from gdbrun import json_command, run_gdb
from origins_gdbserver import gdbserver, remote

QEMU = shutil.which("qemu-system-x86_64")
pytestmark = pytest.mark.skipif(QEMU is None, reason="qemu-system-x86_64 is not installed")
CMD = "qemu-thread-origins"


def qemu_args(tmp, extra=()):
    disk = tmp / "disk.img"
    with open(disk, "wb") as f:
        f.truncate(1 << 20)
    return ["-S", "-display", "none", "-nodefaults", "-machine", "pc", "-accel", "tcg",
            "-smp", "2", "-m", "64", "-name", "debug-threads=on",
            "-object", "iothread,id=io0", "-vnc", "unix:%s" % (tmp / "vnc.sock"),
            # IDE guesses the disk geometry at start-up: one read, done by a pool worker.
            "-drive", "file=%s,format=raw,if=ide" % disk] + list(extra)


def record(tmp, extra=(), env=None, over_gdbserver=False):
    args = qemu_args(tmp, extra)
    where = remote(QEMU) + ["set args %s" % " ".join(args)] if over_gdbserver else []
    run = run_gdb(where + [CMD + " start", "break qemu_main_loop", "run"]
                  + json_command(CMD + " show --json") + ["kill"],
                  program=None if over_gdbserver else QEMU, args=args, env=env,
                  timeout=180).check()
    return run.json()["origins"]


def by_name(entries):
    return {e["name"]: e for e in entries}


@pytest.mark.parametrize("over_gdbserver", [False, True], ids=["native", "gdbserver"])
def test_every_qemu_thread_comes_from_qemu_thread_create(tmp_path, over_gdbserver):
    if over_gdbserver and gdbserver() is None:
        pytest.skip("gdbserver is not installed")
    entries = record(tmp_path, over_gdbserver=over_gdbserver)
    names = by_name(entries)
    # QEMU's threads name themselves when they first run, if -name debug-threads=on was parsed
    # by then: the RCU thread (made by a constructor, before main) and one made just before the
    # stop may still bear the process's name (comm, 15 bytes).
    for entry in entries:
        if entry["name"] == os.path.basename(QEMU)[:15]:
            frames = entry["frames"]
            known = "vnc_worker" if "vnc_start_worker_thread" in frames else "call_rcu"
            assert known == "vnc_worker" or ("call_init" in frames and "main" not in frames), \
                [e["frames"] for e in entries]
            names[known] = entry
    for wanted in ("call_rcu", "IO io0", "CPU 0/TCG", "CPU 1/TCG", "worker", "vnc_worker"):
        assert wanted in names, sorted(names)
    assert "call_init" in names["call_rcu"]["frames"]  # rcu_init, a constructor
    main_pid = entries[0]["pid"]
    for entry in entries:
        assert entry["alive"] is True
        assert entry["frames"][0] == "clone3"
        assert "qemu_thread_create" in entry["frames"], entry
        assert entry["parent_lwp"] == main_pid  # all made by the main thread at start-up
    assert "mttcg_start_vcpu_thread" in names["CPU 0/TCG"]["frames"]
    assert "vnc_start_worker_thread" in names["vnc_worker"]["frames"]
    assert "hd_geometry_guess" in names["worker"]["frames"]
    assert "user_creatable_complete" in names["IO io0"]["frames"]
    assert names["IO io0"]["role"] == "iothread" and names["CPU 1/TCG"]["role"] == "vcpu"


def test_a_library_thread_shows_the_library_frames(tmp_path, pulse_server):
    env, socket = pulse_server
    entries = record(tmp_path, ["-audiodev", "pa,id=snd0,server=unix:%s" % socket,
                                "-device", "intel-hda", "-device", "hda-duplex,audiodev=snd0"],
                     env=env)
    names = by_name(entries)
    assert "threaded-ml" in names, sorted(names)
    pulse = names["threaded-ml"]
    assert "qemu_thread_create" not in pulse["frames"]
    at = pulse["frames"].index("pa_thread_new")
    assert pulse["frames"][at + 1] == "pa_threaded_mainloop_start"
    assert "audio_init_audiodevs" in pulse["frames"]
    assert pulse["role"] == "pulseaudio"
    assert pulse["parent_lwp"] == pulse["pid"]
