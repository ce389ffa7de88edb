"""What every page shares: the open case and its solve (kept on ``solver.appcore``'s shelves), the audit
log calls, the progress box, and small pieces of screen. No business logic: it lives in ``solver.appcore``.
"""

from __future__ import annotations

import html
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

from model.errors import CaseInvalid
from model.loader import LoadedCase
from solver import appcore
from solver.appcore import CaseSource, ResultView, WhatIfSession
from solver.result import SolveResult

PAGE_DATA = "app_pages/du_lieu.py"
PAGE_DECISIONS = "app_pages/viec_can_quyet_dinh.py"
PAGE_RESULTS = "app_pages/ket_qua.py"
PAGE_WHATIF = "app_pages/gia_dinh.py"

#: Session-state keys that belong to a loaded case and are dropped when another case is loaded.
CASE_KEY = "case"
PER_CASE_PREFIXES = ("wi_", "why_", "res_", "tree_", "quota_", "dec_", "log_", "lock_")
#: The fingerprint of the password this session was opened with (``solver.access``); absent: not opened.
ACCESS_KEY = "access_fingerprint"

#: The placeholders of Streamlit's selection boxes (its own are English).
CHOOSE = "Chọn (để trống: tất cả)"
CHOOSE_ONE = "Chọn…"

#: Streamlit texts that no parameter changes, drawn over in Vietnamese (or hidden) — see README.
STYLE = """<style>
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p {
  visibility: hidden; font-size: 0; }
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p::after {
  content: "Chọn tệp"; visibility: visible; font-size: 0.875rem; }
[data-testid="stFileUploaderDropzoneInstructions"] span { visibility: hidden; font-size: 0; }
[data-testid="stFileUploaderDropzoneInstructions"] span::after {
  content: "hoặc kéo thả tệp vào đây (tối đa 200 MB)"; visibility: visible; font-size: 0.875rem; }
[data-testid="stFileChipName"] + div, [data-testid="stFileUploaderFileData"] small { display: none; }
[data-testid="InputInstructions"] { display: none; }
</style>"""

DEFAULT_TIME_LIMIT = 60.0
DEFAULT_WORKERS = 2
#: Said when another run is solving or reading (the page the user just left, or another browser session).
WAITING = "Đang chờ việc đang chạy (bắt đầu từ trang trước hoặc từ một phiên khác) xong…"
#: Warnings of downloads made outside a page run (deferred files), shown on the next run of that case.
_DOWNLOAD_WARNINGS: dict[str, str] = {}
_WARN_LOCK = threading.Lock()


# ---- the open case -----------------------------------------------------------------------------------


def current_source() -> CaseSource | None:
    state = st.session_state.get(CASE_KEY)
    return CaseSource.from_state(state) if state else None


def set_case(source: CaseSource, loaded: LoadedCase | None = None) -> None:
    """Make a case the current one (kept on the shelf when given); what belonged to the previous case
    (what-if edits, filters…) is dropped."""
    for k in [k for k in st.session_state if isinstance(k, str) and k.startswith(PER_CASE_PREFIXES)]:
        del st.session_state[k]
    if loaded is not None:
        appcore.CASES.put(source.ident, loaded)
    st.session_state[CASE_KEY] = source.state()


def settings() -> tuple[float, int]:
    """The solve settings chosen in the sidebar (time limit in seconds, workers)."""
    return (float(st.session_state.get("solve_time_limit", DEFAULT_TIME_LIMIT)),
            int(st.session_state.get("solve_workers", DEFAULT_WORKERS)))


def case_of(source: CaseSource) -> LoadedCase:
    """The case of a source: from the shelf, or read again from its file with its steps on the screen."""
    loaded = appcore.CASES.get(source.ident)
    if loaded is None:
        try:
            loaded = with_progress(f"Đang đọc lại hồ sơ «{source.name}»…",
                                   lambda say: appcore.open_case(source, say, lambda: say(WAITING)), done="Đã đọc xong")
        except CaseInvalid as exc:
            st.error(md(f"Không đọc lại được hồ sơ «{source.name}» (tệp đã bị đổi hay xóa?): "
                        + "; ".join(str(p) for p in exc.problems[:5])))
            st.page_link(PAGE_DATA, label="Mở trang Dữ liệu")
            st.stop()
    return loaded


def require_case() -> tuple[CaseSource, LoadedCase]:
    """The current case, or a pointer to the data page and a stop."""
    source = current_source()
    if source is None:
        st.info("Chưa có hồ sơ nào được nạp. Hãy chọn một hồ sơ mẫu hoặc tải tệp lên ở trang «Dữ liệu».")
        st.page_link(PAGE_DATA, label="Mở trang Dữ liệu")
        st.stop()
    return source, case_of(source)


def session_of(source: CaseSource, loaded: LoadedCase) -> WhatIfSession:
    """The solve of the case under the current settings (kept for every page and session); a first solve
    shows the solver's steps as it goes; logged once per case version."""
    time_limit, workers = settings()
    key = (source.ident, time_limit, workers)
    try:
        session = appcore.SESSIONS.get(key)
        if session is None:
            def make(say: Callable[[str], None]) -> WhatIfSession:
                made = WhatIfSession(loaded, None, time_limit, workers, say)
                say("Đang dựng các bảng tra cứu (tìm kiếm theo tên, chi bộ, tổ chức)…")
                view_of(made)
                return made

            session = with_progress(
                f"Đang tìm phương án thay đổi ít nhất (tối đa {time_limit:g} giây)…",
                lambda say: appcore.SESSIONS.get_or_solve(key, lambda: make(say), lambda: say(WAITING)))
    except Exception as exc:  # noqa: BLE001 — a solver bug must reach the user as words, not a traceback
        st.error(f"Bộ giải gặp lỗi nội bộ và không đưa ra kết quả: {exc}. Hãy gửi tệp hồ sơ cho người phát triển.")
        log_solve(source, None, time_limit, workers, source.name)
        st.stop()
    log_solve(source, session.result, time_limit, workers)
    return session


def require_result() -> tuple[CaseSource, LoadedCase, WhatIfSession, SolveResult]:
    source, loaded = require_case()
    session = session_of(source, loaded)
    return source, loaded, session, session.result


def view_of(session: WhatIfSession) -> ResultView:
    """The base result as the tables show it (built once per solve)."""
    return session.derived("view", lambda: ResultView(session.loaded, session.result))


def whatif_result(source: CaseSource, session: WhatIfSession, delta: dict) -> tuple[LoadedCase, SolveResult, str]:
    """The solve of a what-if of the current case (``CaseInvalid`` when the what-if is wrong), logged once;
    a what-if solved in full shows the solver's steps as it goes."""
    time_limit, workers = settings()
    try:
        outcome = session.answer(delta)
        if outcome is None:
            outcome = with_progress(f"Đang giải giả định (tối đa {time_limit:g} giây)…",
                                    lambda say: session.solve(delta, source.name, say))
    except CaseInvalid:
        raise
    except Exception as exc:  # noqa: BLE001 — a solver bug must reach the user as words, not a traceback
        st.error(f"Bộ giải gặp lỗi nội bộ và không đưa ra kết quả: {exc}. Hãy gửi tệp hồ sơ và tệp giả định "
                 "cho người phát triển.")
        log_solve(source, None, time_limit, workers, f"{source.name} (giả định)", delta=delta)
        st.stop()
    log_solve(source, outcome[1], time_limit, workers, delta=delta)
    return outcome


# ---- the audit log -----------------------------------------------------------------------------------


def case_identity(source: CaseSource, delta: dict | None = None) -> tuple[str, str]:
    """(key, version) of a case in the audit log; a what-if of it is another version of the same case."""
    if delta is not None:
        return source.key, appcore.whatif_version(source.digest, delta)
    return source.key, source.digest


def log_solve(source: CaseSource, result: SolveResult | None, time_limit: float, workers: int, name: str = "",
              delta: dict | None = None) -> None:
    """Record a solve shown (once per case version and result, whoever shows it); a what-if's is recorded
    by the audit worker, the page not waiting for its result to be hashed."""
    if delta is not None:
        appcore.log_app_solve_later(*case_identity(source, delta), result, time_limit, workers,
                                    case_name=name or None)
        return
    late = appcore.late_warnings()
    warning = appcore.log_app_solve(*case_identity(source), result, time_limit, workers, case_name=name or None)
    for text in [*late, warning]:
        if text:
            st.warning(text)


def log_locks(source: CaseSource, delta: dict, notes: dict) -> None:
    """Record the committee decisions of a what-if being solved (each distinct decision once)."""
    _, warning = appcore.log_app_locks(*case_identity(source), delta, notes)
    if warning:
        st.warning(warning)


def show_download_warnings(source: CaseSource) -> None:
    with _WARN_LOCK:
        warning = _DOWNLOAD_WARNINGS.pop(source.ident, None)
    if warning:
        st.warning(warning)


def deferred_file(source: CaseSource | None, kind: str, file_name: str, make: Callable[[], bytes | str]
                  ) -> Callable[[], bytes]:
    """A download made when it is asked for (not when the page is drawn), and recorded in the audit log of
    ``source`` (None: no case, nothing to record) with the SHA-256 of the very bytes given. Runs outside
    the page's run: no Streamlit call inside."""
    folder = appcore.case_folder()

    def build() -> bytes:
        data = make()
        content = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        if source is None:
            return content
        warning = appcore.log_app_export(*case_identity(source), kind, file_name, content, folder=folder)
        if warning:
            with _WARN_LOCK:
                _DOWNLOAD_WARNINGS[source.ident] = warning
        return content

    return build


def download(label: str, source: CaseSource | None, kind: str, file_name: str, make: Callable[[], bytes | str],
             mime: str, key: str, **kwargs: Any) -> None:
    """A download button whose file is built on demand (the page never waits for it)."""
    st.download_button(label, deferred_file(source, kind, file_name, make), file_name=file_name, mime=mime,
                       key=key, on_click="ignore", **kwargs)


# ---- progress ------------------------------------------------------------------------------------------


def with_progress(label: str, work: Callable[[Callable[[str], None]], Any], done: str = "Đã giải xong") -> Any:
    """``work(say)`` inside a status box that lists each step it reports, with the time since the start;
    the box folds up when the work is done. A rerun asked meanwhile (the user clicked elsewhere) lets the
    work finish — what it makes is kept on a shelf — and happens after."""
    start = time.monotonic()
    deferred: list[BaseException] = []
    with st.status(label, expanded=True) as box:
        def say(text: str) -> None:
            if deferred:
                return
            try:
                box.write(f"{appcore.seconds(time.monotonic() - start)} giây — {text}")
            except (Exception, KeyboardInterrupt, SystemExit):
                raise
            except BaseException as control:  # noqa: BLE001 — Streamlit's rerun or stop
                deferred.append(control)

        try:
            outcome = work(say)
        except Exception:
            box.update(label=f"{label} Không có kết quả — xem thông báo bên dưới.", state="error", expanded=False)
            raise
        if deferred:
            raise deferred[0]
        box.update(label=f"{done} trong {appcore.seconds(time.monotonic() - start)} giây.", state="complete",
                   expanded=False)
    return outcome


# ---- small pieces of screen ----------------------------------------------------------------------------

_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>#|$~"})


def md(text: str) -> str:
    """Plain text made safe for st.markdown (no accidental emphasis, links, LaTeX or tables)."""
    return text.translate(_MD_SPECIAL)


def file_stem(name: str) -> str:
    return Path(name).stem or "ho_so"


def level_legend() -> None:
    """The colours of the levels, as a one-line legend."""
    items = [(lv, appcore.LEVEL_COLORS[lv]) for lv in appcore.LEVEL_ORDER]
    spans = "".join(_swatch(color, f"{lv.code} — {lv.official}") for lv, color in items)
    st.markdown(f'<div style="font-size:0.9em">{spans}</div>', unsafe_allow_html=True)


def change_legend() -> None:
    """The colours of a change (the tree's default colouring)."""
    c = appcore.CHANGE_COLORS
    spans = (_swatch(c["down"], "▼ bị hạ mức") + _swatch(c["up"], "▲ được nâng mức")
             + _swatch(c["same"], "giữ nguyên") + _swatch(c["unrated"], "không xếp loại, đơn vị"))
    st.markdown(f'<div style="font-size:0.9em">{spans}</div>', unsafe_allow_html=True)


def _swatch(color: str, text: str) -> str:
    return (f'<span style="display:inline-block;margin-right:1.2em"><span style="display:inline-block;width:0.9em;'
            f'height:0.9em;background:{color};border-radius:2px;vertical-align:middle;margin-right:0.35em"></span>'
            f"{html.escape(text)}</span>")


def status_box(result: SolveResult) -> None:
    """The status headline in a coloured box, then its sentences."""
    view = appcore.status_view(result)
    box = {"success": st.success, "warning": st.warning, "error": st.error}[view["tone"]]
    box(view["headline"])
    st.markdown("\n".join(f"- {md(s)}" for s in view["sentences"]))


def change_block(item: dict) -> None:
    """One change: its sentence with the name in bold, the rules (titles and clauses) as a caption."""
    sentence = appcore.clauses_only(item["sentence"])
    head = item["name"]
    rest = sentence[len(head):] if sentence.startswith(head) else " " + sentence
    st.markdown(f"**{md(head)}**{md(rest)}")
    cites = dict.fromkeys(f"{r['title']} ({r['citation']})" if r["citation"] else r["title"] for r in item["reasons"])
    parts = [item["kind_label"], item["context"], f"{item['before']} → {item['after']}", "; ".join(cites)]
    if item.get("locked"):
        parts.append(appcore.LOCKED)
    st.caption(md(" · ".join(p for p in parts if p)))


#: Column widths (pixels) that keep a table of subjects inside a 1366-pixel screen with the sidebar open.
WIDTHS = {"Tên": 180, "Đơn vị": 180, "Mục tiêu → Kết quả": 125, "Phiếu": 105, "Lý do": 225, "Mã": 75,
          "Gốc → Giả định": 110, "Lý do trong giả định": 250, "Khóa": 200, "Nhóm": 200, "Thứ tự": 55,
          "Kết quả theo tỷ lệ": 250, "Đang xem": 70}


def table(rows: list[dict], key: str, height: int | None = None, widths: dict | None = None) -> None:
    """A read-only table of text cells with fixed column widths (no horizontal scroll at 1366 pixels)."""
    if not rows:
        return
    widths = {**WIDTHS, **(widths or {})}
    config = {c: st.column_config.TextColumn(c, width=widths[c]) for c in rows[0] if c in widths}
    st.dataframe(rows, hide_index=True, width="stretch", key=key, column_config=config,
                 height=height or table_height(len(rows)))


def table_height(rows: int, cap: int = 420) -> int:
    """A dataframe height that fits ``rows`` rows (no empty band under a short table), at most ``cap``."""
    return min(cap, 38 + 35 * max(rows, 1) + 2)


def pager(total: int, key: str, per_page: int = appcore.PAGE_SIZE, container=None) -> int:
    """A page number input for ``total`` rows (1-based), kept in range when the rows change."""
    pages = max(1, -(-total // per_page))
    if not 1 <= st.session_state.get(key, 1) <= pages:
        st.session_state[key] = 1
    if pages == 1:
        return 1
    place = container or st
    return int(place.number_input(f"Trang (trên {appcore.num(pages)})", min_value=1, max_value=pages, step=1,
                                  key=key))


def json_dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True)



# ---- the committee's decisions (the page «Việc cần quyết định», and a what-if's own) -------------------


def decisions_view(loaded: LoadedCase, result: SolveResult, prefix: str, session: WhatIfSession | None = None,
                   groups: list[dict] | None = None) -> None:
    """Every decision of ``result`` by kind, a page of them at a time, each with its subjects, the cause
    chain of a conflict, and the button that opens the what-if editor with a lock of its subjects."""
    places = session.derived("places", lambda: appcore.Places(loaded)) if session else appcore.Places(loaded)
    for g in groups if groups is not None else appcore.decision_groups(result):
        st.subheader(f"{g['heading']} ({appcore.num(g['count'])})")
        if g["asked"]:
            st.caption(g["asked"])
        items = g["items"]
        page = pager(len(items), f"{prefix}_page_{g['kind']}", per_page=appcore.PER_PAGE)
        first = (page - 1) * appcore.PER_PAGE
        for i, d in enumerate(items[first:first + appcore.PER_PAGE], start=first):
            with st.container(border=True):
                st.markdown(f"**{md(d.title)}** — {md(appcore.clauses_only(d.text))}")
                extra = appcore.decision_numbers(d)
                if extra:
                    st.caption(md(extra))
                rows = appcore.decision_subject_rows(loaded, result, d, places)
                if rows:
                    table(rows, key=f"{prefix}_table_{g['kind']}_{i}")
                if d.kind == "conflict" and result.conflicts:
                    with st.expander("Sơ đồ nguyên nhân của mâu thuẫn"):
                        chain = appcore.conflict_chain(loaded, result)
                        if chain["dot"]:
                            st.graphviz_chart(chain["dot"])
                request = appcore.lock_request(loaded, result, d)
                if request["items"] and st.button("Khóa theo ý kiến Ban Thường vụ", key=f"{prefix}_lock_{g['kind']}_{i}",
                                                  help="Mở trang «Giả định» với khóa mức của các đối tượng này; ghi "
                                                       "lý do và người quyết định ở đó."):
                    st.session_state["wi_request"] = request
                    st.switch_page(PAGE_WHATIF)
