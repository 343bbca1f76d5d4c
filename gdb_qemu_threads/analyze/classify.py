"""Snapshots + signatures -> verdicts. Pure: no gdb here.

Order of evidence, strongest first:
  1. the outermost frame that a signature knows (the thread's own function, a distinctive
     frame, or a distinctive library): walking outward-in means a main loop that happens to
     be inside aio_poll is still the main loop;
  2. the thread name (QEMU's names with `-name debug-threads=on`, libraries' own names);
  3. in stripped builds, the first named function above anonymous (??) frames of the
     executable (low confidence);
  4. with only the top frame (an `info threads` paste) or nothing else, guesses from the
     top frame and the thread's place in the process (low confidence).
The thread name is checked against the frames: where both speak, the frames decide the role
and the name still gives the vCPU index or iothread id.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ..model import Frame, ThreadReport, ThreadSnapshot, Verdict
from ..signatures import DEFAULT_TABLE, Signature, SignatureTable
from ..vocab import COROUTINE_START, LIBC_OBJECTS, QEMU_ONLY, QEMU_PROCESS_NAMES, THREAD_START, canonical
from .states import decide_state

HIGH, LOW = "high", "low"

GLIB_OBJECTS = ("libglib-2.0.so",)
ACCEL_NAMES = {"kvm": "KVM", "tcg": "TCG", "hvf": "HVF", "whpx": "WHPX", "nvmm": "NVMM",
               "hax": "HAX", "xen": "Xen", "qtest": "qtest", "mshv": "MSHV"}

@dataclass
class Match:
    sig: Signature
    how: str                 # entry | frame | library | name | after-anon | guess
    evidence: str
    confidence: str
    groups: dict[str, str]


def _basename(path: str | None) -> str:
    return path.rsplit("/", 1)[-1] if path else ""


def _is_anonymous_start(frame: Frame) -> bool:
    """A ?? frame in the C library: start_thread or clone3 in a libc without symbols."""
    return not frame.function and _basename(frame.library).startswith(LIBC_OBJECTS)


def match_frames(frames: Sequence[Frame], table: SignatureTable) -> Match | None:
    """The outermost frame a signature knows."""
    for frame in reversed(frames):
        fn = frame.function
        if fn:
            sig = table.entry.get(fn)
            if sig is not None:
                return Match(sig, "entry", "thread function %s" % fn, HIGH, {})
            sig = table.frame.get(fn)
            if sig is not None:
                return Match(sig, "frame", "frame %s" % fn, HIGH, {})
        sig = table.by_library(frame.library)
        if sig is not None:
            return Match(sig, "library", "code in %s" % _basename(frame.library), HIGH, {})
    return None


def match_after_anonymous(frames: Sequence[Frame], table: SignatureTable) -> Match | None:
    """Stripped builds: the first named function above the ?? thread function of the executable,
    or, for a library's thread (not QEMU's), above ?? frames that are all GLib's own."""
    skipped_exe = skipped_glib = False
    for frame in reversed(frames):
        fn = frame.function
        if canonical(fn) in THREAD_START or _is_anonymous_start(frame):
            continue
        if not fn and not frame.library:
            skipped_exe = True
            continue
        if not fn and _basename(frame.library).startswith(GLIB_OBJECTS):
            skipped_glib = True  # g_thread_proxy and GLib's static thread functions
            continue
        sig = table.after_anon.get(fn or "")
        if sig is None or not (skipped_exe or skipped_glib):
            return None
        if skipped_glib and (sig.qemu or skipped_exe):
            return None  # QEMU's code, or a thread function outside GLib: nothing decides
        where = "GLib's" if skipped_glib else "an unnamed QEMU"
        return Match(sig, "after-anon", "%s under %s thread function" % (fn, where), LOW, {})
    return None


def match_name(name: str | None, table: SignatureTable) -> Match | None:
    found = table.by_name(name)
    if not found:
        return None
    sig, groups = found
    return Match(sig, "name", "name '%s'" % name, HIGH, groups)


def inherited_name(name: str | None) -> bool:
    return not name or name.startswith(QEMU_PROCESS_NAMES) or name in ("kvm", "qemu")


def guess(snap: ThreadSnapshot, table: SignatureTable, main_lwp: int | None) -> Match | None:
    """Weak evidence for a thread of a QEMU process that nothing else decided."""
    by_id = table.by_id
    is_main = (snap.lwp is not None and snap.lwp == main_lwp) or (main_lwp is None and snap.num == 1)
    top = canonical(snap.frames[0].function) if snap.frames else ""
    if not snap.frames and snap.unreadable is None:
        return None
    if snap.frames and snap.frames[0].pc == 0 and not snap.frames[0].function and len(snap.frames) == 1:
        return Match(by_id["kernel-worker"], "guess", "no user-space stack (pc 0)", LOW,
                     {"name": snap.name or "?"})
    if not inherited_name(snap.name):
        return None
    if is_main:
        return Match(by_id["main-loop"], "guess", "the process's main thread", LOW, {})
    rules: tuple[tuple[tuple[str, ...], str, str], ...] = (
        (("ioctl",), "vcpu-kvm", "ioctl at the top: KVM_RUN"),
        (("ppoll", "poll", "epoll_wait", "epoll_pwait"), "iothread",
         "%s at the top of a non-main thread: an event loop"),
        (("futex_abstimed_wait", "futex_abstimed_wait_cancelable", "futex_abstimed_wait_common",
          "pthread_cond_timedwait", "sem_timedwait", "sem_clockwait", "pthread_cond_clockwait"),
         "worker", "timed wait (%s) at the top: a thread-pool worker"),
        (("syscall",), "call-rcu", "futex syscall at the top: qemu_event_wait"),
        (("clock_nanosleep", "nanosleep"), "call-rcu", "%s at the top: call_rcu's batching sleep"),
    )
    if snap.complete and any(f.function and canonical(f.function) not in ("syscall", "ioctl")
                             for f in snap.frames[1:]):
        return None  # a full stack that no signature knows: do not guess from its top
    for tops, sig_id, why in rules:
        if top in tops:
            return Match(by_id[sig_id], "guess", why.replace("%s", snap.frames[0].function or top), LOW, {})
    return None


def _is_qemu(snapshots: Sequence[ThreadSnapshot], matches: Sequence[Match | None]) -> bool:
    if any(m is not None and m.sig.qemu and m.how != "after-anon" for m in matches):
        return True
    for snap in snapshots:
        if snap.name and snap.name.startswith(QEMU_PROCESS_NAMES):
            return True
        if any(canonical(f.function) in QEMU_ONLY for f in snap.frames):
            return True
    return False


def _decide(snap: ThreadSnapshot, table: SignatureTable) -> Match | None:
    by_frames = match_frames(snap.frames, table)
    by_name = match_name(snap.name, table)
    if by_frames and by_name:
        if by_name.sig.role == by_frames.sig.role:
            # Frames decide the role; the name is the more precise signature within it (an
            # accelerator, round-robin TCG, the monitor iothread) and gives index or id.
            return Match(by_name.sig, by_frames.how, "%s, %s" % (by_frames.evidence, by_name.evidence),
                         HIGH, by_name.groups)
        return Match(by_frames.sig, by_frames.how,
                     "%s (name '%s' says %s)" % (by_frames.evidence, snap.name, by_name.sig.role),
                     HIGH, {})
    if by_frames:
        return by_frames
    if by_name:
        return by_name
    return match_after_anonymous(snap.frames, table)


def detail_fields(vcpu: int | None, accel: str | None, iothread: str | None,
                  name: str | None, what: str) -> dict[str, str]:
    """The placeholders a signature's `detail` may use, in every role."""
    return {"vcpu": "?" if vcpu is None else str(vcpu),
            "accel_name": ACCEL_NAMES.get(accel, accel) if accel else "",
            "iothread": iothread or "", "name": name or "no user-space stack", "what": what}


def _format_detail(sig: Signature, vcpu: int | None, accel: str | None,
                   iothread: str | None, snap: ThreadSnapshot, match: Match) -> str:
    what = snap.name if match.how == "name" else match.evidence.replace("thread function ", "")
    if sig.user:  # checked when loaded: only known placeholders, no format specs
        return sig.detail.format_map(detail_fields(vcpu, accel, iothread, snap.name, what or ""))
    if sig.role == "vcpu":
        if sig.id == "vcpu-tcg-rr":
            return sig.detail
        index = "?" if vcpu is None else str(vcpu)
        accel_text = " (%s)" % ACCEL_NAMES.get(accel, accel) if accel else ""
        return "vCPU %s%s" % (index, accel_text)
    if sig.role == "iothread":
        if iothread == "mon_iothread":
            return "monitor iothread"
        return "iothread %s" % iothread if iothread else "iothread"
    return sig.detail.format_map(detail_fields(vcpu, accel, iothread, snap.name, what or ""))


def classify(snapshots: Sequence[ThreadSnapshot], table: SignatureTable | None = None,
             main_lwp: int | None = None) -> list[ThreadReport]:
    """Verdicts for one process's threads, in the order given.

    main_lwp is the process id when known (the main thread's LWP); otherwise thread 1 is
    taken for the main thread, as gdb numbers it.
    """
    table = table or DEFAULT_TABLE
    matches: list[Match | None] = [_decide(snap, table) for snap in snapshots]
    if _is_qemu(snapshots, matches):
        matches = [m if m is not None else guess(snap, table, main_lwp)
                   for snap, m in zip(snapshots, matches)]

    # One accelerator per process: vCPUs whose own stack does not say take their siblings'.
    accels = {m.sig.accel for m in matches if m and m.sig.role == "vcpu" and m.sig.accel}
    accels |= {snap.facts.accel for snap in snapshots if snap.facts.accel}
    process_accel = accels.pop() if len(accels) == 1 else None

    reports: list[ThreadReport] = []
    for snap, match in zip(snapshots, matches):
        reports.append(ThreadReport(snap, _verdict(snap, match, process_accel)))
    _number_vcpus_by_order(reports)
    return reports


def _verdict(snap: ThreadSnapshot, match: Match | None, process_accel: str | None) -> Verdict:
    role = match.sig.role if match else "unknown"
    state, activity = decide_state(snap.frames, role, snap.facts)
    if snap.unreadable and not snap.frames:
        activity = snap.unreadable
    if match is None:
        evidence = snap.unreadable or ("no frames" if not snap.frames else "no signature matched")
        if any(canonical(f.function) in COROUTINE_START for f in snap.frames[-2:]):
            evidence = "inside a coroutine; no signature matched"
        return Verdict(role="unknown", detail="", state=state, activity=activity,
                       evidence=evidence, confidence=LOW)
    sig = match.sig
    verdict = Verdict(role=role, state=state, activity=activity, evidence=match.evidence,
                      confidence=match.confidence, signature=sig.id)
    facts = snap.facts
    if role == "vcpu":
        verdict.accel = facts.accel or sig.accel or process_accel
        if not sig.accel and verdict.accel and not facts.accel:
            verdict.evidence += "; accelerator from the other vCPUs"
        elif not sig.accel and facts.accel_source:
            verdict.evidence += "; accelerator from %s" % facts.accel_source
        if facts.vcpu is not None:
            verdict.vcpu = facts.vcpu
            verdict.evidence += "; index from %s" % (facts.vcpu_source or "debug info")
        elif "vcpu" in match.groups:
            verdict.vcpu = int(match.groups["vcpu"])
    if role == "iothread":
        verdict.iothread = facts.iothread or match.groups.get("iothread")
        if facts.iothread:
            verdict.evidence += "; id from %s" % (facts.iothread_source or "debug info")
    verdict.detail = _format_detail(sig, verdict.vcpu, verdict.accel, verdict.iothread, snap, match)
    return verdict


def _number_vcpus_by_order(reports: list[ThreadReport]) -> None:
    """Without names or debug info, vCPU threads are numbered in creation order (a guess).

    QEMU creates vCPU threads in CPU-index order at start-up, and LWPs grow in creation
    order, so this holds unless CPUs were hot-plugged; the result is marked low confidence.
    """
    vcpus = [r for r in reports if r.verdict.role == "vcpu" and r.verdict.signature != "vcpu-tcg-rr"]
    if not vcpus or any(r.verdict.vcpu is not None for r in vcpus):
        return
    if any(r.snapshot.lwp is None for r in vcpus) and any(r.snapshot.num is None for r in vcpus):
        return
    ordered = sorted(vcpus, key=lambda r: (r.snapshot.lwp if r.snapshot.lwp is not None else 0,
                                           r.snapshot.num or 0))
    for index, report in enumerate(ordered):
        v = report.verdict
        v.vcpu = index
        v.confidence = LOW
        v.evidence += "; index guessed from creation order"
        accel_text = " (%s)" % ACCEL_NAMES.get(v.accel, v.accel) if v.accel else ""
        v.detail = "vCPU %d?%s" % (index, accel_text)
