"""Records of thread creation, kept by `qemu-thread-origins`: pairing each creation with its thread.

Pure: nothing here imports gdb. inferior/clone_*.py feed it from a breakpoint on clone/clone3 and from
gdb's new-thread event; everything that decides what belongs to what lives here.

How a creation is paired with the thread it creates
---------------------------------------------------
The breakpoint on clone/clone3 fires in the creating thread before the system call, when the
new thread's LWP is not known yet. Two facts known at that point name the new thread exactly:

* the address the kernel writes the new thread's id to (CLONE_PARENT_SETTID: clone3's
  `clone_args.parent_tid`, clone's `parent_tid` argument). glibc and musl point it at the new
  thread's own `tid` field; the kernel writes it before it reports the new thread to gdb, and
  clears it only when that thread exits. When gdb reports a new LWP, the pending creation whose
  address holds that LWP is the one, whatever other threads create at the same moment.
* the new thread's TLS (CLONE_SETTLS), which glibc sets to the thread's `pthread_t` - the
  `Thread 0x...` gdb prints, `InferiorThread.handle()`. gdb learns the handle only just after it
  reports the new thread, so this is the fallback for creations without a parent_tid address.

A pending creation is consumed by the thread it is paired with, so a `pthread_t` or address
used again after its thread was joined pairs with the next thread, never the old one.
Creations without CLONE_THREAD make processes (fork, posix_spawn, system): they are counted
apart and never paired with a thread.
"""
from __future__ import annotations

from typing import Callable, Mapping, Tuple

from ..model import Frame

CLONE_VM = 0x00000100
CLONE_THREAD = 0x00010000
CLONE_SETTLS = 0x00080000
CLONE_PARENT_SETTID = 0x00100000

ProcessKey = Tuple[int, int]  # (gdb inferior number, process id)


class Pending:
    """A clone/clone3 call seen at its breakpoint whose new thread gdb has not reported yet."""

    __slots__ = ("seq", "parent_lwp", "parent_num", "frames", "flags", "tls", "tid_address", "via")

    def __init__(self, seq: int, parent_lwp: int, parent_num: int | None, frames: list[Frame],
                 flags: int | None, tls: int | None, tid_address: int | None,
                 via: str) -> None:
        self.seq = seq
        self.parent_lwp = parent_lwp
        self.parent_num = parent_num
        self.frames = frames
        self.flags = flags
        self.tls = tls
        self.tid_address = tid_address
        self.via = via

    def key(self) -> tuple[str, int]:
        if self.tls is not None:
            return ("tls", self.tls)
        if self.tid_address is not None:
            return ("tid", self.tid_address)
        return ("seq", self.seq)


class OriginRecord:
    """One thread created while recording: who created it, and from where."""

    __slots__ = ("seq", "inferior", "pid", "lwp", "num", "name", "alive", "parent_lwp",
                 "parent_num", "frames", "via", "handle", "paired_by")

    def __init__(self, seq: int, inferior: int, pid: int, lwp: int, num: int | None,
                 parent_lwp: int, parent_num: int | None, frames: list[Frame], via: str,
                 handle: int | None, paired_by: str) -> None:
        self.seq = seq                  # creation order
        self.inferior = inferior        # gdb inferior number
        self.pid = pid
        self.lwp = lwp
        self.num = num                  # gdb thread number while alive, else None
        self.name: str | None = None    # last OS name seen
        self.alive = True
        self.parent_lwp = parent_lwp
        self.parent_num = parent_num    # gdb number of the creator when it created
        self.frames = frames            # innermost first, from the clone/clone3 frame
        self.via = via                  # "clone3" or "clone"
        self.handle = handle            # the TLS / pthread_t given to clone, if any
        self.paired_by = paired_by      # "tid" or "handle"

    @property
    def frame_names(self) -> list[str]:
        return [f.name for f in self.frames]

    def __repr__(self) -> str:
        return "OriginRecord(lwp=%d, parent_lwp=%d, frames=%r)" % (self.lwp, self.parent_lwp,
                                                                     self.frame_names[:6])


class ProcessCreation:
    """A clone/clone3 without CLONE_THREAD: a fork, vfork or posix_spawn."""

    __slots__ = ("seq", "inferior", "pid", "parent_lwp", "frames", "flags", "via")

    def __init__(self, seq: int, inferior: int, pid: int, parent_lwp: int, frames: list[Frame],
                 flags: int, via: str) -> None:
        self.seq = seq
        self.inferior = inferior
        self.pid = pid
        self.parent_lwp = parent_lwp
        self.frames = frames
        self.flags = flags
        self.via = via


class OriginStore:
    """Every record of every inferior, keyed by (inferior number, pid)."""

    MAX_PROCESS_CREATIONS = 1000

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self._seq = 0
        self.pending: dict[ProcessKey, dict[tuple[str, int], Pending]] = {}
        self.records: dict[ProcessKey, list[OriginRecord]] = {}
        self.by_lwp: dict[ProcessKey, dict[int, OriginRecord]] = {}
        self.processes: list[ProcessCreation] = []
        self.process_count = 0
        self.unpaired = 0  # threads gdb reported while handle-only creations waited, given up on

    # --- recording -------------------------------------------------------------------------

    def note_clone(self, inferior: int, pid: int, parent_lwp: int, parent_num: int | None,
                   frames: list[Frame], flags: int | None, tls: int | None,
                   tid_address: int | None, via: str) -> str:
        """A clone/clone3 call at its breakpoint. Returns "thread", "process" or "ignored"."""
        self._seq += 1
        if flags is not None and not flags & CLONE_THREAD:
            self.process_count += 1
            self.processes.append(ProcessCreation(self._seq, inferior, pid, parent_lwp, frames,
                                                  flags, via))
            del self.processes[:-self.MAX_PROCESS_CREATIONS]
            return "process"
        if flags is not None and not flags & CLONE_PARENT_SETTID:
            tid_address = None
        if flags is not None and not flags & CLONE_SETTLS:
            tls = None
        if tls is None and tid_address is None:
            return "ignored"  # nothing would ever tell its thread apart
        pending = Pending(self._seq, parent_lwp, parent_num, frames, flags, tls, tid_address, via)
        # The same key again is a pthread_t used again (its thread is gone), or glibc falling
        # back from clone3 to clone for one creation: the newer call is the one that counts.
        self.pending.setdefault((inferior, pid), {})[pending.key()] = pending
        return "thread"

    def has_pending(self, inferior: int, pid: int) -> bool:
        return bool(self.pending.get((inferior, pid)))

    def waits_for_handle(self, inferior: int, pid: int) -> bool:
        """Whether a creation of this process can only be paired by its thread's handle."""
        return any(p.tid_address is None and p.tls is not None
                   for p in self.pending.get((inferior, pid), {}).values())

    def pair_by_tid(self, inferior: int, pid: int, lwp: int, num: int | None,
                    read_tid: Callable[[int], int | None]) -> OriginRecord | None:
        """A new thread `lwp`: the creation whose parent_tid address now holds `lwp`, if any.

        read_tid(address) reads the 32-bit thread id the kernel wrote there (None if unreadable).
        """
        table = self.pending.get((inferior, pid))
        if not table:
            return None
        for key, pending in list(table.items()):
            if pending.tid_address is None:
                continue
            if read_tid(pending.tid_address) == lwp:
                del table[key]
                return self._add(inferior, pid, lwp, num, pending, "tid")
        return None

    def pair_by_handle(self, inferior: int, pid: int, lwp: int, num: int | None,
                       handle: int) -> OriginRecord | None:
        """A thread whose handle (pthread_t) is known: the creation that gave it that TLS."""
        table = self.pending.get((inferior, pid))
        if not table:
            return None
        pending = table.pop(("tls", handle), None)
        if pending is None:
            return None
        return self._add(inferior, pid, lwp, num, pending, "handle")

    def _add(self, inferior: int, pid: int, lwp: int, num: int | None, pending: Pending,
             paired_by: str) -> OriginRecord:
        key = (inferior, pid)
        record = OriginRecord(pending.seq, inferior, pid, lwp, num, pending.parent_lwp,
                              pending.parent_num, pending.frames, pending.via, pending.tls,
                              paired_by)
        lwps = self.by_lwp.setdefault(key, {})
        older = lwps.get(lwp)
        if older is not None:  # the kernel gave a dead thread's id to a new one
            older.alive = False
            older.num = None
        lwps[lwp] = record
        self.records.setdefault(key, []).append(record)
        return record

    # --- life and death --------------------------------------------------------------------

    def thread_gone(self, inferior: int, pid: int, lwp: int) -> None:
        record = self.by_lwp.get((inferior, pid), {}).get(lwp)
        if record is not None:
            record.alive = False
            record.num = None

    def refresh(self, inferior: int, pid: int, live: Mapping[int, tuple[int | None, str | None]]
                ) -> None:
        """Mark who is alive: `live` maps each live LWP of the process to (gdb number, name)."""
        for lwp, record in self.by_lwp.get((inferior, pid), {}).items():
            if lwp in live:
                record.num, name = live[lwp]
                if name:
                    record.name = name
                record.alive = True
            else:
                record.alive = False
                record.num = None

    def process_ended(self, inferior: int, pid: int | None = None) -> None:
        """The process exited, was killed or detached from (pid None: any of this inferior)."""
        for key in list(self.pending):
            if key[0] == inferior and (pid is None or key[1] == pid):
                del self.pending[key]
        for key, records in self.records.items():
            if key[0] == inferior and (pid is None or key[1] == pid):
                for record in records:
                    record.alive = False
                    record.num = None

    def forget_pending(self, inferior: int, pid: int | None = None) -> None:
        """Drop creations no thread will answer (the program exec'd, or the inferior went)."""
        for key in list(self.pending):
            if key[0] == inferior and (pid is None or key[1] == pid):
                del self.pending[key]

    # --- queries ---------------------------------------------------------------------------

    def lookup(self, pid: int, lwp: int, inferior: int | None = None) -> OriginRecord | None:
        """The newest record of thread `lwp` of process `pid`."""
        best = None
        for key, lwps in self.by_lwp.items():
            if key[1] != pid or (inferior is not None and key[0] != inferior):
                continue
            record = lwps.get(lwp)
            if record is not None and (best is None or record.seq > best.seq):
                best = record
        return best

    def all_records(self) -> list[OriginRecord]:
        out = [r for records in self.records.values() for r in records]
        out.sort(key=lambda r: r.seq)
        return out

    def records_of(self, inferior: int, pid: int) -> list[OriginRecord]:
        """In creation order (threads are paired in the order gdb reports them)."""
        return sorted(self.records.get((inferior, pid), []), key=lambda r: r.seq)

    def latest_pid(self, inferior: int) -> int | None:
        """The process of `inferior` recorded last (the current one, or the one that ended)."""
        best = None
        for key, records in self.records.items():
            if key[0] == inferior and records and (best is None or records[-1].seq > best[1]):
                best = (key[1], records[-1].seq)
        return best[0] if best else None

    def counts(self) -> dict[str, int]:
        records = self.all_records()
        return {
            "threads": len(records),
            "alive": sum(1 for r in records if r.alive),
            "pending": sum(len(t) for t in self.pending.values()),
            "processes": self.process_count,
            "unpaired": self.unpaired,
        }
