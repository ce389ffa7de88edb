"""What every command-line verb shares: exit codes, printing, and the Vietnamese report of an invalid case."""

from __future__ import annotations

import sys

from model.errors import CaseInvalid

EXIT_OK, EXIT_CONFLICT, EXIT_INVALID, EXIT_ERROR = 0, 1, 2, 3
EXIT_STOPPED = 130  #: Ctrl-C outside a long search (the shell's code for SIGINT)


def out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def report_invalid(path: str, exc: CaseInvalid) -> None:
    """Every problem of an invalid input, errors first, then warnings."""
    out(f"Hồ sơ không hợp lệ: {path} ({len(exc.problems)} lỗi)")
    for p in exc.problems:
        out(f"  {p}")
    for p in exc.warnings:
        out(f"  {p}")


def audit_arg(p) -> None:
    """The --audit option shared by the verbs that solve or write files."""
    p.add_argument("--audit", metavar="TỆP|off", default=None,
                   help="nhật ký kiểm toán SQLite (mặc định xeploai-audit.sqlite cạnh hồ sơ; off để tắt; "
                        "biến môi trường XEPLOAI_AUDIT cũng dùng được)")


def warn(text: str | None) -> None:
    if text:
        out(text)


def err(text: str = "") -> None:
    """A line for the person at the terminal when standard output carries a file (``--json -``)."""
    sys.stderr.write(text + "\n")


# ---- arguments every solving verb shares ----------------------------------------------------------

#: Bounds of --time-limit (seconds) and --workers.
MAX_TIME_LIMIT = 86_400.0
MAX_WORKERS = 64


def time_limit_arg(text: str) -> float:
    """``--time-limit``: a finite number of seconds, above 0 and at most a day (argparse type)."""
    import argparse
    import math

    try:
        value = float(text.replace(",", "."))
    except ValueError:
        raise argparse.ArgumentTypeError(f"phải là một số giây, không phải «{text}»") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"phải là một số giây lớn hơn 0, không phải «{text}»")
    if value > MAX_TIME_LIMIT:
        raise argparse.ArgumentTypeError(f"tối đa {int(MAX_TIME_LIMIT):,} giây (một ngày), không phải «{text}»"
                                         .replace(",", "."))
    return value


def workers_arg(text: str) -> int:
    """``--workers``: a whole number of solver threads, 1 to 64 (argparse type)."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"phải là số nguyên, không phải «{text}»") from None
    if not 1 <= value <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"phải từ 1 đến {MAX_WORKERS}, không phải {value}")
    return value


def solver_args(p, *, each: bool = False) -> None:
    """--workers and --time-limit, checked when read (a NaN, 0, a negative number is refused with exit 2)."""
    p.add_argument("--workers", type=workers_arg, default=2, metavar="N",
                   help=f"số luồng của bộ giải, 1 đến {MAX_WORKERS} (mặc định 2)")
    p.add_argument("--time-limit", type=time_limit_arg, default=60.0, metavar="S",
                   help=("giới hạn thời gian mỗi lần giải" if each else "giới hạn thời gian")
                   + ", giây, lớn hơn 0 (mặc định 60)")


def refuse_outputs(inputs, outputs, *, stdout_ok: bool = True, audit: str | None = None) -> bool:
    """Print why the outputs may not be written and return True, or return False when they may (nothing is
    written: the caller then exits 2 before any work). The audit log that the inputs (and the outputs, as cases
    of their folder) would be logged in — ``audit`` (``--audit``), else ``XEPLOAI_AUDIT``, else the default
    beside each — counts as an input: no output may replace it."""
    from solver.audit import audit_files
    from solver.io import output_problem

    inputs = list(inputs)
    logs = audit_files([*inputs, *(p for _, p in outputs)], audit)
    problem = output_problem(inputs, outputs, stdout_ok=stdout_ok, logs=logs)
    if problem is None:
        return False
    out(f"Không thực hiện: {problem}. Không ghi tệp nào.")
    return True


def file_error(exc: BaseException) -> str:
    """An operating-system error in Vietnamese (``strerror`` is English)."""
    from model.errors import os_error_text

    return os_error_text(exc)
