"""The verifier's shortcuts hold: a check listed in ``CHECK_KINDS`` is silent for every other kind, one listed
in ``CHECK_FACTS`` is silent whenever its fact is unset, and one in ``CHECK_PERSON`` for a subject without a
person — so skipping those calls hides nothing."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from model.case import Kind
from model.levels import Level
from model.loader import load_case
from solver.verify import CHECK_FACTS, CHECK_KINDS, CHECK_PERSON, CHECKS, Verifier

ROOT = Path(__file__).resolve().parents[1]
CASES = sorted((ROOT / "scenarios").glob("*.json")) + sorted((ROOT / "tests" / "data" / "examples").glob("*.json"))


def _assignments(loaded):
    """A few assignments that break rules: everyone at one level, and levels going round by position."""
    decided = list(loaded.targets)
    for lv in Level:
        yield {sid: lv for sid in decided}
    for shift in range(4):
        yield {sid: Level((i + shift) % 4) for i, sid in enumerate(decided)}


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_listed_checks_are_silent_outside_their_kinds_and_facts(path):
    loaded = load_case(path)
    v = Verifier(loaded.case, loaded.options)
    for levels in _assignments(loaded):
        for s, (rid, fn) in itertools.product(loaded.case.subjects, CHECKS.items()):
            x = levels.get(s.id)
            if x is None:
                continue
            found = []
            fn(v, s, x, levels, lambda *a: found.append(a))
            if s.kind not in CHECK_KINDS.get(rid, tuple(Kind)):
                assert not found, (rid, s.id, s.kind)
            fact = CHECK_FACTS.get(rid)
            value = getattr(s.facts, fact) if fact else True
            if value is None or value is False:
                assert not found, (rid, s.id, fact)
            if rid in CHECK_PERSON and s.person is None:
                assert not found, (rid, s.id, "person")


def test_a_fact_bound_check_still_fires_for_its_fact():
    from tests.casebuild import case, member, org, votes

    loaded = case(org("CB", "T"), member("DV1", "CB", "XS", votes=votes(9, 1), facts={"disciplined": True}))
    v = Verifier(loaded.case, loaded.options)
    rules = {x.rule for x in v.check({"CB": Level.T, "DV1": Level.XS})}
    assert "E2" in rules
