"""The classifier on stacks as gdb shows them, without gdb.

The stacks are copied from real `thread apply all bt` output (Debian's QEMU 7.2, stripped,
names on and off) and from QEMU's sources for other versions; the expected roles are what
QMP and QEMU's sources say the threads are.
"""
from __future__ import annotations

import json

import pytest

from gdb_qemu_threads.analyze.classify import classify
from gdb_qemu_threads.model import Frame, ThreadSnapshot
from gdb_qemu_threads.signature_file import load_user_signatures, make_table
from gdb_qemu_threads.signatures import BUILTIN, SignatureTable

LIBC = "/lib/x86_64-linux-gnu/libc.so.6"
GLIB = "/lib/x86_64-linux-gnu/libglib-2.0.so.0"
TCG = "/usr/lib/x86_64-linux-gnu/qemu/accel-tcg-x86_64.so"
START = ["start_thread@" + LIBC, "clone3@" + LIBC]


def frames(*specs: str):
    """"name", "??", "name@/lib/x.so" or "??@/lib/x.so", innermost first."""
    out = []
    for spec in specs:
        name, _, lib = spec.partition("@")
        out.append(Frame(function=None if name == "??" else name, library=lib or None,
                         pc=0x1000 + len(out)))
    return out


def thread(num, specs, name=None, lwp=None, complete=True):
    return ThreadSnapshot(num=num, lwp=lwp if lwp is not None else 100 + num, name=name,
                          frames=frames(*specs), complete=complete)


# Debian 12's QEMU 7.2 attached with KVM and -name debug-threads off (the names are the
# process name); stacks as gdb 13 printed them.
MAIN_72 = ["__ppoll@" + LIBC, "qemu_poll_ns", "main_loop_wait", "qemu_main_loop",
           "qemu_default_main", "__libc_start_call_main@" + LIBC, "__libc_start_main_impl@" + LIBC,
           "_start"]
RCU_72 = ["syscall@" + LIBC, "qemu_event_wait", "??", "??"] + START
IOTHREAD_72 = ["__ppoll@" + LIBC, "??", "aio_poll", "??", "??"] + START
MON_72 = ["__GI___poll@" + LIBC, "??@" + GLIB, "g_main_loop_run@" + GLIB, "??", "??"] + START
KVM_72 = ["__GI___ioctl@" + LIBC, "kvm_vcpu_ioctl", "kvm_cpu_exec", "??", "??"] + START
VNC_72 = ["__futex_abstimed_wait_common64@" + LIBC, "__futex_abstimed_wait_common@" + LIBC,
          "__GI___futex_abstimed_wait_cancelable64@" + LIBC, "__pthread_cond_wait_common@" + LIBC,
          "___pthread_cond_wait@" + LIBC, "qemu_cond_wait_impl", "??", "??", "??"] + START
TCG_IDLE_72 = ["__futex_abstimed_wait_common64@" + LIBC, "___pthread_cond_wait@" + LIBC,
               "qemu_cond_wait_impl", "qemu_wait_io_event", "??@" + TCG, "??"] + START
RCU_BATCHING_72 = ["__GI___clock_nanosleep@" + LIBC, "__GI___nanosleep@" + LIBC, "g_usleep@" + GLIB,
                   "??", "??"] + START
WORKER_72 = ["__futex_abstimed_wait_common64@" + LIBC, "__pthread_cond_timedwait@" + LIBC,
             "qemu_cond_timedwait_impl", "??", "??"] + START
NX = ["??"]


def verdicts(threads, **kw):
    return [r.verdict for r in classify(threads, **kw)]


def test_debian_72_kvm_without_names():
    name = "qemu-system-x86"
    threads = [thread(1, MAIN_72, name, lwp=500), thread(2, RCU_72, name), thread(3, IOTHREAD_72, name),
               thread(4, MON_72, name), thread(5, KVM_72, name), thread(6, KVM_72, name),
               thread(7, VNC_72, name)]
    v = verdicts(threads, main_lwp=500)
    assert [x.role for x in v] == ["main-loop", "call-rcu", "iothread", "iothread", "vcpu", "vcpu",
                                   "vnc-worker"]
    assert [x.confidence for x in v] == ["high", "low", "high", "low", "low", "low", "low"]
    assert v[0].evidence == "thread function qemu_default_main"
    # Without names or a live /proc, vCPU indexes are a guess from creation order.
    assert (v[4].vcpu, v[5].vcpu, v[4].accel) == (0, 1, "kvm")
    assert v[4].detail == "vCPU 0? (KVM)" and "creation order" in v[4].evidence
    assert [x.state for x in v] == ["idle", "idle", "idle", "idle", "guest", "guest", "idle"]
    assert v[0].activity == "ppoll in main_loop_wait"
    assert v[4].activity == "in KVM_RUN"


def test_call_rcu_in_its_batching_sleep():
    v = verdicts([thread(1, MAIN_72), thread(2, RCU_BATCHING_72, "qemu-system-x86")])[1]
    assert (v.role, v.confidence, v.state) == ("call-rcu", "low", "idle")
    assert v.activity == "clock_nanosleep in g_usleep"


def test_names_give_index_and_iothread_id():
    threads = [thread(1, MAIN_72, "qemu-system-x86"), thread(3, IOTHREAD_72, "IO iot0"),
               thread(4, MON_72, "IO mon_iothread"), thread(5, KVM_72, "CPU 3/KVM"),
               thread(6, TCG_IDLE_72, "CPU 1/TCG"), thread(7, WORKER_72, "worker"),
               thread(8, VNC_72, "vnc_worker"), thread(2, RCU_72, "call_rcu")]
    v = verdicts(threads)
    assert [(x.role, x.confidence) for x in v] == [
        ("main-loop", "high"), ("iothread", "high"), ("iothread", "high"), ("vcpu", "high"),
        ("vcpu", "high"), ("worker", "high"), ("vnc-worker", "high"), ("call-rcu", "high")]
    assert (v[1].iothread, v[1].detail) == ("iot0", "iothread iot0")
    assert (v[2].iothread, v[2].detail) == ("mon_iothread", "monitor iothread")
    assert (v[3].vcpu, v[3].accel, v[3].detail) == (3, "kvm", "vCPU 3 (KVM)")
    assert (v[4].vcpu, v[4].accel, v[4].detail) == (1, "tcg", "vCPU 1 (TCG)")
    assert "aio_poll" in v[1].evidence and "IO iot0" in v[1].evidence


def test_tcg_vcpu_in_module_without_names_is_tcg():
    v = verdicts([thread(1, MAIN_72), thread(5, TCG_IDLE_72), thread(6, TCG_IDLE_72)])
    assert [(x.role, x.accel) for x in v[1:]] == [("vcpu", "tcg"), ("vcpu", "tcg")]
    assert "accel-tcg-x86_64.so" in v[1].evidence


def test_outermost_frame_wins_main_loop_inside_aio_poll():
    # The main loop draining block I/O sits in aio_poll, but it is still the main loop.
    stack = ["__ppoll@" + LIBC, "??", "aio_poll", "bdrv_drain_all_begin", "qmp_stop",
             "main_loop_wait", "qemu_main_loop", "main"]
    assert verdicts([thread(1, stack)])[0].role == "main-loop"


def test_vcpu_waiting_for_bql():
    stack = ["__lll_lock_wait@" + LIBC, "___pthread_mutex_lock@" + LIBC, "qemu_mutex_lock_impl",
             "qemu_mutex_lock_iothread_impl", "kvm_cpu_exec", "??", "??"] + START
    v = verdicts([thread(5, stack, "CPU 0/KVM")])[0]
    assert (v.role, v.state) == ("vcpu", "lock")
    assert v.activity.startswith("waiting for the BQL")


@pytest.mark.parametrize("version,stack,role", [
    ("2.12 main", ["ppoll", "qemu_poll_ns", "os_host_main_loop_wait", "main_loop_wait", "main_loop", "main"], "main-loop"),
    ("4.1 kvm", ["ioctl", "kvm_vcpu_ioctl", "kvm_cpu_exec", "qemu_kvm_cpu_thread_fn", "start_thread", "clone"], "vcpu"),
    ("10.2 idle vcpu", ["pthread_cond_wait", "qemu_cond_wait_impl", "qemu_process_cpu_events", "??", "qemu_thread_start", "start_thread"], "vcpu"),
    ("6.2 worker", ["sem_timedwait", "qemu_sem_timedwait", "worker_thread", "qemu_thread_start", "start_thread"], "worker"),
    ("8.2 migration", ["sendmsg", "qio_channel_socket_writev", "ram_save_iterate", "qemu_savevm_state_iterate", "migration_iteration_run", "migration_thread", "qemu_thread_start"], "migration"),
    ("multifd", ["qemu_sem_wait", "multifd_send_thread", "qemu_thread_start"], "multifd-send"),
    ("postcopy", ["poll", "postcopy_ram_fault_thread", "qemu_thread_start"], "postcopy"),
    ("return path", ["recvmsg", "qemu_get_be16", "source_return_path_thread", "qemu_thread_start"], "migration-return-path"),
    ("gdbus", ["poll", "??@" + GLIB, "g_main_loop_run@" + GLIB, "??@/lib/x86_64-linux-gnu/libgio-2.0.so.0", "??@" + GLIB] + START, "gdbus"),
    ("pulse", ["__GI___poll", "??@/lib/x86_64-linux-gnu/libpulse.so.0", "pa_mainloop_poll", "pa_mainloop_iterate", "pa_mainloop_run", "??@/lib/x86_64-linux-gnu/libpulse.so.0", "??@/usr/lib/x86_64-linux-gnu/pulseaudio/libpulsecommon-16.1.so", "start_thread", "clone"], "pulseaudio"),
    ("spice", ["poll", "??@" + GLIB, "g_main_loop_run@" + GLIB, "??@/lib/x86_64-linux-gnu/libspice-server.so.1"] + START, "library"),
    ("thread context", ["pthread_cond_wait", "qemu_cond_wait_impl", "qemu_sem_wait", "thread_context_run", "qemu_thread_start"], "qemu-other"),
    ("hvf", ["hv_vcpu_run", "hvf_vcpu_exec", "hvf_cpu_thread_fn", "qemu_thread_start"], "vcpu"),
])
def test_layouts_across_versions(version, stack, role):
    assert verdicts([thread(3, stack)])[0].role == role, version


def test_coroutine_stack_is_decided_by_name_only():
    stack = ["blk_aio_read_entry", "coroutine_trampoline", "??"]
    named, anonymous = verdicts([thread(3, stack, "IO iothread4"), thread(4, stack)])
    assert (named.role, named.iothread) == ("iothread", "iothread4")
    assert anonymous.role == "unknown" and "coroutine" in anonymous.evidence


def test_non_qemu_process_gets_no_guesses():
    # A plain program: thread 1 is not called a main loop, ioctl is not a vCPU.
    v = verdicts([thread(1, ["__ppoll@" + LIBC, "main"], "myprog"),
                  thread(2, ["ioctl@" + LIBC], "myprog", complete=False),
                  thread(3, ["poll@" + LIBC, "??@" + GLIB], "gmain", complete=False)])
    assert [x.role for x in v] == ["unknown", "unknown", "gmain"]


def test_glib_worker_context_under_glibs_own_anonymous_frames():
    # A core of a stripped GLib: glib_worker_main and g_thread_proxy are static (??).
    gmain = ["__GI___poll@" + LIBC, "??@" + GLIB, "g_main_context_iteration@" + GLIB,
             "??@" + GLIB, "??@" + GLIB] + START
    # The same call from a thread function of QEMU's own, started by g_thread_new: not GLib's.
    qemus = gmain[:3] + ["??", "??@" + GLIB] + START
    v = verdicts([thread(1, MAIN_72), thread(2, gmain), thread(3, qemus)])
    assert [(x.role, x.confidence) for x in v[1:]] == [("gmain", "low"), ("unknown", "low")]
    assert "GLib's thread function" in v[1].evidence


def test_info_threads_only_seed_layout():
    # The seed's `info threads` (top frames only), as in a bug report.
    name = "qemu-system-x86"
    rows = [(1, "__ppoll", name), (2, "syscall", name), (3, "__GI___poll", "gmain"),
            (4, "__GI___poll", "gdbus"), (5, "__ppoll", name), (6, "futex_abstimed_wait_cancelable", name),
            (7, "ioctl", name), (8, "ioctl", name), (9, "__GI___poll", "threaded-ml"),
            (10, "futex_abstimed_wait_cancelable", name)]
    threads = [thread(n, [top], nm, complete=False) for n, top, nm in rows]
    v = verdicts(threads)
    assert [x.role for x in v] == ["main-loop", "call-rcu", "gmain", "gdbus", "iothread", "worker",
                                   "vcpu", "vcpu", "pulseaudio", "worker"]
    assert [x.confidence for x in v] == ["low", "low", "high", "high", "low", "low", "low", "low",
                                         "high", "low"]
    assert (v[6].vcpu, v[7].vcpu, v[6].accel) == (0, 1, "kvm")


def test_kernel_worker_by_name_and_by_empty_stack():
    nx = ThreadSnapshot(num=8, lwp=9, name="kvm-nx-lpage-re", frames=[Frame(pc=0)],
                        unreadable="Backtrace stopped: Cannot access memory at address 0x0")
    core = ThreadSnapshot(num=8, lwp=9, name=None, frames=[Frame(pc=0)])
    v = verdicts([thread(1, MAIN_72), nx, core])
    assert (v[1].role, v[1].confidence, v[1].state) == ("kernel-worker", "high", "unknown")
    assert (v[2].role, v[2].confidence) == ("kernel-worker", "low")


def test_hints_from_live_reading_win():
    snap = thread(5, KVM_72, "qemu-system-x86")
    snap.facts.vcpu, snap.facts.accel = 7, "kvm"
    snap.facts.vcpu_source = "its KVM vCPU file descriptor"
    v = verdicts([thread(1, MAIN_72), snap, thread(6, KVM_72)])
    assert (v[1].vcpu, v[1].confidence) == (7, "high")
    assert "file descriptor" in v[1].evidence
    assert v[2].vcpu is None  # one known index: the others are not guessed around it


def test_round_robin_tcg_has_no_index():
    v = verdicts([thread(2, TCG_IDLE_72, "ALL CPUs/TCG")])[0]
    assert (v.role, v.vcpu, v.accel, v.detail) == ("vcpu", None, "tcg", "all vCPUs (TCG round-robin)")


def test_builtin_table_is_valid_and_ids_unique():
    table = SignatureTable(BUILTIN)
    assert len({s.id for s in BUILTIN}) == len(BUILTIN) == len(table.signatures)
    assert all(s.versions for s in BUILTIN)


def test_user_signatures_extend_and_replace(tmp_path):
    path = tmp_path / "sigs.json"
    path.write_text(json.dumps([
        {"id": "my-daemon", "role": "library", "detail": "my daemon", "names": ["^mydaemon$"],
         "qemu": False, "versions": "local"},
        {"id": "worker", "role": "qemu-other", "detail": "renamed", "names": ["^worker$"]},
    ]))
    table = make_table([str(path)])
    v = verdicts([thread(3, ["poll"], "mydaemon", complete=False),
                  thread(4, ["poll"], "worker", complete=False)], table=table)
    assert (v[0].role, v[0].detail) == ("library", "my daemon")
    assert v[1].role == "qemu-other"


@pytest.mark.parametrize("content,message", [
    ("{", "cannot read signatures"),
    ("{}", "expected a JSON list"),
    ('[{"id": "x", "role": "nope", "detail": ""}]', "unknown role"),
    ('[{"id": "x", "role": "vcpu", "detail": "", "colour": 1}]', "unknown key"),
    ('[{"id": "x", "role": "vcpu", "detail": "", "names": ["("]}]', "signature 1"),
])
def test_bad_user_signatures_say_what_is_wrong(tmp_path, content, message):
    path = tmp_path / "sigs.json"
    path.write_text(content)
    with pytest.raises(ValueError) as err:
        load_user_signatures(str(path))
    assert message in str(err.value) and "\n" not in str(err.value)
