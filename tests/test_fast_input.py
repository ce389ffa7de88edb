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


# ---- the typed reading of a case (``model.loader.parse_case_bytes``) against the exact path ----------------

def _case_answer(raw: bytes, *, chunked: bool):
    """What loading these bytes gives: the case (as plain data, its records as they are, with their types, and
    its warnings) or the problems' texts. ``chunked``: through ``parse_case_bytes`` (msgspec's typed reading
    when it can vouch for the text), else through pydantic alone."""
    from model.case import dump
    from model.loader import parse_case, parse_case_bytes

    try:
        loaded = (parse_case_bytes(raw, "f.json") if chunked
                  else parse_case(parse_json_bytes(raw, "f.json"), "f.json", nfc_done=True))
    except CaseInvalid as exc:
        return ("error", [str(p) for p in exc.problems])
    return ("ok", loaded.case.model_dump(mode="json"), [dump(s) for s in loaded.case.subjects],
            repr(loaded.case.subjects), [str(w) for w in loaded.warnings])


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


def test_the_typed_reading_of_a_case_answers_as_the_exact_path(monkeypatch):
    """``parse_case_bytes`` decodes a valid case's subjects with msgspec straight into the records (never as raw
    data); on anything it cannot vouch for, the exact path answers. Either way: the same case, the same records
    with the same types, or the same problems in the same order. Keys are counted 3 subjects at a time, so that
    keys written twice fall at every boundary."""
    from pathlib import Path

    import model.loader as loader

    monkeypatch.setattr(loader, "KEYS_CHUNK", 3)
    root = Path(__file__).resolve().parents[1]
    files = [root / "scenarios" / "phuong_tan_loi_2018.json", root / "scenarios" / "xa_2025.json",
             root / "tests" / "data" / "examples" / "05_conflicting_locks.json"]
    files += sorted((root / "tests" / "data" / "bad").glob("*.json"))
    seen_typed = 0
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
            seen_typed += loader._case_typed(raw) is not None
    assert seen_typed >= 3  # the typed path itself was taken, not only the exact one


def test_the_typed_reading_refuses_what_it_cannot_vouch_for():
    """Each of these returns None from the typed reader (the exact path then answers): a key written twice at
    any depth (also with its default value, which the compact writing leaves out), an escape, a byte-order mark, text not in NFC, a what-if, no list of subjects."""
    from model.loader import _case_typed

    good = {"name": "Hồ sơ", "subjects": [{"id": "A", "name": "An", "kind": "member", "votes": {"XS": 1}}]}
    assert _case_typed(json.dumps(good, ensure_ascii=False).encode()) is not None
    written = {"name": "Hồ sơ", "subjects": [{"id": "A", "name": "An", "kind": "member", "rated": True,
                                            "votes": {"XS": 1, "K": 0}, "facts": {}}]}  # defaults written out
    assert _case_typed(json.dumps(written, ensure_ascii=False).encode()) is not None
    for text in ['{"name": "Hồ sơ", "name": "Hai", "subjects": [{"id": "A", "name": "An", "kind": "member"}]}',
                 '{"name": "Hồ sơ", "subjects": [{"id": "A", "id": "B", "name": "An", "kind": "member"}]}',
                 '{"name": "Hồ sơ", "subjects": [{"id": "A", "name": "An", "kind": "member", '
                 '"votes": {"XS": 1, "XS": 2}}]}',
                 '{"name": "Hồ sơ", "subjects": [{"id": "A", "name": "An", "kind": "member", '
                 '"rated": true, "rated": true}]}',
                 '{"name": "Hồ sơ", "subjects": [{"id": "A", "name": "An", "kind": "member", '
                 '"votes": {"K": 0, "XS": 1, "K": 0}}]}',
                 '{"name": "Hồ sơ", "subjects": [{"id": "A", "name": "An", "kind": "member", '
                 '"facts": {"tasks": {"assigned": 1, "done": 1, "on_time": 1, "done": 1}}}]}',
                 '{"name": "H\\u1ed3 sơ", "subjects": [{"id": "A", "name": "An", "kind": "member"}]}',
                 '\ufeff{"name": "Hồ sơ", "subjects": [{"id": "A", "name": "An", "kind": "member"}]}',
                 unicodedata.normalize("NFD", '{"name": "Hồ sơ", "subjects": [{"id": "A", "name": "An", '
                                              '"kind": "member"}]}'),
                 '{"whatif": "Thử?", "name": "Hồ sơ", "subjects": []}', '{"name": "Hồ sơ"}', '[1, 2]',
                 '{"name": "Hồ sơ", "subjects": [{"id": "A", "name": "An", "kind": "member", "votes": {"XS": 1e400}}]}']:
        assert _case_typed(text.encode("utf-8")) is None, text
    # what pydantic checks beyond msgspec's types: each sends the file to the exact path, which names it
    for subject in ['{"id": " A", "name": "An", "kind": "member"}',
                    '{"id": "A\u00a0B", "name": "An", "kind": "member"}',
                    '{"id": "A", "name": "An", "kind": "member", "votes": {"XS": 3}, "voters": 2}',
                    '{"id": "A", "name": "An", "kind": "member", "score": 87.55}',
                    '{"id": "A", "name": "An", "kind": "member", "self_score": 0.05}',
                    '{"id": "A ", "name": "An", "kind": "member"}',
                    '{"id": "A", "name": "An", "kind": "member"}, {"id": "B　", "name": "Bình", "kind": "member"}',
                    '{"id": "A", "name": "An", "kind": "member", "facts": {"tasks": {"assigned": 2, "done": 3, '
                    '"on_time": 1}}}',
                    '{"id": "A", "name": "An", "kind": "member", "level": " XS"}']:
        text = '{"name": "Hồ sơ", "subjects": [' + subject + "]}"
        assert _case_typed(text.encode("utf-8")) is None, text


# ---- every field, good and bad values: the typed reading against pydantic's --------------------------------

_ORG = {"id": "O1", "name": "Chi bộ Một", "kind": "party_org", "tier": "branch", "votes": {"XS": 2, "T": 5}}
_LEVELS = ["XS", "T", "HT", "K", " XS", "xs", "HTXSNV", "TB", "", 3, None]
_REFS = ["O1", "M9", "", "x" * 200, "x" * 201, "Ô 1", "O\u00a01", "O\u200b1", 3, None, ["O1"]]
_NAMES = ["Lê Văn An", "", "n" * 500, "n" * 501, "Lê\u00a0An", "Lê\u2028An", "An\u00ad", 7, None]
_COUNTS = [0, 1, 3, 1_000_000, 1_000_001, -1, 2.0, True, "3", None]
_SCORES = [0, 90, 90.0, 87.5, 87.55, 100, 100.1, -0.5, "90", True, None, 1e300]
_FACT_VALUES = {
    "civil_servant_level": _LEVELS, "disciplined": [True, False, 1, None, "true"],
    "committee_member": [True, False, 0], "sick_leave_months": [0, 3, 2.5, 12, 12.5, -1, "3", True, None],
    "criteria": [{}, {"task": ["XS", "T"]}, {"other": ["TB", "K"]}, {"task": ["Q"]}, {"task": "XS"},
                 {"task": ["XS"], "x": 1}, None],
    "violation_org": _REFS, "shortcomings_remedied": [True, False, None, 1],
    "tasks": [{"assigned": 3, "done": 2, "on_time": 1}, {"assigned": 3, "done": 4, "on_time": 1},
              {"assigned": 3, "done": 2, "on_time": 3}, {"assigned": 3, "done": 2, "on_time": 1, "exceeded": 3},
              {"assigned": 0, "done": 0, "on_time": 0}, {"assigned": 3, "done": 2}, {"assigned": 3.0, "done": 2,
                                                                                    "on_time": 1}, None],
    "discipline": [{"form": "canh_cao", "kind": "duty"}, {"form": "canh_cao", "kind": "duty", "self_reported": True},
                   {"form": "phat", "kind": "duty"}, {"form": "canh_cao"}, {"form": "canh_cao", "kind": "x"}, None],
    "low_confidence": [True, False], "maternity_leave": [True, "no"], "colour": [1],
}
_SUBJECT_VALUES = {
    "parent": _REFS, "tier": ["upper", "grassroots", "branch", "top", None, 1], "person": _REFS,
    "main_post": [True, False, 1], "in_charge_of": [[], ["O1"], ["O1", 3], "O1", None, [""], ["O1", "O1"]],
    "score": _SCORES, "self_score": _SCORES,
    "excluded": ["exempted", "suspended", "new_member", "new_body", "other", "", None],
    "votes": [{"XS": 1}, {"XS": 2, "T": 3, "TB": 1, "K": 1}, {"XS": -1}, {"XS": 1.0}, {"XS": True}, {"Q": 1}, {},
              None, [1], {"XS": 1_000_001}],
    "voters": _COUNTS, "proposed": _LEVELS, "target": _LEVELS, "level": _LEVELS, "lock": _LEVELS,
    "lock_reason": _NAMES, "lock_author": _NAMES, "rated": [True, False, 1, None], "may_rise": [True, False],
    "unknown": [1],
}


@st.composite
def _subject(draw):
    s = {"id": draw(st.sampled_from(["M1", " M1", "M1 ", "", "x" * 200, "x" * 201, "Mô1", "M\u00a01", "M 1",
                                     "M\u200b1", 5, None])),
         "name": draw(st.sampled_from(_NAMES)),
         "kind": draw(st.sampled_from(["member", "member", "member", "leader", "boss", 1]))}
    for key in draw(st.lists(st.sampled_from(sorted(_SUBJECT_VALUES)), max_size=4, unique=True)):
        s[key] = draw(st.sampled_from(_SUBJECT_VALUES[key]))
    if draw(st.booleans()):
        s["facts"] = {k: draw(st.sampled_from(_FACT_VALUES[k]))
                      for k in draw(st.lists(st.sampled_from(sorted(_FACT_VALUES)), max_size=3, unique=True))}
    return s


@given(st.lists(_subject(), min_size=1, max_size=3))
@settings(max_examples=500, deadline=None)
def test_the_typed_reading_of_every_field_answers_as_pydantic(subjects):
    """Subjects with good and bad values of every field (types, bounds, lengths, characters of ids and names,
    level codes, the validators): ``parse_case_bytes`` gives exactly what pydantic's path gives, the same
    records with the same types, or the same problems in the same order."""
    for i, s in enumerate(subjects):
        if isinstance(s.get("id"), str) and s["id"] == "M1":
            s["id"] = f"M{i + 1}"
        s.setdefault("parent", "O1")
    raw = json.dumps({"name": "Hồ sơ", "subjects": [_ORG, *subjects]}, ensure_ascii=False).encode("utf-8")
    assert repr(_case_answer(raw, chunked=True)) == repr(_case_answer(raw, chunked=False))


def test_the_typed_reading_takes_good_subjects_of_every_field():
    """The typed reading is itself taken (not only the exact path) for a subject with every field set."""
    from model.loader import _case_typed

    full = {"id": "L1", "name": "Lê Văn An", "kind": "leader", "parent": "O1", "person": "P1", "main_post": True,
            "in_charge_of": ["O1"], "score": 87.5, "self_score": 90, "votes": {"XS": 1, "T": 2, "TB": 1, "K": 0},
            "voters": 5, "proposed": "T", "target": "T", "level": "HT", "lock": "T", "lock_reason": "Lý do",
            "lock_author": "Ban Thường vụ", "may_rise": True, "rated": False, "excluded": "exempted",
            "facts": {"civil_servant_level": "K", "sick_leave_months": 2.5, "criteria": {"task": ["XS"]},
                      "tasks": {"assigned": 3, "done": 2, "on_time": 1, "exceeded": 1},
                      "discipline": {"form": "canh_cao", "kind": "duty", "self_reported": True},
                      "shortcomings_remedied": False, "low_confidence": True}}
    raw = json.dumps({"name": "Hồ sơ", "subjects": [_ORG, full]}, ensure_ascii=False).encode("utf-8")
    case = _case_typed(raw)
    assert case is not None and case.subjects[1].facts.tasks.exceeded == 1
    assert repr(_case_answer(raw, chunked=True)) == repr(_case_answer(raw, chunked=False))


def test_dump_of_a_record_honours_include_and_exclude_as_before():
    """Found in review of the msgspec records: ``dump`` and ``Case.model_dump`` apply ``include``/``exclude`` to a
    record and to the records inside a case, as they did when the records were pydantic dataclasses (the records'
    serializer, ``CaseRecord.__get_pydantic_core_schema__``, forwards them to the twin's)."""
    from model.case import Case, Subject, dump, validate_as

    s = validate_as(Subject, {"id": "M1", "name": "An", "kind": "member", "votes": {"XS": 1}})
    assert "facts" not in dump(s, exclude={"facts"})
    assert dump(s, mode="json", include={"id", "votes"}) == {"id": "M1", "votes": {"XS": 1, "T": 0, "TB": 0, "K": 0}}
    assert dump(s, mode="json", exclude={"votes": {"XS"}})["votes"] == {"T": 0, "TB": 0, "K": 0}
    case = Case.model_validate({"name": "Hồ sơ", "subjects": [dump(s, mode="json")]})
    assert case.model_dump(mode="json", include={"subjects": {0: {"id"}}}) == {"subjects": [{"id": "M1"}]}
    assert "facts" not in case.model_dump(mode="json", exclude={"subjects": {"__all__": {"facts"}}})["subjects"][0]
