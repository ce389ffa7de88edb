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
    audit_path_in,
    case_key_for,
    log_export,
    log_locks_at,
    log_solve,
    sha256_file,
    sha256_text,
)
from solver.io import write_text_atomic
from solver.engine.solve import SolveOptions, solve
from solver.verify import verify

ROOT = Path(__file__).resolve().parents[1]
TAN_LOI = ROOT / "scenarios" / "phuong_tan_loi_2018.json"
EXAMPLES = ROOT / "tests" / "data" / "examples"

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


def solved_and_logged(tmp_path, source: Path, name: str):
    """Copy ``source`` into ``tmp_path`` as ``name``, solve it (verified), write its JSON, log the solve and
    the export beside it; (case path, loaded, result, options, JSON path)."""
    case = tmp_path / name
    case.write_bytes(source.read_bytes())
    loaded = load_case(case)
    opts = SolveOptions(workers=1, time_limit=30)
    result = solve(loaded, opts)
    assert verify(loaded, result.levels) == []
    out = tmp_path / "ket_qua.json"
    write_text_atomic(out, result.dumps())
    assert log_solve(case, result, opts) is None
    assert log_export(case, "json", out) is None
    return case, loaded, result, opts, out


def test_log_solve_and_log_export_write_beside_the_case_and_off_writes_nothing(tmp_path, monkeypatch):
    case, loaded, result, opts, out = solved_and_logged(tmp_path, EXAMPLES / "01_cap_20_percent.json", "ho_so.json")
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
    case, loaded, result, opts, out = solved_and_logged(tmp_path, TAN_LOI, "phuong_tan_loi_2018.json")
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


# -- the CLI writes the log (wired in solver/commands/cli.py and solver/commands/report.py) -----------------------



def test_the_cli_logs_each_solve_and_its_json_beside_the_case(tmp_path):
    from solver.commands.cli import main

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
    from solver.commands.cli import main

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
    from solver.commands.cli import main

    monkeypatch.setenv(AUDIT_ENV, "off")
    case = tmp_path / "ho_so.json"
    case.write_bytes((EXAMPLES / "01_cap_20_percent.json").read_bytes())
    out = tmp_path / "ket_qua.json"
    assert main(["solve", str(case), "--json", str(out), "--workers", "1"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ho_so.json", "ket_qua.json"]


# -- the case key: one history per case across its versions ---------------------------------------

#: The tables of a log written before the case key existed (xeploai ≤ the first landing of issue 8).
V1_TABLES = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE events (seq INTEGER PRIMARY KEY, at TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('solve', 'lock', 'export')),
        case_hash TEXT NOT NULL CHECK (length(case_hash) = 64), prev TEXT NOT NULL CHECK (length(prev) = 64),
        digest TEXT NOT NULL UNIQUE CHECK (length(digest) = 64))""",
    """CREATE TABLE solves (seq INTEGER PRIMARY KEY REFERENCES events(seq), case_name TEXT NOT NULL,
        profile TEXT NOT NULL, options TEXT NOT NULL,
        result_hash TEXT CHECK (result_hash IS NULL OR length(result_hash) = 64), status TEXT NOT NULL,
        changed INTEGER, wall_time REAL NOT NULL)""",
    """CREATE TABLE locks (seq INTEGER PRIMARY KEY REFERENCES events(seq),
        subject_id TEXT NOT NULL CHECK (length(subject_id) > 0), level TEXT,
        reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),
        author TEXT NOT NULL CHECK (length(trim(author)) > 0))""",
    """CREATE TABLE exports (seq INTEGER PRIMARY KEY REFERENCES events(seq),
        export_kind TEXT NOT NULL CHECK (length(export_kind) > 0), path TEXT NOT NULL,
        sha256 TEXT NOT NULL CHECK (length(sha256) = 64))""",
)


def write_v1_log(path: Path) -> None:
    """A log as the first version wrote it: no case_key column, each link the SHA-256 of the previous link and
    the record's canonical JSON (written here by hand, independently of solver/audit.py)."""
    from solver.audit import _triggers

    def link(prev: str, record: dict) -> str:
        return hashlib.sha256((prev + json.dumps(record, sort_keys=True, ensure_ascii=False,
                                                 separators=(",", ":"))).encode("utf-8")).hexdigest()

    db = sqlite3.connect(path)
    for stmt in V1_TABLES:
        db.execute(stmt)
    db.execute("INSERT INTO meta VALUES ('schema', '1')")
    prev = "0" * 64
    solve = {"case_name": "Chi bộ cũ", "profile": "bmt-2018", "options": '{"rules":{}}', "result_hash": R1,
             "status": "optimal", "changed": 2, "wall_time": 0.5}
    at = "2024-12-01T08:00:00.000000+00:00"
    digest = link(prev, {"seq": 1, "at": at, "kind": "solve", "case_hash": H1, **solve})
    db.execute("INSERT INTO events VALUES (1, ?, 'solve', ?, ?, ?)", (at, H1, prev, digest))
    db.execute("INSERT INTO solves VALUES (1, ?, ?, ?, ?, ?, ?, ?)", tuple(solve.values()))
    prev, at = digest, "2024-12-01T08:05:00.000000+00:00"
    lock = {"subject_id": "DV4", "level": "XS", "reason": "lý do cũ", "author": "btc-01"}
    digest = link(prev, {"seq": 2, "at": at, "kind": "lock", "case_hash": H2, **lock})
    db.execute("INSERT INTO events VALUES (2, ?, 'lock', ?, ?, ?)", (at, H2, prev, digest))
    db.execute("INSERT INTO locks VALUES (2, ?, ?, ?, ?)", tuple(lock.values()))
    for stmt in _triggers():
        db.execute(stmt)
    db.commit()
    db.close()


def test_a_log_written_before_the_case_key_opens_verifies_and_takes_keyed_records(tmp_path):
    path = tmp_path / "cu.sqlite"
    write_v1_log(path)
    with AuditLog(path) as log:
        assert log.verify() == []
        old = log.history()
        assert [(e["seq"], e["kind"], e["case_key"]) for e in old] == [(1, "solve", None), (2, "lock", None)]
        assert old[0]["case_name"] == "Chi bộ cũ" and old[1]["reason"] == "lý do cũ"
        log.record_solve(**solve_fields(case_hash=H2, changed=1), case_key="chi_bo.json")
        log.record_lock(H2, "DV5", None, "bỏ khóa", "btc-02", case_key="chi_bo.json")
        assert log.verify() == []
        # the old records of a hash the case has had belong to its history
        assert [e["seq"] for e in log.case_history("chi_bo.json")] == [2, 3, 4]
        assert [e["seq"] for e in log.case_history("chi_bo.json", [H1])] == [1, 2, 3, 4]
        assert [e["seq"] for e in log.case_history("khac.json", [H1])] == [1]
    db = sqlite3.connect(path)
    columns = {r[1] for r in db.execute("PRAGMA table_info(events)")}
    assert "case_key" in columns
    with pytest.raises(sqlite3.DatabaseError, match="chỉ được ghi thêm"):
        db.execute("UPDATE events SET case_key = 'chi_bo.json' WHERE seq = 1")
    db.close()
    with AuditLog(path) as log:  # opened again: nothing to migrate, still whole
        assert log.verify() == [] and len(log) == 4


def test_the_history_of_a_case_holds_every_version_and_nothing_else(tmp_path):
    h3 = sha256_text("hồ sơ thứ ba")
    with AuditLog(tmp_path / "log.sqlite") as log:
        log.record_solve(**solve_fields(case_hash=H1), case_key="phuong.json")
        log.record_lock(H1, "DV4", "XS", "lý do", "btc-01", case_key="phuong.json")
        log.record_solve(**solve_fields(case_hash=H2), case_key="phuong.json")  # the file after the lock
        log.record_solve(**solve_fields(case_hash=h3), case_key="xa.json")
        log.record_export(H2, "docx", "phuong_bao_cao.docx", R1, case_key="phuong.json")
        log.record_solve(**solve_fields(case_hash=H2))  # the CLI of an older xeploai: no key, same file
        events = log.case_history("phuong.json")
        assert [e["seq"] for e in events] == [1, 2, 3, 5, 6]
        assert {e["case_hash"] for e in events} == {H1, H2}
        assert [e["seq"] for e in log.case_history("xa.json")] == [4]
        assert log.case_history("khong_co.json") == []
        assert log.last_lock("phuong.json", "DV4")["reason"] == "lý do"
        assert log.last_lock("xa.json", "DV4") is None


def test_the_case_key_is_inside_the_hash_chain(tmp_path):
    path = tmp_path / "log.sqlite"
    with AuditLog(path) as log:
        log.record_solve(**solve_fields(), case_key="phuong.json")
        log.record_solve(**solve_fields(), case_key="phuong.json")
        log.record_solve(**solve_fields())
    db = sqlite3.connect(path)
    with pytest.raises(sqlite3.DatabaseError, match="chỉ được ghi thêm"):
        db.execute("UPDATE events SET case_key = 'khac.json' WHERE seq = 1")
    db.execute("DROP TRIGGER events_no_update")
    db.execute("UPDATE events SET case_key = 'khac.json' WHERE seq = 1")
    db.execute("UPDATE events SET case_key = NULL WHERE seq = 2")
    db.execute("UPDATE events SET case_key = 'phuong.json' WHERE seq = 3")
    db.commit()
    db.close()
    with AuditLog(path) as log:
        problems = log.verify()
    assert problems == [f"bản ghi {seq} đã bị sửa sau khi ghi (mã băm không khớp)" for seq in (1, 2, 3)]


def test_a_blank_case_key_is_refused(tmp_path):
    with AuditLog(tmp_path / "log.sqlite") as log:
        with pytest.raises(ValueError, match="khóa hồ sơ"):
            log.record_solve(**solve_fields(), case_key="  ")
        assert len(log) == 0


def test_locks_are_recorded_once_per_distinct_decision(tmp_path):
    path = tmp_path / "log.sqlite"
    decision = [("DV4", "XS", "Ban Thường vụ giữ mức", "btc-01")]
    assert log_locks_at(path, case_key="phuong.json", case_hash=H1, locks=decision) == (1, None)
    assert log_locks_at(path, case_key="phuong.json", case_hash=H1, locks=decision) == (0, None)  # again: nothing
    assert log_locks_at(path, case_key="phuong.json", case_hash=H2, locks=[("DV4", "XS", " Ban Thường vụ giữ mức ",
                                                                            "btc-01")]) == (0, None)
    assert log_locks_at(path, case_key="xa.json", case_hash=H1, locks=decision) == (1, None)  # another case
    changed = [("DV4", "XS", "Họp lại, giữ mức", "btc-01"), ("DV5", None, "Bỏ khóa", "btc-02")]
    assert log_locks_at(path, case_key="phuong.json", case_hash=H1, locks=changed) == (2, None)
    assert log_locks_at(path, case_key="phuong.json", case_hash=H1, locks=decision) == (1, None)  # back: recorded
    assert log_locks_at(None, case_key="phuong.json", case_hash=H1, locks=decision) == (0, None)  # log off
    written, warning = log_locks_at(path, case_key="phuong.json", case_hash=H1, locks=[("DV6", "T", "", "btc")])
    assert written == 0 and warning.startswith("Cảnh báo: không ghi được nhật ký kiểm tra")
    with AuditLog(path) as log:
        locks = [(e["case_key"], e["subject_id"], e["level"], e["reason"]) for e in log.history()]
        assert log.verify() == []
    assert locks == [("phuong.json", "DV4", "XS", "Ban Thường vụ giữ mức"), ("xa.json", "DV4", "XS",
                     "Ban Thường vụ giữ mức"), ("phuong.json", "DV4", "XS", "Họp lại, giữ mức"),
                     ("phuong.json", "DV5", None, "Bỏ khóa"), ("phuong.json", "DV4", "XS", "Ban Thường vụ giữ mức")]


def test_the_case_key_of_a_file_is_its_name_within_the_log_folder(tmp_path):
    log = tmp_path / "ho_so" / DEFAULT_NAME
    assert case_key_for(tmp_path / "ho_so" / "phuong.json", log) == "phuong.json"
    assert case_key_for(tmp_path / "ho_so" / "2018" / "phuong.json", log) == "2018/phuong.json"
    assert case_key_for(tmp_path / "khac" / "phuong.json", log) == "phuong.json"  # never an absolute path
    assert audit_path_in(tmp_path / "ho_so") == log


def test_the_cli_log_keys_each_solve_by_the_case_file_name(tmp_path):
    case = tmp_path / "ho_so.json"
    case.write_bytes((EXAMPLES / "01_cap_20_percent.json").read_bytes())
    loaded = load_case(case)
    opts = SolveOptions(workers=1, time_limit=30)
    assert log_solve(case, solve(loaded, opts), opts) is None
    data = json.loads(case.read_text(encoding="utf-8"))
    data["subjects"][1]["lock"] = "T"  # an edit: another hash, the same case
    case.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert log_solve(case, solve(load_case(case), opts), opts) is None
    with AuditLog(tmp_path / DEFAULT_NAME) as log:
        history = log.case_history("ho_so.json")
    assert [e["case_key"] for e in history] == ["ho_so.json", "ho_so.json"]
    assert len({e["case_hash"] for e in history}) == 2


# -- issue 18: a what-if is logged with the hash of the what-if AND of its resolved base ------------------


def test_one_whatif_over_two_different_bases_never_shares_a_hash(tmp_path):
    from solver.commands.cli import main

    case = tmp_path / "ho_so.json"
    data = json.loads((EXAMPLES / "01_cap_20_percent.json").read_text(encoding="utf-8"))
    case.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    first = data["subjects"][1]["id"]
    whatif = tmp_path / "gia_dinh.json"
    whatif.write_text(json.dumps({"whatif": "Nếu khóa mức?", "base": "ho_so.json", "lock": {first: "T"}},
                                 ensure_ascii=False), encoding="utf-8")
    assert main(["solve", str(whatif), "--workers", "1"]) == 0
    data["name"] = "Hồ sơ đã sửa"  # the base changes; the what-if file does not
    case.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert main(["solve", str(whatif), "--workers", "1"]) == 0
    with AuditLog(tmp_path / DEFAULT_NAME) as log:
        hashes = [e["case_hash"] for e in log.history()]
    assert len(hashes) == 2 and hashes[0] != hashes[1]
    assert sha256_file(whatif) not in hashes  # never the what-if's bytes alone


def test_a_result_written_to_standard_output_is_logged_with_its_hash(tmp_path, capsys):
    from solver.commands.cli import main

    case = tmp_path / "ho_so.json"
    case.write_bytes((EXAMPLES / "01_cap_20_percent.json").read_bytes())
    assert main(["solve", str(case), "--json", "-", "--workers", "1"]) == 0
    printed = capsys.readouterr().out
    with AuditLog(tmp_path / DEFAULT_NAME) as log:
        solved, exported = log.history()
    assert exported["path"] == "-" and exported["sha256"] == sha256_text(printed) == solved["result_hash"]
