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


# ---- the chunked reading of a case (``model.loader.parse_case_bytes``) against the exact path --------------

def _case_answer(raw: bytes, *, chunked: bool):
    """What loading these bytes gives: the case (as plain data, with its warnings) or the problems' texts."""
    from model.case import dump
    from model.loader import parse_case, parse_case_bytes

    try:
        loaded = (parse_case_bytes(raw, "f.json") if chunked
                  else parse_case(parse_json_bytes(raw, "f.json"), "f.json", nfc_done=True))
    except CaseInvalid as exc:
        return ("error", [str(p) for p in exc.problems])
    return ("ok", loaded.case.model_dump(mode="json"), [dump(s) for s in loaded.case.subjects],
            [str(w) for w in loaded.warnings])


def _mutations(text: str):
    """Texts near a valid case: keys written twice (top level, in a subject, in its facts), wrong types at the
    first, middle and last subject, unknown fields, a missing list, an escape, a what-if key, another form."""
    import re

    data = json.loads(text)
    n = len(data["subjects"])
    yield text
    yield text.replace('"subjects":', '"name": "hai lần", "subjects":', 1)
    for i in (0, n // 2, n - 1):
        for change in ({"votes": {"XS": "3"}}, {"colour": 1}, {"kind": "member", "parent": None},
                       {"name": ""}, {"facts": {"disciplined": 1}}, {"votes": {"XS": 1, "T": 2}, "voters": 1}):
            mutated = json.loads(text)
            mutated["subjects"][i] = {**mutated["subjects"][i], **change}
            yield json.dumps(mutated, ensure_ascii=False)
        s = json.dumps(data["subjects"][i], ensure_ascii=False)
        twice = re.sub(r'^\{"id": ("[^"]*")', r'{"id": \1, "id": \1', s)
        yield text.replace(s, twice, 1)
        if '"facts": {' in s:
            yield text.replace(s, s.replace('"facts": {', '"facts": {"self_remedied": true, "self_remedied": true, ',
                                            1), 1)
    yield text.replace('"subjects": [', '"subjects": {"x": [', 1).replace("]}", "]}}", 1)
    yield json.dumps({k: v for k, v in data.items() if k != "subjects"}, ensure_ascii=False)
    yield text.replace(data["name"], data["name"] + "\\u00e9", 1)
    yield json.dumps({"whatif": "Thử?", **data}, ensure_ascii=False)
    yield unicodedata.normalize("NFD", text)
    yield "\ufeff" + text


def test_the_chunked_reading_of_a_case_answers_as_the_exact_path(monkeypatch):
    """``parse_case_bytes`` reads a valid case in chunks of subjects (never every subject as raw data at once);
    on anything it cannot vouch for, the exact path answers. Either way: the same case, or the same problems in
    the same order. Chunks of 3 subjects put keys written twice and wrong types at every boundary."""
    from pathlib import Path

    import model.loader as loader

    monkeypatch.setattr(loader, "CHUNK", 3)
    root = Path(__file__).resolve().parents[1]
    files = [root / "scenarios" / "phuong_tan_loi_2018.json", root / "scenarios" / "xa_2025.json",
             root / "tests" / "data" / "examples" / "05_conflicting_locks.json"]
    files += sorted((root / "tests" / "data" / "bad").glob("*.json"))
    seen_chunked = 0
    for f in files:
        raw = f.read_bytes()
        assert repr(_case_answer(raw, chunked=True)) == repr(_case_answer(raw, chunked=False)), f.name
        try:
            data = json.loads(raw)
        except ValueError:  # a broken file of tests/data/bad: compared as it is, not mutated
            continue
        if not isinstance(data, dict) or not isinstance(data.get("subjects"), list) or not data["subjects"]:
            continue
        text = json.dumps(data, ensure_ascii=False)
        for variant in _mutations(text):
            raw = variant.encode("utf-8")
            assert repr(_case_answer(raw, chunked=True)) == repr(_case_answer(raw, chunked=False)), (f.name, variant[:200])
            seen_chunked += loader._case_by_chunks(raw) is not None
    assert seen_chunked >= 3  # the chunked path itself was taken, not only the exact one


def test_the_chunked_reading_refuses_what_it_cannot_vouch_for():
    """Each of these returns None from the chunked reader (the exact path then answers): a key written twice at
    any depth, an escape, a byte-order mark, text not in NFC, a what-if, no list of subjects."""
    from model.loader import _case_by_chunks

    good = {"name": "Hồ sơ", "subjects": [{"id": "A", "name": "An", "kind": "member", "votes": {"XS": 1}}]}
    assert _case_by_chunks(json.dumps(good, ensure_ascii=False).encode()) is not None
    for text in ['{"name": "Hồ sơ", "name": "Hai", "subjects": [{"id": "A", "name": "An", "kind": "member"}]}',
                 '{"name": "Hồ sơ", "subjects": [{"id": "A", "id": "B", "name": "An", "kind": "member"}]}',
                 '{"name": "Hồ sơ", "subjects": [{"id": "A", "name": "An", "kind": "member", '
                 '"votes": {"XS": 1, "XS": 2}}]}',
                 '{"name": "H\\u1ed3 sơ", "subjects": [{"id": "A", "name": "An", "kind": "member"}]}',
                 '\ufeff{"name": "Hồ sơ", "subjects": [{"id": "A", "name": "An", "kind": "member"}]}',
                 unicodedata.normalize("NFD", '{"name": "Hồ sơ", "subjects": [{"id": "A", "name": "An", '
                                              '"kind": "member"}]}'),
                 '{"whatif": "Thử?", "name": "Hồ sơ", "subjects": []}', '{"name": "Hồ sơ"}', '[1, 2]',
                 '{"name": "Hồ sơ", "subjects": [{"id": "A", "name": "An", "kind": "member", "votes": {"XS": 1e400}}]}']:
        assert _case_by_chunks(text.encode("utf-8")) is None, text
