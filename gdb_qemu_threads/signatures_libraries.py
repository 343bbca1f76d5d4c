"""Signatures of threads that libraries and the kernel create in a QEMU process, and what
stripped builds without thread names still show; part of the table in signatures.py."""
from __future__ import annotations

from .signature_types import Signature, _sig

LIBRARY_SIGNATURES: tuple[Signature, ...] = (
    # -- threads that libraries create -----------------------------------------------
    _sig("gmain", "gmain", "GLib worker context", qemu=False,
         entries=["glib_worker_main"],
         names=[r"^gmain$"],
         versions="glib: g_thread_new(\"gmain\", glib_worker_main) (glib/gmain.c)"),
    _sig("gdbus", "gdbus", "GDBus worker", qemu=False,
         entries=["gdbus_shared_thread_func"],
         names=[r"^gdbus$"],
         libraries=[r"^libgio-2\.0\.so"],
         versions="gio: g_thread_new(\"gdbus\", gdbus_shared_thread_func) (gio/gdbusprivate.c)"),
    _sig("glib-pool", "glib-pool", "GLib thread pool", qemu=False,
         entries=["g_thread_pool_thread_proxy", "g_thread_pool_spawn_thread"],
         frames=["g_thread_pool_wait_for_new_task"],
         names=[r"^pool-.*$", r"^pool-spawner$"],
         versions="glib/gthreadpool.c; names 'pool-<prgname>' (glib <=2.74), 'pool-%d' (2.84)"),
    _sig("pulseaudio", "pulseaudio", "PulseAudio threaded-ml", qemu=False,
         frames=["pa_mainloop_run", "pa_mainloop_iterate", "pa_mainloop_poll"],
         names=[r"^threaded-ml$"],
         libraries=[r"^libpulse\.so", r"^libpulsecommon-"],
         versions="pa_threaded_mainloop (src/pulse/thread-mainloop.c), -audiodev pa"),
    _sig("spice", "library", "SPICE worker", qemu=False,
         entries=["red_worker_main"],
         names=[r"^SPICE Worker$"],
         libraries=[r"^libspice-server\.so"],
         versions="spice-server red_worker_main, named 'SPICE Worker'"),
    _sig("sdl", "library", "SDL", qemu=False,
         names=[r"^SDLAudio[PC]\d+$", r"^SDLTimer$", r"^SDLHotplugALSA$", r"^PulseHotplug$"],
         libraries=[r"^libSDL2"],
         versions="SDL2 audio/timer threads, -display sdl or -audiodev sdl"),
    _sig("pipewire", "library", "PipeWire", qemu=False,
         frames=["pw_thread_loop_start"],
         names=[r"^pw-.*$", r"^data-loop.*$"],
         libraries=[r"^libpipewire-"],
         versions="pw_thread_loop_new (audio/pwaudio.c) 8.1+"),
    _sig("jack", "library", "JACK client", qemu=False,
         names=[r"^jack-client$"],
         libraries=[r"^libjack\.so"],
         versions="jack-client threads (audio/jackaudio.c) 5.2+"),
    _sig("libusb", "library", "libusb event thread", qemu=False,
         libraries=[r"^libusb-1\.0\.so"],
         versions="libusb event handling (hw/usb/host-libusb.c)"),
    _sig("dconf", "library", "dconf worker", qemu=False,
         entries=["dconf_gdbus_worker_thread"],
         names=[r"^dconf worker$"],
         libraries=[r"^libdconf"],
         versions="dconf gdbus/dconf-gdbus-thread.c"),
    _sig("mesa", "library", "Mesa/GL", qemu=False,
         names=[r"^llvmpipe-\d+$", r"^gallium_drv", r"^disk\$\d+$"],
         libraries=[r"^libLLVM", r"_dri\.so$", r"^libgallium"],
         versions="Mesa threads, -display gtk,gl=on or virtio-gpu-gl"),
    # -- kernel threads inside the process -------------------------------------------
    _sig("kernel-worker", "kernel-worker", "{name}", qemu=False,
         names=[r"^kvm-nx-lpage-re", r"^kvm-pit/\d+$", r"^vhost-\d+$", r"^iou-wrk-\d+$",
                r"^iou-sqp-\d+$"],
         versions="Linux user workers that join the thread group: kvm-nx-lpage-recovery, "
                  "vhost (6.4+), io_uring iou-wrk/iou-sqp"),
    # -- macOS: threads of AppKit (LLDB dumps) -------------------------------------------
    # With -display cocoa, QEMU 4.0+ runs its main loop on a thread of its own ('qemu_main':
    # call_qemu_main, ui/cocoa.m) and leaves thread 1 to AppKit's event loop; 10.0+ does the
    # same for every display that wants it (qemu_main, system/main.c). Thread 1 is then no
    # main loop of QEMU's: it is AppKit's, hence `library`. (Before 4.0 QEMU's main loop ran
    # inside [NSApp run] on thread 1; this entry would misname that thread.)
    _sig("cocoa-main", "library", "Cocoa main thread (AppKit event loop)", qemu=False,
         frames=["-[NSApplication run]", "NSApplicationMain", "os_darwin_cfrunloop_main"],
         versions="[NSApp run] from main (ui/cocoa.m) 4.0+; os_darwin_cfrunloop_main "
                  "(system/main.c) 10.0+; macOS only"),
    _sig("appkit-event-thread", "library", "AppKit event thread", qemu=False,
         entries=["_NSEventThread"],
         names=[r"^com\.apple\.NSEventThread$"],
         versions="AppKit's event thread in every Cocoa process (-display cocoa); macOS only"),
    # -- stripped builds without thread names: what sits under the anonymous frames -------
    # (after_anon evidence: low confidence. Each function is exported by Debian's stripped
    # 7.2 (nm -D) and was seen right under the thread's ?? frames, live and in a core.)
    _sig("migration-stripped", "migration", "migration (source)",
         after_anon=["migration_rate_limit", "qemu_savevm_state_iterate", "qemu_savevm_state_setup",
                     "qemu_savevm_state_pending", "qemu_savevm_state_pending_estimate",
                     "qemu_savevm_state_pending_exact", "qemu_savevm_state_complete_precopy"],
         versions="migration_thread and bg_migration_thread (static) call these from their own "
                  "static helpers (migration_iteration_run, migration_completion); savevm on the "
                  "main thread calls them too, under named main-loop frames. Seen: "
                  "migration_rate_limit (throttled) in Debian's 7.2; pending split into "
                  "_estimate/_exact in 8.0"),
    _sig("return-path-stripped", "migration-return-path", "migration return path",
         after_anon=["qemu_get_be16"],
         versions="source_return_path_thread (migration/migration.c, static) reads each message "
                  "with qemu_get_be16 (its type, then its length), called directly: seen under "
                  "its ?? frames in Debian's 7.2 and 10.0. Loading the stream reaches it through "
                  "named frames (qemu_loadvm_state_main, vmstate_load_state)"),
    _sig("postcopy-listen-stripped", "postcopy", "postcopy listen thread (destination)",
         after_anon=["qemu_loadvm_state_main"],
         versions="postcopy_ram_listen_thread (migration/savevm.c, static) <=10.0 calls "
                  "qemu_loadvm_state_main: seen under its ?? frames in Debian's 7.2. The "
                  "incoming coroutine reaches it through qemu_loadvm_state (named), COLO's "
                  "thread through its exported entry"),
    # GLib's worker context: glib_worker_main loops on g_main_context_iteration, and no other
    # thread function of GLib does. It matches where the ?? frames under it are all libglib's
    # (a core or an attach of a stripped GLib) or name no library (eu-stack without -m).
    _sig("gmain-stripped", "gmain", "GLib worker context", qemu=False,
         after_anon=["g_main_context_iteration"],
         versions="glib_worker_main (glib/gmain.c, static): g_main_context_iteration in a loop"),
    # -- Xen device model -------------------------------------------------------------
    _sig("xenstore", "library", "Xen xenstore watch thread (libxenstore)", qemu=False,
         libraries=[r"^libxenstore\.so"],
         versions="libxenstore's read_thread (tools/libs/store/xs.c), started by the first "
                  "xs_watch(): QEMU as a Xen device model (hw/xen/xen-legacy-backend.c, "
                  "xen-bus.c) watches xenstore; the only thread the Xen libraries QEMU links "
                  "start (libxenevtchn, libxengnttab, libxenforeignmemory, libxendevicemodel "
                  "have none)"),
)
