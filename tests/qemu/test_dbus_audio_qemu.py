"""-display dbus with PulseAudio, on each of qemu_vm.QEMUS: the threads GLib, GDBus and
libpulse start inside QEMU get their roles, attached with names and from a core without.

Truth: with -name debug-threads=on, /proc's thread names: QEMU's own (QEMU-THREADS.md §2) and
the libraries' ("threaded-ml": libpulse's pa_threaded_mainloop; "gmain": GLib's worker
context; "gdbus": GDBus's shared thread). That QEMU really is on the bus: the bus lists the
name it takes, org.qemu.
"""
from __future__ import annotations

import os
import subprocess
import time

import pytest

from gdbrun import json_command, run_gdb
from qemu_vm import QEMUS, QemuVM

TRUTH_BY_NAME = [
    (r"threaded-ml", "pulseaudio"),
    (r"gmain", "gmain"),
    (r"gdbus", "gdbus"),
    (r"CPU \d+/TCG", "vcpu"),
    (r"IO mon_iothread", "iothread"),
    (r"call_rcu", "call-rcu"),
]


def truth(vm: QemuVM) -> dict[int, str]:
    return vm.roles_by_name(TRUTH_BY_NAME)


def bus_names(address: str) -> str:
    return subprocess.run(["dbus-send", "--bus=%s" % address, "--print-reply",
                           "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
                           "org.freedesktop.DBus.ListNames"],
                          capture_output=True, text=True, timeout=30).stdout


@pytest.mark.parametrize("qemu", QEMUS, ids=[q.id for q in QEMUS])
def test_dbus_display_and_pulseaudio(qemu, pulse_server, session_bus, tmp_path):
    pulse_env, socket = pulse_server
    displays = subprocess.run([qemu.command(), "-display", "help"], capture_output=True,
                              text=True, timeout=60).stdout.split()
    assert "dbus" in displays, "QEMU %s has no D-Bus display module (qemu-system-gui)" % qemu.id
    env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=session_bus, **pulse_env)
    env.pop("DISPLAY", None)  # the D-Bus display draws nowhere: no X server is involved
    extra = ["-display", "dbus", "-device", "VGA",
             "-audiodev", "pa,id=snd0,server=unix:%s" % socket,
             "-device", "intel-hda", "-device", "hda-duplex,audiodev=snd0"]
    core = tmp_path / "qemu.core"
    with QemuVM(accel="tcg", smp=1, names=True, memory=64, qemu=qemu, env=env, extra=extra) as vm:
        deadline = time.monotonic() + 30
        while not ({"pulseaudio", "gdbus"} <= set(truth(vm).values())
                   and "org.qemu" in bus_names(session_bus)):
            assert time.monotonic() < deadline, (truth(vm), bus_names(session_bus))
            time.sleep(0.1)
        roles = truth(vm)
        run = run_gdb(json_command("qemu-threads --json") + ["generate-core-file %s" % core],
                      pid=vm.pid, timeout=240).check()
        assert truth(vm) == roles, "threads changed while gdb read them"
        exe = vm.exe
    live = {t["lwp"]: t for t in run.json()["threads"]}
    assert sorted(live) == sorted(roles)
    for lwp, role in roles.items():
        assert live[lwp]["role"] == role, (lwp, live[lwp])
    assert {"pulseaudio", "gdbus"} <= set(roles.values())
    run = run_gdb(json_command("qemu-threads --json"), program=exe, core=core, timeout=240).check()
    cored = {t["lwp"]: t for t in run.json()["threads"]}
    assert sorted(cored) == sorted(roles)
    for lwp, role in roles.items():
        assert cored[lwp]["role"] in (role, "unknown"), (lwp, role, cored[lwp])
    # libpulse's exported frames (pa_mainloop_poll), libgio's code and, under GLib's own
    # anonymous frames, g_main_context_iteration decide without names.
    decided = {role for lwp, role in roles.items() if cored[lwp]["role"] == role}
    assert {"pulseaudio", "gdbus", "gmain", "main-loop", "vcpu"} <= decided, \
        [(roles[lwp], t["role"], t["evidence"], t["frames"]) for lwp, t in cored.items()]
