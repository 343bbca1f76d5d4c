"""GLib hash tables in memory, as qom.py reads them (pure; the real GLib is in
tests/test_iothread_qom.py)."""
import struct

from gdb_qemu_threads.inferior import qom


class Memory:
    def __init__(self):
        self.blocks = {}

    def put(self, address, data):
        self.blocks[address] = data

    def read(self, address, length):
        for start, data in self.blocks.items():
            if start <= address and address + length <= start + len(data):
                return data[address - start:address - start + length]
        raise ValueError("unmapped %#x" % address)


def table(mem, layout, entries, size=8, tombstones=(), compact_keys=False):
    keys, hashes, values = 0x10000, 0x20000, 0x30000
    key_words, hash_words, value_words = [0] * size, [0] * size, [0] * size
    for slot, (key, value) in enumerate(entries):
        key_words[slot * 2], hash_words[slot * 2], value_words[slot * 2] = key, 1000 + slot, value
    for slot in tombstones:
        hash_words[slot] = 1
    kfmt = "<%dI" % size if compact_keys else "<%dQ" % size
    mem.put(keys, struct.pack(kfmt, *key_words))
    mem.put(hashes, struct.pack("<%dI" % size, *hash_words))
    mem.put(values, struct.pack("<%dQ" % size, *value_words))
    if layout == "2.60":
        bits = (0 if compact_keys else 1) | 2
        header = struct.pack("<QiIIIIIQQQ", size, 7, size - 1, len(entries), len(entries), bits, 0,
                             keys, hashes, values)
    else:
        header = struct.pack("<iIIiiIQQQ", size, 7, size - 1, len(entries), len(entries), 0,
                             keys, hashes, values) + bytes(8)
    mem.put(0x1000, header)
    return 0x1000


def test_both_layouts_give_the_entries():
    for layout in ("2.60", "2.36"):
        mem = Memory()
        address = table(mem, layout, [(0xAAAA0000, 0xBBBB0000), (0xCCCC0000, 0xDDDD0000)], tombstones=[1])
        assert qom.hash_table_entries(mem.read, address) == [(0xAAAA0000, 0xBBBB0000), (0xCCCC0000, 0xDDDD0000)]


def test_compact_keys():
    mem = Memory()
    address = table(mem, "2.60", [(0x1234, 0xBBBB0000)], compact_keys=True)
    assert qom.hash_table_entries(mem.read, address) == [(0x1234, 0xBBBB0000)]


def test_what_is_not_a_table_gives_none():
    mem = Memory()
    mem.put(0x1000, bytes(56))
    assert qom.hash_table_entries(mem.read, 0x1000) is None
    assert qom.hash_table_entries(mem.read, 0x5000) is None  # unreadable
    address = table(Memory(), "2.60", [(1, 2)])
    mem = Memory()
    table(mem, "2.60", [(1, 2), (3, 4)])
    header = bytearray(mem.read(0x1000, 56))
    header[16:20] = struct.pack("<I", 5)  # nnodes disagrees with the used slots
    mem.put(0x1000, bytes(header))
    assert qom.hash_table_entries(mem.read, address) is None
