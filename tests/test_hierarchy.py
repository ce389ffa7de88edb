"""The hierarchy: derived quota groups (RULES.md §3), explicit groups, unrated subjects, the S5 rating order."""

from __future__ import annotations

from pathlib import Path

import pytest

from model.case import Kind
from model.hierarchy import Hierarchy
from model.loader import LoadedCase, load_case, parse_case

ROOT = Path(__file__).resolve().parents[1]
TAN_LOI = ROOT / "scenarios" / "phuong_tan_loi_2018.json"


def org(id, tier, parent=None, **kw):
    return {"id": id, "name": f"Tổ chức {id}", "kind": "party_org", "tier": tier, "parent": parent,
            "proposed": "T", **kw}


def member(id, parent, **kw):
    return {"id": id, "name": f"Đảng viên {id}", "kind": "member", "parent": parent, "proposed": "T", **kw}


def collective(id, leads, category, **kw):
    return {"id": id, "name": f"Tập thể {id}", "kind": "collective", "leads": leads, "category": category,
            "proposed": "T", **kw}


def leader(id, heads, category, **kw):
    return {"id": id, "name": f"Cán bộ {id}", "kind": "leader", "heads": heads, "category": category,
            "proposed": "T", **kw}


def unit(id, level="T"):
    return {"id": id, "name": f"Đơn vị {id}", "kind": "unit", "category": "doan_the", "level": level}


def load(*subjects, groups=()) -> LoadedCase:
    return parse_case({"name": "Thử hệ thống tổ chức", "subjects": list(subjects), "groups": list(groups)})


def district() -> list[dict]:
    """Upper đảng bộ H; đảng bộ cơ sở D1 (two chi bộ) and chi bộ cơ sở D2; collectives, leaders, a unit."""
    return [
        org("H", "upper"),
        org("D1", "grassroots", "H"),
        org("D2", "grassroots", "H"),
        org("C1", "branch", "D1"),
        org("C2", "branch", "D1"),
        member("M1", "C1"), member("M2", "C1"), member("M3", "C2"), member("M4", "C2"),
        member("N1", "D2"), member("N2", "D2"),
        member("NEW", "C1", rated=False),
        collective("CU1", "C1", "chi_uy"), collective("CU2", "C2", "chi_uy"),
        collective("DU1", "D1", "dang_uy_co_so"),
        leader("BT1", "CU1", "bi_thu_chi_bo"), leader("BT2", "CU2", "bi_thu_chi_bo"),
        leader("BTD1", "DU1", "bi_thu_dang_uy"),
        unit("UB"),
        collective("TT", "UB", "thuong_truc_ubnd"),
        leader("CT", "TT", "chu_tich_ubnd"),
    ]


@pytest.fixture(scope="module")
def h() -> Hierarchy:
    return load(*district()).hierarchy


def same_group(h: Hierarchy, *ids: str) -> bool:
    return len({h.group_of[i] for i in ids}) == 1


# ---- derived quota groups ---------------------------------------------------------------------------


def test_members_share_the_group_of_their_nearest_grassroots_ancestor_across_chi_bo(h):
    assert same_group(h, "M1", "M2", "M3", "M4")
    group = h.group(h.group_of["M1"])
    assert group.kind is Kind.member
    assert sorted(group.members) == ["M1", "M2", "M3", "M4"]
    assert "Tổ chức D1" in group.name  # named after the grassroots organization, not the chi bộ


def test_members_of_another_grassroots_organization_are_a_separate_group(h):
    assert same_group(h, "N1", "N2")
    assert not same_group(h, "M1", "N1")


def test_members_without_a_grassroots_ancestor_fall_back_to_the_top_of_their_chain():
    # H is a đảng bộ bộ phận whose tổ chức cơ sở đảng is not in the case (a branch may only stand under a
    # grassroots or branch organization: RULES.md §2)
    loaded = load(org("H", "branch"), org("C", "branch", "H"), member("A", "C"), member("B", "H"))
    assert same_group(loaded.hierarchy, "A", "B")


def test_party_orgs_of_the_same_tier_under_the_same_parent_share_a_group(h):
    assert same_group(h, "D1", "D2")
    assert same_group(h, "C1", "C2")
    assert not same_group(h, "C1", "D1")
    assert not same_group(h, "H", "D1")


def test_party_orgs_of_different_tiers_under_one_parent_are_separate_groups():
    loaded = load(org("H", "upper"), org("D", "grassroots", "H"), org("X", "upper", "H"), org("Y", "upper", "H"))
    hh = loaded.hierarchy
    assert same_group(hh, "X", "Y")
    assert not same_group(hh, "D", "X")


def test_party_orgs_of_the_same_tier_under_different_parents_are_separate_groups():
    loaded = load(org("H", "upper"), org("D1", "grassroots", "H"), org("D2", "grassroots", "H"),
                  org("C1", "branch", "D1"), org("C2", "branch", "D2"))
    assert not same_group(loaded.hierarchy, "C1", "C2")


def test_collectives_and_leaders_are_grouped_by_category_across_organizations(h):
    assert same_group(h, "CU1", "CU2")
    assert same_group(h, "BT1", "BT2")
    assert not same_group(h, "CU1", "DU1")
    assert not same_group(h, "BT1", "BTD1")
    assert h.group(h.group_of["CU1"]).kind is Kind.collective
    assert h.group(h.group_of["BT1"]).kind is Kind.leader


def test_a_collective_and_a_leader_with_the_same_category_are_not_mixed():
    loaded = load(org("C", "grassroots"), collective("CU", "C", "x"), leader("BT", "CU", "x"))
    assert not same_group(loaded.hierarchy, "CU", "BT")


def test_a_leader_without_category_is_a_group_of_his_own_with_a_warning():
    loaded = load(org("C", "grassroots"), collective("CU", "C", "chi_uy"), leader("A", "CU", None),
                  leader("B", "CU", None))
    hh = loaded.hierarchy
    assert not same_group(hh, "A", "B")
    assert [(w.subject, w.field) for w in loaded.warnings] == [("A", "category"), ("B", "category")]


def test_every_derived_group_holds_one_kind(h):
    for g in h.groups:
        assert {h.subjects[m].kind for m in g.members} == {g.kind}


def test_explicit_groups_take_their_members_out_of_the_derived_groups():
    groups = [{"id": "KHOI", "name": "Khối chi bộ khu dân cư", "members": ["M1", "M3"]}]
    hh = load(*district(), groups=groups).hierarchy
    explicit = hh.group("KHOI")
    assert explicit.explicit and explicit.kind is Kind.member
    assert explicit.members == ("M1", "M3")
    assert hh.group_of["M1"] == hh.group_of["M3"] == "KHOI"
    derived = hh.group(hh.group_of["M2"])
    assert not derived.explicit
    assert sorted(derived.members) == ["M2", "M4"]
    assert all(not ({"M1", "M3"} & set(g.members)) for g in hh.groups if not g.explicit)


def test_an_explicit_group_of_organizations_across_parents():
    subjects = [org("H", "upper"), org("D1", "grassroots", "H"), org("D2", "grassroots", "H"),
                org("C1", "branch", "D1"), org("C2", "branch", "D2"), org("C3", "branch", "D2")]
    groups = [{"id": "KHOI_PHUONG", "name": "Khối phường", "members": ["C1", "C2"]}]
    hh = load(*subjects, groups=groups).hierarchy
    assert same_group(hh, "C1", "C2")
    assert hh.group_of["C3"] != "KHOI_PHUONG"
    assert hh.group(hh.group_of["C3"]).members == ("C3",)


def test_unrated_subjects_and_units_are_in_no_group(h):
    assert "NEW" not in h.group_of
    assert "UB" not in h.group_of
    assert all("NEW" not in g.members and "UB" not in g.members for g in h.groups)


def test_an_unrated_subject_listed_in_an_explicit_group_takes_no_part_in_it():
    groups = [{"id": "G", "name": "Nhóm", "members": ["M1", "NEW"]}]
    hh = load(*district(), groups=groups).hierarchy
    assert hh.group("G").members == ("M1",)
    assert "NEW" not in hh.group_of


def test_every_rated_subject_is_in_exactly_one_group(h):
    rated = sorted(s.id for s in h.case.subjects if s.decided)
    listed = sorted(m for g in h.groups for m in g.members)
    assert listed == rated


# ---- relations -----------------------------------------------------------------------------------------


def test_relations_are_indexed_both_ways(h):
    assert h.members_of["C1"] == ["M1", "M2", "NEW"]
    assert h.sub_orgs_of["D1"] == ["C1", "C2"]
    assert h.collectives_leading["C1"] == ["CU1"]
    assert h.collectives_leading["UB"] == ["TT"]
    assert h.heads_of["CU1"] == ["BT1"]
    assert h.ancestors("M3") == ["C2", "D1", "H"]
    assert h.ancestors("H") == []


# ---- S5: the order of rating ----------------------------------------------------------------------------


def stage_of(h: Hierarchy) -> dict[str, int]:
    return {sid: i for i, stage in enumerate(h.rating_order()) for sid in stage}


def test_S5_order_lists_every_subject_once(h):
    flat = [sid for stage in h.rating_order() for sid in stage]
    assert sorted(flat) == sorted(h.subjects)


def test_S5_members_are_rated_before_their_chi_bo_and_chi_bo_before_the_dang_bo(h):
    st = stage_of(h)
    for m in ("M1", "M2", "NEW"):
        assert st[m] < st["C1"]
    assert st["C1"] < st["D1"] and st["C2"] < st["D1"]
    assert st["N1"] < st["D2"]
    assert st["D1"] < st["H"] and st["D2"] < st["H"]


def test_S5_a_unit_before_the_collective_that_leads_it_and_the_collective_before_its_head(h):
    st = stage_of(h)
    assert st["UB"] < st["TT"] < st["CT"]
    assert st["C1"] < st["CU1"] < st["BT1"]
    assert st["D1"] < st["DU1"] < st["BTD1"]


def test_S5_order_is_deterministic(h):
    assert h.rating_order() == load(*district()).hierarchy.rating_order()
    assert all(stage == sorted(stage) for stage in h.rating_order())


def test_S5_the_first_stage_holds_only_subjects_with_nothing_before_them(h):
    first = set(h.rating_order()[0])
    assert {"M1", "M2", "M3", "M4", "N1", "N2", "NEW", "UB"} <= first
    assert not first & {"C1", "C2", "D1", "D2", "H", "CU1", "BT1", "TT", "CT"}


# ---- the ward scenario -----------------------------------------------------------------------------------


@pytest.mark.skipif(not TAN_LOI.is_file(), reason="scenario not present")
def test_ward_scenario_members_form_one_group_and_meet_before_their_chi_bo():
    hh = load_case(TAN_LOI).hierarchy
    rated_members = [s.id for s in hh.case.subjects if s.kind is Kind.member and s.decided]
    assert same_group(hh, *rated_members)
    assert hh.group(hh.group_of[rated_members[0]]).members == tuple(rated_members)
    st = stage_of(hh)
    for s in hh.case.subjects:
        if s.parent is not None:
            assert st[s.id] < st[s.parent]
        if s.leads is not None:
            assert st[s.leads] < st[s.id]
        if s.heads is not None:
            assert st[s.heads] < st[s.id]


def test_S5_stages_are_the_topological_generations_on_a_generated_district():
    """Each subject sits one stage after the latest of the subjects that must be rated before it (the
    prerequisites written out here from RULES.md S5, checked with networkx)."""
    import networkx as nx

    from model.generate import generate_case
    from model.loader import parse_case

    h = parse_case(generate_case(members=1500, seed=3, shape="district")).hierarchy
    g = nx.DiGraph()
    g.add_nodes_from(h.subjects)
    for sid, s in h.subjects.items():
        if s.parent is not None:
            g.add_edge(sid, s.parent)
        if s.kind is Kind.collective and s.leads is not None:
            g.add_edge(s.leads, sid)
        if s.kind is Kind.leader and s.heads is not None:
            g.add_edge(s.heads, sid)
            if h.subjects[s.heads].leads is not None:
                g.add_edge(h.subjects[s.heads].leads, sid)
    assert h.rating_order() == [sorted(stage) for stage in nx.topological_generations(g)]
    assert len(h.rating_order()) >= 4


def test_derived_group_ids_stay_distinct_when_ids_and_categories_hold_the_separator():
    """Ids and categories may contain ":" or begin with "#": collectives of category «A» decided by «X:Y» and
    of category «A:X» decided by «Y» are two groups (joined by ":" they read alike), and a leader whose
    category is «#L1» is not the group of leader L1, who has none (red team, issue 18)."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from casebuild import case, collective, leader, org, votes
    from solver.engine.solve import solve
    from solver.verify import verify

    loaded = case(
        org("X:Y", tier="upper", target=None, votes=votes(0, 9)),
        org("Y", tier="upper", target=None, votes=votes(0, 9)),
        org("B1", parent="X:Y", target=None, votes=votes(0, 9)),
        org("B2", parent="Y", target=None, votes=votes(0, 9)),
        collective("C1", "B1", category="A", target=None, votes=votes(9, 0)),
        collective("C2", "B2", category="A:X", target=None, votes=votes(9, 0)),
        leader("L1", "C1", category=None, target=None, votes=votes(9, 0)),
        leader("L2", "C2", category="#L1", target=None, votes=votes(9, 0)),
        rules={"S1": False, "S2": False},
    )
    h = loaded.hierarchy
    ids = [g.id for g in h.groups]
    assert len(ids) == len(set(ids))
    assert h.group_of["C1"] != h.group_of["C2"] and h.group_of["L1"] != h.group_of["L2"]
    result = solve(loaded)
    assert result.status == "optimal" and verify(loaded, result.levels) == []
    assert all(result.levels[s].code == "XS" for s in ("C1", "C2", "L1", "L2"))  # each alone in its group


def test_ordinary_derived_group_ids_are_unchanged(h):
    assert all("%" not in g.id for g in h.groups)


def test_a_member_directly_under_an_upper_organization_is_an_error():
    from model.errors import CaseInvalid

    data = {"name": "thử", "subjects": [
        {"id": "TU", "name": "Đảng bộ tỉnh", "kind": "party_org", "tier": "upper", "target": "T"},
        {"id": "CB", "name": "Chi bộ A", "kind": "party_org", "tier": "grassroots", "parent": "TU", "target": "T"},
        {"id": "M1", "name": "Đảng viên 1", "kind": "member", "parent": "TU", "target": "T"},
        {"id": "M2", "name": "Đảng viên 2", "kind": "member", "parent": "CB", "target": "T"},
    ]}
    with pytest.raises(CaseInvalid) as exc:
        parse_case(data, "ho_so.json")
    problems = [p for p in exc.value.problems if not p.warning]
    assert [(p.subject, p.field) for p in problems] == [("M1", "parent")]
    assert "đảng bộ cấp trên cơ sở" in problems[0].message


# ---- validation of members: the fast path for plain members reports what the full checks report -------------


def _problem_rows(problems) -> list[tuple]:
    return [(p.row, p.field, p.subject, p.warning, p.message) for p in problems]


def test_several_problems_on_members_keep_their_messages_and_order():
    """What ``validate`` returned for this case before plain members took a fast path (a46a3dd): the same problems, in
    the same order."""
    from model.case import Case
    from model.hierarchy import validate

    subjects = [
        org("H", "upper"), org("D", "grassroots", "H"), org("C", "branch", "D"),
        member("OK1", "C", votes={"XS": 3, "T": 1}, proposed="XS",
               facts={"committee_member": True, "civil_servant_level": "T"}),
        member("M1", "H", tier="branch", leads="C", heads="C", same_level_units=["C"], main_post=True,
               decided_by="D", excluded="new_body", in_charge_of=["ZZ"], lock_reason="r", level="T",
               facts={"violation_org": "C", "disunity": True, "transferred_in_exempt": True}),
        member("M2", "ZZ", voters=4, proposed="XS", votes={"T": 1, "K": 1},
               facts={"violation_org": "NOPE", "disciplined": True}),
        member("M3", "C", votes={"XS": 1, "T": 1, "TB": 1, "K": 1}, voters=9, lock="T",
               facts={"sick_leave_months": 0, "personnel_errors": True}),
        member("M4", "C", rated=False, lock="XS", person="P9", facts={"violation_org": "D"}),
        member("M5", "OK1", score=95, proposed="T", target=None),
        member("M6", None, proposed=None),
        member("M7", "C", proposed="HT", votes={"XS": 3}, self_score=40, category="x"),
    ]
    case = Case.model_validate({"name": "Thử", "subjects": subjects}, context={"nfc_done": True})
    assert _problem_rows(validate(case, "f.json", {})) == [
        (5, "parent", "M1", False, "«H» là đảng bộ cấp trên cơ sở: đảng viên sinh hoạt ở chi bộ (chi bộ cơ sở hoặc chi bộ trực thuộc), hãy ghi chi bộ của đảng viên (parent)"),
        (5, "tier", "M1", False, "trường tier chỉ dùng cho tổ chức đảng"),
        (5, "leads", "M1", False, "trường leads chỉ dùng cho tập thể lãnh đạo, quản lý"),
        (5, "heads", "M1", False, "trường heads chỉ dùng cho cán bộ lãnh đạo, quản lý"),
        (5, "same_level_units", "M1", False, "chỉ tổ chức đảng mới có chính quyền, MTTQ, đoàn thể cùng cấp"),
        (5, "same_level_units", "M1", False, "«C» là tổ chức đảng, phải là cơ quan, đơn vị"),
        (5, "main_post", "M1", False, "chức vụ chính (main_post) chỉ ghi cho người có mã người (person)"),
        (5, "decided_by", "M1", False, "cấp ủy xem xét, quyết định (decided_by) chỉ ghi cho tập thể lãnh đạo, quản lý"),
        (5, "excluded", "M1", False, "lý do không xếp loại này không dùng cho đảng viên"),
        (5, "in_charge_of", "M1", False, "chỉ cán bộ lãnh đạo, quản lý mới ghi nơi mình phụ trách (in_charge_of)"),
        (5, "in_charge_of", "M1", False, "tham chiếu tới mã «ZZ» không có trong danh sách đối tượng"),
        (5, "lock_reason", "M1", False, "lý do và người quyết định chỉ ghi cùng một mức khóa (lock)"),
        (5, "facts.violation_org", "M1", False, "chỉ ghi nơi xảy ra vi phạm cho đảng viên bị kỷ luật (disciplined)"),
        (5, "level", "M1", False, "trường level chỉ dùng cho đơn vị (cơ quan, chính quyền, đoàn thể)"),
        (5, "facts.transferred_in_exempt", "M1", False, "dữ kiện này không áp dụng cho đảng viên"),
        (5, "facts.disunity", "M1", False, "dữ kiện này không áp dụng cho đảng viên"),
        (6, "parent", "M2", False, "tham chiếu tới mã «ZZ» không có trong danh sách đối tượng"),
        (6, "facts.violation_org", "M2", True, "tổ chức đảng nơi xảy ra vi phạm «NOPE» không có trong hồ sơ: kỷ luật này không tính cho tổ chức đảng nào trong hồ sơ (BĐ 5.12)"),
        (6, "votes", "M2", False, "không mức nào đạt quá bán kể cả khi cộng dồn (2/4 phiếu hợp lệ): hãy nhập mức đề nghị (target) do cấp có thẩm quyền quyết định"),
        (7, "votes", "M3", False, "không mức nào đạt quá bán kể cả khi cộng dồn (4/9 phiếu hợp lệ): hãy nhập mức đề nghị (target) do cấp có thẩm quyền quyết định"),
        (7, "facts.personnel_errors", "M3", False, "dữ kiện này không áp dụng cho đảng viên"),
        (8, "facts.violation_org", "M4", False, "chỉ ghi nơi xảy ra vi phạm cho đảng viên bị kỷ luật (disciplined)"),
        (8, "lock", "M4", False, "đối tượng không xếp loại (rated = false) không thể bị khóa mức"),
        (9, "parent", "M5", False, "«OK1» là đảng viên, phải là tổ chức đảng"),
        (9, "proposed", "M5", True, "mức đề xuất Hoàn thành tốt nhiệm vụ khác mức mục tiêu Hoàn thành xuất sắc nhiệm vụ theo điểm thẩm định: dùng mức theo điểm thẩm định"),
        (10, "parent", "M6", False, "đảng viên phải thuộc một chi bộ (trường parent)"),
        (10, "votes", "M6", False, "không có phiếu (votes), mức đề xuất (proposed) hay mức mục tiêu (target)"),
        (11, "proposed", "M7", True, "mức đề xuất Hoàn thành nhiệm vụ khác mức mục tiêu Hoàn thành xuất sắc nhiệm vụ theo phiếu biểu quyết: dùng mức theo phiếu biểu quyết"),
        (8, "person", "M4", True, "mã người «P9» chỉ có một bản ghi: không có gì để liên kết"),
    ]


def _member_variants() -> list[dict]:
    """Members with one or two fields that a check of ``_subject_problems`` reads set to a value that passes or
    fails it, next to the organizations they may refer to."""
    changes = [
        {}, {"parent": None}, {"parent": "ZZ"}, {"parent": "H"}, {"parent": "D"}, {"parent": "U"},
        {"parent": "M0"}, {"parent": "NT"}, {"tier": "branch"}, {"leads": "C"}, {"heads": "CU"},
        {"same_level_units": ["U"]}, {"category": "x"}, {"person": "P1"}, {"main_post": True},
        {"main_post": True, "person": "P2"}, {"decided_by": "D"}, {"score": 95}, {"self_score": 10},
        {"excluded": "exempted"}, {"excluded": "new_body"}, {"in_charge_of": ["C"]}, {"lock_reason": "r"},
        {"lock_author": "a"}, {"lock": "XS"}, {"level": "T"}, {"may_rise": True}, {"rated": False},
        {"votes": {"XS": 3, "T": 1}}, {"votes": {"XS": 1, "T": 1, "TB": 1, "K": 1}}, {"voters": 9},
        {"votes": {"T": 2}, "voters": 3}, {"proposed": None}, {"proposed": "XS"}, {"target": "HT"},
        {"facts": {"committee_member": True, "civil_servant_level": "T", "sick_leave_months": 0}},
        {"facts": {"violation_org": "D", "disciplined": True}}, {"facts": {"violation_org": "C"}},
        {"facts": {"violation_org": "NOPE"}}, {"facts": {"violation_org": "U", "disciplined": True}},
        {"facts": {"disunity": True}}, {"facts": {"shortcomings_remedied": False}},
        {"facts": {"shortcomings_remedied": True, "low_confidence": True}},
    ]
    variants = [dict(a, **b) for i, a in enumerate(changes) for b in changes[i:]]
    subjects = [org("H", "upper"), org("D", "grassroots", "H"), org("C", "branch", "D"), org("NT", None, "D"),
                unit("U"), member("M0", "C"), collective("CU", "C", "chi_uy")]
    subjects += [member(f"V{i}", **{"parent": "C", **v}) for i, v in enumerate(variants)]
    return subjects


def test_plain_members_take_a_fast_path_that_reports_exactly_what_the_full_checks_report(monkeypatch):
    from model import hierarchy
    from model.case import Case

    case = Case.model_validate({"name": "Thử", "subjects": _member_variants()}, context={"nfc_done": True})

    def run() -> tuple:
        targets, locks, given, index = {}, {}, {}, {}
        problems = hierarchy.validate(case, "f.json", targets, locks=locks, given_levels=given, index=index)
        return _problem_rows(problems), list(targets.items()), list(locks.items()), list(given.items())

    fast = run()
    plain = hierarchy._plain_member_targets(case.subjects, case.by_id(), hierarchy.SCORE_BANDS)
    assert 20 < sum(t is not None for t in plain) < len(plain) - 100  # both paths are taken
    monkeypatch.setattr(hierarchy, "_plain_member_targets", lambda subjects, ids, bands: [None] * len(subjects))
    assert fast == run()


@pytest.mark.parametrize("profile, order", [(None, "seed"), ("qd366-2025", "qd366")])
def test_rating_stages_follow_every_edge_members_included(profile, order):
    """``rating_order`` counts a member nothing waits on by organization instead of following its edge: the
    stages are still the topological generations of the whole order graph (``_order_edges`` and each member
    before its organization), under both orders, committee members (rated after their collective) included."""
    import networkx as nx

    from model.generate import generate_case
    from model.hierarchy import _order_edges

    h = parse_case(generate_case(members=1500, seed=4, shape="district", profile=profile)).hierarchy
    g = nx.DiGraph()
    g.add_nodes_from(h.subjects)
    g.add_edges_from((u, v) for u, nexts in _order_edges(h, order).items() for v in nexts)
    g.add_edges_from((m, org) for org, members in h.members_of.items() for m in members)
    assert any(h.subjects[m].facts.committee_member for ms in h.members_of.values() for m in ms)
    expected = [sorted(stage) for stage in nx.topological_generations(g)]
    assert h.rating_order(order) == expected and h.rating_stage_count(order) == len(expected)
