"""Faults: a solve cut by its time limit gives a verified answer marked not proven; a kill or Ctrl-C during a solve
or an export leaves no half-written file; a solver exception is reported with the case name and nothing is written."""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest
from ortools.sat.python import cp_model

import solver.engine.staging
from model.generate import generate_case
from model.loader import LoadedCase, parse_case
from solver.commands.cli import EXIT_ERROR, EXIT_OK, main
from solver.engine.conflicts import find_conflict
from solver.commands.console import EXIT_STOPPED
from solver.engine.solve import SolveOptions, solve
from solver.engine.staging import run_cpsat
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
    FEASIBLE (the answer is kept, the proof is lost). Every component goes to CP-SAT (small ones are
    otherwise enumerated, which proves their optimum without a search to cut)."""
    import solver.engine.reduced

    monkeypatch.setattr(solver.engine.reduced, "ENUMERATE_UP_TO", 0)
    real = solver.engine.staging.Runner.solve

    def cut(self, model, *, lp=False):
        status, s = real(self, model, lp=lp)
        return (cp_model.FEASIBLE if status == cp_model.OPTIMAL else status), s

    monkeypatch.setattr(solver.engine.staging.Runner, "solve", cut)


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
    monkeypatch.setattr("solver.engine.reduced.ENUMERATE_UP_TO", 0)  # every component to CP-SAT
    real = solver.engine.staging.Runner.solve

    def nothing(self, model, *, lp=False):
        status, s = real(self, model, lp=lp)
        return cp_model.UNKNOWN, s

    monkeypatch.setattr(solver.engine.staging.Runner, "solve", nothing)
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
#: normally); ``solve`` forces the slow general model and says when the solve starts (ĐANG GIẢI) and when a
#: CP-SAT search that Ctrl-C can stop starts (ĐANG TÌM).
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
    import solver.engine.solve as ss
    ss.reducible = lambda loaded: False
    real_solve = ss.solve

    def announced(loaded, opts=ss.SolveOptions()):
        print("ĐANG GIẢI", flush=True)
        return real_solve(loaded, opts)
    ss.solve = announced
    import solver.engine.staging as st
    real_run = st.run_cpsat

    def searching(solver, model, *, stoppable=False):
        if stoppable:
            print("ĐANG TÌM", flush=True)
        return real_run(solver, model, stoppable=stoppable)
    st.run_cpsat = searching
from solver.commands.cli import main
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


def test_ctrl_c_while_writing_stops_with_a_message_and_removes_the_temporary_file(tmp_path):
    docx = tmp_path / "bao_cao.docx"
    proc = run_and_signal(["report", str(TAN_LOI), "--docx", str(docx), "--no-date", "--workers", "1"],
                          "ĐANG GHI", signal.SIGINT)
    assert proc.returncode == EXIT_STOPPED
    assert "Đã dừng theo yêu cầu (Ctrl-C). Không có tệp nào bị ghi dở." in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    assert leftovers(tmp_path, set()) == []


def test_a_kill_during_the_solve_leaves_no_output(medium_file, tmp_path):
    out = tmp_path / "ket_qua.json"
    proc = run_and_signal(["solve", str(medium_file), "--json", str(out)], "ĐANG GIẢI", signal.SIGKILL,
                          mode="solve", delay=1.0)
    assert proc.returncode == -signal.SIGKILL
    assert leftovers(tmp_path, set()) == []


def test_ctrl_c_while_the_model_is_built_stops_with_a_message_and_writes_nothing(medium_file, tmp_path):
    out = tmp_path / "ket_qua.json"
    proc = run_and_signal(["solve", str(medium_file), "--json", str(out), "--time-limit", "60"], "ĐANG GIẢI",
                          signal.SIGINT, mode="solve")
    assert proc.returncode == EXIT_STOPPED
    assert "Đã dừng theo yêu cầu (Ctrl-C)" in proc.stdout and "Traceback" not in proc.stdout + proc.stderr
    assert leftovers(tmp_path, set()) == []


def test_ctrl_c_during_the_search_stops_it_and_writes_what_it_has_marked_not_proven(medium_file, tmp_path):
    """The CI once hung here for good: CP-SAT's own SIGINT handler logs from inside the signal handler and
    deadlocked in malloc. The search now runs beside the main thread, which turns Ctrl-C into stop_search()."""
    out = tmp_path / "ket_qua.json"
    proc = run_and_signal(["solve", str(medium_file), "--json", str(out), "--time-limit", "60"], "ĐANG TÌM",
                          signal.SIGINT, mode="solve", delay=1.0)
    assert "Traceback" not in proc.stdout + proc.stderr
    assert leftovers(tmp_path, {"ket_qua.json"}) == []
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["status"] in ("feasible", "unknown") and data["proven_optimal"] is False
    assert proc.returncode == (EXIT_OK if data["status"] == "feasible" else 1)
    assert "Việc tìm kiếm bị dừng giữa chừng (Ctrl-C)" in proc.stdout


def sigint_handler_address() -> int | None:
    """The SIGINT handler the operating system holds (Python's signal.getsignal only knows its own table)."""
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(256)  # struct sigaction: the handler comes first
    assert libc.sigaction(signal.SIGINT, None, buf) == 0
    return ctypes.c_void_p.from_buffer(buf).value


def golomb_ruler(marks: int) -> cp_model.CpModel:
    """A small model CP-SAT takes far longer than a second to prove: the shortest Golomb ruler."""
    m = cp_model.CpModel()
    top = marks * marks
    x = [m.new_int_var(0, top, "") for _ in range(marks)]
    m.add(x[0] == 0)
    for a, b in zip(x, x[1:]):
        m.add(a < b)
    gaps = []
    for i in range(marks):
        for j in range(i + 1, marks):
            g = m.new_int_var(1, top, "")
            m.add(g == x[j] - x[i])
            gaps.append(g)
    m.add_all_different(gaps)
    m.minimize(x[-1])
    return m


@pytest.fixture
def pythons_sigint_handler():
    """Python's own SIGINT handler in the operating system's table, whatever ran before in this process."""
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def ctrl_c_after(seconds: float, seen: list) -> None:
    def press():
        seen.append(sigint_handler_address())
        os.kill(os.getpid(), signal.SIGINT)
    threading.Timer(seconds, press).start()


@pytest.mark.skipif(sys.platform != "linux", reason="reads the signal table through the C library's sigaction")
def test_a_stoppable_search_keeps_pythons_handler_and_ctrl_c_stops_it_with_its_answer(pythons_sigint_handler):
    before = sigint_handler_address()
    solver_ = cp_model.CpSolver()
    solver_.parameters.max_time_in_seconds = 60
    solver_.parameters.num_workers = 2
    seen: list = []
    ctrl_c_after(0.5, seen)
    started = time.monotonic()
    status, stopped = run_cpsat(solver_, golomb_ruler(11), stoppable=True)
    assert stopped and status in (cp_model.FEASIBLE, cp_model.UNKNOWN)
    assert time.monotonic() - started < 30  # stopped by the Ctrl-C, far before its 60 s limit
    assert seen == [before] and sigint_handler_address() == before  # CP-SAT never took SIGINT over


def test_a_stop_that_is_lost_is_asked_again_until_the_search_ends(pythons_sigint_handler):
    """CpSolver.stop_search() does nothing before the search has begun: a Ctrl-C at that moment must not
    leave the search running to its time limit."""
    solver_ = cp_model.CpSolver()
    solver_.parameters.max_time_in_seconds = 60
    real_stop, asked = solver_.stop_search, []

    def first_one_lost() -> None:
        asked.append(time.monotonic())
        if len(asked) > 1:
            real_stop()

    solver_.stop_search = first_one_lost
    ctrl_c_after(0.5, [])
    started = time.monotonic()
    status, stopped = run_cpsat(solver_, golomb_ruler(11), stoppable=True)
    assert stopped and len(asked) >= 2 and time.monotonic() - started < 30


def test_a_short_search_is_not_stopped_and_ctrl_c_arrives_when_it_returns(pythons_sigint_handler):
    solver_ = cp_model.CpSolver()
    solver_.parameters.max_time_in_seconds = 2
    solver_.parameters.num_workers = 1
    seen: list = []
    ctrl_c_after(0.3, seen)
    with pytest.raises(KeyboardInterrupt):
        run_cpsat(solver_, golomb_ruler(11))
        time.sleep(5)  # not reached: the interrupt is raised as soon as the solve returns


def test_a_conflict_search_stopped_by_ctrl_c_stops_the_run(monkeypatch):
    monkeypatch.setattr("solver.engine.conflicts.run_cpsat", lambda solver_, model, stoppable=False: (cp_model.UNKNOWN, True))
    with pytest.raises(KeyboardInterrupt):
        find_conflict(parse_case(json.loads(TAN_LOI.read_text(encoding="utf-8")), "tan_loi.json"))


# -- exceptions inside the solver ------------------------------------------------------------------


def boom(*args, **kwargs):
    raise RuntimeError("lỗi giả lập trong bộ giải")


@pytest.mark.parametrize("target", ["solver.engine.solve.records", "solver.explanations.explain.explain_changes",
                                    "solver.engine.staging.Runner.solve"])
def test_a_solver_exception_is_reported_with_the_case_name_exit_3_and_nothing_written(
        monkeypatch, tmp_path, capsys, target):
    monkeypatch.setattr(target, boom)
    monkeypatch.setattr("solver.engine.reduced.ENUMERATE_UP_TO", 0)  # every component to CP-SAT
    out = tmp_path / "ket_qua.json"
    code = main(["solve", str(TAN_LOI), "--json", str(out), "--workers", "1"])
    text = capsys.readouterr().out
    assert code == EXIT_ERROR
    assert f"Lỗi khi giải hồ sơ «{CASE_NAME}» ({TAN_LOI}): lỗi giả lập trong bộ giải" in text
    assert "Không ghi tệp kết quả nào." in text
    assert list(tmp_path.iterdir()) == []


def test_a_report_whose_solver_raises_writes_neither_file(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr("solver.engine.solve.records", boom)
    docx, xlsx = tmp_path / "bao_cao.docx", tmp_path / "ket_qua.xlsx"
    code = main(["report", str(TAN_LOI), "--docx", str(docx), "--xlsx", str(xlsx), "--workers", "1"])
    text = capsys.readouterr().out
    assert code == EXIT_ERROR
    assert f"«{CASE_NAME}»" in text and "Không ghi tệp báo cáo nào." in text
    assert list(tmp_path.iterdir()) == []


def assert_solve_rejected(tmp_path, capsys) -> None:
    """``xeploai solve`` of the ward case, whose answer the (patched) verifier rejects: an error naming the case,
    and no result written."""
    out = tmp_path / "ket_qua.json"
    code = main(["solve", str(TAN_LOI), "--json", str(out), "--workers", "1"])
    text = capsys.readouterr().out
    assert code == EXIT_ERROR
    assert "Bộ kiểm tra độc lập phát hiện 1 vi phạm" in text and f"«{CASE_NAME}»" in text
    assert not out.exists()


def test_an_answer_the_verifier_rejects_is_an_error_not_a_result(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr("solver.verify.verify", lambda loaded, levels: [Violation("C1", "DV1", "giả lập")])
    assert_solve_rejected(tmp_path, capsys)


def test_an_exception_inside_a_report_writer_is_reported_exit_3(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr("solver.reports.excel.write_xlsx", boom)
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
