"""`qemu-thread-origins`: the gdb commands over the thread-creation recorder."""
from __future__ import annotations

from typing import List, Tuple

import gdb  # type: ignore[import-not-found]

from ..inferior.recorder import (COMMAND, DEFAULT_MAX_FRAMES, _status, clear, connect_events, show,
                                 start, stop)


_SHOW_OPTIONS = ("--json", "--bt", "--all")

_PREFIX_DOC = """Record which thread created each thread, and from where.

Usage: qemu-thread-origins start|stop|clear|status|show [--json] [--bt] [--all] [THREAD...]

`start` before `run` (or while attached) puts internal breakpoints on clone3 and clone that
note the creating thread and its backtrace and let the program run on (about half a
millisecond per new thread); `show` then lists, for each thread created since, its creation
backtrace, the thread that created it and its role as `qemu-threads` sees it. Threads that
exited stay listed, marked gone. `qemu-threads` shows the creator too while records exist.
Process creations (fork, posix_spawn, system) are counted, not listed as threads.
Recording survives `run` again, `kill`, `detach` and exec; records are kept per inferior."""


class _Subcommand(gdb.Command):
    def __init__(self, name: str, doc: str) -> None:
        self.__doc__ = doc
        super().__init__("%s %s" % (COMMAND, name), gdb.COMMAND_STATUS)

    def invoke(self, argument: str, from_tty: bool) -> None:
        try:
            text = self.run(gdb.string_to_argv(argument))
        except (gdb.GdbError, KeyboardInterrupt):
            raise
        except gdb.error as err:
            raise gdb.GdbError("%s: %s" % (COMMAND, err))
        except Exception as err:  # a bug of ours: one line
            raise gdb.GdbError("%s: internal error: %s: %s" % (COMMAND, type(err).__name__, err))
        if text:
            gdb.write(text + "\n")

    def run(self, args: List[str]) -> str:
        raise NotImplementedError

    def complete(self, text: str, word: str) -> List[str]:
        return []

    @staticmethod
    def complete_options(options: Tuple[str, ...], text: str, word: str) -> List[str]:
        # gdb breaks words at "-": `word` may be only the end of the option being typed.
        token = "" if not text or text[-1].isspace() else text.split()[-1]
        word = word or ""
        return [o[len(token) - len(word):] for o in options if o.startswith(token)]

    def no_arguments(self, args: List[str]) -> None:
        if args:
            raise gdb.GdbError("%s %s takes no arguments" % (COMMAND, self.__class__.name))


class _Start(_Subcommand):
    name = "start"

    def __init__(self) -> None:
        super().__init__("start", """Start recording thread creation.

Usage: qemu-thread-origins start [--max-frames N]

Use it before `run` (the breakpoints stay pending until libc is loaded) or while attached;
threads created before it are not recorded. --max-frames N keeps N frames of each creation
backtrace (default %d).""" % DEFAULT_MAX_FRAMES)

    def run(self, args: List[str]) -> str:
        max_frames = None
        rest = list(args)
        while rest:
            word = rest.pop(0)
            if word in ("--max-frames", "-n") and rest and rest[0].isdigit() and int(rest[0]) > 0:
                max_frames = int(rest.pop(0))
            elif word.startswith("--max-frames=") and word.split("=", 1)[1].isdigit():
                max_frames = int(word.split("=", 1)[1]) or None
            else:
                raise gdb.GdbError("%s start: unexpected %r (usage: %s start [--max-frames N])"
                                   % (COMMAND, word, COMMAND))
        return start(max_frames)

    def complete(self, text: str, word: str) -> List[str]:
        return self.complete_options(("--max-frames",), text, word)


class _Stop(_Subcommand):
    name = "stop"

    def __init__(self) -> None:
        super().__init__("stop", """Stop recording thread creation and remove its breakpoints.

Usage: qemu-thread-origins stop

The records are kept: `show` still lists them, `clear` forgets them.""")

    def run(self, args: List[str]) -> str:
        self.no_arguments(args)
        return stop()


class _Clear(_Subcommand):
    name = "clear"

    def __init__(self) -> None:
        super().__init__("clear", """Forget every thread creation recorded so far.

Usage: qemu-thread-origins clear

Recording goes on if it was on.""")

    def run(self, args: List[str]) -> str:
        self.no_arguments(args)
        return clear()


class _Status(_Subcommand):
    name = "status"

    def __init__(self) -> None:
        super().__init__("status", """Say whether thread creation is recorded, and how much is.

Usage: qemu-thread-origins status""")

    def run(self, args: List[str]) -> str:
        self.no_arguments(args)
        return _status()


class _Show(_Subcommand):
    name = "show"

    def __init__(self) -> None:
        super().__init__("show", """List the recorded creation of each thread.

Usage: qemu-thread-origins show [--json] [--bt] [--all] [THREAD...]

THREAD is a gdb thread number, an LWP, or lwp:N; without one, every thread created while
recording in the current process (or the last one of this inferior) is listed, in creation
order, exited ones marked gone. Columns: gdb thread number, LWP, name, role (as qemu-threads
sees it), alive or gone, the creating thread (LWP and gdb number while it lives), and the
callers that asked for the thread (the frames above clone/clone3 and the thread library).
  --bt    the whole creation backtrace of each thread, innermost frame first
  --json  one JSON document: {"origins": [{"lwp", "num", "name", "alive", "parent_lwp",
          "parent_num", "role", "pid", "via", "frames": [innermost first, from clone3/clone]}]}
  --all   every process recorded (earlier runs, other inferiors), not just the current one""")

    def run(self, args: List[str]) -> str:
        words = []
        flags = set()
        for word in args:
            if word.startswith("--"):
                if word not in _SHOW_OPTIONS:
                    raise gdb.GdbError("%s show: unknown option %s (options: %s)"
                                       % (COMMAND, word, ", ".join(_SHOW_OPTIONS)))
                flags.add(word)
            else:
                words.append(word)
        return show(words, "--json" in flags, "--bt" in flags, "--all" in flags)

    def complete(self, text: str, word: str) -> List[str]:
        return self.complete_options(_SHOW_OPTIONS, text, word)


class _Prefix(gdb.Command):
    def __init__(self) -> None:
        self.__doc__ = _PREFIX_DOC
        super().__init__(COMMAND, gdb.COMMAND_STATUS, gdb.COMPLETE_NONE, True)

    def invoke(self, argument: str, from_tty: bool) -> None:
        if argument.strip():
            raise gdb.GdbError("%s: unknown subcommand %r (start, stop, clear, status, show)"
                               % (COMMAND, argument.split()[0]))
        gdb.write(_status() + "\nSubcommands: start, stop, clear, status, show; "
                  "see `help %s`.\n" % COMMAND)


_registered = False


def register() -> None:
    """Create the commands and connect the event handlers, once however often it is called."""
    global _registered
    if _registered:
        return
    _registered = True
    connect_events()
    _Prefix()
    _Start()
    _Stop()
    _Clear()
    _Status()
    _Show()
