"""The command line (``xeploai`` / ``python -m solver``): check, solve and the other verbs, in Vietnamese."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from model.case import KIND_LABELS, Kind, target_sources_text
from model.catalogue import load_catalogue
from model.errors import CaseInvalid
from model.loader import LoadedCase

#: argparse's own messages, in Vietnamese (argparse looks them up through its module-level ``_``).
ARGPARSE_VI = {
    "usage: ": "cách dùng: ",
    "the following arguments are required: %s": "thiếu tham số bắt buộc: %s",
    "invalid choice: %(value)r (choose from %(choices)s)": "lựa chọn không hợp lệ: %(value)r (chọn một trong: %(choices)s)",
    "%(prog)s: error: %(message)s\n": "%(prog)s: lỗi: %(message)s\n",
    "show this help message and exit": "hiện hướng dẫn này rồi thoát",
    "positional arguments": "tham số",
    "options": "tùy chọn",
    "unrecognized arguments: %s": "tham số không nhận ra: %s",
    "argument %(argument_name)s: %(message)s": "tham số %(argument_name)s: %(message)s",
    "invalid %(type)s value: %(value)r": "giá trị không hợp lệ cho kiểu %(type)s: %(value)r",
    "expected one argument": "cần một giá trị",
}
argparse._ = lambda text: ARGPARSE_VI.get(text, text)  # type: ignore[attr-defined]

from solver.commands.console import EXIT_CONFLICT, EXIT_ERROR, EXIT_INVALID, EXIT_OK, EXIT_STOPPED, audit_arg, report_invalid, warn
from solver.commands.console import err as _err
from solver.commands.console import file_error, refuse_outputs, solver_args
from solver.commands.console import out as _out
from solver.phases import phase
from solver.phases import write as write_phases


def case_inputs(path: str, audit: str | None = None) -> list:
    """The files a verb reads for the case at ``path`` (a what-if's bases included); the audit log it appends to
    (``audit``) is protected by ``refuse_outputs(…, audit=…)``: none of them may be an output."""
    from model.whatif import input_files

    return list(input_files(path))


def _load_or_report(path: str) -> LoadedCase | None:
    from solver.explanations.compare import load_any  # a what-if file (key "whatif") is applied to its base

    try:
        loaded = load_any(path)
    except CaseInvalid as exc:
        report_invalid(path, exc)
        return None
    return loaded


def check_summary(loaded: LoadedCase) -> list[str]:
    """The Vietnamese summary that ``check`` prints for a valid case."""
    case, h = loaded.case, loaded.hierarchy
    profile = loaded.options.profile
    title = load_catalogue().profile(profile).title
    lines = [f"Hồ sơ: {case.name}", f"Bộ quy định: {title}" + ("" if case.profile else " (mặc định)")]
    counts, locks = loaded.counts, len(loaded.locks)
    kinds, rated, tiers, sources, unrated = counts.kinds, counts.rated, counts.tiers, counts.sources, counts.unrated
    lines.append("Số đối tượng theo loại:")
    for k in Kind:
        if kinds[k]:
            extra = "" if k is Kind.unit else f" (xếp loại: {rated[k]})"
            lines.append(f"  {KIND_LABELS[k]}: {kinds[k]}{extra}")
    if tiers:
        lines.append("Tổ chức đảng theo cấp:")
        for t, n in sorted(tiers.items(), key=lambda kv: kv[0].value):
            lines.append(f"  {t.label}: {n}")
    lines.append(f"Nhóm tỷ lệ: {len(h.groups)} (tự lập: {sum(not g.explicit for g in h.groups)}, "
                 f"khai báo: {sum(g.explicit for g in h.groups)})")
    for g in sorted(h.groups, key=lambda g: (-len(g.members), g.id))[:15]:
        lines.append(f"  {g.name}: {len(g.members)}")
    if len(h.groups) > 15:
        lines.append(f"  … và {len(h.groups) - 15} nhóm khác")
    lines.append(f"Mức mục tiêu: {target_sources_text(sources)}")
    if locks:
        lines.append(f"Mức đã khóa (cấp có thẩm quyền quyết định): {locks}")
    if unrated:
        lines.append(f"Không xếp loại (mới dưới 6 tháng, miễn sinh hoạt…): {unrated}")
    lines.append(f"Thứ tự xếp loại (S5): {h.rating_stage_count(loaded.options.rating_order)} vòng họp")
    if loaded.warnings:
        lines.append(f"Cảnh báo ({len(loaded.warnings)}):")
        lines.extend(f"  {w}" for w in loaded.warnings[:50])
    lines.append("Kết quả kiểm tra: hợp lệ, không có lỗi.")
    return lines


def cmd_check(args: argparse.Namespace) -> int:
    with phase("load"):
        loaded = _load_or_report(args.case)
    if loaded is None:
        return EXIT_INVALID
    for line in check_summary(loaded):
        _out(line)
    return EXIT_OK


def _solve_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("case", help="tệp hồ sơ .json hoặc .xlsx")
    p.add_argument("--json", metavar="OUT", help="ghi kết quả JSON vào tệp này («-»: ra màn hình, khi đó phần tóm "
                   "tắt in ra luồng lỗi)")
    solver_args(p)
    p.add_argument("--timing", action="store_true", help="ghi cả thời gian chạy vào JSON (khi đó JSON không còn giống hệt nhau giữa các lần chạy)")
    audit_arg(p)


def solve_summary(loaded: LoadedCase, result) -> list[str]:
    """The Vietnamese summary that ``solve`` prints."""
    from model.levels import Level
    from solver.explanations.explain import ballot_share, render_change
    from solver.result import STATUS_LABELS, conflict_heading

    subjects = loaded.hierarchy.subjects
    lines = [f"Hồ sơ: {loaded.case.name}", f"Trạng thái: {STATUS_LABELS[result.status]}"]
    if result.decisions:
        lines.append(f"Việc cần cấp có thẩm quyền quyết định: {len(result.decisions)}")
        for d in result.decisions[:50]:
            lines.append(f"  - {d.title}: {d.text}")
        if len(result.decisions) > 50:
            lines.append(f"  … và {len(result.decisions) - 50} việc khác (xem tệp JSON)")
    if result.status in ("optimal", "feasible"):
        lines.append(f"Số đối tượng phải thay đổi: {result.changed}; tổng số bậc: {result.steps}")
        if result.status == "feasible":
            lines.append(f"Chưa chứng minh tối ưu: cận dưới số thay đổi là {result.bound_changed}.")
        by_kind = Counter(subjects[c.id].kind for c in result.changes)
        for k in Kind:
            if by_kind[k]:
                lines.append(f"  {KIND_LABELS[k]}: {by_kind[k]} thay đổi")
        by_id = {c.id: c for c in result.changes}
        if result.changes:
            lines.append("Danh sách thay đổi:")
        for c in result.changes[:200]:
            lines.append("  - " + render_change(loaded, c, by_id))
        if len(result.changes) > 200:
            lines.append(f"  … và {len(result.changes) - 200} thay đổi khác (xem tệp JSON)")
        if result.ties:
            lines.append(f"Phương án ngang nhau (cấp có thẩm quyền còn được lựa chọn): {len(result.ties)} nhóm")
            for t in result.ties:
                g = loaded.hierarchy.group(t.group).name if t.group else ""
                who = ", ".join(f"{subjects[s].name} ({lv.code}" + (f", phiếu XS {ballot_share(loaded, s, Level.XS)})"
                                if ballot_share(loaded, s, Level.XS) else ")") for s, lv in t.chosen[:8])
                more = f" và {len(t.chosen) - 8} người khác" if len(t.chosen) > 8 else ""
                lines.append(f"  - {g}: {who}{more}")
            lines.append("  Khi ngang nhau, xeploai chọn theo khóa cố định: giữ mức cao hơn cho đối tượng "
                         "đứng trước trong hồ sơ.")
    if result.status == "conflict":
        lines.append(conflict_heading(result.conflicts))
        for c in result.conflicts:
            ref = f" [{c.rule}, {c.citation}]" if c.citation else ""
            lines.append(f"  - {c.text}{ref}")
    lines.extend(result.notes)
    return lines


def progress_printer():
    """Progress lines on the terminal's error stream (never on stdout, never in a log that is not a terminal)."""
    if not sys.stderr.isatty():
        return None
    start = time.monotonic()

    def say(text: str) -> None:
        sys.stderr.write(f"[{time.monotonic() - start:6.1f} giây] {text}\n")
        sys.stderr.flush()

    return say


def solve_or_report(loaded: LoadedCase, args: argparse.Namespace, opts, nothing_written: str, trail):
    """Solve and log it in the audit trail (``solver.audit.CaseTrail``); on a solver error, say so with the case
    name and return None."""
    from solver.engine.solve import solve

    try:
        result = solve(loaded, opts)
    except Exception as exc:  # reported with the case name; nothing is written
        _out(f"Lỗi khi giải hồ sơ «{loaded.case.name}» ({args.case}): {solver_error(exc)}")
        _out(nothing_written)
        warn(trail.solved(None, opts, case_name=loaded.case.name))
        return None
    with phase("write"):
        result.seal()  # final: its JSON is written and hashed for the log from one text
    with phase("audit"):
        warn(trail.solved(result, opts))
    return result


def solver_error(exc: BaseException) -> str:
    """What to say when the solver raised: its message when it has one (the engine's are Vietnamese), else the
    kind of failure, never a traceback."""
    text = str(exc).strip()
    if isinstance(exc, MemoryError):
        return "không đủ bộ nhớ"
    return text or f"lỗi nội bộ ({type(exc).__name__})"


def warnings_lines(loaded: LoadedCase, limit: int = 20) -> list[str]:
    """The warnings of a loaded case (hidden rows, missing categories…), so that ``solve`` never uses a case
    without saying what was odd in it."""
    if not loaded.warnings:
        return []
    lines = [f"Cảnh báo khi đọc hồ sơ ({len(loaded.warnings)}):"]
    lines.extend(f"  {w}" for w in loaded.warnings[:limit])
    if len(loaded.warnings) > limit:
        lines.append(f"  … và {len(loaded.warnings) - limit} cảnh báo khác (xem `xeploai check`)")
    return lines


def cmd_solve(args: argparse.Namespace) -> int:
    from solver.audit import CaseTrail, sha256_text
    from solver.io import is_stdout, write_text_output
    from solver.engine.solve import SolveOptions

    if refuse_outputs(case_inputs(args.case), [("kết quả JSON", args.json)], audit=args.audit):
        return EXIT_INVALID
    to_stdout = is_stdout(args.json)
    say = _err if to_stdout else _out  # standard output carries the JSON: the summary goes beside it
    progress = progress_printer()
    if progress:
        progress("Đang đọc và kiểm tra hồ sơ…")
    with phase("load"):
        loaded = _load_or_report(args.case)
    if loaded is None:
        return EXIT_INVALID
    opts = SolveOptions(time_limit=args.time_limit, workers=args.workers, progress=progress,
                        second_core=True)
    trail = CaseTrail(args.case, args.audit)
    result = solve_or_report(loaded, args, opts, "Không ghi tệp kết quả nào.", trail)
    if result is None:
        return EXIT_ERROR
    with phase("write"):
        text = result.dumps(timing=args.timing) if args.json else ""
        if args.json:  # written before the summary is printed, so a closed pipe cannot lose it
            try:
                write_text_output(args.json, text)
            except OSError as exc:
                say(f"Không ghi được kết quả vào «{args.json}»: {file_error(exc)}. Không ghi tệp kết quả nào.")
                return EXIT_ERROR
    for line in solve_summary(loaded, result) + warnings_lines(loaded):
        say(line)
    if args.json:
        say("Đã ghi kết quả ra màn hình (đầu ra chuẩn)." if to_stdout else f"Đã ghi kết quả: {args.json}")
        with phase("audit"):
            note = trail.exported("json", args.json,
                                  sha256=sha256_text(text) if to_stdout or not Path(args.json).is_file() else None)
        if note:
            say(note)
    if result.status == "conflict" or result.status == "unknown":
        return EXIT_CONFLICT
    return EXIT_OK


#: Subcommands: (name, help, configure-parser, handler). Other modules add theirs here.
COMMANDS: list[tuple[str, str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = [
    ("check", "kiểm tra một hồ sơ và in tóm tắt", lambda p: p.add_argument("case", help="tệp hồ sơ .json hoặc .xlsx"),
     cmd_check),
    ("solve", "tìm phương án xếp loại thay đổi ít nhất thỏa mọi quy định", _solve_args, cmd_solve),
]


def _explain_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("case", help="tệp hồ sơ .json hoặc .xlsx")
    p.add_argument("id", help="mã đối tượng cần giải trình")
    p.add_argument("--keep", metavar="MỨC", help="giữ đối tượng ở mức này (XS, T, HT, K hoặc tên đầy đủ); "
                   "mặc định: mức mục tiêu")
    solver_args(p, each=True)


def cmd_explain(args: argparse.Namespace) -> int:
    from model.levels import parse_level
    from solver.explanations.explain import render_change, render_why_not
    from solver.engine.solve import SolveOptions, solve
    from solver.explanations.whynot import hold

    loaded = _load_or_report(args.case)
    if loaded is None:
        return EXIT_INVALID
    subject = loaded.hierarchy.subjects.get(args.id)
    if subject is None or not subject.decided:
        _out(f"Không có đối tượng được xếp loại mang mã «{args.id}» trong {args.case}.")
        return EXIT_INVALID
    try:
        keep = parse_level(args.keep, lenient=True) if args.keep else None
    except ValueError as exc:
        _out(f"Tham số --keep: {exc}")
        return EXIT_INVALID
    opts = SolveOptions(time_limit=args.time_limit, workers=args.workers)
    try:
        base = solve(loaded, opts)
    except Exception as exc:  # the solver failed: said with the case name, never a traceback
        _out(f"Lỗi khi giải hồ sơ «{loaded.case.name}» ({args.case}): {solver_error(exc)}")
        return EXIT_ERROR
    by_id = {c.id: c for c in base.changes}
    _out(f"{subject.name} ({args.id}): mức mục tiêu {subject.target_level().official}")
    if base.status in ("optimal", "feasible"):
        if args.id in by_id:
            _out("Trong phương án đã chọn: " + render_change(loaded, by_id[args.id], by_id))
        else:
            _out(f"Trong phương án đã chọn: giữ nguyên {base.levels[args.id].official}.")
    else:
        _out("Hồ sơ đang có mâu thuẫn: xem `xeploai solve`.")
    try:
        answer = hold(loaded, args.id, keep, base, opts)
    except Exception as exc:
        _out(f"Lỗi khi tìm cách giữ «{args.id}» ở mức đã chọn: {solver_error(exc)}")
        return EXIT_ERROR
    for line in render_why_not(loaded, answer) + warnings_lines(loaded):
        _out(line)
    return EXIT_OK


def _password_args(p: argparse.ArgumentParser) -> None:
    from solver.access import CASE_DIR_ENV, DEFAULT_CASE_DIR, MIN_LENGTH

    p.add_argument("--folder", metavar="THƯ_MỤC", default=None,
                   help=f"thư mục hồ sơ mà giao diện dùng (mặc định: biến môi trường {CASE_DIR_ENV}, không có "
                        f"thì ./{DEFAULT_CASE_DIR})")
    p.add_argument("--remove", action="store_true", help="bỏ mật khẩu: giao diện lại mở không cần mật khẩu")
    p.add_argument("--stdin", action="store_true",
                   help="đọc mật khẩu từ đầu vào chuẩn thay vì hỏi (hai dòng: mật khẩu, rồi nhập lại)")
    p.epilog = (f"Mật khẩu cần ít nhất {MIN_LENGTH} ký tự. Chỉ lưu mã băm có muối (scrypt) trong tệp "
                "xeploai-matkhau.json của thư mục hồ sơ, quyền chỉ chủ tài khoản đọc được; không lưu mật khẩu. "
                "Mật khẩu chỉ khóa giao diện, không mã hóa các tệp trên đĩa.")


class _NotText(ValueError):
    """What was typed for a password is not UTF-8 text."""


def _stdin_lines(count: int) -> list[str]:
    """Up to ``count`` lines of standard input, decoded as UTF-8 strictly (``_NotText`` otherwise): a password
    piped in from a file in another encoding must be refused, not hashed as bytes that cannot be typed again."""
    buffer = getattr(sys.stdin, "buffer", None)
    lines: list[str] = []
    for _ in range(count):
        if buffer is not None:
            raw = buffer.readline()
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise _NotText() from None
        else:
            line = sys.stdin.readline()
        if not line:
            break
        if any("\ud800" <= ch <= "\udfff" for ch in line):  # bytes smuggled in as surrogates
            raise _NotText()
        lines.append(line.rstrip("\r\n") if line.endswith("\n") else line)
    return lines


def _has_terminal() -> bool:
    """Whether a password can be typed without being shown (a controlling terminal, as getpass needs)."""
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return False
    os.close(fd)
    return True


def _read_new_password(use_stdin: bool) -> tuple[str, str] | None:
    """(password, repeated) from two getpass prompts, or from two lines of stdin; None at end of input.

    Without a terminal, getpass would print an English warning and read stdin anyway: the same is said in
    Vietnamese and the two lines are read from stdin, as with ``--stdin``."""
    if not use_stdin and not _has_terminal():
        _err("Lưu ý: không có cửa sổ dòng lệnh để gõ mật khẩu ẩn; mật khẩu được đọc từ đầu vào chuẩn (hai dòng) "
             "và có thể hiện ra. Khi chuyển mật khẩu qua ống dẫn, hãy dùng --stdin.")
        use_stdin = True
    if use_stdin:
        lines = _stdin_lines(2)
        if len(lines) < 2:
            return None
        return lines[0], lines[1]
    import getpass

    try:
        return getpass.getpass("Mật khẩu mới: "), getpass.getpass("Nhập lại mật khẩu mới: ")
    except EOFError:
        return None
    except UnicodeDecodeError:
        raise _NotText() from None


def cmd_password(args: argparse.Namespace) -> int:
    from solver.access import AccessError, case_dir, password_path, read_password, remove_password, set_password

    folder = case_dir(args.folder)
    try:
        if args.remove:
            if remove_password(folder):
                _out(f"Đã bỏ mật khẩu: đã xóa {password_path(folder)}. Giao diện mở không cần mật khẩu.")
            else:
                _out(f"Thư mục hồ sơ {folder} chưa đặt mật khẩu: không có gì để bỏ.")
            return EXIT_OK
        try:
            had = read_password(folder) is not None
        except AccessError:
            had = True  # a damaged file is replaced
        try:
            given = _read_new_password(args.stdin)
        except _NotText:
            _out("Mật khẩu không đọc được: có byte không phải chữ UTF-8 (tệp hay bàn phím dùng bảng mã khác?). "
                 "Chưa đổi gì.")
            return EXIT_INVALID
        if given is None:
            _out("Không đọc được mật khẩu: cần nhập mật khẩu hai lần (với --stdin: hai dòng).")
            return EXIT_INVALID
        first, second = given
        if first != second:
            _out("Hai lần nhập mật khẩu không khớp nhau: chưa đổi gì.")
            return EXIT_INVALID
        path = set_password(folder, first)
    except AccessError as exc:
        _out(f"Lỗi: {exc}.")
        return EXIT_INVALID
    _out(f"Đã {'đổi' if had else 'đặt'} mật khẩu cho giao diện dùng thư mục hồ sơ {folder}.")
    _out(f"Tệp {path} chỉ chứa mã băm có muối (scrypt), không chứa mật khẩu.")
    return EXIT_OK


def _register_more() -> None:
    """Verbs that live in their own modules (imported here so that each stays small)."""
    from solver.commands.workbook import cmd_import, cmd_template, configure_import, configure_template
    from solver.commands.generate import cmd_generate, configure_generate
    from solver.commands.whatif import cmd_compare, configure_compare
    from solver.commands.report import cmd_report, configure_report

    COMMANDS.append(("explain", "giải trình một đối tượng: vì sao bị thay đổi, giữ lại thì tốn gì",
                     _explain_args, cmd_explain))
    COMMANDS.append(("template", "ghi mẫu bảng tính Excel, hoặc một hồ sơ vào bảng tính (--from)",
                     configure_template, cmd_template))
    COMMANDS.append(("import", "nhập bảng tính Excel thành hồ sơ JSON", configure_import, cmd_import))
    COMMANDS.append(("compare", "so sánh phương án gốc với một giả định (tệp what-if): ai xếp loại khác đi và vì sao",
                     configure_compare, cmd_compare))
    COMMANDS.append(("generate", "tạo hồ sơ mô phỏng có đủ các cấp, tất định theo hạt giống",
                     configure_generate, cmd_generate))
    COMMANDS.append(("report", "lập báo cáo Word và bảng Excel cho Ban Thường vụ", configure_report, cmd_report))
    COMMANDS.append(("password", "đặt, đổi hoặc bỏ mật khẩu mở giao diện (máy dùng chung)",
                     _password_args, cmd_password))


_register_more()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xeploai",
        description="xeploai — xếp loại chất lượng tổ chức đảng, đảng viên, tập thể và cá nhân lãnh đạo "
        "theo quy định, thay đổi ít nhất so với kết quả biểu quyết.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="LỆNH")
    for name, help_text, configure, handler in COMMANDS:
        p = sub.add_parser(name, help=help_text, description=help_text)
        configure(p)
        p.set_defaults(handler=handler)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        try:
            return args.handler(args)
        finally:
            write_phases()
    except KeyboardInterrupt:
        # Ctrl-C outside a long search (which stops with its best answer instead): every file is written
        # atomically, so none is left half written.
        _out("\nĐã dừng theo yêu cầu (Ctrl-C). Không có tệp nào bị ghi dở.")
        return EXIT_STOPPED
    except BrokenPipeError:  # the reader went away (e.g. `| head`): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
