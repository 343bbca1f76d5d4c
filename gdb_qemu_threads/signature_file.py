"""A user's signatures file: JSON, a list of objects with Signature's keys, which adds to the
built-in table or replaces entries by `id`.

The file is untrusted data, checked whole when it is loaded, so that nothing in it can fail
later: its size is limited, every field has its type, `detail` uses only the known
placeholders (no format specs: `{name:>300000000}` would build a giant string), and every
regular expression compiles and matches in bounded time (see signature_patterns). Every
error is one line naming the file, the signature (its number and id) and the field.
"""
from __future__ import annotations

import json
import string
from typing import Any, Sequence

from .model import ACCELS, ROLES
from .signature_patterns import FILE_BUDGET, PatternError, compile_pattern
from .signatures import BUILTIN, Signature, SignatureTable

SIZE_LIMIT = 1 << 20            # bytes in a signatures file
TEXT_FIELD_LIMIT = 1000         # characters in one string field
PLACEHOLDERS = ("vcpu", "accel_name", "iothread", "name", "what")   # see classify.detail_fields

_STRING_LISTS = ("entries", "frames", "names", "libraries", "after_anon")
_PATTERN_LISTS = {"names": False, "libraries": True}   # field -> matched anywhere (re.search)
_KEYS = ("id", "role", "detail", "accel", "versions", "qemu") + _STRING_LISTS


class SignatureFileError(ValueError):
    """A signatures file that cannot be used, said in one line."""


def _shown(text: object, limit: int = 60) -> str:
    """Text from the file, printable and short enough for a one-line message."""
    text = str(text)
    cut = text[:limit]
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in cut)
    return shown + ("..." if len(text) > limit else "")


def _type_name(value: object) -> str:
    names = {str: "a string", bool: "true/false", int: "a number", float: "a number",
             list: "a list", dict: "an object", type(None): "null"}
    return names.get(type(value), type(value).__name__)


class _FieldError(ValueError):
    def __init__(self, field: str, problem: str) -> None:
        super().__init__("field '%s': %s" % (field, problem))


def _string(data: dict[str, Any], key: str, default: str | None = None,
            empty_ok: bool = True) -> str:
    """A string field; a missing one is `default` (None: the field is required)."""
    if key not in data and default is not None:
        return default
    value = data.get(key)
    if not isinstance(value, str):
        raise _FieldError(key, "must be a string, not %s" % ("missing" if key not in data
                                                              else _type_name(value)))
    if not value and not empty_ok:
        raise _FieldError(key, "must not be empty")
    if len(value) > TEXT_FIELD_LIMIT:
        raise _FieldError(key, "longer than %d characters" % TEXT_FIELD_LIMIT)
    return value


def _string_list(data: dict[str, Any], key: str) -> tuple[tuple[str, ...], int]:
    """A list of non-empty strings, and what matching them costs (see signature_patterns):
    those of `names` and `libraries` must be patterns that match in bounded time."""
    value = data.get(key, [])
    if not isinstance(value, list):
        raise _FieldError(key, "must be a list of strings, not %s" % _type_name(value))
    cost = 0
    for number, item in enumerate(value, 1):
        if not isinstance(item, str):
            raise _FieldError(key, "item %d must be a string, not %s" % (number, _type_name(item)))
        if not item:
            raise _FieldError(key, "item %d is empty" % number)
        if len(item) > TEXT_FIELD_LIMIT:
            raise _FieldError(key, "item %d is longer than %d characters" % (number, TEXT_FIELD_LIMIT))
        if key in _PATTERN_LISTS:
            try:
                cost += compile_pattern(item, searched=_PATTERN_LISTS[key]).cost
            except PatternError as err:
                raise _FieldError(key, "item %d '%s': %s" % (number, _shown(item), err)) from None
    return tuple(value), cost


def check_detail(detail: str) -> None:
    """Only the known placeholders, with no format spec, conversion, index or attribute."""
    try:
        fields = list(string.Formatter().parse(detail))
    except ValueError as err:  # "Single '{' encountered in format string"
        raise _FieldError("detail", "bad format: %s (write {{ and }} for braces)" % err) from None
    for _literal, field, spec, conversion in fields:
        if field is None:
            continue
        if field not in PLACEHOLDERS:
            raise _FieldError("detail", "unknown placeholder {%s}; known: %s"
                              % (_shown(field), ", ".join("{%s}" % p for p in PLACEHOLDERS)))
        if spec or conversion:
            raise _FieldError("detail", "placeholder {%s} may not have a format spec or "
                              "conversion" % field)


def _checked_signature(data: dict[str, Any], budget: int) -> tuple[Signature, int]:
    """One checked signature and the cost of its patterns, which must stay within `budget`;
    a ValueError names the field that is wrong."""
    unknown = sorted(set(data) - set(_KEYS))
    if unknown:
        raise ValueError("unknown key(s) %s%s; known: %s"
                         % (", ".join("'%s'" % _shown(k) for k in unknown[:3]),
                            ", ..." if len(unknown) > 3 else "", ", ".join(_KEYS)))
    sig_id = _string(data, "id", empty_ok=False)
    role = _string(data, "role")
    if role not in ROLES:
        raise _FieldError("role", "unknown role '%s'; known: %s" % (_shown(role), ", ".join(ROLES)))
    detail = _string(data, "detail")
    check_detail(detail)
    accel = data.get("accel")
    if accel is not None and accel not in ACCELS:
        problem = ("unknown accelerator '%s'" % _shown(accel) if isinstance(accel, str)
                   else "must be a string or null, not %s" % _type_name(accel))
        raise _FieldError("accel", "%s; known: %s" % (problem, ", ".join(ACCELS)))
    qemu = data.get("qemu", True)
    if not isinstance(qemu, bool):
        raise _FieldError("qemu", "must be true or false, not %s" % _type_name(qemu))
    lists: dict[str, tuple[str, ...]] = {}
    for key in _STRING_LISTS:
        lists[key], cost = _string_list(data, key)
        budget -= cost
        if budget < 0:
            raise _FieldError(key, "the file's patterns together may backtrack for too long; "
                              "use fewer or simpler ones")
    return Signature(sig_id, role, detail, accel=accel, entries=lists["entries"],
                     frames=lists["frames"], names=lists["names"], libraries=lists["libraries"],
                     after_anon=lists["after_anon"], versions=_string(data, "versions", default=""),
                     qemu=qemu, user=True), budget


def _read_limited(path: str) -> str:
    """The file's JSON text, reading no more than SIZE_LIMIT + 1 bytes (/dev/zero ends too)."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(SIZE_LIMIT + 1)
    except OSError as err:
        raise ValueError(err.strerror or str(err)) from None
    if len(raw) > SIZE_LIMIT:
        raise ValueError("larger than the limit of %d MiB" % (SIZE_LIMIT >> 20))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError("not UTF-8 text (byte %d)" % err.start) from None


def _read_json(path: str) -> Any:
    try:
        return json.loads(_read_limited(path))
    except RecursionError:
        raise SignatureFileError("cannot read signatures from %s: nested too deeply"
                                 % _shown(path, 200)) from None
    except ValueError as err:  # json.JSONDecodeError is one
        raise SignatureFileError("cannot read signatures from %s: %s" % (_shown(path, 200), err)) from None


def load_user_signatures(path: str) -> list[Signature]:
    """Signatures from a JSON file; SignatureFileError (one line) if anything is wrong."""
    data = _read_json(path)
    where = "signatures file %s" % _shown(path, 200)
    if not isinstance(data, list):
        raise SignatureFileError("%s: expected a JSON list of signatures, not %s"
                                 % (where, _type_name(data)))
    result = []
    budget = FILE_BUDGET
    for index, item in enumerate(data):
        name = "signature %d" % (index + 1)
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            name += " (id '%s')" % _shown(item["id"])
        if not isinstance(item, dict):
            raise SignatureFileError("%s: %s: expected an object, not %s"
                                     % (where, name, _type_name(item)))
        try:
            sig, budget = _checked_signature(item, budget)
        except ValueError as err:
            raise SignatureFileError("%s: %s: %s" % (where, name, err)) from None
        result.append(sig)
    return result


def make_table(user_files: Sequence[str] = ()) -> SignatureTable:
    """The built-in table with each file's signatures added (or replacing by id), in order."""
    sigs: list[Signature] = list(BUILTIN)
    for path in user_files:
        sigs += load_user_signatures(path)
    return SignatureTable(sigs)
