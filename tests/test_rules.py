"""Per rule: a binds / silent pair on the smallest case, each solve re-checked by the verifier."""

import pytest

from casebuild import case, collective, leader, member, org, unit, votes
from model.catalogue import load_catalogue
from model.levels import Level
from solver.engine.rules import RULES
from solver.engine.solve import solve
from solver.verify import verify

XS, T, HT, K = Level.XS, Level.T, Level.HT, Level.K


def run(*subjects, **kw):
    loaded = case(*subjects, **kw)
    result = solve(loaded)
    assert result.status == "optimal"
    assert verify(loaded, result.levels) == []
    return result


def rules_of(result, sid):
    return {r.rule for c in result.changes if c.id == sid for r in c.reasons}


def test_every_rule_of_the_catalogue_has_one_function_in_catalogue_order():
    assert [rid for rid, _ in RULES] == list(load_catalogue().rule_ids)
    for rid, fn in RULES:
        assert fn.__doc__ and fn.__doc__.startswith(rid), rid


# C1 / C2 ----------------------------------------------------------------------------------------
def _members(n_xs, n_t):
    subs = [org("CB", target="T")]
    subs += [member(f"X{i}", "CB", "XS", votes=votes(15 - i, i)) for i in range(n_xs)]
    subs += [member(f"T{i}", "CB", "T") for i in range(n_t)]
    return subs


def test_C1_binds_when_xs_exceed_a_fifth_of_t():
    r = run(*_members(3, 10))  # 3·5 = 15 > 10: one must move
    assert r.changed == 1 and r.levels["X2"] == T  # the weakest XS support moves
    assert rules_of(r, "X2") == {"C1"}


def test_C1_silent_when_xs_within_a_fifth_of_t():
    assert run(*_members(2, 10)).changed == 0


def test_C1_good_and_above_reading_counts_xs_in_the_base():
    assert run(*_members(3, 12), options={"cap_base": "good_and_above"}).changed == 0  # 3·100 ≤ 20·15
    assert run(*_members(3, 12)).changed == 1  # literal: 3·5 = 15 > 12


def test_C1_literal_reading_binds_where_good_and_above_does_not():
    literal = run(*_members(3, 11))
    wide = run(*_members(3, 11), options={"cap_base": "good_and_above"})
    assert literal.changed == 1 and wide.changed == 1  # 3·100 ≤ 20·14 is false too
    wide2 = run(*_members(3, 12), options={"cap_base": "good_and_above"})
    assert wide2.changed == 0


def test_C1_cap_percent_25_allows_more():
    assert run(*_members(3, 12), options={"cap_percent": 25}).changed == 0
    assert run(*_members(3, 11), options={"cap_percent": 25}).changed == 1


def test_C2_binds_when_fewer_than_five_are_t():
    r = run(*_members(2, 3))
    assert r.changed == 1 and rules_of(r, "X1") == {"C2"}


def test_C2_silent_when_allowance_is_zero_everyone_moves():
    r = run(*_members(2, 3), options={"small_group_allowance": 0})
    assert r.changed == 2


# S1 / S2 ----------------------------------------------------------------------------------------
def test_S1_binds_when_collective_above_its_unit():
    r = run(unit("U", "HT"), collective("C", "U", "T"))
    assert r.levels["C"] == HT and rules_of(r, "C") == {"S1"}


def test_S1_silent_when_collective_not_above_its_unit():
    assert run(unit("U", "XS"), collective("C", "U", "T")).changed == 0


def test_S2_binds_when_head_above_collective():
    r = run(unit("U", "XS"), collective("C", "U", "HT"), leader("L", "C", "T"))
    assert r.levels["L"] == HT and rules_of(r, "L") == {"S2"}


def test_S2_binds_on_the_unit_too():
    r = run(unit("U", "HT"), collective("C", "U", "HT", rated=False), leader("L", "C", "T"))
    assert r.levels["L"] == HT


def test_S2_silent_for_a_transferred_head():
    r = run(unit("U", "XS"), collective("C", "U", "HT"), leader("L", "C", "T", facts={"transferred_in_exempt": True}))
    assert r.changed == 0


# S3 ---------------------------------------------------------------------------------------------
def test_S3_binds_when_a_member_is_below_good():
    r = run(org("CB", "XS"), member("A", "CB", "HT"), *[member(f"M{i}", "CB") for i in range(5)])
    assert r.levels["CB"] == T and rules_of(r, "CB") == {"S3"}


def test_S3_silent_when_all_members_good():
    assert run(org("CB", "XS"), *[member(f"M{i}", "CB") for i in range(5)]).changed == 0


def test_S3_more_than_a_fifth_k_makes_the_branch_k():
    r = run(org("CB", "HT"), member("A", "CB", "K"), member("B", "CB", "K"), *[member(f"M{i}", "CB") for i in range(7)])
    assert r.levels["CB"] == K  # 2/9 > 20%


def test_S3_a_fifth_k_exactly_is_silent():
    r = run(org("CB", "HT"), member("A", "CB", "K"), *[member(f"M{i}", "CB") for i in range(4)])
    assert r.levels["CB"] == HT  # 1/5 is not more than 20%


def test_S3_sub_organizations_bound_the_party_committee():
    r = run(org("DB", "XS", tier="upper"), org("A", "HT", parent="DB"), org("B", "T", parent="DB"))
    assert r.levels["DB"] == T


def test_S3_same_level_units_bound_and_two_k_units_force_k():
    r = run(unit("U1", "K"), unit("U2", "K"), org("DB", "XS", same_level_units=["U1", "U2"]))
    assert r.levels["DB"] == K
    r = run(unit("U1", "K"), unit("U2", "T"), org("DB", "XS", same_level_units=["U1", "U2"]))
    assert r.levels["DB"] == HT


def test_S3_silent_when_same_level_units_are_good():
    assert run(unit("U1", "T"), org("DB", "XS", same_level_units=["U1"])).changed == 0


def test_S3_more_than_a_fifth_of_sub_committees_k():
    subs = [org("DB", "T", tier="upper")]
    for i in range(4):
        subs.append(org(f"O{i}", "T", parent="DB"))
        subs.append(collective(f"C{i}", f"O{i}", "K" if i == 0 else "T"))
    r = run(*subs)
    assert r.levels["DB"] == K  # 1/4 committees K > 20%


# S4 ---------------------------------------------------------------------------------------------
def test_S4_binds_when_a_member_of_the_collective_is_disciplined():
    r = run(unit("U", "XS"), collective("C", "U", "XS"), leader("L", "C", "K", facts={"disciplined": True}))
    assert r.levels["C"] == K and "S4" in rules_of(r, "C")


def test_S4_self_remedied_discipline_caps_at_good():
    r = run(unit("U", "XS"), collective("C", "U", "XS"),
            leader("L", "C", "K", facts={"disciplined": True, "self_remedied": True}))
    assert r.levels["C"] == T


def test_S4_silent_without_conduct_facts():
    assert run(unit("U", "XS"), collective("C", "U", "XS"), leader("L", "C", "T")).changed == 0


def test_S4_disunity_forces_k():
    assert run(unit("U", "XS"), collective("C", "U", "T", facts={"disunity": True})).levels["C"] == K


# E1–E8 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("facts, level, rule", [
    ({"civil_servant_level": "HT"}, HT, "E1"),
    ({"civil_servant_level": "K"}, K, "E1"),
    ({"disciplined": True}, K, "E2"),
    ({"degeneration": True}, K, "E3"),
    ({"targets_below_half": True}, K, "E4"),
    ({"sick_leave_months": 3}, HT, "E5"),
    ({"criteria": {"task": ["XS", "T"], "other": ["T"]}}, T, "E6"),
    ({"criteria": {"task": ["T"], "other": ["K"]}}, K, "E6"),
])
def test_E_rule_binds_on_a_member(facts, level, rule):
    r = run(org("CB", "HT"), member("A", "CB", "XS", facts=facts), *[member(f"M{i}", "CB") for i in range(5)])
    assert r.levels["A"] == level and rule in rules_of(r, "A")


@pytest.mark.parametrize("facts", [
    {"civil_servant_level": "XS"}, {"sick_leave_months": 2.5}, {"maternity_leave": True},
    {"criteria": {"task": ["XS"], "other": ["T"]}}, {"self_remedied": True},
])
def test_E_rule_silent_on_a_member(facts):
    r = run(org("CB", "T"), member("A", "CB", "XS", facts=facts), *[member(f"M{i}", "CB") for i in range(5)])
    assert r.levels["A"] == XS


def test_E7_committee_member_disciplined_caps_the_branch_at_ht_or_t_if_remedied():
    base = [member(f"M{i}", "CB") for i in range(5)]
    r = run(org("CB", "XS"), member("A", "CB", "K", facts={"disciplined": True, "committee_member": True}), *base,
            options={"org_member_discipline": False})
    assert r.levels["CB"] == HT  # E7 HT (S3 allows HT too)
    r = run(org("CB", "XS"), member("A", "CB", "K", facts={"disciplined": True, "committee_member": True,
                                                           "self_remedied": True}), *base,
            options={"org_member_discipline": False})
    assert r.levels["CB"] == HT  # S3: a K member bars T, whatever E7 says


def test_E7_on_a_party_committee_fact():
    assert run(org("DB", "XS", tier="upper", facts={"committee_member_disciplined": True, "self_remedied": True})).levels["DB"] == T
    assert run(org("DB", "XS", tier="upper", facts={"committee_member_disciplined": True}),
               options={"org_member_discipline": False}).levels["DB"] == HT


def test_E7b_binds_literally_and_is_silent_when_turned_off():
    on = run(org("DB", "XS", tier="upper", facts={"subordinate_committee_disciplined": True}))
    off = run(org("DB", "XS", tier="upper", facts={"subordinate_committee_disciplined": True}),
              options={"org_member_discipline": False})
    assert on.levels["DB"] == K and off.levels["DB"] == XS


# locks and direction ----------------------------------------------------------------------------
def test_a_lock_above_target_is_kept_and_counts_as_a_change():
    r = run(org("CB", "T"), member("A", "CB", "T", lock="XS"), *[member(f"M{i}", "CB") for i in range(5)])
    assert r.levels["A"] == XS and r.changed == 1


def test_levels_never_rise_without_allow_up():
    r = run(org("CB", "HT"), *[member(f"M{i}", "CB", "XS") for i in range(2)])
    assert all(r.levels[s] <= r.targets[s] for s in r.levels)


def test_a_lock_that_breaks_a_rule_is_a_conflict_not_an_override():
    loaded = case(org("CB", "T"), member("A", "CB", "T", lock="XS", facts={"civil_servant_level": "T"}))
    result = solve(loaded)
    assert result.status == "conflict"
    assert {c.rule for c in result.conflicts} == {"lock", "E1"}
