"""A view -> the whole output of `qemu-threads` (and of the offline command line)."""
from __future__ import annotations

import json
from typing import Protocol

from ..analyze.groups import View
from .json_doc import document
from .locks_text import lock_text
from .text import grouped_table, summary_line, table


class Choices(Protocol):
    """What render reads of the parsed options (argparse's, or any object with these)."""

    json: bool
    group: bool
    bt: bool


def render(view: View, opts: Choices, colour_on: bool) -> str:
    """The text for parsed options `opts`: a JSON document, the lock report, or a table."""
    if opts.json:
        return json.dumps(document(view), indent=1)
    everyone = view.analysis.reports
    if getattr(opts, "locks", False):
        return lock_text(everyone, view.locks)
    if not view.reports:
        return "no thread matches (%d threads in all)" % len(everyone)
    body = (grouped_table if opts.group else table)(view.reports, colour_on, opts.bt)
    return body + "\n" + summary_line(view.reports, len(everyone))
