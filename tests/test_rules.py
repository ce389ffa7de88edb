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


# S3 corrected: the K trigger counts the Fatherland Front and mass organizations, not the government ----
def test_S3_two_front_or_mass_units_k_make_the_organization_k():
    r = run(unit("MT", "K", category="mat_tran"), unit("DT", "K", category="doan_the"),
            org("DB", "XS", same_level_units=["MT", "DT"]))
    assert r.levels["DB"] == K and rules_of(r, "DB") == {"S3"}


def test_S3_silent_on_k_when_one_of_the_two_k_units_is_the_government():
    # BMT II.B.1.3d lists "(Mặt trận Tổ quốc, đoàn thể chính trị - xã hội)": UBND K and MTTQ K give HT, not K
    r = run(unit("UB", "K", category="chinh_quyen"), unit("MT", "K", category="mat_tran"),
            org("DB", "XS", same_level_units=["UB", "MT"]))
    assert r.levels["DB"] == HT  # the government still counts for XS / T (II.B.1.3a–b)


def test_S3_the_government_counts_for_the_xs_and_t_conditions():
    r = run(unit("UB", "HT", category="chinh_quyen"), org("DB", "XS", same_level_units=["UB"]))
    assert r.levels["DB"] == T


def test_S3_a_same_level_unit_without_a_type_is_an_input_error_naming_its_row():
    from model.errors import CaseInvalid

    with pytest.raises(CaseInvalid) as raised:
        case(org("DB", "XS", same_level_units=["U"]), {"id": "U", "name": "UBND", "kind": "unit", "level": "T"})
    p = raised.value.problems[0]
    assert (p.field, p.row, p.subject) == ("category", 2, "U")


def test_S3_a_disciplined_chi_uy_makes_its_chi_bo_k():
    r = run(org("CB", "T"), collective("CU", "CB", "T", facts={"disciplined": True}),
            *[member(f"M{i}", "CB") for i in range(5)])
    assert r.levels["CB"] == K and "S3" in rules_of(r, "CB")


# E7b / E7c for a đảng bộ: the subordinate committees in the case ------------------------------------
def _dang_bo(**committee_facts):
    return [org("DB", "XS", tier="upper"), org("O", "T", parent="DB"), org("P", "T", parent="DB"),
            collective("CO", "O", "T", facts=committee_facts), collective("CP", "P", "T")]


def test_E7b_binds_when_a_subordinate_committee_in_the_case_is_disciplined():
    r = run(*_dang_bo(disciplined=True))
    assert r.levels["DB"] == K and "E7b" in rules_of(r, "DB")


def test_E7b_silent_when_the_subordinate_committee_remedied_it_or_the_option_is_off():
    assert "E7b" not in rules_of(run(*_dang_bo(disciplined=True, self_remedied=True)), "DB")
    off = run(*_dang_bo(disciplined=True), options={"org_member_discipline": False})
    assert "E7b" not in rules_of(off, "DB")


def test_E7c_binds_when_a_subordinate_committee_let_violations_happen_even_with_the_option_off():
    for options in ({}, {"org_member_discipline": False}):
        r = run(*_dang_bo(violations_handled=True), options=options)
        assert r.levels["DB"] == K and rules_of(r, "DB") == {"E7c"}


def test_E7c_silent_when_self_remedied_or_in_another_dang_bo():
    assert run(*_dang_bo(violations_handled=True, self_remedied=True)).levels["DB"] == XS
    r = run(org("DB", "XS", tier="upper"), org("X", "T", tier="upper"), org("O", "T", parent="X"),
            collective("CO", "O", "T", facts={"violations_handled": True}))
    assert r.levels["DB"] == XS and r.levels["X"] == K


def test_E7b_counts_an_unrated_disciplined_member_of_the_chi_bo():
    r = run(org("CB", "XS"), member("A", "CB", "T", rated=False, facts={"disciplined": True}),
            *[member(f"M{i}", "CB") for i in range(5)])
    assert r.levels["CB"] == K and "E7b" in rules_of(r, "CB")


def test_S4_counts_an_unrated_disciplined_committee_member_and_the_dang_bo_level_fact():
    r = run(org("CB", "T"), member("A", "CB", "T", rated=False, facts={"disciplined": True, "committee_member": True}),
            collective("CU", "CB", "T"), *[member(f"M{i}", "CB") for i in range(5)],
            options={"org_member_discipline": False})
    assert r.levels["CU"] == K and "S4" in rules_of(r, "CU")
    r = run(org("DB", "T", tier="upper", facts={"committee_member_disciplined": True}), collective("DU", "DB", "T"),
            options={"org_member_discipline": False})
    assert r.levels["DU"] == K and "S4" in rules_of(r, "DU")


# E9: a discipline after a transfer counts where the violation happened -----------------------------
def _moved(**kw):
    return [org("DB", "T", tier="upper"), org("OLD", "T", parent="DB"), org("NEW", "T", parent="DB"),
            member("A", "NEW", "T", facts={"disciplined": True, "violation_org": "OLD"}),
            *[member(f"O{i}", "OLD") for i in range(5)], *[member(f"N{i}", "NEW") for i in range(5)]]


def test_E9_binds_the_former_organization_and_spares_the_new_one():
    r = run(*_moved())
    assert r.levels["A"] == K  # E2: he was disciplined in the year
    assert r.levels["OLD"] == K and r.levels["NEW"] == HT  # NEW: S3 (a K member) but not E7b
    old = next(c for c in r.changes if c.id == "OLD")
    assert any("BĐ 5.12" in reason.citation for reason in old.reasons)


def test_E9_silent_under_the_literal_bmt_profile_the_discipline_counts_at_the_new_chi_bo():
    r = run(*_moved(), profile="bmt-2018")
    assert r.levels["OLD"] == T and r.levels["NEW"] == K


# E1–E5 bind members only: a leader is bound by the leader's own clauses (II.B.4) -------------------
@pytest.mark.parametrize("facts", [{"disciplined": True}, {"civil_servant_level": "HT"}, {"degeneration": True},
                                   {"targets_below_half": True}, {"sick_leave_months": 4}])
def test_E1_to_E5_are_silent_on_a_leader_record(facts):
    r = run(unit("U", "XS"), collective("C", "U", "XS"), leader("L", "C", "XS", facts=facts))
    assert not {"E1", "E2", "E3", "E4", "E5"} & rules_of(r, "L")


def test_a_leader_s_discipline_still_reaches_him_through_his_collective():
    r = run(unit("U", "XS"), collective("C", "U", "XS"), leader("L", "C", "XS", facts={"disciplined": True}))
    assert r.levels["C"] == K and r.levels["L"] == K and rules_of(r, "L") == {"S2"}


# C2 and S2 per profile: a rule applies where its source says so ------------------------------------
def test_C2_binds_in_the_bu_dang_and_combined_profiles_and_is_silent_in_the_literal_bmt_profile():
    subs = [org("CB", "T"), *[member(f"X{i}", "CB", "XS") for i in range(2)], member("T0", "CB", "T")]
    assert run(*subs).levels["X0"] == XS  # combined (default): fewer than 05 T, 01 XS
    assert run(*subs, profile="bd-2020").levels["X0"] == XS
    assert all(lv != XS for lv in run(*subs, profile="bmt-2018").levels.values())
    assert run(*subs, profile="bmt-2018", rules={"C2": True}).levels["X0"] == XS  # turned on by the case


def test_S2_bu_dang_bounds_the_head_by_the_unit_only():
    subs = [unit("U", "XS"), collective("C", "U", "HT"), leader("L", "C", "T")]
    assert run(*subs).levels["L"] == HT  # BMT II.B.4: not above the collective
    assert run(*subs, profile="bd-2020").levels["L"] == T  # BĐ 5.11 names the organization, not the collective


def test_S2_transfer_exemption_is_a_bu_dang_rule():
    subs = [unit("U", "XS"), collective("C", "U", "HT"), leader("L", "C", "T", facts={"transferred_in_exempt": True})]
    assert run(*subs).levels["L"] == T
    assert run(*subs, profile="bmt-2018").levels["L"] == HT


def test_a_bmt_case_never_cites_bu_dang_and_a_bu_dang_case_never_cites_bmt():
    subs = [org("CB", "T"), *[member(f"X{i}", "CB", "XS", votes=votes(15 - i, i)) for i in range(4)],
            *[member(f"T{i}", "CB") for i in range(6)], member("S", "CB", "XS", facts={"sick_leave_months": 4})]
    bmt, bd = run(*subs, profile="bmt-2018"), run(*subs, profile="bd-2020")
    assert all("BĐ" not in r.citation for c in bmt.changes for r in c.reasons)
    assert all("BMT" not in r.citation for c in bd.changes for r in c.reasons)
    assert {r.citation for c in bmt.changes for r in c.reasons if r.rule == "C1"} == {"BMT II.B.2.3a"}
    assert {r.citation for c in bd.changes for r in c.reasons if r.rule == "C1"} == {"BĐ 5.2"}


# Quota groups: collectives per category and deciding committee -------------------------------------
def test_collectives_of_one_category_decided_by_two_committees_are_two_groups():
    loaded = case(org("A", "T", tier="upper"), org("B", "T", tier="upper"),
                  org("A1", "T", parent="A"), org("B1", "T", parent="B"),
                  collective("CA", "A1", "XS"), collective("CB", "B1", "XS"))
    groups = {g.id: g.members for g in loaded.hierarchy.groups if g.kind.value == "collective"}
    assert sorted(groups.values()) == [("CA",), ("CB",)]


def test_a_collective_may_name_its_deciding_committee():
    loaded = case(org("A", "T", tier="upper"), org("B", "T", tier="upper"),
                  org("A1", "T", parent="A"), org("B1", "T", parent="B"),
                  collective("CA", "A1", "XS"), collective("CB", "B1", "XS", decided_by="A"))
    groups = [g.members for g in loaded.hierarchy.groups if g.kind.value == "collective"]
    assert groups == [("CA", "CB")]


# P1: one person, several posts --------------------------------------------------------------------
def _person(**options):
    return [unit("U", "XS"), collective("C", "U", "XS"), leader("L", "C", "XS", person="NA"),
            org("CB", "T"), member("A", "CB", "XS", person="NA", facts={"civil_servant_level": "T"}),
            *[member(f"M{i}", "CB") for i in range(5)]]


def test_P1_silent_by_default_the_difference_is_reported_for_the_committee():
    r = run(*_person())
    assert (r.levels["A"], r.levels["L"]) == (T, XS)
    (d,) = [d for d in r.decisions if d.kind == "several_posts"]
    assert set(d.subjects) == {"A", "L"} and d.numbers and dict(d.numbers)["main"] == "L"


def test_P1_binds_with_follow_main_the_records_take_one_level():
    r = run(*_person(), options={"several_posts": "follow_main"})
    assert r.levels["A"] == r.levels["L"] == T  # the member's cap pulls the main post down: equal levels
    assert "P1" in rules_of(r, "L")
    assert not [d for d in r.decisions if d.kind == "several_posts"]


def test_a_reason_cites_the_clause_of_the_level_whose_condition_failed():
    """S3 and E1 cite one clause per level (BMT II.B.1.3a–d, II.B.2.3a–d): a chi bộ kept from Hoàn thành tốt
    nhiệm vụ by a member who is K cites 3b only; from Hoàn thành xuất sắc nhiệm vụ, 3a; a civil servant rated
    Hoàn thành nhiệm vụ, capped there, cites the Hoàn thành tốt nhiệm vụ clause (2.3b)."""
    from pathlib import Path

    from model.loader import load_case

    loaded = load_case(Path(__file__).resolve().parents[1] / "scenarios" / "phuong_tan_loi_2018.json")
    result = solve(loaded)
    cited = {(c.id, r.rule): r.citation for c in result.changes for r in c.reasons}
    assert cited[("CB-K1", "S3")] == "BMT II.B.1.3b"  # T → HT: two members K
    assert cited[("CB-TH", "S3")] == "BMT II.B.1.3a"  # XS → T: a member HT
    assert cited[("DB-TL", "S3")] == "BMT II.B.1.3a"
    assert cited[("DV-TH-02", "E1")] == "BMT II.B.2.3b"
    assert cited[("DV-K1-03", "E2")] == "BMT II.B.2.3d"
    # the catalogue still lists every clause of the rule
    assert load_catalogue().rule("E1").cite == "BMT II.B.2.3a; BMT II.B.2.3b; BMT II.B.2.3c; BMT II.B.2.3d"
