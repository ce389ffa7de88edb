"""The ``template`` and ``import`` verbs: the committee's workbook out of and into the JSON case format."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from model.case import Case
from model.errors import CaseInvalid
from model.loader import WORKBOOK_SUFFIXES
from solver.io import write_atomic, write_text_atomic

from solver.commands.console import EXIT_ERROR, EXIT_INVALID, EXIT_OK, file_error, refuse_outputs
from solver.commands.console import out as _out
from solver.commands.console import report_invalid as _report


def write_template(path: str | Path, case: Case | None = None) -> None:
    """Write the workbook atomically: ``case`` in the template, or the template with example rows."""
    from model.excel_template import template_bytes  # openpyxl is loaded only by the Excel verbs

    data = template_bytes(case)

    def _w(tmp: str) -> None:
        Path(tmp).write_bytes(data)

    write_atomic(path, _w)


def case_json(data: dict) -> str:
    """The JSON text of a workbook's raw case data, as ``import`` writes it."""
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


def configure_template(p: argparse.ArgumentParser) -> None:
    p.add_argument("out", metavar="OUT.xlsx", help="tệp bảng tính sẽ ghi")
    p.add_argument("--from", dest="source", metavar="HỒ_SƠ",
                   help="ghi hồ sơ này (.json hoặc .xlsx) vào bảng tính thay cho các dòng ví dụ")


def cmd_template(args: argparse.Namespace) -> int:
    from model.excel_template import TemplateError

    if Path(args.out).suffix.lower() != ".xlsx":
        _out(f"Tên tệp bảng tính phải có đuôi .xlsx: {args.out}")
        return EXIT_INVALID
    if refuse_outputs([args.source], [("bảng tính", args.out)], stdout_ok=False):
        return EXIT_INVALID
    case = None
    warnings: list = []
    if args.source:
        from model.excel import load_workbook_case
        from model.loader import load_case

        workbook = Path(args.source).suffix.lower() in WORKBOOK_SUFFIXES
        try:
            loaded = (load_workbook_case if workbook else load_case)(args.source)
            case, warnings = loaded.case, loaded.warnings
        except CaseInvalid as exc:
            _report(args.source, exc)
            _out("Không ghi tệp nào.")
            return EXIT_INVALID
    try:
        write_template(args.out, case)
    except TemplateError as exc:
        _out(f"Không ghi được bảng tính: {exc}")
        return EXIT_INVALID
    except OSError as exc:
        _out(f"Không ghi được tệp {args.out}: {file_error(exc)}. Không ghi tệp nào.")
        return EXIT_ERROR
    if case is None:
        _out(f"Đã ghi mẫu bảng tính (có các dòng ví dụ): {args.out}")
    else:
        _out(f"Đã ghi hồ sơ «{case.name}» ({len(case.subjects)} đối tượng) vào bảng tính: {args.out}")
    for w in warnings:  # what was odd in the source (hidden rows…), as import says it
        _out(f"  {w}")
    return EXIT_OK


def configure_import(p: argparse.ArgumentParser) -> None:
    p.add_argument("workbook", metavar="IN.xlsx", help="bảng tính đã điền theo mẫu")
    p.add_argument("--out", required=True, metavar="HỒ_SƠ.json", help="tệp hồ sơ JSON sẽ ghi")


def cmd_import(args: argparse.Namespace) -> int:
    from model.excel import read_workbook_with_origins, validate_workbook_data

    if refuse_outputs([args.workbook], [("hồ sơ JSON", args.out)], stdout_ok=False):
        return EXIT_INVALID
    try:
        data, origins = read_workbook_with_origins(args.workbook)
        loaded = validate_workbook_data(data, origins, args.workbook)
    except CaseInvalid as exc:
        _report(args.workbook, exc)
        _out("Không ghi tệp nào.")
        return EXIT_INVALID
    try:
        write_text_atomic(args.out, case_json(data))
    except OSError as exc:
        _out(f"Không ghi được tệp {args.out}: {file_error(exc)}. Không ghi tệp nào.")
        return EXIT_ERROR
    case = loaded.case
    _out(f"Đã nhập «{case.name}»: {len(case.subjects)} đối tượng, {len(case.groups)} nhóm tỷ lệ khai báo.")
    for w in loaded.warnings:
        _out(f"  {w}")
    _out(f"Đã ghi hồ sơ: {args.out}")
    return EXIT_OK


__all__ = ["cmd_import", "cmd_template", "configure_import", "configure_template", "write_template"]
