"""`qemu-threads --annotate`: gdb's own `info threads` names each thread after its role.

Only gdb's name for the thread changes, never the program. A name the user gave a thread
with `thread name` is theirs: it is left as it is, and --unannotate gives every other thread
back the name it had.
"""
from __future__ import annotations

import gdb

from ..inferior.process import os_thread_name
from ..model import ThreadReport
from . import session

# (inferior, lwp) -> the name we gave the thread
_given: dict[tuple[int, int], str] = {}


def short_name(report: ThreadReport) -> str:
    """"vCPU 0 (KVM)", "iothread iot0", "main loop?": the detail, else the role."""
    v = report.verdict
    return (v.detail or v.role) + ("?" if v.confidence == "low" and v.role != "unknown" else "")


def annotate(reports: list[ThreadReport]) -> None:
    inferior = gdb.selected_inferior()
    by_num = {t.num: t for t in inferior.threads()}
    for report in reports:
        num, lwp = report.snapshot.num, report.snapshot.lwp
        thread = by_num.get(num) if num is not None else None
        if thread is None or lwp is None:
            continue
        key = (inferior.num, lwp)
        if key not in _given and thread.name != os_thread_name(thread):
            continue  # the user named it: keep their name
        session.os_names.setdefault(key, report.snapshot.name)
        _given[key] = thread.name = short_name(report)


def restore() -> None:
    """Give back the names gdb had, except where the user renamed a thread since."""
    inferior = gdb.selected_inferior()
    for thread in inferior.threads():
        key = (inferior.num, thread.ptid[1])
        if key in _given and thread.name == _given[key]:
            thread.name = None
    for key in [k for k in _given if k[0] == inferior.num]:
        del _given[key]
        session.os_names.pop(key, None)
