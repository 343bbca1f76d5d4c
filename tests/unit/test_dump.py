"""The offline reader on gdb text as people paste it.

Inputs are gdb output copied verbatim (tests/data: a QEMU write-up's `info threads` table and
backtraces; gdb 13 attached to and reading a core of a small threaded program) or written
the way gdb 7 to 15 print it. Every expected value is read off the input text.
"""
from __future__ import annotations

import io
from pathlib import Path

import pytest

from gdb_qemu_threads.dump import DumpError, parse_dump_text, parse_dumps

DATA = Path(__file__).resolve().parents[1] / "data"


def read(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def one(text: str):
    dumps = parse_dump_text(text)
    assert len(dumps) == 1
    return dumps[0]


def names(snap):
    return [f.function for f in snap.frames]


# -- the seed write-up ----------------------------------------------------------------------

def test_seed_info_threads_table():
    threads = one(read("seed-info-threads.txt"))
    assert [t.num for t in threads] == list(range(1, 11))
    assert [t.lwp for t in threads] == [1389363, 1389367, 1389373, 1389374, 1389377,
                                        1389378, 1389381, 1389382, 1389385, 1389387]
    assert [t.name for t in threads] == ["qemu-system-x86"] * 2 + ["gmain", "gdbus"] + \
        ["qemu-system-x86"] * 4 + ["threaded-ml", "qemu-system-x86"]
    assert [t.current for t in threads] == [True] + [False] * 9
    assert [t.frames[0].function for t in threads] == [
        "__ppoll", "syscall", "__GI___poll", "__GI___poll", "__ppoll",
        "futex_abstimed_wait_cancelable", "ioctl", "ioctl", "__GI___poll",
        "futex_abstimed_wait_cancelable"]
    assert all(len(t.frames) == 1 and not t.complete and t.unreadable is None for t in threads)
    top = threads[0].frames[0]
    assert (top.pc, top.file, top.line, top.library, top.inlined) == (
        0x00007ffff61a6bf6, "../sysdeps/unix/sysv/linux/ppoll.c", 44, None, False)
    syscall = threads[1].frames[0]  # "syscall () at ...": no address
    assert (syscall.pc, syscall.file, syscall.line, syscall.inlined) == (
        None, "../sysdeps/unix/sysv/linux/x86_64/syscall.S", 38, False)
    assert threads[6].frames[0].pc == 0x00007ffff61a850b
    assert threads[6].frames[0].line == 78


def test_seed_threaded_ml_backtrace():
    # ">>> thread 8", "[Switching to thread 8 ...]", the frame gdb prints, a source line,
    # ">>> bt" and the backtrace: one thread.
    (snap,) = one(read("seed-threaded-ml-bt.txt"))
    assert (snap.num, snap.lwp, snap.name, snap.complete, snap.unreadable) == (8, 1186997, None, True, None)
    assert names(snap) == ["__GI___poll", None, "pa_mainloop_poll", "pa_mainloop_iterate",
                           "pa_mainloop_run", None, None, "start_thread", "clone"]
    pulse = "/lib/x86_64-linux-gnu/libpulse.so.0"
    assert [f.library for f in snap.frames] == [None] + [pulse] * 5 + [
        "/usr/lib/x86_64-linux-gnu/pulseaudio/libpulsecommon-13.99.so", None, None]
    assert snap.frames[1].pc == 0x00007ffff6df31d6
    assert snap.frames[1].file is None
    assert (snap.frames[7].file, snap.frames[7].line) == ("pthread_create.c", 477)
    assert (snap.frames[8].pc, snap.frames[8].line) == (0x00007ffff61b3293, 95)
    assert not any(f.inlined for f in snap.frames)


def test_seed_clone_backtrace_with_wrapped_lines():
    (snap,) = one(read("seed-clone-bt.txt"))
    assert (snap.num, snap.lwp, snap.complete) == (None, None, True)
    assert names(snap) == [
        "clone", "create_thread", "__pthread_create_2_1", "pa_thread_new",
        "pa_threaded_mainloop_start", "pulse_driver_open", None, None, "ca_context_play_full",
        "ca_gtk_play_for_widget", None, None, "g_main_context_dispatch", "glib_pollfds_poll",
        "os_host_main_loop_wait", "main_loop_wait", "qemu_main_loop", "main"]
    clone, create, pcreate = snap.frames[:3]
    assert (clone.pc, clone.line, clone.inlined) == (None, 50, False)  # #0 without address
    # "stackad" / "dr@entry=..." and "pthread_create.c" / ":817" were cut by the terminal.
    assert (create.pc, create.file, create.line) == (
        0x00007ffff628b2ec, "../sysdeps/unix/sysv/linux/createthread.c", 101)
    assert (pcreate.file, pcreate.line) == ("pthread_create.c", 817)
    assert [f.inlined for f in snap.frames[13:16]] == [False, True, True]
    assert snap.frames[14].pc is None and snap.frames[14].line == 255
    assert snap.frames[17].file == "../softmmu/main.c"


# -- real gdb 13 output -------------------------------------------------------------------

def test_gdb13_attach_table_bt_and_bt_full():
    # info threads, thread apply all bt, thread apply all bt full, bt: the second
    # `thread apply all` starts a second dump; the last `bt` is the selected thread's.
    first, second = parse_dump_text(read("dump-gdb13-attach.txt"))
    assert [t.num for t in first] == [1, 2, 3, 4]
    assert [t.lwp for t in first] == [30664, 30665, 30666, 30667]
    assert [t.name for t in first] == ["t", "IO io0", "IO io1", "IO io2"]
    assert [t.current for t in first] == [True, False, False, False]
    assert all(t.complete for t in first)
    assert names(first[1]) == ["__libc_pause", "inl", "worker", "start_thread", "clone3"]
    assert [f.inlined for f in first[1].frames] == [False, False, True, False, False]
    assert (first[1].frames[1].pc, first[1].frames[1].file, first[1].frames[1].line) == (0x00005648a084618d, "t.c", 5)
    assert first[1].frames[2].pc is None and first[1].frames[2].line == 6
    assert names(first[0]) == ["__GI___clock_nanosleep", "__GI___nanosleep", "__sleep", "main"]
    assert [t.num for t in second] == [4, 3, 2, 1]  # the order `thread apply all` shows
    assert [t.name for t in second] == ["IO io2", "IO io1", "IO io0", "t"]
    assert names(second[0]) == ["__libc_pause", "inl", "worker", "start_thread", "clone3"]
    assert names(second[3]) == ["__GI___clock_nanosleep", "__GI___nanosleep", "__sleep", "main"]
    assert second[3].frames[3].file == "t.c" and second[3].frames[3].line == 7


def test_gdb13_core_file_without_names():
    (threads,) = [one(read("dump-gdb13-core.txt"))]
    assert [(t.num, t.lwp, t.name) for t in threads] == [
        (1, 30664, None), (2, 30665, None), (3, 30666, None), (4, 30667, None)]
    assert threads[0].current
    assert all(t.complete and len(t.frames) in (4, 5) for t in threads)
    assert threads[3].frames[4].function == "clone3"
    assert threads[3].frames[4].pc == 0x00007F0553A1A8EC


# -- formats --------------------------------------------------------------------------------

GDB7 = """\
(gdb) info threads
  Id   Target Id         Frame
  3    Thread 0x7fffe9dfa700 (LWP 1389374) 0x00007ffff61a6aff in poll () from /lib/x86_64-linux-gnu/libc.so.6
  2    Thread 0x7fffea5fb700 (LWP 1389373) 0x00007ffff6296618 in pthread_cond_wait@@GLIBC_2.3.2 () from /lib/x86_64-linux-gnu/libpthread.so.0
* 1    Thread 0x7ffff7fd5740 (LWP 1389363) 0x00007ffff61a850b in ioctl () from /lib/x86_64-linux-gnu/libc.so.6
(gdb) thread apply all bt

Thread 3 (Thread 0x7fffe9dfa700 (LWP 1389374)):
#0  0x00007ffff61a6aff in poll () from /lib/x86_64-linux-gnu/libc.so.6
#1  0x00005555557a1e3c in aio_poll (ctx=0x555556230e00, blocking=true) at aio-posix.c:273
#2  0x00005555556b4d7e in iothread_run (opaque=0x555556230d60) at iothread.c:46
#3  0x00007ffff6290184 in start_thread () from /lib/x86_64-linux-gnu/libpthread.so.0
#4  0x00007ffff5fbd37d in clone () from /lib/x86_64-linux-gnu/libc.so.6

Thread 2 (Thread 0x7fffea5fb700 (LWP 1389373)):
#0  0x00007ffff6296618 in pthread_cond_wait@@GLIBC_2.3.2 () from /lib/x86_64-linux-gnu/libpthread.so.0
#1  0x0000555555a0c5c9 in qemu_cond_wait (cond=<optimized out>, mutex=mutex@entry=0x555556159f40 <qemu_global_mutex>) at util/qemu-thread-posix.c:123
#2  0x00005555556a8b0b in qemu_kvm_wait_io_event (cpu=<optimized out>) at /build/qemu-2.5/cpus.c:1008
#3  qemu_kvm_cpu_thread_fn (arg=0x5555562bd8c0) at /build/qemu-2.5/cpus.c:1047

Thread 1 (Thread 0x7ffff7fd5740 (LWP 1389363)):
#0  0x00007ffff61a850b in ioctl () from /lib/x86_64-linux-gnu/libc.so.6
#1  0x000055555566d4d1 in kvm_vcpu_ioctl (cpu=cpu@entry=0x5555562bd8c0, type=type@entry=44672) at /build/qemu-2.5/kvm-all.c:1984
(gdb) quit
"""


def test_gdb7_table_and_headers_merge_by_number():
    threads = one(GDB7)
    assert [(t.num, t.lwp, t.name, t.current) for t in threads] == [
        (3, 1389374, None, False), (2, 1389373, None, False), (1, 1389363, None, True)]
    assert all(t.complete for t in threads)
    assert names(threads[0]) == ["poll", "aio_poll", "iothread_run", "start_thread", "clone"]
    assert threads[0].frames[0].library == "/lib/x86_64-linux-gnu/libc.so.6"
    assert threads[0].frames[1].library is None and threads[0].frames[1].file == "aio-posix.c"
    assert threads[1].frames[0].function == "pthread_cond_wait@@GLIBC_2.3.2"
    assert threads[1].frames[3].function == "qemu_kvm_cpu_thread_fn"
    assert threads[1].frames[3].inlined and threads[1].frames[3].file == "/build/qemu-2.5/cpus.c"
    assert names(threads[2]) == ["ioctl", "kvm_vcpu_ioctl"]


def test_core_lwp_and_process_headers():
    text = """\
Thread 2 (LWP 4411):
#0  0x00007f3a1c8e1b2e in ?? ()
#1  0x0000000000000000 in ?? ()

Thread 1 (process 4408):
#0  0x00007f3a1c8d7bf6 in __ppoll (fds=0x55d0, nfds=8, timeout=<optimized out>, sigmask=0x0) at ../sysdeps/unix/sysv/linux/ppoll.c:44
#1  0x000055d0b8a1c1b9 in qemu_poll_ns ()
"""
    two, one_ = one(text)
    assert (two.num, two.lwp, one_.num, one_.lwp) == (2, 4411, 1, 4408)
    assert [(f.function, f.pc, f.library) for f in two.frames] == [
        (None, 0x00007f3a1c8e1b2e, None), (None, 0, None)]
    assert two.unreadable is None
    assert [(f.function, f.file, f.line) for f in one_.frames] == [
        ("__ppoll", "../sysdeps/unix/sysv/linux/ppoll.c", 44), ("qemu_poll_ns", None, None)]


def test_info_threads_lwp_and_process_targets():
    text = """\
  Id   Target Id         Frame
* 1    LWP 4408          0x00007f3a1c8d7bf6 in __ppoll () from /lib64/libc.so.6
  2    LWP 4411          syscall () at ../sysdeps/unix/sysv/linux/x86_64/syscall.S:38
  3    process 4412      0x0000000000000000 in ?? ()
"""
    threads = one(text)
    assert [(t.num, t.lwp, t.name, t.current) for t in threads] == [
        (1, 4408, None, True), (2, 4411, None, False), (3, 4412, None, False)]
    assert threads[0].frames[0].library == "/lib64/libc.so.6"
    assert threads[2].frames[0].pc == 0 and threads[2].frames[0].function is None


def test_zero_frame_backtrace_stopped_is_unreadable():
    text = """\
Thread 5 (Thread 0x7f1c5e3fe6c0 (LWP 4423) "kvm-nx-lpage-re"):
#0  0x0000000000000000 in ?? ()
Backtrace stopped: Cannot access memory at address 0x0

Thread 4 (Thread 0x7f1c5ebff6c0 (LWP 4422) "CPU 0/KVM"):
#0  0x00007f1c6a5ebf6b in ioctl () from /lib/x86_64-linux-gnu/libc.so.6
#1  0x0000000000000000 in ?? ()
Backtrace stopped: previous frame identical to this frame (corrupt stack?)
"""
    nx, cpu = one(text)
    assert (nx.num, nx.lwp, nx.name) == (5, 4423, "kvm-nx-lpage-re")
    assert nx.unreadable == "Backtrace stopped: Cannot access memory at address 0x0"
    assert [(f.pc, f.function) for f in nx.frames] == [(0, None)]
    assert cpu.name == "CPU 0/KVM" and cpu.unreadable is None
    assert names(cpu) == ["ioctl", None]
    assert cpu.frames[0].library == "/lib/x86_64-linux-gnu/libc.so.6"


def test_bt_full_locals_are_skipped():
    text = """\
Thread 2 (Thread 0x7f0a2bfff6c0 (LWP 9)):
#0  0x00007f0a35e53df2 in __libc_pause () at ../sysdeps/unix/sysv/linux/pause.c:29
        sc_ret = -514
        buf = "a(b) at c.c:1\\"", '\\000' <repeats 9 times>
No locals.
#1  0x000055d2d2eb518d in worker (a=0x0) at t.c:6
        ts = {
          tv_sec = 98,
          tv_nsec = 941122983
        }
No symbol table info available.
#2  0x00007f0a35e091f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
"""
    (snap,) = one(text)
    assert names(snap) == ["__libc_pause", "worker", "start_thread"]
    assert [f.line for f in snap.frames] == [29, 6, 442]


def test_cxx_names_and_awkward_args():
    text = """\
Thread 1 (Thread 0x7f (LWP 7)):
#0  0x0000000000401136 in std::vector<std::pair<int, int>, std::allocator<std::pair<int, int> > >::push_back (this=0x7ffc, __x=...) at /usr/include/c++/12/bits/stl_vector.h:1287
#1  0x0000000000401222 in (anonymous namespace)::Worker::run (this=0x4052a0, msg=0x402004 "call f(x) at home (really)") at worker.cc:31
#2  0x0000000000401300 in std::function<void (int)>::operator() (this=0x7ffc, __args#0=3) at /usr/include/c++/12/bits/std_function.h:591
#3  0x0000000000401400 in apply<void (*)(int)> (f=0x401000 <cb(int)>, c=40 '(') at tpl.cc:9
#4  0x00007f0a35e091f5 in __GI___poll (fds=fds@entry=0x55, nfds=nfds@entry=1, timeout=timeout@entry=-1) at ../sysdeps/unix/sysv/linux/poll.c:29
#5  0x00007f0a35e091f6 in g_main_loop_run () at /lib/x86_64-linux-gnu/libglib-2.0.so.0
#6  <signal handler called>
#7  0x00007f0a35e091f7 in ?? () from /usr/lib/x86_64-linux-gnu/libspice-server.so.1
"""
    (snap,) = one(text)
    assert names(snap) == [
        "std::vector<std::pair<int, int>, std::allocator<std::pair<int, int> > >::push_back",
        "(anonymous namespace)::Worker::run", "std::function<void (int)>::operator()",
        "apply<void (*)(int)>", "__GI___poll", "g_main_loop_run", "<signal handler called>", None]
    assert (snap.frames[1].file, snap.frames[1].line) == ("worker.cc", 31)
    assert (snap.frames[3].file, snap.frames[3].line) == ("tpl.cc", 9)
    assert snap.frames[5].library == "/lib/x86_64-linux-gnu/libglib-2.0.so.0"
    assert snap.frames[6].pc is None and not snap.frames[6].inlined
    assert snap.frames[7].library == "/usr/lib/x86_64-linux-gnu/libspice-server.so.1"
    assert snap.frames[7].pc == 0x00007f0a35e091f7


def test_mail_wrapped_lines_and_wrapped_header():
    # A mail client broke the lines at spaces and dropped the space; the header was cut too.
    text = """\
Thread 7 (Thread 0x7fffe8af4700 (LWP 1389378)
"worker"):
#0  0x00007ffff6296618 in futex_abstimed_wait_cancelable (private=0, abstime=0x7fffe8af0220,
clockid=0, expected=0, futex_word=0x555556730c78)
at ../sysdeps/nptl/futex-internal.h:320
#1  0x0000555555e5e0a9 in qemu_sem_timedwait (sem=0x555556730c58, ms=10000) at
../util/qemu-thread-posix.c:282
#2  0x0000555555e5c0ad in worker_thread (opaque=0x555556730be0) at ../util/thread-pool.c:91
"""
    (snap,) = one(text)
    assert (snap.num, snap.lwp, snap.name) == (7, 1389378, "worker")
    assert names(snap) == ["futex_abstimed_wait_cancelable", "qemu_sem_timedwait", "worker_thread"]
    assert [(f.file, f.line) for f in snap.frames] == [
        ("../sysdeps/nptl/futex-internal.h", 320), ("../util/qemu-thread-posix.c", 282),
        ("../util/thread-pool.c", 91)]


def test_wrapped_info_threads_row():
    text = """\
  Id   Target Id                                             Frame
* 1    Thread 0x7fffeb1d4300 (LWP 1389363) "qemu-system-x86" 0x00007ffff61a6bf6 in __ppoll (fds=0x555556ad10f0, nfds=8, timeout=<optimized out>, timeout@entry=0x7fffffffd2c0, sigmask=sigmask@entry=0x0) at ../sysdeps/unix/sysv/linux/
ppoll.c:44
  2    Thread 0x7fffeb073700 (LWP 1389367) "qemu-system-x86" syscall () at ../sysdeps/unix/sysv/linux/x86_64/syscall.S:38
"""
    first, second = one(text)
    assert first.frames[0].file == "../sysdeps/unix/sysv/linux/ppoll.c"
    assert first.frames[0].line == 44
    assert second.frames[0].function == "syscall"


def test_quoted_text_of_any_depth():
    plain = read("seed-info-threads.txt") + "\n" + read("dump-gdb13-core.txt").split("\n", 7)[7]
    depth = ["> ", ">> ", "> > ", ">", "> >> "]
    quoted = "".join(depth[i % len(depth)] + line + "\n" for i, line in enumerate(plain.splitlines()))
    assert _shape(parse_dump_text(quoted)) == _shape(parse_dump_text(plain))
    assert len(parse_dump_text(quoted)[0]) == 10


def test_crlf_and_tabs():
    text = read("seed-info-threads.txt")
    crlf = text.replace("\n", "\r\n")
    tabs = "\n".join("\t".join(line.split("    ")) for line in text.splitlines())
    assert _shape(parse_dump_text(crlf)) == _shape(parse_dump_text(text))
    assert _shape(parse_dump_text(tabs)) == _shape(parse_dump_text(text))
    header = "Thread 2 (Thread 0x7f (LWP 12)):\r\n#0\t0x00007f0a35e53df2 in\t__libc_pause () at pause.c:29\r\n"
    (snap,) = one(header)
    assert (snap.lwp, names(snap), snap.frames[0].line) == (12, ["__libc_pause"], 29)


def test_several_dumps():
    table = """\
(gdb) info threads
  Id   Target Id                            Frame
* 1    Thread 0x7f01 (LWP 100) "qemu-system-x86" 0x00007f00000001 in __ppoll () at ppoll.c:44
  2    Thread 0x7f02 (LWP 101) "CPU 0/KVM"       0x00007f00000002 in ioctl () at ioctl.c:36
"""
    bt = """\
(gdb) thread apply all bt
Thread 2 (Thread 0x7f02 (LWP 101) "CPU 0/KVM"):
#0  0x00007f00000002 in ioctl () at ioctl.c:36
#1  0x0000555500000003 in kvm_vcpu_ioctl (cpu=0x1, type=44672) at ../accel/kvm/kvm-all.c:3035
Thread 1 (Thread 0x7f01 (LWP 100) "qemu-system-x86"):
#0  0x00007f00000001 in __ppoll () at ppoll.c:44
"""
    dumps = parse_dump_text(table + bt + table.replace("LWP 101", "LWP 201") + bt)
    assert len(dumps) == 3
    first, second, third = dumps
    assert [(t.num, t.lwp, t.name, len(t.frames), t.complete) for t in first] == [
        (1, 100, "qemu-system-x86", 1, True), (2, 101, "CPU 0/KVM", 2, True)]
    # The second table shows thread 2 as LWP 201, so the later bt (LWP 101) is another dump.
    assert [(t.num, t.lwp, t.complete) for t in second] == [(1, 100, False), (2, 201, False)]
    assert [(t.num, t.lwp, len(t.frames)) for t in third] == [(2, 101, 2), (1, 100, 1)]
    # A repeated `thread apply all bt` without any command echo starts a dump as well.
    repeated = bt.replace("(gdb) thread apply all bt\n", "")
    assert len(parse_dump_text(repeated + "\n" + repeated)) == 2


def test_merge_by_lwp_when_the_bt_has_no_number():
    text = """\
  Id   Target Id         Frame
* 1    Thread 0x7f01 (LWP 100) "main" 0x00007f00000001 in __ppoll () at ppoll.c:44
  2    Thread 0x7f02 (LWP 101) "gmain" 0x00007f00000002 in __GI___poll () at poll.c:29
[Switching to Thread 0x7f02 (LWP 101)]
#0  0x00007f00000002 in __GI___poll () at poll.c:29
#1  0x00007f00000005 in g_main_context_iteration () from /lib/x86_64-linux-gnu/libglib-2.0.so.0
"""
    main, gmain = one(text)
    assert (gmain.num, gmain.lwp, gmain.name, gmain.complete) == (2, 101, "gmain", True)
    assert names(gmain) == ["__GI___poll", "g_main_context_iteration"]
    assert (main.complete, len(main.frames)) == (False, 1)


def test_bt_of_the_current_thread_after_the_table():
    text = """\
(gdb) info threads
  Id   Target Id         Frame
  1    Thread 0x7f01 (LWP 100) "main" 0x00007f00000001 in __ppoll () at ppoll.c:44
* 2    Thread 0x7f02 (LWP 101) "IO iot0" 0x00007f00000002 in __ppoll () at ppoll.c:44
(gdb) bt
#0  0x00007f00000002 in __ppoll () at ppoll.c:44
#1  0x0000555500000010 in aio_poll (ctx=0x1, blocking=true) at ../util/aio-posix.c:670
#2  0x0000555500000011 in iothread_run (opaque=0x2) at ../iothread.c:63
(More stack frames follow...)
"""
    main, iot = one(text)
    assert iot.current and iot.name == "IO iot0"
    assert names(iot) == ["__ppoll", "aio_poll", "iothread_run"]
    assert not iot.complete  # gdb said more frames follow
    assert len(main.frames) == 1


def test_backtraces_of_unknown_threads_stay_apart():
    text = """\
#0  0x00007f00000001 in __ppoll () at ppoll.c:44
#1  0x0000555500000020 in main_loop_wait (nonblocking=0) at ../util/main-loop.c:592

#0  0x00007f00000002 in ioctl () from /lib/x86_64-linux-gnu/libc.so.6
#1  0x0000555500000003 in kvm_vcpu_ioctl (cpu=0x1, type=44672) at ../accel/kvm/kvm-all.c:3035
"""
    first, second = one(text)
    assert (first.num, first.lwp, second.num, second.lwp) == (None, None, None, None)
    assert names(first) == ["__ppoll", "main_loop_wait"]
    assert names(second) == ["ioctl", "kvm_vcpu_ioctl"]


def test_running_thread_and_pager_prompt():
    text = """\
  Id   Target Id         Frame
* 1    Thread 0x7f01 (LWP 100) "main" 0x00007f00000001 in __ppoll () at ppoll.c:44
  2    Thread 0x7f02 (LWP 101) "CPU 0/KVM" (running)
Thread 1 (Thread 0x7f01 (LWP 100) "main"):
#0  0x00007f00000001 in __ppoll () at ppoll.c:44
--Type <RET> for more, q to quit, c to continue without paging--#1  0x0000555500000020 in main_loop_wait (nonblocking=0) at ../util/main-loop.c:592
"""
    main, cpu = one(text)
    assert (cpu.unreadable, cpu.frames, cpu.complete) == ("running", [], False)
    assert names(main) == ["__ppoll", "main_loop_wait"]
    assert main.frames[1].line == 592


def test_selected_thread_running_in_bt():
    text = """\
Thread 3 (Thread 0x7f03 (LWP 102) "worker"):
Selected thread is running.

Thread 2 (Thread 0x7f02 (LWP 101) "worker"):
#0  0x00007f00000002 in syscall () from /lib/x86_64-linux-gnu/libc.so.6
"""
    three, two = one(text)
    assert (three.unreadable, three.frames, three.complete) == ("Selected thread is running.", [], False)
    assert two.frames[0].library == "/lib/x86_64-linux-gnu/libc.so.6"


def test_frames_are_shared_and_strings_interned():
    text = "".join("Thread %d (Thread 0x7f%d (LWP %d)):\n"
                   "#0  0x00007f0a35e53df2 in __libc_pause () at ../sysdeps/unix/sysv/linux/pause.c:29\n"
                   % (n, n, 100 + n) for n in range(1, 4))
    threads = one(text)
    assert threads[0].frames[0] is threads[1].frames[0] is threads[2].frames[0]


def test_file_object_and_bytes_lines():
    data = read("seed-info-threads.txt")
    assert _shape(parse_dumps(io.StringIO(data))) == _shape(parse_dump_text(data))
    assert _shape(parse_dumps(io.BytesIO(data.encode()))) == _shape(parse_dump_text(data))


# -- not a dump -----------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "",
    "\n\n   \n",
    "Hello,\nQEMU hangs when I hot-unplug a disk. Any idea?\n#1 priority for us.\n",
    "\x00\x01\x02\xff\xfe garbage \x7f\n\x89PNG\r\n\x1a\n",
    "  Id   Target Id         Frame\n",
    "(gdb) info threads\nNo threads.\n",
])
def test_not_a_dump(text):
    with pytest.raises(DumpError) as err:
        parse_dump_text(text)
    assert "\n" not in str(err.value) and str(err.value)


def test_undecodable_bytes_are_a_dump_error(tmp_path):
    path = tmp_path / "core"
    path.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4)
    with open(path, encoding="utf-8") as handle, pytest.raises(DumpError) as err:
        parse_dumps(handle)
    assert "\n" not in str(err.value)


def _shape(dumps):
    return [[(t.num, t.lwp, t.name, t.current, t.complete, t.unreadable, tuple(t.frames)) for t in d]
            for d in dumps]
