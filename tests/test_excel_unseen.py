"""What a workbook hides or misstates is never read silently (issue 18, red-team re-check): merges over the whole
sheet cost what the data costs, rows of height 0, rows hidden by default, columns of width 0 and number formats
that hide a value are reported at their sheet, row and column; every verb that reads a workbook prints those
warnings; numbers typed with thousands separators are refused; control characters and duplicate ids are located
once, at their cell; a group row without its group id is an error."""

from __future__ import annotations

import re
import shutil
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from model.case import Kind
from model.errors import CaseInvalid, InputProblem
from model.excel import KIND_SHEETS, SETTING_COLUMNS, SHEET_GROUPS, SHEET_SETTINGS, load_workbook_case
from solver.commands.cli import main

ORG, MEMBER = KIND_SHEETS[Kind.party_org], KIND_SHEETS[Kind.member]


# the workbook builders of tests/test_excel.py (tests/ is on the import path, as for casebuild)
from test_excel import book, empty_sheets  # noqa: E402
from test_excel import edit_book as edit  # noqa: E402


def ballots(path: Path, xs: list = None) -> Path:
    """One chi bộ, four members with ballots of 15 voters (column D: Phiếu XS, E: Phiếu Tốt, F: voters)."""
    xs = xs if xs is not None else [2, 12, 9, 8]
    sheets = empty_sheets()
    sheets[ORG] = [["Mã", "Tên", "Cấp", "Mức đề xuất"], ["CB", "Chi bộ Khu phố 1", "TCCSĐ", "T"]]
    sheets[MEMBER] = [["Mã", "Họ và tên", "Thuộc (mã tổ chức đảng)", "Phiếu XS", "Phiếu Tốt", "Số người biểu quyết"]]
    for i, x in enumerate(xs, start=1):
        sheets[MEMBER].append([f"DV{i}", f"Người {i}", "CB", x, None if isinstance(x, str) else 15 - x, 15])
    return book(path, sheets)


def sheet_part(archive: zipfile.ZipFile, title: str) -> str:
    """The archive path of the sheet called ``title``."""
    workbook = archive.read("xl/workbook.xml").decode()
    rid = re.search(rf'<sheet [^>]*name="{re.escape(title)}"[^>]*r:id="([^"]+)"', workbook).group(1)
    rels = archive.read("xl/_rels/workbook.xml.rels").decode()
    target = re.search(rf'<Relationship [^>]*Id="{rid}"[^>]*Target="([^"]+)"|'
                       rf'<Relationship [^>]*Target="([^"]+)"[^>]*Id="{rid}"', rels)
    name = target.group(1) or target.group(2)
    return name.lstrip("/") if name.startswith("/xl/") else "xl/" + name


def raw_edit(path: Path, title: str, change) -> Path:
    """Rewrite one sheet's XML with ``change(xml) -> xml`` (what Excel writes that openpyxl cannot)."""
    with zipfile.ZipFile(path) as src:
        part = sheet_part(src, title)
        items = [(i, src.read(i.filename)) for i in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in items:
            out.writestr(info, change(data.decode()).encode() if info.filename == part else data)
    return path


def add_merge(ref: str):
    def change(xml: str) -> str:
        if "<mergeCells" in xml:
            return xml.replace("</mergeCells>", f'<mergeCell ref="{ref}"/></mergeCells>')
        return xml.replace("</sheetData>", f'</sheetData><mergeCells count="1"><mergeCell ref="{ref}"/></mergeCells>')
    return change


def problems_of(path: Path) -> list[InputProblem]:
    with pytest.raises(CaseInvalid) as info:
        load_workbook_case(path)
    return info.value.problems


def peak_bytes(fn) -> int:
    tracemalloc.start()
    try:
        fn()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


# ---------------------------------------------------------------------------------------------
# Item 2: a merged range over the whole sheet
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def small_reader(monkeypatch):
    """The file reader's buffer sized for these small files, so that the peak measured is the reading's own."""
    monkeypatch.setattr("model.excel.MAX_BYTES", 1 << 20)


def test_a_merge_down_a_whole_column_costs_what_the_data_costs(tmp_path, small_reader):
    """D2:D1048576 alone used to store a million covered cells (hundreds of MB); clamped to the data, it is one
    error."""
    path = raw_edit(ballots(tmp_path / "gop_cot.xlsx"), MEMBER, add_merge("D2:D1048576"))
    found: list = []
    peak = peak_bytes(lambda: found.extend(problems_of(path)))
    assert peak < 32 * 2**20, f"reading used {peak / 2**20:.0f} MB"
    merges = [p for p in found if "D2:D1048576" in p.message]
    assert len(merges) == 1 and (merges[0].sheet, merges[0].row, merges[0].column) == (MEMBER, 2, "D (Phiếu XS)")
    assert "dòng 2–1048576" in merges[0].message and "Unmerge" in merges[0].message


def test_a_merge_over_the_whole_sheet_is_one_error_not_an_exhausted_memory(tmp_path, small_reader):
    path = raw_edit(ballots(tmp_path / "gop_het.xlsx"), MEMBER, add_merge("A2:XFD1048576"))
    found: list = []
    peak = peak_bytes(lambda: found.extend(problems_of(path)))
    assert peak < 32 * 2**20, f"reading used {peak / 2**20:.0f} MB"
    assert len(found) == 1 and found[0].sheet == MEMBER and found[0].row == 2 and "A2:XFD1048576" in found[0].message


def test_a_merge_below_the_data_holds_nothing_to_misread(tmp_path):
    path = raw_edit(ballots(tmp_path / "gop_duoi.xlsx"), MEMBER, add_merge("A40:F900000"))
    loaded = load_workbook_case(path)
    assert loaded.hierarchy.subjects["DV2"].votes.XS == 12 and not loaded.warnings


def test_thousands_of_merges_are_listed_up_to_a_bound_then_counted(tmp_path):
    path = ballots(tmp_path / "gop_nhieu.xlsx", xs=[1] * 120)
    refs = "".join(f'<mergeCell ref="D{r}:E{r}"/>' for r in range(2, 122))
    raw_edit(path, MEMBER, lambda xml: xml.replace(
        "</sheetData>", f'</sheetData><mergeCells count="120">{refs}</mergeCells>'))
    found = problems_of(path)
    assert len([p for p in found if "ô gộp (merge)" in p.message]) == 50
    assert any("còn 70 ô gộp khác" in p.message for p in found)


# ---------------------------------------------------------------------------------------------
# Item 6: rows of height 0, rows hidden by default, columns of width 0, formats that hide a value
# ---------------------------------------------------------------------------------------------


def hidden_rows(loaded) -> list[InputProblem]:
    return [w for w in loaded.warnings if "dòng có dữ liệu đang bị ẩn" in w.message]


def test_a_row_of_height_zero_is_reported_like_a_hidden_row(tmp_path):
    path = raw_edit(ballots(tmp_path / "cao0.xlsx"), MEMBER,
                    lambda xml: re.sub(r'<row r="3"', '<row r="3" ht="0" customHeight="1"', xml, count=1))
    loaded = load_workbook_case(path)
    assert loaded.hierarchy.subjects["DV2"].votes.XS == 12  # read, and said
    rows = hidden_rows(loaded)
    assert len(rows) == 1 and (rows[0].sheet, rows[0].row) == (MEMBER, 3) and "dòng 3;" in rows[0].message


def test_a_row_height_set_to_zero_by_a_program_is_reported(tmp_path):
    """openpyxl saves height 0 as customHeight="1" without a height."""
    path = edit(ballots(tmp_path / "cao0b.xlsx"), lambda wb: setattr(wb[MEMBER].row_dimensions[4], "height", 0))
    rows = hidden_rows(load_workbook_case(path))
    assert [(w.sheet, w.row) for w in rows] == [(MEMBER, 4)]


def test_rows_hidden_by_default_are_reported(tmp_path):
    def zero_height(xml: str) -> str:
        xml = re.sub(r"<sheetFormatPr ", '<sheetFormatPr zeroHeight="1" ', xml, count=1)
        for r in (1, 2, 3):  # only these rows have a height of their own: rows 4 and 5 are not shown
            xml = re.sub(rf'<row r="{r}"', f'<row r="{r}" ht="15" customHeight="1"', xml, count=1)
        return xml

    path = raw_edit(ballots(tmp_path / "an_mac_dinh.xlsx"), MEMBER, zero_height)
    rows = hidden_rows(load_workbook_case(path))
    assert len(rows) == 1 and rows[0].row == 4 and "dòng 4–5" in rows[0].message


def test_a_column_of_width_zero_is_reported_like_a_hidden_column(tmp_path):
    path = raw_edit(ballots(tmp_path / "rong0.xlsx"), MEMBER,
                    lambda xml: re.sub(r"(<sheetData>|<sheetData/>)",
                                       r'<cols><col min="4" max="4" width="0" customWidth="1"/></cols>\1', xml,
                                       count=1) if "<cols>" not in xml else xml.replace(
                        "<cols>", '<cols><col min="4" max="4" width="0" customWidth="1"/>'))
    loaded = load_workbook_case(path)
    cols = [w for w in loaded.warnings if "đang bị ẩn nhưng dữ liệu" in w.message]
    assert len(cols) == 1 and cols[0].sheet == MEMBER and cols[0].column == "D (Phiếu XS)"


def test_columns_of_width_zero_by_default_are_reported(tmp_path):
    """defaultColWidth="0": every column without a width of its own (here D to F) shows nothing."""
    def narrow(xml: str) -> str:
        xml = re.sub(r"<sheetFormatPr ", '<sheetFormatPr defaultColWidth="0" ', xml, count=1)
        cols = '<cols><col min="1" max="3" width="12" customWidth="1"/></cols>'
        xml = re.sub(r"<cols>.*?</cols>", "", xml)
        return xml.replace("<sheetData", cols + "<sheetData", 1)

    path = raw_edit(ballots(tmp_path / "rong0_mac_dinh.xlsx"), MEMBER, narrow)
    cols = [w for w in load_workbook_case(path).warnings if "đang bị ẩn nhưng dữ liệu" in w.message]
    assert len(cols) == 1 and cols[0].column == "D (Phiếu XS)"
    assert "D (Phiếu XS), E (Phiếu Tốt), F (Số người biểu quyết)" in cols[0].message


@pytest.mark.parametrize("code", [";;;", '"0"', "0%", '0" phiếu"', "[>100]0", "#"])
def test_a_number_format_that_hides_or_misstates_a_vote_is_reported_at_its_cell(tmp_path, code):
    path = ballots(tmp_path / "dinh_dang.xlsx", xs=[2, 15, 9, 8])

    def fmt(wb):
        for r in (3, 5):
            wb[MEMBER].cell(row=r, column=4).number_format = code

    loaded = load_workbook_case(edit(path, fmt))
    assert loaded.hierarchy.subjects["DV2"].votes.XS == 15
    found = [w for w in loaded.warnings if "định dạng ô" in w.message]
    assert len(found) == 1
    w = found[0]
    assert (w.sheet, w.row, w.column) == (MEMBER, 3, "D (Phiếu XS)")
    assert f"«{code}»" in w.message and "dòng 3, 5" in w.message and "15 ở dòng 3" in w.message


@pytest.mark.parametrize("code", ["General", "0", "#,##0", "0.00", "#,##0 ;(#,##0)", "@",
                                  '_(* #,##0_);_(* \\(#,##0\\);_(* "-"_);_(@_)', "[Red]0"])
def test_plain_number_formats_are_not_reported(tmp_path, code):
    path = ballots(tmp_path / "thuong.xlsx")
    edit(path, lambda wb: setattr(wb[MEMBER].cell(row=3, column=4), "number_format", code))
    assert not load_workbook_case(path).warnings


def test_a_format_rounding_a_fraction_or_hiding_a_text_is_reported():
    from model.excel import format_misleads

    assert format_misleads("0", 3.5) and not format_misleads("0.0", 3.5) and not format_misleads("General", 3.5)
    assert format_misleads(";;;", "DV1") and not format_misleads('"0"', "DV1")
    assert format_misleads("0;-0;;@", 0) and not format_misleads("0;-0;;@", 15)


# ---------------------------------------------------------------------------------------------
# Item 7: numbers typed with a thousands separator
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["1.000", "15,000", "1 5", "1.500", "1\u00a0000", "1.0000"])
def test_a_ballot_count_with_a_separator_is_refused_at_its_cell(tmp_path, typed):
    found = problems_of(ballots(tmp_path / "phan_cach.xlsx", xs=[2, typed, 9, 8]))
    assert len(found) == 1
    p = found[0]
    assert (p.sheet, p.row, p.column) == (MEMBER, 3, "D (Phiếu XS)")
    assert "không có dấu phân cách hàng nghìn" in p.message and "1000" in p.message


@pytest.mark.parametrize("typed", ["2.000", "1.500"])
def test_voters_with_a_separator_are_refused_both_ways(tmp_path, typed):
    path = ballots(tmp_path / "so_nguoi.xlsx")
    edit(path, lambda wb: setattr(wb[MEMBER].cell(row=3, column=6), "value", typed))
    found = problems_of(path)
    assert [(p.sheet, p.row, p.column) for p in found] == [(MEMBER, 3, "F (Số người biểu quyết)")]
    assert "dấu phân cách hàng nghìn" in found[0].message


@pytest.mark.parametrize("typed, value", [("12", 12), ("12.0", 12), ("12,0", 12), ("12.00", 12), (" 12 ", 12),
                                          (12.0, 12)])
def test_integers_as_documented_stay_accepted(tmp_path, typed, value):
    path = ballots(tmp_path / "so.xlsx")
    edit(path, lambda wb: setattr(wb[MEMBER].cell(row=3, column=4), "value", typed))
    assert load_workbook_case(path).hierarchy.subjects["DV2"].votes.XS == value


def test_a_fraction_is_still_not_an_integer(tmp_path):
    found = problems_of(ballots(tmp_path / "le.xlsx", xs=[2, "12.5", 9, 8]))
    assert len(found) == 1 and "phải là số nguyên, nhận được «12.5»" in found[0].message


def test_inner_spaces_in_a_decimal_field_are_refused(tmp_path):
    sheets = empty_sheets()
    sheets[ORG] = [["Mã", "Tên", "Cấp", "Mức đề xuất"], ["CB", "Chi bộ", "TCCSĐ", "T"]]
    sheets[MEMBER] = [["Mã", "Họ và tên", "Thuộc (mã tổ chức đảng)", "Mức đề xuất", "Số tháng nghỉ ốm"],
                      ["DV1", "An", "CB", "T", "1 0"], ["DV2", "Bình", "CB", "T", "3,5"]]
    found = problems_of(book(tmp_path / "thang.xlsx", sheets))
    assert [(p.sheet, p.row) for p in found] == [(MEMBER, 2)]


# ---------------------------------------------------------------------------------------------
# Item 11: a control character, located at its cell
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("char", ["\x7f", "\x85", "\x9b"])
def test_a_control_character_in_a_name_is_refused_at_its_cell(tmp_path, char):
    path = ballots(tmp_path / "dieu_khien.xlsx")
    edit(path, lambda wb: setattr(wb[MEMBER].cell(row=3, column=2), "value", f"Trần{char}Bình"))
    found = problems_of(path)
    assert len(found) == 1
    p = found[0]
    assert (p.sheet, p.row, p.column) == (MEMBER, 3, "B (Họ và tên)")
    assert f"U+{ord(char):04X}" in p.message and f"Trần⟨U+{ord(char):04X}⟩Bình" in p.message


def test_a_control_character_in_the_file_name_does_not_refuse_the_workbook(tmp_path):
    """The case name falls back on the file name; the character is no cell's fault and is left out."""
    sheets = empty_sheets()
    sheets[SHEET_SETTINGS] = [[c.header for c in SETTING_COLUMNS[:2]]]
    sheets[ORG] = [["Mã", "Tên", "Cấp", "Mức đề xuất"], ["CB", "Chi bộ", "TCCSĐ", "T"]]
    loaded = load_workbook_case(book(tmp_path / "ho\x7fso.xlsx", sheets))
    assert loaded.case.name == "hoso"


# ---------------------------------------------------------------------------------------------
# Item 11: a duplicate id across sheets, one message at its own place
# ---------------------------------------------------------------------------------------------


def test_a_duplicate_id_across_sheets_is_one_message_at_its_own_place(tmp_path):
    """The member comes first in the case (its order is 1): validation used to add a second message at the
    organization's row, "đã dùng ở đối tượng thứ 1 của danh sách subjects"."""
    sheets = empty_sheets()
    sheets[ORG] = [["Mã", "Tên", "Cấp", "Mức đề xuất", "Thứ tự trong hồ sơ"], ["CB", "Chi bộ", "TCCSĐ", "T", 3],
                   ["Ộ1", "Tổ chức trùng mã", "chi bộ trực thuộc", "T", 2]]
    sheets[MEMBER] = [["Mã", "Họ và tên", "Thuộc (mã tổ chức đảng)", "Mức đề xuất", "Thứ tự trong hồ sơ"],
                      ["DV1", "An", "CB", "T", 4], ["\u004f\u0323\u0302" + "1", "Bình", "CB", "T", 1]]
    found = problems_of(book(tmp_path / "trung.xlsx", sheets))
    assert len(found) == 1, [str(p) for p in found]
    p = found[0]
    assert (p.sheet, p.row, p.column) == (MEMBER, 3, "A (Mã)")
    assert f"trang «{ORG}» dòng 3" in p.message and "danh sách subjects" not in p.message


# ---------------------------------------------------------------------------------------------
# Item 12: a «Nhóm tỷ lệ» row without its group id
# ---------------------------------------------------------------------------------------------


def test_a_group_row_without_its_id_is_an_error_not_a_silent_join(tmp_path):
    path = ballots(tmp_path / "nhom.xlsx")

    def groups(wb):
        for row in (["N1", "Nhóm đặc biệt", None, "DV1"], [None, None, None, "DV2"], ["N1", None, None, "DV3"]):
            wb[SHEET_GROUPS].append(row)

    found = problems_of(edit(path, groups))
    assert [(p.sheet, p.row, p.column) for p in found] == [(SHEET_GROUPS, 3, "A (Mã nhóm)")]
    assert "thiếu mã nhóm" in found[0].message


def test_a_group_id_merged_down_is_still_read_for_every_row_it_covers(tmp_path):
    path = ballots(tmp_path / "nhom_gop.xlsx")

    def groups(wb):
        for row in (["N1", "Nhóm đặc biệt", None, "DV1"], [None, None, None, "DV2"], ["N2", "Khác", None, "DV3"]):
            wb[SHEET_GROUPS].append(row)
        wb[SHEET_GROUPS].merge_cells("A2:A3")

    loaded = load_workbook_case(edit(path, groups))
    assert [g.members for g in loaded.case.groups] == [("DV1", "DV2"), ("DV3",)]
    assert [(w.sheet, w.row) for w in loaded.warnings if "ô gộp" in w.message] == [(SHEET_GROUPS, 2)]


# ---------------------------------------------------------------------------------------------
# Item 6: every verb that reads a workbook prints what reading it found
# ---------------------------------------------------------------------------------------------


def hidden_row_workbook(tmp_path: Path, name: str = "an.xlsx") -> Path:
    return edit(ballots(tmp_path / name), lambda wb: setattr(wb[MEMBER].row_dimensions[4], "hidden", True))


@pytest.mark.parametrize("verb", ["report", "compare", "explain", "template", "check", "solve", "import"])
def test_every_verb_that_reads_a_workbook_prints_its_warnings(tmp_path, capsys, verb):
    path = hidden_row_workbook(tmp_path)
    args = {
        "report": ["report", str(path), "--docx", str(tmp_path / "bc.docx")],
        "compare": ["compare", str(path), str(shutil.copy(path, tmp_path / "an2.xlsx"))],
        "explain": ["explain", str(path), "DV1"],
        "template": ["template", str(tmp_path / "mau.xlsx"), "--from", str(path)],
        "check": ["check", str(path)],
        "solve": ["solve", str(path)],
        "import": ["import", str(path), "--out", str(tmp_path / "an.json")],
    }[verb]
    assert main(args) == 0
    out = capsys.readouterr()
    assert "1 dòng có dữ liệu đang bị ẩn (dòng 4;" in out.out + out.err
