"""An object's id in QEMU's QOM tree, read from memory: pure, no gdb.

QEMU keeps an iothread's id nowhere but in the QOM tree: the id is the name under which its
parent (the /objects container) holds it, as a `child<iothread>` property in the parent's
`properties` GHashTable (qom/object.c, object_property_try_add_child; iothread_get_id is
object_get_canonical_path_component). QEMU's debug info describes Object and ObjectProperty,
but GLib's hash table is opaque to it, so its layout is read here for the two layouts GLib
has had since QEMU 2.12's oldest supported GLib:
  GLib 2.36-2.58  gint size; gint mod; guint mask; gint nnodes; gint noccupied;
                  gpointer *keys; guint *hashes; gpointer *values; ...
  GLib 2.60+      gsize size; gint mod; guint mask; guint nnodes; guint noccupied;
                  guint have_big_keys:1, have_big_values:1; gpointer keys; guint *hashes;
                  gpointer values; ...   (small keys and values are kept as 32-bit words)
A layout is taken only if it is consistent: a power-of-two size, and exactly `nnodes` slots
whose hash marks them as used (hash >= 2; 0 is empty, 1 a tombstone).
"""
from __future__ import annotations

from typing import Callable, Iterator

Read = Callable[[int, int], bytes]  # read(address, length) -> bytes, or raises

MAX_SIZE = 1 << 16  # a QOM container holds tens of properties; anything larger is not one


def _u(raw: bytes, offset: int, size: int) -> int:
    return int.from_bytes(raw[offset:offset + size], "little")


def _layouts(header: bytes) -> Iterator[tuple[int, int, int, int, int, bool, bool]]:
    """(size, nnodes, keys, hashes, values, big_keys, big_values) for each possible layout."""
    # GLib 2.60 and later
    yield (_u(header, 0, 8), _u(header, 16, 4), _u(header, 32, 8), _u(header, 40, 8),
           _u(header, 48, 8), bool(_u(header, 24, 4) & 1), bool(_u(header, 24, 4) & 2))
    # GLib 2.36 to 2.58
    yield (_u(header, 0, 4), _u(header, 12, 4), _u(header, 24, 8), _u(header, 32, 8),
           _u(header, 40, 8), True, True)


def hash_table_entries(read: Read, address: int) -> list[tuple[int, int]] | None:
    """(key, value) of every entry of the GHashTable at `address`, or None if it does not
    look like one in any known layout (x86-64 and other 64-bit little-endian hosts)."""
    try:
        header = read(address, 56)
    except Exception:  # the caller's read raises its own errors; an unreadable table is no table
        return None
    for size, nnodes, keys, hashes, values, big_keys, big_values in _layouts(header):
        if not (8 <= size <= MAX_SIZE and size & (size - 1) == 0 and nnodes <= size
                and keys and hashes and values):
            continue
        try:
            hash_words = read(hashes, 4 * size)
            key_words = read(keys, (8 if big_keys else 4) * size)
            value_words = key_words if values == keys else read(values, (8 if big_values else 4) * size)
        except Exception:
            continue
        used = [i for i in range(size) if _u(hash_words, 4 * i, 4) >= 2]
        if len(used) != nnodes:
            continue
        kw = 8 if big_keys else 4
        vw = kw if values == keys else (8 if big_values else 4)
        return [(_u(key_words, kw * i, kw), _u(value_words, vw * i, vw)) for i in used]
    return None
