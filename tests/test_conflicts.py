"""Conflicts are minimal: dropping any member of the reported set makes the case feasible."""

import pytest

from casebuild import case, collective, leader, member, org, unit
from solver.conflicts import find_conflict
from solver.encoding import Encoding
from solver.solve import solve

from ortools.sat.python import cp_model



CASES = {
    "three_locks": lambda: case(org("CB", "T"), *[member(f"M{i}", "CB", "XS", lock="XS") for i in range(3)]),
    "lock_vs_fact": lambda: case(org("CB", "T"), member("A", "CB", "T", lock="T", facts={"disciplined": True})),
    "lock_vs_structure": lambda: case(unit("U", "HT"), collective("C", "U", "T", lock="T")),
    "lock_chain": lambda: case(org("CB", "XS", lock="XS"), member("A", "CB", "HT"),
                               *[member(f"M{i}", "CB") for i in range(5)]),
    "head_above": lambda: case(unit("U", "XS"), collective("C", "U", "HT", lock="HT"), leader("L", "C", "T", lock="T")),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_conflict_set_is_infeasible_and_minimal(name):
    loaded = CASES[name]()
    result = solve(loaded)
    assert result.status == "conflict"
    items = result.conflicts
    assert items
    enc = Encoding(loaded, guarded=True)
    texts = [c.text for c in items]
    chosen = []
    from solver.conflicts import _item
    for g in enc.guards:
        if _item(loaded, g, enc).text in texts:
            chosen.append(g.lit)
    assert len(chosen) == len(items)

    def infeasible(lits):
        enc.model.clear_assumptions()
        enc.model.add_assumptions(lits)
        s = cp_model.CpSolver()
        s.parameters.num_workers = 1
        s.parameters.catch_sigint_signal = False  # as the product does: CP-SAT's own handler leaves SIGINT at SIG_DFL
        return s.solve(enc.model) == cp_model.INFEASIBLE

    assert infeasible(chosen)
    for i in range(len(chosen)):
        assert not infeasible(chosen[:i] + chosen[i + 1:])


def test_the_lock_chain_conflict_names_the_member_and_the_branch_rule():
    result = solve(CASES["lock_chain"]())
    rules = sorted(c.rule for c in result.conflicts)
    assert rules == ["S3", "direction", "lock"]  # the lock on CB, S3 needs A ≥ T, A may not rise above HT
