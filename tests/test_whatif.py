"""What-if files and ``xeploai compare``: every scenarios/whatif file holds its expect block, deltas never
touch their base, bad deltas fail in Vietnamese naming the field, and the comparison lists exactly who moved."""

import argparse
import copy
import json
import re
import unicodedata
from pathlib import Path

import pytest

from model.case import dump
from model.errors import CaseInvalid
from model.levels import Level
from model.loader import load_case, read_json
from model.whatif import WhatIf, apply_whatif, load_whatif, parse_whatif
from solver.explanations.compare import SolveCache, check_expect, compare, load_any, load_whatif_solved, render_comparison
from solver.engine.solve import SolveOptions
from solver.verify import verify
from solver.commands.whatif import cmd_compare, configure_compare

ROOT = Path(__file__).resolve().parents[1]
WHATIF_DIR = ROOT / "scenarios" / "whatif"
WARD = ROOT / "scenarios" / "phuong_tan_loi_2018.json"
FILES = sorted(WHATIF_DIR.glob("*.json"))
OPTS = SolveOptions(time_limit=60, workers=2)


def _solved(path: Path):
    cache = SolveCache(OPTS)
    base, what, delta = load_whatif_solved(path, cache=cache)
    return base, cache.result(base), what, cache.result(what), delta


@pytest.fixture(scope="module")
def ward():
    cache = SolveCache(OPTS)
    loaded = load_case(WARD)
    return loaded, cache.result(loaded)


def _write(tmp_path: Path, name: str, data: dict) -> Path:
    p = tmp_path / name
    p.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return p


# ---- every what-if file of the repository ---------------------------------------------------------


def test_there_are_at_least_six_whatif_files_covering_every_kind_of_delta():
    assert len(FILES) >= 6
    deltas = [parse_whatif(read_json(p), str(p)) for p in FILES]
    given = {k for d in deltas for k in d.options.given()}
    assert {"cap_base", "small_group_allowance"} <= given
    assert any(d.exceptions for d in deltas)  # a 25% decision for one organization (QĐ 366 Điều 11 khoản 1)
    assert any(d.lock for d in deltas) and any(d.unlock for d in deltas)
    assert any(d.votes for d in deltas) and any(d.facts for d in deltas)
    assert any(d.rerate and d.facts for d in deltas)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_whatif_file_is_named_by_its_vietnamese_question(path):
    assert re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", path.stem)
    data = read_json(path)
    question = data["whatif"]
    assert unicodedata.is_normalized("NFC", question) and question.endswith("?")
    assert re.search(r"[ạảãàáâầấậẩẫăằắặẳẵđêềếệểễôồốộổỗơờớợởỡưừứựửữìíịỉĩùúụủũỳýỵỷỹòóọỏõèéẹẻẽ]", question)
    assert data.get("expect"), "each what-if states what its answer must be"
    assert data.get("description"), "each what-if says how its expected numbers were derived"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_whatif_file_holds_its_expect_block_and_passes_the_verifier(path):
    base, base_result, what, result, delta = _solved(path)
    cmp = compare(base, base_result, what, result, delta.whatif)
    assert check_expect(delta, result, cmp) == []
    assert result.status == delta.expect.status
    if result.status == "optimal":
        assert result.proven
        assert verify(what, result.levels) == []
        assert delta.expect.changed_vs_base is not None
    else:
        assert result.conflicts


def test_check_expect_reports_a_wrong_expectation():
    path = WHATIF_DIR / "neu_khong_ap_dung_quy_tac_duoi_05.json"
    base, base_result, what, result, delta = _solved(path)
    cmp = compare(base, base_result, what, result)
    data = read_json(path)
    data["expect"].update(changed_vs_base=99, levels={"CB-CA": "XS"})
    wrong = parse_whatif(data, str(path))
    failures = check_expect(wrong, result, cmp)
    assert len(failures) == 2
    assert any("CB-CA" in f for f in failures) and any("99" in f for f in failures)


# ---- semantics of the deltas -----------------------------------------------------------------------


def test_apply_whatif_never_mutates_the_base_and_changes_only_what_it_names():
    base = read_json(WARD)
    before = copy.deepcopy(base)
    delta = parse_whatif({
        "whatif": "Thử?", "base": str(WARD), "options": {"cap_percent": 25}, "lock": {"BT-DU": "T"},
        "facts": {"DV-K1-03": {"disciplined": None}, "DV-QS-10": {"sick_leave_months": 4}},
        "target": {"DV-K1-02": "T", "CB-QS": None}, "votes": {"CB-QS": {"XS": 9, "T": 6, "TB": 0, "K": 0}},
        "rerate": True,
    })
    published = {s["id"]: Level.T for s in base["subjects"] if s["kind"] != "unit" and s.get("rated", True)}
    out = apply_whatif(base, delta, published, file="thu.json")
    assert base == before
    assert apply_whatif(base, delta, published, file="thu.json") == out  # deterministic
    subjects = {s["id"]: s for s in out["subjects"]}
    assert out["options"] == {"cap_percent": 25}
    assert subjects["BT-DU"]["lock"] == "T"
    assert subjects["DV-K1-03"]["facts"] == {"self_remedied": True}
    assert subjects["DV-QS-10"]["facts"] == {"sick_leave_months": 4}
    assert subjects["DV-K1-02"]["target"] == "T"
    assert all(s.get("target") == "T" for s in out["subjects"]
               if s["kind"] != "unit" and s.get("rated", True) and s["id"] != "CB-QS")
    assert "target" not in subjects["CB-QS"] and subjects["CB-QS"]["votes"]["XS"] == 9  # null: votes count again
    assert "target" not in subjects["UBND-TL"] and "target" not in subjects["DV-K3-24"]  # unit, unrated
    assert out["name"].endswith("giả định: Thử?")
    # the result is a valid case; changing it does not reach the base either
    subjects["DV-K2-02"]["facts"]["sick_leave_months"] = 0
    assert base == before


def test_votes_under_a_rerating_must_drop_the_published_target():
    base = read_json(WARD)
    published = {s["id"]: Level.T for s in base["subjects"] if s["kind"] != "unit" and s.get("rated", True)}
    delta = {"whatif": "Thử?", "base": "x.json", "rerate": True, "votes": {"CB-QS": {"XS": 9, "T": 6}}}
    with pytest.raises(CaseInvalid) as exc:
        apply_whatif(base, delta, published, file="thu.json")
    assert [p.field for p in exc.value.problems] == ["votes.CB-QS"]
    delta["target"] = {"CB-QS": None}
    out = apply_whatif(base, delta, published, file="thu.json")
    qs = next(s for s in out["subjects"] if s["id"] == "CB-QS")
    assert "target" not in qs and qs["votes"] == {"XS": 9, "T": 6, "TB": 0, "K": 0}


def test_a_rerating_targets_the_levels_the_base_solve_published(ward):
    path = WHATIF_DIR / "neu_phat_hien_dang_vien_bi_ky_luat_sau_khi_cong_bo.json"
    base, base_result, what, result, delta = _solved(path)
    assert delta.rerate
    assert what.targets == base_result.levels
    assert base_result.levels == ward[1].levels  # the base of the what-if is the ward case itself
    # the new fact is the only thing that moves anyone
    assert what.hierarchy.subjects["DV-QS-10"].facts.disciplined
    assert not base.hierarchy.subjects["DV-QS-10"].facts.disciplined


def test_a_rerating_of_a_base_without_a_result_is_refused_in_vietnamese(tmp_path):
    lock = _write(tmp_path, "khoa.json", {"whatif": "Khóa?", "base": str(WARD), "lock": {"BT-DU": "XS"}})
    rerate = _write(tmp_path, "lai.json", {"whatif": "Xếp loại lại?", "base": "khoa.json", "rerate": True,
                                           "facts": {"DV-QS-10": {"disciplined": True}}})
    with pytest.raises(CaseInvalid) as exc:
        load_whatif_solved(rerate, OPTS)
    (p,) = exc.value.problems
    assert p.file == str(rerate) and p.field == "rerate" and "không có kết quả" in p.message


def test_a_rerating_needs_the_solver_to_publish_the_base():
    path = WHATIF_DIR / "neu_phat_hien_dang_vien_bi_ky_luat_sau_khi_cong_bo.json"
    with pytest.raises(CaseInvalid) as exc:
        load_whatif(path)  # model/ cannot solve: no published levels given
    assert [p.field for p in exc.value.problems] == ["rerate"]


def test_a_whatif_may_stand_on_another_whatif_and_unlock_its_lock():
    path = WHATIF_DIR / "neu_rut_lai_quyet_dinh_giu_bui_thu_lan.json"
    base, what, delta = load_whatif(path)
    assert base.hierarchy.subjects["DV-K3-02"].lock is Level.XS
    assert what.hierarchy.subjects["DV-K3-02"].lock is None
    assert delta.unlock == ("DV-K3-02",)
    assert [dump(s) for s in what.case.subjects] == [dump(s) for s in load_case(WARD).case.subjects]


def test_load_any_reads_cases_and_whatifs():
    case = load_any(WARD)
    assert case.case.name == load_case(WARD).case.name and case.targets == load_case(WARD).targets
    what = load_any(WHATIF_DIR / "neu_khong_ap_dung_quy_tac_duoi_05.json")
    assert what.options.small_group_allowance == 0
    assert what.source.endswith("neu_khong_ap_dung_quy_tac_duoi_05.json")
    assert "giả định" in what.case.name


# ---- bad what-ifs: one failure each, in Vietnamese, naming the file and the field -------------------

BAD = [
    ("unknown_id", {"lock": {"KHONG-CO": "XS"}}, "lock.KHONG-CO", "không có đối tượng"),
    ("unknown_key", {"lock": {"BT-DU": "XS"}, "khoa": 1}, "khoa", "không có trong định dạng"),
    ("bad_level", {"lock": {"BT-DU": "Xuất sắc lắm"}}, "lock.BT-DU", "mức xếp loại không hợp lệ"),
    ("bad_target_level", {"target": {"BT-DU": "A"}}, "target.BT-DU", "mức xếp loại không hợp lệ"),
    ("unknown_fact", {"facts": {"DV-K1-01": {"ky_luat": True}}}, "facts.DV-K1-01.ky_luat", "không có trong định dạng"),
    ("fact_of_other_kind", {"facts": {"DB-TL": {"sick_leave_months": 4}}}, "facts.DB-TL.sick_leave_months",
     "không áp dụng cho tổ chức đảng"),
    ("bad_fact_value", {"facts": {"DV-K1-01": {"sick_leave_months": 13}}}, "facts.DV-K1-01.sick_leave_months",
     "nhỏ hơn hoặc bằng 12"),
    ("bad_grade", {"votes": {"CB-QS": {"XS": 9, "Tot": 6}}}, "votes.CB-QS.Tot", "không có trong định dạng"),
    ("too_many_votes", {"votes": {"CB-QS": {"XS": 9, "T": 9}}}, "votes.CB-QS", "lớn hơn số người"),
    ("unlock_unlocked", {"unlock": ["BT-DU"]}, "unlock.BT-DU", "không bị khóa"),
    ("lock_a_unit", {"lock": {"UBND-TL": "T"}}, "lock.UBND-TL", "là đơn vị"),
    ("lock_unrated", {"lock": {"DV-K3-24": "T"}}, "lock.DV-K3-24", "không được xếp loại"),
    ("bad_option", {"options": {"cap_percent": 0}}, "options.cap_percent", "lớn hơn hoặc bằng 1"),
    ("unknown_option", {"options": {"cap_base": "all"}}, "options.cap_base", "giá trị không hợp lệ"),
    ("unknown_expect_id", {"lock": {"BT-DU": "T"}, "expect": {"levels": {"NOPE": "T"}}}, "expect.levels.NOPE",
     "không có đối tượng"),
    ("empty_delta", {}, "whatif", "không nêu thay đổi nào"),
]


@pytest.mark.parametrize("name,delta,field,words", BAD, ids=[b[0] for b in BAD])
def test_bad_whatif_fails_in_vietnamese_naming_the_file_and_field(tmp_path, name, delta, field, words):
    path = _write(tmp_path, f"{name}.json", {"whatif": "Thử?", "base": str(WARD), **delta})
    with pytest.raises(CaseInvalid) as exc:
        load_any(path)
    fields = [p.field for p in exc.value.problems]
    assert field in fields, fields
    p = exc.value.problems[fields.index(field)]
    assert p.file == str(path)
    assert words in p.message and unicodedata.is_normalized("NFC", p.message)
    assert str(path) in str(p) and field in str(p)


def test_a_missing_base_is_named_relative_to_the_whatif_file(tmp_path):
    path = _write(tmp_path, "mat_goc.json", {"whatif": "Thử?", "base": "../khong_co.json", "lock": {"BT-DU": "T"}})
    with pytest.raises(CaseInvalid) as exc:
        load_any(path)
    (p,) = exc.value.problems
    assert (p.file, p.field) == (str(path), "base")
    assert "không tìm thấy tệp hồ sơ gốc «../khong_co.json»" in p.message


def test_whatifs_that_take_each_other_as_base_are_refused(tmp_path):
    _write(tmp_path, "a.json", {"whatif": "A?", "base": "b.json", "lock": {"BT-DU": "T"}})
    _write(tmp_path, "b.json", {"whatif": "B?", "base": "a.json", "lock": {"BT-DU": "T"}})
    with pytest.raises(CaseInvalid) as exc:
        load_any(tmp_path / "a.json")
    assert any("thành vòng" in p.message and p.field == "base" for p in exc.value.problems)


def test_an_invalid_base_is_reported_under_the_whatif(tmp_path):
    bad_base = _write(tmp_path, "goc.json", {"name": "Gốc", "subjects": [{"id": "A", "kind": "member"}]})
    path = _write(tmp_path, "gd.json", {"whatif": "Thử?", "base": bad_base.name, "lock": {"A": "T"}})
    with pytest.raises(CaseInvalid) as exc:
        load_any(path)
    first = exc.value.problems[0]
    assert (first.file, first.field) == (str(path), "base") and "không đọc được" in first.message
    assert any(p.file == str(bad_base) for p in exc.value.problems[1:])


# ---- compare ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("stem", ["neu_tinh_20_phan_tram_tren_so_tot_tro_len", "neu_chi_bo_khoi_pho_3_kiem_lai_phieu",
                                  "neu_phat_hien_dang_vien_bi_ky_luat_sau_khi_cong_bo"])
def test_compare_lists_exactly_the_subjects_whose_final_levels_differ(stem):
    base, base_result, what, result, delta = _solved(WHATIF_DIR / f"{stem}.json")
    cmp = compare(base, base_result, what, result, delta.whatif)
    differ = {sid for sid in base_result.levels if base_result.levels[sid] != result.levels[sid]}
    assert {m.id for m in cmp.moves} == differ and cmp.changed_vs_base == len(differ) > 0
    why = {c.id: c.reasons for c in result.changes}
    for m in cmp.moves:
        assert (m.base_final, m.whatif_final) == (base_result.levels[m.id], result.levels[m.id])
        assert m.reasons == why.get(m.id, ())
    assert cmp.base_objective == {"changed": base_result.changed, "steps": base_result.steps}
    assert cmp.whatif_objective == {"changed": result.changed, "steps": result.steps}


def test_compare_of_a_case_with_itself_finds_nothing(ward):
    loaded, result = ward
    cmp = compare(loaded, result, loaded, result)
    assert cmp.moves == [] and cmp.quota == [] and cmp.options_changed == {} and cmp.targets_changed == []
    assert "Số đối tượng có mức cuối cùng khác phương án gốc: 0" in render_comparison(cmp)


def test_compare_shows_the_quota_groups_and_options_that_changed():
    base, base_result, what, result, delta = _solved(WHATIF_DIR / "neu_khong_ap_dung_quy_tac_duoi_05.json")
    cmp = compare(base, base_result, what, result, delta.whatif)
    assert cmp.options_changed == {"small_group_allowance": (1, 0)}
    branches = next(q for q in cmp.quota if q.group == "tcd:DB-TL:branch")
    # one XS among four T only holds under "fewer than five"; without it the Công an chi bộ is T
    assert (branches.base["after_xs"], branches.base["after_t"], branches.base["after_rule"]) == (1, 4, "C2")
    assert (branches.whatif["after_xs"], branches.whatif["after_t"], branches.whatif["after_cap"]) == (0, 5, 0)
    members = "dv:DB-TL"
    assert members not in {q.group for q in cmp.quota}  # the members' group is untouched
    text = "\n".join(render_comparison(cmp))
    assert "Số Hoàn thành xuất sắc nhiệm vụ cho nhóm nhỏ" in text and "1 → 0" in text
    assert "Chi bộ Công an phường (CB-CA): gốc Hoàn thành xuất sắc nhiệm vụ → giả định Hoàn thành tốt nhiệm vụ" in text


def test_compare_of_a_conflict_names_the_conflicting_set():
    base, base_result, what, result, delta = _solved(WHATIF_DIR / "neu_giu_bi_thu_dang_uy_o_muc_xuat_sac.json")
    cmp = compare(base, base_result, what, result, delta.whatif)
    assert cmp.changed_vs_base is None and cmp.moves == []
    assert any(c.kind == "lock" and c.subject == "BT-DU" for c in cmp.whatif_conflicts)
    text = "\n".join(render_comparison(cmp))
    assert "mâu thuẫn" in text and "Huỳnh Đức Cường" in text


def test_comparison_json_is_deterministic_and_sorted():
    path = WHATIF_DIR / "neu_giu_dang_vien_bui_thu_lan_o_muc_xuat_sac.json"
    one, two = (compare(*_solved(path)[:4]).dumps() for _ in range(2))
    assert one == two
    data = json.loads(one)
    assert one == json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    assert data["changed_vs_base"] == 2
    assert {m["id"]: (m["base_final"], m["whatif_final"]) for m in data["moves"]} == {
        "DV-K3-02": ("T", "XS"), "DV-CA-18": ("XS", "T")}


# ---- the CLI ---------------------------------------------------------------------------------------


def _run(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="xeploai compare")
    configure_compare(p)
    return cmd_compare(p.parse_args(argv))


def test_cli_compare_prints_vietnamese_writes_json_and_exits_0(tmp_path, capsys):
    what = WHATIF_DIR / "neu_khong_ap_dung_quy_tac_duoi_05.json"
    out = tmp_path / "so_sanh.json"
    assert _run([str(WARD), str(what), "--json", str(out), "--workers", "1", "--time-limit", "30"]) == 0
    text = capsys.readouterr().out
    assert "So sánh phương án xếp loại" in text
    assert "Số đối tượng có mức cuối cùng khác phương án gốc: 3" in text
    assert "Kết quả mong đợi (expect) của tệp giả định: đúng." in text
    data = json.loads(out.read_text(encoding="utf-8"))
    assert {m["id"] for m in data["moves"]} == {"CB-CA", "CU-CA", "BT-CA"}
    # the same comparison from the what-if alone (its base is read from the file)
    out2 = tmp_path / "so_sanh_2.json"
    assert _run([str(what), "--json", str(out2)]) == 0
    assert json.loads(out2.read_text(encoding="utf-8"))["moves"] == data["moves"]


def test_cli_compare_of_a_bad_whatif_exits_2_in_vietnamese(tmp_path, capsys):
    path = _write(tmp_path, "sai.json", {"whatif": "Thử?", "base": str(WARD), "lock": {"KHONG-CO": "XS"}})
    assert _run([str(path)]) == 2
    text = capsys.readouterr().out
    assert "Hồ sơ không hợp lệ" in text and "lock.KHONG-CO" in text and "Traceback" not in text


def test_cli_compare_needs_a_base_for_a_plain_case(capsys):
    assert _run([str(WARD)]) == 2
    assert "không phải tệp giả định" in capsys.readouterr().out


def test_whatif_model_is_strict_and_frozen():
    delta = WhatIf.model_validate({"whatif": "Thử?", "base": "x.json", "lock": {"A": "XS"}})
    with pytest.raises(Exception):
        delta.rerate = True  # frozen
    assert delta.lock == {"A": Level.XS}


def test_the_whatif_format_lives_in_model_without_the_solver():
    import subprocess
    import sys

    code = "import sys, model.whatif; print('ortools' in sys.modules or 'solver' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_compare_through_an_incremental_session_equals_solving_both_cases_in_full(path):
    """``xeploai compare`` solves the what-if on a session of its base (solver.engine.incremental); the comparison
    is byte for byte the one made by loading the what-if case whole and solving it from scratch."""
    from solver.explanations.compare import solve_whatif_file

    full = SolveCache(OPTS)
    base, what, delta = load_whatif_solved(path, cache=full)
    expected = compare(base, full.result(base), what, full.result(what), question=delta.whatif)

    quick = SolveCache(OPTS)
    base2, what2, delta2 = solve_whatif_file(path, quick)
    got = compare(base2, quick.result(base2), what2, quick.result(what2), question=delta2.whatif)
    assert got.dumps() == expected.dumps()
    assert got.dumps() == compare(base, full.result(base), what, full.result(what), question=delta.whatif,
                                  every_group=True).dumps()
    assert quick.result(what2).dumps() == full.result(what).dumps()
    if quick.result(what2).levels:
        assert verify(what2, quick.result(what2).levels) == []
