"""The Word report for the standing committee: options, status, summaries, changes with one comment each, S5 order."""

from __future__ import annotations

import io
import re
import zipfile
from collections import Counter
from datetime import date as Date
from datetime import datetime, timezone
from pathlib import Path
from xml.sax.saxutils import escape

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from model.case import KIND_LABELS, Kind
from model.catalogue import load_catalogue
from model.levels import LEVELS_DESC, Level
from model.loader import LoadedCase
from model.xlsx_memory import StableZip
from solver.explanations.explain import render_change
from solver.reports.tables import level_counts, quota_table
from solver.result import STATUS_LABELS, Change, SolveResult

#: The time written into files when no date is asked for: the same bytes on every run.
FIXED_TIME = datetime(2000, 1, 1, 0, 0, 0, tzinfo=timezone.utc)
ZIP_TIME = (2000, 1, 1, 0, 0, 0)
AUTHOR = "xeploai"
TITLE = "Báo cáo kết quả rà soát xếp loại chất lượng"
FONT = "Times New Roman"
#: Reasons that are not rules of the catalogue: a committee lock, the objective, a permitted rise.
NON_RULE_LABELS = {"lock": "Quyết định khóa", "objective": "Phương án ít thay đổi nhất",
                   "allow_up": "Được phép nâng mức"}
NON_RULE_REASONS = tuple(NON_RULE_LABELS)
TABLE_STYLE_ID = "TableText"
CONFLICT_KINDS = {"lock": "Quyết định khóa mức", "direction": "Chiều thay đổi (chỉ hạ mức)", "rule": "Quy định"}


# ---- shared by the Word and the Excel report ------------------------------------------------------

def parse_report_date(text: str) -> Date:
    """A report date written ``YYYY-MM-DD`` or ``DD/MM/YYYY``; a Vietnamese ValueError otherwise."""
    s = text.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(s, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"ngày báo cáo không hợp lệ: {text!r} (viết theo dạng YYYY-MM-DD hoặc DD/MM/YYYY)")


def date_in_words(day: Date) -> str:
    return f"Ngày {day.day:02d} tháng {day.month:02d} năm {day.year}"


def deterministic_zip(data: bytes, when: datetime = FIXED_TIME) -> bytes:
    """Rewrite an Office zip with fixed entry times and core-property times, keeping entry order
    (``model.xlsx_memory.StableZip``, which the Excel files are written into directly)."""
    out = io.BytesIO()
    stamp = when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(io.BytesIO(data)) as src, StableZip(out, ZIP_TIME, stamp) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
    return out.getvalue()


def level_name(level: Level | None) -> str:
    return level.official if level is not None else ""


def context_of(loaded: LoadedCase, sid: str) -> str:
    """The name of what a subject belongs to: its organization, the unit it leads, the collective it heads."""
    s = loaded.hierarchy.subjects[sid]
    ref = s.parent or s.leads or s.heads
    return loaded.hierarchy.subjects[ref].name if ref is not None else ""


def reason_label(rule: str) -> str:
    """A rule ID as shown beside a reason; the non-rule reasons get a Vietnamese label instead."""
    return NON_RULE_LABELS.get(rule, rule)


def reason_lines(change: Change) -> list[str]:
    """Each reason of a change as ``RULE: sentence`` (the sentences of ``solver.explanations.explain``)."""
    return [f"{reason_label(r.rule)}: {r.text}" for r in change.reasons]


def citation_lines(change: Change) -> list[str]:
    """Each distinct ``RULE: citation`` of a change's reasons."""
    return list(dict.fromkeys(f"{r.rule}: {r.citation}" for r in change.reasons if r.citation))


def option_words(name: str, value, options: dict) -> str:
    """An option value in words (the reading of the text it stands for)."""
    if name == "cap_base":
        p = options.get("cap_percent", 20)
        if value == "good_only":
            return f"{p}% số được xếp loại Hoàn thành tốt nhiệm vụ (đúng chữ văn bản)"
        return (f"{p}% số được xếp loại Hoàn thành tốt nhiệm vụ trở lên, tức tính cả số Hoàn thành xuất sắc "
                "nhiệm vụ (cách hiểu của một số nơi)")
    if name == "cap_percent":
        return f"{value}%"
    if name == "small_group_allowance" and value == 0:
        return "0 (không áp dụng quy tắc C2)"
    if name == "allow_up":
        return "Có: được nâng mức khi phương án cho phép" if value else "Không: chỉ hạ mức so với mức mục tiêu"
    if name == "org_member_discipline":
        return "Có (đúng chữ văn bản, áp dụng E7b)" if value else "Không (không áp dụng E7b)"
    if isinstance(value, bool):
        return "Có" if value else "Không"
    return str(value)


def options_rows(result: SolveResult) -> list[tuple[str, str, str]]:
    """(option title, value in words, default or not) for every rule option the solve used."""
    cat = load_catalogue()
    rows = []
    for spec in cat.options:
        if spec.name not in result.options:
            continue
        value = result.options[spec.name]
        default = "mặc định" if value == spec.default else \
            f"khác mặc định ({option_words(spec.name, spec.default, {**result.options, spec.name: spec.default})})"
        rows.append((spec.title, option_words(spec.name, value, result.options), default))
    return rows


def cap_sentence(result: SolveResult) -> str:
    """The quota rule as applied, in one sentence (C1 and C2 with the options used)."""
    o = result.options
    above = " trở lên" if o.get("cap_base") == "good_and_above" else ""
    text = (f"Trong mỗi nhóm tỷ lệ, số được xếp loại Hoàn thành xuất sắc nhiệm vụ không vượt quá "
            f"{o.get('cap_percent', 20)}% số được xếp loại Hoàn thành tốt nhiệm vụ{above} (C1, tính trên mức kết quả)")
    if o.get("small_group_allowance", 0) > 0:
        text += (f"; nhóm có dưới {o.get('small_group_threshold', 5):02d} đối tượng được xếp loại Hoàn thành tốt "
                 f"nhiệm vụ{above} thì vẫn được chọn {o['small_group_allowance']:02d} Hoàn thành xuất sắc nhiệm vụ "
                 "(C2)")
    return text + "."


def profile_words(result: SolveResult) -> tuple[str, str]:
    """(title, description) of the rule profile used."""
    cat = load_catalogue()
    try:
        p = cat.profile(result.profile)
    except ValueError:
        return result.profile, ""
    return f"{p.title} (mã {p.id})", p.description


def status_sentences(result: SolveResult) -> list[str]:
    """The status in words, saying plainly whether the result is proven least change."""
    out = [f"Trạng thái: {STATUS_LABELS[result.status]}."]
    if result.status == "optimal" and result.changed == 0:
        out.append("Kết quả ĐÃ ĐƯỢC CHỨNG MINH: mọi mức mục tiêu đã thỏa các quy định, không phải thay đổi đối tượng "
                   "nào.")
    elif result.status == "optimal":
        out.append(f"Kết quả ĐÃ ĐƯỢC CHỨNG MINH là phương án thay đổi ít nhất: không có phương án nào thỏa mọi "
                   f"quy định mà phải thay đổi ít hơn {result.changed} đối tượng.")
    elif result.status == "feasible":
        bound = f" Cận dưới hiện biết của số đối tượng phải thay đổi: {result.bound_changed}." \
            if result.bound_changed is not None else ""
        out.append("Kết quả CHƯA ĐƯỢC CHỨNG MINH là phương án thay đổi ít nhất (bộ giải dừng vì hết thời gian): "
                   "phương án thỏa mọi quy định, nhưng có thể còn phương án thay đổi ít hơn." + bound)
    elif result.status == "conflict":
        out.append("Không có phương án nào thỏa đồng thời mọi quyết định khóa mức và mọi quy định; "
                   "chưa có kết quả xếp loại. Mục «Mâu thuẫn» nêu tập nhỏ nhất các quyết định và quy định "
                   "mâu thuẫn nhau để cấp có thẩm quyền xem xét.")
    elif result.status == "unknown":
        out.append("Hết thời gian mà bộ giải chưa tìm được phương án nào; chưa có kết quả xếp loại.")
    if result.changed is not None:
        out.append(f"Số đối tượng phải thay đổi so với mức mục tiêu: {result.changed}; "
                   f"tổng số bậc thay đổi: {result.steps}.")
    if result.tie_break_used:
        out.append(TIE_BREAK_SENTENCE)
    out.extend(result.notes)
    return out


TIE_INTRO = ("Trong mỗi nhóm có phương án ngang nhau, các đối tượng được liệt kê có thể đổi mức cho nhau mà "
             "phương án vẫn thỏa mọi quy định và ngang bằng theo cả ba tiêu chí (số đối tượng thay đổi, tổng số "
             "bậc, tỷ lệ phiếu của những đối tượng bị thay đổi); cấp có thẩm quyền xem xét, quyết định.")
TIE_BREAK_SENTENCE = ("Có phương án ngang nhau: báo cáo trình bày phương án chọn theo khóa cố định (giữ mức cao "
                      "hơn cho đối tượng đứng trước trong hồ sơ); đây là quy ước của phần mềm, không phải quy định.")


def support_words(loaded: LoadedCase, sid: str, level: Level) -> str:
    """Ballots at ``level`` or above over the voters, e.g. "9/15"; a dash for a target without ballots."""
    s = loaded.hierarchy.subjects[sid]
    if s.votes is None or s.target is not None:
        return "—"
    v = s.votes.as_dict()
    grades = {Level.XS: ("XS",), Level.T: ("XS", "T"), Level.HT: ("XS", "T", "TB"), Level.K: ("XS", "T", "TB", "K")}
    num = sum(v[g] for g in grades[level])
    return f"{num}/{s.voters or s.votes.total}"


def tie_rows(loaded: LoadedCase, result: SolveResult) -> list[dict]:
    """One row per subject of each tie: its group, target, the level the report chose and its support."""
    rows = []
    h = loaded.hierarchy
    for i, tie in enumerate(result.ties, start=1):
        chosen = dict(tie.chosen)
        group = h.group(tie.group).name if tie.group in {g.id for g in h.groups} else ""
        for sid in tie.subjects:
            target = result.targets.get(sid)
            rows.append({"tie": i, "group": group, "id": sid, "name": h.subjects[sid].name,
                         "kind": h.subjects[sid].kind, "target": target, "chosen": chosen.get(sid),
                         "support": support_words(loaded, sid, target) if target is not None else "—"})
    return rows


def rating_order_rows(loaded: LoadedCase, shown: int = 6) -> list[dict]:
    """S5 per stage: counts per kind and at most ``shown`` names (never the whole list)."""
    subjects = loaded.hierarchy.subjects
    rows = []
    for i, stage in enumerate(loaded.hierarchy.rating_order(loaded.options.rating_order), start=1):
        kinds = Counter(subjects[sid].kind for sid in stage)
        names = [subjects[sid].name for sid in stage[:shown]]  # joined by "; ": names may hold commas
        if len(stage) > shown:
            names.append(f"và {len(stage) - shown} đối tượng khác")
        rows.append({"stage": i, "size": len(stage), "kinds": {k: kinds[k] for k in Kind if kinds[k]},
                     "names": names})
    return rows


def percent_words(value: float | None) -> str:
    """A percentage with a Vietnamese decimal comma, e.g. "16,7%"; a dash for none."""
    return "—" if value is None else f"{value:.1f}".replace(".", ",") + "%"


# ---- the Word document ----------------------------------------------------------------------------

def _fonts(style, size: float | None = None, bold: bool | None = None) -> None:
    """Times New Roman for every script (theme fonts removed), Vietnamese proofing language."""
    style.font.name = FONT
    if size is not None:
        style.font.size = Pt(size)
    if bold is not None:
        style.font.bold = bold
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), FONT)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        later = [rpr.find(qn(t)) for t in ("w:eastAsianLayout", "w:specVanish", "w:oMath")]
        later = [e for e in later if e is not None]
        if later:
            later[0].addprevious(lang)
        else:
            rpr.append(lang)
    lang.set(qn("w:val"), "vi-VN")


def _setup(doc) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(2), Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(2)
    _fonts(doc.styles["Normal"], 13)
    for name, size in (("Title", 16), ("Heading 1", 14), ("Heading 2", 13)):
        _fonts(doc.styles[name], size, True)
        doc.styles[name].font.color.rgb = None
    cell = doc.styles.add_style("Table Text", 1)  # 1 = paragraph style, ID "TableText"
    cell.base_style = doc.styles["Normal"]
    _fonts(cell, 11)
    cell.paragraph_format.space_after = Pt(0)


_RUN_SPLIT = re.compile(r"([\t\r\n])")


def _run_xml(text: str, bold: bool = False) -> str:
    """A ``w:r`` as python-docx's ``add_run(text)`` writes it: tabs and line breaks become ``w:tab`` and
    ``w:br``, a text with outer white space keeps it (``xml:space``)."""
    parts = ["<w:r>", "<w:rPr><w:b/></w:rPr>" if bold else ""]
    for piece in _RUN_SPLIT.split(text) if ("\t" in text or "\n" in text or "\r" in text) else (text,):
        if piece == "\t":
            parts.append("<w:tab/>")
        elif piece in ("\r", "\n"):
            parts.append("<w:br/>")
        elif piece:
            space = ' xml:space="preserve"' if len(piece.strip()) < len(piece) else ""
            parts.append(f"<w:t{space}>{escape(piece)}</w:t>")
    parts.append("</w:r>")
    return "".join(parts)


def _para_xml(style: str, runs: str = "") -> str:
    return f'<w:p><w:pPr><w:pStyle w:val="{style}"/></w:pPr>{runs}</w:p>'


class _Splice:
    """XML text that goes into a part when it is saved, where a marker element stands: lxml never holds it.
    A province's change table and its comments are 50 MB of XML, ten times that as an lxml tree."""

    def __init__(self):
        self.texts: dict[bytes, str] = {}
        self.parts: list = []

    def mark(self, part, parent, text: str) -> None:
        """Put ``text`` (XML in the document's namespaces) at the end of ``parent``, an element of ``part``,
        when the part is saved."""
        if all(p is not part for p in self.parts):
            self.parts.append(part)
        n = len(self.texts)
        marker = OxmlElement("w:xeploaiSplice")
        marker.set(qn("w:id"), str(n))
        parent.append(marker)
        self.texts[f'<w:xeploaiSplice w:id="{n}"/>'.encode()] = text

    def install(self) -> None:
        """Make the marked parts write the texts in place of their markers."""
        texts = self.texts
        for part in self.parts:
            class Spliced(type(part)):
                @property
                def blob(self) -> bytes:
                    data = super().blob
                    for marker, text in texts.items():
                        head, found, tail = data.partition(marker)
                        if found:
                            data = b"".join((head, text.encode("utf-8"), tail))
                    return data

            part.__class__ = Spliced


class _Table:
    """A Word table whose header is built with python-docx and whose body rows are written as XML text, put
    into the document when it is saved (``_Splice``). python-docx's cell API costs about a millisecond a
    cell and its comments API searches all earlier comments for a free id: at 20,000 changes (one comment
    each) that took minutes; the text below is the XML those APIs write (tests/test_reports.py compares
    the two)."""

    def __init__(self, doc, headers: list[str], widths_cm: list[float], comments: "_Comments | None" = None):
        table = doc.add_table(rows=1, cols=len(headers))
        table.style = doc.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        for cell, text, w in zip(table.rows[0].cells, headers, widths_cm):
            cell.width = Cm(w)
            p = cell.paragraphs[0]
            p._p.style = TABLE_STYLE_ID
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            p.add_run(text).bold = True
        trpr = table.rows[0]._tr.get_or_add_trPr()
        header = OxmlElement("w:tblHeader")  # repeat the header row on every page
        header.set(qn("w:val"), "true")
        trpr.append(header)
        self._doc = doc
        self._tbl = table._tbl
        self._cell_open = [f'<w:tc><w:tcPr><w:tcW w:type="dxa" w:w="{Cm(w).twips}"/></w:tcPr>' for w in widths_cm]
        self._rows: list[str] = []
        self._comments = comments

    def row(self, values: list[str | list[str]], *, anchor: tuple[int, str, str, str] | None = None) -> None:
        """Add a row; a list value becomes one paragraph per item. ``anchor`` = (column, bold text, plain
        text after it, comment): that column shows the bold text carrying the comment, then the plain text."""
        out = ["<w:tr>"]
        for col, (opening, value) in enumerate(zip(self._cell_open, values)):
            out.append(opening)
            if anchor is not None and anchor[0] == col:
                _, bold, after, comment = anchor
                cid = self._comments.add(comment)
                out.append(_para_xml(TABLE_STYLE_ID,
                                     f'<w:commentRangeStart w:id="{cid}"/>{_run_xml(bold, True)}'
                                     f'<w:commentRangeEnd w:id="{cid}"/>'
                                     f'<w:r><w:rPr><w:rStyle w:val="CommentReference"/></w:rPr>'
                                     f'<w:commentReference w:id="{cid}"/></w:r>{_run_xml(after)}'))
            else:
                items = value if isinstance(value, list) else [value]
                for text in items or [""]:
                    out.append(_para_xml(TABLE_STYLE_ID, _run_xml(text) if text else ""))
            out.append("</w:tc>")
        out.append("</w:tr>")
        self._rows.append("".join(out))

    def finish(self) -> None:
        if self._rows:
            _splice_of(self._doc).mark(self._doc.part, self._tbl, "".join(self._rows))
        self._rows = []


class _Comments:
    """The document's comments, written as XML text (ids from 0, in the order of the changes table)."""

    def __init__(self, doc, when: datetime):
        self._doc = doc
        self._stamp = when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        self._items: list[str] = []

    def add(self, text: str) -> int:
        cid = len(self._items)
        first, *more = text.split("\n")
        paras = [_para_xml("CommentText", '<w:r><w:rPr><w:rStyle w:val="CommentReference"/></w:rPr>'
                                          f"<w:annotationRef/></w:r>{_run_xml(first)}")]
        paras += [_para_xml("CommentText", _run_xml(line) if line else "") for line in more]
        self._items.append(f'<w:comment w:id="{cid}" w:author="{AUTHOR}" w:initials="XL" w:date="{self._stamp}">'
                           f'{"".join(paras)}</w:comment>')
        return cid

    def finish(self) -> None:
        if self._items:
            part = self._doc.part._comments_part  # created when the document has none
            _splice_of(self._doc).mark(part, part.element, "".join(self._items))
            self._items = []


def _splice_of(doc) -> _Splice:
    """The document's ``_Splice`` (made on first use)."""
    splice = getattr(doc, "_xeploai_splice", None)
    if splice is None:
        splice = doc._xeploai_splice = _Splice()
    return splice


def _save(doc) -> bytes:
    """The document's bytes, with the spliced texts in the main and comments parts."""
    splice = getattr(doc, "_xeploai_splice", None)
    if splice is not None:
        splice.install()
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _arrow(before, after) -> str:
    return f"{before} → {after}" if after is not None else str(before)


def _para(doc, text: str, *, bold: bool = False, italic: bool = False, center: bool = False):
    p = doc.add_paragraph()
    run = p.add_run(text)
    run.bold, run.italic = bold, italic
    if center:
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    return p


class _Sections:
    """Numbered section headings (1., 2., …) so that optional sections keep the numbering whole."""

    def __init__(self, doc):
        self.doc, self.n = doc, 0

    def __call__(self, title: str) -> None:
        self.n += 1
        self.doc.add_heading(f"{self.n}. {title}", level=1)


def build_docx(loaded: LoadedCase, result: SolveResult, *, date: str | None = None) -> bytes:
    """The Word report as bytes (identical bytes for identical input when ``date`` is None)."""
    day = parse_report_date(date) if date is not None else None
    when = datetime(day.year, day.month, day.day, tzinfo=timezone.utc) if day is not None else FIXED_TIME
    subjects = loaded.hierarchy.subjects
    doc = Document()
    _setup(doc)
    cp = doc.core_properties
    cp.title = f"{TITLE}: {loaded.case.name}"
    cp.author = cp.last_modified_by = AUTHOR
    cp.language = "vi-VN"
    cp.comments = f"Lập bằng {AUTHOR}"
    cp.created = cp.modified = cp.last_printed = when.replace(tzinfo=None)
    cp.revision = 1

    doc.add_heading(f"{TITLE}: {loaded.case.name}", level=0)
    if day is not None:
        _para(doc, date_in_words(day), italic=True)
    if loaded.case.description:
        _para(doc, loaded.case.description)
    section = _Sections(doc)

    section("Căn cứ và tùy chọn quy tắc")
    title, description = profile_words(result)
    p = doc.add_paragraph()
    p.add_run("Bộ quy định áp dụng: ").bold = True
    p.add_run(title)
    if description:
        _para(doc, description, italic=True)
    _para(doc, cap_sentence(result))
    t = _Table(doc, ["Tùy chọn quy tắc", "Giá trị áp dụng", "Ghi chú"], [6, 7, 3])
    for row in options_rows(result):
        t.row(list(row))
    t.finish()

    section("Trạng thái kết quả")
    for line in status_sentences(result):
        _para(doc, line, bold=line.startswith("Kết quả ĐÃ") or line.startswith("Kết quả CHƯA"))

    section("Tổng hợp theo loại đối tượng")
    has_after = bool(result.levels)
    _para(doc, "Số đối tượng ở mỗi mức: theo mức mục tiêu (biểu quyết, đề xuất hoặc mức đã công bố) và theo "
               "kết quả rà soát." if has_after else
               "Số đối tượng ở mỗi mức theo mức mục tiêu (chưa có kết quả rà soát).")
    t = _Table(doc, ["Loại đối tượng", "Theo", *[lv.abbreviation for lv in LEVELS_DESC], "Tổng", "Thay đổi"],
               [4.2, 2.6, 1.5, 1.5, 1.5, 1.5, 1.5, 1.7])
    for row in level_counts(loaded, result):
        label = KIND_LABELS[row["kind"]]
        t.row([label, "Mục tiêu", *[str(row["before"][lv]) for lv in LEVELS_DESC], str(row["rated"]), ""])
        if row["after"] is not None:
            t.row([label, "Kết quả", *[str(row["after"][lv]) for lv in LEVELS_DESC], str(row["rated"]),
                     str(row["changed"])])
    t.finish()
    _para(doc, "Viết tắt: " + "; ".join(f"{lv.abbreviation} = {lv.official}" for lv in LEVELS_DESC) + ".", italic=True)

    section("Nhóm tỷ lệ")
    _para(doc, cap_sentence(result))
    rows = quota_table(loaded, result)
    t = _Table(doc, ["Nhóm tỷ lệ", "Số đối tượng", "Số XS (mục tiêu → kết quả)", "Số T (mục tiêu → kết quả)",
                     "Tối đa XS", "% XS so với số T", "% XS so với cả nhóm", "Trước rà soát"],
               [4, 1.4, 2, 2, 1.4, 1.7, 1.7, 1.8])
    for q in rows:
        cap = q["after_cap"] if q["after_cap"] is not None else q["before_cap"]
        rule = q["after_rule"] or q["before_rule"]
        t.row([q["name"], str(q["size"]), _arrow(q["before_xs"], q["after_xs"]), _arrow(q["before_t"], q["after_t"]),
                 f"{cap} ({rule})", percent_words(q["pct_t"]), percent_words(q["pct_all"]),
                 f"vượt (tối đa {q['before_cap']})" if q["over_before"] else "không vượt"])
    t.finish()

    section("Danh sách thay đổi")
    by_id = {c.id: c for c in result.changes}
    if not result.changes:
        _para(doc, "Không có đối tượng nào phải thay đổi so với mức mục tiêu." if has_after else
              "Chưa có phương án nên chưa có thay đổi nào.")
    else:
        _para(doc, f"{len(result.changes)} đối tượng thay đổi so với mức mục tiêu. Mỗi dòng có một ghi chú (comment) "
                   "nêu đầy đủ căn cứ của thay đổi.")
        comments = _Comments(doc, when)
        t = _Table(doc, ["STT", "Đối tượng", "Loại", "Mức mục tiêu → mức kết quả", "Lý do", "Căn cứ"],
                   [1, 3.2, 2.2, 3.2, 4.4, 2], comments)
        for i, c in enumerate(result.changes, start=1):
            s = subjects[c.id]
            t.row([str(i), "", KIND_LABELS[s.kind], f"{c.before.official} → {c.after.official}",
                   reason_lines(c), citation_lines(c) or ["—"]],
                  anchor=(1, s.name, f" ({c.id})", render_change(loaded, c, by_id)))
        t.finish()
        comments.finish()

    if result.ties:
        section("Những điểm cấp có thẩm quyền còn lựa chọn")
        _para(doc, TIE_INTRO)
        _para(doc, TIE_BREAK_SENTENCE, italic=True)
        t = _Table(doc, ["Nhóm", "Đối tượng", "Mức mục tiêu", "Báo cáo chọn", "Tỷ lệ phiếu cho mức mục tiêu"],
                   [4, 3.6, 3, 3, 2.4])
        for r in tie_rows(loaded, result):
            t.row([f"{r['tie']}. {r['group']}".rstrip(". ") if r["group"] else str(r["tie"]),
                     f"{r['name']} ({r['id']})", level_name(r["target"]), level_name(r["chosen"]), r["support"]])
        t.finish()

    if result.conflicts:
        section("Mâu thuẫn")
        _para(doc, "Tập nhỏ nhất các quyết định và quy định không thể cùng thỏa mãn (bỏ bất kỳ một mục nào thì "
                   "các mục còn lại thỏa được):" if result.conflict_minimal else
                   "Các quyết định và quy định không thể cùng thỏa mãn (hết thời gian trước khi rút gọn xong: có "
                   "thể bỏ bớt vài mục mà vẫn mâu thuẫn):")
        t = _Table(doc, ["STT", "Loại", "Nội dung", "Căn cứ"], [1, 3.5, 8.5, 3])
        for i, c in enumerate(result.conflicts, start=1):
            t.row([str(i), CONFLICT_KINDS.get(c.kind, c.kind), c.text,
                     f"{c.rule}: {c.citation}" if c.citation else "—"])
        t.finish()

    section("Thứ tự xếp loại (S5)")
    s5 = load_catalogue().rule("S5")
    _para(doc, f"{s5.summary} [S5, {s5.cite}]")
    _para(doc, "Thứ tự các vòng họp suy ra từ quan hệ giữa các đối tượng: đối tượng ở một vòng chỉ xếp loại sau "
               "khi các đối tượng liên quan ở vòng trước đã xếp loại.")
    t = _Table(doc, ["Vòng", "Số đối tượng theo loại", "Gồm"], [1.5, 6, 8.5])
    for r in rating_order_rows(loaded):
        t.row([str(r["stage"]), [f"{KIND_LABELS[k]}: {n}" for k, n in r["kinds"].items()], "; ".join(r["names"])])
    t.finish()

    if loaded.warnings:
        section("Cảnh báo về dữ liệu")
        for w in loaded.warnings[:100]:
            _para(doc, str(w))
        if len(loaded.warnings) > 100:
            _para(doc, f"… và {len(loaded.warnings) - 100} cảnh báo khác.")

    return deterministic_zip(_save(doc), when)


def write_docx(loaded: LoadedCase, result: SolveResult, path: str | Path, *, date: str | None = None) -> None:
    """Write the Word report to ``path`` (a date in the title and properties only when ``date`` is given)."""
    Path(path).write_bytes(build_docx(loaded, result, date=date))
