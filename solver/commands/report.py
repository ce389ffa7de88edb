"""The ``xeploai report`` subcommand: solve a case and write the Word report and/or the Excel results.

The Word report's form fields (issuing body, number, place, date, signer, addressees, copies) come from the case's
``document`` block (``model.document``); each flag below overrides one field.
"""

from __future__ import annotations

import argparse
import gc
from datetime import date as Date
from pathlib import Path

from solver.commands.console import audit_arg, file_error, refuse_outputs, solver_args, warn
from solver.commands.console import out as _out

#: Flag → field of ``model.document.DocumentInfo`` (single values).
FORM_FLAGS = {
    "upper_body": ("--upper-body", "TÊN", "cấp ủy cấp trên, dòng đầu của tiêu đề bên trái, VD «TỈNH ỦY ĐẮK LẮK»"),
    "issuer": ("--issuer", "TÊN", "cơ quan ban hành, VD «BAN TỔ CHỨC» (mặc định)"),
    "number": ("--number", "SỐ", "số văn bản, VD 15 (để trống thì ghi «Số …-BC/BTCTU» để điền tay)"),
    "symbol": ("--symbol", "KÝ_HIỆU", "ký hiệu sau số, VD BC/BTCTU (mặc định; TTr/BTCTU với tờ trình)"),
    "place": ("--place", "ĐỊA_DANH", "địa danh của dòng ngày tháng, VD «Buôn Ma Thuột»"),
    "subject": ("--subject", "TRÍCH_YẾU", "trích yếu dưới tên loại văn bản"),
    "sign_for": ("--sign-for", "DÒNG", "dòng thẩm quyền ký, VD «T/M BAN TỔ CHỨC» (mặc định) hoặc «K/T TRƯỞNG BAN»"),
    "signer_title": ("--signer-title", "CHỨC_VỤ", "chức vụ người ký, VD «TRƯỞNG BAN» (mặc định), «PHÓ TRƯỞNG BAN»"),
    "signer_name": ("--signer-name", "HỌ_TÊN", "họ và tên người ký"),
}


def configure_report(p: argparse.ArgumentParser) -> None:
    p.add_argument("case", help="tệp hồ sơ .json hoặc .xlsx")
    p.add_argument("--docx", metavar="OUT", help="ghi báo cáo Word (.docx) gửi Ban Thường vụ vào tệp này")
    p.add_argument("--xlsx", metavar="OUT", help="ghi bảng kết quả Excel (.xlsx) vào tệp này")
    solver_args(p)
    p.add_argument("--review", action="store_true",
                   help="bản dùng để rà soát: mỗi trường hợp điều chỉnh có một ghi chú giải trình bên lề "
                        "(không dùng để in, ban hành)")
    p.add_argument("--no-date", action="store_true",
                   help="để trống ngày tháng trên báo cáo Word («…, ngày … tháng … năm …», điền tay); khi đó tệp "
                        "giống hệt nhau giữa các lần chạy")
    p.add_argument("--date", metavar="NGÀY", help="ngày ghi trên báo cáo Word (YYYY-MM-DD hoặc DD/MM/YYYY); mặc định "
                                                  "ngày trong hồ sơ (khối document), nếu không có thì hôm nay")
    p.add_argument("--doc-type", choices=("report", "submission"), default=None,
                   help="loại văn bản: report = Báo cáo (mặc định), submission = Tờ trình")
    for field, (flag, metavar, help_text) in FORM_FLAGS.items():
        p.add_argument(flag, dest=f"form_{field}", metavar=metavar, help=help_text)
    p.add_argument("--to", action="append", metavar="NƠI_GỬI",
                   help="dòng «Kính gửi» (ghi nhiều lần nếu gửi nhiều nơi), VD «Ban Thường vụ Tỉnh ủy»")
    p.add_argument("--copy-to", action="append", metavar="NƠI_NHẬN",
                   help="một dòng của «Nơi nhận» (ghi nhiều lần), VD «Như trên», «Lưu Văn phòng»")
    audit_arg(p)


def form_of(loaded, args: argparse.Namespace):
    """The Word report's form fields: the case's ``document`` block with the flags over it, and the date
    (``--date``; none with ``--no-date``; else the case's, else today). A ValueError in Vietnamese for a bad
    value."""
    from pydantic import ValidationError

    from model.document import DocumentInfo
    from model.errors import pydantic_message

    base = loaded.case.document or DocumentInfo()
    overrides = {field: getattr(args, f"form_{field}", None) for field in FORM_FLAGS}
    overrides["type"] = getattr(args, "doc_type", None)
    if getattr(args, "to", None):
        overrides["to"] = tuple(args.to)
    if getattr(args, "copy_to", None):
        overrides["copies"] = tuple(args.copy_to)
    if getattr(args, "date", None):
        overrides["date"] = args.date
    try:
        info = base.merged(overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else ""
            flag = {"type": "--doc-type", "to": "--to", "copies": "--copy-to", "date": "--date",
                    **{k: v[0] for k, v in FORM_FLAGS.items()}}.get(field, field)
            problems.append(f"{flag}: {pydantic_message(err)}")
        raise ValueError("; ".join(problems)) from None
    if getattr(args, "no_date", False):
        info = info.model_copy(update={"date": None})
    elif info.date is None:
        info = info.model_copy(update={"date": Date.today()})
    return info


def cmd_report(args: argparse.Namespace) -> int:
    from solver.commands.cli import (EXIT_CONFLICT, EXIT_ERROR, EXIT_INVALID, EXIT_OK, _load_or_report, solve_or_report,
                                     warnings_lines)
    from solver.audit import CaseTrail
    from solver.io import write_atomic
    from solver.reports.word import write_docx
    from solver.reports.excel import write_xlsx
    from solver.result import STATUS_LABELS
    from solver.engine.solve import SolveOptions

    if not args.docx and not args.xlsx:
        _out("Chưa chọn tệp báo cáo: hãy ghi --docx TỆP.docx và/hoặc --xlsx TỆP.xlsx.")
        return EXIT_INVALID
    if args.workers < 1 or args.time_limit <= 0:
        _out("--workers phải từ 1 trở lên và --time-limit phải lớn hơn 0.")
        return EXIT_INVALID
    if getattr(args, "no_date", False) and getattr(args, "date", None):
        _out("Chỉ chọn một trong hai: --date NGÀY hoặc --no-date.")
        return EXIT_INVALID
    from solver.commands.cli import case_inputs

    if refuse_outputs(case_inputs(args.case), [("báo cáo Word", args.docx), ("bảng kết quả Excel", args.xlsx)],
                      stdout_ok=False, audit=args.audit):
        return EXIT_INVALID
    loaded = _load_or_report(args.case)
    if loaded is None:
        return EXIT_INVALID
    try:
        info = form_of(loaded, args)
    except ValueError as exc:
        _out(f"Thông tin văn bản không hợp lệ — {exc}. Không ghi tệp báo cáo nào.")
        return EXIT_INVALID
    opts = SolveOptions(time_limit=args.time_limit, workers=args.workers, second_core=True)
    trail = CaseTrail(args.case, args.audit)
    result = solve_or_report(loaded, args, opts, "Không ghi tệp báo cáo nào.", trail)
    if result is None:
        return EXIT_ERROR
    result.sealed = None  # its JSON text was hashed for the audit log; the report does not write it (tens of MB)
    gc.collect()  # the solve's cycles (models, component runners): their memory is reused by the report
    _out(f"Hồ sơ: {loaded.case.name}")
    _out(f"Trạng thái: {STATUS_LABELS[result.status]}")
    if result.changed is not None:
        _out(f"Số đối tượng phải thay đổi: {result.changed}; tổng số bậc: {result.steps}")
    for line in warnings_lines(loaded):  # hidden rows, disguised cells…: said before the report is written
        _out(line)
    review = getattr(args, "review", False)
    jobs = []
    if args.docx:
        if result.changes:
            detail = f" ({len(result.changes)} thay đổi" + \
                (", mỗi thay đổi một ghi chú giải trình: bản rà soát, không dùng để in)" if review else ")")
        elif result.conflicts:
            detail = f" (nêu {len(result.conflicts)} mục mâu thuẫn)"
        else:
            detail = " (không có thay đổi)"
        jobs.append((args.docx, lambda tmp: write_docx(loaded, result, tmp, document=info, review=review),
                     "báo cáo Word" + detail))
    if args.xlsx:
        jobs.append((args.xlsx, lambda tmp: write_xlsx(loaded, result, tmp), "bảng kết quả Excel"))
    for path, write, what in jobs:
        try:
            write_atomic(path, write)
        except OSError as exc:
            _out(f"Không ghi được {what} vào «{path}»: {file_error(exc)}. Không ghi tệp «{path}».")
            return EXIT_ERROR
        except Exception as exc:  # a writer failed on the content: say so, nothing half-written stays
            _out(f"Lỗi khi lập {what} của hồ sơ «{loaded.case.name}»: {exc}. Không ghi tệp «{path}».")
            return EXIT_ERROR
        _out(f"Đã ghi {what}: {path}")
        warn(trail.exported(Path(path).suffix.lstrip(".").lower(), path))
    if result.status in ("conflict", "unknown"):
        return EXIT_CONFLICT
    return EXIT_OK
