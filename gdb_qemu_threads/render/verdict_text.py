"""The verdict of `qemu-threads --why` as a paragraph, above the table."""
from __future__ import annotations

import textwrap

from ..analyze.verdict import Diagnosis

# A paragraph people read at once: wrapped even where the table is not.
DEFAULT_WIDTH = 100


def verdict_text(diagnosis: Diagnosis, width: int | None) -> str:
    """"Verdict (blocked): ..." wrapped, then the other findings and what was not read."""
    width = width or DEFAULT_WIDTH
    lines = textwrap.wrap("Verdict (%s): %s" % (diagnosis.kind, diagnosis.summary), width,
                          subsequent_indent="  ")
    if diagnosis.chain:
        chain = " -> ".join("#%s" % n if n is not None else "?" for n in diagnosis.chain)
        lines.append("  chain, symptom to root: %s" % chain)
    for fact in diagnosis.facts:
        lines += textwrap.wrap("- " + fact, width, initial_indent="  ", subsequent_indent="    ")
    return "\n".join(lines)
