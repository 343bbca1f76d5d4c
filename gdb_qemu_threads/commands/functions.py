"""Convenience functions, gdb's own way to script: `eval "thread %d", $_qemu_thread("vcpu", 2)`."""
from __future__ import annotations

import gdb

from ..model import ROLES, ThreadReport
from . import session


def _text(value: gdb.Value) -> str:
    try:
        return value.string()
    except gdb.error:
        raise gdb.GdbError("expected a string, got %s" % value) from None


class QemuThread(gdb.Function):
    """Return the gdb number of a QEMU thread, found by its role.

Usage: $_qemu_thread(ROLE [, WHICH])
ROLE is a qemu-threads role ("vcpu", "iothread", "main-loop", ...). WHICH is a vCPU index
for "vcpu", an iothread id for "iothread", else the n-th thread of the role (from 0).
gdb's `thread` takes a number or a convenience variable, not a call, so:
  eval "thread %d", $_qemu_thread("vcpu", 2)           switches to vCPU 2
  eval "thread apply %d bt", $_qemu_thread("iothread", "iot0")
  set $main = $_qemu_thread("main-loop")"""

    def __init__(self) -> None:
        super().__init__("_qemu_thread")

    def invoke(self, role_value: gdb.Value, which: gdb.Value | None = None) -> int:
        role = _text(role_value)
        if role not in ROLES:
            raise gdb.GdbError("$_qemu_thread: unknown role %r (one of: %s)" % (role, ", ".join(ROLES)))
        analysis = session.analyze_selected(named_decides=session.name_decides())
        found = _find([r for r in analysis.reports if r.verdict.role == role], role, which)
        if found is None or found.snapshot.num is None:
            raise gdb.GdbError("$_qemu_thread: no %s%s in this process"
                               % (role, "" if which is None else " %s" % which))
        return found.snapshot.num


def _find(reports: list, role: str, which: gdb.Value | None) -> ThreadReport | None:
    if which is None:
        return reports[0] if reports else None
    if role == "iothread" and which.type.strip_typedefs().code != gdb.TYPE_CODE_INT:
        wanted = _text(which)
        return next((r for r in reports if r.verdict.iothread == wanted), None)
    index = int(which)
    if role == "vcpu":
        return next((r for r in reports if r.verdict.vcpu == index), None)
    return reports[index] if 0 <= index < len(reports) else None


class QemuThreadRole(gdb.Function):
    """Return the qemu-threads role of a thread (the selected one by default), as a string.

Usage: $_qemu_thread_role([NUM])
Example: thread apply all -s python if gdb.parse_and_eval('$_qemu_thread_role()').string()
== "vcpu": gdb.execute("bt 3")"""

    def __init__(self) -> None:
        super().__init__("_qemu_thread_role")

    def invoke(self, num: gdb.Value | None = None) -> str:
        if num is not None:
            wanted = int(num)
        else:
            selected = gdb.selected_thread()
            if selected is None:
                raise gdb.GdbError("$_qemu_thread_role: no thread selected")
            wanted = selected.num
        analysis = session.analyze_selected(named_decides=session.name_decides())
        for report in analysis.reports:
            if report.snapshot.num == wanted:
                return report.verdict.role
        raise gdb.GdbError("$_qemu_thread_role: no thread %d" % wanted)


def register() -> None:
    QemuThread()
    QemuThreadRole()
