"""solver.jsonout writes exactly what json.dumps(ensure_ascii=False, indent=1, sort_keys=True) writes."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from solver.jsonout import dumps_indented

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(min_value=-10**30, max_value=10**30),
                    st.floats(allow_nan=False), st.text(max_size=12))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=5),
    st.dictionaries(st.text(max_size=6), inner, max_size=5),
    st.dictionaries(st.text(max_size=6), st.text(max_size=4), max_size=6)), max_leaves=40)


def reference(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=1, sort_keys=True)


@given(VALUES)
@settings(max_examples=500, deadline=None)
def test_same_text_as_the_standard_library(obj):
    assert dumps_indented(obj) == reference(obj)


def test_vietnamese_control_characters_and_tuples():
    obj = {"tên": "Nguyễn Văn A\u0000\"\n", "b": (1, 2.5, None), "a": {}, "c": [], "đ": {"x": "Hoàn thành tốt"}}
    assert dumps_indented(obj) == reference(obj)


def test_a_real_result_is_unchanged():
    from tests.casebuild import case, member, org, votes
    from solver.engine.solve import solve
    from solver.verify import verify

    loaded = case(org("CB", "XS"), *[member(f"DV{i}", "CB", "XS", votes=votes(8, 2)) for i in range(6)])
    result = solve(loaded)
    assert result.proven and verify(loaded, result.levels) == []
    assert result.dumps() == reference(result.to_json()) + "\n"
