"""The audit trail: an append-only SQLite log of every solve, committee lock or override, and export.

One file per case folder (``xeploai-audit.sqlite`` beside the case, or the path in ``XEPLOAI_AUDIT``;
``off`` turns the log off). Every record is one transaction, so a crash mid-write leaves the log as it
was before that record (SQLite WAL journal, ``synchronous=FULL``). Triggers refuse UPDATE and DELETE,
and each event carries the SHA-256 of the one before it, so a casual edit (with the triggers dropped)
shows in :meth:`AuditLog.verify`. The log holds ids and hashes, never the names of people: the case
name, subject ids, levels, the committee's stated reason and its author, output paths.

Every event may carry a **case key**: a name that stays the same while the case is edited (the case file's
name within its folder), so that the history of one case holds its every version, whose input hashes
differ (a lock changes the file). The column was added after the first logs were written: an older log
gains it on opening (``ALTER TABLE``), its old records keep no key and still verify, and a record with a
key has the key inside its hash link.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import sqlite3
import stat
import threading
import unicodedata
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from model.errors import os_error_text, sqlite_error_text

AUDIT_ENV = "XEPLOAI_AUDIT"
DEFAULT_NAME = "xeploai-audit.sqlite"
#: Values of ``XEPLOAI_AUDIT`` (or of the ``setting`` parameter) that turn the log off.
OFF_WORDS = frozenset({"off", "0", "false", "no", "none"})
SCHEMA_VERSION = "1"
#: The files SQLite keeps beside a log: the write-ahead log, its shared memory, a rollback journal.
LOG_COMPANIONS = ("-wal", "-shm", "-journal")
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
#: Columns added to a table after logs were first written: (table, column, declaration). ``ALTER TABLE``
#: adds them to an older log when it is opened; the append-only triggers of the table cover them at once
#: (they guard whole rows), and the hash link of an event covers them whenever they are not NULL.
_ADDED_COLUMNS = (
    ("events", "case_key", "TEXT CHECK (case_key IS NULL OR length(trim(case_key)) > 0)"),
)
_INDEXES = ("CREATE INDEX IF NOT EXISTS events_case_key ON events (case_key)",
            "CREATE INDEX IF NOT EXISTS events_case_hash ON events (case_hash)")
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


def audit_path_in(folder: str | Path, setting: str | None = None) -> Path | None:
    """Where the audit log of a case folder lives (the app's), or None when the log is off: as
    :func:`audit_path_for`, with ``xeploai-audit.sqlite`` in ``folder`` as the default."""
    return audit_path_for(Path(folder) / DEFAULT_NAME, setting)


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
        try:
            p = Path(value).expanduser()
        except RuntimeError:  # "~" with no home directory: the path as written
            p = Path(value)
        # os.path.isdir, not Path.is_dir: a name too long or a loop is "not a folder" here, and the log's
        # opening then says what is wrong in Vietnamese (Path.is_dir raised OSError: a traceback)
        return p / DEFAULT_NAME if os.path.isdir(p) else p
    return Path(case_path).parent / DEFAULT_NAME


def audit_files(paths: list[str | Path | None] | tuple, setting: str | None = None) -> list[Path]:
    """The audit logs that reading or writing ``paths`` may append to (``--audit``/``XEPLOAI_AUDIT``, or the
    default beside each path) and the files SQLite keeps beside each (``-wal``, ``-shm``, ``-journal``): no output
    may be written over one of them."""
    out: list[Path] = []
    for path in paths:
        if path is None or str(path) == "-":
            continue
        try:
            log = audit_path_for(path, setting)
        except (OSError, ValueError):
            continue
        if log is None:
            continue
        for f in (log, *(Path(f"{log}{end}") for end in LOG_COMPANIONS)):
            if f not in out:
                out.append(f)
    return out


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _canonical(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _digest(prev: str, record: dict[str, Any]) -> str:
    """The chain link of one event: SHA-256 of the previous link and the event's canonical JSON."""
    return sha256_text(prev + _canonical(record))


def _record(seq: int, at: str, kind: str, case_hash: str, case_key: str | None, details: dict[str, Any]
            ) -> dict[str, Any]:
    """What the hash link of an event covers. A record without a case key is hashed exactly as before the
    key existed, so older logs verify unchanged; with a key, the key is covered too."""
    record = {"seq": seq, "at": at, "kind": kind, "case_hash": case_hash, **details}
    if case_key is not None:
        record["case_key"] = case_key
    return record


def _case_key(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError("khóa hồ sơ (tên tệp hồ sơ) không được để trống")
    return unicodedata.normalize("NFC", value.strip())


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
        where = f"không mở được nhật ký kiểm tra «{self.path}»"
        try:
            st = os.stat(self.path)
        except OSError as exc:
            if exc.errno in (errno.ENAMETOOLONG, errno.ELOOP):  # SQLite would only say "unable to open"
                raise AuditError(f"{where}: {os_error_text(exc)}") from None
            st = None  # not there yet (made below), or a path SQLite will refuse with its own error
        except ValueError:  # a NUL in the path
            raise AuditError(f"{where}: đường dẫn có ký tự không hợp lệ") from None
        if st is not None and not stat.S_ISREG(st.st_mode):
            kind = "một thư mục" if stat.S_ISDIR(st.st_mode) else "một thiết bị, ống dẫn hay socket"
            raise AuditError(f"{where}: đây là {kind}, không phải một tệp thường")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=10.0, isolation_level=None, check_same_thread=False)
        except FileExistsError:  # a file stands where a folder of the path should be
            raise AuditError(f"{where}: một phần của đường dẫn là tệp, không phải thư mục") from None
        except OSError as exc:
            raise AuditError(f"{where}: {os_error_text(exc)}") from None
        except sqlite3.Error as exc:
            raise AuditError(f"{where}: {sqlite_error_text(exc)}") from None
        try:
            self._setup()
        except sqlite3.Error as exc:
            self._db.close()
            raise AuditError(f"{where} (tệp hỏng hoặc không phải nhật ký của xeploai): "
                             f"{sqlite_error_text(exc)}") from None

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
        if version is None or not self._has_all_triggers() or self._missing_columns() or not self._has_indexes():
            db.execute("BEGIN IMMEDIATE")
            try:
                for stmt in (*_TABLES, *_triggers()):
                    db.execute(stmt)
                for table, column, declaration in self._missing_columns():  # checked again: another writer
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
                for stmt in _INDEXES:
                    db.execute(stmt)
                db.execute("INSERT INTO meta (key, value) SELECT 'schema', ? "
                           "WHERE NOT EXISTS (SELECT 1 FROM meta WHERE key = 'schema')", (SCHEMA_VERSION,))
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:  # SQLite may have rolled back already ("no transaction is active")
                    db.execute("ROLLBACK")
                raise

    def _has_all_triggers(self) -> bool:
        names = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        return set(TRIGGER_NAMES) <= names

    def _missing_columns(self) -> list[tuple[str, str, str]]:
        out = []
        for table, column, declaration in _ADDED_COLUMNS:
            have = {r[1] for r in self._db.execute(f"PRAGMA table_info({table})")}
            if have and column not in have:
                out.append((table, column, declaration))
        return out

    def _has_indexes(self) -> bool:
        names = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        return {"events_case_key", "events_case_hash"} <= names

    # -- writing ----------------------------------------------------------------------------------

    def _append(self, kind: str, case_hash: str, table: str, details: dict[str, Any],
                case_key: str | None = None) -> int:
        _check_hash(case_hash, "mã băm hồ sơ")
        case_key = _case_key(case_key)
        with self._lock:
            db = self._db
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    last = db.execute("SELECT seq, digest FROM events ORDER BY seq DESC LIMIT 1").fetchone()
                    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
                    at = self._clock()
                    record = _record(seq, at, kind, case_hash, case_key, details)
                    db.execute("INSERT INTO events (seq, at, kind, case_hash, case_key, prev, digest) "
                               "VALUES (?, ?, ?, ?, ?, ?, ?)",
                               (seq, at, kind, case_hash, case_key, prev, _digest(prev, record)))
                    cols = ", ".join(details)
                    marks = ", ".join("?" for _ in details)
                    db.execute(f"INSERT INTO {table} (seq, {cols}) VALUES (?, {marks})", (seq, *details.values()))
                    db.execute("COMMIT")
                except BaseException:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise AuditError(f"không ghi được nhật ký kiểm tra «{self.path}»: {sqlite_error_text(exc)}") from None
        return seq

    def record_solve(self, *, case_hash: str, case_name: str, profile: str, options: dict[str, Any],
                     result_hash: str | None, status: str, changed: int | None, wall_time: float,
                     case_key: str | None = None) -> int:
        """One solve: the input's SHA-256, the rule profile and every option, the SHA-256 of the
        deterministic result JSON (None when the solver raised), the status, how many changed, the time;
        ``case_key`` groups it with the other versions of the same case."""
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
        return self._append("solve", case_hash, "solves", details, case_key)

    def record_lock(self, case_hash: str, subject_id: str, level: Any, reason: str, author: str, *,
                    case_key: str | None = None) -> int:
        """A committee lock or override of one subject's level (``level`` None: the lock is lifted), with
        the reason the committee stated and who entered it (an account or role, not a member's name)."""
        details = {
            "subject_id": _text(subject_id, "mã đối tượng"),
            "level": _level_code(level),
            "reason": _text(reason, "lý do khóa mức").strip(),
            "author": _text(author, "người khóa mức").strip(),
        }
        return self._append("lock", case_hash, "locks", details, case_key)

    def record_export(self, case_hash: str, kind: str, path: str | Path, sha256: str | None = None, *,
                      case_key: str | None = None) -> int:
        """A file written for the case (``json``, ``docx``, ``xlsx``…): its path and the SHA-256 of its bytes
        (read from the file when not given)."""
        digest = sha256_file(path) if sha256 is None else _check_hash(sha256, "mã băm tệp")
        details = {"export_kind": _text(kind, "loại tệp"), "path": str(path), "sha256": digest}
        return self._append("export", case_hash, "exports", details, case_key)

    # -- reading ----------------------------------------------------------------------------------

    _SELECT = """SELECT e.seq, e.at, e.kind, e.case_hash, e.prev, e.digest,
                        s.case_name, s.profile, s.options, s.result_hash, s.status, s.changed, s.wall_time,
                        l.subject_id, l.level, l.reason, l.author,
                        x.export_kind, x.path, x.sha256,
                        s.seq IS NOT NULL, l.seq IS NOT NULL, x.seq IS NOT NULL, e.case_key
                 FROM events e
                 LEFT JOIN solves s ON s.seq = e.seq
                 LEFT JOIN locks l ON l.seq = e.seq
                 LEFT JOIN exports x ON x.seq = e.seq"""

    def _rows(self, case_hash: str | None = None, where: str | None = None, args: tuple = ()) -> list[tuple]:
        query = self._SELECT
        if case_hash is not None:
            query, args = query + " WHERE e.case_hash = ?", (case_hash,)
        elif where is not None:
            query = query + " WHERE " + where
        with self._lock:
            try:
                return self._db.execute(query + " ORDER BY e.seq", args).fetchall()
            except sqlite3.Error as exc:
                raise AuditError(f"không đọc được nhật ký kiểm tra «{self.path}»: {sqlite_error_text(exc)}") from None

    @staticmethod
    def _details(row: tuple) -> dict[str, Any]:
        kind = row[2]
        if kind == "solve":
            return {"case_name": row[6], "profile": row[7], "options": json.loads(row[8]), "result_hash": row[9],
                    "status": row[10], "changed": row[11], "wall_time": row[12]}
        if kind == "lock":
            return {"subject_id": row[13], "level": row[14], "reason": row[15], "author": row[16]}
        return {"export_kind": row[17], "path": row[18], "sha256": row[19]}

    @classmethod
    def _event(cls, row: tuple) -> dict[str, Any]:
        return {"seq": row[0], "at": row[1], "kind": row[2], "case_hash": row[3], "case_key": row[23],
                **cls._details(row), "digest": row[5]}

    def history(self, case_hash: str | None = None) -> list[dict[str, Any]]:
        """Every event (of one version of a case, by its input hash), oldest first, as plain dicts."""
        return [self._event(row) for row in self._rows(case_hash)]

    def case_history(self, case_key: str, case_hashes: tuple[str, ...] | list[str] = ()) -> list[dict[str, Any]]:
        """Every event of one case across its versions, oldest first: those recorded under ``case_key``, and
        those recorded without a key (by an older xeploai) for an input hash that the case has had — one
        recorded under the key, or one of ``case_hashes`` (the current file's, say)."""
        key = _case_key(case_key)
        hashes = sorted({_check_hash(h, "mã băm hồ sơ") for h in case_hashes})
        given = f" OR e.case_hash IN ({', '.join('?' for _ in hashes)})" if hashes else ""
        where = ("e.case_key = ? OR (e.case_key IS NULL AND (e.case_hash IN "
                 f"(SELECT case_hash FROM events WHERE case_key = ?){given}))")
        return [self._event(row) for row in self._rows(where=where, args=(key, key, *hashes))]

    def last_lock(self, case_key: str, subject_id: str) -> dict[str, Any] | None:
        """The latest lock event of one subject of a case (by its key), or None."""
        where = "e.kind = 'lock' AND e.case_key = ? AND l.subject_id = ?"
        rows = self._rows(where=where, args=(_case_key(case_key), subject_id))
        return self._event(rows[-1]) if rows else None

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM events").fetchone()[0]

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
            record = _record(seq, row[1], kind, row[3], row[23], details)
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


def case_key_for(case_path: str | Path, log_path: str | Path) -> str:
    """The case key of a case file: its path relative to the log's folder when it lies there (in the app's
    case folder, its file name), otherwise its file name alone (never an absolute path: it may hold the
    name of an account)."""
    case, folder = Path(case_path).absolute(), Path(log_path).absolute().parent
    try:
        return case.relative_to(folder).as_posix()
    except ValueError:
        return case.name


def _warning(exc: Exception) -> str:
    if isinstance(exc, OSError):
        why = os_error_text(exc)
    elif isinstance(exc, sqlite3.Error):
        why = sqlite_error_text(exc)
    else:
        why = str(exc)
    return f"Cảnh báo: không ghi được nhật ký kiểm tra: {why}"


def input_hash(case_path: str | Path) -> str:
    """The input hash of a case file in the log: its SHA-256, or for a what-if the hash of the what-if and of
    every base it stands on (``model.whatif.input_digest``): two different inputs never share a hash."""
    from model.whatif import input_digest

    return input_digest(case_path)


def _solve_fields(result: Any, opts: Any, case_name: str | None) -> dict[str, Any]:
    if result is None:
        return {"case_name": case_name or "?", "profile": "?", "options": solve_options_json(None, opts),
                "result_hash": None, "status": "error", "changed": None, "wall_time": 0.0}
    return {"case_name": result.case_name, "profile": result.profile,
            "options": solve_options_json(result, opts), "result_hash": sha256_text(result.dumps()),
            "status": result.status, "changed": result.changed, "wall_time": result.wall_time}


def log_solve_at(log_path: str | Path | None, *, case_key: str, case_hash: str, result: Any, opts: Any,
                 case_name: str | None = None) -> str | None:
    """Record a solve in the log at ``log_path`` (None: the log is off); None, or a warning to show.

    What the app calls: its cases are texts in memory, known by a key and a hash, not by a path."""
    if log_path is None:
        return None
    try:
        with AuditLog(log_path) as log:
            log.record_solve(case_hash=case_hash, case_key=case_key, **_solve_fields(result, opts, case_name))
    except (AuditError, OSError, ValueError, sqlite3.Error) as exc:
        return _warning(exc)
    return None


def log_export_at(log_path: str | Path | None, *, case_key: str, case_hash: str, kind: str, path: str | Path,
                  sha256: str) -> str | None:
    """Record a file made for a case (in the app: a download, ``path`` is its file name); None, or a warning."""
    if log_path is None:
        return None
    try:
        with AuditLog(log_path) as log:
            log.record_export(case_hash, kind, path, sha256, case_key=case_key)
    except (AuditError, OSError, ValueError, sqlite3.Error) as exc:
        return _warning(exc)
    return None


def log_locks_at(log_path: str | Path | None, *, case_key: str, case_hash: str,
                 locks: list[tuple[str, str | None, str, str]]) -> tuple[int, str | None]:
    """Record the committee's locks (subject id, level code or None to lift a lock, reason, author) of a
    case: each once, skipping a lock whose latest record for the same case and subject already says the
    same level, reason and author. Returns (how many were recorded, None or a warning)."""
    if log_path is None or not locks:
        return 0, None
    written = 0
    try:
        with AuditLog(log_path) as log:
            for sid, level, reason, author in locks:
                last = log.last_lock(case_key, sid)
                code = _level_code(level)
                if last is not None and (last["level"], last["reason"], last["author"]) == (
                        code, reason.strip(), author.strip()):
                    continue
                log.record_lock(case_hash, sid, code, reason, author, case_key=case_key)
                written += 1
    except (AuditError, OSError, ValueError, sqlite3.Error) as exc:
        return written, _warning(exc)
    return written, None


def log_solve(case_path: str | Path, result: Any, opts: Any, *, setting: str | None = None,
              case_hash: str | None = None, case_name: str | None = None) -> str | None:
    """Record a finished solve of the case file in its audit log; None, or a warning to show the user.

    ``result`` is a ``SolveResult``, or None when the solver raised (status ``error``; give ``case_name``).
    """
    path = audit_path_for(case_path, setting)
    if path is None:
        return None
    try:
        digest = case_hash or input_hash(case_path)
    except OSError as exc:
        return _warning(exc)
    return log_solve_at(path, case_key=case_key_for(case_path, path), case_hash=digest, result=result, opts=opts,
                        case_name=case_name or Path(case_path).stem or "?")


def log_export(case_path: str | Path, kind: str, out_path: str | Path, *, setting: str | None = None,
               case_hash: str | None = None, sha256: str | None = None) -> str | None:
    """Record a file written for the case file in its audit log; None, or a warning to show the user.

    ``sha256``: the digest of what was written, when it cannot be read back (standard output, a pipe)."""
    path = audit_path_for(case_path, setting)
    if path is None:
        return None
    try:
        digest, out_digest = case_hash or input_hash(case_path), sha256 or sha256_file(out_path)
    except OSError as exc:
        return _warning(exc)
    return log_export_at(path, case_key=case_key_for(case_path, path), case_hash=digest, kind=kind,
                         path=out_path, sha256=out_digest)


class CaseTrail:
    """The audit records of one command on one case file (``xeploai solve``, ``report``): the input's hash is
    computed once for all of them. A province's case is 43 MB: reading and hashing it for each record took
    0.13 s each (``benchmarks/bench_scale.py``)."""

    def __init__(self, case_path: str | Path, setting: str | None):
        self.case_path, self.setting = case_path, setting
        self._digest: str | None = None

    def _case_hash(self) -> str | None:
        """The input hash, or None when the log is off (the log functions then do nothing); ``OSError``."""
        if self._digest is None and audit_path_for(self.case_path, self.setting) is not None:
            self._digest = input_hash(self.case_path)
        return self._digest

    def solved(self, result: Any, opts: Any, *, case_name: str | None = None) -> str | None:
        """``log_solve`` with the hash computed once; None, or a warning to show."""
        try:
            digest = self._case_hash()
        except OSError as exc:
            return _warning(exc)
        return log_solve(self.case_path, result, opts, setting=self.setting, case_hash=digest, case_name=case_name)

    def exported(self, kind: str, out_path: str | Path, *, sha256: str | None = None) -> str | None:
        """``log_export`` with the hash computed once; None, or a warning to show."""
        try:
            digest = self._case_hash()
        except OSError as exc:
            return _warning(exc)
        return log_export(self.case_path, kind, out_path, setting=self.setting, case_hash=digest, sha256=sha256)


__all__ = [
    "AUDIT_ENV", "CaseTrail", "AuditError", "AuditLog", "DEFAULT_NAME", "GENESIS", "SOLVE_STATUSES", "audit_path_for",
    "audit_path_in", "case_key_for", "log_export", "log_export_at", "log_locks_at", "log_solve", "log_solve_at",
    "input_hash", "sha256_bytes", "sha256_file", "sha256_text", "solve_options_json",
]
