"""The ``xeploai compare`` verb: solve a base case and a what-if, and print what differs, in Vietnamese."""

from __future__ import annotations

import argparse
from pathlib import Path

from model.errors import CaseInvalid
from model.loader import WORKBOOK_SUFFIXES, read_json
from model.whatif import is_whatif_data

from solver.commands.console import EXIT_ERROR, EXIT_INVALID, EXIT_OK, file_error, refuse_outputs, solver_args
from solver.commands.console import err as _err
from solver.commands.console import out as _out
from solver.commands.console import report_invalid as _report


def configure_compare(p: argparse.ArgumentParser) -> None:
    """Arguments of ``xeploai compare``."""
    p.add_argument("base", metavar="GỐC", help="hồ sơ gốc (.json, .xlsx); nếu chỉ ghi một tệp giả định thì "
                   "hồ sơ gốc là tệp mà giả định đó ghi ở trường «base»")
    p.add_argument("whatif", metavar="GIẢ_ĐỊNH", nargs="?", help="tệp giả định (hoặc một hồ sơ khác) cần so sánh")
    p.add_argument("--json", metavar="OUT", help="ghi kết quả so sánh dạng JSON vào tệp này («-»: ra màn hình, "
                   "khi đó phần so sánh in ra luồng lỗi)")
    solver_args(p, each=True)


def _is_whatif(path: str) -> bool:
    if Path(path).suffix.lower() in WORKBOOK_SUFFIXES:
        return False
    return is_whatif_data(read_json(path))


def _inputs(*paths: str | None) -> list:
    from model.whatif import input_files

    return [f for p in paths if p is not None for f in input_files(p)]


def cmd_compare(args: argparse.Namespace) -> int:
    """Load both sides (solving a re-rated base first), solve, compare, print; write the JSON on request."""
    from solver.explanations.compare import SolveCache, check_expect, compare, load_any, render_comparison, solve_whatif_file
    from solver.engine.solve import SolveOptions

    from solver.io import is_stdout, write_text_output

    base_path, what_path = (args.base, args.whatif) if args.whatif else (None, args.base)
    if refuse_outputs(_inputs(base_path, what_path), [("kết quả so sánh JSON", args.json)]):
        return EXIT_INVALID
    say = _err if is_stdout(args.json) else _out
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
        from solver.commands.cli import solver_error

        _out(f"Lỗi khi giải hồ sơ gốc hoặc giả định «{what_path}»: {solver_error(exc)}")
        _out("Không ghi tệp kết quả nào.")
        return EXIT_ERROR
    try:
        base_result = cache.result(base_loaded)
        what_result = cache.result(what_loaded)
    except Exception as exc:  # reported with both names; nothing is written
        from solver.commands.cli import solver_error

        _out(f"Lỗi khi giải hồ sơ «{base_loaded.case.name}» hoặc «{what_loaded.case.name}»: {solver_error(exc)}")
        _out("Không ghi tệp kết quả nào.")
        return EXIT_ERROR
    cmp = compare(base_loaded, base_result, what_loaded, what_result,
                  question=delta.whatif if delta is not None else None)
    if args.json:  # written before the comparison is printed, so a closed pipe cannot lose it
        try:
            write_text_output(args.json, cmp.dumps())
        except OSError as exc:
            _out(f"Không ghi được kết quả so sánh vào «{args.json}»: {file_error(exc)}. Không ghi tệp nào.")
            return EXIT_ERROR
    from solver.commands.cli import warnings_lines

    warned = warnings_lines(base_loaded)
    if what_loaded.warnings != base_loaded.warnings:
        warned += warnings_lines(what_loaded)
    for line in notes + render_comparison(cmp) + warned:
        say(line)
    if delta is not None and delta.expect is not None:
        failures = check_expect(delta, what_result, cmp)
        if failures:
            say("Kết quả mong đợi (expect) của tệp giả định KHÔNG đúng:")
            for f in failures:
                say(f"  - {f}")
        else:
            say("Kết quả mong đợi (expect) của tệp giả định: đúng.")
    if args.json:
        say("Đã ghi kết quả so sánh ra màn hình (đầu ra chuẩn)." if is_stdout(args.json)
            else f"Đã ghi kết quả so sánh: {args.json}")
    return EXIT_OK


__all__ = ["cmd_compare", "configure_compare"]
