"""Saved gdb text -> thread snapshots, without gdb (the offline reader)."""
from .reader import DumpError, parse_dump_text, parse_dumps

__all__ = ["DumpError", "parse_dumps", "parse_dump_text"]
