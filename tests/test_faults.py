"""Faults: a solve cut by its time limit gives a verified answer marked not proven; a kill or Ctrl-C during a solve
or an export leaves no half-written file; a solver exception is reported with the case name and nothing is written."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from ortools.sat.python import cp_model

import solver.staging
from model.generate import generate_case
from model.loader import LoadedCase, parse_case
from solver.cli import EXIT_ERROR, EXIT_OK, main
from solver.solve import SolveOptions, solve
from solver.verify import Violation, verify

ROOT = Path(__file__).resolve().parents[1]
TAN_LOI = ROOT / "scenarios" / "phuong_tan_loi_2018.json"
CASE_NAME = json.loads(TAN_LOI.read_text(encoding="utf-8"))["name"]


@pytest.fixture(autouse=True)
def _no_audit_log(monkeypatch):
    """No audit log beside the scenarios (subprocesses inherit the variable)."""
    monkeypatch.setenv("XEPLOAI_AUDIT", "off")


@pytest.fixture(scope="module")
def big() -> LoadedCase:
    """A generated province-shaped case of 20,000 members."""
    return parse_case(generate_case(20_000, 7), "tinh_20000.json")


@pytest.fixture(scope="module")
def medium_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("faults") / "tinh_20000.json"
    path.write_text(json.dumps(generate_case(20_000, 7), ensure_ascii=False), encoding="utf-8")
    return path


def assert_verified_or_empty(loaded: LoadedCase, result) -> None:
    """The status contract of a cut solve: never "optimal" unless proven; any answer given passes the verifier."""
    assert result.status in ("optimal", "feasible", "unknown")
    assert (result.status == "optimal") == result.proven
    data = json.loads(result.dumps())
    assert data["proven_optimal"] is result.proven
    if result.status == "unknown":
        assert not result.levels and not result.changes and result.changed is None
        return
    assert set(result.levels) == set(loaded.targets)
    assert verify(loaded, result.levels) == []
    assert result.changed == sum(1 for s, lv in result.levels.items() if lv != loaded.targets[s])
    if result.status == "feasible":
        assert data["gap"]["changed_lower_bound"] is not None
        assert result.bound_changed <= result.changed


# -- time limits -----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["auto", "general"])
def test_a_solve_cut_by_a_50_ms_limit_is_verified_and_never_claims_optimal_unproven(big, method):
    result = solve(big, SolveOptions(time_limit=0.05, method=method))
    assert_verified_or_empty(big, result)


@pytest.fixture
def limit_hits_after_first_answer(monkeypatch):
    """Make every CP-SAT call stop as if its time limit hit right after its first answer: OPTIMAL becomes
    FEASIBLE (the answer is kept, the proof is lost)."""
    real = solver.staging.Runner.solve

    def cut(self, model, *, lp=False):
        status, s = real(self, model, lp=lp)
        return (cp_model.FEASIBLE if status == cp_model.OPTIMAL else status), s

    monkeypatch.setattr(solver.staging.Runner, "solve", cut)


@pytest.mark.parametrize("method", ["general", "reduced"])
def test_a_solve_stopped_after_its_first_answer_returns_it_verified_and_marked_not_proven(
        limit_hits_after_first_answer, method):
    loaded = parse_case(generate_case(1_500, 3), "huyen_1500.json")
    result = solve(loaded, SolveOptions(time_limit=20, method=method))
    assert result.status == "feasible" and not result.proven
    assert_verified_or_empty(loaded, result)
    assert any(not s["proven"] for s in result.stages)


def test_the_cli_says_not_proven_when_the_limit_hits(limit_hits_after_first_answer, tmp_path, capsys):
    out = tmp_path / "ket_qua.json"
    code = main(["solve", str(TAN_LOI), "--json", str(out), "--workers", "1"])
    text = capsys.readouterr().out
    assert code == EXIT_OK
    assert "Trạng thái: khả thi nhưng CHƯA chứng minh tối ưu (hết thời gian)" in text
    assert "Chưa chứng minh tối ưu: cận dưới số thay đổi là" in text
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["status"] == "feasible" and data["proven_optimal"] is False


def test_no_answer_in_time_is_unknown_and_the_cli_exits_1(monkeypatch, tmp_path, capsys):
    real = solver.staging.Runner.solve

    def nothing(self, model, *, lp=False):
        status, s = real(self, model, lp=lp)
        return cp_model.UNKNOWN, s

    monkeypatch.setattr(solver.staging.Runner, "solve", nothing)
    out = tmp_path / "ket_qua.json"
    code = main(["solve", str(TAN_LOI), "--json", str(out), "--workers", "1"])
    text = capsys.readouterr().out
    assert code == 1
    assert "hết thời gian mà chưa tìm được phương án" in text
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["status"] == "unknown" and data["levels"] == {} and data["proven_optimal"] is False


# -- kills and Ctrl-C ------------------------------------------------------------------------------

#: Runs the CLI with faults switched on by the first argument: ``write`` leaves each temporary file half
#: written, says so and sleeps (``write:.xlsx`` only for paths ending in .xlsx; the others are written
#: normally); ``solve`` forces the slow general model and says when the solve starts.
DRIVER = r"""
import os, sys, time
mode = sys.argv[1]
if mode.startswith("write"):
    import solver.io as sio
    real_write_atomic = sio.write_atomic
    only = mode.partition(":")[2]

    def half_then_wait(path, write):
        if only and not str(path).endswith(only):
            return real_write_atomic(path, write)

        def half(tmp):
            write(tmp)
            data = open(tmp, "rb").read()
            with open(tmp, "wb") as fh:
                fh.write(data[: len(data) // 2])
                fh.flush()
                os.fsync(fh.fileno())
            print("ĐANG GHI", path, flush=True)
            time.sleep(120)
        real_write_atomic(path, half)

    sio.write_atomic = half_then_wait
if mode == "solve":
    import solver.solve as ss
    ss.reducible = lambda loaded: False
    real_solve = ss.solve

    def announced(loaded, opts=ss.SolveOptions()):
        print("ĐANG GIẢI", flush=True)
        return real_solve(loaded, opts)
    ss.solve = announced
from solver.cli import main
sys.exit(main(sys.argv[2:]))
"""


def run_and_signal(args: list[str], marker: str, sig: int, *, mode: str = "write",
                   delay: float = 0.0) -> subprocess.CompletedProcess:
    """Start the CLI under the driver, wait for ``marker`` on its output (and ``delay`` more seconds), then
    send ``sig``."""
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, mode, *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    seen = []
    try:
        for raw in proc.stdout:
            line = raw.decode("utf-8")
            seen.append(line)
            if line.startswith(marker):
                break
        else:
            proc.wait(timeout=60)
            pytest.fail(f"the CLI ended before «{marker}»: {''.join(seen)}{proc.stderr.read().decode()}")
        if delay:
            try:
                proc.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                pass
        if proc.poll() is None:
            proc.send_signal(sig)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return subprocess.CompletedProcess(proc.args, proc.returncode, "".join(seen) + out.decode("utf-8"),
                                       err.decode("utf-8"))


def leftovers(folder: Path, keep: set[str]) -> list[str]:
    """Files in ``folder`` other than ``keep``; a kill may leave only hidden ``.NAME.*.tmp`` files."""
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_a_solve_killed_while_writing_its_json_leaves_no_output(tmp_path, sig):
    out = tmp_path / "ket_qua.json"
    proc = run_and_signal(["solve", str(TAN_LOI), "--json", str(out), "--workers", "1"], "ĐANG GHI", sig)
    assert proc.returncode == -sig
    assert not out.exists()
    assert all(n.startswith(".ket_qua.json.") and n.endswith(".tmp") for n in leftovers(tmp_path, set()))


def test_a_killed_rewrite_keeps_the_previous_file_whole(tmp_path):
    out = tmp_path / "ket_qua.json"
    main(["solve", str(TAN_LOI), "--json", str(out), "--workers", "1"])
    before = out.read_bytes()
    proc = run_and_signal(["solve", str(TAN_LOI), "--json", str(out), "--workers", "1"], "ĐANG GHI", signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    assert out.read_bytes() == before
    json.loads(before)


def test_a_report_killed_while_writing_the_word_file_leaves_neither_file(tmp_path):
    docx, xlsx = tmp_path / "bao_cao.docx", tmp_path / "ket_qua.xlsx"
    proc = run_and_signal(["report", str(TAN_LOI), "--docx", str(docx), "--xlsx", str(xlsx), "--no-date",
                           "--workers", "1"], "ĐANG GHI", signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    assert not docx.exists() and not xlsx.exists()
    assert all(n.startswith(".bao_cao.docx.") for n in leftovers(tmp_path, set()))


def test_a_report_killed_while_writing_the_excel_file_keeps_the_word_file_whole(tmp_path):
    docx, xlsx = tmp_path / "bao_cao.docx", tmp_path / "ket_qua.xlsx"
    proc = run_and_signal(["report", str(TAN_LOI), "--docx", str(docx), "--xlsx", str(xlsx), "--no-date",
                           "--workers", "1"], "ĐANG GHI", signal.SIGKILL, mode="write:.xlsx")
    assert proc.returncode == -signal.SIGKILL
    assert not xlsx.exists()
    with zipfile.ZipFile(docx) as z:  # the Word file, renamed into place before, is whole
        assert z.testzip() is None and "word/document.xml" in z.namelist()


def test_ctrl_c_while_writing_leaves_no_output(tmp_path):
    docx = tmp_path / "bao_cao.docx"
    proc = run_and_signal(["report", str(TAN_LOI), "--docx", str(docx), "--no-date", "--workers", "1"],
                          "ĐANG GHI", signal.SIGINT)
    assert proc.returncode != 0
    assert not docx.exists()
    assert all(n.startswith(".bao_cao.docx.") and n.endswith(".tmp") for n in leftovers(tmp_path, set()))


def test_ctrl_c_while_writing_removes_the_temporary_file_too(tmp_path):
    docx = tmp_path / "bao_cao.docx"
    proc = run_and_signal(["report", str(TAN_LOI), "--docx", str(docx), "--no-date", "--workers", "1"],
                          "ĐANG GHI", signal.SIGINT)
    assert proc.returncode != 0
    assert leftovers(tmp_path, set()) == []


def test_a_kill_during_the_solve_leaves_no_output(medium_file, tmp_path):
    out = tmp_path / "ket_qua.json"
    proc = run_and_signal(["solve", str(medium_file), "--json", str(out)], "ĐANG GIẢI", signal.SIGKILL,
                          mode="solve", delay=1.0)
    assert proc.returncode == -signal.SIGKILL
    assert leftovers(tmp_path, set()) == []


def test_ctrl_c_during_the_solve_leaves_nothing_or_a_whole_result_marked_not_proven(medium_file, tmp_path):
    out = tmp_path / "ket_qua.json"
    proc = run_and_signal(["solve", str(medium_file), "--json", str(out), "--time-limit", "60"], "ĐANG GIẢI",
                          signal.SIGINT, mode="solve", delay=1.5)
    assert [n for n in leftovers(tmp_path, {"ket_qua.json"}) if not n.endswith(".tmp")] == []
    if out.exists():  # OR-Tools catches SIGINT and stops the search: the CLI writes what it has, marked
        data = json.loads(out.read_text(encoding="utf-8"))
        assert data["status"] in ("feasible", "unknown") and data["proven_optimal"] is False
        assert "Traceback" not in proc.stdout + proc.stderr


# -- exceptions inside the solver ------------------------------------------------------------------


def boom(*args, **kwargs):
    raise RuntimeError("lỗi giả lập trong bộ giải")


@pytest.mark.parametrize("target", ["solver.solve.records", "solver.explain.explain_changes",
                                    "solver.staging.Runner.solve"])
def test_a_solver_exception_is_reported_with_the_case_name_exit_3_and_nothing_written(
        monkeypatch, tmp_path, capsys, target):
    monkeypatch.setattr(target, boom)
    out = tmp_path / "ket_qua.json"
    code = main(["solve", str(TAN_LOI), "--json", str(out), "--workers", "1"])
    text = capsys.readouterr().out
    assert code == EXIT_ERROR
    assert f"Lỗi khi giải hồ sơ «{CASE_NAME}» ({TAN_LOI}): lỗi giả lập trong bộ giải" in text
    assert "Không ghi tệp kết quả nào." in text
    assert list(tmp_path.iterdir()) == []


def test_a_report_whose_solver_raises_writes_neither_file(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr("solver.solve.records", boom)
    docx, xlsx = tmp_path / "bao_cao.docx", tmp_path / "ket_qua.xlsx"
    code = main(["report", str(TAN_LOI), "--docx", str(docx), "--xlsx", str(xlsx), "--workers", "1"])
    text = capsys.readouterr().out
    assert code == EXIT_ERROR
    assert f"«{CASE_NAME}»" in text and "Không ghi tệp báo cáo nào." in text
    assert list(tmp_path.iterdir()) == []


def test_an_answer_the_verifier_rejects_is_an_error_not_a_result(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr("solver.verify.verify", lambda loaded, levels: [Violation("C1", "DV1", "giả lập")])
    out = tmp_path / "ket_qua.json"
    code = main(["solve", str(TAN_LOI), "--json", str(out), "--workers", "1"])
    text = capsys.readouterr().out
    assert code == EXIT_ERROR
    assert "Bộ kiểm tra độc lập phát hiện 1 vi phạm" in text and f"«{CASE_NAME}»" in text
    assert not out.exists()


def test_an_exception_inside_a_report_writer_is_reported_exit_3(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr("solver.report_xlsx.write_xlsx", boom)
    xlsx = tmp_path / "ket_qua.xlsx"
    code = main(["report", str(TAN_LOI), "--xlsx", str(xlsx), "--workers", "1"])
    text = capsys.readouterr().out
    assert code == EXIT_ERROR
    assert str(xlsx) in text and f"«{CASE_NAME}»" in text and "lỗi giả lập trong bộ giải" in text
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_json_path_is_reported_exit_3(tmp_path, capsys):
    blocker = tmp_path / "la_tep"
    blocker.write_text("một tệp, không phải thư mục", encoding="utf-8")
    code = main(["solve", str(TAN_LOI), "--json", str(blocker / "ket_qua.json"), "--workers", "1"])
    text = capsys.readouterr().out
    assert code == EXIT_ERROR
    assert "Không ghi được" in text


def test_a_closed_stdout_does_not_lose_the_json(tmp_path):
    out = tmp_path / "ket_qua.json"
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run([sys.executable, "-m", "solver", "solve", str(TAN_LOI), "--json", str(out),
                               "--workers", "1"], cwd=ROOT, stdout=write_end, stderr=subprocess.PIPE, timeout=120)
    finally:
        os.close(write_end)
    assert "Traceback" not in proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == EXIT_OK
    assert json.loads(out.read_text(encoding="utf-8"))["status"] == "optimal"
