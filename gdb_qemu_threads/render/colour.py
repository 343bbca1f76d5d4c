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



# gdb's own defaults for `bt` (`show style function foreground` ...): what --bt looks like
# where the gdb command has not passed the user's settings.
GDB_STYLES = {"function": "yellow", "filename": "green", "address": "blue"}
# gdb's colour names that pygments' console styles know too ("none" and "default" do not).
_CONSOLE_COLOURS = {"black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"}


def backtrace(lines: list[str], styles: dict[str, str] | None = None) -> list[str]:
    """Backtrace lines coloured as gdb colours `bt`: tokens of the backtrace lexer (the one
    the HTML report uses) in gdb's style colours for functions, file names and addresses."""
    from pygments import lex
    from pygments.token import Name, Number, String

    from .bt_lexer import GdbBacktraceLexer
    chosen = dict(GDB_STYLES, **(styles or {}))
    known = {name: value if value in _CONSOLE_COLOURS else None for name, value in chosen.items()}
    by_token = {Name.Function: known["function"], String: known["filename"],
                Name.Namespace: known["filename"], Number.Hex: known["address"]}
    lexer = GdbBacktraceLexer()
    out = []
    for line in lines:
        indent = line[: len(line) - len(line.lstrip())]
        parts = [colour(text, by_token.get(kind), True) if kind in by_token else text
                 for kind, text in lex(line.lstrip(), lexer)]
        out.append(indent + "".join(parts).rstrip("\n"))
    return out
