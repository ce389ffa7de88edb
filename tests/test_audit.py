"""The audit trail: solves, locks and exports are logged append-only, survive a kill mid-write, and hold no names."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import unicodedata
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from model.case import Kind
from model.loader import load_case
from solver.audit import (
    AUDIT_ENV,
    DEFAULT_NAME,
    AuditError,
    AuditLog,
    audit_path_for,
    log_export,
    log_solve,
    sha256_file,
    sha256_text,
)
from solver.io import write_text_atomic
from solver.solve import SolveOptions, solve

ROOT = Path(__file__).resolve().parents[1]
TAN_LOI = ROOT / "scenarios" / "phuong_tan_loi_2018.json"
EXAMPLES = ROOT.parent / "shared" / "examples"

H1 = sha256_text("hồ sơ thứ nhất")
H2 = sha256_text("hồ sơ thứ hai")
R1 = sha256_text("kết quả")


def solve_fields(**over) -> dict:
    fields = {"case_hash": H1, "case_name": "Chi bộ thử", "profile": "bmt-2018",
              "options": {"solver": {"workers": 2, "time_limit": 60.0}, "rules": {"cap_percent": 20}},
              "result_hash": R1, "status": "optimal", "changed": 3, "wall_time": 0.25}
    fields.update(over)
    return fields


@pytest.fixture(autouse=True)
def _no_env(monkeypatch):
    monkeypatch.delenv(AUDIT_ENV, raising=False)


def test_a_sequence_of_solves_and_locks_gives_the_expected_history(tmp_path):
    before = datetime.now(timezone.utc)
    with AuditLog(tmp_path / "log.sqlite") as log:
        assert log.record_solve(**solve_fields(status="optimal", changed=3)) == 1
        assert log.record_lock(H1, "DV4", "XS", "Ban Thường vụ giữ mức theo thành tích đột xuất", "btc-01") == 2
        log.record_solve(**solve_fields(status="conflict", changed=None, result_hash=R1))
        log.record_solve(**solve_fields(case_hash=H2, case_name="Đảng bộ khác", status="feasible", changed=7))
        log.record_lock(H1, "DV4", None, "Bỏ khóa sau khi họp lại", "btc-02")
        history = log.history()
        only_first = log.history(H1)
    after = datetime.now(timezone.utc)

    assert [(e["seq"], e["kind"], e["case_hash"]) for e in history] == [
        (1, "solve", H1), (2, "lock", H1), (3, "solve", H1), (4, "solve", H2), (5, "lock", H1)]
    assert [e["seq"] for e in only_first] == [1, 2, 3, 5]
    first = history[0]
    assert first["case_name"] == "Chi bộ thử" and first["profile"] == "bmt-2018"
    assert first["options"] == {"solver": {"workers": 2, "time_limit": 60.0}, "rules": {"cap_percent": 20}}
    assert (first["result_hash"], first["status"], first["changed"], first["wall_time"]) == (R1, "optimal", 3, 0.25)
    assert {k: history[1][k] for k in ("subject_id", "level", "reason", "author")} == {
        "subject_id": "DV4", "level": "XS", "reason": "Ban Thường vụ giữ mức theo thành tích đột xuất",
        "author": "btc-01"}
    assert history[2]["status"] == "conflict" and history[2]["changed"] is None
    assert history[4]["level"] is None and history[4]["author"] == "btc-02"
    times = [datetime.fromisoformat(e["at"]) for e in history]
    assert all(t.utcoffset() == timedelta(0) for t in times)  # UTC
    assert all(before <= t <= after for t in times) and times == sorted(times)


def test_the_history_survives_closing_and_reopening(tmp_path):
    path = tmp_path / "log.sqlite"
    with AuditLog(path) as log:
        log.record_solve(**solve_fields())
    with AuditLog(path) as log:
        log.record_lock(H1, "CB1", "T", "Cấp ủy cấp trên quyết định", "btc-01")
        assert [e["kind"] for e in log.history()] == ["solve", "lock"]
        assert log.verify() == []


@pytest.mark.parametrize("statement", [
    "UPDATE events SET at = '2000-01-01T00:00:00+00:00'",
    "UPDATE solves SET status = 'optimal', changed = 0",
    "UPDATE locks SET reason = 'sửa lý do'",
    "DELETE FROM events",
    "DELETE FROM solves WHERE seq = 1",
    "DELETE FROM locks",
    "DELETE FROM exports",
    "UPDATE meta SET value = '0'",
    "DELETE FROM meta",
    # REPLACE deletes the old row without firing DELETE triggers: refused by the insert guard
    "INSERT OR REPLACE INTO locks (seq, subject_id, level, reason, author) VALUES (2, 'DV4', 'K', 'x', 'y')",
    "INSERT OR REPLACE INTO events (seq, at, kind, case_hash, prev, digest) "
    f"VALUES (1, 'x', 'solve', '{H1}', '{H1}', '{H2}')",
    f"INSERT INTO events (seq, at, kind, case_hash, prev, digest) VALUES (1, 'x', 'solve', '{H1}', '{H1}', '{H2}')",
])
def test_update_and_delete_are_refused(tmp_path, statement):
    path = tmp_path / "log.sqlite"
    with AuditLog(path) as log:
        log.record_solve(**solve_fields())
        log.record_lock(H1, "DV4", "XS", "lý do", "btc-01")
        log.record_export(H1, "json", path, sha256_text("tệp"))
        before = log.history()
    db = sqlite3.connect(path)
    with pytest.raises(sqlite3.DatabaseError, match="chỉ được ghi thêm"):
        db.execute(statement)
        db.commit()
    db.close()
    with AuditLog(path) as log:
        assert log.history() == before
        assert log.verify() == []


def test_a_casual_edit_with_the_triggers_dropped_is_detected(tmp_path):
    path = tmp_path / "log.sqlite"
    with AuditLog(path) as log:
        log.record_solve(**solve_fields(changed=3))
        log.record_lock(H1, "DV4", "XS", "lý do", "btc-01")
        log.record_solve(**solve_fields(changed=5))
    db = sqlite3.connect(path)
    db.execute("DROP TRIGGER solves_no_update")
    db.execute("UPDATE solves SET changed = 0 WHERE seq = 3")
    db.commit()
    db.close()
    with AuditLog(path) as log:
        problems = log.verify()
    assert problems == ["bản ghi 3 đã bị sửa sau khi ghi (mã băm không khớp)"]


def test_a_deleted_record_with_the_triggers_dropped_is_detected(tmp_path):
    path = tmp_path / "log.sqlite"
    with AuditLog(path) as log:
        for changed in range(4):
            log.record_solve(**solve_fields(changed=changed))
    db = sqlite3.connect(path)
    db.execute("DROP TRIGGER solves_no_delete")
    db.execute("DROP TRIGGER events_no_delete")
    db.execute("DELETE FROM solves WHERE seq = 2")
    db.execute("DELETE FROM events WHERE seq = 2")
    db.commit()
    db.close()
    with AuditLog(path) as log:
        problems = log.verify()
    assert any("thiếu bản ghi 2" in p for p in problems)
    assert any("bản ghi 3 không nối tiếp" in p for p in problems)


def test_locks_need_a_reason_and_an_author(tmp_path):
    with AuditLog(tmp_path / "log.sqlite") as log:
        with pytest.raises(ValueError, match="lý do"):
            log.record_lock(H1, "DV4", "XS", "   ", "btc-01")
        with pytest.raises(ValueError, match="người khóa"):
            log.record_lock(H1, "DV4", "XS", "lý do", "")
        with pytest.raises(ValueError, match="SHA-256"):
            log.record_lock("không phải mã băm", "DV4", "XS", "lý do", "btc-01")
        with pytest.raises(ValueError, match="trạng thái"):
            log.record_solve(**solve_fields(status="xong"))
        assert log.history() == []


def test_exports_record_the_sha256_of_the_written_file(tmp_path):
    out = tmp_path / "ket_qua.json"
    write_text_atomic(out, '{"a": 1}\n')
    with AuditLog(tmp_path / "log.sqlite") as log:
        log.record_export(H1, "json", out)
        (event,) = log.history()
    assert event["kind"] == "export" and event["export_kind"] == "json" and event["path"] == str(out)
    assert event["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()


def test_a_file_that_is_not_a_log_is_refused_in_vietnamese(tmp_path):
    path = tmp_path / "log.sqlite"
    path.write_bytes(b"day khong phai co so du lieu " * 100)
    with pytest.raises(AuditError, match="không mở được nhật ký kiểm tra") as info:
        AuditLog(path)
    assert str(path) in str(info.value)
    assert path.read_bytes() == b"day khong phai co so du lieu " * 100


def test_the_log_is_in_wal_mode_and_every_table_has_its_guards(tmp_path):
    path = tmp_path / "log.sqlite"
    AuditLog(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    triggers = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    for table in ("meta", "events", "solves", "locks", "exports"):
        assert {f"{table}_no_update", f"{table}_no_delete", f"{table}_no_overwrite"} <= triggers
    db.close()


def test_writers_in_several_threads_and_connections_give_one_unbroken_chain(tmp_path):
    path = tmp_path / "log.sqlite"
    shared = AuditLog(path)

    def work(i: int) -> None:
        own = AuditLog(path)
        for j in range(10):
            (shared if j % 2 else own).record_lock(H1, f"DV{i}-{j}", "T", "lý do", f"tk-{i}")
        own.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    history = shared.history()
    assert [e["seq"] for e in history] == list(range(1, 41))
    assert sorted(e["subject_id"] for e in history) == sorted(f"DV{i}-{j}" for i in range(4) for j in range(10))
    assert shared.verify() == []
    shared.close()


# -- where the log lives ---------------------------------------------------------------------------


def test_the_log_lives_beside_the_case_by_default(tmp_path, monkeypatch):
    case = tmp_path / "hoso" / "ho_so.json"
    assert audit_path_for(case) == tmp_path / "hoso" / DEFAULT_NAME
    monkeypatch.setenv(AUDIT_ENV, "")
    assert audit_path_for(case) == tmp_path / "hoso" / DEFAULT_NAME


def test_the_environment_variable_moves_or_turns_off_the_log(tmp_path, monkeypatch):
    case = tmp_path / "ho_so.json"
    for word in ("off", "OFF", " off ", "0", "false", "no", "none"):
        monkeypatch.setenv(AUDIT_ENV, word)
        assert audit_path_for(case) is None
    monkeypatch.setenv(AUDIT_ENV, str(tmp_path / "nhat_ky.sqlite"))
    assert audit_path_for(case) == tmp_path / "nhat_ky.sqlite"
    folder = tmp_path / "logs"
    folder.mkdir()
    monkeypatch.setenv(AUDIT_ENV, str(folder))
    assert audit_path_for(case) == folder / DEFAULT_NAME


def test_a_parameter_wins_over_the_environment(tmp_path, monkeypatch):
    case = tmp_path / "ho_so.json"
    monkeypatch.setenv(AUDIT_ENV, "off")
    assert audit_path_for(case, str(tmp_path / "rieng.sqlite")) == tmp_path / "rieng.sqlite"
    monkeypatch.setenv(AUDIT_ENV, str(tmp_path / "chung.sqlite"))
    assert audit_path_for(case, "off") is None


def test_log_solve_and_log_export_write_beside_the_case_and_off_writes_nothing(tmp_path, monkeypatch):
    case = tmp_path / "ho_so.json"
    case.write_bytes((EXAMPLES / "01_cap_20_percent.json").read_bytes())
    loaded = load_case(case)
    opts = SolveOptions(workers=1, time_limit=30)
    result = solve(loaded, opts)
    out = tmp_path / "ket_qua.json"
    write_text_atomic(out, result.dumps())
    assert log_solve(case, result, opts) is None
    assert log_export(case, "json", out) is None
    with AuditLog(tmp_path / DEFAULT_NAME) as log:
        solved, exported = log.history()
    assert solved["case_hash"] == sha256_file(case) == exported["case_hash"]
    assert solved["result_hash"] == sha256_file(out)  # the hash of the deterministic JSON
    assert solved["status"] == result.status and solved["changed"] == result.changed
    assert solved["options"]["solver"]["workers"] == 1 and solved["options"]["rules"] == result.options
    assert exported["sha256"] == sha256_file(out)

    monkeypatch.setenv(AUDIT_ENV, "off")
    other = tmp_path / "khac"
    other.mkdir()
    copy = other / "ho_so.json"
    copy.write_bytes(case.read_bytes())
    assert log_solve(copy, result, opts) is None and log_export(copy, "json", out) is None
    assert list(other.iterdir()) == [copy]


def test_log_solve_returns_a_warning_instead_of_raising(tmp_path):
    case = tmp_path / "ho_so.json"
    case.write_text("{}", encoding="utf-8")
    bad_log = tmp_path / "hong.sqlite"
    bad_log.write_bytes(b"x" * 4096)
    warning = log_solve(case, None, SolveOptions(), setting=str(bad_log), case_name="Chi bộ")
    assert warning is not None and warning.startswith("Cảnh báo: không ghi được nhật ký kiểm tra")


def test_a_solver_error_is_logged_with_status_error(tmp_path):
    case = tmp_path / "ho_so.json"
    case.write_text("{}", encoding="utf-8")
    assert log_solve(case, None, SolveOptions(), case_name="Chi bộ") is None
    with AuditLog(tmp_path / DEFAULT_NAME) as log:
        (event,) = log.history()
    assert event["status"] == "error" and event["result_hash"] is None and event["case_name"] == "Chi bộ"


# -- crash safety and privacy ----------------------------------------------------------------------

WRITER = r"""
import sys
from solver.audit import AuditLog, sha256_text
log = AuditLog(sys.argv[1])
h = sha256_text(sys.argv[2])
i = 0
while True:
    i += 1
    if i % 3 == 0:
        seq = log.record_lock(h, f"DV{i}", "T", "lý do " * 50, "btc-01")
    else:
        seq = log.record_solve(case_hash=h, case_name="Chi bộ", profile="bmt-2018", options={"i": i, "pad": "x" * 3000},
                               result_hash=h, status="optimal", changed=i, wall_time=0.5)
    print(seq, flush=True)
"""


def test_a_writer_killed_mid_write_leaves_a_readable_log_of_whole_records(tmp_path):
    path = tmp_path / "log.sqlite"
    last_seen = 0
    for round_ in range(3):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path), f"vòng {round_}"], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            seen = 0
            for line in proc.stdout:
                seen = int(line)
                if seen >= last_seen + 40:
                    break
            os.kill(proc.pid, signal.SIGKILL)  # mid-transaction, most likely: it writes in a tight loop
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == -signal.SIGKILL, proc.stderr.read()
        db = sqlite3.connect(path)
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        db.close()
        with AuditLog(path) as log:
            history = log.history()
            assert log.verify() == []
        assert len(history) >= seen  # every record reported as committed is there
        assert [e["seq"] for e in history] == list(range(1, len(history) + 1))
        for e in history:  # whole records only
            if e["kind"] == "solve":
                assert e["options"]["pad"] == "x" * 3000 and e["changed"] == int(e["options"]["i"])
            else:
                assert e["reason"] == ("lý do " * 50).strip() and e["author"] == "btc-01"
        last_seen = len(history)


def test_no_member_name_appears_in_the_log_file(tmp_path):
    case = tmp_path / "phuong_tan_loi_2018.json"
    case.write_bytes(TAN_LOI.read_bytes())
    loaded = load_case(case)
    opts = SolveOptions(workers=1, time_limit=30)
    result = solve(loaded, opts)
    out = tmp_path / "ket_qua.json"
    write_text_atomic(out, result.dumps())
    assert log_solve(case, result, opts) is None
    assert log_export(case, "json", out) is None
    people = [s for s in loaded.case.subjects if s.kind in (Kind.member, Kind.leader)]
    digest = sha256_file(case)
    with AuditLog(tmp_path / DEFAULT_NAME) as log:
        for s in people[:20]:
            log.record_lock(digest, s.id, "T", "Ban Thường vụ quyết định giữ mức", "btc-01")
        assert len(log.history(digest)) == 22
    raw = b"".join(p.read_bytes() for p in tmp_path.glob(DEFAULT_NAME + "*"))
    assert people[0].id.encode() in raw  # ids are there…
    for s in people:  # …names are not, in any normal form
        for form in ("NFC", "NFD"):
            assert unicodedata.normalize(form, s.name).encode("utf-8") not in raw, s.name


def test_the_options_of_a_solve_are_stored_as_canonical_json(tmp_path):
    path = tmp_path / "log.sqlite"
    with AuditLog(path) as log:
        log.record_solve(**solve_fields(options={"b": 1, "a": {"d": 2, "c": "đ"}}))
    db = sqlite3.connect(path)
    (stored,) = db.execute("SELECT options FROM solves").fetchone()
    db.close()
    assert stored == '{"a":{"c":"đ","d":2},"b":1}'
    assert json.loads(stored) == {"b": 1, "a": {"d": 2, "c": "đ"}}


# -- the CLI writes the log (wired in solver/cli.py and solver/report_cli.py) -----------------------



def test_the_cli_logs_each_solve_and_its_json_beside_the_case(tmp_path):
    from solver.cli import main

    case = tmp_path / "ho_so.json"
    case.write_bytes((EXAMPLES / "01_cap_20_percent.json").read_bytes())
    out = tmp_path / "ket_qua.json"
    assert main(["solve", str(case), "--json", str(out), "--workers", "1"]) == 0
    assert (tmp_path / DEFAULT_NAME).exists()
    with AuditLog(tmp_path / DEFAULT_NAME) as log:
        history = log.history()
    assert [e["kind"] for e in history] == ["solve", "export"]
    solved, exported = history
    assert solved["case_hash"] == exported["case_hash"] == sha256_file(case)
    assert solved["result_hash"] == sha256_file(out) == exported["sha256"]
    assert solved["status"] == "optimal" and solved["options"]["solver"]["workers"] == 1
    assert exported["export_kind"] == "json" and exported["path"] == str(out)


def test_the_cli_logs_each_report_file(tmp_path):
    from solver.cli import main

    case = tmp_path / "ho_so.json"
    case.write_bytes((EXAMPLES / "01_cap_20_percent.json").read_bytes())
    docx, xlsx = tmp_path / "bao_cao.docx", tmp_path / "ket_qua.xlsx"
    assert main(["report", str(case), "--docx", str(docx), "--xlsx", str(xlsx), "--no-date", "--workers", "1"]) == 0
    assert (tmp_path / DEFAULT_NAME).exists()
    with AuditLog(tmp_path / DEFAULT_NAME) as log:
        history = log.history()
    assert [(e["kind"], e.get("export_kind")) for e in history] == [("solve", None), ("export", "docx"),
                                                                     ("export", "xlsx")]
    assert history[1]["sha256"] == sha256_file(docx) and history[2]["sha256"] == sha256_file(xlsx)


def test_the_cli_writes_no_log_when_it_is_off(tmp_path, monkeypatch):
    from solver.cli import main

    monkeypatch.setenv(AUDIT_ENV, "off")
    case = tmp_path / "ho_so.json"
    case.write_bytes((EXAMPLES / "01_cap_20_percent.json").read_bytes())
    out = tmp_path / "ket_qua.json"
    assert main(["solve", str(case), "--json", str(out), "--workers", "1"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ho_so.json", "ket_qua.json"]
