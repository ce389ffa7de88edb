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

from model.case import EXCLUSIONS, KIND_LABELS, Kind
from model.levels import LEVELS_DESC
from model.loader import LoadedCase
from model.xlsx_memory import MemoryExcelWriter, workbook_bytes, workbook_write
from solver.explanations.words import cite
from solver.reports.tables import report_facts
from solver.reports.word import (
    AUTHOR,
    CONFLICT_KINDS,
    DECISION_HEADINGS,
    FIXED_TIME,
    TIE_INTRO,
    TITLE,
    cap_words,
    citations,
    context_of,
    group_name,
    level_name,
    options_rows,
    profile_title,
    sources_basis,
    rule_codes,
    status_paragraphs,
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
#: The columns of a kind's sheet: the ballots next to the level they give, then the result and its reasons.
SUBJECT_HEADERS = ["Mã", "Tên", "Thuộc", "Phiếu Xuất sắc", "Phiếu Tốt", "Phiếu Trung bình", "Phiếu Kém",
                   "Số người biểu quyết", "Điểm thẩm định", "Mức mục tiêu", "Nguồn mức mục tiêu",
                   "Tỷ lệ phiếu cho mức mục tiêu",
                   "Mức cuối cùng", "Thay đổi", "Lý do", "Quy định", "Căn cứ", "Nhóm tỷ lệ"]
SUBJECT_WIDTHS = [14, 32, 30, 10, 10, 10, 10, 11, 10, 30, 14, 13, 30, 10, 70, 10, 30, 40]
#: Columns (1-based) of a kind's sheet: wrapped text, the share as a percentage.
SUBJECT_WRAP = (15, 16, 17)
SUBJECT_SHARE = 12
#: Where a target comes from (``Subject.target_source``), as the sheet says it.
SOURCE_WORDS = {"target": "Mức đã xác định", "score": "Điểm thẩm định", "votes": "Biểu quyết",
                "proposed": "Đề xuất", "none": None}
DECISION_HEADERS = ["STT", "Loại", "Vấn đề", "Nội dung", "Nhóm tỷ lệ", "Mã đối tượng", "Tên đối tượng"]
DECISION_WIDTHS = [6, 30, 26, 90, 40, 20, 40]
QUOTA_HEADERS = ["Nhóm tỷ lệ", "Loại đối tượng", "Số đối tượng", "Số XS mục tiêu", "Số T mục tiêu",
                 "Tối đa XS (mục tiêu)", "Vượt trần trước rà soát", "Số XS cuối cùng", "Số T cuối cùng", "Tối đa XS",
                 "Quy tắc giới hạn", "Tỷ lệ XS so với số T", "Tỷ lệ XS so với cả nhóm"]
QUOTA_WIDTHS = [44, 24, 12, 12, 12, 14, 14, 12, 12, 11, 12, 14, 14]
UNRATED = "Không xếp loại"
NO_RESULT = "Chưa có kết quả"

_BOLD = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
#: The fill of a changed subject's row.
CHANGED_FILL = PatternFill("solid", fgColor="FFF2CC")
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
    bad = ILLEGAL_CHARACTERS_RE.search(value)
    if bad:
        raise IllegalCharacterError(f"ký tự điều khiển {bad.group()!r} không ghi được vào bảng Excel")
    value = value[:32767]  # Excel's limit for a cell, as openpyxl cuts it
    space = ' xml:space="preserve"' if value != value.strip() else ""
    if "&" in value or "<" in value or ">" in value or "\r" in value:
        value = escape(value, _CR)
    return f'{style} t="inlineStr"><is><t{space}>{value}</t></is></c>'


def _style_attr(ws, attrs: dict) -> str:
    """`` s="N"`` for a cell with ``attrs`` (font, fill, alignment, number format), registering the style in
    ``ws``'s workbook as openpyxl does when it writes such a cell."""
    probe = Cell(ws)
    for name, value in attrs.items():
        setattr(probe, name, value)
    return f' s="{probe.style_id}"'


#: The largest integer ``safe_string`` writes in full ("%.16g"); a larger one goes through it.
_PLAIN_INT = 10**15


class _Body:
    """A table's data rows, written as sheet XML text when the workbook is saved.

    Kept by measurement (``benchmarks/bench_report_writers.py``, 2 cores): openpyxl builds an object for every
    cell and writes it through lxml (about 20 µs a cell in a normal workbook, 6 µs in write-only mode: 31 s for a
    province's member sheet of 300,000 rows and 17 columns); XlsxWriter's constant-memory mode takes about 8 µs
    a cell (41 s) and writes its rows through temporary files of the system's. This writer takes about 1.4 µs
    a cell, compression included (7 s), within a budget of a few seconds. The text below is what openpyxl writes for the same cells (inline strings, ``t="n"`` numbers, a
    style only where one is given, styles registered at first use in cell order; tests/test_reports.py
    compares the two), except that a text is always a text (openpyxl would turn a name beginning with "="
    into a formula) and an empty cell of a styled column is left out unless its row is highlighted."""

    def __init__(self, rows: list[list], styles: dict[int, dict], highlight: set[int] | None = None,
                 fill: PatternFill = CHANGED_FILL, unique: tuple[int, ...] = ()):
        self.rows, self.styles = rows, styles
        #: Rows (0-based) whose every cell gets ``fill`` over its column's style.
        self.highlight, self.fill = highlight or set(), fill
        #: Columns (1-based) whose texts rarely repeat (codes, names): not worth remembering.
        self.unique = unique

    #: Rows per piece of sheet XML: a province's member sheet is never one text in memory.
    CHUNK_ROWS = 4096

    def pieces(self, ws) -> Iterator[bytes]:
        """The ``<row>`` elements, numbered from 2, as UTF-8 pieces of ``CHUNK_ROWS`` rows."""
        styles, fill, highlight = self.styles, self.fill, self.highlight
        width = max([max(styles, default=0), *(len(r) for r in self.rows)])
        attr: dict[bool, list] = {False: [None] * width, True: [None] * width}  # style per column, at first use

        def style_of(c: int, lit: bool) -> str:
            attrs = dict(styles.get(c + 1, {}))
            if lit:
                attrs["fill"] = fill
            attr[lit][c] = _style_attr(ws, attrs) if attrs else ""
            return attr[lit][c]

        letters = [get_column_letter(c) for c in range(1, 1 + width)]
        # per column: a text (or None) -> its cell after ``<c r="…"``, plain and highlighted
        tails: dict[bool, list] = {False: [{} for _ in letters], True: [{} for _ in letters]}
        remember = [c + 1 not in self.unique for c in range(width)]
        out: list[str] = []
        append = out.append
        for i, values in enumerate(self.rows):
            row = str(i + 2)
            append(f'<row r="{row}">')
            lit = i in highlight
            if lit and len(values) < width:
                values = [*values, *[None] * (width - len(values))]
            attrs, cache = attr[lit], tails[lit]
            for c, value in enumerate(values):
                if value is None and not lit:
                    continue
                a = attrs[c]
                if a is None:
                    a = style_of(c, lit)
                kind = type(value)
                if kind is str or value is None:
                    if remember[c]:
                        tail = cache[c].get(value)
                        if tail is None:
                            tail = cache[c][value] = _cell_tail(value, a)
                    else:
                        tail = _cell_tail(value, a)
                elif kind is int and -_PLAIN_INT < value < _PLAIN_INT:
                    tail = f'{a} t="n"><v>{value}</v></c>'
                elif kind in (int, float):
                    tail = f'{a} t="n"><v>{safe_string(value)}</v></c>'
                else:
                    raise TypeError(f"giá trị không ghi được vào bảng Excel: {value!r}")
                if tail:
                    append(f'<c r="{letters[c]}{row}"{tail}')
            append("</row>")
            if (i + 1) % self.CHUNK_ROWS == 0:
                yield "".join(out).encode("utf-8")
                out.clear()
        if out:
            yield "".join(out).encode("utf-8")


def _table_sheet(ws, headers: list[str], widths: list[int], rows: list[list], wrap: tuple[int, ...] = (),
                 formats: dict[int, str] | None = None, highlight: set[int] | None = None,
                 unique: tuple[int, ...] = ()) -> None:
    """Header row frozen, an autofilter over the data, fixed widths, wrapped text in the given columns,
    number formats by column, the rows of ``highlight`` (0-based) filled; the data rows are kept as a _Body
    for the writer."""
    _header(ws, headers, widths)
    styles: dict[int, dict] = {col: {"alignment": _WRAP} for col in wrap}
    for col, fmt in (formats or {}).items():
        styles.setdefault(col, {})["number_format"] = fmt
    ws._xeploai_body = _Body(rows, styles, highlight, unique=unique)
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
        width = max([self.ws.max_column, *self.body.styles, *(len(r) for r in self.body.rows)])  # (highlighted
        # rows are as wide as the widest row)
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
    ws.append(["Căn cứ", sources_basis(loaded)])
    ws.append(["Bộ quy định áp dụng", profile_title(result)])
    facts = report_facts(loaded, result)
    counts = facts.counts
    rated = sum(r["rated"] for r in counts)
    for i, line in enumerate(status_paragraphs(result, rated, facts.sources)):
        ws.append(["Kết quả rà soát" if i == 0 else "", line])
    for note in result.notes:
        ws.append(["Lưu ý", note])
    ws.append(["Đã chứng minh ít thay đổi nhất", "Có" if result.proven else "Không"])
    if result.changed is not None:
        ws.append(["Số đối tượng thay đổi", result.changed])
        ws.append(["Tổng số bậc thay đổi", result.steps])
    ws.append(["Số vấn đề cần quyết định", len(result.decisions)])
    ws.append(["Giới hạn tỷ lệ", cap_words(result.options, loaded)])
    for name, value, default in options_rows(result, codes=False):
        ws.append([name, value, default])
    ws.append([])
    head = ws.max_row + 1
    headers = ["Loại đối tượng", "Theo", *[lv.official for lv in LEVELS_DESC], "Tổng số xếp loại", "Số thay đổi"]
    _header(ws, headers, [34, 16, 16, 16, 16, 16, 16, 16], row=head)
    for row in counts:
        label = KIND_LABELS[row["kind"]]
        ws.append([label, "Mức mục tiêu", *[row["before"][lv] for lv in LEVELS_DESC], row["rated"], None])
        if row["after"] is not None:
            ws.append([label, "Mức cuối cùng", *[row["after"][lv] for lv in LEVELS_DESC], row["rated"], row["changed"]])
    for (cell,) in ws.iter_rows(min_row=1, max_row=head - 1, min_col=2, max_col=2):
        cell.alignment = Alignment(wrap_text=False, vertical="top")
    for r in ws.iter_rows(min_row=head + 1, min_col=3, max_col=8):
        for cell in r:
            cell.number_format = "#,##0"
    ws.freeze_panes = f"A{head + 1}"


#: Official level names indexed by the level (an int): a dict keyed by the enum would hash it in Python.
_LEVEL_NAMES = tuple(level_name(lv) for lv in sorted(LEVELS_DESC))


def _subject_rows(loaded: LoadedCase, result: SolveResult, kind: Kind) -> tuple[list[list], set[int]]:
    """The rows of a kind's sheet, and which of them (0-based) changed level."""
    h = loaded.hierarchy
    subjects = h.subjects
    changes = {c.id: c for c in result.changes}
    group_names = {g.id: g.name for g in h.groups}
    group_of = h.group_of
    targets, levels = result.targets, result.levels
    names = _LEVEL_NAMES
    rows, changed = [], set()
    for s in loaded.case.subjects:
        if s.kind is not kind:
            continue
        sid = s.id
        ref = s.parent or s.leads or s.heads  # context_of
        context = subjects[ref].name if ref is not None else ""
        group = group_names.get(group_of.get(sid), "")
        votes = s.votes
        if votes is not None:
            xs, t, tb, k = votes.XS, votes.T, votes.TB, votes.K
            total = s.voters if s.voters is not None else xs + t + tb + k  # model.ballots.denominator
            ballots = (xs, t, tb, k, total)
        else:
            ballots = (None,) * 5
        target = targets.get(sid)
        if target is None:
            if s.excluded is not None:  # X1: why the subject is listed but not rated, and the clause
                why, rule, basis = f"Không xếp loại: {EXCLUSIONS[s.excluded]}", "X1", cite(loaded, "X1", s.kind.value)
            else:
                why, rule, basis = "Không thuộc diện xếp loại (hồ sơ ghi không xếp loại)", None, None
            rows.append([sid, s.name, context, *ballots, s.score, None, None, None, UNRATED, "Không", why, rule, basis,
                         group])
            continue
        final = levels.get(sid)
        if votes is not None:  # model.ballots.support of the target, without a Fraction
            at = (xs, xs + t, xs + t + tb, xs + t + tb + k)[3 - target]
            share = at / total if total else 0.0
        else:
            share = None
        source = SOURCE_WORDS[s.target_source()]
        c = changes.get(sid)
        if c is None:
            rows.append([sid, s.name, context, *ballots, s.score, names[target], source, share,
                         names[final] if final is not None else NO_RESULT,
                         ("Có" if final != target else "Không") if final is not None else None, None, None, None,
                         group])
            continue
        changed.add(len(rows))
        rows.append([sid, s.name, context, *ballots, s.score, names[target], source, share, names[final],
                     "Có" if final != target else "Không", "\n".join(r.text for r in c.reasons),
                     "\n".join(rule_codes(c)), "\n".join(citations(c)), group])
    return rows, changed


def _quota_rows(loaded: LoadedCase, result: SolveResult) -> list[list]:
    out = []
    for q in report_facts(loaded, result).groups:
        out.append([
            q["name"], KIND_LABELS[q["kind"]], q["size"], q["before_xs"], q["before_t"], q["before_cap"],
            "Có" if q["over_before"] else "Không", q["after_xs"], q["after_t"], q["after_cap"],
            q["after_rule"] or q["before_rule"],
            None if q["pct_t"] is None else q["pct_t"] / 100,
            None if q["pct_all"] is None else q["pct_all"] / 100,
        ])
    return out


def _decision_rows(loaded: LoadedCase, result: SolveResult) -> list[list]:
    """One row per matter the committee must decide: its kind, title, text, group and subjects."""
    subjects = loaded.hierarchy.subjects
    return [[i, DECISION_HEADINGS.get(d.kind, d.title), d.title, d.text, group_name(loaded, d.group),
             "\n".join(d.subjects), "\n".join(subjects[s].name for s in d.subjects if s in subjects)]
            for i, d in enumerate(result.decisions, start=1)]


def build_workbook(loaded: LoadedCase, result: SolveResult) -> Workbook:
    """The results workbook (the sheets in reading order: summary, the committee's decisions, kinds, quota
    groups, ties, conflicts)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Tổng hợp"
    _summary(ws, loaded, result)
    if result.decisions:
        _table_sheet(wb.create_sheet("Cần quyết định"), DECISION_HEADERS, DECISION_WIDTHS,
                     _decision_rows(loaded, result), wrap=(4, 6, 7))
    for kind, title in KIND_SHEETS.items():
        rows, changed = _subject_rows(loaded, result, kind)
        _table_sheet(wb.create_sheet(title), SUBJECT_HEADERS, SUBJECT_WIDTHS, rows, wrap=SUBJECT_WRAP,
                     formats={SUBJECT_SHARE: "0.0%"}, highlight=changed, unique=(1, 2))
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


#: zlib's level for the results workbook: a province's member sheet is 250 MB of XML, which level 6 (the default)
#: compresses in 3 s to 21 MB and level 1 in 0.8 s to 27 MB.
COMPRESS_LEVEL = 1


def build_xlsx(loaded: LoadedCase, result: SolveResult) -> bytes:
    """The results workbook as bytes, identical for identical input."""
    return workbook_bytes(build_workbook(loaded, result), _Writer, compresslevel=COMPRESS_LEVEL)


def write_xlsx(loaded: LoadedCase, result: SolveResult, path: str | Path) -> None:
    """Write the results workbook to ``path`` (the same bytes as ``build_xlsx``, streamed into the file)."""
    with open(path, "wb") as f:
        workbook_write(build_workbook(loaded, result), f, _Writer, compresslevel=COMPRESS_LEVEL)
