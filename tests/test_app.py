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
from solver.audit import sha256_text
from solver.engine.solve import solve

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app_streamlit.py"
WARD = ROOT / "scenarios" / "phuong_tan_loi_2018.json"
BAD = ROOT / "tests" / "data" / "bad"
TIMEOUT = 60
PAGES = ["du_lieu", "ket_qua", "nhom_ty_le", "so_do", "gia_dinh", "giai_trinh", "bao_cao", "nhat_ky", "quy_dinh"]

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


@pytest.fixture(autouse=True)
def case_folder(tmp_path, monkeypatch):
    """Every app test works in its own case folder (uploads are kept there); the audit log stays off
    (tests/conftest.py) unless a test turns it on."""
    folder = tmp_path / "ho_so"
    monkeypatch.setenv("XEPLOAI_CASE_DIR", str(folder))
    return folder


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


def lock(at: AppTest, sid: str, level: str, reason: str | None = "Ban Thường vụ quyết định giữ mức",
         author: str | None = "btc-01") -> AppTest:
    """Lock ``sid`` at ``level`` on the «Giả định» page with a reason and an author (None: left empty)."""
    at.text_input(key="wi_lock_query").input(sid).run()
    at.selectbox(key="wi_lock_subject").set_value(sid)
    at.selectbox(key="wi_lock_level").set_value(level)
    at.text_input(key="wi_lock_reason").input(reason or "")
    at.text_input(key="wi_lock_author").input(author or "")
    at.button(key="wi_lock_add").click().run()
    assert not at.exception, [e.value for e in at.exception]
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
    at = lock(goto(load_ward(app()), "gia_dinh"), sid, "XS")
    at.button(key="wi_solve").click().run()
    assert not at.exception
    moves = frame_with(at, "Giả định")
    row = moves[moves["Mã"] == sid].iloc[0]
    assert (row["Phương án gốc"], row["Giả định"]) == ("T", "XS")
    assert len(moves) >= 2  # the cap still holds: someone else takes his place
    assert any("Chỉ giải lại phần hồ sơ mà giả định chạm tới" in c.value for c in at.caption)
    assert any(d.key == "wi_download" for d in at.get("download_button"))
    goto(at, "ket_qua")
    goto(at, "gia_dinh")  # what the user typed is still there, and so is the comparison
    assert any(f"({sid})" in m.value for m in at.markdown if m.value.startswith("Khóa"))
    assert sid in set(frame_with(at, "Giả định")["Mã"])


def test_locking_a_chi_bo_above_what_its_disciplined_member_allows_reports_the_conflict():
    at = goto(load_ward(app()), "gia_dinh")
    lock(at, "CB-K1", "T")  # a member is disciplined (E2 → K), so S3 caps it at HT
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
    stranger = json.dumps({"whatif": "?", "base": WARD.name, "lock": {"KHONG-CO": "XS"}, "unlock": ["KHONG-CO-2"]})
    at.file_uploader(key="wi_upload").set_value(("la.json", stranger.encode("utf-8"), "application/json"))
    at.run()
    shown = " ".join(e.value for e in at.error)
    assert "không có đối tượng mang mã «KHONG-CO» trong hồ sơ" in shown and "lock.KHONG-CO" in shown
    assert "unlock.KHONG-CO-2" in shown
    assert at.session_state["wi_delta"]["lock"] == {sid: "XS"}


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
    example = ROOT / "tests" / "data" / "examples" / "05_conflicting_locks.json"
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


# ---- the case folder: uploads are kept there and nowhere else ------------------------------------------


def files_under(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("kind", ["json", "xlsx"])
def test_an_upload_is_kept_in_the_case_folder_and_nowhere_else(tmp_path, monkeypatch, case_folder, kind):
    import tempfile

    if kind == "json":
        name, content = "Hồ sơ phường.json", WARD.read_bytes()
    else:
        name, content = "Hồ sơ phường.xlsx", pytest.importorskip("model.excel_template").template_bytes(
            WARD_LOADED.case)
    system_tmp = tmp_path / "tmp"
    system_tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(system_tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    at = app()
    assert not case_folder.exists()  # made on first use only
    at.file_uploader(key="data_upload").set_value((name, content, "application/octet-stream")).run()
    assert not at.exception and not at.error
    assert any(WARD_DATA["name"] in s.value for s in at.subheader)
    assert list(system_tmp.iterdir()) == []  # nothing went through the system's temporary folder
    kept = files_under(tmp_path)
    assert kept == {case_folder / name: content}  # one file in the whole test folder: the upload, whole
    assert oct(case_folder.stat().st_mode & 0o777) == "0o700"
    assert at.session_state["case"]["key"] == name
    # it is offered again from the folder, and opens the same case
    at2 = app()
    at2.selectbox(key="data_folder_file").set_value(name)
    at2.button(key="data_folder_open").click().run()
    assert not at2.error and any(WARD_DATA["name"] in s.value for s in at2.subheader)
    assert at2.session_state["case"]["digest"] == at.session_state["case"]["digest"]


def test_an_invalid_upload_is_not_kept_and_xeploai_names_are_refused(case_folder):
    at = app()
    at.file_uploader(key="data_upload").set_value(("phieu_am.json", (BAD / "negative_votes.json").read_bytes(),
                                                   "application/json")).run()
    assert any("không hợp lệ" in e.value for e in at.error)
    assert not case_folder.exists() or list(case_folder.iterdir()) == []
    at.file_uploader(key="data_upload").set_value(("xeploai-matkhau.json", WARD.read_bytes(),
                                                   "application/json")).run()
    assert "trùng tên tệp riêng của xeploai" in texts(at)
    assert not (case_folder / "xeploai-matkhau.json").exists()


def test_store_upload_keeps_a_safe_name_and_replaces_an_older_version(tmp_path):
    folder = tmp_path / "ho_so"
    first = appcore.store_upload(folder, "../../ngoai/.an.json", WARD.read_bytes())
    assert first.path == folder / "an.json" and first.key == "an.json" and first.path.read_bytes() == WARD.read_bytes()
    edited = json.loads(WARD.read_text(encoding="utf-8"))
    edited["description"] = "bản sửa"
    content = json.dumps(edited, ensure_ascii=False).encode("utf-8")
    second = appcore.store_upload(folder, "an.json", content)
    assert second.path == first.path and second.path.read_bytes() == content and second.digest != first.digest
    assert [p.name for p in folder.iterdir()] == ["an.json"]  # no temporary file left
    assert not (tmp_path / "ngoai").exists()


# ---- committee locks: a reason and an author, or no lock -----------------------------------------------


def test_a_lock_without_reason_or_author_is_refused_in_vietnamese():
    sid = quota_lowered_member()
    at = goto(load_ward(app()), "gia_dinh")
    lock(at, sid, "XS", reason=None)
    assert any("phải ghi lý do" in e.value for e in at.error)
    assert at.session_state["wi_delta"]["lock"] == {}
    lock(at, sid, "XS", author="  ")
    assert any("người quyết định" in e.value for e in at.error) and at.session_state["wi_delta"]["lock"] == {}
    person = next(s for s in WARD_LOADED.case.subjects if s.kind.value == "member" and " " in s.name)
    lock(at, sid, "XS", author=person.name)  # a person's name: the log keeps ids only
    assert any(person.id in e.value and "không lưu họ tên" in e.value for e in at.error)
    lock(at, sid, "XS", reason=f"Theo đề nghị của {appcore._ascii_fold(person.name).upper()}")  # even unaccented
    assert at.session_state["wi_delta"]["lock"] == {}
    lock(at, sid, "XS", reason="Thành tích đột xuất", author="btc-01")
    assert not at.error and at.session_state["wi_delta"]["lock"] == {sid: "XS"}
    line = next(m.value for m in at.markdown if m.value.startswith("Khóa") and f"({sid})" in m.value)
    assert "Thành tích đột xuất" in line and "btc-01" in line
    assert at.session_state["lock_notes"][sid] == {"level": "XS", "reason": "Thành tích đột xuất", "author": "btc-01"}


def test_lock_note_checks_every_field():
    sid = quota_lowered_member()
    assert appcore.lock_note(WARD_LOADED, sid, "T", "  Họp   lại ", " btc-01 ") == {
        "level": "T", "reason": "Họp lại", "author": "btc-01"}
    assert appcore.lock_note(WARD_LOADED, sid, None, "Bỏ khóa", "BTV")["level"] is None
    for reason, author, fragment in [("", "btc", "lý do"), ("x", "", "người quyết định"), ("", "", "lý do và"),
                                     ("x" * 501, "btc", "quá dài"), ("x", "y" * 81, "quá dài")]:
        with pytest.raises(appcore.LockRefused, match=fragment):
            appcore.lock_note(WARD_LOADED, sid, "T", reason, author)
    with pytest.raises(appcore.LockRefused, match="Chưa bỏ khóa"):
        appcore.lock_note(WARD_LOADED, sid, None, "", "btc")
    org = next(s for s in WARD_LOADED.case.subjects if s.kind.value == "party_org")
    assert appcore.lock_note(WARD_LOADED, sid, "T", f"Theo kết luận của {org.name}", "btc")  # not a person


def test_the_saved_whatif_carries_reasons_and_authors_in_its_description_and_reads_back():
    whatif = pytest.importorskip("model.whatif")
    sid = quota_lowered_member()
    delta = {**appcore.empty_delta("Nếu giữ?", WARD.name), "lock": {sid: "XS", "CB-K2": "T"}}
    notes = {sid: {"level": "XS", "reason": "Thành tích | đột xuất", "author": "btc-01"}}
    text = appcore.whatif_text(delta, notes)
    data = json.loads(text)
    assert sid in data["description"] and "Thành tích | đột xuất" in data["description"]
    assert "CB-K2" not in data["description"]  # a lock without a note is not described
    parsed = whatif.parse_whatif(data)  # the what-if format takes it as it is
    assert parsed.lock == {sid: Level.XS, "CB-K2": Level.T}
    applied = whatif.apply_whatif(WARD_DATA, data)
    assert {s["id"]: s.get("lock") for s in applied["subjects"]}[sid] == "XS"
    assert appcore.notes_from_description(data["description"]) == notes
    assert appcore.delta_from_file(data) == {**delta, "profile": None}
    assert appcore.whatif_text(delta) == appcore.whatif_text(delta, {})  # no notes: as before, no description
    assert "description" not in json.loads(appcore.whatif_text(delta))


def test_every_shipped_whatif_file_still_opens_without_notes():
    files = sorted((ROOT / "scenarios" / "whatif").glob("*.json"))
    assert files
    for path in files:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("rerate"):
            continue
        delta = appcore.delta_from_file(data, path.name)
        assert appcore.notes_from_description(data.get("description")) == {}
        assert appcore.missing_notes(delta, {}) == appcore.decisions(delta)


def test_a_reopened_whatif_restores_its_notes_and_one_without_notes_cannot_be_solved():
    sid = quota_lowered_member()
    delta = {**appcore.empty_delta("Nếu giữ?", WARD.name), "lock": {sid: "XS"}}
    at = goto(load_ward(app()), "gia_dinh")
    bare = appcore.whatif_text(delta).encode("utf-8")
    at.file_uploader(key="wi_upload").set_value(("khong_ly_do.json", bare, "application/json")).run()
    assert at.button(key="wi_solve").disabled
    assert any("chưa ghi «Lý do»" in w.value for w in at.warning)
    noted = appcore.whatif_text(delta, {sid: {"level": "XS", "reason": "Thành tích", "author": "btc-01"}})
    at.file_uploader(key="wi_upload").set_value(("co_ly_do.json", noted.encode("utf-8"), "application/json")).run()
    assert not at.button(key="wi_solve").disabled
    assert at.session_state["lock_notes"] == {sid: {"level": "XS", "reason": "Thành tích", "author": "btc-01"}}


def ward_with_lock(sid: str, level: str) -> bytes:
    data = json.loads(WARD.read_text(encoding="utf-8"))
    next(s for s in data["subjects"] if s["id"] == sid)["lock"] = level
    return json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")


def test_lifting_a_base_lock_asks_for_a_reason_and_an_author(monkeypatch, case_folder):
    monkeypatch.setenv("XEPLOAI_AUDIT", "")
    sid = quota_lowered_member()
    at = app()
    at.file_uploader(key="data_upload").set_value(("khoa.json", ward_with_lock(sid, "XS"), "application/json")).run()
    goto(at, "gia_dinh")
    at.selectbox(key="wi_unlock_subject").set_value(sid)
    at.button(key="wi_unlock_add").click().run()
    assert any("Chưa bỏ khóa" in e.value for e in at.error) and at.session_state["wi_delta"]["unlock"] == []
    at.text_input(key="wi_unlock_reason").input("Hội nghị xem xét lại")
    at.text_input(key="wi_unlock_author").input("BTV")
    at.button(key="wi_unlock_add").click().run()
    assert at.session_state["wi_delta"]["unlock"] == [sid]
    at.button(key="wi_solve").click().run()
    assert not at.exception
    moves = frame_with(at, "Giả định")
    assert moves[moves["Mã"] == sid].iloc[0]["Giả định"] == "T"  # unlocked, the cap lowers him again
    log = frame_with(goto(at, "nhat_ky"), "Lý do")
    lifted = log[log["Việc"] == "Bỏ khóa"].iloc[0]
    assert (lifted["Đối tượng"], lifted["Lý do"], lifted["Người quyết định"], lifted["Mức khóa"]) == (
        sid, "Hội nghị xem xét lại", "BTV", "bỏ khóa")


# ---- the history of a case (page «Nhật ký») -----------------------------------------------------------


def test_the_history_page_shows_solves_locks_and_downloads_newest_first(monkeypatch, case_folder):
    monkeypatch.setenv("XEPLOAI_AUDIT", "")  # on, in the case folder
    from solver.audit import DEFAULT_NAME, AuditLog, sha256_bytes

    def logs_beside_scenarios() -> dict:
        # the CLI logs beside the case it solves (README's first command does, in scenarios/): those
        # files are not the app's; the app must neither create nor touch any there
        return {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in (ROOT / "scenarios").rglob(DEFAULT_NAME + "*")}

    before = logs_beside_scenarios()
    sid = quota_lowered_member()
    at = goto(load_ward(app()), "ket_qua")
    goto(at, "gia_dinh")
    lock(at, sid, "XS", reason="Thành tích đột xuất", author="btc-01")
    for _ in range(2):  # solving again (or any rerun) records nothing new
        at.button(key="wi_solve").click().run()
    goto(at, "ket_qua")
    goto(at, "bao_cao")
    next(d for d in at.get("download_button") if d.key == "report_json").click().run()
    assert not at.exception
    assert (case_folder / DEFAULT_NAME).exists()
    assert logs_beside_scenarios() == before  # shipped scenarios stay read-only

    goto(at, "nhat_ky")
    assert any("Nhật ký nguyên vẹn: 4 bản ghi" in s.value for s in at.success)
    table = frame_with(at, "Việc")
    assert list(table.columns) == ["Số", "Thời gian", "Việc", "Bộ quy định", "Trạng thái", "Số thay đổi",
                                   "Mã kết quả", "Đối tượng", "Mức khóa", "Lý do", "Người quyết định", "Tệp",
                                   "Phiên bản hồ sơ"]
    assert list(table["Việc"]) == ["Xuất tệp: kết quả JSON", "Giải giả định", "Khóa mức", "Xếp loại"]
    assert list(table["Số"]) == [4, 3, 2, 1]
    export, what, locked, base = (table.iloc[i] for i in range(4))
    base_result = solve(WARD_LOADED)
    assert base["Trạng thái"] == "tối ưu, đã chứng minh" and base["Số thay đổi"] == str(EXPECT["objective"]["changed"])
    assert base["Bộ quy định"] == "bmt-2018"
    assert base["Mã kết quả"] == sha256_text(base_result.dumps())[:12]
    assert base["Phiên bản hồ sơ"] == sha256_bytes(WARD.read_bytes())[:12] == locked["Phiên bản hồ sơ"]
    assert what["Phiên bản hồ sơ"] != base["Phiên bản hồ sơ"]  # the what-if is another version of the case
    assert (locked["Đối tượng"], locked["Mức khóa"], locked["Lý do"], locked["Người quyết định"]) == (
        sid, "XS", "Thành tích đột xuất", "btc-01")
    assert export["Tệp"] == "phuong_tan_loi_2018_ket_qua.json"
    assert export["Mã kết quả"] == sha256_text(base_result.dumps())[:12]
    with AuditLog(case_folder / DEFAULT_NAME) as log:
        events = log.history()
    assert {e["case_key"] for e in events} == {f"scenarios/{WARD.name}"}
    assert events[-1]["sha256"] == sha256_text(base_result.dumps())
    raw = b"".join(p.read_bytes() for p in case_folder.glob(DEFAULT_NAME + "*"))
    assert SUBJECTS[sid].name.encode("utf-8") not in raw  # ids, not names


def test_the_history_joins_the_versions_of_an_uploaded_case_and_older_records(monkeypatch, case_folder):
    monkeypatch.setenv("XEPLOAI_AUDIT", "")
    from solver.audit import DEFAULT_NAME, AuditLog, sha256_bytes

    sid = quota_lowered_member()
    first, second = WARD.read_bytes(), ward_with_lock(sid, "XS")
    case_folder.mkdir()
    with AuditLog(case_folder / DEFAULT_NAME) as log:  # as an older xeploai wrote it: no case key
        log.record_solve(case_hash=sha256_bytes(first), case_name="cũ", profile="bd-2020", options={},
                         result_hash=None, status="error", changed=None, wall_time=0.0)
        log.record_solve(case_hash=sha256_text("khác"), case_name="khác", profile="bmt-2018", options={},
                         result_hash=None, status="error", changed=None, wall_time=0.0)
    at = app()
    at.file_uploader(key="data_upload").set_value(("phuong.json", first, "application/json")).run()
    goto(at, "ket_qua")
    goto(at, "du_lieu")
    at.file_uploader(key="data_upload").set_value(("phuong.json", second, "application/json")).run()
    assert (case_folder / "phuong.json").read_bytes() == second
    goto(at, "ket_qua")
    goto(at, "nhat_ky")
    table = frame_with(at, "Việc")
    assert list(table["Số"]) == [4, 3, 1]
    assert list(table["Phiên bản hồ sơ"]) == [sha256_bytes(second)[:12], sha256_bytes(first)[:12],
                                             sha256_bytes(first)[:12]]
    assert table.iloc[2]["Trạng thái"] == "lỗi bộ giải" and table.iloc[2]["Bộ quy định"] == "bd-2020"
    assert any("tệp phuong.json" in m.value for m in at.markdown)


def test_a_tampered_log_is_reported_on_the_history_page(monkeypatch, case_folder):
    import sqlite3

    monkeypatch.setenv("XEPLOAI_AUDIT", "")
    from solver.audit import DEFAULT_NAME

    at = goto(load_ward(app()), "ket_qua")
    db = sqlite3.connect(case_folder / DEFAULT_NAME)
    db.execute("DROP TRIGGER solves_no_update")
    db.execute("UPDATE solves SET changed = 0")
    db.commit()
    db.close()
    goto(at, "nhat_ky")
    assert any("dấu hiệu bị can thiệp" in e.value and "bản ghi 1 đã bị sửa" in e.value for e in at.error)


def test_the_history_page_says_when_the_log_is_off_or_empty(monkeypatch, case_folder):
    at = goto(load_ward(app()), "nhat_ky")  # tests/conftest.py: XEPLOAI_AUDIT=off
    assert any("đang tắt" in i.value for i in at.info)
    assert not case_folder.exists()  # nothing written, not even the folder
    monkeypatch.setenv("XEPLOAI_AUDIT", "")
    at = goto(load_ward(app()), "nhat_ky")
    assert any("chưa có bản ghi nào" in i.value for i in at.info)
    assert not case_folder.exists()  # looking does not create the log


def test_the_log_can_live_elsewhere(monkeypatch, case_folder, tmp_path):
    from solver.audit import AuditLog

    elsewhere = tmp_path / "rieng" / "nhat_ky.sqlite"
    monkeypatch.setenv("XEPLOAI_AUDIT", str(elsewhere))
    at = goto(load_ward(app()), "ket_qua")
    assert not case_folder.exists()
    with AuditLog(elsewhere) as log:
        assert [e["kind"] for e in log.history()] == ["solve"]
    assert any("nhat\\_ky.sqlite" in c.value for c in at.sidebar.caption)


def test_case_history_rows_speak_vietnamese(tmp_path):
    from solver.audit import AuditLog

    h = sha256_text("x")
    with AuditLog(tmp_path / "log.sqlite") as log:
        log.record_solve(case_hash=h, case_name="A — giả định: Nếu?", profile="bmt-2018", options={}, result_hash=h,
                         status="feasible", changed=3, wall_time=1.0, case_key="a.json")
        log.record_export(h, "docx", "a_bao_cao.docx", h, case_key="a.json")
        events = log.history()
    rows = appcore.history_rows(events)
    assert [r["Việc"] for r in rows] == ["Xuất tệp: báo cáo Word", "Giải giả định"]
    assert rows[1]["Trạng thái"] == "khả thi, chưa chứng minh tối ưu" and rows[1]["Số thay đổi"] == "3"
    assert appcore.verify_words([], 2) == (True, "Nhật ký nguyên vẹn: 2 bản ghi, chuỗi mã băm không đứt, không bản ghi "
                                                 "nào bị sửa hay xóa.")
    assert appcore.local_time("2018-12-15T01:02:03.000000+00:00").count("/") == 2


def test_downloading_the_whatif_file_is_logged_with_its_bytes(monkeypatch, case_folder):
    monkeypatch.setenv("XEPLOAI_AUDIT", "")
    from solver.audit import DEFAULT_NAME, AuditLog

    sid = quota_lowered_member()
    at = lock(goto(load_ward(app()), "gia_dinh"), sid, "XS", reason="Thành tích", author="btc-01")
    button = next(d for d in at.get("download_button") if d.key == "wi_download")
    button.click().run()
    assert not at.exception
    with AuditLog(case_folder / DEFAULT_NAME) as log:
        exported = [e for e in log.history() if e["kind"] == "export"]
    assert [(e["export_kind"], e["path"]) for e in exported] == [("whatif", "phuong_tan_loi_2018_gia_dinh.json")]
    delta = {**appcore.empty_delta("", WARD.name), "lock": {sid: "XS"}}
    expected = appcore.whatif_text(delta, {sid: {"level": "XS", "reason": "Thành tích", "author": "btc-01"}})
    assert exported[0]["sha256"] == sha256_text(expected)


def test_the_apps_whatif_session_answers_as_a_full_solve_of_the_applied_case():
    """The «Giả định» page solves on an incremental session of the base: each answer is the full solve of
    the case ``apply_delta`` makes (levels, changes and their reasons, status, objective), verified."""
    from solver.verify import verify

    sid = quota_lowered_member()
    session = appcore.WhatIfSession(WARD_LOADED, WARD_DATA, 60, 2)
    assert session.result.dumps() == solve(WARD_LOADED).dumps()
    deltas = [
        {**appcore.empty_delta("Giữ?", WARD.name), "lock": {sid: "XS"}},
        {**appcore.empty_delta("Kỷ luật?", WARD.name), "facts": {"DV-K3-01": {"disciplined": True}}},
        {**appcore.empty_delta("Phiếu?", WARD.name), "votes": {"DV-QS-01": {"XS": 9, "T": 6, "TB": 0, "K": 0}}},
        {**appcore.empty_delta("Cơ số?", WARD.name), "options": {"cap_base": "good_and_above"}},
        {**appcore.empty_delta("Mâu thuẫn?", WARD.name), "lock": {"CB-K1": "T"}},
    ]
    modes = []
    for delta in deltas:
        what, result, mode = session.solve(delta, WARD.name)
        modes.append(mode)
        full = solve(parse_case(appcore.apply_delta(WARD_DATA, delta)))
        assert (result.status, result.levels, result.changed, result.steps) == (
            full.status, full.levels, full.changed, full.steps), delta["whatif"]
        assert result.to_json()["changes"] == full.to_json()["changes"]
        assert result.to_json().get("conflicts") == full.to_json().get("conflicts")
        if result.levels:
            assert verify(what, result.levels) == []
    assert modes[:3] == ["incremental"] * 3 and modes[3] == "full"
    with pytest.raises(CaseInvalid) as err:
        session.solve({**appcore.empty_delta("?", WARD.name), "lock": {"KHONG-CO": "XS"}}, WARD.name)
    assert "KHONG-CO" in str(err.value.problems[0])


def status_lines(box) -> list[str]:
    return [str(m.value) for m in box.children.values() if getattr(m, "type", "") == "markdown"]


def test_a_first_solve_lists_the_solvers_steps_and_a_rerun_does_not_solve_again():
    at = app()
    at.number_input(key="solve_time_limit").set_value(57.0)  # settings no other test uses: not solved yet
    load_ward(at)
    goto(at, "ket_qua")
    [box] = at.status
    assert box.state == "complete" and box.label.startswith("Đã giải xong trong ") and box.label.endswith(" giây.")
    lines = status_lines(box)
    steps = ["Đang tính mức cao nhất mỗi đối tượng được phép (lan truyền các quy định)…",
             "Đang kiểm tra độc lập mọi quy định trên kết quả…", "Đang lập giải trình cho từng thay đổi…"]
    for step in steps:  # in the order the solver takes them, each with the time since the start
        assert sum(1 for line in lines if line.endswith(" giây — " + step)) == 1, (step, lines)
    order = [next(i for i, s in enumerate(steps) if line.endswith(s)) for line in lines if any(s in line for s in steps)]
    assert order == sorted(order)
    goto(at, "nhom_ty_le")  # another page, same case and settings: the solve is kept, no box
    assert not at.status
    at.number_input(key="solve_time_limit").set_value(58.0).run()  # new settings: solved again, with its steps
    assert len(at.status) == 1 and at.status[0].state == "complete"


def test_a_whatif_solved_in_full_lists_its_steps_and_is_not_solved_again_on_a_rerun():
    at = goto(load_ward(app()), "gia_dinh")
    at.selectbox(key="wi_opt_cap_base").set_value("good_and_above").run()
    at.button(key="wi_solve").click().run()
    assert not at.exception
    boxes = [b for b in at.status if any("Đang lập giải trình cho từng thay đổi…" in line for line in status_lines(b))]
    assert len(boxes) == 1 and boxes[0].state == "complete"
    at.run()
    assert not at.status
    assert any("Cơ số" in str(v) for v in frame_with(at, "Tùy chọn")["Tùy chọn"])


def test_the_session_shelf_solves_a_case_once_and_keeps_the_most_recent():
    shelf = appcore.SessionShelf(size=2)
    made = []

    def make(tag):
        def solve_it():
            made.append(tag)
            return tag
        return solve_it

    assert shelf.get_or_solve("a", make("a")) == "a" and shelf.get_or_solve("a", make("a2")) == "a"
    shelf.get_or_solve("b", make("b"))
    shelf.get("a")  # used: now the most recent
    shelf.get_or_solve("c", make("c"))
    assert made == ["a", "b", "c"] and shelf.get("b") is None and shelf.get("a") == "a"


def test_a_solver_error_in_a_whatif_marks_the_steps_box_and_says_so_in_words(monkeypatch):
    at = app()
    at.number_input(key="solve_time_limit").set_value(56.0)  # settings no other test uses: nothing kept yet
    goto(load_ward(at), "gia_dinh")
    at.selectbox(key="wi_opt_cap_base").set_value("good_and_above").run()

    def broken(self, delta, file="", base_file=None):
        raise RuntimeError("lỗi giả lập")

    monkeypatch.setattr("solver.engine.incremental.Session.apply", broken)
    at.button(key="wi_solve").click().run()
    assert not at.exception
    assert [b.state for b in at.status] == ["error"]
    assert at.status[0].label.endswith("Không có kết quả — xem thông báo bên dưới.")
    assert any("Bộ giải gặp lỗi nội bộ và không đưa ra kết quả: lỗi giả lập" in e.value for e in at.error)


def test_a_rerun_asked_during_a_solve_lets_it_finish_and_is_obeyed_after(monkeypatch):
    """Streamlit raises its rerun (the user clicked on another page) at the next element written: the
    progress line. The solve must go on to its end (kept for the next run), then the rerun happens."""
    import app_pages.shared as shared

    class Rerun(BaseException):  # what Streamlit's control exceptions are: not an Exception
        pass

    class Box:
        lines: list = []

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def write(self, text):
            self.lines.append(text)
            raise Rerun

        def update(self, **kwargs):
            raise AssertionError("the box is not updated once a rerun is asked")

    monkeypatch.setattr(shared.st, "status", lambda *a, **k: Box())
    steps = []

    def work(say):
        for step in ("một", "hai", "ba"):
            say(step)
            steps.append(step)
        return "kết quả"

    with pytest.raises(Rerun):
        shared.with_progress("Đang giải…", work)
    assert steps == ["một", "hai", "ba"] and len(Box.lines) == 1


def test_a_second_asker_waits_for_the_running_solve_and_is_told_so():
    import threading

    shelf = appcore.SessionShelf(size=2)
    release, started, made, told = threading.Event(), threading.Event(), [], []

    def slow():
        started.set()
        release.wait(10)
        made.append("first")
        return "phiên"

    first = threading.Thread(target=lambda: shelf.get_or_solve("a", slow))
    first.start()
    started.wait(10)
    threading.Timer(0.2, release.set).start()
    got = shelf.get_or_solve("a", lambda: made.append("second") or "khác", lambda: told.append("chờ"))
    first.join(10)
    assert got == "phiên" and made == ["first"] and told == ["chờ"]
    assert shelf.get_or_solve("b", lambda: "b", lambda: told.append("không chờ")) == "b" and told == ["chờ"]
