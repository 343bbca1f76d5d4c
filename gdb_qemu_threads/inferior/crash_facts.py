"""Why an aborting thread aborted: the failed assertion's text, file and line.

Both C libraries of a QEMU process write the message to memory before abort(): glibc's
__assert_fail_base keeps it in `__abort_msg` (a struct abort_msg_s: unsigned size, then the
text; exported as GLIBC_PRIVATE, so no debug info is needed), GLib's g_assertion_message in
`__glib_assert_msg` (a char *). Both are read from memory only, so this works on live
processes and on core files alike.
"""
from __future__ import annotations

import contextlib
import re

import gdb

from ..model import ThreadSnapshot
from ..vocab import GLIB_ASSERT, GLIBC_ASSERT, canonical

MAX_MESSAGE = 4096
GLIB_FAILED = "assertion failed: "  # g_assert(expr)'s words before the expression
# glibc: "prog: file:line: function: Assertion `expr' failed."
_GLIBC = re.compile(r"^(?:.*?: )?(?P<file>[^:\n]+):(?P<line>\d+): (?P<function>[^\n]*?): "
                    r"Assertion [`'](?P<text>.*)' failed\.", re.S)
# GLib: "ERROR:file:line:function: assertion failed: (expr)", or another g_assert_* text.
_GLIB = re.compile(r"^(?:ERROR:)?(?P<file>[^:\n]+):(?P<line>\d+):(?P<function>[^:\n]*): "
                   r"(?P<text>.*)$", re.S)


def _address_of(symbol: str) -> int | None:
    try:
        return int(gdb.parse_and_eval("(unsigned long)&%s" % symbol))
    except (gdb.error, RuntimeError, ValueError):
        return None


def _read_pointer(inferior: gdb.Inferior, address: int) -> int:
    size = gdb.lookup_type("void").pointer().sizeof
    return int.from_bytes(bytes(inferior.read_memory(address, size)), "little")


def _read_text(inferior: gdb.Inferior, address: int, limit: int) -> str:
    """A NUL-terminated string of at most `limit` bytes (read in pieces: memory may end)."""
    out = b""
    while len(out) < limit:
        try:
            chunk = bytes(inferior.read_memory(address + len(out), min(256, limit - len(out))))
        except gdb.MemoryError:
            break
        end = chunk.find(b"\0")
        if end >= 0:
            return (out + chunk[:end]).decode("utf-8", "replace")
        out += chunk
    return out.decode("utf-8", "replace")


def _message(kind: str) -> str | None:
    inferior = gdb.selected_inferior()
    with contextlib.suppress(gdb.error, gdb.MemoryError, RuntimeError, ValueError):
        if kind == "glibc":
            where = _address_of("__abort_msg")
            block = _read_pointer(inferior, where) if where else 0
            if block:
                size = int.from_bytes(bytes(inferior.read_memory(block, 4)), "little")
                return _read_text(inferior, block + 4, min(size or MAX_MESSAGE, MAX_MESSAGE))
        else:
            where = _address_of("__glib_assert_msg")
            text = _read_pointer(inferior, where) if where else 0
            if text:
                return _read_text(inferior, text, MAX_MESSAGE)
    return None


def assertion_facts(snap: ThreadSnapshot) -> None:
    """The selected thread's failed assertion, where its frames show one and memory kept it."""
    names = {canonical(f.function) for f in snap.frames}
    kind = "glibc" if names & GLIBC_ASSERT else "glib" if names & GLIB_ASSERT else None
    if kind is None:
        return
    text = _message(kind)
    if not text:
        return
    found = (_GLIBC if kind == "glibc" else _GLIB).match(text.strip())
    if found is None:
        snap.facts.assertion = text.strip()
        return
    text = found.group("text").strip()
    snap.facts.assertion = text[len(GLIB_FAILED):] if text.startswith(GLIB_FAILED) else text
    snap.facts.assertion_at = "%s:%s" % (found.group("file"), found.group("line"))
