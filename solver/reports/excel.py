"""The Excel results: a summary sheet, one sheet per rated kind, the quota groups, ties and conflicts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.compat import safe_string
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import IllegalCharacterError
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.worksheet.dimensions import SheetDimension
from openpyxl.xml.functions import Element

from model.case import KIND_LABELS, Kind
from model.levels import LEVELS_DESC
from model.loader import LoadedCase
from model.xlsx_memory import MemoryExcelWriter, workbook_bytes
from solver.reports.tables import level_counts, quota_table
from solver.reports.word import (
    AUTHOR,
    CONFLICT_KINDS,
    FIXED_TIME,
    TIE_INTRO,
    TITLE,
    cap_sentence,
    citation_lines,
    context_of,
    level_name,
    options_rows,
    profile_words,
    reason_lines,
    status_sentences,
    tie_rows,
)
from solver.result import SolveResult

#: One sheet per rated kind, with its sheet name (at most 31 characters, as Excel requires).
KIND_SHEETS = {
    Kind.party_org: "Tổ chức đảng",
    Kind.member: "Đảng viên",
    Kind.collective: "Tập thể lãnh đạo",
    Kind.leader: "Cán bộ lãnh đạo",
}
SUBJECT_HEADERS = ["Mã", "Tên", "Thuộc", "Mức mục tiêu", "Mức cuối cùng", "Thay đổi", "Lý do", "Căn cứ", "Nhóm tỷ lệ"]
SUBJECT_WIDTHS = [14, 32, 30, 30, 30, 10, 70, 30, 40]
QUOTA_HEADERS = ["Nhóm tỷ lệ", "Loại đối tượng", "Số đối tượng", "Số XS mục tiêu", "Số T mục tiêu",
                 "Tối đa XS (mục tiêu)", "Vượt trần trước rà soát", "Số XS cuối cùng", "Số T cuối cùng", "Tối đa XS",
                 "Quy tắc giới hạn", "Tỷ lệ XS so với số T", "Tỷ lệ XS so với cả nhóm"]
QUOTA_WIDTHS = [44, 24, 12, 12, 12, 14, 14, 12, 12, 11, 12, 14, 14]
UNRATED = "Không xếp loại"
NO_RESULT = "Chưa có kết quả"

_BOLD = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
_WRAP = Alignment(wrap_text=True, vertical="top")


def _header(ws, headers: list[str], widths: list[int], row: int = 1) -> None:
    for col, (text, width) in enumerate(zip(headers, widths), start=1):
        cell = ws.cell(row=row, column=col, value=text)
        cell.font, cell.fill = _BOLD, _HEAD_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[get_column_letter(col)].width = width


#: A carriage return written raw would be read back as a line feed: lxml (and so openpyxl) writes it so.
_CR = {"\r": "&#13;"}


def _cell_tail(value: str | None, style: str) -> str:
    """A cell's XML after ``<c r="…"``: attributes and content ("" for an unstyled empty cell, left out)."""
    if value is None:
        return f'{style} t="n"/>' if style else ""
    if not value:
        return f'{style} t="inlineStr"/>'
    value = value[:32767]  # Excel's limit for a cell, as openpyxl cuts it
    space = ' xml:space="preserve"' if value != value.strip() else ""
    return f'{style} t="inlineStr"><is><t{space}>{escape(value, _CR)}</t></is></c>'


class _Body:
    """A table's data rows, written as sheet XML text when the workbook is saved.

    openpyxl builds an object for every cell and writes it through lxml, about 20 µs a cell: a province's
    member sheet (300,000 rows) took a minute. The text below is what openpyxl writes for the same cells
    (inline strings, ``t="n"`` numbers, a style only where one is given), except that a text is always
    a text: openpyxl would turn a name beginning with "=" into a formula."""

    def __init__(self, rows: list[list], styles: dict[int, dict]):
        self.rows, self.styles = rows, styles

    #: Rows per piece of sheet XML: a province's member sheet is never one text in memory.
    CHUNK_ROWS = 4096

    def pieces(self, ws) -> Iterator[bytes]:
        """The ``<row>`` elements, numbered from 2, as UTF-8 pieces of ``CHUNK_ROWS`` rows (styles are
        registered in ``ws``'s workbook at the first piece, in the order openpyxl would register them)."""
        style_attr = {}
        for col, attrs in sorted(self.styles.items()):
            probe = Cell(ws)
            for name, value in attrs.items():
                setattr(probe, name, value)
            style_attr[col - 1] = f' s="{probe.style_id}"'
        styled = max(self.styles, default=0)  # a styled column has a cell in every row, as in openpyxl
        letters = [get_column_letter(c) for c in range(1, 1 + max([styled, *(len(r) for r in self.rows)]))]
        tails: list[dict] = [{} for _ in letters]  # per column: a text (or None) -> its cell after ``<c r="…"``
        out: list[str] = []
        for r, values in enumerate(self.rows, start=2):
            row = str(r)
            out.append(f'<row r="{row}">')
            for c in range(max(len(values), styled)):
                value = values[c] if c < len(values) else None
                if value is None or isinstance(value, str):
                    tail = tails[c].get(value)
                    if tail is None:
                        tail = tails[c][value] = _cell_tail(value, style_attr.get(c, ""))
                elif isinstance(value, (int, float)) and not isinstance(value, bool):
                    tail = f'{style_attr.get(c, "")} t="n"><v>{safe_string(value)}</v></c>'
                else:
                    raise TypeError(f"giá trị không ghi được vào bảng Excel: {value!r}")
                if tail:
                    out.append(f'<c r="{letters[c]}{row}"{tail}')
            out.append("</row>")
            if (r - 1) % self.CHUNK_ROWS == 0:
                yield _utf8(out)
                out = []
        if out:
            yield _utf8(out)


def _utf8(parts: list[str]) -> bytes:
    text = "".join(parts)
    bad = ILLEGAL_CHARACTERS_RE.search(text)
    if bad:
        raise IllegalCharacterError(f"ký tự điều khiển {bad.group()!r} không ghi được vào bảng Excel")
    return text.encode("utf-8")


def _table_sheet(ws, headers: list[str], widths: list[int], rows: list[list], wrap: tuple[int, ...] = (),
                 formats: dict[int, str] | None = None) -> None:
    """Header row frozen, an autofilter over the data, fixed widths, wrapped text in the given columns,
    number formats by column; the data rows are kept as a _Body for the writer."""
    _header(ws, headers, widths)
    styles: dict[int, dict] = {col: {"alignment": _WRAP} for col in wrap}
    for col, fmt in (formats or {}).items():
        styles.setdefault(col, {})["number_format"] = fmt
    ws._xeploai_body = _Body(rows, styles)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(rows) + 1}"


_MARK = "xeploaiBody"


class _SheetWriter(WorksheetWriter):
    """openpyxl's sheet writer (into memory: ``model.xlsx_memory``), with a table's _Body put into
    ``sheetData`` and counted in the sheet's dimension."""

    def __init__(self, ws, out):
        super().__init__(ws, out=out)
        self.body = getattr(ws, "_xeploai_body", None)

    def write_dimensions(self):
        if self.body is None or not self.body.rows:
            return super().write_dimensions()
        width = max([self.ws.max_column, *self.body.styles, *(len(r) for r in self.body.rows)])
        height = max(self.ws.max_row, len(self.body.rows) + 1)
        self.xf.send(SheetDimension(f"A1:{get_column_letter(width)}{height}").to_tree())

    def write_rows(self):
        """openpyxl's rows, with a marker after the header row where the body goes."""
        if self.body is None:
            return super().write_rows()
        xf = self.xf.send(True)
        with xf.element("sheetData"):
            marked = False
            for row_idx, row in self.rows():
                if row_idx > 1 and not marked:
                    xf.write(Element(_MARK))
                    marked = True
                self.write_row(xf, row, row_idx)
            if not marked:
                xf.write(Element(_MARK))
        self.xf.send(None)

    def pieces(self) -> Iterator[bytes]:
        """The sheet's XML in pieces (``model.xlsx_memory``), the body's rows where the marker is."""
        out = self.read()
        if self.body is None:
            yield out
            return
        head, mark, tail = out.partition(f"<{_MARK}/>".encode())
        assert mark and mark not in tail, "one body marker expected"
        del out
        yield head
        yield from self.body.pieces(self.ws)
        yield tail


class _Writer(MemoryExcelWriter):
    sheet_writer = _SheetWriter


def _summary(ws, loaded: LoadedCase, result: SolveResult) -> None:
    ws.column_dimensions["A"].width = 34
    for col in "BCDEFGH":
        ws.column_dimensions[col].width = 16
    ws.append([f"{TITLE}: {loaded.case.name}"])
    ws["A1"].font = Font(bold=True, size=14)
    title, _description = profile_words(result)
    ws.append(["Bộ quy định", title])
    for line in status_sentences(result):
        ws.append(["Trạng thái" if line.startswith("Trạng thái:") else "", line.removeprefix("Trạng thái: ")])
    ws.append(["Đã chứng minh tối ưu", "Có" if result.proven else "Không"])
    if result.changed is not None:
        ws.append(["Số đối tượng thay đổi", result.changed])
        ws.append(["Tổng số bậc thay đổi", result.steps])
    ws.append(["Giới hạn tỷ lệ", cap_sentence(result)])
    for name, value, default in options_rows(result):
        ws.append([name, value, default])
    ws.append([])
    head = ws.max_row + 1
    headers = ["Loại đối tượng", "Theo", *[lv.official for lv in LEVELS_DESC], "Tổng số xếp loại", "Số thay đổi"]
    _header(ws, headers, [34, 16, 16, 16, 16, 16, 16, 16], row=head)
    for row in level_counts(loaded, result):
        label = KIND_LABELS[row["kind"]]
        ws.append([label, "Mức mục tiêu", *[row["before"][lv] for lv in LEVELS_DESC], row["rated"], None])
        if row["after"] is not None:
            ws.append([label, "Mức cuối cùng", *[row["after"][lv] for lv in LEVELS_DESC], row["rated"], row["changed"]])
    for (cell,) in ws.iter_rows(min_row=1, max_row=head - 1, min_col=2, max_col=2):
        cell.alignment = Alignment(wrap_text=False, vertical="top")
    ws.freeze_panes = f"A{head + 1}"


def _subject_rows(loaded: LoadedCase, result: SolveResult, kind: Kind) -> list[list]:
    h = loaded.hierarchy
    changes = {c.id: c for c in result.changes}
    rows = []
    for s in loaded.case.subjects:
        if s.kind is not kind:
            continue
        group = h.group(h.group_of[s.id]).name if s.id in h.group_of else ""
        if s.id not in result.targets:
            rows.append([s.id, s.name, context_of(loaded, s.id), "", UNRATED, "Không", "", "", group])
            continue
        target = result.targets[s.id]
        final = result.levels.get(s.id)
        c = changes.get(s.id)
        rows.append([
            s.id, s.name, context_of(loaded, s.id), level_name(target),
            level_name(final) if final is not None else NO_RESULT,
            ("Có" if final != target else "Không") if final is not None else "",
            "\n".join(reason_lines(c)) if c is not None else "",
            "\n".join(citation_lines(c)) if c is not None else "",
            group,
        ])
    return rows


def _quota_rows(loaded: LoadedCase, result: SolveResult) -> list[list]:
    out = []
    for q in quota_table(loaded, result):
        out.append([
            q["name"], KIND_LABELS[q["kind"]], q["size"], q["before_xs"], q["before_t"], q["before_cap"],
            "Có" if q["over_before"] else "Không", q["after_xs"], q["after_t"], q["after_cap"],
            q["after_rule"] or q["before_rule"],
            None if q["pct_t"] is None else q["pct_t"] / 100,
            None if q["pct_all"] is None else q["pct_all"] / 100,
        ])
    return out


def build_workbook(loaded: LoadedCase, result: SolveResult) -> Workbook:
    """The results workbook (the sheets in reading order: summary, kinds, quota groups, ties, conflicts)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Tổng hợp"
    _summary(ws, loaded, result)
    for kind, title in KIND_SHEETS.items():
        _table_sheet(wb.create_sheet(title), SUBJECT_HEADERS, SUBJECT_WIDTHS, _subject_rows(loaded, result, kind),
                     wrap=(7, 8))
    qs = wb.create_sheet("Nhóm tỷ lệ")
    _table_sheet(qs, QUOTA_HEADERS, QUOTA_WIDTHS, _quota_rows(loaded, result), wrap=(1,),
                 formats={12: "0.0%", 13: "0.0%"})
    if result.ties:
        ts = wb.create_sheet("Phương án ngang nhau")
        rows = [[r["tie"], r["group"], r["id"], r["name"], level_name(r["target"]), level_name(r["chosen"]),
                 r["support"]] for r in tie_rows(loaded, result)]
        _table_sheet(ts, ["STT nhóm", "Nhóm", "Mã", "Tên", "Mức mục tiêu", "Mức báo cáo chọn",
                          "Tỷ lệ phiếu cho mức mục tiêu"], [10, 40, 14, 32, 30, 30, 16], rows)
        ts.cell(row=len(rows) + 3, column=1, value="Ghi chú: " + TIE_INTRO)
    if result.conflicts:
        cs = wb.create_sheet("Mâu thuẫn")
        rows = [[i, CONFLICT_KINDS.get(c.kind, c.kind), c.subject or "", c.text, c.rule if c.citation else "",
                 c.citation]
                for i, c in enumerate(result.conflicts, start=1)]
        _table_sheet(cs, ["STT", "Loại", "Mã đối tượng", "Nội dung", "Quy tắc", "Căn cứ"], [6, 26, 14, 80, 10, 30],
                     rows, wrap=(4,))
    props = wb.properties
    props.title = f"{TITLE}: {loaded.case.name}"
    props.creator = props.lastModifiedBy = AUTHOR
    props.language = "vi-VN"
    props.created = props.modified = FIXED_TIME.replace(tzinfo=None)
    return wb


def build_xlsx(loaded: LoadedCase, result: SolveResult) -> bytes:
    """The results workbook as bytes, identical for identical input."""
    return workbook_bytes(build_workbook(loaded, result), _Writer)


def write_xlsx(loaded: LoadedCase, result: SolveResult, path: str | Path) -> None:
    """Write the results workbook to ``path``."""
    Path(path).write_bytes(build_xlsx(loaded, result))
