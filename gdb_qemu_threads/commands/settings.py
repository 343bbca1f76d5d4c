"""`set/show qemu-threads ...`: every setting of the extension, its help written once."""
from __future__ import annotations

import os
from typing import Callable, Optional, Sequence, Tuple

import gdb

from ..signature_file import make_table
from ..signatures import DEFAULT_TABLE, SignatureTable


class _Prefix(gdb.Command):
    def __init__(self, name: str, doc: str) -> None:
        self.__doc__ = doc
        super().__init__(name, gdb.COMMAND_DATA, gdb.COMPLETE_NONE, True)


class _ShowAll(_Prefix):
    """`show qemu-threads`: every setting with its value, as `show print` lists its own."""

    def invoke(self, argument: str, from_tty: bool) -> None:
        if argument.strip():
            raise gdb.GdbError("Undefined show qemu-threads command: \"%s\"." % argument.strip())
        for name in SETTING_NAMES:
            text = gdb.execute("show qemu-threads " + name, to_string=True)
            gdb.write("%s:  %s" % (name, text))


class _Setting(gdb.Parameter):
    """A `set/show qemu-threads NAME` setting."""

    def __init__(self, name: str, kind: int, doc: str, shown_as: str, default: object,
                 choices: Sequence[str] = ()) -> None:
        # gdb prints set_doc (or show_doc), then the class doc: each says something else.
        self.set_doc = "Set %s." % (shown_as[0].lower() + shown_as[1:])
        self.show_doc = "Show %s." % (shown_as[0].lower() + shown_as[1:])
        self.__doc__ = doc
        self.shown_as = shown_as
        if choices:
            super().__init__("qemu-threads " + name, gdb.COMMAND_DATA, kind, list(choices))
        else:
            super().__init__("qemu-threads " + name, gdb.COMMAND_DATA, kind)
        self.value = default

    def get_set_string(self) -> str:
        return ""

    def get_show_string(self, svalue: str) -> str:
        return "%s is %s." % (self.shown_as, svalue or "none")


SETTING_NAMES = ("max-frames", "color", "signatures-file", "reuse-stacks", "debug")


class _FileSetting(_Setting):
    """A setting naming a file that is read at every `set`, even to the same path, so that an
    edited file is taken and its errors show at once."""

    def __init__(self, on_set: Callable[[], None], name: str, kind: int, doc: str, shown_as: str,
                 default: object) -> None:
        self._on_set = on_set
        super().__init__(name, kind, doc, shown_as, default)

    def get_set_string(self) -> str:
        self._on_set()
        return ""


# What says a file changed: device, inode, size and modification time.
FileStamp = Optional[Tuple[int, int, int, int]]


def _file_stamp(path: str) -> FileStamp:
    try:
        st = os.stat(path)
    except OSError:
        return None  # reading it will say why
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


class Settings:
    """The settings, and what follows from them (the signature table)."""

    def __init__(self) -> None:
        self.max_frames = _Setting("max-frames", gdb.PARAM_ZUINTEGER,
                                   "How many frames of each thread qemu-threads reads (0: all). Fewer frames "
                                   "are faster; a thread's role may be decided by its outer frames.",
                                   "Frames read per thread", 64)
        self.color = _Setting("color", gdb.PARAM_ENUM,
                              "auto colours the table when typed at a terminal with `set style enabled on` "
                              "and NO_COLOR unset; on and off force it.",
                              "Colour of the qemu-threads table", "auto", ["auto", "on", "off"])
        self.signatures_file = _FileSetting(
            self.reload_table, "signatures-file", gdb.PARAM_OPTIONAL_FILENAME,
            "A JSON file of thread signatures that add to the built-in table or replace entries "
            "by id (see the README); empty for none. Read again each time it is set or changes.",
            "Extra signatures file", "")
        self.reuse_stacks = _Setting("reuse-stacks", gdb.PARAM_BOOLEAN,
                                     "Recognise a stack another thread already showed (same pc, same "
                                     "return addresses) instead of unwinding it again (x86-64).",
                                     "Reusing unwound stacks", True)
        self.debug = _Setting("debug", gdb.PARAM_BOOLEAN,
                              "on: an error of the extension's own also prints its Python traceback.",
                              "Tracebacks of qemu-threads' own errors", False)
        self._table: SignatureTable = DEFAULT_TABLE
        self._table_path = ""                   # the signatures file self._table was read from
        self._table_stamp: FileStamp = None     # and how it was then; None: read it again

    def table(self) -> SignatureTable:
        """The built-in signatures plus the signatures file's, read again whenever the file
        changed (inode, size or mtime) since it was last read."""
        path = str(self.signatures_file.value or "")
        stamp = _file_stamp(path) if path else None
        if path != self._table_path or (path and (stamp is None or stamp != self._table_stamp)):
            try:
                table = make_table([path]) if path else DEFAULT_TABLE
            except ValueError as err:  # SignatureFileError: one line naming file, entry, field
                raise gdb.GdbError("qemu-threads: %s" % err) from None
            self._table, self._table_path, self._table_stamp = table, path, stamp
        return self._table

    def reload_table(self) -> None:
        """`set qemu-threads signatures-file`: read the file now, even the same one; if it
        cannot be used, say why and keep the file that was in use before."""
        in_use = self._table_path
        self._table_stamp = None
        try:
            self.table()
        except gdb.GdbError:
            self.signatures_file.value = in_use
            raise

    def frames(self) -> int:
        return int(self.max_frames.value) or 100000

    def colour_on(self, choice: str | None = None, from_tty: bool = False) -> bool:
        """auto: gdb's `style enabled`, for a command typed at the terminal (not scripts,
        `to_string` or batch runs), unless NO_COLOR is set (no-color.org)."""
        choice = choice or self.color.value
        if choice == "auto":
            return bool(gdb.parameter("style enabled")) and from_tty and not os.environ.get("NO_COLOR")
        return choice == "on"


_settings: Settings | None = None


def settings() -> Settings:
    """The one Settings object, made (and its gdb parameters registered) on first use."""
    global _settings
    if _settings is None:
        _Prefix("set qemu-threads", "Change the settings of qemu-threads and qemu-thread-origins.")
        _ShowAll("show qemu-threads", "Show the settings of qemu-threads and qemu-thread-origins.")
        _settings = Settings()
    return _settings
