"""Colours of the terminal table, through pygments' console styles."""
from __future__ import annotations

ROLE_COLOURS = {
    "main-loop": "*cyan*", "vcpu": "*green*", "iothread": "blue", "worker": "yellow",
    "call-rcu": "magenta", "kernel-worker": "gray", "library": "gray",
    "gmain": "gray", "gdbus": "gray", "glib-pool": "gray", "pulseaudio": "gray",
}
# Red is for trouble only (a deadlock, a lock nobody holds, a crash), never for the ordinary.
STATE_COLOURS = {"lock": "*yellow*", "guest": "green", "io": "yellow", "running": "bold",
                 "blocked": "*red*", "crashed": "*red*"}


def colour(text: str, spec: str | None, enabled: bool) -> str:
    if not enabled or not spec or not text:
        return text
    from pygments.console import ansiformat
    return ansiformat(spec, text)

