"""Issue 18: an output never overwrites an input nor another output, ``--json -`` writes to standard output, and
bad arguments, folders, pipes or a failing solver end in a Vietnamese message with the right exit code — never a
traceback, never a file written."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from solver.commands.cli import main
from solver.commands.console import EXIT_ERROR, EXIT_INVALID, EXIT_OK

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "tests" / "data" / "examples" / "01_cap_20_percent.json"


@pytest.fixture(autouse=True)
def _no_audit_log(monkeypatch):
    monkeypatch.setenv("XEPLOAI_AUDIT", "off")


@pytest.fixture
def case(tmp_path) -> Path:
    path = tmp_path / "ho_so.json"
    shutil.copy(EXAMPLE, path)
    return path


@pytest.fixture
def whatif(case) -> Path:
    path = case.parent / "gia_dinh.json"
    first = json.loads(case.read_text(encoding="utf-8"))["subjects"][1]["id"]
    path.write_text(json.dumps({"whatif": "Nếu khóa mức?", "base": case.name, "lock": {first: "T"}},
                               ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def workbook(tmp_path, case) -> Path:
    path = tmp_path / "bang.xlsx"
    assert main(["template", str(path), "--from", str(case)]) == EXIT_OK
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(capsys, *args: str) -> tuple[int, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def refused(capsys, files: list[Path], *args) -> str:
    """Run a verb that must refuse its outputs: exit 2, a Vietnamese message, every file left as it was."""
    before = {f: digest(f) for f in files if f.is_file()}
    listing = sorted(p.name for p in files[0].parent.iterdir())
    code, text = run(capsys, *args)
    assert code == EXIT_INVALID, text
    assert "Không thực hiện" in text and "Traceback" not in text
    assert {f: digest(f) for f in before} == before
    assert sorted(p.name for p in files[0].parent.iterdir()) == listing  # nothing new, no temporary file
    return text


# ---- outputs never overwrite inputs ----------------------------------------------------------------


def test_solve_refuses_to_write_its_json_over_the_case(capsys, case):
    text = refused(capsys, [case], "solve", case, "--json", case)
    assert "chính là tệp đầu vào" in text


def test_solve_refuses_a_link_to_the_case_hard_or_symbolic(capsys, case, tmp_path):
    hard, soft = tmp_path / "cung.json", tmp_path / "mem.json"
    os.link(case, hard)
    soft.symlink_to(case)
    for link in (hard, soft, tmp_path / "." / case.name):
        assert "chính là tệp đầu vào" in refused(capsys, [case], "solve", case, "--json", link)


def test_solve_of_a_whatif_refuses_to_write_over_its_base(capsys, case, whatif):
    text = refused(capsys, [case, whatif], "solve", whatif, "--json", case)
    assert str(case) in text or case.name in text


def test_report_refuses_the_workbook_it_reads_and_one_file_for_two_outputs(capsys, workbook, tmp_path):
    assert "chính là tệp đầu vào" in refused(capsys, [workbook], "report", workbook, "--xlsx", workbook)
    same = tmp_path / "bao_cao"
    text = refused(capsys, [workbook], "report", workbook, "--docx", same, "--xlsx", same)
    assert "cùng ghi vào một tệp" in text


def test_report_cannot_write_a_binary_file_to_standard_output(capsys, case):
    assert "ra màn hình" in refused(capsys, [case], "report", case, "--docx", "-")


def test_import_refuses_to_write_over_its_workbook(capsys, workbook):
    refused(capsys, [workbook], "import", workbook, "--out", workbook)


def test_template_refuses_to_write_over_its_source(capsys, workbook):
    refused(capsys, [workbook], "template", workbook, "--from", workbook)


def test_compare_refuses_to_write_over_the_whatif_or_its_base(capsys, case, whatif):
    refused(capsys, [case, whatif], "compare", whatif, "--json", whatif)
    refused(capsys, [case, whatif], "compare", case, whatif, "--json", case)


def test_an_output_that_is_a_folder_is_refused(capsys, case, tmp_path):
    folder = tmp_path / "thu_muc"
    folder.mkdir()
    assert "là một thư mục" in refused(capsys, [case], "solve", case, "--json", folder)
    assert "là một thư mục" in refused(capsys, [case], "generate", "--members", "10", folder)


def test_the_audit_log_is_an_input_too(capsys, case, monkeypatch):
    monkeypatch.delenv("XEPLOAI_AUDIT")
    log = case.parent / "nhat_ky.sqlite"
    assert main(["solve", str(case), "--audit", str(log)]) == EXIT_OK
    capsys.readouterr()
    refused(capsys, [case, log], "solve", case, "--audit", log, "--json", log)


# ---- --json - --------------------------------------------------------------------------------------


def test_json_dash_writes_the_result_to_standard_output_and_the_summary_beside_it(capsys, case):
    code = main(["solve", str(case), "--json", "-"])
    captured = capsys.readouterr()
    assert code == EXIT_OK
    data = json.loads(captured.out)  # standard output holds the JSON and nothing else
    assert data["status"] == "optimal"
    assert "Trạng thái" in captured.err and "đầu ra chuẩn" in captured.err
    assert not (case.parent / "-").exists()


def test_json_to_dev_stdout_in_a_real_process(case, tmp_path):
    env = {**os.environ, "XEPLOAI_AUDIT": "off"}
    for target in ("/dev/stdout", "-"):
        proc = subprocess.run([sys.executable, "-m", "solver", "solve", str(case), "--json", target],
                              cwd=ROOT, capture_output=True, env=env, timeout=120)
        assert proc.returncode == EXIT_OK, proc.stderr.decode()
        assert json.loads(proc.stdout.decode("utf-8"))["status"] == "optimal"
        assert "Traceback" not in proc.stderr.decode("utf-8")


def test_compare_json_dash_writes_the_comparison_to_standard_output(capsys, whatif):
    code = main(["compare", str(whatif), "--json", "-"])
    captured = capsys.readouterr()
    assert code == EXIT_OK
    assert isinstance(json.loads(captured.out), dict)


# ---- no traceback, ever ----------------------------------------------------------------------------


@pytest.mark.parametrize("verb", ["check", "solve", "explain", "report", "compare"])
def test_a_folder_given_as_the_case_is_an_input_error(capsys, tmp_path, verb):
    folder = tmp_path / "ho_so.json"
    folder.mkdir()
    extra = {"explain": ["X"], "report": ["--xlsx", str(tmp_path / "kq.xlsx")], "compare": [str(folder)]}
    code, text = run(capsys, verb, folder, *extra.get(verb, []))
    assert code == EXIT_INVALID and "thư mục" in text and "Traceback" not in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ho_so.json"]


def test_a_fifo_or_dev_zero_given_as_the_case_is_an_input_error(capsys, tmp_path):
    fifo = tmp_path / "ong.json"
    os.mkfifo(fifo)
    for source in (fifo, Path("/dev/zero")):
        code, text = run(capsys, "solve", source)
        assert code == EXIT_INVALID and "không phải một tệp thường" in text


def test_compare_into_a_path_that_cannot_be_written_says_so_and_exits_3(capsys, whatif, tmp_path):
    blocker = tmp_path / "tep_thuong"
    blocker.write_text("x", encoding="utf-8")
    code, text = run(capsys, "compare", whatif, "--json", blocker / "kq.json")
    assert code == EXIT_ERROR and "Không ghi được kết quả so sánh" in text and "Traceback" not in text
    assert "Not a directory" not in text and "một phần của đường dẫn không phải thư mục" in text


def test_solve_into_a_path_that_cannot_be_written_says_so_in_vietnamese(capsys, case, tmp_path):
    blocker = tmp_path / "tep_thuong"
    blocker.write_text("x", encoding="utf-8")
    code, text = run(capsys, "solve", case, "--json", blocker / "kq.json")
    assert code == EXIT_ERROR and "không phải thư mục" in text and "Not a directory" not in text


def test_explain_when_the_solver_raises_is_a_message_with_exit_3(capsys, case, monkeypatch):
    import solver.engine.solve as engine

    def broken(*args, **kwargs):
        raise RuntimeError("bộ giải hỏng (thử)")

    monkeypatch.setattr(engine, "solve", broken)
    first = json.loads(case.read_text(encoding="utf-8"))["subjects"][1]["id"]
    code, text = run(capsys, "explain", case, first)
    assert code == EXIT_ERROR and "bộ giải hỏng (thử)" in text and "Traceback" not in text


@pytest.mark.parametrize("verb", ["solve", "explain", "compare", "report"])
@pytest.mark.parametrize("option, value", [("--time-limit", "nan"), ("--time-limit", "0"), ("--time-limit", "-1"),
                                           ("--time-limit", "inf"), ("--workers", "0"), ("--workers", "-2")])
def test_bad_time_limits_and_worker_counts_are_refused(capsys, case, tmp_path, verb, option, value):
    extra = {"explain": ["X"], "report": ["--xlsx", str(tmp_path / "kq.xlsx")]}
    with pytest.raises(SystemExit) as info:
        main([verb, str(case), *extra.get(verb, []), f"{option}={value}"])
    assert info.value.code == EXIT_INVALID
    err = capsys.readouterr().err
    assert "lỗi" in err and option in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ho_so.json"]


def test_generate_has_a_bound(capsys, tmp_path):
    with pytest.raises(SystemExit) as info:
        main(["generate", "--members", str(10**12), str(tmp_path / "x.json")])
    assert info.value.code == EXIT_INVALID
    assert "tối đa 3.000.000" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_a_derived_group_id_is_an_error_at_check_not_a_crash_at_solve(capsys, case):
    data = json.loads(case.read_text(encoding="utf-8"))
    members = [s["id"] for s in data["subjects"] if s["kind"] == "member"]
    org = next(s["id"] for s in data["subjects"] if s["kind"] == "party_org")
    data["groups"] = [{"id": f"dv:{org}", "name": "Nhóm", "members": members[:2]}]
    case.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    for verb in ("check", "solve"):
        code, text = run(capsys, verb, case)
        assert code == EXIT_INVALID and "nhóm tỷ lệ xeploai tự lập" in text
