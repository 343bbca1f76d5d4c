"""Services some real-QEMU tests need, each started for one test and always stopped: a
PulseAudio server and a private D-Bus session bus (scripts/setup.sh test installs both)."""
from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest


def _command(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail("%s is not installed: scripts/setup.sh test installs it" % name)
    return path


@pytest.fixture
def pulse_server(tmp_path):
    """(environment for a PulseAudio client, the server's socket)."""
    home = tmp_path / "pulse"
    home.mkdir()
    socket = home / "native"
    env = dict(os.environ, HOME=str(home), XDG_RUNTIME_DIR=str(home), XDG_CONFIG_HOME=str(home))
    # root may run a per-user daemon too (it warns); no D-Bus, no autospawn, no idle exit.
    proc = subprocess.Popen([_command("pulseaudio"), "--daemonize=no", "--exit-idle-time=-1", "-n",
                             "--use-pid-file=no", "--load=module-native-protocol-unix "
                             "socket=%s auth-anonymous=1" % socket, "--load=module-null-sink"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while not socket.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("pulseaudio did not start: %s" % proc.stderr.read()[-500:])
            time.sleep(0.1)
        yield {"PULSE_SERVER": "unix:%s" % socket, "HOME": str(home),
               "XDG_RUNTIME_DIR": str(home)}, socket
    finally:
        proc.kill()
        proc.wait()
        proc.stderr.close()


@pytest.fixture
def session_bus(tmp_path):
    """The address of a D-Bus session bus of the test's own, not the user's."""
    proc = subprocess.Popen([_command("dbus-daemon"), "--session", "--nofork", "--nopidfile",
                             "--print-address=1", "--address=unix:path=%s" % (tmp_path / "bus")],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        address = proc.stdout.readline().strip()
        if not address:
            pytest.fail("dbus-daemon printed no address")
        yield address
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
