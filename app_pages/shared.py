"""What every page of the app shares: the cached wrappers around ``solver.appcore``, session state, small widgets."""

from __future__ import annotations

import html
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

from model.errors import CaseInvalid
from model.levels import Level
from model.loader import LoadedCase
from solver import appcore
from solver.reports.word import build_docx
from solver.reports.excel import build_xlsx
from solver.audit import sha256_text
from solver.result import SolveResult

PAGE_DATA = "app_pages/du_lieu.py"
PAGE_RESULTS = "app_pages/ket_qua.py"

#: Session-state keys that belong to a loaded case and are dropped when another case is loaded.
CASE_KEY = "case"
PER_CASE_KEYS = ("wi_delta", "wi_solved", "why_keep_request", "tree_root", "tree_branch", "why_subject",
                 "why_query", "res_change_page", "lock_notes", "wi_lock_error", "wi_unlock_error", "log_kinds")
#: The fingerprint of the password this session was opened with (``solver.access``); absent: not opened.
ACCESS_KEY = "access_fingerprint"
#: What this session has already written in the audit log (a rerun must not write it again).
LOGGED_KEY = "audit_logged"

#: The placeholder of a multiselect (Streamlit's own is English).
CHOOSE = "Chọn (để trống: tất cả)"

#: Streamlit's file uploader has English texts that no parameter changes: Vietnamese ones are drawn over them.
UPLOADER_CSS = """<style>
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p { font-size: 0; }
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p::after {
  content: "Chọn tệp"; font-size: 0.875rem; }
[data-testid="stFileUploaderDropzoneInstructions"] span { font-size: 0; }
[data-testid="stFileUploaderDropzoneInstructions"] span::after {
  content: "hoặc kéo thả tệp vào đây (tối đa 200 MB)"; font-size: 0.875rem; }
</style>"""

DEFAULT_TIME_LIMIT = 60.0
DEFAULT_WORKERS = 2


# ---- caches: everything is keyed on the case's JSON text (and the solve settings) --------------------


@st.cache_resource(max_entries=6, show_spinner="Đang đọc hồ sơ…")
def loaded_case(text: str, name: str) -> LoadedCase:
    """A parsed case, shared read-only between reruns and sessions (never copied: it can be large)."""
    return appcore.parse_text(text, name)


#: The solved cases of this app process, shared by reruns, pages and browser sessions. Not a Streamlit
#: cache: a first solve shows its steps on the screen (``result_of``), which a cached function may not.
SESSIONS = appcore.SessionShelf(size=2)
#: Said when another run is solving (the page the user just left, or another browser session).
WAITING = "Đang chờ lần giải đang chạy (bắt đầu từ trang trước hoặc từ một phiên khác) xong…"


def whatif_session(text: str, name: str, time_limit: float, workers: int,
                   progress: Callable[[str], None] | None = None) -> appcore.WhatIfSession:
    """The base case solved once, kept with what its what-ifs re-use (shared read-only); ``progress`` is
    told the steps of the solve when it has to be done now."""
    return SESSIONS.get_or_solve(
        (text, name, time_limit, workers),
        lambda: appcore.WhatIfSession(loaded_case(text, name), case_data(text), time_limit, workers, progress),
        (lambda: progress(WAITING)) if progress is not None else None)


def solved(text: str, name: str, time_limit: float, workers: int) -> SolveResult:
    """The solve of a case (shared read-only: never changed by a page)."""
    return whatif_session(text, name, time_limit, workers).result


@st.cache_data(max_entries=64, show_spinner=False)
def keep_cost(text: str, name: str, sid: str, keep: str, time_limit: float, workers: int) -> dict:
    base = solved(text, name, time_limit, workers)
    return appcore.keep_cost(loaded_case(text, name), base, sid, Level[keep], time_limit, workers)


@st.cache_data(max_entries=8, show_spinner=False)
def docx_bytes(text: str, name: str, time_limit: float, workers: int, date: str | None) -> bytes:
    return build_docx(loaded_case(text, name), solved(text, name, time_limit, workers), date=date)


@st.cache_data(max_entries=8, show_spinner=False)
def xlsx_bytes(text: str, name: str, time_limit: float, workers: int) -> bytes:
    return build_xlsx(loaded_case(text, name), solved(text, name, time_limit, workers))


@st.cache_resource(max_entries=4, show_spinner=False)
def case_data(text: str) -> dict:
    """The raw data of a case (shared read-only: ``appcore.apply_delta`` works on a copy)."""
    return json.loads(text)


@st.cache_data(max_entries=4, show_spinner="Đang đọc danh sách hồ sơ mẫu…")
def scenarios() -> list[dict]:
    return sorted(appcore.list_scenarios(), key=lambda s: (s["subjects"], s["file"]))


# ---- session state ---------------------------------------------------------------------------------


def set_case(text: str, name: str, key: str | None = None, digest: str | None = None) -> None:
    """Make a case the current one; what belonged to the previous case (what-if edits…) is dropped.

    ``key`` names the case in the audit log across its versions (its file name in the case folder) and
    ``digest`` is the SHA-256 of the file's bytes; both default to what the text itself gives."""
    for k in PER_CASE_KEYS:
        st.session_state.pop(k, None)
    st.session_state[CASE_KEY] = {"text": text, "name": name, "key": key or name,
                                  "digest": digest or sha256_text(text)}


def case_identity(text: str | None = None, delta: dict | None = None) -> tuple[str, str] | None:
    """(key, SHA-256) of the current case in the audit log; with ``text``, that text's hash under the same
    key, and with ``delta`` (a what-if of it) ``appcore.whatif_version``: every version of a case is one
    history."""
    case = st.session_state.get(CASE_KEY)
    if not case:
        return None
    key = case.get("key") or case["name"]
    if delta is not None:
        return key, appcore.whatif_version(case.get("digest") or sha256_text(case["text"]), delta)
    if text is None or text == case["text"]:
        return key, case.get("digest") or sha256_text(case["text"])
    return key, sha256_text(text)


def _once(mark: tuple) -> bool:
    """True the first time this session meets ``mark`` (then it is remembered)."""
    done = st.session_state.setdefault(LOGGED_KEY, set())
    if mark in done:
        return False
    done.add(mark)
    return True


def log_solve(text: str, result: SolveResult | None, time_limit: float, workers: int, name: str = "",
              delta: dict | None = None) -> None:
    """Record a solve shown in this session in the case folder's audit log (once per case version and
    settings); ``result`` None: the solver failed on the case ``name``; ``delta``: a what-if of ``text``."""
    ident = case_identity(text, delta)
    if ident is None or not _once(("solve", *ident, time_limit, workers)):
        return
    warning = appcore.log_app_solve(*ident, result, time_limit, workers, case_name=name or None)
    if warning:
        st.warning(warning)


def log_download(kind: str, file_name: str, data: bytes | str) -> None:
    """A download button's callback: the file given to the user goes in the audit log."""
    ident = case_identity()
    if ident is None:
        return
    warning = appcore.log_app_export(*ident, kind, file_name, data)
    if warning:
        st.session_state["audit_warning"] = warning


def log_locks(delta: dict, notes: dict) -> None:
    """Record the committee decisions of a what-if being solved (each distinct decision once, see
    ``solver.audit.log_locks_at``)."""
    ident = case_identity()
    if ident is None:
        return
    _, warning = appcore.log_app_locks(*ident, delta, notes)
    if warning:
        st.warning(warning)


def show_audit_warning() -> None:
    warning = st.session_state.pop("audit_warning", None)
    if warning:
        st.warning(warning)


def current_case() -> tuple[str, str] | None:
    case = st.session_state.get(CASE_KEY)
    return (case["text"], case["name"]) if case else None


def settings() -> tuple[float, int]:
    """The solve settings chosen in the sidebar (time limit in seconds, workers)."""
    return (float(st.session_state.get("solve_time_limit", DEFAULT_TIME_LIMIT)),
            int(st.session_state.get("solve_workers", DEFAULT_WORKERS)))


def require_case() -> tuple[str, str, LoadedCase]:
    """The current case, or a pointer to the data page and a stop."""
    case = current_case()
    if case is None:
        st.info("Chưa có hồ sơ nào được nạp. Hãy chọn một hồ sơ mẫu hoặc tải tệp lên ở trang «Dữ liệu».")
        st.page_link(PAGE_DATA, label="Mở trang Dữ liệu")
        st.stop()
    text, name = case
    return text, name, loaded_case(text, name)


def seconds_words(seconds: float) -> str:
    return f"{seconds:.1f}".replace(".", ",")


def with_progress(label: str, work: Callable[[Callable[[str], None]], Any]) -> Any:
    """``work(say)`` inside a status box that lists each step the solver reports, with the time since the
    start; the box folds up when the work is done."""
    start = time.monotonic()
    deferred: list[BaseException] = []
    with st.status(label, expanded=True) as box:
        def say(text: str) -> None:
            if deferred:
                return
            try:
                box.write(f"{seconds_words(time.monotonic() - start)} giây — {text}")
            except (Exception, KeyboardInterrupt, SystemExit):
                raise
            except BaseException as control:  # noqa: BLE001
                # Streamlit's rerun or stop (the user clicked elsewhere): the solve goes on to its end and is
                # kept, then the rerun happens (it used to run under a spinner, which never interrupted it)
                deferred.append(control)

        try:
            outcome = work(say)
        except Exception:
            box.update(label=f"{label} Không có kết quả — xem thông báo bên dưới.", state="error", expanded=False)
            raise
        if deferred:
            raise deferred[0]
        box.update(label=f"Đã giải xong trong {seconds_words(time.monotonic() - start)} giây.", state="complete",
                   expanded=False)
    return outcome


def result_of(text: str, name: str) -> SolveResult:
    """The solve of a case under the current settings; a first solve shows the solver's steps as it goes."""
    time_limit, workers = settings()
    try:
        session = SESSIONS.get((text, name, time_limit, workers))
        if session is None:
            session = with_progress(f"Đang tìm phương án thay đổi ít nhất (tối đa {time_limit:g} giây)…",
                                    lambda say: whatif_session(text, name, time_limit, workers, say))
    except Exception as exc:  # noqa: BLE001 — a solver bug must reach the user as words, not a traceback
        st.error(f"Bộ giải gặp lỗi nội bộ và không đưa ra kết quả: {exc}. Hãy gửi tệp hồ sơ cho người phát triển.")
        log_solve(text, None, time_limit, workers, name)
        st.stop()
    log_solve(text, session.result, time_limit, workers)
    return session.result


def require_result() -> tuple[str, str, LoadedCase, SolveResult]:
    text, name, loaded = require_case()
    return text, name, loaded, result_of(text, name)


def whatif_result(text: str, name: str, delta_json: str) -> tuple[LoadedCase, SolveResult, str]:
    """The solve of a what-if of the current case under the current settings (``CaseInvalid`` when the
    what-if is wrong), logged once; a what-if not solved before shows the solver's steps as it goes."""
    time_limit, workers = settings()
    delta = json.loads(delta_json)
    session = whatif_session(text, name, time_limit, workers)  # the page solved the base already
    try:
        outcome = session.answer(delta)
        if outcome is None:
            outcome = with_progress(f"Đang giải giả định (tối đa {time_limit:g} giây)…",
                                    lambda say: session.solve(delta, name, say))
    except CaseInvalid:
        raise
    except Exception as exc:  # noqa: BLE001 — a solver bug must reach the user as words, not a traceback
        st.error(f"Bộ giải gặp lỗi nội bộ và không đưa ra kết quả: {exc}. Hãy gửi tệp hồ sơ và tệp giả định "
                 "cho người phát triển.")
        log_solve(text, None, time_limit, workers, f"{name} (giả định)", delta=delta)
        st.stop()
    log_solve(text, outcome[1], time_limit, workers, delta=delta)
    return outcome


def file_stem(name: str) -> str:
    return Path(name).stem or "ho_so"


# ---- small pieces of screen ------------------------------------------------------------------------

_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>#|$~"})


def md(text: str) -> str:
    """Plain text made safe for st.markdown (no accidental emphasis, links, LaTeX or tables)."""
    return text.translate(_MD_SPECIAL)


def level_legend() -> None:
    """The colours of the levels, as a one-line legend."""
    items = [(lv, appcore.LEVEL_COLORS[lv]) for lv in (Level.XS, Level.T, Level.HT, Level.K)]
    spans = "".join(
        f'<span style="display:inline-block;margin-right:1.2em"><span style="display:inline-block;width:0.9em;'
        f'height:0.9em;background:{color};border-radius:2px;vertical-align:middle;margin-right:0.35em"></span>'
        f"{html.escape(lv.code)} — {html.escape(lv.official)}</span>" for lv, color in items)
    spans += (f'<span style="display:inline-block"><span style="display:inline-block;width:0.9em;height:0.9em;'
              f'background:{appcore.UNRATED_COLOR};border-radius:2px;vertical-align:middle;margin-right:0.35em">'
              "</span>không xếp loại</span>")
    st.markdown(f'<div style="font-size:0.9em">{spans}</div>', unsafe_allow_html=True)


def status_box(result: SolveResult) -> None:
    """The status headline in a coloured box, then its sentences."""
    view = appcore.status_view(result)
    box = {"success": st.success, "warning": st.warning, "error": st.error}[view["tone"]]
    box(view["headline"])
    st.markdown("\n".join(f"- {md(s)}" for s in view["sentences"]))


def change_block(item: dict) -> None:
    """One change: its sentence (``solver.explanations.explain.render_change``) with the name in bold, rules as a caption."""
    sentence = item["sentence"]
    head = item["name"]
    rest = sentence[len(head):] if sentence.startswith(head) else " " + sentence
    st.markdown(f"**{md(head)}**{md(rest)}")
    cites = dict.fromkeys(f"{r['rule']} — {r['citation']}" if r["citation"] else r["rule"] for r in item["reasons"])
    parts = [item["kind_label"], item["context"], f"{item['before']} → {item['after']}", "; ".join(cites)]
    st.caption(md(" · ".join(p for p in parts if p)))


def table_height(rows: int, cap: int = 420) -> int:
    """A dataframe height that fits ``rows`` rows (no empty band under a short table), at most ``cap``."""
    return min(cap, 38 + 35 * max(rows, 1) + 2)
