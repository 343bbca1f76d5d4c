"""gdb's habits on a real QEMU: every view fits `set width 80`, completion, one-sentence help."""
from __future__ import annotations

from gdbrun import run_gdb
from qemu_vm import QemuVM

VIEWS = ["qemu-threads", "qemu-threads --group", "qemu-threads --locks", "qemu-threads --why",
         "qemu-threads -v"]


def test_every_view_of_a_real_qemu_fits_80_columns():
    with QemuVM(accel="tcg", smp=4, names=True, iothreads=["iot0"], vnc=True) as vm:
        vm.wait_for_threads(8)
        commands = ["set width 80"]
        for view in VIEWS:
            commands += ["echo @@view\\n", view]
        commands += ["echo @@view\\n", "complete qemu-threads --gr", "detach"]
        run = run_gdb(commands, pid=vm.pid, timeout=180).check()
    shown = run.stdout.split("@@view\n")[1:]
    assert len(shown) == len(VIEWS) + 1
    for view, text in zip(VIEWS, shown):
        lines = [line for line in text.splitlines() if not line.startswith("[Inferior")]
        assert lines and all(len(line) <= 80 for line in lines), (view, lines)
    assert "main-loop" in shown[0] and "vCPU 3 (TCG)" in shown[0]
    assert "vCPUs 0-3 (TCG)" in shown[1] or "vcpu" in shown[1]
    assert shown[-1].split()[:2] == ["qemu-threads", "--group"]
