"""Finding clone3 in libc's code when libc has no debug symbols.

glibc's __clone3 (sysdeps/unix/sysv/linux/x86_64/clone3.S) ends in `movl $435, %eax;
syscall` (435: SYS_clone3) with its arguments still in rdi and rsi. libc exports no symbol
for it, so without libc's debug symbols `break clone3` finds nothing; the instruction bytes
do. A breakpoint on the mov reads the same registers as one at the entry.
"""
from __future__ import annotations

import os
import re

import gdb

_CLONE3_SYSCALL = bytes([0xB8, 0xB3, 0x01, 0x00, 0x00, 0x0F, 0x05])
_SHLIB_LINE = re.compile(r"^(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+\S+\s+(?:\(\*\)\s+)?(\S*libc\.so[^\s]*)\s*$")


def is_libc(path: str | None) -> bool:
    return bool(path) and os.path.basename(path or "").startswith("libc.so")


def libc_loaded() -> bool:
    return any(is_libc(objfile.filename) for objfile in gdb.objfiles())


def find_clone3(inferior: gdb.Inferior) -> int | None:
    """The address of the clone3 system call in the loaded libc's code, if it is there once."""
    if inferior.pid <= 0 or "x86-64" not in inferior.architecture().name():
        return None
    try:
        listing = gdb.execute("info sharedlibrary", to_string=True)
    except UnicodeDecodeError:
        return None  # a library path gdb cannot hand to Python; libc's is not such a path
    for line in listing.splitlines():
        m = _SHLIB_LINE.match(line.strip())
        if not m:
            continue
        low, high = int(m.group(1), 16), int(m.group(2), 16)
        code = inferior.read_memory(low, high - low).tobytes()
        at = code.find(_CLONE3_SYSCALL)
        if at < 0 or code.find(_CLONE3_SYSCALL, at + 1) >= 0:
            return None  # not there, or not only there: no guessing
        return low + at
    return None
