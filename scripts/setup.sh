#!/usr/bin/env bash
# Installs what gdb-qemu-threads and its tests need, and nothing twice:
#   system packages (as root: apt-get; otherwise the command to run is printed),
#   .venv          the Python the tests run in (pytest, hypothesis, the package itself),
#   .deps/pyX.Y    pygments and tabulate for the Python that gdb embeds (X.Y is its version;
#                  gdb_qemu_threads/load.py puts this folder on gdb's sys.path),
#   .venv-gdb-newest  the newest gdb from PyPI, for `make test` to run the suite under it too.
# Usage: scripts/setup.sh [system|venv|deps|gdb-newest|all]   (GDB=... picks the gdb to install for)
set -euo pipefail
cd "$(dirname "$0")/.."

GDB=${GDB:-gdb}
PYTHON=${PYTHON:-python3}
# libc6-dbg: gdb then knows glibc's static functions (clone3, start_thread), which the
# thread-creation recorder breaks on. qemu-system-gui: QEMU's PulseAudio driver (audio-pa.so),
# whose thread the tests look for. libglib2.0-dev and pkg-config: a fixture keeps QEMU's
# object tree in real GLib hash tables.
PACKAGES=(gdb gcc libc6-dev libc6-dbg binutils qemu-system-x86 qemu-system-gui qemu-utils pulseaudio procps
          libglib2.0-dev pkg-config
          python3-venv python3-pip)
COMMANDS=(gdb gcc strip qemu-system-x86_64 qemu-img pulseaudio pgrep)

say() { printf 'setup: %s\n' "$*" >&2; }

system_packages() {
    local missing=() cmd
    for cmd in "${COMMANDS[@]}"; do
        command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
    done
    if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then missing+=(python3-venv); fi
    local pkg
    for pkg in libc6-dbg qemu-system-gui libglib2.0-dev pkg-config; do
        if command -v dpkg >/dev/null 2>&1 && ! dpkg -s "$pkg" >/dev/null 2>&1; then missing+=("$pkg"); fi
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "missing: ${missing[*]}"
    if [ "$(id -u)" -ne 0 ]; then
        say "run as root: apt-get update && apt-get install -y --no-install-recommends ${PACKAGES[*]}"
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
}

venv() {
    local stamp=.venv/.installed-$(cksum < setup.cfg | cut -d' ' -f1)
    [ -e "$stamp" ] && return 0
    say "creating .venv"
    rm -rf .venv
    "$PYTHON" -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null
    .venv/bin/python -m pip install -q pytest pytest-timeout hypothesis -e . >/dev/null
    touch "$stamp"
}

gdb_python_version() {
    "$GDB" -nx -batch -ex 'python import sys; print("@@%d.%d" % sys.version_info[:2])' 2>/dev/null \
        | sed -n 's/^@@//p'
}

deps() {
    local version dir
    version=$(gdb_python_version)
    if [ -z "$version" ]; then
        say "$GDB has no Python support; gdb-qemu-threads needs a gdb built with Python"
        exit 1
    fi
    dir=.deps/py$version
    [ -e "$dir/.installed" ] && return 0
    say "installing pygments and tabulate for $GDB's Python $version into $dir"
    # Both are pure-Python wheels, so any pip can fetch them for gdb's Python version.
    .venv/bin/python -m pip install -q --target "$dir" --python-version "$version" \
        --only-binary=:all: --no-deps --upgrade pygments tabulate >/dev/null
    touch "$dir/.installed"
}

# The newest gdb, from PyPI (gdb-for-pwndbg), in a venv of its own: it embeds that venv's
# Python, so the tests can run under both the distribution's gdb and the newest one.
gdb_newest() {
    local stamp=.venv-gdb-newest/.installed
    [ -e "$stamp" ] && return 0
    say "installing the newest gdb (gdb-for-pwndbg) into .venv-gdb-newest"
    rm -rf .venv-gdb-newest
    "$PYTHON" -m venv .venv-gdb-newest
    .venv-gdb-newest/bin/python -m pip install -q gdb-for-pwndbg >/dev/null
    GDB=.venv-gdb-newest/bin/gdb deps
    touch "$stamp"
}

case "${1:-all}" in
    system) system_packages ;;
    venv) venv ;;
    deps) venv; deps ;;
    gdb-newest) venv; gdb_newest ;;
    all) system_packages; venv; deps ;;
    *) say "usage: $0 [system|venv|deps|gdb-newest|all]"; exit 2 ;;
esac
