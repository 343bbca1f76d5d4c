"""A user's signatures file: JSON, a list of objects with Signature's keys, which adds to the
built-in table or replaces entries by `id`. Checked whole when loaded."""
from __future__ import annotations

import json
import re
from typing import List, Sequence

from .signatures import BUILTIN, Signature, SignatureTable, _check, _sig


def signature_from_dict(data: dict) -> Signature:
    known = set(Signature.__dataclass_fields__)  # type: ignore[attr-defined]
    unknown = set(data) - known
    if unknown:
        raise ValueError("unknown key(s) %s" % ", ".join(sorted(unknown)))
    for key in ("id", "role", "detail"):
        if not isinstance(data.get(key), str):
            raise ValueError("%r must be a string" % key)
    sig = _sig(**data, user=True)
    _check(sig)
    for rx in sig.names + sig.libraries:
        re.compile(rx)
    return sig


def load_user_signatures(path: str) -> List[Signature]:
    """Signatures from a JSON file: a list of objects with Signature's keys."""
    try:
        with open(path) as handle:
            data = json.load(handle)
    except (OSError, ValueError) as err:
        raise ValueError("cannot read signatures from %s: %s" % (path, err))
    if not isinstance(data, list):
        raise ValueError("%s: expected a JSON list of signatures" % path)
    result = []
    for index, item in enumerate(data):
        try:
            if not isinstance(item, dict):
                raise ValueError("expected an object")
            result.append(signature_from_dict(item))
        except (TypeError, ValueError, re.error) as err:
            raise ValueError("%s: signature %d: %s" % (path, index + 1, err))
    return result


def make_table(user_files: Sequence[str] = ()) -> SignatureTable:
    sigs: List[Signature] = list(BUILTIN)
    for path in user_files:
        sigs += load_user_signatures(path)
    return SignatureTable(sigs)


