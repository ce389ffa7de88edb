"""Writing the committee's workbook: the blank template with example rows, or an existing case, byte-for-byte stable.

The layout (sheets, headers, how cells are read) is the one of ``model.excel``; what this module
writes, that module reads back to an equal case. Levels are written by their official names, tiers
and kinds by their Vietnamese labels, booleans as «Có» or blank.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from model.case import TIER_LABELS, UNIT_CATEGORIES, Case, Kind, Subject, Tier
from model.excel import (
    EXCEPTION_COLUMNS,
    EXPECT_COLUMNS,
    GROUP_COLUMNS,
    IGNORED_HEADERS,
    KIND_SHEETS,
    NO,
    SETTING_COLUMNS,
    SHEET_EXCEPTIONS,
    SHEET_EXPECT,
    SHEET_GROUPS,
    SHEET_GUIDE,
    SHEET_SETTINGS,
    SUBJECT_COLUMNS,
    YES,
    Column,
    Setting,
    settings,
)
from model.levels import LEVELS_DESC, Level
from model.xlsx_memory import workbook_bytes

#: The fixed document date written into every workbook (the output must not depend on the clock).
FIXED_DATE = datetime(2000, 1, 1)
#: Rows below the data that still carry the dropdowns, for the user to fill in.
SPARE_ROWS = 1000

_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_EXAMPLE_FILL = PatternFill("solid", fgColor="FFF2CC")
_HEADER_ALIGN = Alignment(wrap_text=True, vertical="center", horizontal="center")


class TemplateError(ValueError):
    """A case that cannot be written into a workbook (e.g. a control character in a name)."""


def _list_formula(items: list[str]) -> str:
    return '"' + ",".join(items) + '"'


LEVEL_CHOICES = [lv.official for lv in LEVELS_DESC]
TIER_CHOICES = [TIER_LABELS[t] for t in (Tier.upper, Tier.grassroots, Tier.branch)]
UNIT_CATEGORY_CHOICES = list(UNIT_CATEGORIES.values())
KIND_CHOICES = list(KIND_SHEETS.values())
BOOL_CHOICES = [YES, NO]


def _put(ws: Worksheet, row: int, col: int, value: Any, where: str) -> None:
    """Write one cell; text is always text (never a formula) and must hold no control character."""
    if value is None:
        return
    if isinstance(value, str) and ILLEGAL_CHARACTERS_RE.search(value):
        raise TemplateError(f"{where}: văn bản chứa ký tự điều khiển, không ghi được vào Excel: {value!r}")
    cell = ws.cell(row=row, column=col, value=value)
    if isinstance(value, str):
        cell.data_type = "s"


def _subject_value(s: Subject, col: Column, order: int | None) -> Any:
    """The cell of ``col`` for subject ``s`` (None = blank), as ``model.excel`` reads it back."""
    fld = col.field
    if fld == "order":
        return order
    if fld == "rated":
        return YES if not s.rated else None
    if col.type == "refs":
        ids = getattr(s, fld)
        if not ids:
            return None
        return "\n".join(ids) if any("," in i or ";" in i for i in ids) else ", ".join(ids)
    value: Any = s
    for part in fld.split("."):
        value = getattr(value, part, None) if value is not None else None
    if value is None:
        return None
    if col.type == "level":
        return Level(value).official
    if col.type == "tier":
        return TIER_LABELS[Tier(value)]
    if col.type == "unit_category":
        return UNIT_CATEGORIES.get(value, value)
    if col.type == "choice":
        return dict(col.choices).get(value, value)
    if col.type == "tristate":
        return YES if value else NO
    if col.type == "score":
        return int(value) if float(value).is_integer() else float(value)
    if col.type == "bool":
        return YES if value else None
    if col.type == "grades":
        return ", ".join(value) if value else None
    if col.type == "months":
        return int(value) if float(value).is_integer() else float(value)
    return value


class _Validations:
    """The dropdowns and number checks of one sheet, one DataValidation per distinct rule."""

    def __init__(self, ws: Worksheet):
        self.ws = ws
        self.rules: dict[tuple, DataValidation] = {}

    def add(self, key: tuple, make, cells: str) -> None:
        dv = self.rules.get(key)
        if dv is None:
            dv = self.rules[key] = make()
            self.ws.add_data_validation(dv)
        dv.add(cells)

    def choice(self, items: list[str], cells: str, prompt: str) -> None:
        def make() -> DataValidation:
            return DataValidation(
                type="list", formula1=_list_formula(items), allow_blank=True, showDropDown=False,
                showErrorMessage=True, errorStyle="warning", errorTitle="Giá trị ngoài danh sách",
                error="Nên chọn trong danh sách. " + prompt, showInputMessage=False)
        self.add(("list", tuple(items)), make, cells)

    def whole(self, low: int | None, high: int | None, cells: str) -> None:
        def make() -> DataValidation:
            if high is None:
                dv = DataValidation(type="whole", operator="greaterThanOrEqual", formula1=str(low or 0))
                text = f"Phải là số nguyên từ {low or 0} trở lên."
            else:
                dv = DataValidation(type="whole", operator="between", formula1=str(low or 0), formula2=str(high))
                text = f"Phải là số nguyên từ {low or 0} đến {high}."
            dv.allow_blank = True
            dv.showErrorMessage = True
            dv.errorStyle = "warning"
            dv.errorTitle = "Số không hợp lệ"
            dv.error = text
            return dv
        self.add(("whole", low, high), make, cells)

    def decimal(self, low: float, high: float, cells: str) -> None:
        def make() -> DataValidation:
            return DataValidation(type="decimal", operator="between", formula1=str(low), formula2=str(high),
                                  allow_blank=True, showErrorMessage=True, errorStyle="warning",
                                  errorTitle="Số không hợp lệ", error=f"Phải là số từ {low:g} đến {high:g}.")
        self.add(("decimal", low, high), make, cells)


_LEVEL_PROMPT = "xeploai cũng nhận viết tắt (HTXSNV, HTTNV, HTNV, KHTNV) và mã (XS, T, HT, K)."


def _column_rule(v: _Validations, col: Column, cells: str) -> None:
    if col.type == "level":
        v.choice(LEVEL_CHOICES, cells, _LEVEL_PROMPT)
    elif col.type == "tier":
        v.choice(TIER_CHOICES, cells, "xeploai cũng nhận TCCSĐ, cơ sở, chi bộ trực thuộc.")
    elif col.type == "unit_category":
        v.choice(UNIT_CATEGORY_CHOICES, cells, "xeploai cũng nhận UBND, MTTQ, Đoàn thể.")
    elif col.type == "choice":
        v.choice([label for _, label in col.choices], cells, "Chọn trong danh sách.")
    elif col.type == "tristate":
        v.choice(BOOL_CHOICES, cells, f"Ghi «{YES}», «{NO}» hoặc để trống.")
    elif col.type == "score":
        v.decimal(0, 100, cells)
    elif col.type in ("bool", "unrated"):
        v.choice(BOOL_CHOICES, cells, f"Ghi «{YES}» hoặc để trống.")
    elif col.type == "kind":
        v.choice(KIND_CHOICES, cells, "Ghi tên trang của loại đối tượng.")
    elif col.type == "count":
        v.whole(0, 1_000_000, cells)
    elif col.type == "voters":
        v.whole(1, 1_000_000, cells)
    elif col.type == "order":
        v.whole(1, None, cells)
    elif col.type == "months":
        v.decimal(0, 12, cells)


def _table(ws: Worksheet, columns: list[Column], rows: list[list[Any]], freeze: str, example: bool) -> None:
    """Headers, rows, widths, frozen panes and per-column checks of one table sheet."""
    for c, col in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=c, value=col.header)
        cell.font, cell.fill, cell.alignment = _HEADER_FONT, _HEADER_FILL, _HEADER_ALIGN
        cell.comment = Comment(col.help, "xeploai", width=300, height=120)
        ws.column_dimensions[get_column_letter(c)].width = col.width
    ws.row_dimensions[1].height = 48
    for r, values in enumerate(rows, start=2):
        for c, value in enumerate(values, start=1):
            _put(ws, r, c, value, f"trang «{ws.title}», dòng {r}, cột «{columns[c - 1].header}»")
            if example:
                ws.cell(row=r, column=c).fill = _EXAMPLE_FILL
    ws.freeze_panes = freeze
    last = len(rows) + 1 + SPARE_ROWS
    rules = _Validations(ws)
    for c, col in enumerate(columns, start=1):
        letter = get_column_letter(c)
        _column_rule(rules, col, f"{letter}2:{letter}{last}")


def _subjects_needing_order(case: Case) -> bool:
    """Whether the case's subject order differs from the workbook's own (sheet by sheet, then row by row)."""
    sheet_index = {k: i for i, k in enumerate(KIND_SHEETS)}
    positions = list(range(len(case.subjects)))
    return sorted(positions, key=lambda i: sheet_index[case.subjects[i].kind]) != positions


def _subject_sheet(ws: Worksheet, case: Case, kind: Kind, with_order: bool, example: bool) -> None:
    entries = [(i, s) for i, s in enumerate(case.subjects) if s.kind is kind]
    columns = []
    for col in SUBJECT_COLUMNS[kind]:
        if col.field == "order":
            used = with_order and bool(entries)
        else:
            used = col.standard or any(_subject_value(s, col, None) is not None for _, s in entries)
        if used:
            columns.append(col)
    rows = [[_subject_value(s, col, i + 1) for col in columns] for i, s in entries]
    _table(ws, columns, rows, "C2", example)


def _group_sheet(ws: Worksheet, case: Case, example: bool) -> None:
    kinds = {s.id: s.kind for s in case.subjects}
    rows: list[list[Any]] = []
    for g in case.groups:
        member_kinds = {kinds.get(m) for m in g.members}
        kind = KIND_SHEETS[member_kinds.pop()] if len(member_kinds) == 1 and None not in member_kinds else None
        if not g.members:
            rows.append([g.id, g.name, None, None])
        for m in g.members:
            rows.append([g.id, g.name, kind, m])
    _table(ws, list(GROUP_COLUMNS), rows, "A2", example)


def _setting_value(setting: Setting, case: Case) -> Any:
    value: Any = case
    for part in setting.field.split("."):
        if value is None:
            return None
        if part == "options":
            value = value.options.given()
        elif isinstance(value, dict):
            value = value.get(part)
        else:
            value = getattr(value, part, None)
    if isinstance(value, bool):
        return YES if value else NO
    return setting.label_of(value)


def _settings_sheet(ws: Worksheet, case: Case) -> None:
    rows = []
    rules = _Validations(ws)
    chosen = [s for s in settings() if not s.expect or case.expect is not None]
    for r, setting in enumerate(chosen, start=2):
        rows.append([setting.label, _setting_value(setting, case), setting.help])
        cell = f"B{r}"
        if setting.type == "profile":
            rules.choice(list(setting.labels), cell, "Để trống là bộ quy định mặc định.")
        elif setting.type == "bool":
            rules.choice(BOOL_CHOICES, cell, "Để trống là theo bộ quy định.")
        elif setting.type == "enum":
            rules.choice(list(setting.labels or setting.choices), cell, "Để trống là theo bộ quy định.")
        elif setting.type in ("int", "count"):
            low = setting.minimum if setting.minimum is not None else 0
            rules.whole(low, setting.maximum, cell)
    columns = list(SETTING_COLUMNS)
    for c, col in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=c, value=col.header)
        cell.font, cell.fill, cell.alignment = _HEADER_FONT, _HEADER_FILL, _HEADER_ALIGN
        ws.column_dimensions[get_column_letter(c)].width = col.width
    for r, values in enumerate(rows, start=2):
        for c, value in enumerate(values, start=1):
            _put(ws, r, c, value, f"trang «{ws.title}», dòng {r}")
        ws.cell(row=r, column=1).font = _HEADER_FONT
        ws.cell(row=r, column=3).alignment = Alignment(wrap_text=True, vertical="top")
        ws.cell(row=r, column=2).alignment = Alignment(vertical="top")
        ws.cell(row=r, column=1).alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "B2"


def _expect_sheet(ws: Worksheet, case: Case) -> None:
    rows = [[sid, level.official] for sid, level in case.expect.levels.items()]
    _table(ws, list(EXPECT_COLUMNS), rows, "A2", False)


_GUIDE_LINES = [
    "Mỗi trang «Tổ chức đảng», «Đảng viên», «Tập thể lãnh đạo», «Cán bộ lãnh đạo», «Đơn vị» là một loại đối "
    "tượng: mỗi dòng một đối tượng. Dòng trống được bỏ qua.",
    "Mã: duy nhất trong cả hồ sơ. Các cột «Thuộc», «Lãnh đạo», «Đứng đầu», «Chính quyền, đoàn thể cùng cấp» và "
    "trang «Nhóm tỷ lệ» ghi mã của đối tượng ở trang khác.",
    "Mức xếp loại: chọn trong danh sách (tên đầy đủ), hoặc gõ viết tắt HTXSNV, HTTNV, HTNV, KHTNV, hoặc mã XS, T, HT, "
    "K; chữ hoa hay chữ thường đều được.",
    "Phiếu: số phiếu của từng mức. Mức theo phiếu là mức cao nhất mà số phiếu từ mức đó trở lên quá bán (trên 50%) "
    "số người biểu quyết. Không có phiếu thì ghi «Mức đề xuất»; khi xếp loại lại thì ghi «Mức mục tiêu».",
    f"Cột Có/Không: ghi «{YES}» (hoặc x); để trống là không.",
    "Có thể đổi thứ tự các cột, thêm cột " + ", ".join(IGNORED_HEADERS) + " (được bỏ qua); không đổi tên trang, "
    "tên cột. Có thể dùng công thức: xeploai đọc giá trị đã tính khi tệp được lưu bằng Excel.",
    "Trang «Nhóm tỷ lệ» (không bắt buộc): khai báo nhóm tính chung giới hạn Hoàn thành xuất sắc nhiệm vụ thay cho "
    "nhóm tự lập theo hệ thống tổ chức. Trang «Tùy chọn»: tên hồ sơ, bộ quy định và các tùy chọn quy tắc.",
    "Các dòng tô vàng là ví dụ: xóa đi trước khi nhập dữ liệu thật.",
    "Kiểm tra: xeploai check TỆP.xlsx — Giải: xeploai solve TỆP.xlsx — Chuyển sang JSON: "
    "xeploai import TỆP.xlsx --out HỒ_SƠ.json. Mọi lỗi được liệt kê cùng lúc, kèm trang, dòng và cột.",
]


def _guide_sheet(ws: Worksheet, with_examples: bool) -> None:
    title = ws.cell(row=1, column=1, value="Hướng dẫn nhập dữ liệu xếp loại chất lượng (xeploai)")
    title.font = Font(bold=True, size=14)
    r = 3
    for line in _GUIDE_LINES:
        if not with_examples and line.startswith("Các dòng tô vàng"):
            continue
        _put(ws, r, 1, f"• {line}", "Hướng dẫn")
        r += 1
    r += 1
    for c, header in enumerate(("Trang", "Cột", "Bắt buộc", "Ý nghĩa"), start=1):
        cell = ws.cell(row=r, column=c, value=header)
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
    tables = [(KIND_SHEETS[k], SUBJECT_COLUMNS[k], ("id", "name")) for k in KIND_SHEETS]
    tables.append((SHEET_GROUPS, GROUP_COLUMNS, ("id", "members")))
    for sheet, columns, required in tables:
        for col in columns:
            r += 1
            _put(ws, r, 1, sheet, "Hướng dẫn")
            _put(ws, r, 2, col.header, "Hướng dẫn")
            _put(ws, r, 3, YES if col.field in required else None, "Hướng dẫn")
            _put(ws, r, 4, col.help, "Hướng dẫn")
            ws.cell(row=r, column=4).alignment = Alignment(wrap_text=True, vertical="top")
    for letter, width in zip("ABCD", (20, 34, 10, 110)):
        ws.column_dimensions[letter].width = width


def example_case() -> Case:
    """The example rows of the blank template: a small commune đảng bộ, valid and solvable."""
    from model.loader import parse_case

    def votes(xs: int, t: int, tb: int = 0, k: int = 0) -> dict[str, int]:
        return {"XS": xs, "T": t, "TB": tb, "K": k}

    subjects = [
        {"id": "DB", "name": "Đảng bộ xã Hòa Bình", "kind": "party_org", "tier": "grassroots",
         "same_level_units": ["UB", "MT"], "votes": votes(3, 12), "voters": 15},
        {"id": "CB1", "name": "Chi bộ thôn 1", "kind": "party_org", "tier": "branch", "parent": "DB",
         "votes": votes(9, 5, 1), "voters": 15},
        {"id": "CB2", "name": "Chi bộ thôn 2", "kind": "party_org", "tier": "branch", "parent": "DB",
         "proposed": "T"},
        {"id": "DV01", "name": "Nguyễn Văn An", "kind": "member", "parent": "CB1", "votes": votes(9, 6), "voters": 15},
        {"id": "DV02", "name": "Trần Thị Bình", "kind": "member", "parent": "CB1", "votes": votes(4, 10, 1),
         "facts": {"civil_servant_level": "T"}},
        {"id": "DV03", "name": "Lê Văn Cường", "kind": "member", "parent": "CB1", "proposed": "T",
         "facts": {"sick_leave_months": 4}},
        {"id": "DV04", "name": "Phạm Thị Dung", "kind": "member", "parent": "CB2", "votes": votes(2, 12, 1)},
        {"id": "DV05", "name": "Hoàng Văn Em", "kind": "member", "parent": "CB2", "proposed": "T",
         "facts": {"committee_member": True}},
        {"id": "DV06", "name": "Vũ Thị Giang", "kind": "member", "parent": "CB2", "rated": False},
        {"id": "DU", "name": "Ban Chấp hành Đảng bộ xã Hòa Bình", "kind": "collective", "leads": "DB",
         "category": "dang_uy_xa", "votes": votes(4, 11)},
        {"id": "CU1", "name": "Chi ủy Chi bộ thôn 1", "kind": "collective", "leads": "CB1", "category": "chi_uy",
         "votes": votes(8, 7)},
        {"id": "BT", "name": "Nguyễn Văn Hùng", "kind": "leader", "heads": "DU", "category": "bi_thu_dang_uy_xa",
         "votes": votes(5, 10)},
        {"id": "BTCB1", "name": "Trần Văn Khoa", "kind": "leader", "heads": "CU1", "category": "bi_thu_chi_bo",
         "votes": votes(10, 5)},
        {"id": "UB", "name": "Ủy ban nhân dân xã Hòa Bình", "kind": "unit", "category": "chinh_quyen", "level": "T"},
        {"id": "MT", "name": "Ủy ban Mặt trận Tổ quốc Việt Nam xã Hòa Bình", "kind": "unit", "category": "mat_tran",
         "level": "XS"},
    ]
    data = {
        "name": "Ví dụ: Đảng bộ xã Hòa Bình, năm 2024",
        "subjects": subjects,
        "groups": [{"id": "CHI_BO_THON", "name": "Các chi bộ thôn", "members": ["CB1", "CB2"]}],
    }
    return parse_case(data, "<ví dụ>").case


def template_bytes(case: Case | None = None) -> bytes:
    """The workbook (.xlsx bytes): ``case`` written into the template, or the template with example rows."""
    example = case is None
    if case is None:
        case = example_case()
    wb = Workbook()
    wb.properties.creator = "xeploai"
    wb.properties.lastModifiedBy = "xeploai"
    wb.properties.created = FIXED_DATE
    wb.properties.modified = FIXED_DATE
    _guide_sheet(wb.active, example)
    wb.active.title = SHEET_GUIDE
    with_order = _subjects_needing_order(case)
    for kind, name in KIND_SHEETS.items():
        _subject_sheet(wb.create_sheet(name), case, kind, with_order, example)
    _group_sheet(wb.create_sheet(SHEET_GROUPS), case, example)
    _settings_sheet(wb.create_sheet(SHEET_SETTINGS), case)
    if case.exceptions:
        rows = [[e.scope, e.percent, e.reason, e.author] for e in case.exceptions]
        _table(wb.create_sheet(SHEET_EXCEPTIONS), list(EXCEPTION_COLUMNS), rows, "A2", False)
    if case.expect is not None and case.expect.levels:
        _expect_sheet(wb.create_sheet(SHEET_EXPECT), case)
    return workbook_bytes(wb, date_time=(1980, 1, 1, 0, 0, 0))


__all__ = ["BOOL_CHOICES", "KIND_CHOICES", "LEVEL_CHOICES", "TIER_CHOICES", "TemplateError", "example_case",
           "template_bytes"]
