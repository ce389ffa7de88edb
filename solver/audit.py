"""The audit trail: an append-only SQLite log of every solve, committee lock or override, and export.

One file per case folder (``xeploai-audit.sqlite`` beside the case, or the path in ``XEPLOAI_AUDIT``;
``off`` turns the log off). Every record is one transaction, so a crash mid-write leaves the log as it
was before that record (SQLite WAL journal, ``synchronous=FULL``). Triggers refuse UPDATE and DELETE,
and each event carries the SHA-256 of the one before it, so a casual edit (with the triggers dropped)
shows in :meth:`AuditLog.verify`. The log holds ids and hashes, never the names of people: the case
name, subject ids, levels, the committee's stated reason and its author, output paths.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

AUDIT_ENV = "XEPLOAI_AUDIT"
DEFAULT_NAME = "xeploai-audit.sqlite"
#: Values of ``XEPLOAI_AUDIT`` (or of the ``setting`` parameter) that turn the log off.
OFF_WORDS = frozenset({"off", "0", "false", "no", "none"})
SCHEMA_VERSION = "1"
GENESIS = "0" * 64
#: Statuses a solve record may carry: those of ``solver.result`` and ``error`` (the solver raised).
SOLVE_STATUSES = ("optimal", "feasible", "conflict", "invalid", "unknown", "error")
KINDS = ("solve", "lock", "export")

_TABLES = (
    """CREATE TABLE IF NOT EXISTS meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS events (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('solve', 'lock', 'export')),
        case_hash TEXT NOT NULL CHECK (length(case_hash) = 64),
        prev TEXT NOT NULL CHECK (length(prev) = 64),
        digest TEXT NOT NULL UNIQUE CHECK (length(digest) = 64))""",
    """CREATE TABLE IF NOT EXISTS solves (
        seq INTEGER PRIMARY KEY REFERENCES events(seq),
        case_name TEXT NOT NULL,
        profile TEXT NOT NULL,
        options TEXT NOT NULL,
        result_hash TEXT CHECK (result_hash IS NULL OR length(result_hash) = 64),
        status TEXT NOT NULL,
        changed INTEGER,
        wall_time REAL NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS locks (
        seq INTEGER PRIMARY KEY REFERENCES events(seq),
        subject_id TEXT NOT NULL CHECK (length(subject_id) > 0),
        level TEXT,
        reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),
        author TEXT NOT NULL CHECK (length(trim(author)) > 0))""",
    """CREATE TABLE IF NOT EXISTS exports (
        seq INTEGER PRIMARY KEY REFERENCES events(seq),
        export_kind TEXT NOT NULL CHECK (length(export_kind) > 0),
        path TEXT NOT NULL,
        sha256 TEXT NOT NULL CHECK (length(sha256) = 64))""",
)
_APPEND_ONLY = ("meta", "events", "solves", "locks", "exports")
_KEY = {"meta": "key"}


def _triggers() -> list[str]:
    """Per table: no UPDATE, no DELETE, and no INSERT over an existing key (INSERT OR REPLACE deletes
    the old row without firing the DELETE trigger)."""
    out = []
    for table in _APPEND_ONLY:
        key = _KEY.get(table, "seq")
        out.append(f"""CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table}
            BEGIN SELECT RAISE(ABORT, 'nhật ký kiểm tra chỉ được ghi thêm: không được sửa bản ghi'); END""")
        out.append(f"""CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table}
            BEGIN SELECT RAISE(ABORT, 'nhật ký kiểm tra chỉ được ghi thêm: không được xóa bản ghi'); END""")
        out.append(f"""CREATE TRIGGER IF NOT EXISTS {table}_no_overwrite BEFORE INSERT ON {table}
            WHEN EXISTS (SELECT 1 FROM {table} WHERE {key} = NEW.{key})
            BEGIN SELECT RAISE(ABORT, 'nhật ký kiểm tra chỉ được ghi thêm: không được ghi đè bản ghi'); END""")
    out.append("""CREATE TRIGGER IF NOT EXISTS events_in_order BEFORE INSERT ON events
        WHEN NEW.seq <= (SELECT coalesce(max(seq), 0) FROM events)
        BEGIN SELECT RAISE(ABORT, 'nhật ký kiểm tra chỉ được ghi thêm vào cuối'); END""")
    return out


TRIGGER_NAMES = tuple(sorted(
    [f"{t}_{w}" for t in _APPEND_ONLY for w in ("no_update", "no_delete", "no_overwrite")] + ["events_in_order"]))


class AuditError(Exception):
    """The audit log could not be opened or written; the message is Vietnamese and names the file."""


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_text(text: str) -> str:
    """SHA-256 of a text's UTF-8 bytes (the deterministic JSON of a result, for instance)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_file(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def audit_path_for(case_path: str | Path, setting: str | None = None) -> Path | None:
    """Where the audit log of a case lives, or None when the log is off.

    ``setting`` (a CLI option, say) wins over the ``XEPLOAI_AUDIT`` environment variable; either may be
    ``off`` (also 0, false, no, none), a file path, or an existing folder (the log goes in it). Unset
    or empty: ``xeploai-audit.sqlite`` in the case's folder.
    """
    value = setting if setting is not None else os.environ.get(AUDIT_ENV)
    value = (value or "").strip()
    if value.lower() in OFF_WORDS:
        return None
    if value:
        p = Path(value).expanduser()
        return p / DEFAULT_NAME if p.is_dir() else p
    return Path(case_path).parent / DEFAULT_NAME


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _canonical(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _digest(prev: str, record: dict[str, Any]) -> str:
    """The chain link of one event: SHA-256 of the previous link and the event's canonical JSON."""
    return sha256_text(prev + _canonical(record))


def _check_hash(value: str, what: str) -> str:
    if not (isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)):
        raise ValueError(f"{what} phải là mã SHA-256 (64 ký tự hệ 16, chữ thường), nhận được {value!r}")
    return value


def _text(value: Any, what: str, *, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise ValueError(f"{what} không được để trống")
    return value


def _level_code(level: Any) -> str | None:
    if level is None:
        return None
    code = getattr(level, "code", level)
    return _text(code, "mức khóa")


class AuditLog:
    """An open audit log. Each ``record_*`` call is one committed transaction and returns its sequence number.

    Usable as a context manager; safe to share between threads (one connection, one lock).
    """

    def __init__(self, path: str | Path, *, clock: Callable[[], str] = _utc_now):
        self.path = Path(path)
        self._clock = clock
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=10.0, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise AuditError(f"không mở được nhật ký kiểm tra «{self.path}»: {exc}") from None
        try:
            self._setup()
        except sqlite3.Error as exc:
            self._db.close()
            raise AuditError(f"không mở được nhật ký kiểm tra «{self.path}» (tệp hỏng hoặc không phải "
                             f"nhật ký của xeploai): {exc}") from None

    def _setup(self) -> None:
        db = self._db
        db.execute("PRAGMA busy_timeout = 10000")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = FULL")
        db.execute("PRAGMA foreign_keys = ON")
        version = None
        if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone():
            row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            version = row[0] if row else None
        if version is not None and version != SCHEMA_VERSION:
            raise sqlite3.DatabaseError(f"phiên bản lược đồ {version}, cần {SCHEMA_VERSION}")
        if version is None or not self._has_all_triggers():
            db.execute("BEGIN IMMEDIATE")
            try:
                for stmt in (*_TABLES, *_triggers()):
                    db.execute(stmt)
                db.execute("INSERT INTO meta (key, value) SELECT 'schema', ? "
                           "WHERE NOT EXISTS (SELECT 1 FROM meta WHERE key = 'schema')", (SCHEMA_VERSION,))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def _has_all_triggers(self) -> bool:
        names = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        return set(TRIGGER_NAMES) <= names

    # -- writing ----------------------------------------------------------------------------------

    def _append(self, kind: str, case_hash: str, table: str, details: dict[str, Any]) -> int:
        _check_hash(case_hash, "mã băm hồ sơ")
        with self._lock:
            db = self._db
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    last = db.execute("SELECT seq, digest FROM events ORDER BY seq DESC LIMIT 1").fetchone()
                    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
                    at = self._clock()
                    record = {"seq": seq, "at": at, "kind": kind, "case_hash": case_hash, **details}
                    db.execute("INSERT INTO events (seq, at, kind, case_hash, prev, digest) VALUES (?, ?, ?, ?, ?, ?)",
                               (seq, at, kind, case_hash, prev, _digest(prev, record)))
                    cols = ", ".join(details)
                    marks = ", ".join("?" for _ in details)
                    db.execute(f"INSERT INTO {table} (seq, {cols}) VALUES (?, {marks})", (seq, *details.values()))
                    db.execute("COMMIT")
                except BaseException:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise AuditError(f"không ghi được nhật ký kiểm tra «{self.path}»: {exc}") from None
        return seq

    def record_solve(self, *, case_hash: str, case_name: str, profile: str, options: dict[str, Any],
                     result_hash: str | None, status: str, changed: int | None, wall_time: float) -> int:
        """One solve: the input's SHA-256, the rule profile and every option, the SHA-256 of the
        deterministic result JSON (None when the solver raised), the status, how many changed, the time."""
        if status not in SOLVE_STATUSES:
            raise ValueError(f"trạng thái không hợp lệ {status!r}; cho phép: {', '.join(SOLVE_STATUSES)}")
        if result_hash is not None:
            _check_hash(result_hash, "mã băm kết quả")
        if changed is not None and (isinstance(changed, bool) or not isinstance(changed, int) or changed < 0):
            raise ValueError(f"số thay đổi phải là số nguyên không âm, nhận được {changed!r}")
        details = {
            "case_name": _text(case_name, "tên hồ sơ"),
            "profile": _text(profile, "bộ quy tắc"),
            "options": _canonical(options),
            "result_hash": result_hash,
            "status": status,
            "changed": changed,
            "wall_time": round(float(wall_time), 3),
        }
        return self._append("solve", case_hash, "solves", details)

    def record_lock(self, case_hash: str, subject_id: str, level: Any, reason: str, author: str) -> int:
        """A committee lock or override of one subject's level (``level`` None: the lock is lifted), with
        the reason the committee stated and who entered it (an account or role, not a member's name)."""
        details = {
            "subject_id": _text(subject_id, "mã đối tượng"),
            "level": _level_code(level),
            "reason": _text(reason, "lý do khóa mức").strip(),
            "author": _text(author, "người khóa mức").strip(),
        }
        return self._append("lock", case_hash, "locks", details)

    def record_export(self, case_hash: str, kind: str, path: str | Path, sha256: str | None = None) -> int:
        """A file written for the case (``json``, ``docx``, ``xlsx``…): its path and the SHA-256 of its bytes
        (read from the file when not given)."""
        digest = sha256_file(path) if sha256 is None else _check_hash(sha256, "mã băm tệp")
        details = {"export_kind": _text(kind, "loại tệp"), "path": str(path), "sha256": digest}
        return self._append("export", case_hash, "exports", details)

    # -- reading ----------------------------------------------------------------------------------

    _SELECT = """SELECT e.seq, e.at, e.kind, e.case_hash, e.prev, e.digest,
                        s.case_name, s.profile, s.options, s.result_hash, s.status, s.changed, s.wall_time,
                        l.subject_id, l.level, l.reason, l.author,
                        x.export_kind, x.path, x.sha256,
                        s.seq IS NOT NULL, l.seq IS NOT NULL, x.seq IS NOT NULL
                 FROM events e
                 LEFT JOIN solves s ON s.seq = e.seq
                 LEFT JOIN locks l ON l.seq = e.seq
                 LEFT JOIN exports x ON x.seq = e.seq"""

    def _rows(self, case_hash: str | None = None) -> list[tuple]:
        query, args = self._SELECT, ()
        if case_hash is not None:
            query, args = query + " WHERE e.case_hash = ?", (case_hash,)
        with self._lock:
            try:
                return self._db.execute(query + " ORDER BY e.seq", args).fetchall()
            except sqlite3.Error as exc:
                raise AuditError(f"không đọc được nhật ký kiểm tra «{self.path}»: {exc}") from None

    @staticmethod
    def _details(row: tuple) -> dict[str, Any]:
        kind = row[2]
        if kind == "solve":
            return {"case_name": row[6], "profile": row[7], "options": json.loads(row[8]), "result_hash": row[9],
                    "status": row[10], "changed": row[11], "wall_time": row[12]}
        if kind == "lock":
            return {"subject_id": row[13], "level": row[14], "reason": row[15], "author": row[16]}
        return {"export_kind": row[17], "path": row[18], "sha256": row[19]}

    def history(self, case_hash: str | None = None) -> list[dict[str, Any]]:
        """Every event (of one case, by its input hash), oldest first, as plain dicts."""
        out = []
        for row in self._rows(case_hash):
            out.append({"seq": row[0], "at": row[1], "kind": row[2], "case_hash": row[3], **self._details(row),
                        "digest": row[5]})
        return out

    def verify(self) -> list[str]:
        """What is wrong with the log, in Vietnamese (empty: every record whole, chained, none missing)."""
        problems = []
        with self._lock:
            if not self._has_all_triggers():
                problems.append("các trigger chống sửa, xóa nhật ký đã bị gỡ bỏ")
        prev, expected = GENESIS, 1
        for row in self._rows():
            seq, kind = row[0], row[2]
            if seq != expected:
                problems.append(f"thiếu bản ghi {expected}–{seq - 1} (đã bị xóa?)")
            expected = seq + 1
            has = {"solve": row[20], "lock": row[21], "export": row[22]}
            if not has.get(kind) or sum(bool(v) for v in has.values()) != 1:
                problems.append(f"bản ghi {seq} không đầy đủ")
                prev = row[5]
                continue
            if row[4] != prev:
                problems.append(f"bản ghi {seq} không nối tiếp bản ghi trước (chuỗi băm bị đứt)")
            details = self._details(row)
            if kind == "solve":
                details["options"] = row[8]
            record = {"seq": seq, "at": row[1], "kind": kind, "case_hash": row[3], **details}
            if _digest(row[4], record) != row[5]:
                problems.append(f"bản ghi {seq} đã bị sửa sau khi ghi (mã băm không khớp)")
            prev = row[5]
        return problems

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- what the CLI and the app call: never raise, return a Vietnamese warning instead ---------------

def solve_options_json(result: Any, opts: Any) -> dict[str, Any]:
    """Every option that shaped a solve: the solver's settings and the resolved rule options."""
    solver = {name: getattr(opts, name) for name in ("time_limit", "workers", "max_ties", "explain", "method")
              if hasattr(opts, name)}
    return {"solver": solver, "rules": dict(getattr(result, "options", {}) or {})}


def log_solve(case_path: str | Path, result: Any, opts: Any, *, setting: str | None = None,
              case_hash: str | None = None, case_name: str | None = None) -> str | None:
    """Record a finished solve of the case file in its audit log; None, or a warning to show the user.

    ``result`` is a ``SolveResult``, or None when the solver raised (status ``error``; give ``case_name``).
    """
    path = audit_path_for(case_path, setting)
    if path is None:
        return None
    try:
        digest = case_hash or sha256_file(case_path)
        if result is None:
            fields = {"case_name": case_name or Path(case_path).stem or "?", "profile": "?",
                      "options": solve_options_json(None, opts), "result_hash": None, "status": "error",
                      "changed": None, "wall_time": 0.0}
        else:
            fields = {"case_name": result.case_name, "profile": result.profile or "bmt-2018",
                      "options": solve_options_json(result, opts), "result_hash": sha256_text(result.dumps()),
                      "status": result.status, "changed": result.changed, "wall_time": result.wall_time}
        with AuditLog(path) as log:
            log.record_solve(case_hash=digest, **fields)
    except (AuditError, OSError, ValueError) as exc:
        return f"Cảnh báo: không ghi được nhật ký kiểm tra: {exc}"
    return None


def log_export(case_path: str | Path, kind: str, out_path: str | Path, *, setting: str | None = None,
               case_hash: str | None = None) -> str | None:
    """Record a file written for the case file in its audit log; None, or a warning to show the user."""
    path = audit_path_for(case_path, setting)
    if path is None:
        return None
    try:
        with AuditLog(path) as log:
            log.record_export(case_hash or sha256_file(case_path), kind, out_path)
    except (AuditError, OSError, ValueError) as exc:
        return f"Cảnh báo: không ghi được nhật ký kiểm tra: {exc}"
    return None


__all__ = [
    "AUDIT_ENV", "AuditError", "AuditLog", "DEFAULT_NAME", "GENESIS", "SOLVE_STATUSES", "audit_path_for",
    "log_export", "log_solve", "sha256_bytes", "sha256_file", "sha256_text", "solve_options_json",
]
