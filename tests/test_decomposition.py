"""The reduced, per-component solve equals the monolithic general model on generated cases."""

import pytest

from model.generate import generate_case
from model.loader import parse_case
from solver.engine.solve import SolveOptions, solve
from solver.verify import verify


@pytest.mark.parametrize("seed, members, shape", [(1, 300, "commune"), (2, 400, "district"), (3, 250, "province")])
def test_reduced_equals_general(seed, members, shape):
    loaded = parse_case(generate_case(members, seed, shape=shape, interplay=seed == 3))
    general = solve(loaded, SolveOptions(method="general", time_limit=120))
    reduced = solve(loaded, SolveOptions(method="reduced", time_limit=120))
    assert general.status == reduced.status == "optimal"
    assert (general.changed, general.steps, general.support_cost) == (reduced.changed, reduced.steps, reduced.support_cost)
    assert general.levels == reduced.levels
    assert sorted(s for t in general.ties for s in t.subjects) == sorted(s for t in reduced.ties for s in t.subjects)
    assert verify(loaded, reduced.levels) == []
