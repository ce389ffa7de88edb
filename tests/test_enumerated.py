"""Small components are solved by enumerating their assignments (``solver.engine.reduced.Enumerated``): the
results are the same bytes as when every component goes to CP-SAT — levels, ties, claims, explanations."""

from __future__ import annotations

import pytest

import solver.engine.reduced as reduced
from model.generate import generate_case
from model.loader import parse_case
from solver.engine.solve import SolveOptions, solve

CASES = [(6000, seed, shape, profile) for seed, shape, profile in [
    (1, "province", None), (2, "district", "bd-2020"), (3, "commune", "bmt-bd-2020"), (4, "province", "qd366-2025"),
    (5, 5, None)]]


@pytest.mark.parametrize("members,seed,shape,profile", CASES)
def test_enumeration_gives_the_bytes_of_cpsat(monkeypatch, members, seed, shape, profile):
    loaded = parse_case(generate_case(members, seed, shape=shape, interplay=True, profile=profile))
    fast = solve(loaded, SolveOptions(workers=1))
    monkeypatch.setattr(reduced, "ENUMERATE_UP_TO", 0)
    slow = solve(loaded, SolveOptions(workers=1))
    assert fast.status == "optimal" and fast.proven
    assert fast.dumps() == slow.dumps()


def test_some_components_are_enumerated_and_some_carry_ties_and_claims():
    loaded = parse_case(generate_case(4000, 6, interplay=True))
    keep: dict = {}
    result = solve(loaded, SolveOptions(workers=1), keep=keep)
    sizes = [len(p.members) for p in keep["parts"]]
    assert any(1 < n <= reduced.ENUMERATE_UP_TO for n in sizes)
    assert result.ties and result.claims
