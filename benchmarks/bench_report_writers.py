"""Why the reports write their long tables as XML text: the libraries' own APIs against the report's writers.

Usage: python benchmarks/bench_report_writers.py [--rows 5000] [--changes 20547] [--members 300000]

Word: an appendix table of nine columns (the changes of a province: 20,547 rows at 300,000 members) built row by
row with python-docx's ``add_row`` and ``add_run``, against ``solver.reports.word._Table`` (XML text spliced in at
save time). Excel: a member sheet of 17 columns (300,000 rows) written with openpyxl's write-only mode and, when
installed, XlsxWriter's constant-memory mode, against ``solver.reports.excel._Body`` (sheet XML streamed into the
archive). Each is timed on ``--rows`` rows, in memory, and scaled to the province; the figures are printed, not
asserted.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORD_WIDTHS = [1.5, 3.6, 3.4, 2.0, 2.1, 2.1, 7.4, 1.5, 2.1]


def word_row(i: int) -> list:
    return [str(i), f"Nguyễn Văn {i}", "Chi bộ Thôn 3, xã Ea Tu", "Đảng viên", "Hoàn thành xuất sắc nhiệm vụ",
            "Hoàn thành tốt nhiệm vụ",
            [f"nhóm: Đảng viên thuộc Đảng bộ xã Ea Tu — 68 đề nghị, tối đa 42; xếp thứ {i % 68}/68 theo tỷ lệ phiếu"],
            ["C1"], ["BMT II.B.2.3a; BĐ 5.2"]]


def excel_row(i: int) -> list:
    return [f"M{i}", f"Nguyễn Văn {i}", "Chi bộ Thôn 3, xã Ea Tu", 9, 5, 1, 0, 15, "Hoàn thành xuất sắc nhiệm vụ",
            "Biểu quyết", 0.6, "Hoàn thành tốt nhiệm vụ", "Có" if i % 16 == 0 else "Không",
            "nhóm: …" if i % 16 == 0 else None, "C1" if i % 16 == 0 else None,
            "BMT II.B.2.3a" if i % 16 == 0 else None, "Đảng viên thuộc Đảng bộ xã Ea Tu"]


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def word_api(n: int) -> None:
    import docx
    from docx.shared import Cm

    doc = docx.Document()
    table = doc.add_table(rows=1, cols=len(WORD_WIDTHS))
    for i in range(n):
        cells = table.add_row().cells
        for cell, value, w in zip(cells, word_row(i), WORD_WIDTHS):
            cell.width = Cm(w)
            for j, text in enumerate(value if isinstance(value, list) else [value]):
                p = cell.paragraphs[0] if j == 0 else cell.add_paragraph()
                p.add_run(text)
    doc.save(io.BytesIO())


def word_xml(n: int) -> None:
    import docx

    from solver.reports.word import _save, _Table

    doc = docx.Document()
    doc.styles.add_style("Table Text", 1)
    t = _Table(doc, [str(c) for c in range(len(WORD_WIDTHS))], WORD_WIDTHS)
    for i in range(n):
        t.row(word_row(i))
    t.finish()
    _save(doc)


def excel_write_only(n: int) -> None:
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Đảng viên")
    for i in range(n):
        ws.append(excel_row(i))
    wb.save(io.BytesIO())  # (write-only sheets go through a temporary file of the system's)


def excel_xlsxwriter(n: int) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(io.BytesIO(), {"constant_memory": True})  # (rows go through temporary files)
    ws = wb.add_worksheet("Đảng viên")
    for i in range(n):
        ws.write_row(i, 0, excel_row(i))
    wb.close()


def excel_body(n: int) -> None:
    import openpyxl

    from model.xlsx_memory import workbook_bytes
    from solver.reports.excel import _table_sheet, _Writer

    wb = openpyxl.Workbook()
    rows = [excel_row(i) for i in range(n)]
    _table_sheet(wb.active, [str(c) for c in range(17)], [10] * 17, rows, wrap=(14, 15, 16), formats={11: "0.0%"},
                 highlight={i for i in range(n) if i % 16 == 0}, unique=(1, 2))
    workbook_bytes(wb, _Writer, compresslevel=1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=5000)
    ap.add_argument("--changes", type=int, default=20547, help="rows of the province's changes appendix")
    ap.add_argument("--members", type=int, default=300000, help="rows of the province's member sheet")
    args = ap.parse_args()
    n = args.rows
    print(f"# {n} rows each, scaled to {args.changes:,} changes (Word) and {args.members:,} members (Excel)")
    print("| writer | s for the rows | µs per cell | s scaled to the province |")
    print("|---|---|---|---|")
    cases = [("Word: python-docx add_row/add_run", word_api, 9, args.changes),
             ("Word: report's XML rows (_Table)", word_xml, 9, args.changes),
             ("Excel: openpyxl write-only", excel_write_only, 17, args.members)]
    try:
        import xlsxwriter  # noqa: F401
        cases.append(("Excel: XlsxWriter constant_memory", excel_xlsxwriter, 17, args.members))
    except ImportError:
        print("# XlsxWriter is not installed: its row is left out")
    cases.append(("Excel: report's sheet XML (_Body)", excel_body, 17, args.members))
    for label, fn, cols, scale in cases:
        s = timed(lambda: fn(n))
        print(f"| {label} | {s:.2f} | {1e6 * s / (n * cols):.1f} | {s * scale / n:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
