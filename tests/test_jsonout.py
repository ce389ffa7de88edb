"""solver.jsonout writes exactly what json.dumps(ensure_ascii=False, indent=1, sort_keys=True) writes (floats:
the same values, in msgspec's spelling)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from solver.jsonout import dumps_indented

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(min_value=-10**30, max_value=10**30), st.text(max_size=12))


def values(scalars):
    return st.recursive(scalars, lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(st.text(max_size=6), inner, max_size=5),
        st.dictionaries(st.text(max_size=6), st.text(max_size=4), max_size=6)), max_leaves=40)


VALUES = values(SCALARS)
WITH_FLOATS = values(st.one_of(SCALARS, st.floats(allow_nan=False, allow_infinity=False)))


def reference(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=1, sort_keys=True)


@given(VALUES)
@settings(max_examples=500, deadline=None)
def test_same_text_as_the_standard_library(obj):
    assert dumps_indented(obj) == reference(obj)


@given(WITH_FLOATS)
@settings(max_examples=300, deadline=None)
def test_floats_read_back_the_same_and_nothing_else_differs(obj):
    text = dumps_indented(obj)
    assert json.loads(text) == json.loads(reference(obj))
    assert len(text.splitlines()) == len(reference(obj).splitlines())


def test_what_msgspec_refuses_is_written_by_the_standard_library():
    for obj in ({"n": 10**30}, {1: "a", 2: "b"}, ["\ud800"]):
        assert dumps_indented(obj) == reference(obj)


def test_vietnamese_control_characters_and_tuples():
    obj = {"tên": "Nguyễn Văn A\u0000\u001f\u007f\u0085\u2028\"\n\\", "b": (1, 2.5, None), "a": {}, "c": [],
           "đ": {"x": "Hoàn thành tốt"}, "e": "", "z": [[], {}, [{}]], "l": True, "m": False}
    assert dumps_indented(obj) == reference(obj)


def test_a_real_result_is_unchanged():
    from tests.casebuild import case, member, org, votes
    from solver.engine.solve import solve
    from solver.verify import verify

    loaded = case(org("CB", "XS"), *[member(f"DV{i}", "CB", "XS", votes=votes(8, 2)) for i in range(6)])
    result = solve(loaded)
    assert result.proven and verify(loaded, result.levels) == []
    assert result.dumps() == reference(result.to_json()) + "\n"
