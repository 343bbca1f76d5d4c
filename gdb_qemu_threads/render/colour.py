"""Colours of the terminal table, through pygments' console styles."""
from __future__ import annotations

ROLE_COLOURS = {
    "main-loop": "*cyan*", "vcpu": "*green*", "iothread": "blue", "worker": "yellow",
    "call-rcu": "magenta", "unknown": "red", "kernel-worker": "gray", "library": "gray",
    "gmain": "gray", "gdbus": "gray", "glib-pool": "gray", "pulseaudio": "gray",
}
STATE_COLOURS = {"lock": "*red*", "guest": "green", "io": "yellow", "running": "*yellow*",
                 "unknown": "red"}


def colour(text: str, spec: str | None, enabled: bool) -> str:
    if not enabled or not spec or not text:
        return text
    from pygments.console import ansiformat
    return ansiformat(spec, text)

