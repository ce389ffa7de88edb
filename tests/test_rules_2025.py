"""The regulation in force: QĐ 366-QĐ/TW and HD 43-HD/BTCTW (2025) — per rule a binds / silent pair on the
smallest case, each solve re-checked by the independent verifier."""

import pytest

from casebuild import case, collective, leader, member, org, unit, votes
from model.catalogue import load_catalogue
from model.errors import CaseInvalid
from model.levels import Level
from solver.engine.solve import solve
from solver.verify import verify

XS, T, HT, K = Level.XS, Level.T, Level.HT, Level.K
P2025 = {"profile": "qd366-2025"}


def run(*subjects, **kw):
    loaded = case(*subjects, **{**P2025, **kw})
    result = solve(loaded)
    assert result.status == "optimal", result.conflicts
    assert verify(loaded, result.levels) == []
    return loaded, result


def rules_of(result, sid):
    return {r.rule for c in result.changes if c.id == sid for r in c.reasons}


def scored(id, parent, score, **kw):
    return member(id, parent, None, score=score, **kw)


def base_members(n=6, score=80.0):
    return [scored(f"M{i}", "CB", score) for i in range(n)]


def tasks(n, done, on_time, exceeded=0):
    return {"assigned": n, "done": done, "on_time": on_time, "exceeded": exceeded}


# Q1: the score sets the target ----------------------------------------------------------------------
@pytest.mark.parametrize("score, level", [(95.5, XS), (90.0, XS), (89.5, T), (70.0, T), (69.5, HT), (50.0, HT),
                                          (49.5, K), (0.0, K)])
def test_Q1_the_score_band_sets_the_target(score, level):
    loaded = case(org("CB", "T"), scored("A", "CB", score), **P2025)
    assert loaded.targets["A"] == level


def test_Q1_a_score_comes_before_the_ballots_and_after_an_explicit_target():
    loaded = case(org("CB", "T"), member("A", "CB", None, score=72.0, votes=votes(15, 0)),
                  member("B", "CB", "HT", score=95.0), **P2025)
    assert loaded.targets["A"] == T and loaded.targets["B"] == HT
    assert loaded.hierarchy.subjects["A"].target_source() == "score"


def test_Q1_the_bands_are_profile_parameters():
    loaded = case(org("CB", "T"), scored("A", "CB", 85.0), options={"score_xs": 85}, **P2025)
    assert loaded.targets["A"] == XS


def test_Q1_a_score_with_two_decimals_is_an_input_error():
    with pytest.raises(CaseInvalid, match="một chữ số thập phân"):
        case(org("CB", "T"), scored("A", "CB", 91.25), **P2025)


def test_Q1_a_score_is_a_number_not_text():
    with pytest.raises(CaseInvalid):
        case(org("CB", "T"), member("A", "CB", None, score="91"), **P2025)


def test_Q1_the_weakest_score_moves_first_in_a_quota_group():
    subs = [org("CB", "T"), *[scored(f"X{i}", "CB", 90.0 + i) for i in range(3)],
            *[scored(f"T{i}", "CB", 80.0) for i in range(10)]]
    _, r = run(*subs)
    assert r.levels["X0"] == T and r.levels["X1"] == XS and r.levels["X2"] == XS  # 2·5 ≤ 11 T, X0 has 90.0


# Q2: tasks ----------------------------------------------------------------------------------------
def test_Q2_binds_when_fewer_than_30_percent_of_tasks_exceed():
    _, r = run(org("CB", "T"), scored("A", "CB", 95.0, facts={"tasks": tasks(10, 10, 10, 2)}), *base_members())
    assert r.levels["A"] == T and "Q2" in rules_of(r, "A")


def test_Q2_silent_when_all_tasks_are_on_time_and_30_percent_exceed():
    _, r = run(org("CB", "T"), scored("A", "CB", 95.0, facts={"tasks": tasks(10, 10, 10, 3)}), *base_members())
    assert r.levels["A"] == XS


def test_Q2_late_tasks_within_20_percent_allow_ht_only():
    _, r = run(org("CB", "T"), scored("A", "CB", 85.0, facts={"tasks": tasks(10, 10, 8)}), *base_members())
    assert r.levels["A"] == HT and "Q2" in rules_of(r, "A")


def test_Q2_more_than_half_of_the_tasks_not_done_means_k_for_a_member():
    _, r = run(org("CB", "T"), scored("A", "CB", 85.0, facts={"tasks": tasks(10, 4, 4)}), *base_members())
    assert r.levels["A"] == K


def test_Q2_tasks_between_the_conditions_of_ht_and_a_k_clause_are_left_to_the_committee():
    _, r = run(org("CB", "T"), scored("A", "CB", 85.0, facts={"tasks": tasks(10, 8, 8)}), *base_members())
    assert r.levels["A"] == HT  # capped at HT (not T), not made K: the texts are silent
    (d,) = [d for d in r.decisions if d.kind == "exception" and d.subjects == ("A",)]
    assert "chưa có văn bản" in d.text


def test_Q2_a_leader_whose_places_did_under_70_percent_is_k():
    _, r = run(unit("U", "T", category="chinh_quyen"), collective("C", "U", None, score=80.0),
               leader("L", "C", None, score=85.0, facts={"tasks": tasks(10, 6, 6)}))
    assert r.levels["L"] == K and "Q2" in rules_of(r, "L")
    _, r = run(unit("U", "T", category="chinh_quyen"), collective("C", "U", None, score=80.0),
               leader("L", "C", None, score=85.0, facts={"tasks": tasks(10, 7, 7)}))
    assert r.levels["L"] != K  # 70% done is not "dưới 70%"


def test_Q2_the_five_indicators_missed_make_a_collective_k():
    _, r = run(unit("U", "T", category="chinh_quyen"), collective("C", "U", None, score=80.0,
                                                                facts={"indicators_missed": True}))
    assert r.levels["C"] == K


def _q2_citation(result, sid):
    (change,) = [c for c in result.changes if c.id == sid]
    return next(r.citation for r in change.reasons if r.rule == "Q2")


@pytest.mark.parametrize(("score", "done", "on_time", "exceeded", "level", "clause"), [
    (95.0, 10, 10, 2, T, "khoản 1"),   # the conditions of XS fail
    (85.0, 10, 8, 0, HT, "khoản 2"),   # those of T fail
    (85.0, 4, 4, 0, K, "khoản 4"),     # the K clause holds
])
def test_Q2_a_reason_cites_the_clause_of_the_level_whose_condition_failed(score, done, on_time, exceeded, level,
                                                                          clause):
    _, r = run(org("CB", "T"), scored("A", "CB", score, facts={"tasks": tasks(10, done, on_time, exceeded)}),
               *base_members())
    assert r.levels["A"] == level
    assert _q2_citation(r, "A") == f"QĐ 366 Điều 11 {clause}"


def test_Q2_the_five_indicators_missed_cite_the_k_clause():
    _, r = run(unit("U", "T", category="chinh_quyen"), collective("C", "U", None, score=80.0,
                                                                facts={"indicators_missed": True}))
    assert _q2_citation(r, "C") == "QĐ 366 Điều 11 khoản 4"


# Q3: shortcomings of the previous review ---------------------------------------------------------
def test_Q3_binds_when_previous_shortcomings_are_not_all_remedied():
    _, r = run(org("CB", "T"), scored("A", "CB", 95.0, facts={"shortcomings_remedied": False}), *base_members())
    assert r.levels["A"] == T and rules_of(r, "A") == {"Q3"}


def test_Q3_silent_when_remedied_or_none_pointed_out():
    _, r = run(org("CB", "T"), scored("A", "CB", 95.0, facts={"shortcomings_remedied": True}), *base_members())
    assert r.levels["A"] == XS


# Q4: a leader's places, confidence, corruption in scope ------------------------------------------
def test_Q4_a_leader_is_k_when_more_than_half_of_his_places_are_k():
    subs = [unit("U1", "K", category="chinh_quyen"), unit("U2", "K", category="chinh_quyen"),
            unit("U3", "T", category="chinh_quyen"), collective("C", "U3", None, score=80.0)]
    _, r = run(*subs, leader("L", "C", None, score=80.0, in_charge_of=["U1", "U2"]))
    assert r.levels["L"] == K and "Q4" in rules_of(r, "L")
    _, r = run(*subs, leader("L", "C", None, score=80.0, in_charge_of=["U1"]))
    assert r.levels["L"] == T  # one of two places K: not more than half


@pytest.mark.parametrize("facts", [{"low_confidence": True}, {"corruption_in_scope": True}])
def test_Q4_low_confidence_or_corruption_in_scope_makes_a_leader_k(facts):
    _, r = run(unit("U", "XS", category="chinh_quyen"), collective("C", "U", None, score=95.0),
               leader("L", "C", None, score=95.0, facts=facts))
    assert r.levels["L"] == K and rules_of(r, "L") == {"Q4"}


def test_Q4_corruption_found_and_remedied_by_the_leader_is_left_to_the_committee():
    _, r = run(unit("U", "XS", category="chinh_quyen"), collective("C", "U", None, score=95.0),
               leader("L", "C", None, score=95.0, facts={"corruption_in_scope": True, "self_remedied": True}))
    assert r.levels["L"] != K and "Q4" not in rules_of(r, "L")  # (a lone leader's group allows no XS: C1)
    assert any(d.kind == "exception" and d.subjects == ("L",) for d in r.decisions)


# Q5: discipline by form and kind -----------------------------------------------------------------
@pytest.mark.parametrize("kind", ["duty", "forbidden", "example"])
def test_Q5_a_member_disciplined_for_a_kind_the_regulation_names_is_k(kind):
    _, r = run(org("CB", "T"), scored("A", "CB", 85.0, facts={"discipline": {"form": "khien_trach", "kind": kind}}),
               *base_members())
    assert r.levels["A"] == K and rules_of(r, "A") == {"Q5"}


def test_Q5_silent_for_another_kind_of_violation():
    _, r = run(org("CB", "T"), scored("A", "CB", 85.0, facts={"discipline": {"form": "khien_trach", "kind": "other"}}),
               *base_members())
    assert r.levels["A"] == T


def test_Q5_a_leader_is_k_for_a_duty_related_violation_only():
    def lead(kind):
        return run(unit("U", "XS", category="chinh_quyen"), collective("C", "U", None, score=95.0),
                   leader("L", "C", None, score=85.0, facts={"discipline": {"form": "canh_cao", "kind": kind}}))[1]
    assert lead("duty").levels["L"] == K
    assert lead("forbidden").levels["L"] == T  # the leader clause names the duty-related violations


def test_Q5_a_self_reported_violation_is_not_rated_the_committee_decides_and_a_lock_resolves_it():
    facts = {"discipline": {"form": "khien_trach", "kind": "duty", "self_reported": True}}
    _, r = run(org("CB", "T"), scored("A", "CB", 85.0, facts=facts), *base_members())
    assert r.levels["A"] == T
    (d,) = [d for d in r.decisions if d.subjects == ("A",)]
    assert d.kind == "exception" and "cấp có thẩm quyền" in d.text and dict(d.numbers)["resolved"] is False
    _, r = run(org("CB", "T"), scored("A", "CB", 85.0, facts=facts, lock="HT", lock_reason="Hội nghị Ban Thường vụ",
                                      lock_author="Ban Thường vụ Đảng ủy"), *base_members())
    (d,) = [d for d in r.decisions if d.subjects == ("A",)]
    assert r.levels["A"] == HT and dict(d.numbers)["resolved"] is True and "Hội nghị Ban Thường vụ" in d.text


def test_Q5_a_lock_without_its_reason_or_author_does_not_settle_the_decision():
    facts = {"discipline": {"form": "khien_trach", "kind": "duty", "self_reported": True}}
    _, r = run(org("CB", "T"), scored("A", "CB", 85.0, facts=facts, lock="HT"), *base_members())
    (d,) = [d for d in r.decisions if d.subjects == ("A",)]
    assert r.levels["A"] == HT and dict(d.numbers)["resolved"] is False
    assert "chưa ghi lý do và người quyết định" in d.text


def test_Q6_a_collective_whose_member_self_reported_a_duty_violation_is_left_to_the_competent_level():
    """Điều 11 khoản 4 (tập thể): a member disciplined but who found and remedied the violation in time — the
    competent level weighs the collective; the product caps it provisionally and lists the decision."""
    facts = {"committee_member": True, "discipline": {"form": "khien_trach", "kind": "duty", "self_reported": True}}
    _, r = run(org("CB", "T"), collective("CU", "CB", None, score=95.0, facts={"tasks": tasks(10, 10, 10, 5)}),
               scored("A", "CB", 80.0, facts=facts), *base_members())
    assert r.levels["CU"] == T
    (d,) = [d for d in r.decisions if d.subjects == ("CU", "A")]
    assert d.rule == "Q6" and dict(d.numbers)["resolved"] is False and "chức trách" in d.text
    (reason,) = [x.text for c in r.changes if c.id == "CU" for x in c.reasons if x.rule == "Q6"]
    assert "liên quan đến chức trách, nhiệm vụ, đã chủ động phát hiện và khắc phục kịp thời" in reason


def test_Q5_a_discipline_without_form_and_kind_is_a_decision_not_a_guess():
    _, r = run(org("CB", "T"), scored("A", "CB", 85.0, facts={"disciplined": True}), *base_members())
    assert r.levels["A"] == T  # E2 of the 2018 guides is not in force
    assert any(d.title == "Kỷ luật chưa ghi hình thức, loại vi phạm" and d.subjects == ("A",) for d in r.decisions)


# Q6: collectives -----------------------------------------------------------------------------------
def _collective(**member_facts):
    return [org("CB", None, score=85.0), collective("CU", "CB", None, score=95.0),
            scored("A", "CB", 85.0, facts={"committee_member": True, **member_facts}), *base_members()]


def test_Q6_a_member_disciplined_for_a_duty_related_violation_makes_the_collective_k():
    _, r = run(*_collective(discipline={"form": "khien_trach", "kind": "duty"}))
    assert r.levels["CU"] == K and "Q6" in rules_of(r, "CU")


def test_Q6_another_discipline_only_bars_xs():
    _, r = run(*_collective(discipline={"form": "khien_trach", "kind": "forbidden"}))
    assert r.levels["CU"] == T and "Q6" in rules_of(r, "CU")


def test_Q6_silent_for_a_violation_at_a_former_post():
    _, r = run(org("OLD", None, score=80.0), *_collective(discipline={"form": "khien_trach", "kind": "duty"},
                                                          violation_org="OLD"))
    assert "Q6" not in rules_of(r, "CU")


def test_Q6_personnel_errors_make_a_collective_k():
    _, r = run(org("CB", None, score=85.0), collective("CU", "CB", None, score=95.0, facts={"personnel_errors": True}),
               *base_members())
    assert r.levels["CU"] == K


# C1 / C3: the 20% and the 25% decision -------------------------------------------------------------
def _two_chi_bo():
    subs = [org("DB", None, tier="upper", score=80.0)]
    for o in ("A", "B"):
        subs.append(org(o, None, parent="DB", score=80.0))
        subs += [scored(f"{o}X{i}", o, 95.0 - i) for i in range(3)]
        subs += [scored(f"{o}T{i}", o, 80.0) for i in range(9)]
    return subs


def test_C1_binds_at_20_percent_of_those_rated_t():
    _, r = run(*_two_chi_bo())
    assert sum(r.levels[f"AX{i}"] == XS for i in range(3)) == 2  # 2·100 ≤ 20·10


def test_C3_a_25_percent_decision_raises_the_cap_only_within_its_scope():
    decision = {"scope": "A", "percent": 25, "reason": "Thành tích xuất sắc, nổi trội", "author": "Ban Thường vụ"}
    _, r = run(*_two_chi_bo(), exceptions=[decision])
    assert sum(r.levels[f"AX{i}"] == XS for i in range(3)) == 2  # 25% of 10 T: still 2
    assert sum(r.levels[f"BX{i}"] == XS for i in range(3)) == 2
    subs = _two_chi_bo()
    subs += [scored(f"AT{i}", "A", 80.0) for i in range(9, 12)]  # A: 3 XS, 12 T — 25% allows 3, 20% 2
    subs += [scored(f"BT{i}", "B", 80.0) for i in range(9, 12)]
    _, r = run(*subs, exceptions=[decision])
    assert sum(r.levels[f"AX{i}"] == XS for i in range(3)) == 3
    assert sum(r.levels[f"BX{i}"] == XS for i in range(3)) == 2
    (d,) = [d for d in r.decisions if d.rule == "C3"]
    assert "Thành tích xuất sắc, nổi trội" in d.text and "Ban Thường vụ" in d.text


def test_C3_a_decision_above_25_percent_is_an_input_error():
    with pytest.raises(CaseInvalid, match="vượt quá mức tối đa 25%"):
        case(*_two_chi_bo(), exceptions=[{"scope": "A", "percent": 30, "reason": "x y", "author": "BTV"}], **P2025)


# what the 2025 profile no longer has ---------------------------------------------------------------
def test_E5_the_sick_leave_cap_is_abolished_hd_43_muc_7_5():
    _, r = run(org("CB", "T"), scored("A", "CB", 95.0, facts={"sick_leave_months": 4}), *base_members())
    assert r.levels["A"] == XS


def test_C2_fewer_than_five_is_off_unless_the_case_turns_it_on():
    subs = [org("CB", None, score=80.0), scored("A", "CB", 95.0), scored("B", "CB", 80.0)]
    assert run(*subs)[1].levels["A"] == T
    assert run(*subs, rules={"C2": True})[1].levels["A"] == XS


def test_S3_the_seed_thresholds_are_off_by_default_and_selectable_with_the_2019_reading():
    # CB shares its ratio with five chi bộ rated T, so the 20% leaves it one XS
    subs = [org("DB", None, tier="upper", score=80.0), org("CB", None, parent="DB", score=95.0),
            *[org(f"O{i}", None, parent="DB", score=80.0) for i in range(5)],
            scored("H", "CB", 60.0), *[scored(f"M{i}", "CB", 80.0) for i in range(9)]]
    assert run(*subs)[1].levels["CB"] == XS  # 43-HD mục 3 has no numeric threshold
    seed = run(*subs, rules={"S3": True})[1]
    assert seed.levels["CB"] == T and "S3" in rules_of(seed, "CB")  # 2018: 100% ≥ T for XS
    hd21 = run(*subs, rules={"S3": True}, options={"org_xs_reading": "hd21"})[1]
    assert hd21.levels["CB"] == XS  # 2019: 100% ≥ HT and 90% ≥ T (≥ 80%)
    strict = run(*subs, rules={"S3": True}, options={"org_xs_reading": "hd21", "xs_good_share": 95})[1]
    assert strict.levels["CB"] == T and "S3" in rules_of(strict, "CB")


def test_E3_degeneration_binds_leaders_under_qd_366():
    _, r = run(unit("U", "XS", category="chinh_quyen"), collective("C", "U", None, score=95.0),
               leader("L", "C", None, score=95.0, facts={"degeneration": True}))
    assert r.levels["L"] == K and "E3" in rules_of(r, "L")


def test_X1_an_excluded_member_is_listed_but_not_rated():
    loaded, r = run(org("CB", "T"), scored("A", "CB", 95.0, excluded="suspended"), *base_members())
    assert "A" not in r.levels and "A" not in loaded.targets


def test_S5_the_committee_is_rated_before_its_party_organization_under_qd_366():
    loaded, _ = run(org("CB", "T"), collective("CU", "CB", None, score=80.0), *base_members())
    order = {sid: i for i, stage in enumerate(loaded.hierarchy.rating_order("qd366")) for sid in stage}
    assert order["CU"] < order["CB"]
    seed = {sid: i for i, stage in enumerate(loaded.hierarchy.rating_order("seed")) for sid in stage}
    assert seed["CB"] < seed["CU"]


def test_S5_lower_organizations_and_their_committees_before_the_upper_committee_under_qd_366():
    """Điều 12 khoản 2 (5) «Tập thể cấp dưới trước, cấp trên sau»: the chi bộ under a đảng bộ and its chi ủy
    are rated before the đảng bộ's own committee, which (3) puts before the đảng bộ."""
    loaded, _ = run(org("P", "T", tier="upper"), collective("CP", "P", None, score=80.0),
                    org("O", "T", parent="P"), collective("CU", "O", None, score=80.0),
                    scored("A", "O", 80.0), scored("B", "O", 80.0))
    order = {sid: i for i, stage in enumerate(loaded.hierarchy.rating_order("qd366")) for sid in stage}
    assert order["CU"] < order["O"] < order["CP"] < order["P"]
    assert order["A"] < order["O"]


def test_the_2025_order_is_worded_as_qd_366_words_it():
    s5 = load_catalogue().rule("S5")
    text = s5.summary_in(("QĐ366", "HD43"))
    assert "công chức, viên chức trước" not in text and "tập thể cấp dưới trước, cấp trên sau" in text
    assert s5.summary_in(("BMT",)) == s5.summary and "công chức, viên chức trước" in s5.summary
    assert len(s5.citations_in(("QĐ366",))) == 5


def test_a_2025_case_cites_only_qd_366_hd_43_or_says_there_is_no_text():
    _, r = run(unit("U", "HT", category="chinh_quyen"), collective("C", "U", None, score=95.0),
               org("CB", "T"), scored("A", "CB", 95.0, facts={"tasks": tasks(10, 10, 10, 1)}), *base_members())
    citations = {r_.citation for c in r.changes for r_ in c.reasons}
    assert citations and all(c.startswith("QĐ 366") or c.startswith("HD 43") or c == "chưa có văn bản"
                             for c in citations), citations
    assert "chưa có văn bản" in citations  # S1 is kept as an option, and says so


def test_every_2025_rule_cites_qd_366_or_hd_43():
    cat = load_catalogue()
    profile = cat.profile("qd366-2025")
    for rid in profile.rules:
        rule = cat.rule(rid)
        assert rule.citations_in(profile.sources) or rid in profile.unsourced, rid
        for c in rule.citations_in(profile.sources):
            assert c.section.startswith(("Điều", "mục")), (rid, c.section)


def test_a_collective_late_on_its_tasks_cites_the_collective_clause_of_khoan_2():
    """A collective with every task done but some late misses the Hoàn thành tốt nhiệm vụ condition
    «Đối với tập thể: … đúng hạn» (Điều 11 khoản 2), not khoản 1, 3 and 4 together (audit, case c11)."""
    _, r = run(unit("U", "XS", category="chinh_quyen"),
               collective("C", "U", None, score=80.0, facts={"tasks": tasks(10, 10, 8, 0)}))
    assert r.levels["C"] == HT
    assert [x.citation for c in r.changes if c.id == "C" for x in c.reasons if x.rule == "Q2"] == [
        "QĐ 366 Điều 11 khoản 2"]


def test_a_proposal_that_differs_from_the_target_is_warned_with_the_target_s_own_source():
    """The warning names the level actually used and where it came from (audit, case c02: it said «dùng mức
    theo phiếu» for a written target, and called a score band «mức theo phiếu»)."""
    loaded = case(org("CB", "T"),
                  {**scored("A", "CB", 95.0, votes=votes(9, 1), voters=10), "target": "HT", "proposed": "T"},
                  {**scored("B", "CB", 75.0, votes=votes(9, 1), voters=10), "proposed": "HT"},
                  member("C", "CB", None, votes=votes(9, 1), voters=10, proposed="XS"),
                  member("D", "CB", None, votes=votes(2, 8), voters=10, proposed="XS"),
                  profile="qd366-2025", year=2025)
    said = {w.subject: w.message for w in loaded.warnings if w.field == "proposed"}
    assert said["A"] == ("mức đề xuất Hoàn thành tốt nhiệm vụ khác mức mục tiêu Hoàn thành nhiệm vụ ghi sẵn trong "
                         "hồ sơ: dùng mức ghi sẵn trong hồ sơ")
    assert said["B"] == ("mức đề xuất Hoàn thành nhiệm vụ khác mức mục tiêu Hoàn thành tốt nhiệm vụ theo điểm "
                         "thẩm định: dùng mức theo điểm thẩm định")
    assert "C" not in said
    assert said["D"].endswith("Hoàn thành tốt nhiệm vụ theo phiếu biểu quyết: dùng mức theo phiếu biểu quyết")


def test_an_xs_target_without_task_results_is_warned_once():
    loaded = case(org("CB", "T"), scored("A", "CB", 95.0), scored("B", "CB", 95.0, facts={"tasks": tasks(10, 10, 10, 4)}),
                  *base_members(), **P2025)
    (w,) = [w for w in loaded.warnings if w.field == "facts.tasks"]
    assert w.message.startswith("1 đối tượng có mức mục tiêu Hoàn thành xuất sắc nhiệm vụ") and "«A»" in w.message
    assert "«B»" not in w.message
    seed = case(org("CB", "T"), member("A", "CB", "XS"), *[member(f"M{i}", "CB") for i in range(6)])
    assert not [w for w in seed.warnings if w.field == "facts.tasks"]  # the 2018 guides have no task conditions
