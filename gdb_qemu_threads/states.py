"""What a thread is doing now, from its innermost frames: guest, idle, lock, io, running.

glibc names the same call many ways across versions and builds (`__GI___poll`, `__ppoll`,
`___pthread_cond_wait`, `__futex_abstimed_wait_common64`), so names are first reduced to a
canonical form.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import List, Optional, Sequence, Tuple

from .model import Frame

_PREFIX = re.compile(r"^(?:_+(?:GI_+|libc_+)?)+")


@lru_cache(maxsize=4096)
def canonical(name: Optional[str]) -> str:
    """`__GI___poll` -> `poll`, `__libc_read` -> `read`, `___pthread_cond_wait` -> `pthread_cond_wait`."""
    if not name:
        return ""
    stripped = _PREFIX.sub("", name.split("@", 1)[0])  # "pthread_cond_wait@@GLIBC_2.3.2"
    if stripped.endswith("64") and stripped[:-2] in _SIXTY_FOUR:
        stripped = stripped[:-2]
    return stripped or name


_SIXTY_FOUR = {"pread", "pwrite", "preadv", "pwritev", "futex_abstimed_wait_common",
               "futex_abstimed_wait_cancelable", "clock_nanosleep", "futex_abstimed_wait",
               "ppoll", "fstatat", "lseek", "openat", "sem_clockwait", "pthread_cond_timedwait",
               "sem_timedwait", "new_sem_wait_slow"}

# Where a thread sleeps until something happens: the C library's calls, and other
# libraries' waits that name a better "where" than the syscall under them.
LIBC_WAIT = frozenset("""
poll ppoll select pselect pselect6 epoll_wait epoll_pwait epoll_pwait2
futex_wait futex_abstimed_wait futex_abstimed_wait_common futex_abstimed_wait_cancelable
futex_wait_cancelable lll_futex_wait pthread_cond_wait pthread_cond_timedwait
pthread_cond_clockwait pthread_cond_wait_common sem_wait sem_timedwait sem_clockwait
do_futex_wait sem_wait_slow new_sem_wait_slow syscall nanosleep clock_nanosleep usleep sleep pause sigwait
sigwaitinfo sigtimedwait sigsuspend
""".split())
LIBRARY_WAIT = frozenset("""
g_poll g_usleep g_cond_wait g_cond_wait_until g_async_queue_pop_intern_unlocked
io_uring_wait_cqe io_uring_submit_and_wait io_getevents WaitForMultipleObjects
SleepConditionVariableSRW
""".split())
WAIT = LIBC_WAIT | LIBRARY_WAIT

# Blocking I/O.
IO = frozenset("""
read write pread pwrite readv writev preadv pwritev preadv2 pwritev2 fsync fdatasync
sync_file_range recv recvfrom recvmsg recvmmsg send sendto sendmsg sendmmsg accept accept4
connect open openat fallocate io_submit copy_file_range splice sendfile ioctl
fstatat fstat lseek flock fcntl
""".split())

# Mutex waits, innermost first: the glibc part, then QEMU's wrappers.
LOCK = frozenset("""
lll_lock_wait lll_lock_wait_private pthread_mutex_lock pthread_mutex_lock_full
pthread_mutex_cond_lock pthread_mutex_timedlock pthread_mutex_clocklock
pthread_rwlock_rdlock pthread_rwlock_wrlock pthread_rwlock_rdlock_full
pthread_rwlock_wrlock_full futex_lock_pi
qemu_mutex_lock_impl qemu_rec_mutex_lock_impl qemu_mutex_lock_iothread_impl bql_lock_impl
qemu_mutex_lock qemu_mutex_lock_iothread bql_lock qemu_co_mutex_lock
""".split())

BQL_LOCKERS = frozenset(["qemu_mutex_lock_iothread_impl", "bql_lock_impl",
                         "qemu_mutex_lock_iothread", "bql_lock"])

# Where a vCPU is inside the guest.
KVM_RUN_CALLERS = frozenset(["kvm_vcpu_ioctl", "kvm_cpu_exec"])
GUEST_RUN = frozenset(["hv_vcpu_run", "hv_vcpu_run_until", "WHvRunVirtualProcessor",
                       "nvmm_vcpu_run", "hax_vcpu_run", "mshv_run_vcpu"])
TCG_EXEC = frozenset(["cpu_tb_exec", "cpu_exec_loop", "cpu_exec_setjmp", "cpu_exec",
                      "tcg_cpu_exec", "code_gen_buffer"])

# Frames of the C library and of QEMU's thin wrappers, skipped when naming "where" it waits.
WRAPPERS = frozenset("""
qemu_poll_ns qemu_cond_wait_impl qemu_cond_timedwait_impl qemu_sem_wait qemu_sem_timedwait
qemu_event_wait qemu_futex_wait qemu_cond_wait qemu_cond_timedwait qemu_cond_wait_bql
fdmon_poll_wait fdmon_epoll_wait g_main_context_poll g_main_context_iterate
g_main_context_poll_unlocked g_main_context_iterate_unlocked os_host_main_loop_wait
kvm_vcpu_ioctl
""".split()) | WAIT | IO | LOCK

# Window of innermost frames that decides the state.
WINDOW = 8


_START = frozenset(["start_thread", "clone", "clone3", "qemu_thread_start", "g_thread_proxy",
                    "__libc_start_main", "__libc_start_call_main", "_start"])


def _short(name: str) -> str:
    """The wait or I/O call in words people know: futex variants are all a futex wait."""
    return "futex wait" if name.startswith(("futex", "lll_futex")) else name


def _where(frames: Sequence[Frame], start: int) -> str:
    """The frame that says where a thread waits: the first one that is not the C library or
    a thin QEMU wrapper, else the wrapper itself; never the thread-start plumbing."""
    fallback = ""
    for frame in frames[start + 1:]:
        name = canonical(frame.function)
        if not frame.function:
            continue
        if name in _START or frame.function in _START:
            break
        if name in WRAPPERS or name.startswith("futex"):
            if not fallback and name not in LIBC_WAIT and name not in IO and name not in LOCK:
                fallback = frame.function
            continue
        return frame.function
    return fallback


def is_context_frame(frame: Frame) -> bool:
    """A frame of the program's own code, past the C library and QEMU's thin wrappers.

    The state is decided by the frames up to and including the first such frame, so a
    reader that already knows the role (from the thread name) can stop unwinding there."""
    name = canonical(frame.function)
    return bool(frame.function) and name not in WRAPPERS and name not in _START \
        and not name.startswith(("futex", "lll_"))


def _phrase(what: str, frames: Sequence[Frame], start: int) -> str:
    where = _where(frames, start)
    return "%s in %s" % (what, where) if where else what


def decide_state(frames: Sequence[Frame], role: str = "unknown") -> Tuple[str, str]:
    """(state, activity) from the innermost frames; activity is a few words for people."""
    if not frames:
        return "unknown", "no frames"
    names: List[str] = [canonical(f.function) for f in frames[:WINDOW]]
    if frames[0].pc == 0 and not frames[0].function:
        return "unknown", "no user-space stack"
    # A vCPU inside the guest.
    if names[0] == "ioctl" and any(n in KVM_RUN_CALLERS for n in names[1:4]):
        return "guest", "in KVM_RUN"
    if names[0] == "ioctl" and role == "vcpu" and len(frames) == 1:
        return "guest", "in ioctl: KVM_RUN, presumably"  # only the top frame is known
    for i, name in enumerate(names):
        if name in GUEST_RUN:
            return "guest", "running the guest (%s)" % frames[i].function
    if role == "vcpu" and any(n in TCG_EXEC for n in names):
        tb = next((i for i, n in enumerate(names) if n in TCG_EXEC), 0)
        jit = [f for f in frames[:tb] if not f.function and not f.library]
        if names[tb] == "code_gen_buffer" or jit or tb == 0:
            return "guest", "running translated code (TCG)"
    # Blocked on a mutex, the BQL included.
    for i, name in enumerate(names):
        if name in LOCK:
            if any(canonical(f.function) in BQL_LOCKERS for f in frames[i:i + WINDOW]):
                return "lock", _phrase("waiting for the BQL", frames, i)
            return "lock", _phrase("waiting for a mutex", frames, i)
        if name not in WAIT and not name.startswith(("futex", "lll_")) and name != "":
            break
    top = names[0]
    if top in IO or (top == "" and len(names) > 1 and names[1] in IO):
        index = 0 if top in IO else 1
        return "io", _phrase(names[index], frames, index)
    for i, name in enumerate(names[:3]):
        if name in WAIT or name.startswith("futex"):
            return "idle", _phrase(_short(name), frames, i)
        if name and name not in WRAPPERS:
            break
    if frames[0].function:
        return "running", "in %s" % frames[0].function
    return "unknown", "in ??"
