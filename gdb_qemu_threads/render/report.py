"""`--report FILE` and `--dot FILE`: write a report or the graphs, for gdb and the offline CLI.

    write_report(view, path, meta) -> the line to print ("report written to FILE"), or, for
    path "-", the Markdown itself
    write_dot(view, path) -> the line to print

`meta` carries what the analysis does not know: "binary", "qemu_version", "gdb_version",
"source" ("live", "core", "offline"), "pid", "accel", "verdict" (each optional).
"""
from __future__ import annotations

import os
from typing import Any, Callable

from ..analyze.groups import View
from ..analyze.verdict import diagnose
from .graphs import dot_text
from .report_html import page
from .report_md import markdown

FORMATS: dict[str, Callable[[View, dict[str, Any]], str]] = {
    ".md": markdown, ".markdown": markdown, ".html": page, ".htm": page}


GITHUB_COMMENT_LIMIT = 65536  # characters in one issue comment (GitLab takes a million)


class ReportError(Exception):
    """A report that cannot be written: str() is the one line to show."""


def report_text(view: View, path: str, meta: dict[str, Any]) -> str:
    if path == "-":
        return markdown(view, meta)
    ext = os.path.splitext(path)[1].lower()
    if ext not in FORMATS:
        raise ReportError("--report %s: the name must end in .md or .html (or be - for Markdown "
                          "on standard output)" % path)
    return FORMATS[ext](view, meta)


def _write(path: str, text: str, option: str) -> None:
    try:
        with open(os.path.expanduser(path), "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as err:
        raise ReportError("%s %s: %s" % (option, path, err.strerror or err)) from None


def write_report(view: View, path: str, meta: dict[str, Any]) -> str:
    if "verdict" not in meta:  # the verdict on the whole process, as --why says it
        meta = dict(meta, verdict=diagnose(view.analysis).summary)
    text = report_text(view, path, meta)
    if path == "-":
        return text.rstrip("\n")
    _write(path, text, "--report")
    if FORMATS[os.path.splitext(path)[1].lower()] is markdown and len(text) > GITHUB_COMMENT_LIMIT:
        return ("report written to %s (%d characters: more than a GitHub comment takes; attach the "
                "file there, or paste it into GitLab)" % (path, len(text)))
    return "report written to %s" % path


def write_dot(view: View, path: str) -> str:
    _write(path, dot_text(view), "--dot")
    return "graphs written to %s (Graphviz DOT)" % path
