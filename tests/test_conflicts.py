"""Conflicts are minimal: dropping any member of the reported set makes the case feasible."""

import pytest

from casebuild import case, collective, leader, member, org, unit
from model.generate import generate_case
from model.levels import Level
from model.loader import parse_case
from solver.engine.conflicts import find_conflict
from solver.engine.encoding import Encoding
from solver.engine.solve import solve

from ortools.sat.python import cp_model



CASES = {
    "three_locks": lambda: case(org("CB", "T"), *[member(f"M{i}", "CB", "XS", lock="XS") for i in range(3)]),
    "lock_vs_fact": lambda: case(org("CB", "T"), member("A", "CB", "T", lock="T", facts={"disciplined": True})),
    "lock_vs_structure": lambda: case(unit("U", "HT"), collective("C", "U", "T", lock="T")),
    "lock_chain": lambda: case(org("CB", "XS", lock="XS"), member("A", "CB", "HT"),
                               *[member(f"M{i}", "CB") for i in range(5)]),
    "head_above": lambda: case(unit("U", "XS"), collective("C", "U", "HT", lock="HT"), leader("L", "C", "T", lock="T")),
}


def assert_infeasible_and_minimal(loaded, items) -> None:
    """The reported set, guarded on the whole case, is infeasible, and dropping any one member makes it
    feasible."""
    from solver.engine.conflicts import _item

    assert items
    enc = Encoding(loaded, guarded=True)
    texts = [c.text for c in items]
    chosen = [g.lit for g in enc.guards if _item(loaded, g, enc).text in texts]
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


@pytest.mark.parametrize("name", sorted(CASES))
def test_conflict_set_is_infeasible_and_minimal(name):
    loaded = CASES[name]()
    result = solve(loaded)
    assert result.status == "conflict"
    assert_infeasible_and_minimal(loaded, result.conflicts)


def test_too_many_xs_locks_in_one_quota_group_of_a_province_are_searched_locally(monkeypatch):
    """A quota group given more XS locks than its cap allows: the conflict is searched on the component's
    sub-case (its quota group, what its members read), not on the whole case, and is still minimal on
    the whole case."""
    import solver.engine.conflicts

    base = parse_case(generate_case(1_500, 5), "huyen.json")
    first = solve(base)
    groups: dict[str, list[str]] = {}
    for sid, g in base.hierarchy.group_of.items():
        groups.setdefault(g, []).append(sid)
    kept = {g: [s for s in m if first.levels.get(s) is Level.XS] for g, m in groups.items()}
    by_quota = {c.id for c in first.changes if any(r.rule == "C1" for r in c.reasons)}  # lowered by the cap
    lowered = {g: [s for s in m if s in by_quota] for g, m in groups.items()}
    group = min((g for g in groups if kept[g] and lowered[g]), key=lambda g: (len(groups[g]), g))
    data = base.case.to_data()
    locks = set(kept[group]) | {lowered[group][0]}
    for s in data["subjects"]:
        if s["id"] in locks:
            s["lock"] = "XS"
    loaded = parse_case(data, "huyen_khoa.json")
    searched = []
    real = solver.engine.conflicts.find_conflict

    def recording(sub, time_limit=30.0, given_records=None):
        searched.append((len(sub.case.subjects), given_records is not None))
        return real(sub, time_limit, given_records)

    monkeypatch.setattr(solver.engine.conflicts, "find_conflict", recording)
    result = solve(loaded)
    assert result.status == "conflict"
    assert searched and all(local and size < len(loaded.case.subjects) for size, local in searched)
    assert any(c.rule == "C1" for c in result.conflicts)
    assert {c.subject for c in result.conflicts if c.rule == "lock"} == locks
    monkeypatch.undo()
    assert_infeasible_and_minimal(loaded, result.conflicts)


def test_the_lock_chain_conflict_names_the_member_and_the_branch_rule():
    result = solve(CASES["lock_chain"]())
    rules = sorted(c.rule for c in result.conflicts)
    assert rules == ["S3", "direction", "lock"]  # the lock on CB, S3 needs A ≥ T, A may not rise above HT


def test_a_conflict_search_out_of_time_returns_a_set_that_still_conflicts_marked_not_minimal():
    from solver.result import CONFLICT_NOT_MINIMAL, SolveResult, conflict_heading

    loaded = CASES["three_locks"]()
    full = find_conflict(loaded)
    assert full.minimal and conflict_heading(full).startswith("Tập nhỏ nhất")
    cut = find_conflict(loaded, time_limit=0.0)  # the first proof gets its 0.01 s, the deletion none
    if not cut:
        assert cut.minimal is False  # not even the first proof in time: nothing, and not called minimal
        return
    assert cut.minimal is False and len(cut) >= len(full)
    assert {c.text for c in full} <= {c.text for c in cut}
    result = SolveResult("x", "conflict")
    result.take_conflicts(cut)
    assert result.notes == [CONFLICT_NOT_MINIMAL] and result.to_json()["conflict_minimal"] is False
    assert "chưa rút gọn xong" in conflict_heading(result.conflicts)
    result.take_conflicts(full)
    assert "conflict_minimal" not in result.to_json()


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_quick_deletion_step_that_does_not_settle_falls_back_to_a_full_solve(monkeypatch, name):
    import solver.engine.conflicts

    loaded = CASES[name]()
    quick = find_conflict(loaded)
    monkeypatch.setattr(solver.engine.conflicts, "QUICK_DETERMINISTIC_TIME", 1e-9)  # no quick step settles
    slow = find_conflict(loaded)
    assert [c.text for c in slow] == [c.text for c in quick] and slow.minimal and quick.minimal
