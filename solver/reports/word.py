"""The Word report to the standing committee, in the form of a Party document (Hướng dẫn 36-HD/VPTW).

Header (issuing body, "ĐẢNG CỘNG SẢN VIỆT NAM", number, place and date), title and subject, "Kính gửi", a body of
a few pages whatever the size of the case (the result in figures, the matters the committee must decide, the
proposal), the signature and "Nơi nhận"; then the complete lists as appendices (Phụ lục), the wide ones in
landscape sections. Rule codes appear only in a column of the appendices (with a legend); margin comments, one
per change, only in the review version (``review=True``). Every sentence is rendered from the result's records;
explanation sentences (``Reason.text``, ``Decision.text``) come from ``solver.explanations`` unchanged.

The helpers at the top are shared with the Excel results and the app.
"""

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
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from model.case import KIND_LABELS, Kind
from model.catalogue import load_catalogue, resolve_options
from model.document import DocumentInfo, parse_document_date
from model.levels import LEVELS_DESC, Level
from model.loader import LoadedCase
from model.xlsx_memory import StableZip
from solver.explanations.explain import render_change
from solver.explanations.words import UNSOURCED, cite, measure, quota_sentence, share_of
from solver.explanations.words import status_sentences as _status_sentences
from solver.reports.tables import RATED_KINDS, ReportFacts, report_facts
from solver.result import STATUS_LABELS, Change, SolveResult

#: The time written into files when no date is asked for: the same bytes on every run.
FIXED_TIME = datetime(2000, 1, 1, 0, 0, 0, tzinfo=timezone.utc)
ZIP_TIME = (2000, 1, 1, 0, 0, 0)
#: The author written into the Excel results' properties and the app's files (not into the Word report,
#: whose author is its issuing body).
AUTHOR = "xeploai"
TITLE = "Báo cáo kết quả rà soát xếp loại chất lượng"
FONT = "Times New Roman"
#: Reasons that are not rules of the catalogue: a committee lock, the objective, a permitted rise.
NON_RULE_LABELS = {"lock": "Quyết định khóa", "objective": "Phương án ít thay đổi nhất",
                   "allow_up": "Được phép nâng mức"}
NON_RULE_REASONS = tuple(NON_RULE_LABELS)
#: The same reasons as a committee reads them in the report's tables.
NON_RULE_WORDS = {"lock": "Quyết định của cấp có thẩm quyền", "objective": "Phương án điều chỉnh ít nhất",
                  "allow_up": "Được phép nâng mức"}
TABLE_STYLE_ID = "TableText"
CONFLICT_KINDS = {"lock": "Quyết định khóa mức", "direction": "Chiều thay đổi (chỉ hạ mức)", "rule": "Quy định"}
CONFLICT_WORDS = {"lock": "Quyết định của cấp có thẩm quyền", "direction": "Chỉ được hạ mức so với biểu quyết",
                  "rule": "Quy định"}
#: The matters of ``result.decisions`` by kind, as the report heads them; a kind not listed here is headed by
#: its first decision's title.
DECISION_HEADINGS = {
    "conflict": "Các quyết định mâu thuẫn với quy định",
    "tie": "Các trường hợp ngang nhau",
    "exception": "Các trường hợp ngoại lệ",
    "several_posts": "Một người giữ nhiều chức vụ có mức xếp loại khác nhau",
}
#: At most this many matters of one kind in the body; the rest are in the appendix.
BODY_DECISIONS = 3
#: A matter's text longer than this is cut in the body (at a separator) and given whole in the appendix.
BODY_DECISION_CHARS = 700
DOTS = "…"
BLANK_LINE = "……………………………"


# ---- shared by the Word and the Excel report, and the app ---------------------------------------

def parse_report_date(text: str) -> Date:
    """A report date written ``YYYY-MM-DD`` or ``DD/MM/YYYY``; a Vietnamese ValueError otherwise."""
    try:
        return parse_document_date(text)
    except ValueError:
        raise ValueError(f"ngày báo cáo không hợp lệ: {text!r} (viết theo dạng YYYY-MM-DD hoặc DD/MM/YYYY)") from None


def party_date(day: Date) -> str:
    """"ngày 05 tháng 02 năm 2019": a day below 10 and the months 1 and 2 with a leading zero (36-HD/VPTW)."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


def date_in_words(day: Date) -> str:
    return party_date(day)[0].upper() + party_date(day)[1:]


def vn_int(n: int) -> str:
    """An integer with Vietnamese thousands dots: 14.563."""
    return f"{n:,}".replace(",", ".")


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


def rule_codes(change: Change) -> list[str]:
    """The catalogue rule of each reason, once each, in order; the non-rule reasons in words."""
    return list(dict.fromkeys(NON_RULE_WORDS.get(r.rule, r.rule) for r in change.reasons))


def citations(change: Change) -> list[str]:
    """Each distinct citation of a change's reasons, without the rule code."""
    return list(dict.fromkeys(r.citation for r in change.reasons if r.citation))


def option_words(name: str, value, options: dict, *, codes: bool = True) -> str:
    """An option value in words (the reading of the text it stands for); ``codes=False`` leaves rule codes out
    (the report to be printed)."""
    if name == "cap_base":
        p = options.get("cap_percent", 20)
        if value == "good_only":
            return f"{p}% số được xếp loại Hoàn thành tốt nhiệm vụ (đúng chữ văn bản)"
        return (f"{p}% số được xếp loại Hoàn thành tốt nhiệm vụ trở lên, tức tính cả số Hoàn thành xuất sắc "
                "nhiệm vụ (cách hiểu của một số nơi)")
    if name == "cap_percent":
        return f"{value}%"
    if name == "small_group_allowance" and value == 0:
        return "0 (không áp dụng quy tắc C2)" if codes else "0 (không áp dụng quy định về nơi có dưới 05)"
    if name == "allow_up":
        if value:
            return "Có: được nâng mức khi phương án cho phép"
        return "Không: chỉ hạ mức so với mức mục tiêu" if codes else ("Không: chỉ hạ mức so với mức theo điểm, kết quả "
                                                                              "biểu quyết hoặc đề xuất")
    if name == "org_member_discipline":
        if codes:
            return "Có (đúng chữ văn bản, áp dụng E7b)" if value else "Không (không áp dụng E7b)"
        return "Có (đúng chữ văn bản)" if value else "Không"
    if isinstance(value, bool):
        return "Có" if value else "Không"
    names = {p.name for p in load_catalogue().params}
    return load_catalogue().param(name).label_of(value) if name in names else str(value)


def options_rows(result: SolveResult, *, codes: bool = True) -> list[tuple[str, str, str]]:
    """(parameter title, value in words, the profile's value or not) for every parameter read by a rule in
    force in the solve; "mặc định" is the value of the case's own profile (a 2025 case's meeting order is the
    default of its profile, not of the older guides)."""
    cat = load_catalogue()
    used = result.options.get("rules")
    try:
        profile = resolve_options(result.profile or None).model_dump(mode="json")
    except ValueError:
        profile = {}
    rows = []
    for spec in cat.params:
        if spec.name not in result.options:
            continue
        if used is not None and spec.rules and not any(r in used for r in spec.rules):
            continue  # no rule in force reads it: not a choice this case made
        value = result.options[spec.name]
        base = profile.get(spec.name, spec.default)
        default = "mặc định" if value == base else \
            f"khác mặc định ({option_words(spec.name, base, {**result.options, spec.name: base}, codes=codes)})"
        rows.append((spec.title, option_words(spec.name, value, result.options, codes=codes), default))
    return rows


def source_legend(sources) -> str:
    """«BMT: Hướng dẫn … ngày 21/11/2018; …» for the sources a case cites (its profile's, never another's)."""
    cat = load_catalogue()
    known = {src.id: src for src in cat.sources}
    parts = []
    for sid in sources:
        src = known.get(sid)
        if src is not None:
            short = re.sub(r"\s*\(\d{4}\)$", "", src.short)
            parts.append(f"{src.label}: {short}, ngày {src.date:%d/%m/%Y}")
    return "; ".join(parts)


def cap_words(options: dict, loaded: LoadedCase | None = None) -> str:
    """The quota rules as applied, in one sentence without rule codes (``words.quota_sentence``)."""
    return quota_sentence(loaded, options)


def profile_words(result: SolveResult) -> tuple[str, str]:
    """(title, description) of the rule profile used."""
    cat = load_catalogue()
    try:
        p = cat.profile(result.profile)
    except ValueError:
        return result.profile, ""
    return f"{p.title} (mã {p.id})", p.description


def profile_title(result: SolveResult) -> str:
    """The title of the rule profile used, without its code (the report to be printed)."""
    try:
        return load_catalogue().profile(result.profile).title
    except ValueError:
        return ""


def sources_basis(loaded: LoadedCase) -> str:
    """The texts a report rests on, as a Party document names them («Căn cứ …»): the case profile's sources by
    their short titles (the profile's own title may describe a reading, «đúng chữ», which is not a text)."""
    cat = load_catalogue()
    names = []
    for sid in loaded.options.sources:
        try:
            names.append(cat.source(sid).short)
        except (KeyError, ValueError):
            continue
    return (", ".join(names[:-1]) + " và " + names[-1]) if len(names) > 1 else "".join(names)


def status_sentences(result: SolveResult) -> list[str]:
    """The status in words (``words.status_sentences``), with the status label first."""
    return [f"Trạng thái: {STATUS_LABELS[result.status]}.", *_status_sentences(result)]


TIE_INTRO = ("Trong mỗi nhóm có phương án ngang nhau, các đối tượng được liệt kê có thể đổi mức cho nhau mà "
             "phương án vẫn thỏa mọi quy định và ngang bằng theo cả ba tiêu chí (số đối tượng thay đổi, tổng số "
             "bậc, tổng điểm hoặc tỷ lệ phiếu của những đối tượng bị thay đổi); cấp có thẩm quyền xem xét, quyết định.")

def support_words(loaded: LoadedCase, sid: str, level: Level) -> str:
    """What ranks a subject for ``level``: its score («92,5 điểm»), its ballots at that level or above over the
    voters («9/15»), or a dash (a written target, or neither)."""
    text = share_of(loaded, sid, level)
    return "—" if text in ("mức ghi sẵn", "không có phiếu") else text


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


def rating_order_rows(loaded: LoadedCase, shown: int = 6, stages: list[list[str]] | None = None) -> list[dict]:
    """S5 per stage (``stages``, default the hierarchy's rating order): counts per kind and at most ``shown``
    names (never the whole list)."""
    subjects = loaded.hierarchy.subjects
    rows = []
    if stages is None:
        stages = loaded.hierarchy.rating_order(loaded.options.rating_order)
    for i, stage in enumerate(stages, start=1):
        by_id = Counter(id(subjects[sid].kind) for sid in stage)  # (an enum member hashes in Python: slow)
        kinds = {k: by_id[id(k)] for k in Kind}
        names = [subjects[sid].name for sid in stage[:shown]]  # joined by "; ": names may hold commas
        if len(stage) > shown:
            names.append(f"và {vn_int(len(stage) - shown)} đối tượng khác")
        rows.append({"stage": i, "size": len(stage), "kinds": {k: kinds[k] for k in Kind if kinds[k]},
                     "names": names})
    return rows


def percent_words(value: float | None) -> str:
    """A percentage with a Vietnamese decimal comma, e.g. "16,7%"; a dash for none."""
    return "—" if value is None else f"{value:.1f}".replace(".", ",") + "%"


def group_name(loaded: LoadedCase, gid: str | None) -> str:
    """A quota group's name ("" for none or an id the hierarchy does not know)."""
    if not gid:
        return ""
    try:
        return loaded.hierarchy.group(gid).name
    except (KeyError, ValueError):
        return ""


def decision_groups(result: SolveResult, loaded: LoadedCase | None = None) -> list[tuple[str, str, list]]:
    """``result.decisions`` grouped by kind, kinds in order of first appearance: (kind, heading, decisions).
    Moves against the ranking are headed by what the case ranks by (scores or ballots)."""
    by_kind: dict[str, list] = {}
    for d in result.decisions:
        by_kind.setdefault(d.kind, []).append(d)
    headings = dict(DECISION_HEADINGS)
    if loaded is not None:
        headings["against_ranking"] = f"Các trường hợp điều chỉnh khác thứ tự {measure(loaded)}"
    return [(kind, headings.get(kind, items[0].title), items) for kind, items in by_kind.items()]


# ---- the Word document: styles, paragraphs, tables --------------------------------------------

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


#: Page geometry (36-HD/VPTW: A4, margins top and bottom 2 cm, left 3 cm, right 1.5 cm).
PORTRAIT = {"width": 21.0, "height": 29.7, "top": 2.0, "bottom": 2.0, "left": 3.0, "right": 1.5}
LANDSCAPE = {"width": 29.7, "height": 21.0, "top": 2.0, "bottom": 1.5, "left": 2.0, "right": 2.0}


def _text_width(geometry: dict) -> float:
    return geometry["width"] - geometry["left"] - geometry["right"]


def _page(section, geometry: dict) -> None:
    section.orientation = WD_ORIENT.LANDSCAPE if geometry["width"] > geometry["height"] else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(geometry["width"]), Cm(geometry["height"])
    section.top_margin, section.bottom_margin = Cm(geometry["top"]), Cm(geometry["bottom"])
    section.left_margin, section.right_margin = Cm(geometry["left"]), Cm(geometry["right"])
    section.footer_distance = Cm(0.8)


def _setup(doc) -> None:
    _page(doc.sections[0], PORTRAIT)
    normal = doc.styles["Normal"]
    _fonts(normal, 14)
    normal.paragraph_format.space_after = Pt(6)
    normal.paragraph_format.space_before = Pt(0)
    for name, size in (("Heading 1", 14), ("Heading 2", 14)):
        style = doc.styles[name]
        _fonts(style, size, True)
        style.font.color.rgb = None
        style.font.italic = False
        style.paragraph_format.space_before = Pt(6)
        style.paragraph_format.space_after = Pt(6)
        style.paragraph_format.first_line_indent = Cm(1)
    cell = doc.styles.add_style("Table Text", 1)  # 1 = paragraph style, ID "TableText"
    cell.base_style = normal
    _fonts(cell, 11)
    cell.paragraph_format.space_after = Pt(0)
    for name in ("Comment Text",):
        if name in [s.name for s in doc.styles]:
            _fonts(doc.styles[name], 11)
    _page_number(doc.sections[0])


def _page_number(section) -> None:
    """The page number at the bottom right of every page (a PAGE field; python-docx has no field API)."""
    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    p._p.append(field)


_RUN_SPLIT = re.compile(r"([\t\r\n])")
_SPECIAL = re.compile(r"[\t\r\n&<>]")


def _run_xml(text: str, bold: bool = False) -> str:
    """A ``w:r`` as python-docx's ``add_run(text)`` writes it: tabs and line breaks become ``w:tab`` and
    ``w:br``, a text with outer white space keeps it (``xml:space``)."""
    if not bold and text and not _SPECIAL.search(text) and not text[0].isspace() and not text[-1].isspace():
        return f"<w:r><w:t>{text}</w:t></w:r>"  # the common case, a plain text (the same XML as below)
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
    A province's appendix tables and the review version's comments are tens of MB of XML, ten times that as an
    lxml tree. The text is kept as UTF-8 pieces (a row, a comment) and the part is joined once when saved:
    Vietnamese text as Python strings takes twice the bytes, and joining a table, then splicing it into the
    document piece by piece, held two or three copies of a province's appendix at once (at 300,000 members the
    Word report's peak above the solved case was 264 MiB with that, measured with tracemalloc)."""

    def __init__(self):
        self.texts: dict[bytes, list[bytes]] = {}
        self.parts: list = []

    def mark(self, part, parent, pieces: list[bytes]) -> None:
        """Put ``pieces`` (UTF-8 XML in the document's namespaces, in order) at the end of ``parent``, an element
        of ``part``, when the part is saved."""
        if all(p is not part for p in self.parts):
            self.parts.append(part)
        n = len(self.texts)
        marker = OxmlElement("w:xeploaiSplice")
        marker.set(qn("w:id"), str(n))
        parent.append(marker)
        self.texts[f'<w:xeploaiSplice w:id="{n}"/>'.encode()] = pieces

    def install(self) -> None:
        """Make the marked parts write the texts in place of their markers."""
        texts = self.texts
        for part in self.parts:
            class Spliced(type(part)):
                @property
                def blob(self) -> bytes:
                    data = super().blob
                    found = sorted((data.find(marker), marker) for marker in texts)
                    out, at = [], 0
                    for pos, marker in found:
                        if pos < 0:
                            continue
                        out.append(data[at:pos])
                        out.extend(texts[marker])
                        at = pos + len(marker)
                    if not out:
                        return data
                    out.append(data[at:])
                    return b"".join(out)

            part.__class__ = Spliced


def _fix_grid(table, widths_cm: list[float]) -> None:
    """The table's grid columns and its width equal the cells' widths: Word reads the cells, LibreOffice and
    WPS read the grid (python-docx writes equal grid columns), so both must say the same."""
    table.autofit = False
    for column, w in zip(table.columns, widths_cm):
        column.width = Cm(w)
    tblpr = table._tbl.tblPr
    tblw = tblpr.find(qn("w:tblW"))
    if tblw is None:
        tblw = OxmlElement("w:tblW")
        tblpr.append(tblw)
    tblw.set(qn("w:type"), "dxa")
    tblw.set(qn("w:w"), str(sum(Cm(w).twips for w in widths_cm)))


class _Table:
    """A Word table whose header is built with python-docx and whose body rows are written as XML text, put
    into the document when it is saved (``_Splice``).

    Kept by measurement (``benchmarks/bench_report_writers.py``, 2 cores): python-docx's ``add_row`` and cell API
    cost about 250 µs a cell, 47 s for a province's appendix of 20,547 changes, against 16 µs a cell (3 s) for
    these rows, within a budget of a few seconds for the whole Word report; its comments API also searches all
    earlier comments for a free id. The text below is the XML those APIs write (tests/test_reports.py compares
    the two)."""

    def __init__(self, doc, headers: list[str], widths_cm: list[float], comments: "_Comments | None" = None):
        table = doc.add_table(rows=1, cols=len(headers))
        table.style = doc.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        for cell, text, w in zip(table.rows[0].cells, headers, widths_cm):
            cell.width = Cm(w)
            p = cell.paragraphs[0]
            p._p.style = TABLE_STYLE_ID
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            p.add_run(text).bold = True
        _fix_grid(table, widths_cm)
        trpr = table.rows[0]._tr.get_or_add_trPr()
        header = OxmlElement("w:tblHeader")  # repeat the header row on every page
        header.set(qn("w:val"), "true")
        trpr.append(header)
        self._doc = doc
        self._tbl = table._tbl
        self._cell_open = [f'<w:tc><w:tcPr><w:tcW w:type="dxa" w:w="{Cm(w).twips}"/></w:tcPr>' for w in widths_cm]
        self._rows: list[bytes] = []
        self._comments = comments

    def row(self, values: list[str | list[str]], *, anchor: tuple[int, str, str, str] | None = None) -> None:
        """Add a row; a list value becomes one paragraph per item. ``anchor`` = (column, bold text, plain
        text after it, comment): that column shows the bold text carrying the comment, then the plain text."""
        out = ["<w:tr><w:trPr><w:cantSplit/></w:trPr>"]  # a row is never split across pages
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
        self._rows.append("".join(out).encode("utf-8"))

    def finish(self) -> None:
        if self._rows:
            _splice_of(self._doc).mark(self._doc.part, self._tbl, self._rows)
        self._rows = []


class _Comments:
    """The document's comments, written as XML text (ids from 0, in the order of the changes table)."""

    def __init__(self, doc, when: datetime, author: str = AUTHOR, initials: str = "XL"):
        self._doc = doc
        self._stamp = when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        self._author, self._initials = escape(author, {'"': "&quot;"}), escape(initials, {'"': "&quot;"})
        self._items: list[bytes] = []

    def add(self, text: str) -> int:
        cid = len(self._items)
        first, *more = text.split("\n")
        paras = [_para_xml("CommentText", '<w:r><w:rPr><w:rStyle w:val="CommentReference"/></w:rPr>'
                                          f"<w:annotationRef/></w:r>{_run_xml(first)}")]
        paras += [_para_xml("CommentText", _run_xml(line) if line else "") for line in more]
        self._items.append(f'<w:comment w:id="{cid}" w:author="{self._author}" w:initials="{self._initials}" '
                           f'w:date="{self._stamp}">{"".join(paras)}</w:comment>'.encode("utf-8"))
        return cid

    def finish(self) -> None:
        if self._items:
            part = self._doc.part._comments_part  # created when the document has none
            _splice_of(self._doc).mark(part, part.element, self._items)
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


def _para(container, text: str = "", *, bold: bool = False, italic: bool = False, underline: bool = False,
          size: float | None = None, align: str | None = None, indent: bool = False, after: float | None = None,
          before: float | None = None, keep: bool = False, style: str | None = None):
    """A paragraph of one run in ``container`` (the document or a table cell)."""
    p = container.add_paragraph(style=style) if style else container.add_paragraph()
    if text:
        run = p.add_run(text)
        if DOC_NUMBER_HYPHEN.search(text):
            _keep_numbers_whole(run, text)
        run.bold, run.italic = bold or None, italic or None
        if underline:
            run.underline = True
        if size is not None:
            run.font.size = Pt(size)
    fmt = p.paragraph_format
    if align is not None:
        p.alignment = {"center": WD_ALIGN_PARAGRAPH.CENTER, "right": WD_ALIGN_PARAGRAPH.RIGHT,
                       "justify": WD_ALIGN_PARAGRAPH.JUSTIFY, "left": WD_ALIGN_PARAGRAPH.LEFT}[align]
    if indent:
        fmt.first_line_indent = Cm(1)
    if after is not None:
        fmt.space_after = Pt(after)
    if before is not None:
        fmt.space_before = Pt(before)
    if keep:
        fmt.keep_with_next = True
    return p


#: The hyphen of a Party document's number («366-QĐ/TW», «43-HD/BTCTW», «…-BC/BTCTU»): a line never breaks there.
DOC_NUMBER_HYPHEN = re.compile(r"(?<=[\d…])-(?=[A-ZĐ]{1,6}/)")


def _body(doc, text: str, **kw):
    """A paragraph of the body: justified, first line indented."""
    return _para(doc, text, align="justify", indent=True, **kw)


def _keep_numbers_whole(run, text: str) -> None:
    """Write ``text`` into ``run`` with the hyphens of document numbers as Word's non-breaking hyphen (every
    reader shows it as "-"), so that «43-HD/BTCTW» is never split over two lines."""
    pieces = DOC_NUMBER_HYPHEN.split(text)
    run.text = pieces[0]
    for piece in pieces[1:]:
        run._r.append(OxmlElement("w:noBreakHyphen"))
        t = OxmlElement("w:t")
        t.set(qn("xml:space"), "preserve")
        t.text = piece
        run._r.append(t)


def _cell_para(cell, text: str = "", **kw):
    """The cell's first paragraph when still empty, else a new one; spacing 0."""
    p = cell.paragraphs[0]
    if p.runs or len(cell.paragraphs) > 1 or getattr(cell, "_xeploai_used", False):
        p = cell.add_paragraph()
    cell._xeploai_used = True
    if text:
        run = p.add_run(text)
        run.bold, run.italic = kw.get("bold") or None, kw.get("italic") or None
        if kw.get("underline"):
            run.underline = True
        if kw.get("size") is not None:
            run.font.size = Pt(kw["size"])
    p.alignment = {"center": WD_ALIGN_PARAGRAPH.CENTER, "left": WD_ALIGN_PARAGRAPH.LEFT,
                   "right": WD_ALIGN_PARAGRAPH.RIGHT}[kw.get("align", "center")]
    p.paragraph_format.space_after = Pt(kw.get("after", 0))
    return p


def _layout_table(doc, rows: int, widths_cm: list[float]):
    """A table without borders, for the header and the signature (python-docx's own API)."""
    table = doc.add_table(rows=rows, cols=len(widths_cm))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for row in table.rows:
        for cell, w in zip(row.cells, widths_cm):
            cell.width = Cm(w)
    _fix_grid(table, widths_cm)
    return table


def _small_table(doc, headers: list[str], widths_cm: list[float], rows: list[list[str]],
                 align: list[str] | None = None):
    """A bordered table of a few rows in the body, built with python-docx's own API."""
    table = doc.add_table(rows=1 + len(rows), cols=len(headers))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    align = align or ["left"] * len(headers)
    for r, values in enumerate([headers, *rows]):
        for c, (cell, value, w) in enumerate(zip(table.rows[r].cells, values, widths_cm)):
            cell.width = Cm(w)
            p = cell.paragraphs[0]
            p.style = doc.styles["Table Text"]
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER if r == 0 else \
                {"left": WD_ALIGN_PARAGRAPH.LEFT, "center": WD_ALIGN_PARAGRAPH.CENTER,
                 "right": WD_ALIGN_PARAGRAPH.RIGHT}[align[c]]
            if value:
                p.add_run(value).bold = True if r == 0 else None
    _fix_grid(table, widths_cm)
    return table


# ---- the form: header, title, addressees, signature ----------------------------------------------

class Form:
    """The document's form fields with blanks filled in: what the case, the command line or the app gave,
    else a visible blank to fill by hand."""

    def __init__(self, info: DocumentInfo, loaded: LoadedCase):
        self.info = info
        self.submission = info.type == "submission"
        self.kind_word = "Tờ trình" if self.submission else "Báo cáo"
        self.upper_body = info.upper_body or BLANK_LINE
        self.issuer = info.issuer or "BAN TỔ CHỨC"
        #: The issuing body as sentences name it, e.g. "Ban Tổ chức".
        self.we = _sentence_case(self.issuer)
        symbol = info.symbol or ("TTr/BTCTU" if self.submission else "BC/BTCTU")
        self.number = f"Số {info.number or DOTS}-{symbol}"
        self.date_words = party_date(info.date) if info.date else f"ngày {DOTS} tháng {DOTS} năm {DOTS}"
        self.place_date = f"{info.place or DOTS}, {self.date_words}"
        if info.subject:
            self.subject = [info.subject]
        elif self.submission:
            self.subject = ["Về việc thông qua kết quả xếp loại chất lượng", loaded.case.name]
        else:
            self.subject = ["Kết quả rà soát xếp loại chất lượng", loaded.case.name]
        self.to = list(info.to) or [f"Ban Thường vụ {BLANK_LINE}"]
        self.addressee = info.to[0] if info.to else "Ban Thường vụ"
        self.sign_for = info.sign_for or f"T/M {self.issuer.upper()}"
        self.signer_title = info.signer_title or "TRƯỞNG BAN"
        self.signer_name = info.signer_name or BLANK_LINE
        self.copies = list(info.copies) or ["Như trên", f"Lưu {DOTS}"]
        self.reference = (f"(Kèm theo {self.kind_word} {self.number[0].lower()}{self.number[1:]}, "
                          f"{self.date_words} của {self.we})")


#: Words capitalized before "ủy" in a body's name: "Tỉnh ủy", "Thành ủy", "Huyện ủy", "Quận ủy", "Thị ủy", "Đảng ủy".
_COMMITTEE_WORDS = {"tỉnh", "thành", "huyện", "quận", "thị", "đảng"}


def _sentence_case(text: str) -> str:
    """A body's name in capitals as a sentence writes it: "BAN TỔ CHỨC TỈNH ỦY" → "Ban Tổ chức Tỉnh ủy" (a text
    already in mixed case is kept)."""
    if text != text.upper():
        return text
    words = text.lower().split()
    out, place = [], False  # after "… ủy" comes a place name: every word capitalized
    for i, w in enumerate(words):
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if i == 0 or (i == 1 and words[0] == "ban") or (w in _COMMITTEE_WORDS and nxt == "ủy") or place:
            w = w[:1].upper() + w[1:]
        place = place or (w == "ủy" and i > 0 and words[i - 1] in _COMMITTEE_WORDS)
        out.append(w)
    return " ".join(out)


def _header(doc, form: Form) -> None:
    """The two-column header without borders: issuing body, "*", number at the left; "ĐẢNG CỘNG SẢN VIỆT NAM"
    underlined and the place-and-date line in italics at the right."""
    widths = [7.0, _text_width(PORTRAIT) - 7.0]
    table = _layout_table(doc, 2, widths)
    left, right = table.rows[0].cells
    _cell_para(left, form.upper_body, size=14)
    _cell_para(left, form.issuer, bold=True, size=14)
    _cell_para(left, "*", size=14)
    _cell_para(right, "ĐẢNG CỘNG SẢN VIỆT NAM", bold=True, underline=True, size=15)
    left, right = table.rows[1].cells
    _cell_para(left, form.number, size=14)
    _cell_para(right, form.place_date, italic=True, size=14)


def _title(doc, form: Form) -> None:
    _para(doc, form.kind_word.upper(), bold=True, size=16, align="center", before=18, after=0, keep=True)
    for line in form.subject:
        _para(doc, line, bold=True, size=14, align="center", after=0, keep=True)
    _para(doc, "-----", align="center", after=6, keep=True)
    if len(form.to) == 1:
        _para(doc, f"Kính gửi: {form.to[0]}", align="center", after=12)
    else:
        _para(doc, "Kính gửi:", align="center", after=0)
        for i, line in enumerate(form.to):
            _para(doc, f"- {line}{',' if i < len(form.to) - 1 else ''}", align="center",
                  after=12 if i == len(form.to) - 1 else 0)


def _signature(doc, form: Form) -> None:
    """"Nơi nhận:" at the bottom left, the signature block at the right (the seed guides' form)."""
    widths = [7.0, _text_width(PORTRAIT) - 7.0]
    table = _layout_table(doc, 1, widths)
    table.rows[0]._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))  # the block stays on one page
    left, right = table.rows[0].cells
    _cell_para(left, "Nơi nhận:", bold=True, italic=True, size=12, align="left")
    for i, line in enumerate(form.copies):
        line = line.strip().lstrip("-").strip().rstrip(",.;")
        end = "" if line.endswith(DOTS) else "." if i == len(form.copies) - 1 else ","
        _cell_para(left, f"- {line}{end}", size=12, align="left")
    _cell_para(right, form.sign_for, bold=True, size=14)
    _cell_para(right, form.signer_title, bold=True, size=14)
    for _ in range(4):
        _cell_para(right, "")
    _cell_para(right, form.signer_name, bold=True, size=14)


# ---- the body: the result in figures, the decisions, the proposal ----------------------------------

def _kind_phrase(counts: list[dict]) -> str:
    parts = [f"{vn_int(r['rated'])} {KIND_LABELS[r['kind']][0].lower()}{KIND_LABELS[r['kind']][1:]}"
             for r in counts if r["rated"]]
    if len(parts) > 1:
        return "; ".join(parts[:-1]) + " và " + parts[-1]
    return parts[0] if parts else "0 đối tượng"


def status_paragraphs(result: SolveResult, rated: int, sources: str, where: str = "") -> list[str]:
    """The result in sentences, each rendered from the result's status and figures (``where``: the appendix
    listing a conflict)."""
    if result.status == "optimal" and result.changed == 0:
        return [f"Kết quả {sources} đã bảo đảm đúng các quy định; không phải điều chỉnh trường hợp nào."]
    if result.status in ("optimal", "feasible"):
        kept = rated - (result.changed or 0)
        out = [f"Để bảo đảm đúng các quy định, phải điều chỉnh mức xếp loại của {vn_int(result.changed)} trường hợp "
               f"so với kết quả {sources} (tổng cộng {vn_int(result.steps)} bậc); {vn_int(kept)} trường hợp giữ "
               "nguyên."]
        if result.status == "optimal":
            out.append(f"Đây là phương án phải điều chỉnh ít nhất: đã kiểm chứng không có phương án nào đúng các "
                       f"quy định mà điều chỉnh ít hơn {vn_int(result.changed)} trường hợp.")
        else:
            bound = (f" (mọi phương án đúng các quy định đều phải điều chỉnh ít nhất {vn_int(result.bound_changed)} "
                     "trường hợp)") if result.bound_changed is not None else ""
            out.append("Phương án này bảo đảm đúng các quy định, nhưng việc rà soát đã dừng khi hết thời gian cho "
                       "phép nên chưa khẳng định được đây là phương án điều chỉnh ít nhất" + bound + ".")
        return out
    if result.status == "conflict":
        return ["Các quyết định của cấp có thẩm quyền về mức xếp loại của một số trường hợp không thể cùng thực "
                "hiện được với các quy định, nên chưa lập được phương án xếp loại. Các quyết định và quy định mâu "
                f"thuẫn nhau được nêu tại mục II{f' và {where}' if where else ''}."]
    return ["Hết thời gian cho phép mà chưa lập được phương án xếp loại đúng các quy định; chưa có kết quả rà soát."]


def _cut(text: str, limit: int) -> tuple[str, bool]:
    """``text`` cut at the last "; " or ", " before ``limit`` characters (whole when short enough)."""
    if len(text) <= limit:
        return text, False
    head = text[:limit]
    for sep in ("; ", ", ", " "):
        at = head.rfind(sep)
        if at > limit // 2:
            return head[:at] + " …", True
    return head + " …", True


def _reason_counts(result: SolveResult) -> list[tuple[str, int]]:
    """(reason in words, how many changes cite it), most cited first; a change counts once per reason."""
    cat = load_catalogue()
    titles = {r.id: r.title for r in cat.rules}
    counts: Counter = Counter()
    for c in result.changes:
        for rule in dict.fromkeys(r.rule for r in c.reasons):
            counts[rule] += 1
    order = {rid: i for i, rid in enumerate(cat.rule_ids)}
    rows = sorted(counts.items(), key=lambda kv: (-kv[1], order.get(kv[0], len(order)), kv[0]))
    return [(titles.get(rule) or NON_RULE_WORDS.get(rule, rule), n) for rule, n in rows]


class _Appendices:
    """The appendices' numbers, known before the body refers to them."""

    def __init__(self, result: SolveResult, review: bool, warnings: int):
        names = []
        if result.decisions:
            names.append("decisions")
        if result.conflicts:
            names.append("conflicts")
        if result.changes:
            names.append("changes")
        names += ["groups", "order", "basis"]
        if review and warnings:
            names.append("warnings")
        self.number = {name: i for i, name in enumerate(names, start=1)}

    def __call__(self, name: str) -> str:
        return f"Phụ lục {self.number[name]}"


def _body_text(doc, loaded: LoadedCase, result: SolveResult, form: Form, refs: _Appendices, facts: ReportFacts) -> None:
    counts = facts.counts
    rated = sum(r["rated"] for r in counts)
    sources = facts.sources
    basis = sources_basis(loaded)
    _body(doc, (f"Căn cứ {basis}; " if basis else "") +
          f"trên cơ sở kết quả {sources} xếp loại chất lượng của {_kind_phrase(counts)}, {form.we} đã rà soát, "
          "đối chiếu với các quy định về tỷ lệ xếp loại, về quan hệ giữa mức xếp loại của tổ chức, tập thể và cá "
          "nhân, và các trường hợp không được xếp loại ở mức cao. Kết quả như sau:")

    doc.add_heading("I. KẾT QUẢ RÀ SOÁT", level=1)
    for text in status_paragraphs(result, rated, sources, refs("conflicts") if result.conflicts else ""):
        _body(doc, text)
    for note in result.notes:
        _body(doc, f"Lưu ý: {note}", italic=True)

    if counts:
        doc.add_heading("1. Kết quả xếp loại theo từng loại đối tượng", level=2)
        has_after = bool(result.levels)
        headers = ["Loại đối tượng", "Theo", *[lv.official for lv in LEVELS_DESC], "Tổng số", "Điều chỉnh"]
        rows = []
        for row in counts:
            label = KIND_LABELS[row["kind"]]
            rows.append([label, sources[0].upper() + sources[1:], *[vn_int(row["before"][lv]) for lv in LEVELS_DESC],
                         vn_int(row["rated"]), ""])
            if has_after:
                rows.append(["", "Sau rà soát", *[vn_int(row["after"][lv]) for lv in LEVELS_DESC],
                             vn_int(row["rated"]), vn_int(row["changed"])])
        table = _small_table(doc, headers, [3.2, 2.6, 1.85, 1.85, 1.85, 1.85, 1.6, 1.7], rows,
                             ["left", "left", *["right"] * 6])
        if has_after:  # one cell for the kind over its two rows
            for r in range(1, len(rows), 2):
                table.cell(r, 0).merge(table.cell(r + 1, 0))

    groups = facts.groups
    if groups:
        doc.add_heading("2. Tỷ lệ Hoàn thành xuất sắc nhiệm vụ", level=2)
        over = sum(1 for q in groups if q["over_before"])
        text = (f"{cap_words(result.options, loaded)} Có {vn_int(len(groups))} nhóm tính tỷ lệ; theo kết quả {sources}, "
                + (f"{vn_int(over)} nhóm vượt tỷ lệ" if over else "không nhóm nào vượt tỷ lệ"))
        if result.levels:
            after_over = sum(1 for q in groups if q["after_xs"] is not None and q["after_xs"] > q["after_cap"])
            text += ("; sau rà soát, tất cả các nhóm đều trong giới hạn" if not after_over else
                     f"; sau rà soát còn {vn_int(after_over)} nhóm vượt tỷ lệ")
        _body(doc, text + f". Chi tiết từng nhóm tại {refs('groups')}.")

    if result.changes:
        doc.add_heading("3. Các trường hợp điều chỉnh", level=2)
        by_kind = Counter(loaded.hierarchy.subjects[c.id].kind for c in result.changes)
        parts = [f"{vn_int(by_kind[k])} {KIND_LABELS[k][0].lower()}{KIND_LABELS[k][1:]}" for k in RATED_KINDS
                 if by_kind[k]]
        _body(doc, f"Các trường hợp phải điều chỉnh gồm: {'; '.join(parts)}. Lý do điều chỉnh (một trường hợp có thể "
                   f"có nhiều lý do); danh sách từng trường hợp với lý do và căn cứ tại {refs('changes')}:", keep=True)
        rows = [[title, vn_int(n)] for title, n in _reason_counts(result)]
        _small_table(doc, ["Lý do", "Số trường hợp"], [13.0, 3.0], rows, ["left", "right"])

    stages = len(facts.stages)
    _body(doc, f"Việc xem xét, xếp loại được tiến hành theo {stages} vòng, vòng sau khi các đối tượng liên quan ở "
               f"vòng trước đã được xếp loại ({refs('order')}); căn cứ và cách áp dụng các quy định tại "
               f"{refs('basis')}.", before=6)

    doc.add_heading("II. NHỮNG VẤN ĐỀ CẦN XEM XÉT, QUYẾT ĐỊNH", level=1)
    if not result.decisions:
        _body(doc, "Rà soát không phát sinh vấn đề nào cần cấp có thẩm quyền xem xét, quyết định riêng.")
    for i, (kind, heading, items) in enumerate(decision_groups(result, loaded), start=1):
        _body(doc, f"{i}. {heading}: {vn_int(len(items))} trường hợp.", bold=True, keep=True)
        for d in items[:BODY_DECISIONS]:
            text, cut = _cut(d.text, BODY_DECISION_CHARS)
            _body(doc, f"- {text}" + (f" (đầy đủ tại {refs('decisions')})" if cut else ""))
        if len(items) > BODY_DECISIONS:
            _body(doc, f"- Và {vn_int(len(items) - BODY_DECISIONS)} trường hợp khác cùng loại "
                       f"(danh sách đầy đủ tại {refs('decisions')}).")

    doc.add_heading("III. ĐỀ XUẤT", level=1)
    if result.levels:
        lists = ", ".join(refs(n) for n in ("changes", "groups") if n in refs.number)
        text = (f"{form.we} đề nghị {form.addressee} xem xét, thông qua kết quả xếp loại chất lượng sau rà soát "
                f"nêu tại mục I ({lists})")
        text += "; cho ý kiến, quyết định các vấn đề nêu tại mục II." if result.decisions else "."
    elif result.status == "conflict":
        text = (f"{form.we} đề nghị {form.addressee} xem xét, quyết định bỏ hoặc điều chỉnh ít nhất một trong các "
                f"quyết định nêu tại mục II; trên cơ sở đó {form.we} lập phương án xếp loại và báo cáo lại.")
    else:
        text = f"{form.we} tiếp tục rà soát và báo cáo sau."
    _body(doc, text)
    closing = "kính trình" if form.submission else "kính báo cáo"
    _body(doc, f"Trên đây là {form.kind_word.lower()} kết quả rà soát xếp loại chất lượng, {form.we} {closing} "
               f"{form.addressee} xem xét, {'quyết định' if form.submission else 'cho ý kiến'}./.", after=12,
          keep=True)


# ---- the appendices --------------------------------------------------------------------------------

def _appendix(doc, form: Form, refs: _Appendices, name: str, title: str, geometry: dict) -> float:
    """Start an appendix on a new page of the given geometry; the text width in cm."""
    section = doc.add_section(WD_SECTION.NEW_PAGE)
    _page(section, geometry)
    _para(doc, refs(name).upper(), bold=True, align="center", after=0, keep=True)
    _para(doc, title.upper(), bold=True, align="center", after=0, keep=True)
    _para(doc, form.reference, italic=True, size=13, align="center", after=12, keep=True)
    return _text_width(geometry)


def _fit(widths: list[float], total: float) -> list[float]:
    """Widths scaled to fill ``total`` cm exactly (rounded to 0.01 cm)."""
    scale = total / sum(widths)
    out = [round(w * scale, 2) for w in widths]
    out[-1] = round(total - sum(out[:-1]), 2)
    return out


def _decisions_appendix(doc, loaded, result, form, refs, facts) -> None:
    width = _appendix(doc, form, refs, "decisions", "Các vấn đề cần xem xét, quyết định", LANDSCAPE)
    t = _Table(doc, ["STT", "Vấn đề", "Nội dung", "Nhóm tính tỷ lệ"], _fit([1.6, 4.2, 14.0, 5.9], width))
    for i, d in enumerate(result.decisions, start=1):
        t.row([vn_int(i), d.title, d.text, group_name(loaded, d.group)])
    t.finish()


def _conflicts_appendix(doc, loaded, result, form, refs, facts) -> None:
    width = _appendix(doc, form, refs, "conflicts", "Các quyết định và quy định mâu thuẫn nhau", LANDSCAPE)
    _para(doc, "Không thể cùng thực hiện tất cả các mục dưới đây; bỏ bất kỳ một mục nào thì các mục còn lại thực hiện "
               "được." if result.conflict_minimal else
          "Không thể cùng thực hiện tất cả các mục dưới đây (việc rút gọn danh sách chưa xong khi hết thời gian: có "
          "thể bỏ bớt vài mục mà vẫn mâu thuẫn).", align="justify", after=6)
    t = _Table(doc, ["STT", "Loại", "Nội dung", "Quy định", "Căn cứ"], _fit([1.6, 4.2, 13.1, 1.8, 5.0], width))
    for i, c in enumerate(result.conflicts, start=1):
        t.row([vn_int(i), CONFLICT_WORDS.get(c.kind, c.kind), c.text, c.rule if c.kind == "rule" else "",
               c.citation or ""])
    t.finish()


def _changes_appendix(doc, loaded, result, form, refs, facts, comments=None) -> None:
    width = _appendix(doc, form, refs, "changes", "Danh sách các trường hợp điều chỉnh mức xếp loại", LANDSCAPE)
    sources = facts.sources
    subjects = loaded.hierarchy.subjects
    by_id = {c.id: c for c in result.changes}
    t = _Table(doc, ["STT", "Tên", "Thuộc", "Loại", f"Theo {sources}", "Sau rà soát", "Lý do", "Quy định", "Căn cứ"],
               _fit([1.5, 3.6, 3.4, 2.0, 2.1, 2.1, 7.4, 1.5, 2.1], width), comments)
    for i, c in enumerate(result.changes, start=1):
        s = subjects[c.id]
        values = [vn_int(i), s.name, context_of(loaded, c.id), KIND_LABELS[s.kind], c.before.official,
                  c.after.official, [r.text for r in c.reasons], rule_codes(c), citations(c) or [""]]
        anchor = (1, s.name, "", render_change(loaded, c, by_id)) if comments is not None else None
        t.row(values, anchor=anchor)
    t.finish()


def _groups_appendix(doc, loaded, result, form, refs, facts) -> None:
    width = _appendix(doc, form, refs, "groups", "Các nhóm tính tỷ lệ Hoàn thành xuất sắc nhiệm vụ", LANDSCAPE)
    _para(doc, cap_words(result.options, loaded), align="justify", after=6)
    sources = facts.sources
    t = _Table(doc, ["Nhóm tính tỷ lệ", "Loại đối tượng", "Số đối tượng",
                     f"Số xuất sắc: theo {sources} → sau rà soát", f"Số tốt: theo {sources} → sau rà soát",
                     "Tối đa số xuất sắc", "Quy định", "Tỷ lệ xuất sắc so với số tốt",
                     "Tỷ lệ xuất sắc so với cả nhóm", "Trước rà soát"],
               _fit([6.2, 2.6, 1.7, 2.7, 2.7, 2.3, 1.6, 2.0, 2.0, 1.9], width))
    for q in facts.groups:
        cap = q["after_cap"] if q["after_cap"] is not None else q["before_cap"]
        t.row([q["name"], KIND_LABELS[q["kind"]], vn_int(q["size"]), _arrow(q["before_xs"], q["after_xs"]),
               _arrow(q["before_t"], q["after_t"]), vn_int(cap), q["after_rule"] or q["before_rule"],
               percent_words(q["pct_t"]), percent_words(q["pct_all"]),
               f"vượt (tối đa {q['before_cap']})" if q["over_before"] else "không vượt"])
    t.finish()
    _para(doc, "Xuất sắc: Hoàn thành xuất sắc nhiệm vụ; tốt: Hoàn thành tốt nhiệm vụ. Cột «Quy định»: xem bảng các "
               f"quy định tại {refs('basis')}.", italic=True, size=12, before=6)


def _order_appendix(doc, loaded, result, form, refs, facts) -> None:
    width = _appendix(doc, form, refs, "order", "Thứ tự xem xét, xếp loại", PORTRAIT)
    s5 = load_catalogue().rule("S5")
    _para(doc, f"{s5.summary_in(loaded.options.sources)} ({cite(loaded, 'S5')}).", align="justify", after=6)
    _para(doc, "Thứ tự các vòng suy ra từ quan hệ giữa các đối tượng: đối tượng ở một vòng chỉ xếp loại sau khi các "
               "đối tượng liên quan ở vòng trước đã xếp loại.", align="justify", after=6)
    t = _Table(doc, ["Vòng", "Số đối tượng theo loại", "Gồm"], _fit([1.5, 5.5, 9.5], width))
    for r in rating_order_rows(loaded, stages=facts.stages):
        t.row([str(r["stage"]), [f"{KIND_LABELS[k]}: {vn_int(n)}" for k, n in r["kinds"].items()],
               "; ".join(r["names"])])
    t.finish()


def _cited_rules(loaded: LoadedCase, result: SolveResult) -> list[str]:
    """The catalogue rules the report's tables name, in catalogue order: those of the changes and conflicts,
    the quota and meeting-order rules where the case's profile has them, and V1 when targets come from
    ballots (under QĐ 366 it then says «chưa có văn bản»: the texts read levels from scores)."""
    cat = load_catalogue()
    used = {r.rule for c in result.changes for r in c.reasons}
    used |= {c.rule for c in result.conflicts if c.kind == "rule"}
    used |= {d.rule for d in result.decisions if d.rule}
    used |= {rid for rid in ("C1", "C2", "C3") if loaded.options.on(rid)} if result.targets else set()
    used |= {"S5"} if loaded.options.on("S5") else set()
    if loaded.options.on("V1") and loaded.ranks_by[1]:  # some target read from ballots: how they are counted
        used.add("V1")
    return [rid for rid in cat.rule_ids if rid in used]


def _basis_appendix(doc, loaded, result, form, refs, facts) -> None:
    width = _appendix(doc, form, refs, "basis", "Căn cứ và cách áp dụng các quy định", PORTRAIT)
    basis, reading = sources_basis(loaded), profile_title(result)
    if basis:
        _para(doc, f"Căn cứ: {basis}.", align="justify", after=6)
    if reading:
        _para(doc, f"Bộ quy định áp dụng: {reading}.", align="justify", after=6)
    _para(doc, cap_words(result.options, loaded), align="justify", after=6)
    _para(doc, "1. Cách áp dụng", bold=True, after=3, keep=True)
    t = _Table(doc, ["Nội dung", "Cách áp dụng", "Ghi chú"], _fit([5.5, 7.5, 3.5], width))
    for row in options_rows(result, codes=False):
        t.row(list(row))
    t.finish()
    _para(doc, "2. Các quy định nêu trong các phụ lục", bold=True, before=12, after=3, keep=True)
    cat = load_catalogue()
    t = _Table(doc, ["Quy định", "Nội dung", "Căn cứ"], _fit([1.8, 9.2, 5.5], width))
    unsourced = False
    for rid in _cited_rules(loaded, result):
        rule = cat.rule(rid)
        basis = cite(loaded, rid)
        unsourced |= basis == UNSOURCED
        t.row([rid, [rule.title, rule.summary_in(loaded.options.sources)], basis])
    t.finish()
    legend = f"Nguồn trích dẫn: {source_legend(loaded.options.sources)}."
    if unsourced:
        legend += (f" «{UNSOURCED[0].upper()}{UNSOURCED[1:]}»: quy định giữ theo cách làm của các hướng dẫn trước, "
                   "văn bản đang áp dụng không nói; cấp có thẩm quyền có thể không áp dụng.")
    _para(doc, legend, italic=True, size=12, before=6)


def _warnings_appendix(doc, loaded, result, form, refs, facts) -> None:
    _appendix(doc, form, refs, "warnings", "Lưu ý về dữ liệu", PORTRAIT)
    for w in loaded.warnings[:500]:
        _para(doc, f"- {w}", align="justify", after=3)
    if len(loaded.warnings) > 500:
        _para(doc, f"… và {vn_int(len(loaded.warnings) - 500)} lưu ý khác.")


# ---- the report ---------------------------------------------------------------------------------------

def report_info(loaded: LoadedCase, document: DocumentInfo | None = None, date: str | None = None) -> DocumentInfo:
    """The form fields: ``document`` if given, else the case's ``document`` block; ``date`` (when given)
    replaces the date."""
    info = document if document is not None else (loaded.case.document or DocumentInfo())
    if date is not None:
        info = info.model_copy(update={"date": parse_report_date(date)})
    return info


def build_docx(loaded: LoadedCase, result: SolveResult, *, date: str | None = None,
               document: DocumentInfo | None = None, review: bool = False) -> bytes:
    """The Word report as bytes, identical for identical input.

    ``document``: the form fields (default: the case's ``document`` block); ``date`` replaces its date.
    Without a date the place-and-date line is left blank to fill by hand. ``review``: the review version, with a
    margin comment per change and the data warnings, not for printing."""
    info = report_info(loaded, document, date)
    day = info.date
    when = datetime(day.year, day.month, day.day, tzinfo=timezone.utc) if day is not None else FIXED_TIME
    form = Form(info, loaded)
    doc = Document()
    _setup(doc)
    author = form.we
    cp = doc.core_properties
    cp.title = f"{form.kind_word} {form.subject[0][0].lower()}{form.subject[0][1:]}" + \
        (f": {loaded.case.name}" if len(form.subject) > 1 else "")
    cp.author = cp.last_modified_by = author
    cp.language = "vi-VN"
    cp.comments = ""
    cp.created = cp.modified = cp.last_printed = when.replace(tzinfo=None)
    cp.revision = 1

    if review:
        _para(doc, "BẢN DÙNG ĐỂ RÀ SOÁT (mỗi trường hợp điều chỉnh có ghi chú giải trình bên lề) — không dùng để in, "
                   "ban hành", bold=True, italic=True, size=12, align="center", after=6)
    refs = _Appendices(result, review, len(loaded.warnings))
    _header(doc, form)
    _title(doc, form)
    facts = report_facts(loaded, result)
    _body_text(doc, loaded, result, form, refs, facts)
    _signature(doc, form)

    comments = _Comments(doc, when, author, "BTC") if review else None
    for name in refs.number:
        if name == "changes":
            _changes_appendix(doc, loaded, result, form, refs, facts, comments)
        else:
            {"decisions": _decisions_appendix, "conflicts": _conflicts_appendix, "groups": _groups_appendix,
             "order": _order_appendix, "basis": _basis_appendix,
             "warnings": _warnings_appendix}[name](doc, loaded, result, form, refs, facts)
    if comments is not None:
        comments.finish()
    return deterministic_zip(_save(doc), when)


def write_docx(loaded: LoadedCase, result: SolveResult, path: str | Path, *, date: str | None = None,
               document: DocumentInfo | None = None, review: bool = False) -> None:
    """Write the Word report to ``path`` (see ``build_docx``)."""
    Path(path).write_bytes(build_docx(loaded, result, date=date, document=document, review=review))
