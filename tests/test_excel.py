"""The committee's workbook: what people type imports and solves, every error is listed at its cell, round trips hold."""

from __future__ import annotations

import argparse
import io
import re
import unicodedata
import zipfile
from pathlib import Path

import openpyxl
import pytest

from model.catalogue import load_catalogue

from model.case import Case, Kind
from model.errors import CaseInvalid, InputProblem
from model.excel import (
    GROUP_COLUMNS,
    KIND_SHEETS,
    REQUIRED_SHEETS,
    SETTING_COLUMNS,
    SHEET_GROUPS,
    SHEET_SETTINGS,
    SUBJECT_COLUMNS,
    load_workbook_case,
    loose_key,
    read_workbook,
    read_workbook_with_origins,
)
from model.excel_template import LEVEL_CHOICES, TIER_CHOICES, example_case, template_bytes
from model.levels import Level
from model.loader import load_case, parse_case
from solver.commands.workbook import cmd_import, cmd_template, write_template
from solver.engine.solve import SolveOptions, solve

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "tests" / "data" / "examples").glob("*.json"))
SCENARIOS = sorted((ROOT / "scenarios").glob("**/*.json"))

ORG, MEMBER, COLL, LEADER, UNIT = (KIND_SHEETS[k] for k in Kind)


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def headers(kind: Kind) -> list[str]:
    return [c.header for c in SUBJECT_COLUMNS[kind] if c.standard]


def book(path: Path, sheets: dict[str, list[list]]) -> Path:
    """Write an .xlsx with exactly these sheets (name → rows, the first row being the header)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def empty_sheets() -> dict[str, list[list]]:
    """Every required sheet with its headers and no data."""
    sheets = {KIND_SHEETS[k]: [headers(k)] for k in Kind}
    sheets[SHEET_GROUPS] = [[c.header for c in GROUP_COLUMNS]]
    sheets[SHEET_SETTINGS] = [[c.header for c in SETTING_COLUMNS[:2]], ["Tên hồ sơ", "Thử"]]
    return sheets


def problems_of(path: Path) -> list[InputProblem]:
    with pytest.raises(CaseInvalid) as info:
        load_workbook_case(path)
    return info.value.problems


def at(problems: list[InputProblem], sheet: str, row: int | None, column_letter: str | None = None) -> list[InputProblem]:
    """The problems at a sheet, row and (by letter) column."""
    out = []
    for p in problems:
        if p.sheet != sheet or p.row != row:
            continue
        if column_letter is not None and (p.column is None or p.column.split(" ")[0] != column_letter):
            continue
        out.append(p)
    return out


def run_import(src: Path, out: Path, capsys) -> tuple[int, str]:
    code = cmd_import(argparse.Namespace(workbook=str(src), out=str(out)))
    return code, capsys.readouterr().out


# ---------------------------------------------------------------------------------------------
# A workbook filled in as people do
# ---------------------------------------------------------------------------------------------


def user_workbook(path: Path) -> Path:
    """Mixed level spellings, NFD text, 15.0 and numbers as text, columns reordered, blank rows, stray spaces."""
    sheets = empty_sheets()
    sheets[nfd(ORG)] = [
        ["STT", "Cấp", " tên ", "MÃ", "Thuộc (mã tổ chức đảng)", "Phiếu XS", "Phiếu tốt", "Phiếu  Trung bình",
         "phiếu kém", "Số người biểu quyết", "Mức đề xuất", "Ghi chú"],
        [1, "TCCSĐ", nfd("Đảng bộ phường Tân Lợi "), " DB ", None, 3, "12", 0.0, None, 15.0, None, "ghi chú riêng"],
        [None] * 12,
        [2, "chi bộ trực thuộc", nfd("Chi bộ khu phố 1"), "CB1", "DB", "9", 5, 1, 0, "15", None, None],
        [3, "Chi bộ trực thuộc / đảng bộ bộ phận", "Chi bộ khu phố 2", "CB2", "DB\u00a0", None, None, None, None,
         None, "hoàn thành tốt nhiệm vụ", None],
    ]
    del sheets[ORG]
    sheets[MEMBER] = [
        ["Họ và tên", "Mã", "Thuộc (mã tổ chức đảng)", "Mức đề xuất", "Xếp loại công chức", "Bị kỷ luật",
         "Số tháng nghỉ ốm", "Là cấp ủy viên"],
        [nfd("Nguyễn Văn Ân"), "DV1", "CB1", "HTXSNV", None, None, None, "x"],
        [nfd("Trần Thị Bích"), "DV2", "CB1", "  xs ", "Hoàn thành xuất sắc nhiệm vụ", "Không", None, None],
        [None, None, None, None, None, None, None, None],
        ["Lê Văn Cư", "DV3", "CB1", "Hoàn thành tốt nhiệm vụ", "httnv", None, "3,5", None],
        ["Phạm Thị Dịu", "DV4", "CB2", "T", None, None, None, None],
        ["Hồ Văn Em", "DV5", "CB2", "HTNV", None, "Có", None, None],
        ["Võ Thị Gấm", "DV6", "CB2", "khtnv", None, False, 0, None],
    ]
    sheets[COLL] = [
        ["Nhóm", "Mã", "Tên", "Lãnh đạo (mã)", "Phiếu XS", "Phiếu Tốt"],
        ["chi_uy", "CU1", "Chi ủy khu phố 1", "CB1", 10.0, 5],
    ]
    sheets[LEADER] = [
        ["Mã", "Họ và tên", "Đứng đầu (mã tập thể)", "Nhóm", "Mức đề xuất", "Mới chuyển đến"],
        ["BT1", nfd("Đỗ Văn Hải"), "CU1", "bi_thu_chi_bo", "Hoàn thành tốt nhiệm vụ", "true"],
    ]
    sheets[UNIT] = []  # an empty sheet, not even headers
    sheets[SHEET_SETTINGS] = [
        ["Mục", "Giá trị", "Giải thích"],
        ["  tên hồ sơ", nfd("  Xếp loại 2024 phường Tân Lợi "), None],
        ["Bộ quy định", "Hai hướng dẫn Buôn Ma Thuột 2018 và Bù Đăng 2020", None],
        ["cap_base", "GOOD_ONLY", None],
        ["Cho phép nâng mức so với mức biểu quyết", "Không", None],
        ["Tỷ lệ tối đa Hoàn thành xuất sắc nhiệm vụ (%)", "20", None],
    ]
    return book(path, sheets)


def test_a_workbook_filled_in_by_hand_imports_with_every_spelling_understood(tmp_path):
    loaded = load_workbook_case(user_workbook(tmp_path / "nhap tay.xlsx"))
    case = loaded.case
    s = case.by_id()
    assert case.name == "Xếp loại 2024 phường Tân Lợi"
    assert case.profile == "bmt-bd-2020"  # the dropdown label read back to its profile
    assert case.options.cap_base == "good_only" and case.options.allow_up is False and case.options.cap_percent == 20
    assert s["DB"].name == unicodedata.normalize("NFC", "Đảng bộ phường Tân Lợi")
    assert s["DB"].tier.value == "grassroots" and s["DB"].voters == 15
    assert s["DB"].votes.as_dict() == {"XS": 3, "T": 12, "TB": 0, "K": 0}
    assert s["CB1"].tier.value == "branch" and s["CB1"].votes.as_dict() == {"XS": 9, "T": 5, "TB": 1, "K": 0}
    assert s["CB2"].parent == "DB" and s["CB2"].proposed is Level.T
    assert [s[f"DV{i}"].proposed for i in range(1, 7)] == [Level.XS, Level.XS, Level.T, Level.T, Level.HT, Level.K]
    assert s["DV1"].facts.committee_member and not s["DV2"].facts.disciplined and s["DV5"].facts.disciplined
    assert s["DV2"].facts.civil_servant_level is Level.XS and s["DV3"].facts.civil_servant_level is Level.T
    assert s["DV3"].facts.sick_leave_months == 3.5 and s["DV6"].facts.sick_leave_months == 0
    assert s["BT1"].facts.transferred_in_exempt and s["BT1"].name == "Đỗ Văn Hải"
    assert s["CU1"].votes.XS == 10 and s["CU1"].category == "chi_uy"
    # the sheets' order, then the rows' order, with blank rows skipped
    assert [x.id for x in case.subjects] == ["DB", "CB1", "CB2", "DV1", "DV2", "DV3", "DV4", "DV5", "DV6", "CU1", "BT1"]
    assert all(unicodedata.is_normalized("NFC", x.name) for x in case.subjects)


def test_a_workbook_filled_in_by_hand_solves_optimally(tmp_path):
    loaded = load_workbook_case(user_workbook(tmp_path / "nhap.xlsx"))
    result = solve(loaded, SolveOptions(time_limit=20, workers=2))
    assert result.status == "optimal"
    assert result.levels["DV5"] is Level.K  # disciplined (E2), whatever was proposed


def test_check_and_solve_accept_the_workbook_through_load_case(tmp_path):
    path = user_workbook(tmp_path / "nhap.xlsx")
    assert load_case(path).case == load_workbook_case(path).case
    assert parse_case(read_workbook(path), str(path)).case == load_case(path).case


def test_import_writes_the_case_as_json_that_loads_to_the_same_case(tmp_path, capsys):
    src = user_workbook(tmp_path / "nhap.xlsx")
    out = tmp_path / "ho_so.json"
    code, text = run_import(src, out, capsys)
    assert code == 0, text
    raw = out.read_text(encoding="utf-8")
    assert "Tân Lợi" in raw and "\\u" not in raw  # ensure_ascii=False
    assert load_case(out).case == load_workbook_case(src).case
    again = tmp_path / "lan2.json"
    run_import(src, again, capsys)
    assert again.read_bytes() == out.read_bytes()


def test_formula_cells_are_read_by_their_cached_value(tmp_path):
    sheets = empty_sheets()
    sheets[ORG] = [["Mã", "Tên", "Cấp", "Phiếu XS", "Phiếu Tốt"], ["CB", "Chi bộ", "cơ sở", "=1+2", 12]]
    path = book(tmp_path / "congthuc.xlsx", sheets)
    # give the formula a cached value, as Excel does when it saves
    raw = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(raw, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            data = data.replace(b"<f>1+2</f><v></v>", b"<f>1+2</f><v>3</v>")
            dst.writestr(info, data)
    cached = tmp_path / "congthuc_da_tinh.xlsx"
    cached.write_bytes(raw.getvalue())
    assert load_workbook_case(cached).case.by_id()["CB"].votes.XS == 3
    # without a cached value: an error at that cell
    problems = problems_of(path)
    assert len(at(problems, ORG, 2, "D")) == 1 and "công thức" in problems[0].message


# ---------------------------------------------------------------------------------------------
# A broken workbook: every error, at its sheet, row and column; nothing written; exit 2
# ---------------------------------------------------------------------------------------------


def broken_workbook(path: Path) -> Path:
    sheets = empty_sheets()
    sheets[ORG] = [
        ["Mã", "Tên", "Cấp", "Thuộc (mã tổ chức đảng)", "Phiếu XS", "Phiếu Tốt", "Số người biểu quyết"],
        ["CB", "Chi bộ 1", "cơ sở", None, 9, 6, 15],                    # row 2: fine
        ["CB2", "Chi bộ 2", "cấp xã", None, 9, 6, 15],                  # row 3: tier typo (column C)
    ]
    sheets[MEMBER] = [
        ["Mã", "Họ và tên", "Thuộc (mã tổ chức đảng)", "Phiếu XS", "Phiếu Tốt", "Phiếu Kém", "Số người biểu quyết",
         "Mức đề xuất"],
        ["DV1", "An", "CB", 5, 10, 0, 15, None],                         # row 2: fine
        ["DV2", "Bình", "CB9", 5, 10, 0, 15, None],                      # row 3: unknown parent (C)
        ["DV1", "Cường", "CB", 5, 10, 0, 15, None],                      # row 4: duplicated id (A)
        ["DV4", "Dung", "CB", None, None, None, None, "Hoàn thành tốt nhiệm"],  # row 5: level typo (H)
        ["DV5", "Em", "CB", 3, -2, 0, 15, None],                         # row 6: negative vote (E)
        ["DV6", "Giang", "CB", 10, 6, 0, 15, None],                      # row 7: more votes than voters (G)
        ["DV7", "Hà", "CB", 15.5, 0, 0, 16, None],                       # row 8: not a whole number (D)
    ]
    sheets["Ghi chép riêng"] = [["một trang không thuộc mẫu"]]
    return book(path, sheets)


def test_a_broken_workbook_lists_every_error_with_sheet_row_and_column(tmp_path):
    problems = problems_of(broken_workbook(tmp_path / "loi.xlsx"))
    expected = {
        (ORG, 3, "C"): "cấp không hợp lệ",
        (MEMBER, 3, "C"): "CB9",
        (MEMBER, 4, "A"): "trùng",
        (MEMBER, 5, "H"): "mức xếp loại không hợp lệ",
        (MEMBER, 6, "E"): "không được âm",
        (MEMBER, 7, "G"): "lớn hơn số người biểu quyết",
        (MEMBER, 8, "D"): "số nguyên",
    }
    for (sheet, row, letter), words in expected.items():
        found = at(problems, sheet, row, letter)
        assert found, f"không thấy lỗi ở {sheet} dòng {row} cột {letter}: {[str(p) for p in problems]}"
        assert any(words in p.message for p in found), [str(p) for p in found]
    assert any(p.sheet == "Ghi chép riêng" and "không thuộc mẫu" in p.message for p in problems)
    # nothing else: no follow-up error caused by a cell already reported (e.g. "no target" for DV4)
    located = {(p.sheet, p.row, (p.column or "").split(" ")[0]) for p in problems}
    assert located - set(expected) == {("Ghi chép riêng", None, "")}
    assert all(unicodedata.is_normalized("NFC", str(p)) for p in problems)


def test_a_broken_workbook_exits_2_prints_every_error_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "ho_so.json"
    code, text = run_import(broken_workbook(tmp_path / "loi.xlsx"), out, capsys)
    assert code == 2
    assert not out.exists() and not list(tmp_path.glob(".ho_so*"))
    for where in ("trang «Đảng viên», dòng 3, cột C (Thuộc (mã tổ chức đảng))",
                  "trang «Đảng viên», dòng 4, cột A (Mã)",
                  "trang «Đảng viên», dòng 6, cột E (Phiếu Tốt)",
                  "trang «Tổ chức đảng», dòng 3, cột C (Cấp)"):
        assert where in text, text
    assert "Traceback" not in text


def test_a_renamed_sheet_is_named_with_the_sheets_expected(tmp_path):
    sheets = empty_sheets()
    sheets["Dang vien 2024"] = sheets.pop(MEMBER)
    problems = problems_of(book(tmp_path / "ten_trang.xlsx", sheets))
    unknown = [p for p in problems if p.sheet == "Dang vien 2024"]
    assert unknown and all(name in unknown[0].message for name in REQUIRED_SHEETS)
    assert any(p.sheet == MEMBER and "thiếu trang" in p.message for p in problems)


def test_sheet_names_match_without_case_diacritics_or_spaces(tmp_path):
    sheets = empty_sheets()
    sheets.pop(MEMBER)
    sheets.pop(ORG)
    sheets["dang VIEN"] = [["Mã", "Họ và tên", "Thuộc (mã tổ chức đảng)", "Mức đề xuất"], ["DV1", "An", "CB", "T"]]
    sheets["TỔ CHỨC  ĐẢNG"] = [["Mã", "Tên", "Cấp", "Mức đề xuất"], ["CB", "Chi bộ", "cơ sở", "T"]]
    case = load_workbook_case(book(tmp_path / "ten.xlsx", sheets)).case
    assert case.by_id()["DV1"].parent == "CB" and [s.id for s in case.subjects] == ["CB", "DV1"]


def test_unknown_and_duplicated_headers_are_errors_listing_the_known_headers(tmp_path):
    sheets = empty_sheets()
    sheets[MEMBER] = [["Mã", "Họ và tên", "Phieu Tot", "Phiếu Tốt 2", "Phiếu tốt"], ["DV1", "An", 1, 2, 3]]
    sheets[COLL] = [["Mã", "Tên", "Nhóm", "nhóm"]]
    problems = problems_of(book(tmp_path / "cot.xlsx", sheets))
    unknown = at(problems, MEMBER, 1, "D")
    assert len(unknown) == 1 and "Phiếu Tốt 2" in unknown[0].message and "«Số người biểu quyết»" in unknown[0].message
    assert at(problems, MEMBER, 1, "E") and "hai lần" in at(problems, MEMBER, 1, "E")[0].message
    assert at(problems, COLL, 1, "D")


def test_a_missing_id_column_and_data_without_header_are_errors(tmp_path):
    sheets = empty_sheets()
    sheets[UNIT] = [["Tên", "Xếp loại"], ["UBND", "T", "lạc cột"]]
    problems = problems_of(book(tmp_path / "thieu.xlsx", sheets))
    assert any(p.sheet == UNIT and "thiếu cột «Mã»" in p.message for p in problems)
    assert at(problems, UNIT, 2, "C") and "không có tiêu đề" in at(problems, UNIT, 2, "C")[0].message


@pytest.mark.parametrize("content, words", [
    (b"", "rỗng"),
    (b"day la mot tep van ban, khong phai bang tinh", "không phải bảng tính .xlsx"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, ".xls"),
    ("zip-without-workbook", "không phải bảng tính"),
    ("zip-with-broken-workbook", "không đọc được"),
    ("truncated", "không"),
])
def test_a_corrupt_file_is_refused_with_one_clear_error(tmp_path, capsys, content, words):
    path = tmp_path / "hong.xlsx"
    if content == "zip-without-workbook":
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("a.txt", "xin chào")
    elif content == "zip-with-broken-workbook":
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("[Content_Types].xml", "<không phải xml")
            z.writestr("xl/workbook.xml", "<<<")
    elif content == "truncated":
        path.write_bytes(template_bytes()[:5000])
    else:
        path.write_bytes(content)
    problems = problems_of(path)
    assert len(problems) == 1 and words in problems[0].message and problems[0].file == str(path)
    out = tmp_path / "x.json"
    code, text = run_import(path, out, capsys)
    assert code == 2 and not out.exists() and "Traceback" not in text


def test_a_missing_file_is_an_error_not_a_traceback(tmp_path):
    problems = problems_of(tmp_path / "khong_co.xlsx")
    assert "không mở được" in problems[0].message


def test_validation_errors_and_warnings_point_to_the_sheet_row_and_column(tmp_path):
    sheets = empty_sheets()
    sheets[ORG] = [headers(Kind.party_org), ["CB", "Chi bộ", None, "Tổ chức cơ sở đảng", 9, 6]]
    sheets[MEMBER] = [["Mã", "Họ và tên", "Mức đề xuất", "Thuộc (mã tổ chức đảng)"],
                      ["DV1", "An", "T", "CB"],
                      ["DV2", "Bình", "T", None]]                    # a member needs a chi bộ
    sheets[COLL] = [["Mã", "Tên", "Lãnh đạo (mã)", "Mức đề xuất"], ["CU", "Chi ủy", "CB", "T"]]  # no category
    problems = problems_of(book(tmp_path / "kiem.xlsx", sheets))
    assert len(problems) == 1
    assert (problems[0].sheet, problems[0].row, problems[0].column) == (MEMBER, 3, "D (Thuộc (mã tổ chức đảng))")
    sheets[MEMBER].pop()
    loaded = load_workbook_case(book(tmp_path / "kiem2.xlsx", sheets))
    warning = [w for w in loaded.warnings if w.field == "category"]
    assert warning and (warning[0].sheet, warning[0].row) == (COLL, 2)


def test_group_errors_point_to_the_member_row(tmp_path):
    sheets = empty_sheets()
    sheets[ORG] = [["Mã", "Tên", "Cấp", "Mức đề xuất"], ["A", "Chi bộ A", "cơ sở", "T"], ["B", "Chi bộ B", "cơ sở", "T"]]
    sheets[SHEET_GROUPS] = [["Mã nhóm", "Tên nhóm", "Thành viên (mã)"],
                            ["N1", "Khối xã", "A"],
                            ["N1", None, "B"],                    # the name is written once, the id on every row
                            ["N1", None, "KHONG_CO"]]
    problems = problems_of(book(tmp_path / "nhom.xlsx", sheets))
    assert len(problems) == 1 and (problems[0].sheet, problems[0].row) == (SHEET_GROUPS, 4)
    sheets[SHEET_GROUPS].pop()
    case = load_workbook_case(book(tmp_path / "nhom2.xlsx", sheets)).case
    assert case.groups[0].members == ("A", "B") and case.groups[0].name == "Khối xã"


@pytest.mark.parametrize("cell, ok", [
    ("Có", True), ("có", True), ("x", True), ("X", True), ("true", True), (True, True), (1, True),
    ("Không", False), ("không", False), ("false", False), (False, False), (None, False), ("  ", False),
])
def test_booleans_as_people_write_them(tmp_path, cell, ok):
    sheets = empty_sheets()
    sheets[ORG] = [["Mã", "Tên", "Cấp", "Mức đề xuất", "Dưới 50% chỉ tiêu"], ["A", "Chi bộ A", "cơ sở", "T", cell]]
    case = load_workbook_case(book(tmp_path / "b.xlsx", sheets)).case
    assert case.subjects[0].facts.targets_below_half is ok


def test_a_boolean_that_is_neither_yes_nor_no_is_an_error(tmp_path):
    sheets = empty_sheets()
    sheets[ORG] = [["Mã", "Tên", "Cấp", "Mức đề xuất", "Dưới 50% chỉ tiêu"], ["A", "Chi bộ A", "cơ sở", "T", "có lẽ"]]
    problems = problems_of(book(tmp_path / "b.xlsx", sheets))
    assert len(problems) == 1 and at(problems, ORG, 2, "E")


def test_settings_errors_are_at_their_row(tmp_path):
    sheets = empty_sheets()
    sheets[SHEET_SETTINGS] += [["Tỷ lệ tối đa Hoàn thành xuất sắc nhiệm vụ (%)", 150],
                               ["Bộ quy định", "khong-co"],
                               ["Mục lạ", 1]]
    problems = problems_of(book(tmp_path / "tc.xlsx", sheets))
    assert at(problems, SHEET_SETTINGS, 3, "B") and "100" in at(problems, SHEET_SETTINGS, 3, "B")[0].message
    assert at(problems, SHEET_SETTINGS, 5, "A")
    assert at(problems, SHEET_SETTINGS, 4), "the unknown profile is reported at its row"


# ---------------------------------------------------------------------------------------------
# Round trip: template --from, then import, gives the same case
# ---------------------------------------------------------------------------------------------


def full_case() -> Case:
    """Every field of the case format, subjects in an order the sheets alone would not give."""
    data = {
        "name": "Hồ sơ đủ mọi trường",
        "profile": "bd-2020",
        "year": 2020,
        "description": "Mô tả\ncó xuống dòng",
        "options": {"cap_percent": 25, "cap_base": "good_and_above", "small_group_threshold": 4,
                    "small_group_allowance": 0, "allow_up": True, "org_member_discipline": False,
                    "org_k_percent": 25, "units_k_at_least": 3, "sick_leave_months": 4,
                    "head_below_collective": True, "transfer_exemption": False, "several_posts": "follow_main"},
        "rules": {"S3": True, "E9": False},
        "subjects": [
            {"id": "001", "name": "=Đảng bộ (tên bắt đầu bằng dấu bằng)", "kind": "party_org", "tier": "upper",
             "same_level_units": ["U,1", "U2"], "votes": {"XS": 0, "T": 0, "TB": 0, "K": 0}, "target": "T",
             "facts": {"committee_member_disciplined": True, "subordinate_committee_disciplined": True,
                       "standing_committee_disciplined": False, "self_remedied": True, "targets_below_half": False,
                       "criteria": {"task": ["XS", "T"], "other": ["TB"]}}},
            {"id": "L1", "name": "Bí thư", "kind": "leader", "heads": "C1", "category": "bt", "target": "T",
             "lock": "T", "person": "NG-1", "main_post": True,
             "facts": {"transferred_in_exempt": True, "sick_leave_months": 3.5, "maternity_leave": True,
                       "civil_servant_level": "XS", "degeneration": False}},
            {"id": "CB", "name": "Chi bộ", "kind": "party_org", "tier": "grassroots", "parent": "001",
             "votes": {"XS": 9, "T": 6, "TB": 0, "K": 0}, "voters": 16, "may_rise": True, "category": "lạ"},
            {"id": "M1", "name": "Đảng viên mới", "kind": "member", "parent": "CB", "rated": False,
             "facts": {"committee_member": True, "criteria": {"task": [], "other": ["K", "XS"]}}},
            {"id": "M2", "name": "Đảng viên", "kind": "member", "parent": "CB", "proposed": "HT", "person": "NG-1",
             "facts": {"disciplined": True, "self_remedied": True, "sick_leave_months": 2, "violation_org": "001"}},
            {"id": "C1", "name": "Chi ủy", "kind": "collective", "leads": "CB", "category": "chi_uy",
             "decided_by": "001", "target": "XS",
             "facts": {"disunity": True, "disciplined": True, "violations_handled": True}},
            {"id": "U,1", "name": "UBND", "kind": "unit", "category": "chinh_quyen", "level": "HT",
             "facts": {"targets_below_half": True}},
            {"id": "U2", "name": "MTTQ", "kind": "unit", "level": "K", "rated": False, "category": "mat_tran"},
        ],
        "groups": [{"id": "G", "name": "Nhóm chi bộ", "members": ["CB"]}, {"id": "G0", "name": "Rỗng", "members": []}],
        "expect": {"status": "optimal", "objective": {"changed": 1, "steps": 2}, "levels": {"CB": "T", "X": "K"}},
    }
    return parse_case(data, "<full>").case


def _cases() -> list[tuple[str, Case]]:
    out = [("full", full_case()), ("example", example_case())]
    for path in [*EXAMPLES, *SCENARIOS]:
        try:
            out.append((path.name, load_case(path).case))
        except CaseInvalid:  # a what-if file states only a delta: not a case on its own
            continue
    return out


CASES = _cases()


@pytest.mark.parametrize("case", [c for _, c in CASES], ids=[n for n, _ in CASES])
def test_a_case_written_to_the_workbook_reads_back_equal(tmp_path, case):
    path = tmp_path / "ho_so.xlsx"
    write_template(path, case)
    assert load_workbook_case(path).case == case


def test_the_examples_are_all_round_tripped():
    assert len(EXAMPLES) >= 9 and {n for n, _ in CASES} >= {p.name for p in EXAMPLES}


def test_template_from_then_import_gives_back_the_json_case(tmp_path, capsys):
    src = next(p for p in EXAMPLES if p.name.startswith("03"))
    xlsx, back = tmp_path / "ho_so.xlsx", tmp_path / "lai.json"
    assert cmd_template(argparse.Namespace(out=str(xlsx), source=str(src))) == 0
    code, text = run_import(xlsx, back, capsys)
    assert code == 0, text
    assert load_case(back).case == load_case(src).case


def test_levels_are_written_by_official_name(tmp_path):
    path = tmp_path / "ho_so.xlsx"
    write_template(path, full_case())
    ws = openpyxl.load_workbook(path)[LEADER]
    head = [c.value for c in ws[1]]
    row = dict(zip(head, [c.value for c in ws[2]]))
    assert row["Khóa mức"] == "Hoàn thành tốt nhiệm vụ" and row["Xếp loại công chức"] == "Hoàn thành xuất sắc nhiệm vụ"


def test_template_errors_exit_2_and_write_nothing(tmp_path, capsys):
    assert cmd_template(argparse.Namespace(out=str(tmp_path / "a.txt"), source=None)) == 2
    bad = ROOT / "tests" / "data" / "bad" / "duplicate_id.json"
    out = tmp_path / "b.xlsx"
    if bad.exists():
        assert cmd_template(argparse.Namespace(out=str(out), source=str(bad))) == 2
    assert not out.exists() and not (tmp_path / "a.txt").exists()


# ---------------------------------------------------------------------------------------------
# The template itself
# ---------------------------------------------------------------------------------------------


def test_template_has_every_sheet_headers_frozen_and_dropdowns(tmp_path):
    path = tmp_path / "mau.xlsx"
    assert cmd_template(argparse.Namespace(out=str(path), source=None)) == 0
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == "Hướng dẫn"
    assert set(REQUIRED_SHEETS) <= set(wb.sheetnames)

    def lists(ws) -> dict[str, set[str]]:
        """Header → the dropdown choices that cover its column at row 2."""
        out = {}
        head = {c.column_letter: c.value for c in ws[1]}
        for dv in ws.data_validations.dataValidation:
            if dv.type != "list":
                continue
            choices = set(dv.formula1.strip('"').split(","))
            for rng in str(dv.sqref).split():
                letter = re.match(r"[A-Z]+", rng).group(0)
                if rng.startswith(f"{letter}2:"):
                    out[head[letter]] = choices
        return out

    org = wb[ORG]
    assert org.freeze_panes == "C2" and org["A1"].value == "Mã" and org.column_dimensions["B"].width > 20
    org_lists = lists(org)
    assert org_lists["Mức đề xuất"] == set(LEVEL_CHOICES) == {lv.official for lv in Level}
    assert org_lists["Cấp"] == set(TIER_CHOICES)
    assert org_lists["Bị kỷ luật" if "Bị kỷ luật" in org_lists else "Dưới 50% chỉ tiêu"] == {"Có", "Không"}
    assert lists(wb[MEMBER])["Xếp loại công chức"] == set(LEVEL_CHOICES)
    assert lists(wb[UNIT])["Xếp loại"] == set(LEVEL_CHOICES)
    assert lists(wb[SHEET_GROUPS])["Loại đối tượng"] == set(KIND_SHEETS.values())
    settings_lists = [set(dv.formula1.strip('"').split(",")) for dv in wb[SHEET_SETTINGS].data_validations.dataValidation
                      if dv.type == "list"]
    assert {p.short for p in load_catalogue().profiles} <= set().union(*settings_lists)
    for ws in wb.worksheets:  # Excel refuses an inline list longer than 255 characters
        assert all(len(dv.formula1 or "") <= 255 for dv in ws.data_validations.dataValidation)
    assert org["A1"].comment is not None and "duy nhất" in org["A1"].comment.text
    # one column per fact that applies to the kind
    member_heads = {c.value for c in wb[MEMBER][1]}
    assert {"Bị kỷ luật", "Xếp loại công chức", "Số tháng nghỉ ốm", "Là cấp ủy viên"} <= member_heads
    assert "Mất đoàn kết" not in member_heads and "Mất đoàn kết" in {c.value for c in wb[COLL][1]}
    assert wb[MEMBER].max_row > 2  # example rows


def test_the_blank_template_examples_import_and_solve(tmp_path):
    path = tmp_path / "mau.xlsx"
    write_template(path)
    loaded = load_workbook_case(path)
    assert loaded.case == example_case() and {k for k in Kind} == {s.kind for s in loaded.case.subjects}
    assert solve(loaded, SolveOptions(time_limit=20, workers=2)).status == "optimal"


def test_the_workbook_is_byte_identical_for_the_same_case(tmp_path):
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    write_template(a, full_case())
    write_template(b, full_case())
    assert a.read_bytes() == b.read_bytes()
    assert template_bytes() == template_bytes()


def test_headers_are_unambiguous_once_folded():
    for columns in [*SUBJECT_COLUMNS.values(), GROUP_COLUMNS, SETTING_COLUMNS]:
        spellings: dict[str, str] = {}
        for col in columns:
            for s in {col.header, *col.aliases}:
                key = loose_key(s)
                assert spellings.setdefault(key, col.field) == col.field, (s, col.field, spellings[key])


def test_origins_give_the_sheet_and_row_of_each_subject(tmp_path):
    data, origins = read_workbook_with_origins(user_workbook(tmp_path / "nhap.xlsx"))
    where = {s["id"]: (o.sheet, o.row) for s, o in zip(data["subjects"], origins.subjects)}
    assert where["DB"] == (nfd(ORG), 2) and where["CB1"] == (nfd(ORG), 4) and where["DV3"] == (MEMBER, 5)


def test_a_title_above_the_table_prefilled_numbers_and_an_empty_extra_sheet_are_read_past(tmp_path):
    sheets = empty_sheets()
    sheets[ORG] = [["DANH SÁCH TỔ CHỨC ĐẢNG NĂM 2024"], [],
                   ["STT", "Mã", "Tên", "Cấp", "Mức đề xuất"],
                   [1, "CB", "Chi bộ", "cơ sở", "T"],
                   [2, None, None, None, None],
                   [3, None, None, None, None]]
    sheets["Sheet1"] = []
    data, origins = read_workbook_with_origins(book(tmp_path / "tieude.xlsx", sheets))
    assert [s["id"] for s in data["subjects"]] == ["CB"] and origins.subjects[0].row == 4


def test_expected_results_sheet_is_read(tmp_path):
    sheets = empty_sheets()
    sheets[ORG] = [["Mã", "Tên", "Cấp", "Mức đề xuất"], ["CB", "Chi bộ", "cơ sở", "T"]]
    sheets["Kết quả mong đợi"] = [["Mã", "Mức mong đợi"], ["CB", "httnv"], ["CB", "XS"]]
    problems = problems_of(book(tmp_path / "kq.xlsx", sheets))
    assert len(problems) == 1 and at(problems, "Kết quả mong đợi", 3, "A")
    sheets["Kết quả mong đợi"].pop()
    sheets[SHEET_SETTINGS].append(["Trạng thái mong đợi", "optimal"])
    case = load_workbook_case(book(tmp_path / "kq2.xlsx", sheets)).case
    assert case.expect.status == "optimal" and case.expect.levels == {"CB": Level.T}


def test_template_from_a_workbook_writes_the_same_case(tmp_path, capsys):
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    write_template(first, full_case())
    assert cmd_template(argparse.Namespace(out=str(second), source=str(first))) == 0
    assert load_workbook_case(second).case == full_case()
    assert second.read_bytes() == first.read_bytes()


def test_garbage_in_any_cell_never_gives_a_traceback(tmp_path):
    import random

    rng = random.Random(5)
    garbage = [None, "", " ", -1, 0, 1.5, 10**9, True, "#REF!", "=A1+1", "xs", "Có", "DV1", "CB", "\u0301",
               "Hoàn thành", "chi bộ", "1e3", "١٢", "\x00", "a" * 600]
    template = template_bytes()
    for i in range(25):
        src = tmp_path / f"g{i}.xlsx"
        src.write_bytes(template)
        wb = openpyxl.load_workbook(src)
        for _ in range(6):
            ws = wb[rng.choice([*KIND_SHEETS.values(), SHEET_GROUPS, SHEET_SETTINGS])]
            value = rng.choice(garbage)
            try:
                ws.cell(row=rng.randint(1, 12), column=rng.randint(1, 12), value=value)
            except Exception:  # openpyxl refuses some values itself (control characters)
                continue
        wb.save(src)
        try:
            load_workbook_case(src)
        except CaseInvalid as exc:
            assert exc.problems and all(isinstance(p, InputProblem) and p.file == str(src) for p in exc.problems)


# ---------------------------------------------------------------------------------------------
# Issue 18: what the eye does not see (merged cells, hidden rows, columns and sheets) is never read silently
# ---------------------------------------------------------------------------------------------


def ballots_workbook(path: Path) -> Path:
    """One chi bộ; six members with ballots (the issue's case: XS ballots 2, 12, 9, 8 of 15)."""
    sheets = empty_sheets()
    sheets[ORG] = [["Mã", "Tên", "Cấp", "Mức đề xuất"], ["CB", "Chi bộ Khu phố 1", "TCCSĐ", "T"]]
    sheets[MEMBER] = [["Mã", "Họ và tên", "Thuộc (mã tổ chức đảng)", "Phiếu XS", "Phiếu Tốt",
                       "Số người biểu quyết"],
                      ["DV1", "Nguyễn Văn An", "CB", 2, 13, 15], ["DV2", "Trần Thị Bình", "CB", 12, 3, 15],
                      ["DV3", "Lê Văn Cư", "CB", 9, 6, 15], ["DV4", "Phạm Văn Dũng", "CB", 8, 7, 15],
                      ["DV5", "Hồ Thị Em", "CB", 0, 15, 15], ["DV6", "Võ Văn Giang", "CB", 0, 15, 15]]
    return book(path, sheets)


def edit_book(path: Path, change) -> Path:
    wb = openpyxl.load_workbook(path)
    change(wb)
    wb.save(path)
    return path


def test_a_vote_cell_merged_over_two_rows_is_an_error_naming_sheet_rows_and_column(tmp_path, capsys):
    path = edit_book(ballots_workbook(tmp_path / "gop.xlsx"), lambda wb: wb[MEMBER].merge_cells("D2:D3"))
    problems = problems_of(path)
    assert len(problems) == 1  # DV2's blank XS cell is the merge's fault: reported once, not again as no majority
    p = problems[0]
    assert (p.sheet, p.row, p.column) == (MEMBER, 2, "D (Phiếu XS)")
    assert "D2:D3" in p.message and "dòng 2–3" in p.message and "Unmerge" in p.message
    out = tmp_path / "gop.json"
    code, text = run_import(path, out, capsys)
    assert code == 2 and not out.exists() and "ô gộp" in text


def test_a_merge_across_columns_of_a_data_row_is_an_error_too(tmp_path):
    path = edit_book(ballots_workbook(tmp_path / "gop_ngang.xlsx"), lambda wb: wb[MEMBER].merge_cells("D4:E4"))
    problems = problems_of(path)
    assert [(p.row, p.column) for p in problems] == [(4, "D (Phiếu XS)")]
    assert "«Phiếu XS», «Phiếu Tốt»" in problems[0].message


def test_a_merged_title_above_the_table_is_read_past(tmp_path):
    path = ballots_workbook(tmp_path / "tieu_de.xlsx")

    def title(wb):
        ws = wb[MEMBER]
        ws.insert_rows(1)
        ws["A1"] = "DANH SÁCH ĐẢNG VIÊN"
        ws.merge_cells("A1:F1")

    edit_book(path, title)
    loaded = load_workbook_case(path)
    assert loaded.hierarchy.subjects["DV2"].votes.XS == 12 and not loaded.warnings


def test_a_group_id_merged_down_its_member_rows_is_read_as_one_group_and_reported(tmp_path):
    path = ballots_workbook(tmp_path / "nhom.xlsx")

    def groups(wb):
        ws = wb[SHEET_GROUPS]
        for row in (["N1", "Nhóm đặc biệt", None, "DV1"], [None, None, None, "DV2"], [None, None, None, "DV3"]):
            ws.append(row)
        ws.merge_cells("A2:A4")
        ws.merge_cells("B2:B4")

    edit_book(path, groups)
    loaded = load_workbook_case(path)
    assert loaded.case.groups[0].members == ("DV1", "DV2", "DV3")
    merged = [w for w in loaded.warnings if "ô gộp" in w.message]
    assert {(w.sheet, w.row) for w in merged} == {(SHEET_GROUPS, 2)} and len(merged) == 2


def test_hidden_rows_and_columns_are_read_and_reported_with_their_numbers(tmp_path, capsys):
    path = ballots_workbook(tmp_path / "an.xlsx")

    def hide(wb):
        ws = wb[MEMBER]
        for r in (3, 5, 6):
            ws.row_dimensions[r].hidden = True
        ws.column_dimensions["E"].hidden = True

    edit_book(path, hide)
    loaded = load_workbook_case(path)
    assert loaded.hierarchy.subjects["DV2"].votes.XS == 12  # read, not dropped
    rows = [w for w in loaded.warnings if "dòng có dữ liệu đang bị ẩn" in w.message]
    assert len(rows) == 1 and rows[0].sheet == MEMBER and "dòng 3, 5–6" in rows[0].message
    cols = [w for w in loaded.warnings if "đang bị ẩn nhưng dữ liệu" in w.message]
    assert len(cols) == 1 and "E (Phiếu Tốt)" in cols[0].message
    out = tmp_path / "an.json"
    code, text = run_import(path, out, capsys)
    assert code == 0 and "dòng 3, 5–6" in text  # import says so too


def test_a_hidden_sheet_is_read_and_reported(tmp_path):
    path = edit_book(ballots_workbook(tmp_path / "trang_an.xlsx"),
                     lambda wb: setattr(wb[ORG], "sheet_state", "hidden"))
    loaded = load_workbook_case(path)
    assert "CB" in loaded.hierarchy.subjects
    assert [w.sheet for w in loaded.warnings if "đang bị ẩn (hidden)" in w.message] == [ORG]


def test_a_very_hidden_sheet_is_an_error(tmp_path):
    path = edit_book(ballots_workbook(tmp_path / "trang_an_han.xlsx"),
                     lambda wb: setattr(wb[MEMBER], "sheet_state", "veryHidden"))
    problems = problems_of(path)
    assert len(problems) == 1 and problems[0].sheet == MEMBER and "very hidden" in problems[0].message


def test_solve_prints_the_warnings_of_a_hidden_row(tmp_path, capsys, monkeypatch):
    from solver.commands.cli import main

    monkeypatch.setenv("XEPLOAI_AUDIT", "off")
    path = ballots_workbook(tmp_path / "an_giai.xlsx")
    edit_book(path, lambda wb: setattr(wb[MEMBER].row_dimensions[4], "hidden", True))
    assert main(["solve", str(path)]) == 0
    assert "dòng 4" in capsys.readouterr().out


def test_an_nfd_duplicate_id_is_located_at_its_own_sheet_and_row(tmp_path):
    sheets = empty_sheets()
    sheets[ORG] = [["Mã", "Tên", "Cấp", "Mức đề xuất"], ["CB", "Chi bộ", "TCCSĐ", "T"],
                   [nfd("DV-Hòa"), "Tổ chức trùng mã", "chi bộ trực thuộc", "T"]]
    sheets[MEMBER] = [["Mã", "Họ và tên", "Thuộc (mã tổ chức đảng)", "Mức đề xuất"],
                      ["DV-Hòa", "An", "CB", "T"], ["DV2", "Bình", "CB", "T"],
                      [nfd("DV-Hòa"), "Cư", "CB", "T"]]
    sheets[ORG][2][0] = "DV2"  # the other duplicate: an organization's id equal to a member's, another sheet
    problems = problems_of(book(tmp_path / "trung.xlsx", sheets))
    dups = [(p.sheet, p.row, p.column) for p in problems if "trùng với mã" in p.message]
    assert (MEMBER, 4, "A (Mã)") in dups and (MEMBER, 3, "A (Mã)") in dups
    msg = next(p.message for p in problems if p.row == 4 and p.sheet == MEMBER)
    assert f"trang «{MEMBER}» dòng 2" in msg


def test_a_line_break_typed_in_a_name_cell_is_read_as_a_space(tmp_path):
    path = ballots_workbook(tmp_path / "xuong_dong.xlsx")
    edit_book(path, lambda wb: wb[MEMBER].cell(row=2, column=2, value="Nguyễn Văn\nAn"))
    assert load_workbook_case(path).hierarchy.subjects["DV1"].name == "Nguyễn Văn An"


def test_a_bidi_override_in_a_workbook_id_is_refused_at_its_cell(tmp_path):
    path = ballots_workbook(tmp_path / "ma_an.xlsx")
    edit_book(path, lambda wb: wb[MEMBER].cell(row=3, column=1, value="DV\u202e2"))
    problems = problems_of(path)
    assert [(p.sheet, p.row, p.field) for p in problems][:1] == [(MEMBER, 3, "id")]
    assert "⟨U+202E⟩" in str(problems[0])


def test_excel_coercions_stay_accepted(tmp_path):
    """Numbers stored as text or as 15.0, level names and abbreviations: the importer converts them before the
    strict validation of the case."""
    sheets = empty_sheets()
    sheets[ORG] = [["Mã", "Tên", "Cấp", "Mức đề xuất"], ["CB", "Chi bộ", "TCCSĐ", "hoàn thành tốt nhiệm vụ"]]
    sheets[MEMBER] = [["Mã", "Họ và tên", "Thuộc (mã tổ chức đảng)", "Phiếu XS", "Phiếu Tốt", "Số người biểu quyết",
                       "Bị kỷ luật", "Số tháng nghỉ ốm", "Mức đề xuất"],
                      ["DV1", "An", "CB", "9", 6.0, "15.0", "Không", "3", None],
                      ["DV2", "Bình", "CB", None, None, None, "x", None, "HTTNV"]]
    loaded = load_workbook_case(book(tmp_path / "cach_ghi.xlsx", sheets))
    s = loaded.hierarchy.subjects
    assert s["DV1"].votes.XS == 9 and s["DV1"].voters == 15 and s["DV1"].facts.sick_leave_months == 3
    assert s["DV2"].facts.disciplined is True and s["DV2"].proposed is Level.T


def test_a_real_xls_file_gets_the_message_to_save_as_xlsx(tmp_path, capsys):
    path = tmp_path / "cu.xls"
    path.write_bytes((ROOT / "tests" / "data" / "broken" / "excel_97_2003.xls").read_bytes())
    with pytest.raises(CaseInvalid) as info:
        load_case(path)
    assert "Excel 97–2003 (.xls) chưa được hỗ trợ, hãy lưu thành .xlsx" in info.value.problems[0].message
    code, text = run_import(path, tmp_path / "cu.json", capsys)
    assert code == 2 and "lưu thành .xlsx" in text


def test_damaged_xml_gets_a_vietnamese_message_naming_the_sheet(tmp_path):
    broken = ROOT / "tests" / "data" / "broken" / "damaged_sheet_xml.xlsx"
    with pytest.raises(CaseInvalid) as info:
        load_case(broken)
    p = info.value.problems[0]
    assert p.sheet == MEMBER and "XML bên trong tệp bị hỏng" in p.message
    assert "Error" not in p.message and "line" not in p.message
