"""The offline command line writes --json itself, piece by piece: what it writes for any
JSON value is what json.dumps(value, indent=1) writes."""
from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from gdb_qemu_threads.__main__ import _json_object

SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=8), VALUES | st.lists(st.text(), max_size=5), min_size=1, max_size=8),
       st.integers(0, 4))
def test_an_object_is_written_as_json_dumps_writes_it(doc: dict[str, Any], depth: int) -> None:
    pad = "\n" + " " * depth
    assert _json_object(doc, pad) == json.dumps(doc, indent=1).replace("\n", pad)
