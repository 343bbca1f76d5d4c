"""The regular expressions of a user's signatures file: compiled once, matched in bounded time.

Python's `re` backtracks, so a pattern such as `^(a+)+$` can take exponential time on a
35-character name. Two ways out were weighed: a linear-time engine (google-re2) or Python's
own engine on bounded inputs with patterns whose backtracking is bounded. This module takes
the second: the extension runs inside whatever Python gdb embeds (any version >= 3.8, any
platform), where a compiled dependency would have to match that Python exactly and is often
missing, while thread names are short by nature (15 bytes on Linux) and library basenames
too. So:

  - user patterns are tried only on texts of at most TEXT_LIMIT characters (longer names and
    basenames are left to the built-in table, whose patterns are trusted and simple);
  - at load, each pattern is parsed and the number of ways the backtracking engine could try
    to match it on such a text is counted from above (`_ways`: a repeat of a body with k
    ways and up to n iterations has at most k^0 + ... + k^n ways, a sequence multiplies, an
    alternation adds); a pattern over BUDGET is refused. Nested unbounded repeats and
    ambiguous alternations under a repeat are exponential, so they are always refused;
    back-references are refused too. Matching then costs at most about
    BUDGET * (TEXT_LIMIT + pattern length) steps, whatever the text, and a file's patterns
    together (each is tried on every new name) FILE_BUDGET * (...).
"""
from __future__ import annotations

import importlib
import re
import sys
import warnings
from typing import Any, Iterable, NamedTuple, Pattern

TEXT_LIMIT = 64         # characters of a thread name or library basename a user pattern sees
PATTERN_LIMIT = 500     # characters in one pattern
BUDGET = 100_000        # start positions x ways to match one pattern, counted from above
FILE_BUDGET = 10 * BUDGET  # the same summed over a file's patterns: all are tried on a name

_parser: Any = importlib.import_module("re._parser" if sys.version_info >= (3, 11) else "sre_parse")

_ONE_WAY = {"LITERAL", "NOT_LITERAL", "ANY", "IN", "AT", "CATEGORY"}
_REPEATS = {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"}


class PatternError(ValueError):
    """Why a user pattern is refused, in a few words."""


class CheckedPattern(NamedTuple):
    regex: Pattern[str]
    cost: int   # start positions x ways to match, counted from above (<= BUDGET)


def _capped(value: int) -> int:
    return min(value, BUDGET + 1)


def _ways(items: Iterable[tuple[Any, Any]]) -> int:
    """How many ways a sequence can be tried from one position, counted from above."""
    total = 1
    for op, arg in items:
        total = _capped(total * _item_ways(str(op), arg))
    return total


def _repeat_ways(low: int, high: int, body: Any) -> int:
    body_ways = _ways(body)
    shortest = body.getwidth()[0]
    # No more iterations than the text has characters for (an empty iteration ends the loop).
    most = min(high, TEXT_LIMIT // shortest if shortest else TEXT_LIMIT + 1)
    total, power = 0, 1
    for count in range(most + 1):
        if count >= low:
            total = _capped(total + power)
        power = _capped(power * body_ways)
        if total > BUDGET:
            break
    return max(total, 1)


def _item_ways(op: str, arg: Any) -> int:
    if op in _ONE_WAY:
        return 1
    if op == "SUBPATTERN":
        return _ways(arg[-1])
    if op == "ATOMIC_GROUP":
        return _ways(arg)
    if op in ("ASSERT", "ASSERT_NOT"):
        return _ways(arg[1])
    if op == "BRANCH":
        return _capped(sum(_ways(branch) for branch in arg[1]))
    if op in _REPEATS:
        low, high, body = arg
        return _repeat_ways(low, high, body)
    if op in ("GROUPREF", "GROUPREF_EXISTS"):
        raise PatternError("back-references are not supported")
    raise PatternError("unsupported construct %s" % op.lower())


def _anchored(items: Any, flags: int) -> bool:
    """Starts with ^ (not multi-line): every start but the first fails at once."""
    if flags & re.MULTILINE or not items:
        return False
    op, arg = items[0]
    return str(op) == "AT" and str(arg) in ("AT_BEGINNING", "AT_BEGINNING_STRING")


def compile_pattern(pattern: str, searched: bool) -> CheckedPattern:
    """The compiled pattern and its cost, or PatternError saying why it is refused.

    searched: tried at every position of the text (re.search), not only at its start; a
    search that starts with ^ costs like a match."""
    if len(pattern) > PATTERN_LIMIT:
        raise PatternError("longer than %d characters" % PATTERN_LIMIT)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "possible nested set" and the like
            parsed = _parser.parse(pattern)
            compiled = re.compile(pattern)
        ways = _ways(parsed.data)
    except PatternError:
        raise
    except (re.error, OverflowError, ValueError) as err:
        raise PatternError("bad regular expression: %s" % err) from None
    except RecursionError:
        raise PatternError("bad regular expression: nested too deeply") from None
    starts = TEXT_LIMIT + 1 if searched and not _anchored(parsed.data, compiled.flags) else 1
    if starts * ways > BUDGET:
        raise PatternError("may backtrack for too long (nested or ambiguous repeats); "
                           "simplify it, e.g. no repeat inside a repeat")
    return CheckedPattern(compiled, starts * ways)
