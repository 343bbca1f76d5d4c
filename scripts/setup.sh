#!/usr/bin/env bash
# Installs what gdb-qemu-threads needs, and nothing twice. Three levels:
#   extension  pygments and tabulate for the Python that gdb embeds: Debian's python3-pygments
#              and python3-tabulate where gdb embeds the system Python (as root), else
#              .deps/pyX.Y (X.Y is gdb's Python; gdb_qemu_threads/load.py puts it on gdb's path)
#   demo       the extension, gdb and QEMU: what `make demo` uses, nothing more
#   test       the demo's, plus a C compiler, glibc's debug symbols, QEMU's audio and tools,
#              PulseAudio, GLib's headers, gdbserver, Graphviz and Chromium (the HTML report is
#              opened in it), .venv (pytest, hypothesis, mypy, ruff, playwright) and
#              .venv-gdb-newest (the newest gdb, from PyPI, to run the suite under it too)
# As root it runs apt-get; otherwise it prints the command to run.
# Usage: scripts/setup.sh [extension|demo|test|venv|gdb-newest]   (GDB=... picks the gdb)
set -euo pipefail
cd "$(dirname "$0")/.."

GDB=${GDB:-gdb}
PYTHON=${PYTHON:-python3}

DEMO_PACKAGES=(gdb qemu-system-x86)
DEMO_COMMANDS=(gdb qemu-system-x86_64)
# libc6-dbg: gdb then knows glibc's static functions (clone3, start_thread), which the
# thread-creation recorder breaks on. qemu-system-gui: QEMU's PulseAudio driver (audio-pa.so),
# whose thread the tests look for. libglib2.0-dev and pkg-config: a fixture keeps QEMU's
# object tree in real GLib hash tables. gdbserver: the recorder is tested over a remote target.
TEST_PACKAGES=(gcc libc6-dev libc6-dbg binutils qemu-system-gui qemu-utils pulseaudio procps
               libglib2.0-dev pkg-config gdbserver graphviz chromium time python3-venv python3-pip)
TEST_COMMANDS=(gcc strip qemu-img pulseaudio pgrep gdbserver dot chromium)
TEST_DEBS=(libc6-dbg qemu-system-gui libglib2.0-dev pkg-config time)
VENV_PACKAGES=(pytest pytest-timeout hypothesis mypy ruff types-tabulate types-Pygments playwright)

say() { printf 'setup: %s\n' "$*" >&2; }

# apt-get install the packages given, if any is missing (commands or Debian packages).
apt_install() {
    local packages=("$@")
    export DEBIAN_FRONTEND=noninteractive
    if [ "$(id -u)" -ne 0 ]; then
        say "run as root: apt-get update && apt-get install -y --no-install-recommends ${packages[*]}"
        exit 1
    fi
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
}

missing_commands() {
    local cmd
    for cmd in "$@"; do command -v "$cmd" >/dev/null 2>&1 || echo "$cmd"; done
}

missing_debs() {
    local pkg
    command -v dpkg >/dev/null 2>&1 || return 0
    for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || echo "$pkg"; done
}

demo_system() {
    local missing
    missing=$(missing_commands "${DEMO_COMMANDS[@]}")
    [ -z "$missing" ] && return 0
    say "missing: $(echo $missing)"
    apt_install "${DEMO_PACKAGES[@]}"
}

test_system() {
    local missing
    missing="$(missing_commands "${TEST_COMMANDS[@]}") $(missing_debs "${TEST_DEBS[@]}")"
    "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1 || missing="$missing python3-venv"
    [ -z "${missing// /}" ] && return 0
    say "missing: $(echo $missing)"
    apt_install "${TEST_PACKAGES[@]}"
}

gdb_python() {  # "X.Y PREFIX" of the Python that $GDB embeds (/usr: the system's)
    "$GDB" -nx -batch -ex 'python import sys; print("@@%d.%d %s" % (sys.version_info[:2] + (sys.prefix,)))' \
        2>/dev/null | sed -n 's/^@@//p'
}

gdb_has_libraries() {
    "$GDB" -nx -batch -ex 'python import sys, os; sys.path.insert(0, os.path.join(os.getcwd(), ".deps", "py%d.%d" % sys.version_info[:2])); import pygments, tabulate; print("@@ok")' \
        2>/dev/null | grep -q '^@@ok'
}

# pygments and tabulate for gdb's Python: already there, Debian's packages (the system
# Python, as root), or pip into .deps/pyX.Y (works on an externally-managed Python too).
extension() {
    local info version prefix pip dir
    info=$(gdb_python)
    if [ -z "$info" ]; then
        say "$GDB has no Python support; gdb-qemu-threads needs a gdb built with Python"
        exit 1
    fi
    gdb_has_libraries && return 0
    version=${info%% *}
    prefix=${info#* }
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1 && [ "$prefix" = /usr ]; then
        say "installing Debian's python3-pygments and python3-tabulate for $GDB's Python $version"
        apt_install python3-pygments python3-tabulate
        gdb_has_libraries && return 0
    fi
    dir=.deps/py$version
    if [ -x .venv/bin/python ]; then pip=(.venv/bin/python -m pip)
    elif "$PYTHON" -m pip --version >/dev/null 2>&1; then pip=("$PYTHON" -m pip)
    else say "no pip to fetch pygments and tabulate with: install python3-pip"; exit 1
    fi
    say "installing pygments and tabulate for $GDB's Python $version into $dir"
    # Both are pure-Python wheels, so any pip can fetch them for gdb's Python version.
    "${pip[@]}" install -q --target "$dir" --python-version "$version" \
        --only-binary=:all: --no-deps --upgrade pygments tabulate >/dev/null
}

venv() {
    local stamp
    stamp=.venv/.installed-$(printf '%s\n' "${VENV_PACKAGES[@]}" | cat - setup.cfg | cksum | cut -d' ' -f1)
    [ -e "$stamp" ] && return 0
    say "creating .venv"
    rm -rf .venv
    "$PYTHON" -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null
    .venv/bin/python -m pip install -q "${VENV_PACKAGES[@]}" -e . >/dev/null
    touch "$stamp"
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
    GDB=.venv-gdb-newest/bin/gdb extension
    touch "$stamp"
}

case "${1:-demo}" in
    extension) extension ;;
    demo) demo_system; extension ;;
    venv) venv ;;
    gdb-newest) venv; gdb_newest ;;
    test) demo_system; test_system; venv; extension; gdb_newest ;;
    *) say "usage: $0 [extension|demo|test|venv|gdb-newest]"; exit 2 ;;
esac
