"""The audit log as the app uses it: each solve of a case version once (whoever and however often it is
shown), each committee lock with its reason and author, each download; and the history of a case in words
(versions numbered, hashes only in the technical details).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from solver import access, audit
from solver.appcore.loading import audit_log_path, case_folder
from solver.appcore.whatifs import decisions
from solver.appcore.words import num, profile_title
from solver.audit import sha256_bytes
from solver.engine.solve import SolveOptions
from solver.result import SolveResult


def _app_log(folder: str | Path | None) -> tuple[Path | None, str | None]:
    """(the app's log, None), or (None, a warning) when its folder cannot be made; (None, None) when off."""
    folder = case_folder() if folder is None else Path(folder)
    path = audit_log_path(folder)
    if path is not None and path.parent == folder:
        try:
            access.ensure_case_dir(folder)
        except access.AccessError as exc:
            return None, f"Cảnh báo: không ghi được nhật ký kiểm tra: {exc}"
    return path, None


#: (log, case key, case version, result hash) of the solves this process has recorded or found recorded.
_SOLVES_SEEN: set[tuple] = set()
_SEEN_LOCK = threading.Lock()


def _solve_recorded(path: Path, key: str, digest: str, result_hash: str | None) -> bool:
    """Whether the log already holds a solve of this case version with this result (any session, any day)."""
    if result_hash is None or not path.exists():
        return False
    try:
        with audit.AuditLog(path) as log:
            events = log.case_history(key, [digest])
    except (audit.AuditError, ValueError, OSError):
        return False
    return any(e["kind"] == "solve" and e["case_hash"] == digest and e["result_hash"] == result_hash
               for e in events)


def log_app_solve(key: str, digest: str, result: SolveResult | None, time_limit: float, workers: int,
                  folder: str | Path | None = None, case_name: str | None = None) -> str | None:
    """Record a solve made in the app in the case folder's log, once per case version and result — not
    once per browser session (``result`` None: the solver failed on the case ``case_name``, recorded each
    time); None, or a warning to show."""
    path, warning = _app_log(folder)
    if warning or path is None:
        return warning
    result_hash = audit.sha256_text(result.sealed or result.dumps()) if result is not None else None
    mark = (str(path), key, digest, result_hash)
    with _SEEN_LOCK:
        if result_hash is not None and (mark in _SOLVES_SEEN or _solve_recorded(path, key, digest, result_hash)):
            _SOLVES_SEEN.add(mark)
            return None
        warning = audit.log_solve_at(path, case_key=key, case_hash=digest, result=result,
                                     opts=SolveOptions(time_limit=float(time_limit), workers=int(workers)),
                                     case_name=case_name)
        if warning is None and result_hash is not None:
            _SOLVES_SEEN.add(mark)
    return warning


class _Later:
    """Audit records written in order by one worker thread: a what-if's solve is recorded without making the
    page wait for its result's JSON to be hashed (a second or more at 300,000 members). ``flush`` waits
    for every record asked so far (the page «Nhật ký» does before it reads the log)."""

    def __init__(self):
        import queue

        self._jobs: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()
        self.warnings: list[str] = []

    def put(self, job: Callable[[], str | None]) -> None:
        with self._start:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="xeploai-audit", daemon=True)
                self._thread.start()
        self._jobs.put(job)

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                warning = job()
            except Exception as exc:  # noqa: BLE001 — said on the next page, never lost silently
                warning = f"Cảnh báo: không ghi được nhật ký kiểm tra: {exc}"
            if warning:
                self.warnings.append(warning)
            self._jobs.task_done()

    def flush(self) -> list[str]:
        """Wait for every record asked so far; the warnings they gave (then forgotten)."""
        self._jobs.join()
        out, self.warnings = self.warnings, []
        return out


LATER = _Later()


def log_app_solve_later(key: str, digest: str, result: SolveResult | None, time_limit: float, workers: int,
                        folder: str | Path | None = None, case_name: str | None = None) -> None:
    """:func:`log_app_solve` on the audit worker (the page does not wait); see ``LATER.flush``."""
    folder = case_folder() if folder is None else folder
    LATER.put(lambda: log_app_solve(key, digest, result, time_limit, workers, folder, case_name))


def late_warnings() -> list[str]:
    """The warnings of records the worker wrote since last asked (then forgotten), without waiting."""
    out, LATER.warnings = LATER.warnings, []
    return out


def flush_logs() -> list[str]:
    """Wait until every audit record asked so far is written; the warnings they gave."""
    return LATER.flush()


def log_app_export(key: str, digest: str, kind: str, file_name: str, data: bytes | str,
                   folder: str | Path | None = None) -> str | None:
    """Record a download made in the app (``file_name`` and the SHA-256 of its bytes); None, or a warning."""
    path, warning = _app_log(folder)
    content = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    return warning or audit.log_export_at(path, case_key=key, case_hash=digest, kind=kind, path=file_name,
                                          sha256=sha256_bytes(content))


def log_app_locks(key: str, digest: str, delta: dict, notes: dict,
                  folder: str | Path | None = None) -> tuple[int, str | None]:
    """Record the committee decisions of a what-if on a case (each distinct one once); (count, warning)."""
    path, warning = _app_log(folder)
    if warning:
        return 0, warning
    locks = [(sid, level, notes[sid]["reason"], notes[sid]["author"]) for sid, level in decisions(delta)
             if (notes.get(sid) or {}).get("level", "?") == level]
    return audit.log_locks_at(path, case_key=key, case_hash=digest, locks=locks)


AUDIT_STATUS_WORDS = {"optimal": "tối ưu, đã chứng minh", "feasible": "khả thi, chưa chứng minh tối ưu",
                      "conflict": "mâu thuẫn", "invalid": "dữ liệu không hợp lệ",
                      "unknown": "hết thời gian, chưa có phương án", "error": "lỗi bộ giải"}
EXPORT_WORDS = {"json": "kết quả JSON", "docx": "báo cáo Word", "xlsx": "kết quả Excel", "whatif": "tệp giả định",
                "template": "bảng tính mẫu"}


def local_time(at: str) -> str:
    """A log time (UTC, ISO) as this machine's local time, the Vietnamese way: 15/12/2018 14:05:09."""
    try:
        moment = datetime.fromisoformat(at)
    except (TypeError, ValueError):
        return str(at)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone().strftime("%d/%m/%Y %H:%M:%S")


def history_rows(events: list[dict]) -> list[dict]:
    """Audit events as table rows with Vietnamese headers, newest first (every cell text, blank when it
    does not apply). Versions of the case are numbered in the order they first appear («bản 1», «bản 2»…);
    hashes are kept for :func:`technical_rows`."""
    versions: dict[str, int] = {}
    for e in sorted(events, key=lambda e: e["seq"]):
        versions.setdefault(e["case_hash"], len(versions) + 1)
    rows = []
    for e in sorted(events, key=lambda e: e["seq"], reverse=True):
        row = {"Số": num(e["seq"]), "Thời gian": local_time(e["at"]), "Việc": "", "Đối tượng": "", "Nội dung": "",
               "Người quyết định": "", "Phiên bản hồ sơ": f"bản {versions[e['case_hash']]}"}
        if e["kind"] == "solve":
            row["Việc"] = "Giải giả định" if "— giả định:" in (e["case_name"] or "") else "Xếp loại"
            status = AUDIT_STATUS_WORDS.get(e["status"], e["status"])
            changed = "" if e["changed"] is None else f", {num(e['changed'])} thay đổi"
            profile = "" if e["profile"] in ("?", None, "") else f" — {profile_title(e['profile'])}"
            row["Nội dung"] = f"{status}{changed}{profile}"
        elif e["kind"] == "lock":
            row["Việc"] = "Khóa mức" if e["level"] is not None else "Bỏ khóa"
            row["Đối tượng"] = e["subject_id"]
            level = f"mức {e['level']}" if e["level"] is not None else "bỏ khóa"
            row["Nội dung"] = f"{level} — lý do: {e['reason']}"
            row["Người quyết định"] = e["author"]
        else:
            row["Việc"] = "Tải về: " + EXPORT_WORDS.get(e["export_kind"], e["export_kind"])
            row["Nội dung"] = e["path"]
        rows.append(row)
    return rows


def technical_rows(events: list[dict]) -> list[dict]:
    """The same events with what an auditor checks: the SHA-256 of the case version and of the result or
    file (newest first)."""
    rows = []
    for e in sorted(events, key=lambda e: e["seq"], reverse=True):
        digest = e.get("result_hash") if e["kind"] == "solve" else e.get("sha256") if e["kind"] == "export" else None
        rows.append({"Số": num(e["seq"]), "Mã băm phiên bản hồ sơ (SHA-256)": e["case_hash"],
                     "Mã băm kết quả hoặc tệp (SHA-256)": digest or "", "Mã bộ quy định": e.get("profile") or ""})
    return rows


def verify_words(problems: list[str], count: int) -> tuple[bool, str]:
    """(intact, the verdict of ``AuditLog.verify`` in a sentence)."""
    if not problems:
        return True, (f"Nhật ký nguyên vẹn: {num(count)} bản ghi, chuỗi mã băm không đứt, không bản ghi nào bị sửa hay "
                      "xóa.")
    return False, (f"Nhật ký có dấu hiệu bị can thiệp ({len(problems)} vấn đề): " + "; ".join(problems) + ".")


def case_history(key: str, digests: tuple[str, ...] | list[str] = (), folder: str | Path | None = None) -> dict:
    """The history of one case in the app's log, for the page «Nhật ký»: ``state`` (off, empty, ok or error),
    the log's path, the table rows (newest first), and the verdict of the whole log's check."""
    path = audit_log_path(case_folder() if folder is None else folder)
    out: dict[str, Any] = {"state": "off", "path": str(path) if path else "", "rows": [], "intact": True,
                           "verdict": "", "count": 0, "error": ""}
    if path is None:
        return out
    if not path.exists():  # looking must not create the log
        out["state"] = "empty"
        return out
    try:
        with audit.AuditLog(path) as log:
            events = log.case_history(key, digests)
            problems = log.verify()
            count = len(log)
    except (audit.AuditError, ValueError) as exc:
        out.update(state="error", error=str(exc))
        return out
    out["intact"], out["verdict"] = verify_words(problems, count)
    out.update(state="ok", rows=history_rows(events), technical=technical_rows(events), count=count)
    return out


__all__ = ["AUDIT_STATUS_WORDS", "EXPORT_WORDS", "LATER", "case_history", "flush_logs", "late_warnings", "log_app_solve_later", "history_rows", "local_time", "log_app_export",
           "log_app_locks", "log_app_solve", "technical_rows", "verify_words"]
