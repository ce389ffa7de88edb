"""The Word and Excel reports, read back with python-docx and openpyxl: the Party document form, the body and its
appendices, the review version's comments, the Excel ballots, highlights and decisions, the command's flags, bytes."""

from __future__ import annotations

import argparse
import dataclasses
import functools
import io
import json
import re
import unicodedata
import zipfile
from collections import Counter
from pathlib import Path

import docx
import openpyxl
import pytest
from casebuild import case, member, org
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from pydantic import ValidationError

from model.ballots import support
from model.case import KIND_LABELS, Kind
from model.catalogue import load_catalogue
from model.document import DocumentInfo
from model.errors import CaseInvalid
from model.levels import Level
from model.loader import load_case, parse_case
from solver.commands.report import cmd_report, configure_report
from solver.verify import Verifier
from solver.engine.solve import SolveOptions, solve
from solver.reports.excel import CHANGED_FILL, KIND_SHEETS, SUBJECT_HEADERS, build_xlsx, write_xlsx
from solver.reports.tables import level_counts, quota_table
from solver.reports.word import (
    BODY_DECISION_CHARS,
    BODY_DECISIONS,
    NON_RULE_REASONS,
    NON_RULE_WORDS,
    build_docx,
    write_docx,
)
from solver.result import Decision

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "tests" / "data" / "examples").glob("*.json"))
SCENARIOS = sorted(p for p in (ROOT / "scenarios").glob("*.json") if p.stat().st_size < 400_000)
CASES = EXAMPLES + SCENARIOS
CONFLICT_EXAMPLE = ROOT / "tests" / "data" / "examples" / "05_conflicting_locks.json"
RULE_IDS = set(load_catalogue().rule_ids)


@functools.cache
def solved(path: Path):
    try:
        loaded = load_case(path)
    except CaseInvalid as exc:  # a what-if file that is not a whole case
        pytest.skip(f"{path.name} không phải hồ sơ đầy đủ: {exc.problems[0]}")
    return loaded, solve(loaded, SolveOptions(workers=2, time_limit=30))


@functools.cache
def docx_bytes(path: Path) -> bytes:
    return build_docx(*solved(path))


@functools.cache
def xlsx_bytes(path: Path) -> bytes:
    return build_xlsx(*solved(path))


def read_docx(data: bytes):
    return docx.Document(io.BytesIO(data))


def read_xlsx(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data))


def table_starting(document, *headers: str):
    """The first table whose header row starts with ``headers``, as lists of cell texts."""
    for t in document.tables:
        rows = [[c.text for c in r.cells] for r in t.rows]
        if tuple(rows[0][: len(headers)]) == headers:
            return rows
    raise AssertionError(f"không có bảng bắt đầu bằng {headers}")


def paragraphs(document) -> list[str]:
    return [p.text for p in document.paragraphs]


def catalogue_rules(change) -> list[str]:
    return [r.rule for r in change.reasons if r.rule in RULE_IDS]


ids = [p.stem for p in CASES]


# ---- reasons --------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", CASES, ids=ids)
def test_every_change_has_a_reason_with_a_catalogue_rule_and_a_citation(path):
    loaded, result = solved(path)
    for c in result.changes:
        assert c.reasons, c.id
        assert all(r.rule in RULE_IDS or r.rule in NON_RULE_REASONS for r in c.reasons), c
        cited = [r for r in c.reasons if r.rule in RULE_IDS]
        assert cited, f"{c.id}: chỉ có lý do ngoài danh mục {[r.rule for r in c.reasons]}"
        assert all(r.citation for r in cited), c


# ---- Word: the Party document form -----------------------------------------------------------------

def all_text(document) -> str:
    """Every paragraph's text, in the body and in the cells of every table (nested tables included)."""
    out = [p.text for p in document.paragraphs]
    for t in document.tables:
        for row in t.rows:
            for cell in row.cells:
                out.append(cell.text)
    return "\n".join(out)


def header_cells(document) -> tuple[list[str], list[str]]:
    """The texts of the first table (the header): (left column, right column), one text per cell."""
    t = document.tables[0]
    return [r.cells[0].text for r in t.rows], [r.cells[1].text for r in t.rows]


def form_case(**document):
    data = json.loads(EXAMPLES[0].read_text(encoding="utf-8"))
    if document:
        data["document"] = document
    return parse_case(data, "thu.json")


FULL_FORM = {"upper_body": "TỈNH ỦY ĐẮK LẮK", "issuer": "BAN TỔ CHỨC", "number": "15", "symbol": "BC/BTCTU",
             "place": "Buôn Ma Thuột", "date": "05/02/2019", "to": ["Ban Thường vụ Tỉnh ủy"],
             "sign_for": "K/T TRƯỞNG BAN", "signer_title": "PHÓ TRƯỞNG BAN", "signer_name": "Nguyễn Văn Hùng",
             "copies": ["Thường trực Tỉnh ủy (để b/c)", "Lưu Ban Tổ chức"]}


def test_the_report_has_the_party_document_form_with_blanks_to_fill_by_hand():
    loaded, result = solved(EXAMPLES[0])
    document = read_docx(docx_bytes(EXAMPLES[0]))
    left, right = header_cells(document)
    assert left[0].split("\n")[1:] == ["BAN TỔ CHỨC", "*"] and "…" in left[0].split("\n")[0]
    assert left[1] == "Số …-BC/BTCTU"
    assert right[0] == "ĐẢNG CỘNG SẢN VIỆT NAM" and right[1] == "…, ngày … tháng … năm …"
    party = document.tables[0].rows[0].cells[1].paragraphs[0].runs[0]
    assert party.bold and party.underline
    assert document.tables[0].rows[1].cells[1].paragraphs[0].runs[0].italic
    texts = paragraphs(document)
    title = texts.index("BÁO CÁO")
    assert texts[title + 1:title + 3] == ["Kết quả rà soát xếp loại chất lượng", loaded.case.name]
    assert document.paragraphs[title].alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert any(t.startswith("Kính gửi: Ban Thường vụ …") for t in texts)
    assert ["I. KẾT QUẢ RÀ SOÁT", "II. NHỮNG VẤN ĐỀ CẦN XEM XÉT, QUYẾT ĐỊNH", "III. ĐỀ XUẤT"] == \
        [t for t in texts if re.match(r"^[IV]+\. ", t)]
    signature = next(t for t in document.tables if t.rows[0].cells[0].text.startswith("Nơi nhận:"))
    copies, sign = signature.rows[0].cells[0].text.split("\n"), signature.rows[0].cells[1].text.split("\n")
    assert copies == ["Nơi nhận:", "- Như trên,", "- Lưu …"]
    assert sign[:2] == ["T/M BAN TỔ CHỨC", "TRƯỞNG BAN"] and sign[-1].startswith("……")
    footer = document.sections[0].footer.paragraphs[0]._p.xml
    assert 'w:instr="PAGE"' in footer  # page numbers
    # the form's tables have no borders; the tables of figures have
    for t in (document.tables[0], signature):
        assert t.style is None or t.style.name != "Table Grid"
        assert "w:tblBorders" not in t._tbl.xml


def test_the_document_block_of_the_case_fills_the_form():
    loaded = form_case(**FULL_FORM)
    result = solve(loaded, SolveOptions(workers=1))
    document = read_docx(build_docx(loaded, result))
    left, right = header_cells(document)
    assert left[0] == "TỈNH ỦY ĐẮK LẮK\nBAN TỔ CHỨC\n*" and left[1] == "Số 15-BC/BTCTU"
    assert right[1] == "Buôn Ma Thuột, ngày 05 tháng 02 năm 2019"  # day < 10 and months 1-2 with a zero
    texts = paragraphs(document)
    assert "Kính gửi: Ban Thường vụ Tỉnh ủy" in texts
    assert any("đề nghị Ban Thường vụ Tỉnh ủy xem xét" in t for t in texts)
    signature = next(t for t in document.tables if t.rows[0].cells[0].text.startswith("Nơi nhận:"))
    assert signature.rows[0].cells[0].text.split("\n")[1:] == ["- Thường trực Tỉnh ủy (để b/c),", "- Lưu Ban Tổ chức."]
    sign = signature.rows[0].cells[1].text.split("\n")
    assert sign[:2] == ["K/T TRƯỞNG BAN", "PHÓ TRƯỞNG BAN"] and sign[-1] == "Nguyễn Văn Hùng"
    # every appendix refers to the report by its number and date
    assert "(Kèm theo Báo cáo số 15-BC/BTCTU, ngày 05 tháng 02 năm 2019 của Ban Tổ chức)" in texts
    assert document.core_properties.created.year == 2019
    # a Tờ trình, dated in March: no leading zero for the month
    submission = form_case(**{**FULL_FORM, "type": "submission", "symbol": None, "date": "2019-03-07"})
    document = read_docx(build_docx(submission, solve(submission, SolveOptions(workers=1))))
    left, right = header_cells(document)
    assert left[1] == "Số 15-TTr/BTCTU" and right[1] == "Buôn Ma Thuột, ngày 07 tháng 3 năm 2019"
    assert "TỜ TRÌNH" in paragraphs(document) and any("kính trình" in t for t in paragraphs(document))


def test_the_document_block_is_strict_and_normalized():
    with pytest.raises(CaseInvalid) as info:
        form_case(issuer="BAN TỔ CHỨC", signer="x")
    assert "document.signer" in str(info.value)
    with pytest.raises(CaseInvalid) as info:
        form_case(date="hôm qua")
    assert "document.date" in str(info.value) and "DD/MM/YYYY" in str(info.value)
    with pytest.raises(CaseInvalid):
        form_case(type="cong_van")
    nfd = unicodedata.normalize("NFD", "Buôn Ma Thuột")
    loaded = form_case(place=nfd, to=[nfd])
    assert loaded.case.document.place == "Buôn Ma Thuột" and loaded.case.document.to == ("Buôn Ma Thuột",)
    with pytest.raises(ValidationError):  # frozen
        loaded.case.document.place = "x"  # type: ignore[misc]
    info = DocumentInfo(number="15").merged({"place": "Đắk Lắk", "date": "01/12/2020", "number": None})
    assert (info.number, info.place, info.date.isoformat()) == ("15", "Đắk Lắk", "2020-12-01")
    assert loaded.case.to_data()["document"] == {"place": "Buôn Ma Thuột", "to": ["Buôn Ma Thuột"]}


#: Words about software that a committee must never read in the document to be printed.
SOFTWARE_WORDS = re.compile(r"xeploai|phần mềm|comment|bộ giải|solver|\.json|\.xlsx|bmt-2018|bd-2020|qd366|"
                            r"cap_base|cap_percent|allow_up|mặc định của|\b[0-9a-f]{32,}\b", re.I)
RULE_CODE = re.compile(r"\b(?:V1|C[12]|S[1-5]|E[1-8]b?)\b")


def part_texts(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml")}


@pytest.mark.parametrize("path", CASES, ids=ids)
def test_the_printed_report_has_no_software_talk_and_no_rule_code_in_a_sentence(path):
    loaded, result = solved(path)
    data = docx_bytes(path)
    for name, xml in part_texts(data).items():
        text = re.sub(r"<[^>]+>", " ", xml)
        if name in ("word/document.xml", "docProps/core.xml", "docProps/app.xml") or "footer" in name:
            assert not SOFTWARE_WORDS.search(text), (name, SOFTWARE_WORDS.search(text).group())
    assert "word/comments.xml" not in part_texts(data) or "<w:comment " not in part_texts(data)["word/comments.xml"]
    document = read_docx(data)
    for p in document.paragraphs:  # rule codes only in a table column headed «Quy định» (the case's name is the user's)
        assert not RULE_CODE.search(p.text.replace(loaded.case.name, "")), p.text
    for t in document.tables:
        header = [c.text for c in t.rows[0].cells]
        for row in t.rows[1:]:
            for head, cell in zip(header, row.cells):
                if head != "Quy định":
                    assert not RULE_CODE.search(cell.text), (head, cell.text)


@pytest.mark.parametrize("path", CASES, ids=ids)
def test_the_basis_cites_only_the_sources_of_the_case_profile(path):
    """The legend names the case's own sources, the basis table cites each rule in them (or says «chưa có văn
    bản»), and the parameters table calls «mặc định» what the case's own profile sets."""
    loaded, result = solved(path)
    cat = load_catalogue()
    document = read_docx(docx_bytes(path))
    text = all_text(document)
    (legend,) = [p for p in paragraphs(document) if p.startswith("Nguồn trích dẫn: ")]
    named = re.findall(r"(?:^Nguồn trích dẫn: |; )([^:;]+): ", legend)
    assert named == [cat.source(sid).label for sid in loaded.options.sources]
    rows = table_starting(document, "Quy định", "Nội dung", "Căn cứ")[1:]
    assert rows
    labels = {src.label for src in cat.sources}
    own = {cat.source(sid).label for sid in loaded.options.sources}
    for rid, _body, basis in rows:
        assert loaded.options.on(rid), rid
        cited = {lab for lab in labels if basis.startswith(lab + " ") or f"; {lab} " in basis}
        assert cited <= own and (cited or basis == "chưa có văn bản"), (rid, basis)
    profile = load_catalogue().profile(loaded.options.profile)
    for name, value in profile.params.items():
        if loaded.case.options is None or getattr(loaded.case.options, name, None) is None:
            title = cat.param(name).title
            for row in table_starting(document, "Nội dung", "Cách áp dụng", "Ghi chú")[1:]:
                if row[0] == title:
                    assert row[2] == "mặc định", row
    assert "all_good" not in text and "good_only" not in text


@pytest.mark.parametrize("path", CASES, ids=ids)
def test_the_quota_sentence_states_only_the_quota_rules_of_the_case(path):
    """«dưới 05 … 01» only where the case's rules have it (not in the Buôn Ma Thuột guide read literally nor in
    QĐ 366); each 25% decision named with its percent and author."""
    loaded, result = solved(path)
    text = all_text(read_docx(docx_bytes(path)))
    small = loaded.options.on("C2") and loaded.options.small_group_allowance > 0
    assert ("thì vẫn được xếp loại 01 Hoàn thành xuất sắc nhiệm vụ" in text) == small
    for e in loaded.case.exceptions if loaded.options.on("C3") else ():
        name = loaded.hierarchy.subjects[e.scope].name
        assert f"phạm vi quản lý của {name}: {e.percent}% theo quyết định của {e.author}" in text


@pytest.mark.parametrize("path", CASES, ids=ids)
def test_every_table_grid_matches_its_cells(path):
    """LibreOffice and WPS lay a table out by its grid, Word by its cells: both must say the same widths."""
    for review in (False, True):
        document = read_docx(build_docx(*solved(path), review=review))
        assert len(document.tables) >= 3
        for t in document.tables:
            tbl = t._tbl
            grid = [int(c.get(qn("w:w"))) for c in tbl.tblGrid.findall(qn("w:gridCol"))]
            assert int(tbl.tblPr.find(qn("w:tblW")).get(qn("w:w"))) == sum(grid)
            for tr in tbl.findall(qn("w:tr")):
                widths = []
                for tc in tr.findall(qn("w:tc")):
                    span = tc.tcPr.find(qn("w:gridSpan")) if tc.tcPr is not None else None
                    widths.append(int(tc.tcPr.find(qn("w:tcW")).get(qn("w:w"))))
                    assert span is None
                assert widths == grid, (t.rows[0].cells[0].text, widths, grid)


@pytest.mark.parametrize("path", CASES, ids=ids)
def test_review_version_has_one_comment_per_change_holding_its_rules(path):
    loaded, result = solved(path)
    data = build_docx(loaded, result, review=True)
    document = read_docx(data)
    comments = list(document.comments)
    assert len(comments) == len(result.changes)
    by_head = {cm.text.split(":", 1)[0]: cm.text for cm in comments}
    for c in result.changes:
        text = by_head[f"{loaded.hierarchy.subjects[c.id].name} ({c.id})"]
        assert f"{c.before.official} → {c.after.official}" in text
        for rule in catalogue_rules(c):
            assert f"[{rule}, " in text, (c.id, rule)
    body = part_texts(data)["word/document.xml"]
    assert body.count("<w:commentRangeStart") == body.count("<w:commentReference") == len(result.changes)
    assert "BẢN DÙNG ĐỂ RÀ SOÁT" in paragraphs(document)[0]
    assert list(read_docx(docx_bytes(path)).comments) == []  # the version to print has none
    assert "BẢN DÙNG ĐỂ RÀ SOÁT" not in "\n".join(paragraphs(read_docx(docx_bytes(path))))


@pytest.mark.parametrize("path", CASES, ids=ids)
def test_the_changes_appendix_lists_every_change_with_reasons_codes_and_citations(path):
    loaded, result = solved(path)
    document = read_docx(docx_bytes(path))
    if not result.changes:
        assert not any(t.rows[0].cells[0].text == "STT" and t.rows[0].cells[1].text == "Tên" for t in document.tables)
        return
    rows = table_starting(document, "STT", "Tên", "Thuộc", "Loại")
    assert rows[0][6:] == ["Lý do", "Quy định", "Căn cứ"]
    rows = rows[1:]
    assert len(rows) == len(result.changes)
    for i, (row, c) in enumerate(zip(rows, result.changes), start=1):
        s = loaded.hierarchy.subjects[c.id]
        assert row[0] == f"{i:,}".replace(",", ".")
        assert row[1] == s.name and row[3] == KIND_LABELS[s.kind]
        assert (row[4], row[5]) == (c.before.official, c.after.official)
        assert row[6].split("\n") == [r.text for r in c.reasons]
        for r in c.reasons:
            assert (r.rule if r.rule in RULE_IDS else NON_RULE_WORDS[r.rule]) in row[7].split("\n")
            if r.citation:
                assert r.citation in row[8].split("\n")


def test_an_unproven_result_is_said_to_be_unproven():
    loaded, result = solved(EXAMPLES[0])
    unproven = dataclasses.replace(result, status="feasible", proven=False, bound_changed=1)
    text = "\n".join(paragraphs(read_docx(build_docx(loaded, unproven))))
    assert "chưa khẳng định được đây là phương án điều chỉnh ít nhất" in text
    assert "đều phải điều chỉnh ít nhất 1 trường hợp" in text
    assert "Đây là phương án phải điều chỉnh ít nhất" not in text
    proven = "\n".join(paragraphs(read_docx(docx_bytes(EXAMPLES[0]))))
    assert f"không có phương án nào đúng các quy định mà điều chỉnh ít hơn {result.changed} trường hợp" in proven


@pytest.mark.parametrize("path", CASES, ids=ids)
def test_word_summary_counts_every_rated_subject_before_and_after(path):
    loaded, result = solved(path)
    rows = table_starting(read_docx(docx_bytes(path)), "Loại đối tượng", "Theo")[1:]
    n = lambda k: f"{k:,}".replace(",", ".")  # noqa: E731
    for kind in (Kind.party_org, Kind.member, Kind.collective, Kind.leader):
        rated = [s.id for s in loaded.case.subjects if s.kind is kind and s.decided]
        if not any(s.kind is kind for s in loaded.case.subjects):
            continue
        at = next(i for i, r in enumerate(rows) if r[0] == KIND_LABELS[kind])
        before = rows[at]
        counts = Counter(result.targets[sid] for sid in rated)
        assert before[2:6] == [n(counts[lv]) for lv in (Level.XS, Level.T, Level.HT, Level.K)]
        assert before[6] == n(len(rated))
        if result.levels:
            after = rows[at + 1]
            assert after[0] == KIND_LABELS[kind] and after[1] == "Sau rà soát"  # (the kind's cell spans both)
            counts = Counter(result.levels[sid] for sid in rated)
            assert after[2:6] == [n(counts[lv]) for lv in (Level.XS, Level.T, Level.HT, Level.K)]
            moved = sum(1 for sid in rated if result.levels[sid] != result.targets[sid])
            assert after[7] == n(moved)


@pytest.mark.parametrize("path", CASES, ids=ids)
def test_word_rating_order_is_summarised_per_stage(path):
    loaded, result = solved(path)
    stages = loaded.hierarchy.rating_order(loaded.options.rating_order)
    rows = table_starting(read_docx(docx_bytes(path)), "Vòng", "Số đối tượng theo loại")[1:]
    assert [r[0] for r in rows] == [str(i) for i in range(1, len(stages) + 1)]
    for row, stage in zip(rows, stages):
        counted = {}
        for line in row[1].split("\n"):
            label, n = line.rsplit(": ", 1)
            counted[label] = int(n.replace(".", ""))
        kinds = Counter(KIND_LABELS[loaded.hierarchy.subjects[sid].kind] for sid in stage)
        assert counted == dict(kinds)
        if len(stage) > 6:
            assert row[2].endswith(f"và {len(stage) - 6:,} đối tượng khác".replace(",", "."))
    assert any(f"theo {len(stages)} vòng" in p for p in paragraphs(read_docx(docx_bytes(path))))


def test_a_large_stage_is_not_listed_name_by_name():
    loaded = case(org("CB", "T"), *[member(f"M{i}", "CB", "T") for i in range(300)])
    result = solve(loaded)
    rows = table_starting(read_docx(build_docx(loaded, result)), "Vòng", "Số đối tượng theo loại")[1:]
    assert rows[0][1] == "Đảng viên: 300"
    assert rows[0][2].count("Đảng viên M") == 6 and rows[0][2].endswith("và 294 đối tượng khác")


def test_the_conflict_example_shows_its_conflict_as_a_decision_and_in_an_appendix():
    loaded, result = solved(CONFLICT_EXAMPLE)
    assert result.status == "conflict" and result.conflicts and result.decisions
    document = read_docx(docx_bytes(CONFLICT_EXAMPLE))
    text = "\n".join(paragraphs(document))
    assert "chưa lập được phương án xếp loại" in text
    assert "1. Các quyết định mâu thuẫn với quy định: 1 trường hợp." in text
    assert "bỏ hoặc điều chỉnh ít nhất một trong các quyết định nêu tại mục II" in text
    rows = table_starting(document, "STT", "Loại", "Nội dung", "Quy định")[1:]
    assert [r[2] for r in rows] == [c.text for c in result.conflicts]
    for r, c in zip(rows, result.conflicts):
        assert r[3] == (c.rule if c.kind == "rule" else "") and r[4] == c.citation
    decisions = table_starting(document, "STT", "Vấn đề", "Nội dung")[1:]
    assert [r[2] for r in decisions] == [d.text for d in result.decisions]
    assert list(document.comments) == []
    sheet = read_xlsx(xlsx_bytes(CONFLICT_EXAMPLE))["Mâu thuẫn"]
    assert [row[3] for row in sheet.iter_rows(min_row=2, values_only=True)] == [c.text for c in result.conflicts]


def test_ties_are_decisions_for_the_committee_in_the_body_and_the_appendix():
    loaded = case(org("CB", "T"), member("A", "CB", "XS"), member("B", "CB", "XS"), member("C", "CB", "T"))
    result = solve(loaded)
    assert result.ties and [d.kind for d in result.decisions] == ["tie"]
    document = read_docx(build_docx(loaded, result))
    texts = paragraphs(document)
    assert "1. Các trường hợp ngang nhau: 1 trường hợp." in texts
    assert f"- {result.decisions[0].text}" in texts
    rows = table_starting(document, "STT", "Vấn đề", "Nội dung", "Nhóm tính tỷ lệ")[1:]
    assert rows == [["1", result.decisions[0].title, result.decisions[0].text,
                     loaded.hierarchy.group(result.decisions[0].group).name]]
    assert any("cho ý kiến, quyết định các vấn đề nêu tại mục II" in t for t in texts)
    sheet = read_xlsx(build_xlsx(loaded, result))["Phương án ngang nhau"]
    assert {row[2] for row in sheet.iter_rows(min_row=2, max_row=3, values_only=True)} == {"A", "B"}


def test_decisions_of_any_kind_are_grouped_and_the_body_stays_short():
    """Many matters of several kinds (one the report has no heading for): grouped by kind in the body, at most
    BODY_DECISIONS each there, all of them in the appendix; a very long text is cut in the body only."""
    loaded, result = solved(EXAMPLES[0])
    long_text = "; ".join(f"mục số {i} của một danh sách dài" for i in range(200))
    decisions = [Decision("tie", "Phương án ngang nhau", f"ngang nhau số {i}") for i in range(20)]
    decisions += [Decision("future_kind", "Một loại vấn đề mới", "vấn đề mới", ("DV1",)),
                  Decision("conflict", "Mâu thuẫn", long_text)]
    many = dataclasses.replace(result, decisions=decisions)
    document = read_docx(build_docx(loaded, many))
    texts = paragraphs(document)
    start, end = texts.index("II. NHỮNG VẤN ĐỀ CẦN XEM XÉT, QUYẾT ĐỊNH"), texts.index("III. ĐỀ XUẤT")
    section = texts[start + 1:end]
    assert section[0] == "1. Các trường hợp ngang nhau: 20 trường hợp."
    assert section[1:1 + BODY_DECISIONS] == [f"- ngang nhau số {i}" for i in range(BODY_DECISIONS)]
    assert section[1 + BODY_DECISIONS] == f"- Và {20 - BODY_DECISIONS} trường hợp khác cùng loại (danh sách đầy đủ " \
                                          "tại Phụ lục 1)."
    assert "2. Một loại vấn đề mới: 1 trường hợp." in section and "- vấn đề mới" in section
    cut = next(t for t in section if t.startswith("- mục số 0"))
    assert len(cut) < BODY_DECISION_CHARS + 60 and cut.endswith("(đầy đủ tại Phụ lục 1)")
    rows = table_starting(document, "STT", "Vấn đề", "Nội dung")[1:]
    assert [r[2] for r in rows] == [d.text for d in decisions]  # whole in the appendix


def test_reason_counts_in_the_body_are_counted_from_the_changes():
    loaded, result = solved(ROOT / "scenarios" / "phuong_tan_loi_2018.json")
    rows = table_starting(read_docx(docx_bytes(ROOT / "scenarios" / "phuong_tan_loi_2018.json")), "Lý do",
                          "Số trường hợp")[1:]
    titles = {r.id: r.title for r in load_catalogue().rules}
    expected = Counter(titles.get(rule) or NON_RULE_WORDS[rule] for c in result.changes
                       for rule in {r.rule for r in c.reasons})
    assert {r[0]: int(r[1]) for r in rows} == dict(expected)


# ---- the quota table --------------------------------------------------------------------------------

def recount(loaded, result, members, levels):
    """XS, T and cap of a group recounted from levels and the options, independently of the solver code."""
    o = loaded.options
    percent = Verifier(loaded.case, o).exception_percent(list(members))  # C3: a 25% decision covering the group
    xs = sum(1 for m in members if levels[m] is Level.XS)
    t = sum(1 for m in members if levels[m] is Level.T)
    pool = xs + t  # moving an XS to T keeps the pool: the cap is the most XS the pool allows

    def allowed(x):
        base = pool if o.cap_base == "good_and_above" else pool - x
        small = (o.on("C2") and o.small_group_allowance > 0 and base < o.small_group_threshold
                 and x <= o.small_group_allowance)
        return 100 * x <= percent * base or small

    cap = max(x for x in range(pool + 1) if allowed(x))
    return xs, t, cap


@pytest.mark.parametrize("path", CASES, ids=ids)
def test_quota_table_matches_a_recount_from_the_levels(path):
    loaded, result = solved(path)
    rows = {r["group"]: r for r in quota_table(loaded, result)}
    assert set(rows) == {g.id for g in loaded.hierarchy.groups}
    for g in loaded.hierarchy.groups:
        row = rows[g.id]
        assert row["size"] == len(g.members)
        xs, t, cap = recount(loaded, result, g.members, result.targets)
        assert (row["before_xs"], row["before_t"], row["before_cap"], row["over_before"]) == (xs, t, cap, xs > cap)
        if result.levels:
            xs, t, cap = recount(loaded, result, g.members, result.levels)
            assert (row["after_xs"], row["after_t"], row["after_cap"]) == (xs, t, cap)
            assert xs <= cap
            assert row["pct_t"] == (100 * xs / t if t else None)
            assert row["pct_all"] == 100 * xs / len(g.members)
        else:
            assert row["after_xs"] is None and row["pct_t"] is None


@pytest.mark.parametrize("path", CASES, ids=ids)
def test_quota_numbers_in_word_and_excel_agree_with_the_recount(path):
    loaded, result = solved(path)
    word = {r[0]: r for r in table_starting(read_docx(docx_bytes(path)), "Nhóm tính tỷ lệ", "Loại đối tượng",
                                            "Số đối tượng")[1:]}
    sheet = read_xlsx(xlsx_bytes(path))["Nhóm tỷ lệ"]
    excel = {r[0]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert len(word) == len(excel) == len(loaded.hierarchy.groups)
    for g in loaded.hierarchy.groups:
        bxs, bt, bcap = recount(loaded, result, g.members, result.targets)
        w, e = word[g.name], excel[g.name]
        assert e[2:7] == (len(g.members), bxs, bt, bcap, "Có" if bxs > bcap else "Không")
        if result.levels:
            xs, t, cap = recount(loaded, result, g.members, result.levels)
            assert w[3] == f"{bxs} → {xs}" and w[4] == f"{bt} → {t}" and w[5] == f"{cap:,}".replace(",", ".")
            assert w[9] == (f"vượt (tối đa {bcap})" if bxs > bcap else "không vượt")
            assert e[7:10] == (xs, t, cap)
            assert e[11] == (pytest.approx(xs / t) if t else None)
            assert e[12] == pytest.approx(xs / len(g.members))


def test_the_cap_example_shows_its_group_over_the_cap_before():
    path = ROOT / "tests" / "data" / "examples" / "01_cap_20_percent.json"
    loaded, result = solved(path)
    group = loaded.hierarchy.group(loaded.hierarchy.group_of["DV1"])
    row = next(r for r in quota_table(loaded, result) if r["group"] == group.id)
    proposed_xs = sum(1 for m in group.members if loaded.hierarchy.subjects[m].target_level() is Level.XS)
    assert row["before_xs"] == proposed_xs > row["before_cap"] and row["over_before"]
    assert row["after_xs"] <= row["after_cap"]


def test_level_counts_add_up_to_the_rated_subjects():
    loaded, result = solved(ROOT / "tests" / "data" / "examples" / "03_quota_vs_head_collective.json")
    for row in level_counts(loaded, result):
        assert sum(row["before"].values()) == sum(row["after"].values()) == row["rated"]


# ---- Excel ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", CASES, ids=ids)
def test_excel_has_one_sheet_per_kind_with_ballots_shares_targets_finals_and_reasons(path):
    loaded, result = solved(path)
    wb = read_xlsx(xlsx_bytes(path))
    first = ["Tổng hợp", *(["Cần quyết định"] if result.decisions else [])]
    assert wb.sheetnames[:len(first) + 4] == [*first, "Tổ chức đảng", "Đảng viên", "Tập thể lãnh đạo",
                                               "Cán bộ lãnh đạo"]
    assert "Nhóm tỷ lệ" in wb.sheetnames
    changes = {c.id: c for c in result.changes}
    for kind, title in KIND_SHEETS.items():
        ws = wb[title]
        header = [c.value for c in ws[1]]
        assert header == SUBJECT_HEADERS
        col = {h: i for i, h in enumerate(header)}
        assert ws.freeze_panes == "A2" and ws.auto_filter.ref.startswith("A1:")
        rows = {r[0]: r for r in ws.iter_rows(min_row=2, values_only=True)}
        assert set(rows) == {s.id for s in loaded.case.subjects if s.kind is kind}
        for s in loaded.case.subjects:
            if s.kind is not kind:
                continue
            r = rows[s.id]
            if s.votes is not None:
                assert [r[col[h]] for h in ("Phiếu Xuất sắc", "Phiếu Tốt", "Phiếu Trung bình", "Phiếu Kém")] == \
                    [s.votes.XS, s.votes.T, s.votes.TB, s.votes.K]
                assert r[col["Số người biểu quyết"]] == (s.voters or s.votes.total)
            else:
                assert r[col["Phiếu Xuất sắc"]] is None and r[col["Tỷ lệ phiếu cho mức mục tiêu"]] is None
            if s.id not in result.targets:
                assert r[col["Mức cuối cùng"]] == "Không xếp loại"
                continue
            target = result.targets[s.id]
            assert r[col["Mức mục tiêu"]] == target.official
            assert r[col["Điểm thẩm định"]] == s.score
            source = ("Mức đã xác định" if s.target is not None else "Điểm thẩm định" if s.score is not None
                      else "Biểu quyết" if s.votes is not None else "Đề xuất" if s.proposed is not None else None)
            assert r[col["Nguồn mức mục tiêu"]] == source
            if s.votes is not None:
                expected = support(s.votes.as_dict(), target, s.voters)
                assert r[col["Tỷ lệ phiếu cho mức mục tiêu"]] == pytest.approx(float(expected), abs=1e-12)
            if not result.levels:
                continue
            assert r[col["Mức cuối cùng"]] == result.levels[s.id].official
            assert r[col["Thay đổi"]] == ("Có" if s.id in changes else "Không")
            if s.id in changes:
                c = changes[s.id]
                assert r[col["Lý do"]].split("\n") == [x.text for x in c.reasons]
                for rule in catalogue_rules(c):
                    assert rule in r[col["Quy định"]].split("\n")
            else:
                assert r[col["Lý do"]] is None


@pytest.mark.parametrize("path", CASES, ids=ids)
def test_excel_changed_rows_are_filled_and_the_rest_are_not(path):
    loaded, result = solved(path)
    wb = read_xlsx(xlsx_bytes(path))
    changed = {c.id for c in result.changes}
    for title in KIND_SHEETS.values():
        ws = wb[title]
        for row in ws.iter_rows(min_row=2):
            fills = {cell.fill.fgColor.rgb if cell.fill.fill_type == "solid" else None for cell in row}
            if row[0].value in changed:
                assert len(row) == len(SUBJECT_HEADERS) and fills == {"00" + CHANGED_FILL.fgColor.rgb[-6:]}
            else:
                assert fills == {None}, row[0].value
        share = ws.cell(row=1, column=SUBJECT_HEADERS.index("Tỷ lệ phiếu cho mức mục tiêu") + 1)
        for (cell,) in ws.iter_rows(min_row=2, min_col=share.column, max_col=share.column):
            if cell.value is not None:
                assert cell.number_format == "0.0%"


@pytest.mark.parametrize("path", CASES, ids=ids)
def test_excel_lists_the_committees_decisions(path):
    loaded, result = solved(path)
    wb = read_xlsx(xlsx_bytes(path))
    if not result.decisions:
        assert "Cần quyết định" not in wb.sheetnames
        return
    ws = wb["Cần quyết định"]
    assert [c.value for c in ws[1]] == ["STT", "Loại", "Vấn đề", "Nội dung", "Nhóm tỷ lệ", "Mã đối tượng",
                                        "Tên đối tượng"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert [r[3] for r in rows] == [d.text for d in result.decisions]
    for r, d in zip(rows, result.decisions):
        assert (r[5] or "").split("\n") == (list(d.subjects) or [""])
        assert r[2] == d.title


def test_excel_summary_states_the_status_and_counts():
    path = ROOT / "tests" / "data" / "examples" / "04_branch_bounded_by_member.json"
    loaded, result = solved(path)
    ws = read_xlsx(xlsx_bytes(path))["Tổng hợp"]
    values = {r[0]: r[1:] for r in ws.iter_rows(values_only=True) if r[0]}
    assert values["Đã chứng minh ít thay đổi nhất"][0] == "Có"
    assert values["Số đối tượng thay đổi"][0] == len(result.changes)
    assert values["Số vấn đề cần quyết định"][0] == len(result.decisions)
    assert values["Kết quả rà soát"][0].startswith(f"Để bảo đảm đúng các quy định, phải điều chỉnh mức xếp loại của "
                                                   f"{len(result.changes)} trường hợp")
    rows = [r for r in ws.iter_rows(values_only=True) if r[0] == "Đảng viên" and r[1] == "Mức cuối cùng"]
    members = [s.id for s in loaded.case.subjects if s.kind is Kind.member and s.decided]
    assert rows[0][2] == sum(1 for m in members if result.levels[m] is Level.XS)
    assert rows[0][7] == sum(1 for m in members if result.levels[m] != result.targets[m])


# ---- determinism ----------------------------------------------------------------------------------

def test_two_writes_are_byte_identical(tmp_path):
    path = ROOT / "tests" / "data" / "examples" / "04_branch_bounded_by_member.json"
    loaded, result = solved(path)
    again = solve(load_case(path), SolveOptions(workers=2, time_limit=30))
    writers = (("a.docx", lambda p, r: write_docx(loaded, r, p)), ("a.xlsx", lambda p, r: write_xlsx(loaded, r, p)),
               ("b.docx", lambda p, r: write_docx(loaded, r, p, review=True)))
    for name, write in writers:
        first, second = tmp_path / ("1" + name), tmp_path / ("2" + name)
        write(first, result)
        write(second, again)
        assert first.read_bytes() == second.read_bytes(), name
        with zipfile.ZipFile(first) as z:
            assert {i.date_time for i in z.infolist()} == {(2000, 1, 1, 0, 0, 0)}
    props = read_docx((tmp_path / "1a.docx").read_bytes()).core_properties
    assert props.created.year == props.modified.year == 2000
    assert props.author == "Ban Tổ chức" and not props.comments
    assert read_xlsx((tmp_path / "1a.xlsx").read_bytes()).properties.modified.year == 2000


def test_a_given_date_is_printed_and_stamped_and_still_deterministic():
    loaded, result = solved(EXAMPLES[0])
    first = build_docx(loaded, result, date="2025-03-05")
    assert first == build_docx(loaded, result, date="05/03/2025")
    document = read_docx(first)
    assert header_cells(document)[1][1] == "…, ngày 05 tháng 3 năm 2025"
    assert (document.core_properties.created.year, document.core_properties.created.month) == (2025, 3)
    assert first != build_docx(loaded, result)
    assert header_cells(read_docx(build_docx(loaded, result)))[1][1] == "…, ngày … tháng … năm …"
    with pytest.raises(ValueError, match="ngày báo cáo không hợp lệ"):
        build_docx(loaded, result, date="hôm nay")


# ---- the command --------------------------------------------------------------------------------

def run_report(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    configure_report(parser)
    return cmd_report(parser.parse_args([str(a) for a in argv]))


def test_report_command_writes_both_files(tmp_path, capsys):
    path = ROOT / "tests" / "data" / "examples" / "01_cap_20_percent.json"
    out_docx, out_xlsx = tmp_path / "sub" / "bc.docx", tmp_path / "kq.xlsx"
    assert run_report(path, "--docx", out_docx, "--xlsx", out_xlsx, "--no-date") == 0
    printed = capsys.readouterr().out
    assert f"Đã ghi báo cáo Word (2 thay đổi): {out_docx}" in printed
    assert f"Đã ghi bảng kết quả Excel: {out_xlsx}" in printed
    assert out_docx.read_bytes() == docx_bytes(path)
    assert out_xlsx.read_bytes() == xlsx_bytes(path)
    assert [p.name for p in tmp_path.rglob(".*.tmp")] == []
    review = tmp_path / "ra_soat.docx"
    assert run_report(path, "--docx", review, "--no-date", "--review") == 0
    assert "mỗi thay đổi một ghi chú giải trình: bản rà soát" in capsys.readouterr().out
    assert len(list(read_docx(review.read_bytes()).comments)) == 2


def test_report_command_dates_the_report_unless_told_not_to(tmp_path):
    from datetime import date

    path = EXAMPLES[0]
    assert run_report(path, "--docx", tmp_path / "a.docx") == 0
    today = date.today()
    month = f"{today.month:02d}" if today.month < 3 else str(today.month)
    assert header_cells(read_docx((tmp_path / "a.docx").read_bytes()))[1][1] == \
        f"…, ngày {today.day:02d} tháng {month} năm {today.year}"


def test_report_command_flags_fill_and_override_the_form(tmp_path, capsys):
    case_file = tmp_path / "ho_so.json"
    data = json.loads(EXAMPLES[0].read_text(encoding="utf-8"))
    data["document"] = {**FULL_FORM, "number": "9"}
    case_file.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "bc.docx"
    assert run_report(case_file, "--docx", out, "--audit", "off") == 0  # the case's own date, not today
    assert header_cells(read_docx(out.read_bytes()))[1][1] == "Buôn Ma Thuột, ngày 05 tháng 02 năm 2019"
    assert run_report(case_file, "--docx", out, "--audit", "off", "--number", "21", "--place", "Đắk Lắk",
                      "--date", "2019-12-20", "--signer-name", "Trần Thị Lan", "--to", "Ban Thường vụ Thành ủy",
                      "--to", "Thường trực Thành ủy", "--copy-to", "Như trên", "--copy-to", "Lưu VT",
                      "--doc-type", "submission", "--issuer", "BAN TỔ CHỨC THÀNH ỦY") == 0
    document = read_docx(out.read_bytes())
    left, right = header_cells(document)
    assert left == ["TỈNH ỦY ĐẮK LẮK\nBAN TỔ CHỨC THÀNH ỦY\n*", "Số 21-BC/BTCTU"]  # the case's symbol stays
    assert right[1] == "Đắk Lắk, ngày 20 tháng 12 năm 2019"
    texts = paragraphs(document)
    assert "TỜ TRÌNH" in texts and "Kính gửi:" in texts
    assert any(t.startswith("Ban Tổ chức Thành ủy đề nghị Ban Thường vụ Thành ủy xem xét") for t in texts)
    assert any("Ban Tổ chức Thành ủy kính trình Ban Thường vụ Thành ủy xem xét, quyết định./." in t for t in texts)
    assert "- Ban Thường vụ Thành ủy," in texts and "- Thường trực Thành ủy" in texts
    signature = next(t for t in document.tables if t.rows[0].cells[0].text.startswith("Nơi nhận:"))
    assert signature.rows[0].cells[0].text.split("\n")[1:] == ["- Như trên,", "- Lưu VT."]
    assert signature.rows[0].cells[1].text.split("\n")[-1] == "Trần Thị Lan"
    assert run_report(case_file, "--docx", out, "--audit", "off", "--no-date") == 0
    assert header_cells(read_docx(out.read_bytes()))[1][1] == "Buôn Ma Thuột, ngày … tháng … năm …"


def test_report_command_rejects_a_bad_form_value_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "bc.docx"
    assert run_report(EXAMPLES[0], "--docx", out, "--date", "20/13/2019", "--audit", "off") == 2
    printed = capsys.readouterr().out
    assert "--date" in printed and "không hợp lệ" in printed and "Traceback" not in printed
    assert run_report(EXAMPLES[0], "--docx", out, "--date", "2019-12-20", "--no-date", "--audit", "off") == 2
    assert "--no-date" in capsys.readouterr().out
    assert run_report(EXAMPLES[0], "--docx", out, "--number", " 5", "--audit", "off") == 2
    assert "--number" in capsys.readouterr().out
    assert not out.exists()


def test_report_command_on_a_conflict_still_writes_the_report_and_exits_1(tmp_path, capsys):
    out = tmp_path / "bc.docx"
    assert run_report(CONFLICT_EXAMPLE, "--docx", out, "--no-date") == 1
    assert "mâu thuẫn" in capsys.readouterr().out
    assert out.read_bytes() == docx_bytes(CONFLICT_EXAMPLE)


def test_report_command_on_invalid_input_exits_2_and_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "x", "subjects": [{"id": "A", "kind": "member", "name": "A"}]}', encoding="utf-8")
    out = tmp_path / "bc.docx"
    assert run_report(bad, "--docx", out) == 2
    printed = capsys.readouterr().out
    assert "Hồ sơ không hợp lệ" in printed and str(bad) in printed
    assert not out.exists()
    assert run_report(EXAMPLES[0]) == 2
    assert "--docx" in capsys.readouterr().out


# ---- the report's XML tables equal what python-docx's own API writes ----------------------------------------------

TRICKY = ["Nguyễn Văn Ánh", " lề trái", "lề phải ", "A & B <C> \"D\" 'E' ]]>", "tab\tgiữa", "dòng\nhai\r\nba",
          "", "\t", "cuối\n", "\u00a0cách cứng", "Hòa" + "\u0300"]


def _api_table(doc, headers, widths, rows, anchors, when):
    """The table and comments built cell by cell with python-docx (how the report was first written)."""
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm

    from solver.reports.word import AUTHOR, TABLE_STYLE_ID

    table = doc.add_table(rows=1, cols=len(headers))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for cell, text in zip(table.rows[0].cells, headers):
        p = cell.paragraphs[0]
        p._p.style = TABLE_STYLE_ID
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.add_run(text).bold = True
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    table.rows[0]._tr.get_or_add_trPr().append(header)
    for column, w in zip(table.columns, widths):  # the grid equals the cells (LibreOffice reads the grid)
        column.width = Cm(w)
    tblw = table._tbl.tblPr.find(qn("w:tblW"))
    tblw.set(qn("w:type"), "dxa")
    tblw.set(qn("w:w"), str(sum(Cm(w).twips for w in widths)))
    for values, anchor in zip(rows, anchors):
        row = table.add_row()
        row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
        cells = row.cells
        for cell, value in zip(cells, values):
            for j, text in enumerate((value if isinstance(value, list) else [value]) or [""]):
                p = cell.paragraphs[0] if j == 0 else cell.add_paragraph()
                p._p.style = TABLE_STYLE_ID
                if text:
                    p.add_run(text)
        if anchor is not None:
            col, bold, after, comment = anchor
            p = cells[col].paragraphs[0]
            run = p.add_run(bold)
            run.bold = True
            p.add_run(after)
            doc.add_comment(run, text=comment, author=AUTHOR, initials="XL")._comment_elm.date = when
    for row in table.rows:
        for cell, w in zip(row.cells, widths):
            cell.width = Cm(w)


@pytest.mark.parametrize("dated", [False, True])
def test_xml_table_writer_equals_python_docx_api(dated):
    from datetime import datetime, timezone

    from solver.reports.word import FIXED_TIME, _Comments, _save, _Table

    when = datetime(2025, 3, 5, tzinfo=timezone.utc) if dated else FIXED_TIME
    headers, widths = ["STT", "Đối tượng", "Lý do"], [1, 3.3, 4.45]
    rows, anchors = [], []
    for i, text in enumerate(TRICKY):
        rows.append([str(i), "" if i % 2 else text, [text, TRICKY[-1 - i]] if i % 3 else text])
        anchors.append((1, text or "tên", f" ({i}) {text}", text + "\nđoạn hai\n" if i % 2 else text or "x")
                       if i % 2 else None)
    rows.append(["", [], []])
    anchors.append(None)

    made = []
    for way in ("api", "xml"):
        doc = docx.Document()
        doc.styles.add_style("Table Text", 1)
        if way == "api":
            _api_table(doc, headers, widths, rows, anchors, when)
        else:
            comments = _Comments(doc, when)
            t = _Table(doc, headers, widths, comments)
            for values, anchor in zip(rows, anchors):
                t.row(values, anchor=anchor)
            t.finish()
            comments.finish()
        with zipfile.ZipFile(io.BytesIO(_save(doc))) as z:  # the XML rows are spliced in when saved
            made.append((z.read("word/document.xml"), z.read("word/comments.xml")))
    assert b"xeploaiSplice" not in made[1][0] + made[1][1]
    assert made[0][0] == made[1][0]
    assert made[0][1] == made[1][1]
    assert b"<w:tab/>" in made[1][0] and b"<w:br/>" in made[1][0] and b'xml:space="preserve"' in made[1][0]
    assert made[1][1].count(b"<w:comment ") == sum(a is not None for a in anchors)


# ---- the Excel tables written as sheet XML equal what openpyxl writes -----------------------------------------------

def _sheet_xml(wb, writer_class) -> dict[str, bytes]:
    from lxml import etree

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        writer_class(wb, archive).save()
    with zipfile.ZipFile(buf) as archive:
        return {n: etree.tostring(etree.fromstring(archive.read(n)), method="c14n") if n.endswith(".xml") else
                archive.read(n) for n in archive.namelist() if n != "docProps/core.xml"}


@pytest.mark.parametrize("chunk_rows", [4096, 2, 1])
def test_xlsx_body_writer_equals_openpyxl(monkeypatch, chunk_rows):
    """The sheet XML the results workbook writes in pieces of ``chunk_rows`` rows is openpyxl's own, for the same
    cells: column styles on the cells that hold a value, and a fill on every cell of a highlighted row."""
    from openpyxl.utils import get_column_letter
    from openpyxl.writer.excel import ExcelWriter

    from solver.reports.excel import _WRAP, _Body, _Writer, _header, _table_sheet

    monkeypatch.setattr(_Body, "CHUNK_ROWS", chunk_rows)

    headers, widths = ["Mã", "Tên", "Số", "Tỷ lệ", "Ghi chú", "Lớn"], [10, 20, 8, 8, 30, 8]
    rows = [[f"S{i}", text, i, i / 7 if i % 3 else None, None if i % 2 else text + "\n" + text,
             10**17 + i if i == 4 else None] for i, text in enumerate(TRICKY)]
    rows += [["x", "", 0, 0.5, ""], ["y"], ["z", None, -3]]
    highlight = {1, 2, 5, len(rows) - 2}
    made = []
    for way in ("openpyxl", "xml"):
        wb = openpyxl.Workbook()
        ws = wb.active
        if way == "openpyxl":
            _header(ws, headers, widths)
            for r in rows:
                ws.append(r)
            for r, values in enumerate(rows):
                for c in range(len(headers) if r in highlight else len(values)):
                    value = values[c] if c < len(values) else None
                    if value is None and r not in highlight:
                        continue
                    cell = ws.cell(row=r + 2, column=c + 1)
                    if c == 4:
                        cell.alignment = _WRAP
                    if c == 3:
                        cell.number_format = "0.0%"
                    if r in highlight:
                        cell.fill = CHANGED_FILL
            ws.freeze_panes = "A2"
            ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{ws.max_row}"
            made.append(_sheet_xml(wb, ExcelWriter))
        else:
            _table_sheet(ws, headers, widths, rows, wrap=(5,), formats={4: "0.0%"}, highlight=highlight,
                         unique=(1,))
            made.append(_sheet_xml(wb, _Writer))
    assert made[0].keys() == made[1].keys()
    for name in made[0]:
        assert made[0][name] == made[1][name], name
    sheet = made[1]["xl/worksheets/sheet1.xml"]
    assert b"&#xD;" in sheet  # a carriage return survives (C14N writes it so)
    assert b"FFF2CC" in made[1]["xl/styles.xml"] and b"1e+17" in sheet


def test_xlsx_text_never_becomes_a_formula_and_no_temp_file(monkeypatch):
    """A name beginning with "=" stays a text (openpyxl would write a formula); the results workbook and
    the case workbook are built in memory, never through openpyxl's temporary files in the system's temp
    folder (model.xlsx_memory)."""
    import openpyxl.worksheet._writer as sheet_writer

    def refuse(*_args, **_kwargs):
        raise AssertionError("a temporary file was created")

    monkeypatch.setattr(sheet_writer, "create_temporary_file", refuse)
    loaded = case(org("O1", tier="branch", name="=1+1"), member("M1", "O1", name="=HYPERLINK(\"x\")"))
    result = solve(loaded, SolveOptions(workers=1))
    book = read_xlsx(build_xlsx(loaded, result))
    sheet = book[KIND_SHEETS[Kind.member]]
    assert sheet["B2"].value == "=HYPERLINK(\"x\")" and sheet["B2"].data_type == "s"
    from model.excel_template import template_bytes

    assert read_xlsx(template_bytes(loaded.case)).sheetnames  # the case written as a workbook, in memory too


def test_a_2025_case_voted_by_ballots_says_the_ballot_count_has_no_text(tmp_path):
    """Under QĐ 366 levels come from scores; where a case still reads targets from ballots, the basis lists
    how ballots are counted (V1) and says «chưa có văn bản» (audit, case c27); a case of scores only does not."""
    def case_with(member_fields):
        subjects = [{"id": "CB", "name": "Chi bộ A", "kind": "party_org", "tier": "grassroots", "score": 80.0}]
        subjects += [{"id": f"M{i}", "name": f"Đảng viên {i}", "kind": "member", "parent": "CB",
                      **member_fields(i)} for i in range(7)]
        path = tmp_path / f"c{len(list(tmp_path.iterdir()))}.json"
        path.write_text(json.dumps({"name": "Thử 2025", "profile": "qd366-2025", "year": 2025,
                                    "subjects": subjects}, ensure_ascii=False), encoding="utf-8")
        return path

    by_ballots = case_with(lambda i: {"votes": {"XS": 9, "T": 1}, "voters": 10} if i < 2
                           else {"votes": {"T": 10}, "voters": 10})
    rows = table_starting(read_docx(build_docx(*solved(by_ballots))), "Quy định", "Nội dung", "Căn cứ")[1:]
    assert [basis for rid, _body, basis in rows if rid == "V1"] == ["chưa có văn bản"]
    by_scores = case_with(lambda i: {"score": 95.0 if i < 2 else 80.0})
    rows = table_starting(read_docx(build_docx(*solved(by_scores))), "Quy định", "Nội dung", "Căn cứ")[1:]
    assert "V1" not in [rid for rid, _body, _basis in rows]


def test_the_excel_row_of_an_excluded_member_says_why_and_cites_the_clause(tmp_path):
    subjects = [{"id": "CB", "name": "Chi bộ A", "kind": "party_org", "tier": "grassroots", "score": 80.0},
                {"id": "A", "name": "Đảng viên A", "kind": "member", "parent": "CB", "score": 95.0,
                 "excluded": "suspended"},
                {"id": "B", "name": "Đảng viên B", "kind": "member", "parent": "CB", "score": 80.0, "rated": False},
                *[{"id": f"M{i}", "name": f"Đảng viên {i}", "kind": "member", "parent": "CB", "score": 80.0}
                  for i in range(5)]]
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"name": "Thử 2025", "profile": "qd366-2025", "year": 2025, "subjects": subjects},
                               ensure_ascii=False), encoding="utf-8")
    wb = read_xlsx(build_xlsx(*solved(path)))
    rows = {r[0]: r for ws in wb.worksheets for r in ws.iter_rows(values_only=True) if r and r[0] in ("A", "B")}
    assert "Không xếp loại: bị đình chỉ sinh hoạt đảng" in rows["A"] and "X1" in rows["A"]
    assert any(str(v).startswith("QĐ 366") for v in rows["A"] if v)
    assert any(str(v).startswith("Không thuộc diện xếp loại") for v in rows["B"] if v)


@pytest.mark.parametrize("path", CASES, ids=ids)
def test_the_body_rests_on_the_texts_themselves(path):
    """«Căn cứ …» names the profile's source texts (a Party document cites texts, not «đúng chữ», a reading of
    them), and no document number is split over two lines (non-breaking hyphens)."""
    loaded, _ = solved(path)
    cat = load_catalogue()
    document = read_docx(docx_bytes(path))
    (first,) = [p for p in paragraphs(document) if p.startswith("Căn cứ ")][:1]
    assert "đúng chữ" not in first
    assert all(cat.source(sid).short in first for sid in loaded.options.sources)
    if re.search(r"\d-[A-ZĐ]+/", first):
        for p in document.paragraphs:
            if p.text == first:
                assert p._p.xpath(".//w:noBreakHyphen") and not re.search(r"\d-[A-ZĐ]+/", "".join(
                    t.text or "" for t in p._p.xpath(".//w:t")))
