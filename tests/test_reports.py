"""The Word and Excel reports, read back with python-docx and openpyxl: comments, changes, quotas, conflicts, bytes."""

from __future__ import annotations

import argparse
import dataclasses
import functools
import io
import zipfile
from collections import Counter
from pathlib import Path

import docx
import openpyxl
import pytest
from casebuild import case, member, org

from model.case import KIND_LABELS, Kind
from model.catalogue import load_catalogue
from model.errors import CaseInvalid
from model.levels import Level
from model.loader import load_case
from solver.reports.tables import level_counts, quota_table
from solver.commands.report import cmd_report, configure_report
from solver.reports.word import NON_RULE_REASONS, build_docx, write_docx
from solver.verify import Verifier
from solver.reports.excel import KIND_SHEETS, build_xlsx, write_xlsx
from solver.engine.solve import SolveOptions, solve

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


# ---- Word -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", CASES, ids=ids)
def test_word_report_has_one_comment_per_change_holding_its_rules(path):
    loaded, result = solved(path)
    document = read_docx(docx_bytes(path))
    comments = list(document.comments)
    assert len(comments) == len(result.changes)
    by_head = {}
    for cm in comments:
        by_head[cm.text.split(":", 1)[0]] = cm.text
    for c in result.changes:
        text = by_head[f"{loaded.hierarchy.subjects[c.id].name} ({c.id})"]
        assert f"{c.before.official} → {c.after.official}" in text
        for rule in catalogue_rules(c):
            assert f"[{rule}, " in text, (c.id, rule)
    # every comment is anchored in the document body
    with zipfile.ZipFile(io.BytesIO(docx_bytes(path))) as z:
        body = z.read("word/document.xml").decode()
    assert body.count("<w:commentRangeStart") == len(result.changes)
    assert body.count("<w:commentReference") == len(result.changes)


@pytest.mark.parametrize("path", CASES, ids=ids)
def test_word_changes_table_lists_every_changed_subject_with_official_levels(path):
    loaded, result = solved(path)
    document = read_docx(docx_bytes(path))
    if not result.changes:
        assert not any(t.rows[0].cells[0].text == "STT" and t.rows[0].cells[1].text == "Đối tượng"
                       for t in document.tables)
        return
    rows = table_starting(document, "STT", "Đối tượng", "Loại")[1:]
    assert len(rows) == len(result.changes)
    for row, c in zip(rows, result.changes):
        s = loaded.hierarchy.subjects[c.id]
        assert row[1] == f"{s.name} ({c.id})"
        assert row[2] == KIND_LABELS[s.kind]
        assert row[3] == f"{c.before.official} → {c.after.official}"
        for r in c.reasons:
            if r.rule in RULE_IDS:
                assert f"{r.rule}: {r.text}" in row[4]
                assert f"{r.rule}: {r.citation}" in row[5]


def test_word_report_title_options_and_status_are_in_words():
    path = ROOT / "tests" / "data" / "examples" / "07b_two_xs_ten_members_good_and_above.json"
    loaded, result = solved(path)
    document = read_docx(docx_bytes(path))
    text = "\n".join(paragraphs(document))
    assert paragraphs(document)[0] == f"Báo cáo kết quả rà soát xếp loại chất lượng: {loaded.case.name}"
    assert result.options["cap_base"] == "good_and_above"
    options = table_starting(document, "Tùy chọn quy tắc")
    base_row = next(r for r in options if r[0] == "Cơ số tính tỷ lệ")
    assert "trở lên" in base_row[1] and base_row[2].startswith("khác mặc định")
    assert "ĐÃ ĐƯỢC CHỨNG MINH" in text and "CHƯA" not in text
    assert not any(p.startswith("Ngày ") for p in paragraphs(document))  # no date unless asked

    literal = ROOT / "tests" / "data" / "examples" / "07a_two_xs_ten_members_literal.json"
    base_row = next(r for r in table_starting(read_docx(docx_bytes(literal)), "Tùy chọn quy tắc")
                    if r[0] == "Cơ số tính tỷ lệ")
    assert "đúng chữ văn bản" in base_row[1] and base_row[2] == "mặc định"


def test_an_unproven_result_is_said_to_be_unproven():
    loaded, result = solved(EXAMPLES[0])
    unproven = dataclasses.replace(result, status="feasible", proven=False, bound_changed=1)
    text = "\n".join(paragraphs(read_docx(build_docx(loaded, unproven))))
    assert "CHƯA ĐƯỢC CHỨNG MINH" in text and "ĐÃ ĐƯỢC CHỨNG MINH" not in text
    assert "Cận dưới hiện biết của số đối tượng phải thay đổi: 1." in text


@pytest.mark.parametrize("path", CASES, ids=ids)
def test_word_summary_counts_every_rated_subject_before_and_after(path):
    loaded, result = solved(path)
    rows = table_starting(read_docx(docx_bytes(path)), "Loại đối tượng", "Theo")[1:]
    for kind in (Kind.party_org, Kind.member, Kind.collective, Kind.leader):
        rated = [s.id for s in loaded.case.subjects if s.kind is kind and s.decided]
        if not any(s.kind is kind for s in loaded.case.subjects):
            continue
        before = next(r for r in rows if r[0] == KIND_LABELS[kind] and r[1] == "Mục tiêu")
        counts = Counter(result.targets[sid] for sid in rated)
        assert before[2:6] == [str(counts[lv]) for lv in (Level.XS, Level.T, Level.HT, Level.K)]
        assert before[6] == str(len(rated))
        if result.levels:
            after = next(r for r in rows if r[0] == KIND_LABELS[kind] and r[1] == "Kết quả")
            counts = Counter(result.levels[sid] for sid in rated)
            assert after[2:6] == [str(counts[lv]) for lv in (Level.XS, Level.T, Level.HT, Level.K)]
            moved = sum(1 for sid in rated if result.levels[sid] != result.targets[sid])
            assert after[7] == str(moved)


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
            counted[label] = int(n)
        kinds = Counter(KIND_LABELS[loaded.hierarchy.subjects[sid].kind] for sid in stage)
        assert counted == dict(kinds)
        if len(stage) > 6:
            assert row[2].endswith(f"và {len(stage) - 6} đối tượng khác")


def test_a_large_stage_is_not_listed_name_by_name():
    loaded = case(org("CB", "T"), *[member(f"M{i}", "CB", "T") for i in range(300)])
    result = solve(loaded)
    rows = table_starting(read_docx(build_docx(loaded, result)), "Vòng", "Số đối tượng theo loại")[1:]
    assert rows[0][1] == "Đảng viên: 300"
    assert rows[0][2].count("Đảng viên M") == 6 and rows[0][2].endswith("và 294 đối tượng khác")


def test_the_conflict_example_shows_its_conflict():
    loaded, result = solved(CONFLICT_EXAMPLE)
    assert result.status == "conflict" and result.conflicts
    document = read_docx(docx_bytes(CONFLICT_EXAMPLE))
    text = "\n".join(paragraphs(document))
    assert any(p.endswith(". Mâu thuẫn") for p in paragraphs(document))
    assert "Không có phương án nào thỏa đồng thời" in text
    rows = table_starting(document, "STT", "Loại", "Nội dung")[1:]
    assert [r[2] for r in rows] == [c.text for c in result.conflicts]
    for r, c in zip(rows, result.conflicts):
        if c.citation:
            assert r[3] == f"{c.rule}: {c.citation}"
    assert list(document.comments) == []
    sheet = read_xlsx(xlsx_bytes(CONFLICT_EXAMPLE))["Mâu thuẫn"]
    assert [row[3] for row in sheet.iter_rows(min_row=2, values_only=True)] == [c.text for c in result.conflicts]


def test_ties_are_shown_as_decisions_for_the_committee():
    loaded = case(org("CB", "T"), member("A", "CB", "XS"), member("B", "CB", "XS"), member("C", "CB", "T"))
    result = solve(loaded)
    assert result.ties, "two equal XS for one place must tie"
    document = read_docx(build_docx(loaded, result))
    rows = table_starting(document, "Nhóm", "Đối tượng", "Mức mục tiêu")[1:]
    listed = {r[1] for r in rows}
    assert {"Đảng viên A (A)", "Đảng viên B (B)"} <= listed
    chosen = {r[1]: r[3] for r in rows}
    assert chosen["Đảng viên A (A)"] == result.levels["A"].official
    assert chosen["Đảng viên B (B)"] == result.levels["B"].official
    assert any("cấp có thẩm quyền còn lựa chọn" in p for p in paragraphs(document))
    sheet = read_xlsx(build_xlsx(loaded, result))["Phương án ngang nhau"]
    assert {row[2] for row in sheet.iter_rows(min_row=2, max_row=3, values_only=True)} == {"A", "B"}


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
    word = {r[0]: r for r in table_starting(read_docx(docx_bytes(path)), "Nhóm tỷ lệ", "Số đối tượng")[1:]}
    sheet = read_xlsx(xlsx_bytes(path))["Nhóm tỷ lệ"]
    excel = {r[0]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert len(word) == len(excel) == len(loaded.hierarchy.groups)
    for g in loaded.hierarchy.groups:
        bxs, bt, bcap = recount(loaded, result, g.members, result.targets)
        w, e = word[g.name], excel[g.name]
        assert e[2:7] == (len(g.members), bxs, bt, bcap, "Có" if bxs > bcap else "Không")
        if result.levels:
            xs, t, cap = recount(loaded, result, g.members, result.levels)
            assert w[2] == f"{bxs} → {xs}" and w[3] == f"{bt} → {t}" and w[4].startswith(f"{cap} (")
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
def test_excel_has_one_sheet_per_kind_with_targets_finals_and_reasons(path):
    loaded, result = solved(path)
    wb = read_xlsx(xlsx_bytes(path))
    assert wb.sheetnames[:5] == ["Tổng hợp", "Tổ chức đảng", "Đảng viên", "Tập thể lãnh đạo", "Cán bộ lãnh đạo"]
    assert "Nhóm tỷ lệ" in wb.sheetnames
    changes = {c.id: c for c in result.changes}
    for kind, title in KIND_SHEETS.items():
        ws = wb[title]
        header = [c.value for c in ws[1]]
        assert header[:8] == ["Mã", "Tên", "Thuộc", "Mức mục tiêu", "Mức cuối cùng", "Thay đổi", "Lý do", "Căn cứ"]
        assert ws.freeze_panes == "A2" and ws.auto_filter.ref.startswith("A1:")
        rows = {r[0]: r for r in ws.iter_rows(min_row=2, values_only=True)}
        assert set(rows) == {s.id for s in loaded.case.subjects if s.kind is kind}
        for sid, r in rows.items():
            if sid not in result.targets:
                assert r[4] == "Không xếp loại"
                continue
            assert r[3] == result.targets[sid].official
            if not result.levels:
                continue
            assert r[4] == result.levels[sid].official
            assert r[5] == ("Có" if sid in changes else "Không")
            if sid in changes:
                for rule in catalogue_rules(changes[sid]):
                    assert f"{rule}: " in r[6] and f"{rule}: " in r[7]
            else:
                assert not r[6]


def test_excel_summary_states_the_status_and_counts():
    path = ROOT / "tests" / "data" / "examples" / "04_branch_bounded_by_member.json"
    loaded, result = solved(path)
    ws = read_xlsx(xlsx_bytes(path))["Tổng hợp"]
    values = {r[0]: r[1:] for r in ws.iter_rows(values_only=True) if r[0]}
    assert values["Đã chứng minh tối ưu"][0] == "Có"
    assert values["Số đối tượng thay đổi"][0] == len(result.changes)
    rows = [r for r in ws.iter_rows(values_only=True) if r[0] == "Đảng viên" and r[1] == "Mức cuối cùng"]
    members = [s.id for s in loaded.case.subjects if s.kind is Kind.member and s.decided]
    assert rows[0][2] == sum(1 for m in members if result.levels[m] is Level.XS)
    assert rows[0][7] == sum(1 for m in members if result.levels[m] != result.targets[m])


# ---- determinism ----------------------------------------------------------------------------------

def test_two_writes_are_byte_identical(tmp_path):
    path = ROOT / "tests" / "data" / "examples" / "04_branch_bounded_by_member.json"
    loaded, result = solved(path)
    again = solve(load_case(path), SolveOptions(workers=2, time_limit=30))
    writers = (("a.docx", lambda p, r: write_docx(loaded, r, p)), ("a.xlsx", lambda p, r: write_xlsx(loaded, r, p)))
    for name, write in writers:
        first, second = tmp_path / ("1" + name), tmp_path / ("2" + name)
        write(first, result)
        write(second, again)
        assert first.read_bytes() == second.read_bytes(), name
        with zipfile.ZipFile(first) as z:
            assert {i.date_time for i in z.infolist()} == {(2000, 1, 1, 0, 0, 0)}
    props = read_docx((tmp_path / "1a.docx").read_bytes()).core_properties
    assert props.created.year == props.modified.year == 2000
    assert read_xlsx((tmp_path / "1a.xlsx").read_bytes()).properties.modified.year == 2000


def test_a_given_date_is_printed_and_stamped_and_still_deterministic():
    loaded, result = solved(EXAMPLES[0])
    first = build_docx(loaded, result, date="2025-03-05")
    assert first == build_docx(loaded, result, date="05/03/2025")
    document = read_docx(first)
    assert "Ngày 05 tháng 03 năm 2025" in paragraphs(document)
    assert (document.core_properties.created.year, document.core_properties.created.month) == (2025, 3)
    assert first != build_docx(loaded, result)
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
    assert f"Đã ghi báo cáo Word (2 thay đổi, mỗi thay đổi một ghi chú giải trình): {out_docx}" in printed
    assert f"Đã ghi bảng kết quả Excel: {out_xlsx}" in printed
    assert out_docx.read_bytes() == docx_bytes(path)
    assert out_xlsx.read_bytes() == xlsx_bytes(path)
    assert [p.name for p in tmp_path.rglob(".*.tmp")] == []


def test_report_command_dates_the_report_unless_told_not_to(tmp_path):
    path = EXAMPLES[0]
    assert run_report(path, "--docx", tmp_path / "a.docx") == 0
    assert any(p.startswith("Ngày ") for p in paragraphs(read_docx((tmp_path / "a.docx").read_bytes())))


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
    for values, anchor in zip(rows, anchors):
        cells = table.add_row().cells
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
    """The sheet XML the results workbook writes in pieces of ``chunk_rows`` rows is openpyxl's own."""
    from openpyxl.writer.excel import ExcelWriter
    from openpyxl.utils import get_column_letter

    from solver.reports.excel import _WRAP, _Body, _Writer, _header, _table_sheet

    monkeypatch.setattr(_Body, "CHUNK_ROWS", chunk_rows)

    headers, widths = ["Mã", "Tên", "Số", "Tỷ lệ", "Ghi chú"], [10, 20, 8, 8, 30]
    rows = [[f"S{i}", text, i, i / 7 if i % 3 else None, None if i % 2 else text + "\n" + text]
            for i, text in enumerate(TRICKY)]
    rows += [["x", "", 0, 0.5, ""], ["y"]]
    made = []
    for way in ("openpyxl", "xml"):
        wb = openpyxl.Workbook()
        ws = wb.active
        if way == "openpyxl":
            _header(ws, headers, widths)
            for r in rows:
                ws.append(r)
            for (cell,) in ws.iter_rows(min_row=2, min_col=5, max_col=5):
                cell.alignment = _WRAP
            for (cell,) in ws.iter_rows(min_row=2, min_col=4, max_col=4):
                cell.number_format = "0.0%"
            ws.freeze_panes = "A2"
            ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{ws.max_row}"
            made.append(_sheet_xml(wb, ExcelWriter))
        else:
            _table_sheet(ws, headers, widths, rows, wrap=(5,), formats={4: "0.0%"})
            made.append(_sheet_xml(wb, _Writer))
    assert made[0].keys() == made[1].keys()
    for name in made[0]:
        assert made[0][name] == made[1][name], name
    assert b"&#xD;" in made[1]["xl/worksheets/sheet1.xml"]  # a carriage return survives (C14N writes it so)


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
