"""The signature table: what decides each thread's role, as data.

Each signature names a role and the evidence that decides it:
  entries    the thread's own function, found just above the thread-start wrapper
  frames     a distinctive function anywhere on the stack (the outermost match wins)
  names      thread-name regexes; named groups `vcpu` and `iothread` give the index or id
  libraries  regexes on a frame's shared-object basename (static functions show as ??)
  after_anon a function that, in a stripped build, follows only anonymous (??) frames of the
             executable: weak evidence, so a match is reported with low confidence
  home       where the thread sleeps when all is well: the first function of QEMU's own code
             past the wait's plumbing, as "function" or "function<caller|caller" (called
             directly by one of those); a thread of the role asleep elsewhere is `blocked`
             (analyze/home.py). Empty: no home is known, and a wait stays `idle`
Version ranges and files come from QEMU's sources (2.12 to 10.2; see QEMU-THREADS.md in the
design notes). A user file in the same shape (JSON: a list of objects with these keys) adds
to the table or replaces entries by `id`; see signature_file.py, which checks it.
"""
from __future__ import annotations

import re
from typing import Iterable, Pattern

from .model import ACCELS, ROLES
from .signature_patterns import TEXT_LIMIT
from .signature_types import Signature, _sig
from .signatures_libraries import LIBRARY_SIGNATURES

_VCPU_NAME = r"^CPU (?P<vcpu>\d+)/%s$"
# A vCPU with nothing to run sleeps on its halt condition (the BQL's cond) in the accelerator's
# wait function: qemu_wait_io_event (cpus.c, softmmu/cpus.c, system/cpus.c) <=10.0,
# qemu_process_cpu_events 10.2; qemu_kvm_wait_io_event / qemu_tcg_wait_io_event <=4.1;
# qemu_tcg_rr_wait_io_event <=5.2, rr_wait_io_event 6.0+ (TCG round-robin); hvf_wait_for_ipi
# (arm WFI, pselect) 7.0+. Inside the guest (KVM_RUN, translated code) it is `guest`, not asleep.
_VCPU_HOME = ["qemu_wait_io_event", "qemu_process_cpu_events", "qemu_kvm_wait_io_event",
              "qemu_tcg_wait_io_event", "qemu_tcg_rr_wait_io_event", "rr_wait_io_event",
              "hvf_wait_for_ipi"]
# An iothread sleeps in its own aio_poll, or in g_main_loop_run when a GMainContext user asked
# for one (the monitor's), both called by iothread_run (iothread.c, all versions); aio_epoll
# (<=4.2) and fdmon_io_uring_wait (5.0+) are the poll under aio_poll. An aio_poll called by
# anything else is a nested event loop (AIO_WAIT_WHILE, BDRV_POLL_WHILE): blocked.
_IOTHREAD_HOME = ["aio_poll<iothread_run", "g_main_loop_run<iothread_run", "aio_epoll<aio_poll",
                  "fdmon_io_uring_wait<aio_poll"]

BUILTIN: tuple[Signature, ...] = (
    # -- main thread ------------------------------------------------------------------
    _sig("main-loop", "main-loop", "main loop",
         entries=["main_loop", "qemu_main_loop", "qemu_default_main", "call_qemu_main"],
         frames=["main_loop_wait", "os_host_main_loop_wait"],
         names=[r"^main$", r"^qemu_main$"],
         home=["main_loop_wait"],
         versions="main_loop (vl.c) <=4.2; qemu_main_loop (softmmu/vl.c 5.x, softmmu/runstate.c "
                  "6.x-8.1, system/runstate.c 8.2+); qemu_default_main (softmmu/main.c 7.2+, the "
                  "tail call hides main); call_qemu_main (ui/cocoa.m 4.0-9.2); 'main' name 11.0+"),
    # -- vCPUs ------------------------------------------------------------------------
    _sig("vcpu-kvm", "vcpu", "vCPU {vcpu} (KVM)", accel="kvm",
         entries=["qemu_kvm_cpu_thread_fn", "kvm_vcpu_thread_fn"],
         frames=["kvm_cpu_exec", "kvm_vcpu_ioctl"],
         names=[_VCPU_NAME % "KVM"],
         home=_VCPU_HOME,
         versions="qemu_kvm_cpu_thread_fn (cpus.c) <=5.0; kvm_vcpu_thread_fn "
                  "(accel/kvm/kvm-cpus.c 5.2, kvm-accel-ops.c 6.x+); 'CPU %d/KVM' 2.0+"),
    _sig("vcpu-tcg-rr", "vcpu", "all vCPUs (TCG round-robin)", accel="tcg",
         entries=["qemu_tcg_rr_cpu_thread_fn", "tcg_rr_cpu_thread_fn", "rr_cpu_thread_fn"],
         frames=["qemu_tcg_rr_wait_io_event", "rr_wait_io_event"],
         names=[r"^ALL CPUs/TCG$"],
         home=_VCPU_HOME,
         versions="qemu_tcg_rr_cpu_thread_fn (cpus.c) 2.9-5.1; tcg_rr_cpu_thread_fn "
                  "(accel/tcg/tcg-cpus.c) 5.2; rr_cpu_thread_fn (tcg-accel-ops-rr.c) 6.x+; "
                  "'ALL CPUs/TCG' 2.9+"),
    _sig("vcpu-tcg", "vcpu", "vCPU {vcpu} (TCG)", accel="tcg",
         entries=["qemu_tcg_cpu_thread_fn", "tcg_cpu_thread_fn", "mttcg_cpu_thread_fn"],
         frames=["tcg_cpu_exec", "cpu_exec", "cpu_exec_setjmp", "cpu_exec_loop", "cpu_tb_exec",
                 "code_gen_buffer"],
         names=[_VCPU_NAME % "TCG"],
         libraries=[r"^accel-tcg-[\w-]+\.so$"],
         home=_VCPU_HOME,
         versions="qemu_tcg_cpu_thread_fn (cpus.c) <=5.1; tcg_cpu_thread_fn "
                  "(accel/tcg/tcg-cpus.c) 5.2; mttcg_cpu_thread_fn (tcg-accel-ops-mttcg.c) 6.x+; "
                  "accel-tcg-<target>.so module 6.x+ in modular builds"),
    _sig("vcpu-hvf", "vcpu", "vCPU {vcpu} (HVF)", accel="hvf",
         entries=["qemu_hvf_cpu_thread_fn", "hvf_cpu_thread_fn"],
         frames=["hvf_vcpu_exec", "hvf_arch_vcpu_exec", "hv_vcpu_run", "hv_vcpu_run_until"],
         names=[_VCPU_NAME % "HVF"],
         home=_VCPU_HOME,
         versions="qemu_hvf_cpu_thread_fn (cpus.c) 2.12-5.0; hvf_cpu_thread_fn 5.2+"),
    _sig("vcpu-whpx", "vcpu", "vCPU {vcpu} (WHPX)", accel="whpx",
         entries=["qemu_whpx_cpu_thread_fn", "whpx_cpu_thread_fn"],
         frames=["whpx_vcpu_exec", "whpx_vcpu_run", "WHvRunVirtualProcessor"],
         names=[_VCPU_NAME % "WHPX"],
         home=_VCPU_HOME,
         versions="qemu_whpx_cpu_thread_fn (cpus.c) 2.12-5.0; whpx_cpu_thread_fn 5.2+"),
    _sig("vcpu-nvmm", "vcpu", "vCPU {vcpu} (NVMM)", accel="nvmm",
         entries=["qemu_nvmm_cpu_thread_fn"],
         frames=["nvmm_vcpu_exec", "nvmm_vcpu_loop"],
         names=[_VCPU_NAME % "NVMM"],
         home=_VCPU_HOME,
         versions="qemu_nvmm_cpu_thread_fn (target/i386/nvmm/nvmm-accel-ops.c) 6.x+"),
    _sig("vcpu-hax", "vcpu", "vCPU {vcpu} (HAX)", accel="hax",
         entries=["qemu_hax_cpu_thread_fn", "hax_cpu_thread_fn"],
         frames=["hax_smp_cpu_exec", "hax_vcpu_hax_exec"],
         names=[_VCPU_NAME % "HAX"],
         home=_VCPU_HOME,
         versions="qemu_hax_cpu_thread_fn (cpus.c) <=5.0; hax_cpu_thread_fn 5.2-8.1; removed in 8.2"),
    _sig("vcpu-mshv", "vcpu", "vCPU {vcpu} (MSHV)", accel="mshv",
         entries=["mshv_vcpu_thread"],
         frames=["mshv_cpu_exec", "mshv_run_vcpu"],
         names=[_VCPU_NAME % "MSHV"],
         home=_VCPU_HOME,
         versions="mshv_vcpu_thread (accel/mshv/mshv-all.c) 10.2+"),
    _sig("vcpu-dummy", "vcpu", "vCPU {vcpu} (no accelerator: qtest/Xen)",
         entries=["qemu_dummy_cpu_thread_fn", "dummy_cpu_thread_fn"],
         names=[_VCPU_NAME % "DUMMY"],
         home=_VCPU_HOME + ["qemu_dummy_cpu_thread_fn", "dummy_cpu_thread_fn"],
         versions="qemu_dummy_cpu_thread_fn (cpus.c) <=5.0; dummy_cpu_thread_fn "
                  "(accel/dummy-cpus.c) 5.2+; used by qtest and Xen"),
    _sig("vcpu-any", "vcpu", "vCPU {vcpu}",
         frames=["qemu_wait_io_event", "qemu_process_cpu_events", "qemu_wait_io_event_common",
                 "qemu_process_cpu_events_common"],
         home=_VCPU_HOME,
         versions="qemu_wait_io_event (cpus.c, softmmu/cpus.c, system/cpus.c) <=10.0; "
                  "qemu_process_cpu_events 10.2; called by every accelerator's vCPU loop"),
    # -- event loops and helpers ------------------------------------------------------
    _sig("mon-iothread", "iothread", "monitor iothread",
         names=[r"^IO (?P<iothread>mon_iothread)$"],
         home=_IOTHREAD_HOME,
         versions="'IO mon_iothread' (monitor/monitor.c) 2.12+, for QMP on sockets 3.1+"),
    _sig("iothread", "iothread", "iothread {iothread}",
         entries=["iothread_run"],
         frames=["aio_poll", "fdmon_poll_wait", "fdmon_epoll_wait", "fdmon_io_uring_wait",
                 "aio_epoll", "run_poll_handlers"],
         names=[r"^IO (?P<iothread>.+)$", r"^iothread$"],
         after_anon=["g_main_loop_run"],
         home=_IOTHREAD_HOME,
         versions="iothread_run (iothread.c) all; 'IO %s' 2.5+ ('iothread' <=2.4); ids over 12 "
                  "characters leave it unnamed; aio_poll/fdmon_* (util/aio-posix.c, "
                  "util/fdmon-*.c) 5.0+, aio_epoll <=4.2"),
    _sig("worker", "worker", "thread-pool worker",
         entries=["worker_thread"],
         frames=["handle_aiocb_rw", "handle_aiocb_flush", "handle_aiocb_ioctl",
                 "handle_aiocb_discard", "handle_aiocb_write_zeroes", "handle_aiocb_copy_range",
                 "handle_aiocb_truncate", "aio_worker"],
         names=[r"^worker$"],
         after_anon=["qemu_cond_timedwait_impl", "qemu_sem_timedwait"],
         home=["worker_thread"],
         versions="worker_thread (util/thread-pool.c) all; idle in qemu_sem_timedwait <=6.2, "
                  "qemu_cond_timedwait_impl 7.2+; handle_aiocb_* (block/file-posix.c)"),
    _sig("call-rcu", "call-rcu", "RCU reclamation",
         entries=["call_rcu_thread"],
         names=[r"^call_rcu$"],
         after_anon=["qemu_event_wait", "g_usleep"],
         home=["call_rcu_thread"],
         versions="call_rcu_thread (util/rcu.c) all; created by a constructor, so unnamed "
                  "(process name) up to 10.2 unless -daemonize; 'call_rcu' 11.0+; waits in "
                  "qemu_event_wait, or in its g_usleep(10000) batching loop (<=10.0)"),
    _sig("vnc-worker", "vnc-worker", "VNC encoding worker",
         entries=["vnc_worker_thread", "vnc_worker_thread_loop"],
         names=[r"^vnc_worker$"],
         after_anon=["qemu_cond_wait_impl"],
         home=["vnc_worker_thread_loop", "vnc_worker_thread"],
         versions="vnc_worker_thread (ui/vnc-jobs.c) all; 'vnc_worker'"),
    # -- migration --------------------------------------------------------------------
    _sig("migration", "migration", "migration (source)",
         entries=["migration_thread", "bg_migration_thread"],
         frames=["migration_iteration_run", "migration_completion"],
         names=[r"^migration$", r"^live_migration$", r"^mig/src/main$", r"^bg_snapshot$",
                r"^mig/snapshot$"],
         home=["migration_rate_limit"],
         versions="migration_thread (migration/migration.c); 'migration' <=2.8, "
                  "'live_migration' 2.9-9.0, 'mig/src/main' 9.1+"),
    _sig("migration-return-path", "migration-return-path", "migration return path",
         entries=["source_return_path_thread"],
         names=[r"^return path$", r"^mig/src/rp-thr$", r"^mig/src/return$"],
         versions="source_return_path_thread; 'return path' <=9.0, 'mig/src/rp-thr' 9.1, "
                  "'mig/src/return' 9.2+"),
    _sig("multifd-send", "multifd-send", "multifd send channel",
         entries=["multifd_send_thread", "multifd_tls_handshake_thread"],
         names=[r"^multifdsend_\d+$", r"^mig/src/send_\d+$", r"^mig/src/tls$"],
         home=["multifd_send_thread"],
         versions="multifd_send_thread (migration/ram.c <=4.2, multifd.c 5.0+); "
                  "'multifdsend_%d' 2.12-9.0, 'mig/src/send_%d' 9.1+"),
    _sig("multifd-recv", "multifd-recv", "multifd receive channel",
         entries=["multifd_recv_thread"],
         names=[r"^multifdrecv_\d+$", r"^mig/dst/recv_\d+$"],
         home=["multifd_recv_thread"],
         versions="multifd_recv_thread; 'multifdrecv_%d' 2.12-9.0, 'mig/dst/recv_%d' 9.1+"),
    _sig("postcopy", "postcopy", "postcopy (destination)",
         entries=["postcopy_ram_fault_thread", "postcopy_preempt_thread",
                  "postcopy_ram_listen_thread", "postcopy_listen_thread"],
         names=[r"^postcopy/(fault|listen)$", r"^fault-(default|fast)$",
                r"^mig/dst/(fault|preempt|listen)$"],
         home=["postcopy_ram_fault_thread"],
         versions="postcopy_ram_fault_thread, postcopy_preempt_thread 7.x+, "
                  "postcopy_ram_listen_thread <=10.0 / postcopy_listen_thread 10.2"),
    # -- other threads QEMU creates ---------------------------------------------------
    _sig("qemu-other", "qemu-other", "{what}",
         entries=["thread_context_run", "do_touch_pages", "do_madv_populate_write_pages",
                  "sigwait_compat", "dump_thread", "qio_task_thread_worker",
                  "connect_thread_func", "kvm_dirty_ring_reaper_thread", "kvm_msr_energy_thread",
                  "colo_process_incoming_thread", "do_data_compress", "do_data_decompress",
                  "get_dirtyrate_thread", "vcpu_dirty_rate_stat_thread", "exit_with_parent_loop",
                  "writeout_thread", "edu_fact_thread", "hpt_prepare_thread",
                  "cryptodev_lkcf_worker", "gdbserver_accept_thread"],
         names=[r"^TC .+$", r"^touch_pages$", r"^signalfd_compat$", r"^dump_thread$",
                r"^io-task-worker$", r"^nbd-connect$", r"^kvm-reaper$", r"^kvm-msr$",
                r"^COLO incoming$", r"^mig/dst/colo$", r"^(de)?compress$",
                r"^get_dirtyrate$", r"^mig/dirtyrate$", r"^dirtyrate-stat$", r"^exit-parent$",
                r"^trace-thread$", r"^edu$", r"^lkcf-worker$", r"^gdb-accept$", r"^pbkdf2$",
                r"^async_cleanup$", r"^u2f-key$", r"^ccid/(event|apdu)$"],
         versions="see QEMU-THREADS.md 2b-2d: thread-context 7.2+, touch_pages, io-task, "
                  "kvm-reaper 6.x+, dirty-rate 5.2+, trace writer, device threads"),
    # -- threads that libraries create, the kernel's, and stripped builds': see
    #    signatures_libraries.py

) + LIBRARY_SIGNATURES

def _check(sig: Signature) -> None:
    if sig.role not in ROLES:
        raise ValueError("signature %s: unknown role %r" % (sig.id, sig.role))
    if sig.accel is not None and sig.accel not in ACCELS:
        raise ValueError("signature %s: unknown accelerator %r" % (sig.id, sig.accel))


class SignatureTable:
    """The signatures, indexed for lookups by function name, thread name and library."""

    def __init__(self, signatures: Iterable[Signature]) -> None:
        self.signatures: list[Signature] = []
        by_id: dict[str, int] = {}
        for sig in signatures:
            _check(sig)
            if sig.id in by_id:  # a later entry with the same id replaces the earlier one
                self.signatures[by_id[sig.id]] = sig
            else:
                by_id[sig.id] = len(self.signatures)
                self.signatures.append(sig)
        self.by_id: dict[str, Signature] = {sig.id: sig for sig in self.signatures}
        self.entry: dict[str, Signature] = {}
        self.frame: dict[str, Signature] = {}
        self.after_anon: dict[str, Signature] = {}
        self.names: list[tuple[Pattern[str], Signature]] = []
        self.libraries: list[tuple[Pattern[str], Signature]] = []
        for sig in self.signatures:
            for fn in sig.entries:
                self.entry.setdefault(fn, sig)
            for fn in sig.frames:
                self.frame.setdefault(fn, sig)
            for fn in sig.after_anon:
                self.after_anon.setdefault(fn, sig)
            self.names += [(re.compile(rx), sig) for rx in sig.names]
            self.libraries += [(re.compile(rx), sig) for rx in sig.libraries]
        self._library_cache: dict[str, Signature | None] = {}
        self._name_cache: dict[str, tuple[Signature, dict[str, str]] | None] = {}

    def by_name(self, thread_name: str | None) -> tuple[Signature, dict[str, str]] | None:
        if not thread_name:
            return None
        if thread_name not in self._name_cache:  # thousands of threads share a few names
            found = None
            for rx, sig in self.names:
                if sig.user and len(thread_name) > TEXT_LIMIT:
                    continue  # a user pattern's matching time is bounded for short texts only
                m = rx.match(thread_name)
                if m:
                    found = sig, _usable_groups(m.groupdict())
                    break
            self._name_cache[thread_name] = found
        return self._name_cache[thread_name]

    def by_library(self, path: str | None) -> Signature | None:
        if not path:
            return None
        if path not in self._library_cache:
            base = path.rsplit("/", 1)[-1]
            self._library_cache[path] = next(
                (sig for rx, sig in self.libraries
                 if not (sig.user and len(base) > TEXT_LIMIT) and rx.search(base)), None)
        return self._library_cache[path]


def _usable_groups(groups: dict[str, str | None]) -> dict[str, str]:
    """A name's groups that matched; a `vcpu` that is not a number is dropped (user patterns)."""
    usable = {k: v for k, v in groups.items() if v is not None}
    if not usable.get("vcpu", "0").isdecimal():
        del usable["vcpu"]
    return usable


DEFAULT_TABLE = SignatureTable(BUILTIN)
