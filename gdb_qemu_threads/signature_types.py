"""One signature: the evidence that decides a role (the keys are explained in signatures.py)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class Signature:
    id: str
    role: str
    detail: str                      # may use {vcpu}, {accel_name}, {iothread}, {name}
    accel: str | None = None
    entries: tuple[str, ...] = ()
    frames: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    libraries: tuple[str, ...] = ()
    after_anon: tuple[str, ...] = ()
    versions: str = ""               # which QEMU versions the evidence holds for, and where it is
    qemu: bool = True                # a thread QEMU itself creates (decides "is this QEMU?")
    user: bool = False               # from a user's signatures file: patterns see short texts
    home: tuple[str, ...] = ()       # where it waits when all is well (see above)


def _sig(id: str, role: str, detail: str, *, accel: str | None = None, entries: Sequence[str] = (),
         frames: Sequence[str] = (), names: Sequence[str] = (), libraries: Sequence[str] = (),
         after_anon: Sequence[str] = (), versions: str = "", qemu: bool = True,
         user: bool = False, home: Sequence[str] = ()) -> Signature:
    """A Signature from lists (as written below, or as JSON gives them)."""
    return Signature(id, role, detail, accel, tuple(entries), tuple(frames), tuple(names),
                     tuple(libraries), tuple(after_anon), versions, qemu, user, tuple(home))
