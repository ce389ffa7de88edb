"""The ``xeploai report`` subcommand: solve a case and write the Word report and/or the Excel results."""

from __future__ import annotations

import argparse
from pathlib import Path
from datetime import date as Date


from solver.commands.console import audit_arg, refuse_outputs, solver_args, warn
from solver.commands.console import out as _out


def configure_report(p: argparse.ArgumentParser) -> None:
    p.add_argument("case", help="tệp hồ sơ .json hoặc .xlsx")
    p.add_argument("--docx", metavar="OUT", help="ghi báo cáo Word (.docx) cho Ban Thường vụ vào tệp này")
    p.add_argument("--xlsx", metavar="OUT", help="ghi bảng kết quả Excel (.xlsx) vào tệp này")
    solver_args(p)
    p.add_argument("--no-date", action="store_true",
                   help="không ghi ngày lập vào báo cáo Word (khi đó tệp giống hệt nhau giữa các lần chạy)")
    audit_arg(p)


def cmd_report(args: argparse.Namespace) -> int:
    from solver.commands.cli import EXIT_CONFLICT, EXIT_ERROR, EXIT_INVALID, EXIT_OK, _load_or_report, solve_or_report
    from solver.audit import log_export
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
    from solver.commands.cli import case_inputs

    if refuse_outputs(case_inputs(args.case, args.audit), [("báo cáo Word", args.docx), ("bảng kết quả Excel", args.xlsx)],
                      stdout_ok=False):
        return EXIT_INVALID
    loaded = _load_or_report(args.case)
    if loaded is None:
        return EXIT_INVALID
    result = solve_or_report(loaded, args, SolveOptions(time_limit=args.time_limit, workers=args.workers),
                             "Không ghi tệp báo cáo nào.")
    if result is None:
        return EXIT_ERROR
    _out(f"Hồ sơ: {loaded.case.name}")
    _out(f"Trạng thái: {STATUS_LABELS[result.status]}")
    if result.changed is not None:
        _out(f"Số đối tượng phải thay đổi: {result.changed}; tổng số bậc: {result.steps}")
    day = None if args.no_date else Date.today().isoformat()
    jobs = []
    if args.docx:
        if result.changes:
            detail = f" ({len(result.changes)} thay đổi, mỗi thay đổi một ghi chú giải trình)"
        elif result.conflicts:
            detail = f" (nêu {len(result.conflicts)} mục mâu thuẫn)"
        else:
            detail = " (không có thay đổi)"
        jobs.append((args.docx, lambda tmp: write_docx(loaded, result, tmp, date=day), "báo cáo Word" + detail))
    if args.xlsx:
        jobs.append((args.xlsx, lambda tmp: write_xlsx(loaded, result, tmp), "bảng kết quả Excel"))
    for path, write, what in jobs:
        try:
            write_atomic(path, write)
        except OSError as exc:
            _out(f"Không ghi được {what} vào «{path}»: {exc.strerror or exc}")
            return EXIT_ERROR
        except Exception as exc:  # a writer failed on the content: say so, nothing half-written stays
            _out(f"Lỗi khi lập {what} của hồ sơ «{loaded.case.name}»: {exc}. Không ghi tệp «{path}».")
            return EXIT_ERROR
        _out(f"Đã ghi {what}: {path}")
        warn(log_export(args.case, Path(path).suffix.lstrip(".").lower(), path, setting=args.audit))
    if result.status in ("conflict", "unknown"):
        return EXIT_CONFLICT
    return EXIT_OK
