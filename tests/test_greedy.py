"""The manual weakest-first method is valid but never better than the least-change solve, and worse in example 03."""

from pathlib import Path

import pytest

from model.loader import load_case
from solver.engine.greedy import greedy
from solver.engine.solve import solve
from solver.verify import verify

ROOT = Path(__file__).resolve().parents[1]
CASES = [p for p in sorted((ROOT / "tests" / "data" / "examples").glob("*.json")) if "conflicting" not in p.name]
CASES += [ROOT / "scenarios" / "phuong_tan_loi_2018.json"]


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_greedy_is_valid_and_never_better(path):
    loaded = load_case(path)
    manual = greedy(loaded)
    assert verify(loaded, manual) == []
    best = solve(loaded)
    manual_changed = sum(1 for s in manual if manual[s] != loaded.targets[s])
    assert manual_changed >= best.changed


def test_weakest_first_by_hand_makes_two_more_changes_in_example_03():
    loaded = load_case(ROOT / "tests" / "data" / "examples" / "03_quota_vs_head_collective.json")
    manual = greedy(loaded)
    assert sum(1 for s in manual if manual[s] != loaded.targets[s]) == 3  # P, its chi ủy and its secretary
    assert solve(loaded).changed == 1
