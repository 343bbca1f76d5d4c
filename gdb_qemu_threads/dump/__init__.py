"""Saved debugger text -> thread snapshots, without gdb (the offline reader): gdb's, LLDB's
and eu-stack's."""
from .reader import NO_DUMP, DumpError, parse_dump_text, parse_dumps

__all__ = ["NO_DUMP", "DumpError", "parse_dumps", "parse_dump_text"]
