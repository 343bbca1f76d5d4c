"""Fit a plain table into a terminal width: drop optional columns, then shorten long cells."""
from __future__ import annotations

from typing import Sequence

GAP = 2          # tabulate's "plain" format puts two spaces between columns
MIN_PADDING = 2  # ... and makes a column at least its header plus two wide
ELLIPSIS = "\u2026"
MIN_CELL = 12    # a shortened column keeps at least this many characters


def table_width(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> int:
    """The width tabulate's "plain" format gives: each column at least its header plus
    tabulate's padding of two, two spaces between columns."""
    widths = [max(w, len(h) + MIN_PADDING)
              for w, h in zip(column_widths(headers, rows), headers)]
    return sum(widths) + GAP * (len(widths) - 1)


def column_widths(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[int]:
    return [max([len(headers[i])] + [len(row[i]) for row in rows]) for i in range(len(headers))]


def shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + ELLIPSIS


def fit(headers: list[str], rows: list[list[str]], width: int | None, optional: Sequence[str],
        shrinkable: Sequence[str]) -> tuple[list[str], list[list[str]], list[str]]:
    """(headers, rows, dropped column names) no wider than `width` (None: unlimited).

    Columns named in `optional` go first, in that order, then the widest of `shrinkable`
    are cut with an ellipsis, down to MIN_CELL; a table that still does not fit is left so."""
    dropped: list[str] = []
    if width is None:
        return headers, rows, dropped
    for name in optional:
        if table_width(headers, rows) <= width or name not in headers:
            continue
        index = headers.index(name)
        headers = headers[:index] + headers[index + 1:]
        rows = [row[:index] + row[index + 1:] for row in rows]
        dropped.append(name)
    excess = table_width(headers, rows) - width
    if excess <= 0:
        return headers, rows, dropped
    # Take one character at a time from whichever shrinkable column is widest now, so long
    # columns end up about equally cut; then cut every cell once.
    widths = column_widths(headers, rows)
    limits = {headers.index(n): max(MIN_CELL, len(n) + MIN_PADDING) for n in shrinkable if n in headers}
    while excess > 0:
        able = [i for i in limits if widths[i] > limits[i]]
        if not able:
            break  # as narrow as it goes: left so
        widest = max(able, key=lambda i: widths[i])
        widths[widest] -= 1
        excess -= 1
    rows = [[shorten(cell, widths[i]) if i in limits else cell for i, cell in enumerate(row)]
            for row in rows]
    return headers, rows, dropped
