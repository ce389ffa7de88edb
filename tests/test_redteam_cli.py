"""Issue 18, re-checked from outside (red-team report of 2026-12-06): an escaped "whatif" key, device and pipe
outputs, the audit log as an output, tracebacks of long file names and non-UTF-8 passwords, English reaching
the user, hidden characters in the document block and look-alike ids, and JSON locations. Each test failed
before its fix."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from solver.commands.cli import main
from solver.commands.console import EXIT_ERROR, EXIT_INVALID, EXIT_OK

# the case fixtures and the refusal check of tests/test_outputs.py (the same output rules, re-checked)
from test_outputs import EXAMPLE, ROOT, _no_audit_log, case, digest, refused, run  # noqa: E402,F401,F811


# ---- item 3: an escaped "whatif" key is a what-if for every check ----------------------------------------


@pytest.fixture
def escaped_whatif(case) -> Path:
    path = case.parent / "gia_dinh.json"
    path.write_text('{"\\u0077hatif": "Nếu giữ?", "base": "%s", "lock": {"DV1": "T"}}' % case.name, encoding="utf-8")
    return path


@pytest.mark.parametrize("verb,flag", [("solve", "--json"), ("compare", "--json"), ("report", "--xlsx")])
def test_an_escaped_whatif_key_cannot_overwrite_its_base(capsys, case, escaped_whatif, verb, flag):
    text = refused(capsys, [case, escaped_whatif], verb, escaped_whatif, flag, case)
    assert "chính là tệp đầu vào" in text


def test_the_audit_hash_of_an_escaped_whatif_covers_its_base(case, escaped_whatif):
    from model.whatif import input_digest, input_files

    assert [p.name for p in input_files(escaped_whatif)] == [escaped_whatif.name, case.name]
    before = input_digest(escaped_whatif)
    data = json.loads(case.read_text(encoding="utf-8"))
    data["name"] = data["name"] + " (bản khác)"
    case.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert input_digest(escaped_whatif) != before


def test_the_whatif_prefilter_is_exact():
    from model.whatif import may_be_whatif

    assert may_be_whatif(b'{"whatif": "x"}')
    assert may_be_whatif(b'{"wh\\u0061t\\u0069f": "x"}')
    assert may_be_whatif(b'{"name": "whatif", "subjects": []}')  # may be: the parsed keys decide (they say no)
    assert not may_be_whatif(b'{"\\u0057hatif": "x"}')  # "Whatif" is not the key
    assert not may_be_whatif(b'{"name": "\\u0041", "subjects": []}')


# ---- item 4: a device, a pipe or a link as an output -----------------------------------------------------


@pytest.fixture
def fifo(tmp_path) -> Path:
    path = tmp_path / "ong_dan"
    os.mkfifo(path)  # never opened: opening it for writing would block until a reader came
    return path


def still_a_fifo(path: Path) -> bool:
    import stat

    return stat.S_ISFIFO(os.lstat(path).st_mode)


@pytest.mark.parametrize("verb", ["solve", "compare", "report-docx", "report-xlsx", "generate", "template", "import"])
def test_a_fifo_as_an_output_is_refused_and_stays_a_fifo(capsys, case, tmp_path, fifo, verb):
    link = tmp_path / "lien_ket.out"
    link.symlink_to(fifo)
    workbook = tmp_path / "bang.xlsx"
    assert main(["template", str(workbook), "--from", str(case)]) == EXIT_OK
    capsys.readouterr()
    for target in (fifo, link):
        args = {"solve": ["solve", case, "--json", target],
                "compare": ["compare", case, case, "--json", target],
                "report-docx": ["report", case, "--docx", target],
                "report-xlsx": ["report", case, "--xlsx", target],
                "generate": ["generate", "--members", "10", target],
                "template": ["template", f"{target}.xlsx"],
                "import": ["import", workbook, "--out", target]}[verb]
        if verb == "template":  # the verb wants a name ending in .xlsx
            named = tmp_path / f"{target.name}.xlsx"
            named.symlink_to(fifo)
            args = ["template", named]
        text = refused(capsys, [case], *args)
        assert "ống dẫn (FIFO)" in text and "không phải một tệp thường" in text
        assert still_a_fifo(fifo) and link.is_symlink()


def test_write_atomic_refuses_a_fifo_and_writes_through_a_link(tmp_path, fifo):
    from model.errors import os_error_text
    from solver.io import OutputRefused, write_text_atomic

    with pytest.raises(OutputRefused) as caught:
        write_text_atomic(fifo, "x")
    assert "ống dẫn" in os_error_text(caught.value) and still_a_fifo(fifo)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ong_dan"]  # no temporary file left
    real, link = tmp_path / "that.json", tmp_path / "lien_ket.json"
    real.write_text("cũ", encoding="utf-8")
    link.symlink_to(real)
    write_text_atomic(link, "mới")
    assert link.is_symlink() and real.read_text(encoding="utf-8") == "mới"  # the target written, the link kept


def test_solve_json_through_a_link_writes_the_target_and_keeps_the_link(capsys, case, tmp_path):
    real, link = tmp_path / "kq_that.json", tmp_path / "kq.json"
    link.symlink_to(real)
    code, text = run(capsys, "solve", case, "--json", link)
    assert code == EXIT_OK, text
    assert link.is_symlink() and json.loads(real.read_text(encoding="utf-8"))["status"] == "optimal"


def test_json_into_stderr_that_is_a_pipe_is_refused_and_dash_still_writes_stdout(case):
    env = {**os.environ, "XEPLOAI_AUDIT": "off"}
    proc = subprocess.run([sys.executable, "-m", "solver", "solve", str(case), "--json", "/dev/stderr"], cwd=ROOT,
                          capture_output=True, env=env, timeout=120)
    out = proc.stdout.decode("utf-8")
    assert proc.returncode == EXIT_INVALID and "không phải một tệp thường" in out and "«-»" in out
    proc = subprocess.run([sys.executable, "-m", "solver", "solve", str(case), "--json", "-"], cwd=ROOT,
                          capture_output=True, env=env, timeout=120)
    assert proc.returncode == EXIT_OK and json.loads(proc.stdout.decode("utf-8"))["status"] == "optimal"


# ---- item 9: the audit log is never an output --------------------------------------------------------


@pytest.fixture
def logged(case, monkeypatch) -> Path:
    """The default audit log beside the case, written by one solve."""
    monkeypatch.delenv("XEPLOAI_AUDIT")
    assert main(["solve", str(case)]) == EXIT_OK
    log = case.parent / "xeploai-audit.sqlite"
    assert log.is_file()
    return log


def test_compare_import_and_generate_cannot_write_over_the_audit_log(capsys, case, logged, tmp_path):
    capsys.readouterr()
    workbook = tmp_path / "bang.xlsx"
    assert main(["template", str(workbook), "--from", str(case)]) == EXIT_OK
    capsys.readouterr()
    for args in (["compare", case, case, "--json", logged], ["import", workbook, "--out", logged],
                 ["generate", "--members", "10", logged], ["solve", case, "--json", logged],
                 ["report", case, "--xlsx", logged], ["generate", "--members", "10", f"{logged}-wal"]):
        assert "nhật ký kiểm tra" in refused(capsys, [case, logged], *args)
    with sqlite3.connect(logged) as db:  # still a log
        assert db.execute("SELECT count(*) FROM events").fetchone()[0] >= 1


def test_the_log_named_by_the_environment_or_any_sqlite_file_is_protected(capsys, case, tmp_path, monkeypatch):
    log = tmp_path / "so" / "nhat_ky.db"
    monkeypatch.setenv("XEPLOAI_AUDIT", str(log))
    assert main(["solve", str(case)]) == EXIT_OK and log.is_file()
    capsys.readouterr()
    assert "nhật ký kiểm tra" in refused(capsys, [case, log], "compare", case, case, "--json", log)
    monkeypatch.setenv("XEPLOAI_AUDIT", "off")  # not the current log, still a database: never overwritten
    assert "cơ sở dữ liệu SQLite" in refused(capsys, [case, log], "generate", "--members", "10", log)


# ---- item 8: long audit names, passwords that are not UTF-8 -------------------------------------------


def test_a_300_character_audit_name_is_a_vietnamese_warning(capsys, case, monkeypatch, tmp_path):
    long_name = str(tmp_path / ("a" * 300 + ".sqlite"))
    code, text = run(capsys, "solve", case, "--audit", long_name)
    assert code == EXIT_OK and "tên tệp quá dài" in text and "Traceback" not in text
    monkeypatch.setenv("XEPLOAI_AUDIT", long_name)
    code, text = run(capsys, "report", case, "--xlsx", tmp_path / "kq.xlsx")
    assert code == EXIT_OK and "tên tệp quá dài" in text
    assert "File name too long" not in text


def test_a_long_output_name_is_said_in_vietnamese(capsys, case, tmp_path):
    code, text = run(capsys, "report", case, "--docx", tmp_path / ("b" * 300 + ".docx"))
    assert code == EXIT_ERROR and "tên tệp quá dài" in text and "File name too long" not in text


def test_a_password_that_is_not_utf8_is_refused_with_exit_2(tmp_path):
    target = tmp_path / "ho_so"
    proc = subprocess.run([sys.executable, "-m", "solver", "password", "--stdin", "--folder", str(target)],
                          input=b"matkhau\xff-dai\nmatkhau\xff-dai\n", capture_output=True, cwd=ROOT, timeout=60)
    out = proc.stdout.decode("utf-8") + proc.stderr.decode("utf-8")
    assert proc.returncode == EXIT_INVALID and "UTF-8" in out and "Traceback" not in out
    assert not (target / "xeploai-matkhau.json").exists()


def test_a_password_with_a_surrogate_is_refused_by_the_library(tmp_path):
    from solver import access

    with pytest.raises(access.AccessError, match="UTF-8"):
        access.set_password(tmp_path / "ho_so", "matkhau\udcff-dai")
    access.set_password(tmp_path / "ho_so", "matkhau-dai")
    assert access.check_password(tmp_path / "ho_so", "matkhau\udcff-dai") is False


def test_password_without_a_terminal_says_so_in_vietnamese(tmp_path):
    target = tmp_path / "ho_so"
    proc = subprocess.run([sys.executable, "-m", "solver", "password", "--folder", str(target)],
                          input="matkhau-dai-1\nmatkhau-dai-1\n", capture_output=True, text=True, cwd=ROOT,
                          timeout=60, start_new_session=True)  # a new session: no controlling terminal
    out = proc.stdout + proc.stderr
    assert proc.returncode == EXIT_OK, out
    assert "Warning" not in out and "echo" not in out and "cửa sổ dòng lệnh" in out
    from solver import access

    assert access.check_password(target, "matkhau-dai-1")


# ---- item 10: SQLite and write errors in Vietnamese ---------------------------------------------------


def test_audit_warnings_are_vietnamese(capsys, case, tmp_path, fifo):
    blocker = tmp_path / "tep_thuong"
    blocker.write_text("x", encoding="utf-8")
    cases = {case: "không phải cơ sở dữ liệu SQLite",  # the case itself as the log: a JSON file, not a database
             fifo: "ống dẫn",
             blocker / "nhat_ky.sqlite": "không phải thư mục",
             tmp_path / "khong_co" / "x" / ("c" * 300): "tên tệp quá dài"}
    for log, fragment in cases.items():
        before = digest(case)
        code, text = run(capsys, "solve", case, "--audit", log)
        assert code == EXIT_OK and fragment in text, text
        for english in ("file is not a database", "unable to open", "disk I/O", "Errno", "rollback"):
            assert english not in text
        assert digest(case) == before


def test_sqlite_error_text_translates_and_keeps_xeploai_words():
    from model.errors import sqlite_error_text

    assert "không phải cơ sở dữ liệu" in sqlite_error_text(sqlite3.DatabaseError("file is not a database"))
    assert "lỗi đọc ghi đĩa" in sqlite_error_text(sqlite3.OperationalError("disk I/O error"))
    kept = "nhật ký kiểm tra chỉ được ghi thêm: không được sửa bản ghi"
    assert sqlite_error_text(sqlite3.IntegrityError(kept)) == kept
    assert sqlite_error_text(sqlite3.OperationalError("cannot rollback - no transaction is active")).isascii() is False


@pytest.mark.parametrize("where,fragment", [("tep_thuong/kq.docx", "không phải thư mục"),
                                             ("khong_co/x/../../../../../../proc/nope/kq.docx", "không")])
def test_report_write_errors_are_vietnamese(capsys, case, tmp_path, where, fragment):
    (tmp_path / "tep_thuong").write_text("x", encoding="utf-8")
    code, text = run(capsys, "report", case, "--docx", tmp_path / where)
    assert code == EXIT_ERROR and fragment in text, text
    assert "Not a directory" not in text and "No such file" not in text and "Errno" not in text


# ---- item 10: validation messages list the allowed values in Vietnamese -------------------------------


def problems_of(data: dict) -> list[str]:
    from model.errors import CaseInvalid
    from model.loader import parse_case

    with pytest.raises(CaseInvalid) as caught:
        parse_case(data, "ho_so.json")
    return [str(p) for p in caught.value.problems]


def example() -> dict:
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))


@pytest.mark.parametrize("change,fragment", [
    (lambda d: d["subjects"][1].update(kind="thanh_vien"), "«member» (đảng viên)"),
    (lambda d: d.update(document={"type": "memo"}), "«report» (báo cáo) hoặc «submission» (tờ trình)"),
    (lambda d: d["subjects"][1].update(facts={"discipline": {"form": "phat", "kind": "duty"}}),
     "«khien_trach» (khiển trách), «canh_cao» (cảnh cáo), «cach_chuc» (cách chức) hoặc «khai_tru» (khai trừ)"),
    (lambda d: d["subjects"][1].update(excluded="nghi"), "«new_member» (mới kết nạp chưa đủ 06 tháng)"),
])
def test_allowed_values_are_listed_in_vietnamese(change, fragment):
    data = example()
    change(data)
    text = "\n".join(problems_of(data))
    assert fragment in text, text
    assert " or " not in text and "string_pattern_mismatch" not in text and "(enum)" not in text


# ---- item 11: hidden characters in the document block and look-alike ids -------------------------------


@pytest.mark.parametrize("field,value", [("signer_name", "Nguyễn\u202eA"), ("place", "Buôn\u200bMa Thuột"),
                                         ("to", ["Ban Thường vụ\nTỉnh ủy"]), ("subject", "Báo cáo\u2066 kết quả"),
                                         ("number", "15\u200d"), ("copies", ["Lưu\u3164"])])
def test_the_document_block_refuses_hidden_characters(field, value):
    data = example()
    data["document"] = {field: value}
    text = "\n".join(problems_of(data))
    assert f"document.{field}" in text and "ký tự thứ" in text and "⟨U+" in text


@pytest.mark.parametrize("flag,value", [("--signer-name", "Nguyễn\u202eA"), ("--to", "Ban\u200bThường vụ"),
                                        ("--place", "Buôn\nMa Thuột"), ("--issuer", "BAN\ufe0f TỔ CHỨC")])
def test_report_flags_refuse_hidden_characters_and_write_nothing(capsys, case, tmp_path, flag, value):
    out = tmp_path / "bao_cao.docx"
    code, text = run(capsys, "report", case, "--docx", out, flag, value)
    assert code == EXIT_INVALID and flag in text and "⟨U+" in text, text
    assert not out.exists()


@pytest.mark.parametrize("char", ["\u034f", "\u3164", "\u2800", "\ufe0f", "\u115f", "\uffa0", "\U000e0041",
                                  "\u180e", "\u00ad", "\u200b"])
def test_invisible_characters_are_refused_in_ids_and_names(char):
    from model.errors import first_hidden, visible

    data = example()
    member = data["subjects"][1]
    old = member["id"]
    member["id"] = old + char
    data["subjects"][2]["name"] = char * 2
    text = "\n".join(problems_of(data))
    assert f"U+{ord(char):04X}" in text and "trường «id»" in text and "trường «name»" in text, text
    assert first_hidden("M" + char) == (2, char) and f"⟨U+{ord(char):04X}⟩" in visible("M" + char)


def test_ordinary_vietnamese_names_and_spaces_still_pass():
    from model.loader import parse_case

    data = example()
    data["subjects"][1]["name"] = "Nguyễn Thị Ánh\u00a0Tuyết (Bí thư)"  # a no-break space is a space
    data["document"] = {"signer_name": "Nguyễn Văn A", "place": "Buôn Ma Thuột", "to": ["Ban Thường vụ Tỉnh ủy"]}
    loaded = parse_case(data, "ho_so.json")
    assert loaded.case.document.signer_name == "Nguyễn Văn A"


# ---- item 12: what-if bases that are not files, JSON positions, NaN -------------------------------------


@pytest.mark.parametrize("kind", ["folder", "fifo"])
def test_a_whatif_base_that_is_a_folder_or_a_fifo_is_named_as_such(capsys, tmp_path, kind):
    base = tmp_path / "goc"
    if kind == "folder":
        base.mkdir()
    else:
        os.mkfifo(base)
    whatif = tmp_path / "gia_dinh.json"
    whatif.write_text(json.dumps({"whatif": "Nếu?", "base": "goc", "lock": {"DV1": "T"}}), encoding="utf-8")
    code, text = run(capsys, "check", whatif)
    assert code == EXIT_INVALID and "không tìm thấy" not in text
    assert ("là một thư mục" if kind == "folder" else "không phải một tệp thường") in text


def test_json_problems_name_the_position_in_the_list_not_a_sheet_and_row():
    data = example()
    data["subjects"][4]["kind"] = "x"
    text = problems_of(data)[0]
    assert "đối tượng thứ 5 của danh sách subjects" in text and "trang «subjects»" not in text
    assert "dòng" not in text.split(":")[0]


@pytest.mark.parametrize("token,fragment", [("NaN", "NaN"), ("Infinity", "Infinity"), ("-Infinity", "-Infinity"),
                                            ("1e999", "quá lớn")])
def test_nan_and_infinity_are_refused_when_the_json_is_read(tmp_path, capsys, token, fragment):
    data = example()
    data["subjects"][1]["score"] = 0.5
    text = json.dumps(data, ensure_ascii=False, indent=1).replace('"score": 0.5', f'"score": {token}')
    path = tmp_path / "ho_so.json"
    path.write_text(text, encoding="utf-8")
    line = next(i for i, t in enumerate(text.splitlines(), start=1) if '"score"' in t)
    code, out = run(capsys, "check", path)
    assert code == EXIT_INVALID and fragment in out and f"ở dòng {line}" in out, out
    assert "trường «subjects" not in out  # refused at parse, not by a range check later


# ---- item 8, siblings: a home that cannot be found, a count of failures that cannot be kept -------------


def test_a_tilde_of_an_unknown_account_is_a_path_not_a_traceback(tmp_path, monkeypatch):
    from solver import access
    from solver.audit import audit_path_for

    monkeypatch.chdir(tmp_path)
    assert access.case_dir("~khong_co_tai_khoan_nay/ho_so") == tmp_path / "~khong_co_tai_khoan_nay" / "ho_so"
    assert audit_path_for("c.json", "~khong_co_tai_khoan_nay/nk.sqlite") == Path("~khong_co_tai_khoan_nay/nk.sqlite")


def test_a_count_of_failures_that_cannot_be_kept_keeps_the_app_closed_with_a_message(tmp_path, monkeypatch):
    from solver import access

    folder = tmp_path / "ho_so"
    access.set_password(folder, "matkhau-dai")
    real_open = os.open

    def refuse(path, *args, **kwargs):
        if str(path).endswith(access.THROTTLE_FILE):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    fingerprint, problem = access.try_password(folder, "matkhau-dai", sleep=lambda s: None)
    assert fingerprint is None and "không có quyền truy cập" in problem and "Permission" not in problem
