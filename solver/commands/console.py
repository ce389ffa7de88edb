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
