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
#   qemu-newest a newer QEMU beside the system's, never replacing it: Debian bookworm-backports'
#              packages, fetched with an apt configuration of our own and unpacked into
#              .qemu-newest/, run through .qemu-newest/qemu-system-x86_64
# As root it runs apt-get; otherwise it prints the command to run.
# Usage: scripts/setup.sh [extension|demo|test|venv|gdb-newest|qemu-newest]   (GDB=... picks the gdb)
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
# dbus: a private session bus for QEMU's D-Bus display (qemu-system-gui has it too).
TEST_PACKAGES=(gcc libc6-dev libc6-dbg binutils qemu-system-gui qemu-utils pulseaudio procps
               libglib2.0-dev pkg-config gdbserver graphviz chromium time python3-venv python3-pip
               dbus)
TEST_COMMANDS=(gcc strip qemu-img pulseaudio pgrep gdbserver dot chromium dbus-daemon dbus-send)
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

# QEMU 10.0 from bookworm-backports, unpacked (dpkg -x) into .qemu-newest/root: apt's lists and
# cache live in .qemu-newest/apt, so the system's apt sources and its QEMU stay as they are.
# (10.0.2 when this was written; the suite keeps only its newest build.) SeaBIOS comes from there
# too: 10.0's firmware needs one newer than bookworm's.
NEWEST_SUITE="bookworm-backports"
# Libraries the newer QEMU and the modules the tests load link, all in bookworm itself.
NEWEST_LIBS=(libbpf1 libcapstone4 libfuse3-3 libpmem1 librdmacm1 libibverbs1 liburing2
             libvdeplug2 libnuma1 libaio1 libfdt1 libslirp0 libpulse0 libepoxy0 libgbm1)
qemu_newest() {
    local dir=.qemu-newest stamp apt debs missing pkg
    stamp=$dir/.installed
    [ -e "$stamp" ] && [ -x "$dir/qemu-system-x86_64" ] && return 0
    command -v apt-get >/dev/null 2>&1 || { say "the newer QEMU needs apt-get and dpkg (Debian 12)"; exit 1; }
    missing=$(missing_debs "${NEWEST_LIBS[@]}")
    if [ -n "$missing" ]; then say "missing for the newer QEMU: $(echo $missing)"; apt_install $missing; fi
    say "fetching QEMU from $NEWEST_SUITE into $dir"
    rm -rf "$dir"
    apt=$PWD/$dir/apt
    mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs" "$dir/root"
    printf 'deb http://deb.debian.org/debian %s main\n' "$NEWEST_SUITE" > "$apt/sources.list"
    local opts=(-o "Dir::Etc::sourcelist=$apt/sources.list" -o Dir::Etc::sourceparts=-
                -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
                -o APT::Sandbox::User=root)
    apt-get -qq "${opts[@]}" update
    debs=()
    for pkg in qemu-system-x86 qemu-system-common qemu-system-data qemu-system-gui \
               qemu-system-modules-opengl seabios; do
        debs+=("$pkg/$NEWEST_SUITE")
    done
    (cd "$apt/debs" && apt-get -qq "${opts[@]}" download "${debs[@]}")
    for pkg in "$apt"/debs/*.deb; do dpkg -x "$pkg" "$dir/root"; done
    rm -rf "$apt/debs" "$apt/cache"
    # QEMU_MODULE_DIR: its own modules (audio-pa, ui-dbus), not the system's 7.2 ones; -L: its
    # own firmware. exec keeps the process id, so gdb -p sees the real binary.
    cat > "$dir/qemu-system-x86_64" <<'WRAPPER'
#!/bin/sh
here=$(dirname "$(readlink -f "$0")")/root
QEMU_MODULE_DIR=$here/usr/lib/x86_64-linux-gnu/qemu
export QEMU_MODULE_DIR
exec "$here/usr/bin/qemu-system-x86_64" -L "$here/usr/share/qemu" -L "$here/usr/share/seabios" "$@"
WRAPPER
    chmod +x "$dir/qemu-system-x86_64"
    if ldd "$dir/root/usr/bin/qemu-system-x86_64" | grep 'not found'; then
        say "the newer QEMU misses the libraries above"; exit 1
    fi
    "$dir/qemu-system-x86_64" -version | head -1 >&2
    touch "$stamp"
}

case "${1:-demo}" in
    extension) extension ;;
    demo) demo_system; extension ;;
    venv) venv ;;
    gdb-newest) venv; gdb_newest ;;
    qemu-newest) qemu_newest ;;
    test) demo_system; test_system; venv; extension; gdb_newest; qemu_newest ;;
    *) say "usage: $0 [extension|demo|test|venv|gdb-newest|qemu-newest]"; exit 2 ;;
esac
