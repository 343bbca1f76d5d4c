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
    while excess > 0:
        widths = column_widths(headers, rows)
        candidates = [(widths[headers.index(n)], headers.index(n)) for n in shrinkable
                      if n in headers and widths[headers.index(n)] > MIN_CELL]
        if not candidates:
            break
        current, index = max(candidates)
        target = max(MIN_CELL, current - excess)
        rows = [row[:index] + [shorten(row[index], target)] + row[index + 1:] for row in rows]
        before, excess = excess, table_width(headers, rows) - width
        if excess >= before:
            break  # the header is wider than the cells: nothing more to gain
    return headers, rows, dropped
