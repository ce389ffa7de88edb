"""The fast paths of input and output give what the exact ones give: the msgspec parser of
``model.loader.parse_json_bytes`` against the standard-library parser (value or Vietnamese error), on texts
with duplicate keys, escapes, odd spacing, big numbers and forbidden characters."""

from __future__ import annotations

import json
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from model.errors import CaseInvalid
from model.loader import parse_json_bytes, parse_json_text

KEYS = st.sampled_from(["a", "b", "id", ":", "a:b", "\"", "é", "e\u0301", "x y", ""])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(min_value=-10**25, max_value=10**25),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=6),
                    st.sampled_from([":", "\":", "a\u0085", "\x7f", "\ufffe", "e\u0301", "Hòa", "Hoà"]))


def _pairs(inner):
    return st.lists(st.tuples(KEYS, inner), max_size=4)  # a key may come twice


VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4), _pairs(inner)), max_leaves=20)


def _write(value, blank: str) -> str:
    """JSON text of a value where a list of pairs is an object (so that keys can repeat)."""
    if isinstance(value, list) and value and all(isinstance(x, tuple) for x in value):
        return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}{blank}:{_write(v, blank)}"
                              for k, v in value) + "}"
    if isinstance(value, list):
        return "[" + f",{blank}".join(_write(v, blank) for v in value) + "]"
    if isinstance(value, tuple):
        return _write(list(value), blank)
    return json.dumps(value, ensure_ascii=bool(blank))  # with blanks, escapes too


def _exact(raw: bytes):
    try:
        return ("ok", parse_json_text(raw.decode("utf-8-sig"), "f.json"))
    except CaseInvalid as exc:
        return ("error", [str(p) for p in exc.problems])


def _fast(raw: bytes):
    try:
        return ("ok", parse_json_bytes(raw, "f.json"))
    except CaseInvalid as exc:
        return ("error", [str(p) for p in exc.problems])


@given(VALUES, st.sampled_from(["", " ", "\n"]), st.sampled_from(["NFC", "NFD"]))
@settings(max_examples=600, deadline=None)
def test_the_fast_parser_answers_as_the_exact_one(value, blank, form):
    raw = unicodedata.normalize(form, _write(value, blank)).encode("utf-8")
    assert repr(_fast(raw)) == repr(_exact(raw))


def test_what_only_the_exact_parser_reads():
    for text in ['{"a": 1, "a": 2}', '{"a": {"b": ":", "b": 1}}', '{"a" : 1, "a" : 2}', '[1e400]', '[NaN]',
                 '["\\u00e9"]', '["\\ud800"]', '["\x7f"]', '["\u0085"]', "[" * 3000 + "]" * 3000, '[1,]',
                 '{"n": 123456789012345678901234567890}', '\ufeff{"a": 1}', '["a\x01"]', '{"a":"q\\":"}']:
        raw = text.encode("utf-8")
        assert repr(_fast(raw)) == repr(_exact(raw)), text
