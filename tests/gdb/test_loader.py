"""The loader: `source <checkout>/gdb_qemu_threads/load.py`, and `import gdb_qemu_threads.load`
after a pip install, in a gdb started with -nx in batch mode."""
from __future__ import annotations

import shutil
import subprocess
import sys

from gdbrun import LOADER, ROOT, run_gdb


def test_sourcing_twice_is_harmless():
    run = run_gdb(["source %s" % LOADER, "help qemu-threads", "help qemu-thread-origins",
                   "show qemu-threads max-frames"]).check()
    assert "Usage: qemu-threads" in run.stdout
    assert "qemu-thread-origins" in run.stdout
    assert run.stderr.strip() == ""


def _gdb_python(run_gdb_output: str) -> str:
    return run_gdb_output.split("@@python ")[1].split()[0]


def test_missing_dependencies_give_one_line(tmp_path):
    # A checkout without .deps, in a gdb whose Python cannot see pygments or tabulate.
    probe = run_gdb(["python import sys; print('@@python', sys.executable)",
                     "python import importlib.util as u; print('@@found', bool(u.find_spec('tabulate')))"],
                    load=False).check()
    checkout = tmp_path / "checkout"
    shutil.copytree(ROOT / "gdb_qemu_threads", checkout / "gdb_qemu_threads",
                    ignore=shutil.ignore_patterns("__pycache__"))
    # Hide the system's site-packages from gdb's Python, where a distribution may ship them.
    hide = "python import sys; sys.path[:] = [p for p in sys.path if 'packages' not in p]"
    run = run_gdb([hide, "source %s" % (checkout / "gdb_qemu_threads" / "load.py"), "qemu-threads"],
                  load=False).check()
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert lines[0].startswith("gdb-qemu-threads: tabulate and pygments not importable by gdb's Python")
    assert "make install" in lines[0] and str(checkout) in lines[0]
    assert lines[1] == 'Undefined command: "qemu-threads".  Try "help".'
    assert "Traceback" not in run.output
    assert "@@found" in probe.stdout  # the probe itself ran


def test_pip_install_then_python_import(tmp_path):
    target = tmp_path / "site"
    deps = ROOT / ".deps"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                    "--target", str(target), str(ROOT)], check=True, stdout=subprocess.DEVNULL)
    version_dirs = [p for p in deps.iterdir() if p.name.startswith("py")] if deps.exists() else []
    add = ["python import sys; sys.path.insert(0, %r)" % str(target)]
    add += ["python import sys; sys.path.insert(0, %r)" % str(d) for d in version_dirs]
    run = run_gdb(add + ["python import gdb_qemu_threads.load", "python import gdb_qemu_threads.load",
                         "help qemu-threads"], load=False).check()
    assert "Usage: qemu-threads" in run.stdout
    assert "gdb_qemu_threads" not in run.stderr
