"""gdb-qemu-threads: name every thread of a QEMU process, live, attached, from a core or a dump."""

__version__ = "0.2.0"
# The JSON documents' `schema`: raised on an incompatible change of their fields.
SCHEMA = 1
