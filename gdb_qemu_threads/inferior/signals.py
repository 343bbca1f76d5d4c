"""The fatal signal a thread received, from gdb's `$_siginfo` (live: ptrace; core: its note)."""
from __future__ import annotations

import contextlib
import signal

import gdb

from ..model import ThreadSnapshot
from ..vocab import CRASH_FRAMES, canonical
from .crash_facts import assertion_facts

# Signals that end a process by default and say something went wrong in the thread itself.
FATAL = {signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE, signal.SIGABRT, signal.SIGSYS}
WITH_ADDRESS = {signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE}


def may_have_crashed(snap: ThreadSnapshot) -> bool:
    """A stack that a crash leaves: at address 0, or in abort/raise/assert."""
    frames = snap.frames[:8]
    return bool(frames) and (frames[0].pc == 0 or any(canonical(f.function) in CRASH_FRAMES
                                                      for f in frames))


def signal_facts(snap: ThreadSnapshot) -> None:
    """The selected thread's last signal, if it is a fatal one (SIGSTOP, SIGTRAP are gdb's)."""
    try:
        info = gdb.parse_and_eval("$_siginfo")
        number = int(info["si_signo"])
    except (gdb.error, RuntimeError, ValueError):
        return  # no signal, or a target that cannot say
    if number not in FATAL:
        return
    snap.facts.signal = signal.Signals(number).name
    with contextlib.suppress(gdb.error, RuntimeError, ValueError):
        if int(info["si_code"]) <= 0:  # SI_USER, SI_TKILL, SI_QUEUE: sent, not a fault
            sender = int(info["_sifields"]["_kill"]["si_pid"])
            thread = gdb.selected_thread()
            if thread is None or sender != thread.ptid[0]:  # abort() sends it to itself
                snap.facts.signal_sender = sender
        elif number in WITH_ADDRESS:
            snap.facts.fault_address = int(info["_sifields"]["_sigfault"]["si_addr"])
    if number == signal.SIGABRT:
        assertion_facts(snap)
