# gdb.events: the registries gdb_qemu_threads connects to (gdb 13).
from collections.abc import Callable
from typing import Any

class EventRegistry:
    def connect(self, handler: Callable[[Any], object]) -> None: ...
    def disconnect(self, handler: Callable[[Any], object]) -> None: ...

new_thread: EventRegistry
exited: EventRegistry
inferior_deleted: EventRegistry
clear_objfiles: EventRegistry
new_objfile: EventRegistry
free_objfile: EventRegistry
