"""Every set of function names the analysis knows, written once.

glibc names one call many ways across versions and builds (`__GI___poll`, `__ppoll`,
`___pthread_cond_wait`, `__futex_abstimed_wait_common64`, `pthread_create@@GLIBC_2.34`), so
every set here holds canonical names (see `canonical`) and is tested with `canonical(name)`.
The signature table (signatures.py) is the other list of names: what decides a role.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import Frame

_PREFIX = re.compile(r"^(?:_+(?:GI_+|libc_+)?)+")
_SIXTY_FOUR = frozenset("""
pread pwrite preadv pwritev futex_abstimed_wait_common futex_abstimed_wait_cancelable
clock_nanosleep futex_abstimed_wait ppoll fstatat lseek openat sem_clockwait
pthread_cond_timedwait sem_timedwait new_sem_wait_slow
""".split())


@lru_cache(maxsize=8192)
def canonical(name: str | None) -> str:
    """`__GI___poll` -> `poll`, `__libc_read` -> `read`, `___pthread_cond_wait` -> `pthread_cond_wait`."""
    if not name:
        return ""
    stripped = _PREFIX.sub("", name.split("@", 1)[0])
    if stripped.endswith("64") and stripped[:-2] in _SIXTY_FOUR:
        stripped = stripped[:-2]
    return stripped or name


def _names(text: str) -> frozenset[str]:
    return frozenset(canonical(word) for word in text.split())


# --- how threads start and are created ---------------------------------------------------------
# The clone wrappers that make the system call (what qemu-thread-origins breaks on).
CLONE = _names("clone clone3")
# The outer frames of every thread: unwinding further teaches nothing.
THREAD_START = _names("""
clone clone3 clone_internal start_thread thread_start qemu_thread_start g_thread_proxy
win32_start_routine _start __libc_start_main __libc_start_call_main __libc_start_main_impl
__libc_start_main_alias_2 internal_thread_func
""")
# The thread libraries' frames between the clone wrapper and the code that asked for a
# thread: a creation backtrace's callers start above them.
THREAD_LIBRARY = CLONE | _names("""
clone_internal create_thread pthread_create pthread_create_2_1 g_thread_new g_thread_try_new
g_thread_new_internal g_system_thread_new qemu_thread_create_internal
""")
# ... and QEMU's and PulseAudio's own wrappers: the "created by" column names the code that
# asked them.
THREAD_CREATION = THREAD_LIBRARY | _names("qemu_thread_create pa_thread_new")

# --- where threads sleep -----------------------------------------------------------------------
# The C library's waits, and other libraries' waits that say more than the syscall under them.
LIBC_WAIT = _names("""
poll ppoll select pselect pselect6 epoll_wait epoll_pwait epoll_pwait2
futex_wait futex_abstimed_wait futex_abstimed_wait_common futex_abstimed_wait_cancelable
futex_wait_cancelable lll_futex_wait pthread_cond_wait pthread_cond_timedwait
pthread_cond_clockwait pthread_cond_wait_common sem_wait sem_timedwait sem_clockwait
do_futex_wait sem_wait_slow new_sem_wait_slow syscall nanosleep clock_nanosleep usleep sleep
pause sigwait sigwaitinfo sigtimedwait sigsuspend
__psynch_cvwait __semwait_signal __ulock_wait mach_msg_trap mach_msg2_trap kevent kevent64
__workq_kernreturn
""")
LIBRARY_WAIT = _names("""
g_poll g_usleep g_cond_wait g_cond_wait_until g_async_queue_pop_intern_unlocked
io_uring_wait_cqe io_uring_submit_and_wait io_getevents WaitForMultipleObjects
SleepConditionVariableSRW
""")
WAIT = LIBC_WAIT | LIBRARY_WAIT

# Blocking I/O calls.
IO = _names("""
read write pread pwrite readv writev preadv pwritev preadv2 pwritev2 fsync fdatasync
sync_file_range recv recvfrom recvmsg recvmmsg send sendto sendmsg sendmmsg accept accept4
connect open openat fallocate io_submit copy_file_range splice sendfile ioctl
fstatat fstat lseek flock fcntl
""")

# --- locks and events --------------------------------------------------------------------------
# The frames of a mutex wait, glibc's and QEMU's.
BQL_LOCKERS = _names("qemu_mutex_lock_iothread_impl bql_lock_impl qemu_mutex_lock_iothread bql_lock")
MUTEX_WAIT = BQL_LOCKERS | _names("""
lll_lock_wait lll_lock_wait_private pthread_mutex_lock pthread_mutex_lock_full
pthread_mutex_cond_lock pthread_mutex_timedlock pthread_mutex_clocklock lll_mutex_lock_optimized
qemu_mutex_lock_impl qemu_rec_mutex_lock_impl qemu_mutex_lock qemu_rec_mutex_lock
""")
RWLOCK_WAIT = _names("""
pthread_rwlock_rdlock pthread_rwlock_wrlock pthread_rwlock_rdlock_full pthread_rwlock_wrlock_full
pthread_rwlock_timedrdlock pthread_rwlock_timedwrlock pthread_rwlock_clockrdlock
pthread_rwlock_clockwrlock
""")
# A coroutine mutex: the coroutine yields, the thread does not sleep on it.
CO_MUTEX_WAIT = _names("qemu_co_mutex_lock")
# Every frame that says "waiting for a lock" in the state column.
LOCK_WAIT = MUTEX_WAIT | RWLOCK_WAIT | CO_MUTEX_WAIT | _names("futex_lock_pi __psynch_mutexwait")

# Waits for something another thread signals, by the type people know them as; the
# outermost of these among the waiting frames names the type (a QemuSemaphore is built on a
# condition variable in some versions).
EVENT_TYPES: tuple[tuple[frozenset[str], str], ...] = (
    (_names("qemu_event_wait qemu_futex_wait"), "QemuEvent"),
    (_names("qemu_sem_wait qemu_sem_timedwait"), "QemuSemaphore"),
    (_names("qemu_cond_wait_impl qemu_cond_timedwait_impl qemu_cond_wait qemu_cond_timedwait "
            "qemu_cond_wait_bql"), "QemuCond"),
    (_names("g_cond_wait g_cond_wait_until"), "GCond"),
    (_names("pthread_cond_wait pthread_cond_timedwait pthread_cond_clockwait "
            "pthread_cond_wait_common"), "condition variable"),
    (_names("sem_wait sem_timedwait sem_clockwait do_futex_wait sem_wait_slow new_sem_wait_slow"),
     "semaphore"),
)
EVENT_WAIT = frozenset(name for names, _ in EVENT_TYPES for name in names)

# The argument that holds the lock or event, by function: what a reader with debug info
# reads, and what a saved `bt` prints. A QemuMutex starts with its pthread_mutex_t, so both
# give one address. Listed outer objects first: a QemuEvent rather than the futex word in it.
WAIT_ARGUMENTS: dict[str, str] = {
    "qemu_rec_mutex_lock_impl": "mutex", "qemu_mutex_lock_impl": "mutex",
    "pthread_mutex_lock": "mutex", "pthread_mutex_cond_lock": "mutex",
    "pthread_mutex_timedlock": "mutex", "pthread_mutex_clocklock": "mutex",
    "lll_lock_wait": "futex", "pthread_rwlock_rdlock": "rwlock", "pthread_rwlock_wrlock": "rwlock",
    "qemu_event_wait": "ev", "qemu_sem_wait": "sem", "qemu_sem_timedwait": "sem",
    "qemu_cond_wait_impl": "cond", "qemu_cond_timedwait_impl": "cond",
    "pthread_cond_wait": "cond", "pthread_cond_timedwait": "cond",
    "pthread_cond_clockwait": "cond", "pthread_cond_wait_common": "cond",
    "sem_wait": "sem", "sem_timedwait": "sem", "sem_clockwait": "sem",
    "new_sem_wait_slow": "sem", "do_futex_wait": "sem",
}

# QEMU's waits on a condition whose mutex is the BQL (a vCPU's halt_cond, run_on_cpu's
# qemu_work_cond, pause_all_vcpus): waking up, they queue for the BQL inside pthread_cond_wait.
# qemu_wait_io_event (softmmu/cpus.c 4.2-8.2, system/cpus.c 9.0+), qemu_kvm_wait_io_event and
# qemu_tcg_wait_io_event (<=4.1), qemu_tcg_rr_wait_io_event (<=5.2), rr_wait_io_event (6.0+),
# qemu_cond_wait_iothread (8.2) -> qemu_cond_wait_bql (9.0+).
BQL_COND_WAITERS = _names("""
qemu_wait_io_event qemu_kvm_wait_io_event qemu_tcg_wait_io_event qemu_tcg_rr_wait_io_event
rr_wait_io_event qemu_cond_wait_iothread qemu_cond_timedwait_iothread qemu_cond_wait_bql
qemu_cond_timedwait_bql do_run_on_cpu pause_all_vcpus
""")
# Well-known locks: by the symbol at the lock's address, then by the frame that waits.
LOCK_SYMBOLS = {"qemu_global_mutex": "BQL", "bql": "BQL", "qemu_cpu_list_lock": "qemu_cpu_list_lock"}
LOCKS_BY_FRAME: tuple[tuple[frozenset[str], str], ...] = (
    (BQL_LOCKERS | BQL_COND_WAITERS, "BQL"),
    (_names("aio_context_acquire"), "AioContext lock"),
    (_names("cpu_list_lock"), "qemu_cpu_list_lock"),
)

# Event loops a thread runs inside another function to wait for something (AIO_WAIT_WHILE and
# BDRV_POLL_WHILE expand to aio_poll): away from the thread's own loop, a nested event loop.
NESTED_LOOPS = _names("aio_poll g_main_context_iteration g_main_loop_run")

# --- vCPUs ------------------------------------------------------------------------------------
KVM_RUN_CALLERS = _names("kvm_vcpu_ioctl kvm_cpu_exec")
GUEST_RUN = _names("hv_vcpu_run hv_vcpu_run_until WHvRunVirtualProcessor nvmm_vcpu_run "
                   "hax_vcpu_run mshv_run_vcpu")
TCG_EXEC = _names("cpu_tb_exec cpu_exec_loop cpu_exec_setjmp cpu_exec tcg_cpu_exec code_gen_buffer")
# With debug info, these functions' CPUState argument gives the vCPU index (`cpu_index`);
# `arg` is a thread function's void * argument, which QEMU passes a CPUState in.
# Where every accelerator's vCPU sleeps (system/cpus.c): they do not say which accelerator.
VCPU_NEUTRAL_WAITS = frozenset({"qemu_wait_io_event", "qemu_process_cpu_events",
                                "qemu_wait_io_event_common", "qemu_process_cpu_events_common"})
CPU_INDEX_ARGUMENTS: dict[str, str] = {
    "kvm_vcpu_thread_fn": "arg", "qemu_kvm_cpu_thread_fn": "arg", "mttcg_cpu_thread_fn": "arg",
    "tcg_cpu_thread_fn": "arg", "qemu_tcg_cpu_thread_fn": "arg", "hvf_cpu_thread_fn": "arg",
    "qemu_hvf_cpu_thread_fn": "arg", "whpx_cpu_thread_fn": "arg", "qemu_whpx_cpu_thread_fn": "arg",
    "qemu_nvmm_cpu_thread_fn": "arg", "hax_cpu_thread_fn": "arg", "qemu_hax_cpu_thread_fn": "arg",
    "dummy_cpu_thread_fn": "arg", "qemu_dummy_cpu_thread_fn": "arg", "mshv_vcpu_thread": "arg",
    "kvm_cpu_exec": "cpu", "qemu_wait_io_event": "cpu", "qemu_process_cpu_events": "cpu",
}
# iothread.c, all versions: static void *iothread_run(void *opaque)
IOTHREAD_ENTRY = "iothread_run"

# --- QEMU's thin wrappers -----------------------------------------------------------------------
# Skipped when naming where a thread waits: the frame past them says more.
WAIT_WRAPPERS = _names("""
qemu_poll_ns qemu_cond_wait_impl qemu_cond_timedwait_impl qemu_sem_wait qemu_sem_timedwait
qemu_event_wait qemu_futex_wait qemu_cond_wait qemu_cond_timedwait qemu_cond_wait_bql
fdmon_poll_wait fdmon_epoll_wait g_main_context_poll g_main_context_iterate
g_main_context_poll_unlocked g_main_context_iterate_unlocked os_host_main_loop_wait
kvm_vcpu_ioctl
""") | WAIT | IO | LOCK_WAIT

# Functions only a QEMU process has: one of them on any stack says "this is QEMU".
QEMU_ONLY = _names("""
qemu_thread_start qemu_thread_create qemu_main_loop qemu_default_main main_loop_wait
qemu_event_wait qemu_cond_wait_impl qemu_cond_timedwait_impl qemu_mutex_lock_impl
qemu_poll_ns qemu_sem_timedwait
""")
# Names a QEMU process shows for threads it did not name: the process name.
QEMU_PROCESS_NAMES = ("qemu-system-", "qemu-kvm", "qemu-x86_64", "qemu-aarch64", "qemu-storage-d")
# Shared objects of the C library (a ?? frame there is libc's thread-start code).
LIBC_OBJECTS = ("libc.so", "libc-2.", "libpthread", "ld-linux")
# x86-64 system calls a thread may sleep in, by number (orig_rax): what state each means.
# Read where frame 0 is the program's own code (a raw `syscall` instruction).
SYSCALLS_X86_64: dict[int, tuple[str, str]] = {
    0: ("io", "read"), 1: ("io", "write"), 7: ("idle", "poll"), 16: ("io", "ioctl"),
    17: ("io", "pread64"), 18: ("io", "pwrite64"), 19: ("io", "readv"), 20: ("io", "writev"),
    23: ("idle", "select"), 34: ("idle", "pause"), 35: ("idle", "nanosleep"),
    42: ("io", "connect"), 43: ("io", "accept"), 44: ("io", "sendto"), 45: ("io", "recvfrom"),
    46: ("io", "sendmsg"), 47: ("io", "recvmsg"), 61: ("idle", "wait4"), 74: ("io", "fsync"),
    75: ("io", "fdatasync"), 128: ("idle", "rt_sigtimedwait"), 202: ("idle", "futex wait"),
    208: ("io", "io_getevents"), 230: ("idle", "clock_nanosleep"), 232: ("idle", "epoll_wait"),
    270: ("idle", "pselect6"), 271: ("idle", "ppoll"), 281: ("idle", "epoll_pwait"),
    288: ("io", "accept4"), 426: ("io", "io_uring_enter"),
}
# Where a thread that crashed on purpose stands: abort() and what calls it.
CRASH_FRAMES = _names("""
abort raise pthread_kill pthread_kill_implementation pthread_kill_internal __assert_fail
__assert_fail_base g_assertion_message g_assertion_message_expr
""")
# The frames of a failed assertion: glibc's assert() and GLib's g_assert*(), whose message
# each library keeps in memory before abort() (inferior/crash_facts.py).
GLIBC_ASSERT = _names("__assert_fail __assert_fail_base __assert_perror_fail")
GLIB_ASSERT = _names("""
g_assertion_message g_assertion_message_expr g_assertion_message_cmpnum
g_assertion_message_cmpstr g_assertion_message_error
""")
# Waits with no owner in glibc whose culprit QEMU keeps in memory: the function that waits ->
# what it waits for, what reading them needs (inferior/ownerless.py reads them), and what for.
# pause_all_vcpus (cpus.c, softmmu/cpus.c, system/cpus.c): the vCPUs whose CPUState.stopped is
# false, on the `cpus` list (`cpus_queue` 8.2+); synchronize_rcu (util/rcu.c): the threads
# whose rcu_reader.ctr is set and is not rcu_gp_ctr (rcu_gp_ongoing).
OWNERLESS_WAITS: dict[str, tuple[str, str, str]] = {
    "pause_all_vcpus": ("the vCPUs that have not stopped (CPUState.stopped is false)",
                        "QEMU's debug info for CPUState and the cpus list", "to stop"),
    "synchronize_rcu": ("the threads inside an RCU read-side critical section (rcu_reader.ctr)",
                        "QEMU's debug info for rcu_reader (a thread-local variable)",
                        "to leave its RCU read-side critical section"),
}
# A drain (block/io.c: bdrv_drain_all_begin, bdrv_do_drained_begin under bdrv_drained_begin,
# blk_drain, blk_drain_all, all versions) polls until no node of all_bdrv_states (block.c) has
# requests in flight: its culprits are block nodes, not threads.
DRAINS = _names("bdrv_drain_all_begin bdrv_do_drained_begin bdrv_drained_begin bdrv_drain_all "
                "bdrv_drain blk_drain blk_drain_all")
for _drain in DRAINS:
    OWNERLESS_WAITS[_drain] = ("the block nodes with requests in flight (BlockDriverState."
                               "in_flight)", "QEMU's debug info for BlockDriverState and the "
                               "all_bdrv_states list", "")
# wait_for_readers (static, util/rcu.c) is synchronize_rcu's own wait, often inlined into it:
# a stack read only to its first QEMU frame ends there.
OWNERLESS_WAITS["wait_for_readers"] = OWNERLESS_WAITS["synchronize_rcu"]
# Frame 0 of a coroutine's first frame: a stack that ends here is a coroutine's.
COROUTINE_START = _names("coroutine_trampoline")


def is_libc_frame(frame: Frame) -> bool:
    """A frame of the C library: by its shared object where known, else by its name."""
    if frame.library:
        return frame.library.rsplit("/", 1)[-1].startswith(LIBC_OBJECTS)
    base = canonical(frame.function)
    return base in LIBC_WAIT or base in IO or base.startswith(("futex", "lll_", "pthread_"))


def is_plumbing(name: str | None) -> bool:
    """A frame of the C library's or QEMU's wait and lock plumbing (or unnamed)."""
    base = canonical(name)
    return not name or base in WAIT_WRAPPERS or base in THREAD_START \
        or base.startswith(("futex", "lll_"))
