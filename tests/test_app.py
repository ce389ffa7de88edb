"""The Streamlit app: AppTest smoke tests of every page, one test per real interaction, and its logic (appcore).

Expected answers come from the ward scenario's hand-checked ``expect`` block and its description, never from
the app's own output. AppTest runs get a timeout sized for a solve, not Streamlit's default 3 s.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from model.errors import CaseInvalid
from model.levels import Level
from model.loader import load_case, parse_case
from solver import appcore
from solver.solve import solve

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app_streamlit.py"
WARD = ROOT / "scenarios" / "phuong_tan_loi_2018.json"
BAD = ROOT / "tests" / "data" / "bad"
TIMEOUT = 60
PAGES = ["du_lieu", "ket_qua", "nhom_ty_le", "so_do", "gia_dinh", "giai_trinh", "bao_cao", "quy_dinh"]

WARD_DATA = json.loads(WARD.read_text(encoding="utf-8"))
EXPECT = WARD_DATA["expect"]
WARD_LOADED = load_case(WARD)
SUBJECTS = WARD_LOADED.hierarchy.subjects


def expected(sid: str) -> Level:
    return Level[EXPECT["levels"][sid]]


def quota_lowered_member() -> str:
    """A member the expect block lowers from XS to T who has no fact of his own: only the 20% cap moves him."""
    for s in WARD_LOADED.case.subjects:
        if (s.kind.value == "member" and s.decided and s.target_level() is Level.XS and expected(s.id) is Level.T
                and not s.facts.set_fields() and s.lock is None):
            return s.id
    raise AssertionError("the ward scenario has no member lowered by the cap alone")


# ---- AppTest helpers ---------------------------------------------------------------------------------


def app() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    return at


def load_ward(at: AppTest) -> AppTest:
    at.switch_page("app_pages/du_lieu.py").run()
    at.selectbox(key="data_scenario").set_value(WARD.name)
    at.button(key="data_load_scenario").click().run()
    assert not at.exception
    return at


def goto(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    """Every piece of text on the screen, joined (markdown, captions, boxes, headings)."""
    parts = [*at.markdown, *at.caption, *at.success, *at.warning, *at.error, *at.info, *at.title, *at.subheader]
    return "\n".join(str(p.value) for p in parts).replace("\\", "")


def frame_with(at: AppTest, column: str):
    for df in at.dataframe:
        if column in df.value.columns:
            return df.value
    raise AssertionError(f"no table with a column {column!r}")


# ---- smoke: every page -------------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_before_any_case_is_loaded(page):
    at = goto(app(), page)
    if page not in ("du_lieu", "quy_dinh"):
        assert "Chưa có hồ sơ nào được nạp" in texts(at)


def test_every_page_renders_with_the_ward_case_loaded():
    at = load_ward(app())
    for page in PAGES:
        goto(at, page)
        assert at.title, page
        assert not at.error, (page, [e.value for e in at.error])


# ---- interactions ------------------------------------------------------------------------------------


def test_loading_the_ward_scenario_summarizes_the_case():
    at = load_ward(app())
    assert any(WARD_DATA["name"] in s.value for s in at.subheader)
    kinds = frame_with(at, "Loại đối tượng")
    members = kinds[kinds["Loại đối tượng"] == "Đảng viên"].iloc[0]
    assert members["Số lượng"] == sum(1 for s in WARD_DATA["subjects"] if s["kind"] == "member")


def test_solving_the_ward_shows_a_change_with_its_rule_and_citation():
    at = goto(load_ward(app()), "ket_qua")
    screen = texts(at)
    assert "Đã chứng minh tối ưu" in screen
    changed = next(m for m in at.metric if m.label == "Số đối tượng thay đổi")
    assert int(changed.value) == EXPECT["objective"]["changed"]
    # The description: the primary-school chi bộ was voted XS, but a member is a civil servant rated HTNV (E1, S3).
    s = SUBJECTS["CB-TH"]
    block = next(m.value.replace("\\", "") for m in at.markdown if f"({s.id}):" in m.value)
    assert f"{s.target_level().official} → {expected(s.id).official}" in block
    assert "S3" in block and "BMT II.B.1.3" in block


def test_the_change_list_and_the_subject_table_filter():
    at = goto(load_ward(app()), "ket_qua")
    at.text_input(key="res_change_query").input("CB-TH").run()
    assert [m for m in at.markdown if "(CB-TH):" in m.value]
    assert not [m for m in at.markdown if "(DB-TL):" in m.value]
    at.text_input(key="res_subject_query").input("Khối phố 1").run()
    table = frame_with(at, "Mã")
    assert len(table) and all("Khối phố 1" in f"{r['Tên']} {r['Thuộc']}" for _, r in table.iterrows())


def test_locking_a_subject_and_solving_again_shows_the_difference_and_survives_navigation():
    sid = quota_lowered_member()
    at = goto(load_ward(app()), "gia_dinh")
    at.text_input(key="wi_lock_query").input(sid).run()
    at.selectbox(key="wi_lock_subject").set_value(sid)
    at.selectbox(key="wi_lock_level").set_value("XS")
    at.button(key="wi_lock_add").click().run()
    at.button(key="wi_solve").click().run()
    assert not at.exception
    moves = frame_with(at, "Giả định")
    row = moves[moves["Mã"] == sid].iloc[0]
    assert (row["Phương án gốc"], row["Giả định"]) == ("T", "XS")
    assert len(moves) >= 2  # the cap still holds: someone else takes his place
    assert any(d.key == "wi_download" for d in at.get("download_button"))
    goto(at, "ket_qua")
    goto(at, "gia_dinh")  # what the user typed is still there, and so is the comparison
    assert any(f"({sid})" in m.value for m in at.markdown if m.value.startswith("Khóa"))
    assert sid in set(frame_with(at, "Giả định")["Mã"])


def test_locking_a_chi_bo_above_what_its_disciplined_member_allows_reports_the_conflict():
    at = goto(load_ward(app()), "gia_dinh")
    at.text_input(key="wi_lock_query").input("CB-K1").run()
    at.selectbox(key="wi_lock_subject").set_value("CB-K1")
    at.selectbox(key="wi_lock_level").set_value("T")  # a member is disciplined (E2 → K), so S3 caps it at HT
    at.button(key="wi_lock_add").click().run()
    at.button(key="wi_solve").click().run()
    assert any("Mâu thuẫn" in e.value for e in at.error)
    assert "kỷ luật" in texts(at)


def test_changing_a_rule_option_is_kept_in_the_whatif():
    at = goto(load_ward(app()), "gia_dinh")
    at.selectbox(key="wi_opt_cap_base").set_value("good_and_above").run()
    assert at.session_state["wi_delta"]["options"] == {"cap_base": "good_and_above"}
    at.button(key="wi_solve").click().run()
    assert not at.exception
    assert any("Cơ số" in str(v) for v in frame_with(at, "Tùy chọn")["Tùy chọn"])


def test_a_saved_whatif_file_opens_again_and_a_wrong_one_is_explained():
    sid = quota_lowered_member()
    saved = appcore.whatif_text({**appcore.empty_delta("Nếu giữ?", WARD.name), "lock": {sid: "XS"}})
    at = goto(load_ward(app()), "gia_dinh")
    at.file_uploader(key="wi_upload").set_value(("gia_dinh.json", saved.encode("utf-8"), "application/json"))
    at.run()
    assert at.session_state["wi_delta"]["lock"] == {sid: "XS"}
    assert any(f"({sid})" in m.value for m in at.markdown if m.value.startswith("Khóa"))
    wrong = json.dumps({"whatif": "?", "base": WARD.name, "lock": {"KHONG-CO": "XS"}, "votes": {sid: {"XS": -1}}})
    at.file_uploader(key="wi_upload").set_value(("sai.json", wrong.encode("utf-8"), "application/json"))
    at.run()
    shown = " ".join(e.value for e in at.error)
    assert "sai.json" in shown and f"votes.{sid}" in shown
    assert at.session_state["wi_delta"]["lock"] == {sid: "XS"}  # the wrong file changed nothing


def test_why_page_explains_and_prices_keeping_a_member_at_xs():
    sid = quota_lowered_member()
    at = goto(load_ward(app()), "giai_trinh")
    at.text_input(key="why_query").input(sid).run()
    assert at.selectbox(key="why_subject").value == sid
    ranking = frame_with(at, "Thứ tự")
    assert sid in set(ranking["Mã"])
    at.button(key="why_keep_button").click().run()
    assert any("CÓ THỂ" in s.value for s in at.success)


def test_report_page_offers_the_three_downloads_and_rejects_a_bad_date():
    at = goto(load_ward(app()), "bao_cao")
    assert {d.key for d in at.get("download_button")} >= {"report_docx", "report_xlsx", "report_json"}
    at.text_input(key="report_date").input("31/02/2018").run()
    assert at.error


def test_uploading_a_bad_case_lists_each_error_with_its_row_and_field():
    at = app()
    at.file_uploader(key="data_upload").set_value(("phieu_am.json", (BAD / "negative_votes.json").read_bytes(),
                                                   "application/json"))
    at.run()
    assert any("không hợp lệ" in e.value for e in at.error)
    rows = frame_with(at, "Trường")
    assert {"Trang": "subjects", "Dòng": "1", "Trường": "votes.XS"}.items() <= rows.iloc[0].to_dict().items()
    assert rows.iloc[0]["Tệp"] == "phieu_am.json"


def test_uploading_a_workbook_loads_the_same_case():
    excel_template = pytest.importorskip("model.excel_template")
    at = app()
    book = excel_template.template_bytes(WARD_LOADED.case)
    at.file_uploader(key="data_upload").set_value(("tan_loi.xlsx", book, "application/octet-stream"))
    at.run()
    assert not at.exception and not at.error
    assert any(WARD_DATA["name"] in s.value for s in at.subheader)


def test_a_case_whose_locks_conflict_shows_the_conflict_and_still_offers_the_report():
    example = ROOT.parent / "shared" / "examples" / "05_conflicting_locks.json"
    if not example.exists():
        pytest.skip("shared/examples is not beside the repository")
    at = app()
    at.file_uploader(key="data_upload").set_value((example.name, example.read_bytes(), "application/json"))
    at.run()
    goto(at, "ket_qua")
    assert any("Mâu thuẫn" in e.value for e in at.error)
    assert "Các quyết định và quy định mâu thuẫn nhau" in texts(at)
    goto(at, "bao_cao")
    assert {d.key for d in at.get("download_button")} >= {"report_docx", "report_xlsx", "report_json"}


# ---- the logic behind the pages (solver.appcore) -----------------------------------------------------


def test_a_case_nested_too_deep_is_an_input_error_not_a_crash():
    text = '{"name": "x", "subjects": [], "description": ' + "[" * 900 + "]" * 900 + "}"
    with pytest.raises(CaseInvalid) as err:
        appcore.parse_text(text, "sau.json")
    assert err.value.problems[0].file == "sau.json"


def test_apply_delta_changes_a_copy_only():
    base = json.loads(WARD.read_text(encoding="utf-8"))
    before = json.dumps(base, sort_keys=True)
    delta = {**appcore.empty_delta("Nếu…?", WARD.name), "options": {"cap_percent": 25}, "lock": {"CB-K2": "XS"},
             "facts": {"DV-K1-01": {"sick_leave_months": 4}},
             "votes": {"DV-K1-02": {"XS": 14, "T": 12, "TB": 0, "K": 0}}}
    data = appcore.apply_delta(base, delta)
    assert json.dumps(base, sort_keys=True) == before
    by_id = {s["id"]: s for s in data["subjects"]}
    assert data["options"]["cap_percent"] == 25 and by_id["CB-K2"]["lock"] == "XS"
    assert by_id["DV-K1-01"]["facts"]["sick_leave_months"] == 4
    assert by_id["DV-K1-02"]["votes"] == {"XS": 14, "T": 12, "TB": 0, "K": 0}
    loaded = parse_case(data)
    assert loaded.options.cap_percent == 25 and loaded.hierarchy.subjects["DV-K1-02"].target_level() is Level.XS


def test_apply_delta_names_an_unknown_subject():
    with pytest.raises(CaseInvalid) as err:
        appcore.apply_delta(WARD_DATA, {**appcore.empty_delta(), "lock": {"KHONG-CO": "XS"}})
    assert err.value.problems[0].field == "lock.KHONG-CO"


def test_apply_delta_agrees_with_the_whatif_loader():
    whatif = pytest.importorskip("model.whatif")
    delta = {**appcore.empty_delta("Nếu…?", WARD.name), "options": {"cap_base": "good_and_above"},
             "lock": {"DV-K2-04": "T"}, "facts": {"DV-K3-01": {"disciplined": True}},
             "votes": {"DV-QS-01": {"XS": 9, "T": 6, "TB": 0, "K": 0}}}
    mine = appcore.apply_delta(WARD_DATA, delta)
    theirs = whatif.apply_whatif(WARD_DATA, json.loads(appcore.whatif_text(delta)))
    assert mine["subjects"] == theirs["subjects"] and mine["options"] == theirs["options"]


def test_the_saved_whatif_file_reads_back_as_the_same_delta():
    delta = {**appcore.empty_delta("Nếu giữ?", WARD.name), "lock": {"CB-K2": "XS"}, "unlock": [],
             "facts": {"DV-K1-01": {"disciplined": True}}}
    text = appcore.whatif_text(delta)
    assert text == appcore.whatif_text(json.loads(json.dumps(delta)))  # deterministic
    assert appcore.delta_from_file(json.loads(text)) == {**delta, "profile": None}
    whatif = pytest.importorskip("model.whatif")
    assert whatif.parse_whatif(json.loads(text)).lock == {"CB-K2": Level.XS}


def test_harvest_keeps_edits_that_differ_and_drops_those_set_back():
    delta = appcore.empty_delta()
    rows = appcore.editor_rows(WARD_LOADED, ["DV-K1-01", "DV-K1-02"], delta)
    rows[0]["XS"] = (rows[0]["XS"] or 0) + 1
    rows[1]["disciplined"] = True
    delta = appcore.harvest_edits(WARD_LOADED, rows, delta)
    assert set(delta["votes"]) == {"DV-K1-01"} and delta["facts"] == {"DV-K1-02": {"disciplined": True}}
    again = appcore.editor_rows(WARD_LOADED, ["DV-K1-01", "DV-K1-02"], delta)
    assert again[1]["disciplined"] is True  # the editor shows the edit
    back = appcore.editor_rows(WARD_LOADED, ["DV-K1-01", "DV-K1-02"], appcore.empty_delta())
    delta = appcore.harvest_edits(WARD_LOADED, back, delta)
    assert not delta["votes"] and not delta["facts"]


def test_the_tree_is_well_formed_and_marks_exactly_the_changes():
    result = solve(WARD_LOADED)
    root = appcore.tree_roots(WARD_LOADED)[0]
    tree = appcore.tree_data(WARD_LOADED, result, root)
    ids = tree["ids"]
    assert len(ids) == len(set(ids)) == len(WARD_LOADED.case.subjects)  # one grassroots org holds everyone
    assert all(p == "" or p in set(ids) for p in tree["parents"])
    changed = {c.id for c in result.changes}
    assert {i for i, mark in zip(ids, tree["changed"]) if mark} == changed
    small = appcore.tree_data(WARD_LOADED, result, root, max_nodes=50)
    assert small["members_hidden"] and all(SUBJECTS[i].kind.value != "member" for i in small["ids"])


def test_the_quota_ranking_orders_candidates_by_xs_ballots():
    result = solve(WARD_LOADED)
    ranking = appcore.quota_ranking(WARD_LOADED, result, quota_lowered_member())
    shares = [appcore.xs_share(WARD_LOADED, r["Mã"])[0] for r in ranking["rows"] if not SUBJECTS[r["Mã"]].target]
    assert len(shares) >= 2 and shares == sorted(shares, reverse=True)


def test_keep_cost_gives_the_conflict_when_the_level_cannot_hold():
    result = solve(WARD_LOADED)
    cost = appcore.keep_cost(WARD_LOADED, result, "CB-K1", Level.T)
    assert not cost["possible"] and cost["conflicts"]
    assert "KHÔNG THỂ" in cost["lines"][0]


def test_subject_filters():
    result = solve(WARD_LOADED)
    rows = appcore.subject_rows(WARD_LOADED, result)
    assert len(rows) == len(WARD_LOADED.case.subjects)
    lowered = appcore.filter_subjects(rows, states=["hạ mức"])
    assert {r["Mã"] for r in lowered} == {sid for sid in EXPECT["levels"]
                                         if expected(sid) < SUBJECTS[sid].target_level()}
    assert appcore.filter_subjects(rows, query="tân lợi") and not appcore.filter_subjects(rows, query="không có ai")
