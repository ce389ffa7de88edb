"""The same input gives the same JSON bytes whatever the worker count, run after run."""

from pathlib import Path

import pytest

from casebuild import case, member, org, votes
from model.loader import load_case
from solver.engine.solve import SolveOptions, solve

EXAMPLES = Path(__file__).resolve().parent / "data" / "examples"


def tie_heavy():
    """Three chi bộ under one TCCSĐ, many equal supports: the answer rests on the documented key."""
    subjects = [org("DB", "T", tier="grassroots")]
    for b in range(3):
        subjects.append(org(f"B{b}", "T", tier="branch", parent="DB"))
        for i in range(12):
            v = votes(9, 6) if i % 3 == 0 else votes(2, 13)
            subjects.append(member(f"B{b}M{i}", f"B{b}", None, votes=v))
    return case(*subjects)


@pytest.mark.parametrize("loaded", [tie_heavy(), load_case(EXAMPLES / "03_quota_vs_head_collective.json")],
                         ids=["tie_heavy", "example03"])
def test_json_is_byte_identical_across_workers_and_runs(loaded):
    outputs = {solve(loaded, SolveOptions(workers=w)).dumps() for w in (1, 2, 8) for _ in range(2)}
    assert len(outputs) == 1


def test_ties_are_reported_when_supports_are_equal():
    result = solve(tie_heavy())
    assert result.status == "optimal"
    assert result.ties and result.tie_break_used


def test_progress_is_reported_in_vietnamese_and_changes_nothing():
    loaded = load_case(EXAMPLES / "01_cap_20_percent.json")
    said = []
    with_progress = solve(loaded, SolveOptions(progress=said.append)).dumps()
    assert with_progress == solve(loaded).dumps()
    assert any("Đang giải" in s for s in said) and any("kiểm tra độc lập" in s for s in said)
