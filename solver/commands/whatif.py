"""The ``xeploai compare`` verb: solve a base case and a what-if, and print what differs, in Vietnamese."""

from __future__ import annotations

import argparse
from pathlib import Path

from model.errors import CaseInvalid
from model.loader import WORKBOOK_SUFFIXES, read_json
from model.whatif import is_whatif_data

from solver.commands.console import EXIT_ERROR, EXIT_INVALID, EXIT_OK
from solver.commands.console import out as _out
from solver.commands.console import report_invalid as _report


def configure_compare(p: argparse.ArgumentParser) -> None:
    """Arguments of ``xeploai compare``."""
    p.add_argument("base", metavar="GỐC", help="hồ sơ gốc (.json, .xlsx); nếu chỉ ghi một tệp giả định thì "
                   "hồ sơ gốc là tệp mà giả định đó ghi ở trường «base»")
    p.add_argument("whatif", metavar="GIẢ_ĐỊNH", nargs="?", help="tệp giả định (hoặc một hồ sơ khác) cần so sánh")
    p.add_argument("--json", metavar="OUT", help="ghi kết quả so sánh dạng JSON vào tệp này")
    p.add_argument("--workers", type=int, default=2, help="số luồng của bộ giải (mặc định 2)")
    p.add_argument("--time-limit", type=float, default=60.0, help="giới hạn thời gian mỗi lần giải, giây (mặc định 60)")


def _is_whatif(path: str) -> bool:
    if Path(path).suffix.lower() in WORKBOOK_SUFFIXES:
        return False
    return is_whatif_data(read_json(path))


def cmd_compare(args: argparse.Namespace) -> int:
    """Load both sides (solving a re-rated base first), solve, compare, print; write the JSON on request."""
    from solver.explanations.compare import SolveCache, check_expect, compare, load_any, render_comparison, solve_whatif_file
    from solver.io import write_text_atomic
    from solver.engine.solve import SolveOptions

    base_path, what_path = (args.base, args.whatif) if args.whatif else (None, args.base)
    cache = SolveCache(SolveOptions(time_limit=args.time_limit, workers=args.workers))
    delta = None
    notes = []
    current = what_path
    try:
        if _is_whatif(what_path):
            inner_base, what_loaded, delta = solve_whatif_file(what_path, cache)
            base_loaded = inner_base
            if base_path is not None:
                current = base_path
                given = load_any(base_path, cache=cache)
                if Path(base_path).resolve() != Path(inner_base.source).resolve():
                    notes.append(f"Lưu ý: tệp giả định lấy gốc là «{inner_base.source}», khác hồ sơ gốc đã cho "
                                 f"«{base_path}»; so sánh với hồ sơ đã cho.")
                    base_loaded = given
        else:
            if base_path is None:
                _out(f"«{what_path}» không phải tệp giả định (thiếu trường «whatif»): hãy ghi cả hồ sơ gốc và "
                     "hồ sơ cần so sánh.")
                return EXIT_INVALID
            what_loaded = load_any(what_path, cache=cache)
            current = base_path
            base_loaded = load_any(base_path, cache=cache)
    except CaseInvalid as exc:
        _report(current, exc)
        return EXIT_INVALID
    except Exception as exc:  # the solver failed on the base or on the what-if: nothing is written
        _out(f"Lỗi khi giải hồ sơ gốc hoặc giả định «{what_path}»: {exc}")
        _out("Không ghi tệp kết quả nào.")
        return EXIT_ERROR
    try:
        base_result = cache.result(base_loaded)
        what_result = cache.result(what_loaded)
    except Exception as exc:  # reported with both names; nothing is written
        _out(f"Lỗi khi giải hồ sơ «{base_loaded.case.name}» hoặc «{what_loaded.case.name}»: {exc}")
        _out("Không ghi tệp kết quả nào.")
        return EXIT_ERROR
    cmp = compare(base_loaded, base_result, what_loaded, what_result,
                  question=delta.whatif if delta is not None else None)
    for line in notes + render_comparison(cmp):
        _out(line)
    if delta is not None and delta.expect is not None:
        failures = check_expect(delta, what_result, cmp)
        if failures:
            _out("Kết quả mong đợi (expect) của tệp giả định KHÔNG đúng:")
            for f in failures:
                _out(f"  - {f}")
        else:
            _out("Kết quả mong đợi (expect) của tệp giả định: đúng.")
    if args.json:
        write_text_atomic(args.json, cmp.dumps())
        _out(f"Đã ghi kết quả so sánh: {args.json}")
    return EXIT_OK


__all__ = ["cmd_compare", "configure_compare"]
