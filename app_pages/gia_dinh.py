"""Page «Giả định»: the what-if's result at the top, saved what-ifs side by side, the case's sample what-ifs;
then the editor: committee locks (with reason and author), rule options, votes and facts."""

import json

import pandas as pd
import streamlit as st

from app_pages import shared
from model.catalogue import load_catalogue
from model.errors import CaseInvalid
from model.levels import Level
from solver import appcore

LEVEL_CODES = [lv.code for lv in appcore.LEVEL_ORDER]
UNLOCK = "bỏ khóa"
KEEP = ("wi_delta", "wi_solved", "wi_saved", "wi_request", "wi_upload_seen")
MAX_SAVED = 6

st.title("Giả định")
source, loaded, session, result = shared.require_result()
subjects = loaded.hierarchy.subjects
catalogue = load_catalogue()
state = st.session_state
if "wi_delta" not in state:
    state["wi_delta"] = appcore.empty_delta("", source.name)
delta = state["wi_delta"]
#: id → the reason and author of its lock or lift in this what-if (kept beside the delta, not in it)
notes = state.setdefault("lock_notes", {})


def keep(new: tuple[dict, dict]) -> None:
    state["wi_delta"], state["lock_notes"] = new


def clear_widgets() -> None:
    """Forget the page's widget values, so that they are read again from the delta."""
    for key in [k for k in state if isinstance(k, str) and k.startswith("wi_") and k not in KEEP]:
        del state[key]


def reset() -> None:
    keep((appcore.empty_delta("", source.name), {}))
    state.pop("wi_solved", None)
    clear_widgets()


def refused(where: str, action) -> None:
    """Run an edit; a lock without reason or author is refused with its message kept for the screen."""
    try:
        keep(action())
    except appcore.LockRefused as exc:
        state[where] = str(exc)
        return
    state.pop(where, None)


def add_lock() -> None:
    sid, level = state.get("wi_lock_subject"), state.get("wi_lock_level")
    if sid and level:
        refused("wi_lock_error", lambda: appcore.with_lock(loaded, state["wi_delta"], state["lock_notes"], sid, level,
                                                           state.get("wi_lock_reason"), state.get("wi_lock_author")))
        if "wi_lock_error" not in state:
            state["wi_lock_reason"] = ""


def add_unlock() -> None:
    sid = state.get("wi_unlock_subject")
    if sid:
        refused("wi_unlock_error", lambda: appcore.with_lock(loaded, state["wi_delta"], state["lock_notes"], sid, None,
                                                             state.get("wi_unlock_reason"),
                                                             state.get("wi_unlock_author")))
        if "wi_unlock_error" not in state:
            state["wi_unlock_reason"] = ""


def take_back(sid: str) -> None:
    keep(appcore.without_decision(state["wi_delta"], state["lock_notes"], sid))


def note_missing(sid: str, level: str | None) -> None:
    """A lock read from a file without its reason and author: noted now."""
    refused(f"wi_note_error_{sid}", lambda: appcore.with_lock(loaded, state["wi_delta"], state["lock_notes"], sid,
                                                              level, state.get(f"wi_note_reason_{sid}"),
                                                              state.get(f"wi_note_author_{sid}")))


def apply_request() -> None:
    """The locks a decision asked for, with the levels chosen, one reason and one author."""
    request = state.get("wi_request") or {}
    levels = {}
    for item in request.get("items", []):
        chosen = state.get(f"wi_req_level_{item['id']}", item["level"])
        levels[item["id"]] = None if chosen == UNLOCK else chosen
    refused("wi_req_error", lambda: appcore.with_request(loaded, state["wi_delta"], state["lock_notes"], levels,
                                                         state.get("wi_req_reason"), state.get("wi_req_author")))
    if "wi_req_error" not in state:
        state.pop("wi_request", None)


def profile_changed() -> None:
    state["wi_delta"]["options"] = {}
    for spec in catalogue.params:
        state.pop(f"wi_opt_{spec.name}", None)


def open_whatif(data: dict, name: str) -> None:
    """A what-if file (uploaded, or a sample of the case) becomes the one edited; its locks without reason
    and author are asked for below instead of being refused."""
    try:
        keep(appcore.whatif_from_data(loaded, data, name, source.name))
    except CaseInvalid as exc:
        state["wi_upload_error"] = [str(p) for p in exc.problems]
        return
    state.pop("wi_upload_error", None)
    state.pop("wi_solved", None)
    clear_widgets()


def load_whatif_file() -> None:
    upload = state.get("wi_upload")
    if upload is None:
        return
    try:
        data = json.loads(upload.getvalue().decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        state["wi_upload_error"] = [f"{upload.name}: tệp không phải JSON hợp lệ (UTF-8)"]
        return
    open_whatif(data, upload.name)


def open_sample() -> None:
    sample = samples.get(state.get("wi_sample"))
    if sample is not None and sample["delta"] is not None:
        keep((dict(sample["delta"], base=source.name), dict(sample["notes"])))
        state.pop("wi_upload_error", None)
        state.pop("wi_solved", None)
        clear_widgets()


def solve_clicked() -> None:
    state["wi_solved"] = shared.json_dumps(state["wi_delta"])
    state["wi_log_locks"] = True


def save_clicked() -> None:
    saved = state.setdefault("wi_saved", [])
    entry = {"question": state["wi_delta"].get("whatif") or "Giả định", "delta": state["wi_solved"]}
    if all(s["delta"] != entry["delta"] for s in saved):
        saved.append(entry)
        del saved[:-MAX_SAVED]


def unsave(i: int) -> None:
    state["wi_saved"].pop(i)


st.write("Một giả định là một thay đổi nhỏ đặt lên hồ sơ gốc (không sửa hồ sơ gốc). Mọi điều nhập ở đây được giữ lại "
         "khi chuyển trang; bấm «Giải với giả định» (cuối trang) để xem phương án mới khác phương án gốc ở đâu.")

# ---- a lock asked from «Việc cần quyết định» ---------------------------------------------------------------
request = state.get("wi_request")
if request:
    with st.container(border=True):
        st.markdown(f"**Khóa theo ý kiến Ban Thường vụ — {shared.md(request['title'])}**")
        st.caption(shared.md(appcore.clauses_only(request["text"])))
        for item in request["items"]:
            options = LEVEL_CODES + ([UNLOCK] if item["locked"] else [])
            st.selectbox(f"{item['name']} ({item['id']})" + (f" — đang khóa {item['locked']}" if item["locked"] else ""),
                         options, index=options.index(item["level"]) if item["level"] in options else 0,
                         key=f"wi_req_level_{item['id']}",
                         format_func=lambda c: "Bỏ khóa (để xeploai xếp theo quy định)" if c == UNLOCK else
                         f"Khóa ở mức {Level[c].official}")
        q1, q2 = st.columns([3, 2])
        q1.text_input(appcore.REASON_LABEL, key="wi_req_reason", max_chars=appcore.MAX_REASON,
                      placeholder="VD: Hội nghị Ban Thường vụ ngày … quyết định")
        q2.text_input(appcore.AUTHOR_LABEL, key="wi_req_author", max_chars=appcore.MAX_AUTHOR,
                      placeholder="VD: Ban Thường vụ, btc-01",
                      help="Chức danh hoặc mã tài khoản; không ghi họ tên: nhật ký chỉ lưu mã.")
        b1, b2, _ = st.columns([2, 1, 2])
        b1.button("Ghi vào giả định", key="wi_req_apply", type="primary", on_click=apply_request)
        b2.button("Bỏ qua", key="wi_req_cancel", on_click=lambda: state.pop("wi_request", None))
        if state.get("wi_req_error"):
            st.error(state["wi_req_error"])

# ---- the result of the what-if, at the top -----------------------------------------------------------------
solved = state.get("wi_solved")
if solved:
    snapshot = json.loads(solved)
    st.subheader("Kết quả giả định so với phương án gốc")
    if state.pop("wi_log_locks", False):
        shared.log_locks(source, snapshot, state["lock_notes"])
    if snapshot != json.loads(shared.json_dumps(delta)):
        st.info("Giả định đã được sửa sau lần giải này: bấm «Giải với giả định» để cập nhật kết quả dưới đây.")
    try:
        what_loaded, what_result, mode = shared.whatif_result(source, session, snapshot)
    except CaseInvalid as exc:
        st.error("Giả định làm hồ sơ không hợp lệ:")
        st.markdown("\n".join(f"- {shared.md(str(p))}" for p in exc.problems))
    else:
        diff = session.derived(f"diff:{solved}", lambda: appcore.difference_rows(loaded, result, what_loaded,
                                                                                 what_result))
        shared.status_box(what_result)
        st.caption(appcore.whatif_mode_words(mode, what_result))
        d1, d2, d3 = st.columns(3)
        d1.metric("Thay đổi so với mục tiêu — gốc", appcore.num(result.changed))
        d2.metric("Thay đổi so với mục tiêu — giả định", appcore.num(what_result.changed),
                  delta=None if what_result.changed is None or result.changed is None
                  else what_result.changed - result.changed, delta_color="inverse")
        d3.metric("Số đối tượng xếp khác phương án gốc", appcore.num(len(diff["moves"])) if diff["comparable"] else "—")
        if diff["options_changed"]:
            st.dataframe(diff["options_changed"], hide_index=True, width="stretch", key="wi_options_changed")
        if what_result.decisions:
            with st.expander(f"Việc cần quyết định trong giả định ({appcore.num(len(what_result.decisions))})",
                             expanded=what_result.status == "conflict"):
                shared.decisions_view(what_loaded, what_result, "wi_dec")
        if diff["moves"]:
            st.markdown("**Những đối tượng xếp loại khác phương án gốc**")
            shared.table(diff["moves"][:1000], key="wi_moves")
        elif diff["comparable"]:
            st.write("Không đối tượng nào xếp loại khác phương án gốc.")
        elif what_result.levels and what_result.changes:  # the base has no result (a conflict): the what-if's own
            st.markdown(f"**Các thay đổi so với mức mục tiêu trong giả định** ({appcore.num(len(what_result.changes))}"
                        "; phương án gốc chưa có kết quả để so sánh)")
            what_view = appcore.ResultView(what_loaded, what_result)
            shared.table(what_view.rows([c.id for c in what_result.changes[:1000]]), key="wi_changes")
        if diff["quota"]:
            st.markdown("**Nhóm tỷ lệ có số liệu khác**")
            shared.table(diff["quota"][:500], key="wi_quota", widths={"Nhóm tỷ lệ": 400, "Gốc": 260, "Giả định": 260})
        st.button("Lưu giả định này để so sánh", key="wi_save", on_click=save_clicked,
                  help=f"Giữ tối đa {MAX_SAVED} giả định; bảng so sánh đặt chúng cạnh nhau.")

# ---- saved what-ifs, side by side ---------------------------------------------------------------------------
saved = state.get("wi_saved") or []
if saved:
    st.subheader(f"So sánh các giả định đã lưu ({appcore.num(len(saved))})")
    titles = appcore.short_titles([s["question"] for s in saved])
    answers = []
    for title, s in zip(titles, saved):
        try:
            what_loaded, what_result, _ = shared.whatif_result(source, session, json.loads(s["delta"]))
        except CaseInvalid:
            continue
        answers.append((title, what_loaded, what_result))
    table = appcore.side_by_side(loaded, result, answers)
    st.dataframe(table["summary"], hide_index=True, width="stretch", key="wi_compare_summary")
    if table["rows"]:
        st.caption(f"{appcore.num(table['total'])} đối tượng được xếp khác phương án gốc trong ít nhất một giả định"
                   + (f" (hiện {appcore.num(len(table['rows']))} đầu tiên)" if table["total"] > len(table["rows"]) else ""))
        st.dataframe(table["rows"], hide_index=True, width="stretch", key="wi_compare_rows",
                     height=shared.table_height(len(table["rows"])))
    for i, title in enumerate(titles):
        st.button(f"Bỏ «{title}» khỏi so sánh", key=f"wi_unsave_{i}", on_click=unsave, args=(i,))

# ---- sample what-ifs of the case ------------------------------------------------------------------------------
samples = {s["file"]: s for s in session.derived("samples", lambda: appcore.sample_whatifs(
    source.path, [appcore.case_folder()]))}
usable = [f for f, s in samples.items() if s["delta"] is not None]
if usable:
    st.subheader("Giả định mẫu của hồ sơ")
    m1, m2 = st.columns([4, 1], vertical_alignment="bottom")
    m1.selectbox("Câu hỏi", usable, key="wi_sample", format_func=lambda f: samples[f]["question"])
    m2.button("Mở giả định này", key="wi_sample_open", on_click=open_sample)
    left_out = [s for s in samples.values() if s["delta"] is None]
    if left_out:
        st.caption(f"{appcore.num(len(left_out))} giả định mẫu xếp loại lại từ kết quả đã công bố: giao diện chưa giải "
                   "loại giả định này.")

# ---- the editor -------------------------------------------------------------------------------------------
st.divider()
st.subheader("Soạn giả định")
if "wi_question" not in state:
    state["wi_question"] = delta["whatif"]
delta["whatif"] = st.text_input("Câu hỏi giả định", key="wi_question",
                                placeholder="Ví dụ: Nếu giữ Chi bộ Khối phố 1 ở mức Hoàn thành tốt nhiệm vụ thì sao?")

st.markdown("**Khóa mức**")
st.caption(f"Mỗi quyết định khóa hay bỏ khóa mức phải ghi «{appcore.REASON_LABEL}» và «{appcore.AUTHOR_LABEL}» (chức "
           "danh hoặc mã tài khoản, không ghi họ tên). Khi bấm «Giải với giả định», các quyết định được ghi vào nhật "
           "ký kiểm tra của hồ sơ.")
c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
lock_query = c1.text_input("Tìm đối tượng (tên, mã, chi bộ)", key="wi_lock_query")
choices = appcore.subject_choices(loaded, result, lock_query, view=shared.view_of(session))
c1.selectbox("Đối tượng", choices, key="wi_lock_subject", placeholder=shared.CHOOSE_ONE,
             format_func=lambda sid: appcore.subject_label(loaded, result, sid))
c2.selectbox("Khóa ở mức", LEVEL_CODES, key="wi_lock_level", format_func=lambda c: Level[c].official)
r1, r2, r3 = st.columns([3, 2, 1], vertical_alignment="bottom")
r1.text_input(appcore.REASON_LABEL, key="wi_lock_reason", max_chars=appcore.MAX_REASON,
              placeholder="VD: Ban Thường vụ giữ mức vì thành tích đột xuất trong năm")
r2.text_input(appcore.AUTHOR_LABEL, key="wi_lock_author", max_chars=appcore.MAX_AUTHOR,
              placeholder="VD: Ban Thường vụ, btc-01",
              help="Chức danh hoặc mã tài khoản của người (cơ quan) quyết định; không ghi họ tên: nhật ký chỉ lưu mã.")
r3.button("Khóa mức", key="wi_lock_add", on_click=add_lock, disabled=not choices)
if state.get("wi_lock_error"):
    st.error(state["wi_lock_error"])

missing = dict(appcore.missing_notes(delta, notes))
for sid, code in appcore.decisions(delta):
    what = f"Khóa **{shared.md(subjects[sid].name)}** ({shared.md(sid)}) ở mức {Level[code].official}" if code else \
        f"Bỏ khóa **{shared.md(subjects[sid].name)}** ({shared.md(sid)})"
    note = notes.get(sid)
    if sid in missing:
        with st.container(border=True):
            st.markdown(what + " — **chưa ghi lý do và người quyết định**: hãy ghi để giải được.")
            n1, n2, n3, n4 = st.columns([3, 2, 1, 1], vertical_alignment="bottom")
            n1.text_input(appcore.REASON_LABEL, key=f"wi_note_reason_{sid}", max_chars=appcore.MAX_REASON)
            n2.text_input(appcore.AUTHOR_LABEL, key=f"wi_note_author_{sid}", max_chars=appcore.MAX_AUTHOR)
            n3.button("Ghi", key=f"wi_note_add_{sid}", on_click=note_missing, args=(sid, code), type="primary")
            n4.button("Bỏ", key=f"wi_lock_remove_{sid}", on_click=take_back, args=(sid,))
            if state.get(f"wi_note_error_{sid}"):
                st.error(state[f"wi_note_error_{sid}"])
    else:
        l1, l2 = st.columns([5, 1], vertical_alignment="center")
        l1.markdown(what + shared.md(f" — lý do: {note['reason']}; người quyết định: {note['author']}"))
        l2.button("Bỏ", key=f"wi_lock_remove_{sid}", on_click=take_back, args=(sid,))

base_locks = [s for s in loaded.case.subjects if s.lock is not None]
if base_locks:
    with st.expander(f"Mức đã khóa trong hồ sơ gốc ({appcore.num(len(base_locks))}): bỏ khóa trong giả định"):
        locked = {s.id: s for s in base_locks}
        u1, u2 = st.columns([3, 2], vertical_alignment="bottom")
        unlock_query = u1.text_input("Tìm (tên hoặc mã)", key="wi_unlock_query")
        unlock_choices = appcore.locked_choices(loaded, unlock_query, exclude=delta["unlock"])
        u2.selectbox("Mức đang khóa", unlock_choices, key="wi_unlock_subject", placeholder=shared.CHOOSE_ONE,
                     format_func=lambda sid: f"{locked[sid].name} ({sid}) — {appcore.LOCKED} {locked[sid].lock.code}")
        v1, v2, v3 = st.columns([3, 2, 1], vertical_alignment="bottom")
        v1.text_input(appcore.REASON_LABEL, key="wi_unlock_reason", max_chars=appcore.MAX_REASON,
                      placeholder="VD: Hội nghị Ban Thường vụ xem xét lại")
        v2.text_input(appcore.AUTHOR_LABEL, key="wi_unlock_author", max_chars=appcore.MAX_AUTHOR,
                      placeholder="VD: Ban Thường vụ, btc-01")
        v3.button("Bỏ khóa", key="wi_unlock_add", on_click=add_unlock, disabled=not unlock_choices)
        if state.get("wi_unlock_error"):
            st.error(state["wi_unlock_error"])

# ---- options ---------------------------------------------------------------------------------------------
st.markdown("**Bộ quy định và tùy chọn**")
base_profile = loaded.case.profile or catalogue.default_profile.id
if "wi_profile" not in state:
    state["wi_profile"] = delta["profile"] or base_profile
profile = st.selectbox("Bộ quy định", list(catalogue.profile_ids), key="wi_profile", on_change=profile_changed,
                       format_func=appcore.profile_title)
delta["profile"] = profile if profile != base_profile else None
values = appcore.option_values(loaded, delta)
chosen = {}
o1, o2 = st.columns(2)
for i, spec in enumerate(catalogue.params):
    key = f"wi_opt_{spec.name}"
    if key not in state:
        state[key] = values[spec.name]
    box = o1 if i % 2 == 0 else o2
    help_text = appcore.plain_text(spec.help)
    if spec.type == "bool":
        chosen[spec.name] = box.toggle(spec.title, key=key, help=help_text)
    elif spec.type == "int":
        chosen[spec.name] = int(box.number_input(spec.title, min_value=spec.minimum, max_value=spec.maximum, step=1,
                                                 key=key, help=help_text))
    else:
        chosen[spec.name] = box.selectbox(spec.title, list(spec.choices), key=key, help=help_text,
                                          format_func=lambda c, n=spec.name: appcore.enum_label(n, c))
delta["options"] = appcore.options_delta(loaded, delta["profile"], chosen)

# ---- votes and facts ---------------------------------------------------------------------------------------
st.markdown("**Phiếu biểu quyết và dữ kiện**")
scopes = dict(appcore.editor_scopes(loaded))
e1, e2, e3 = st.columns([3, 2, 2])
scope = e1.selectbox("Phạm vi", list(scopes), key="wi_scope", format_func=scopes.get)
edit_query = e2.text_input("Hoặc tìm trong cả hồ sơ (tên, mã, chi bộ)", key="wi_edit_query")
part = e3.radio("Sửa", ["votes", "facts"], key="wi_edit_part", horizontal=True,
                format_func={"votes": "Phiếu biểu quyết", "facts": "Dữ kiện"}.get)
ids = appcore.scope_ids(loaded, scope, edit_query)
columns = ["name", "unit", "target", *(appcore.VOTE_KEYS if part == "votes" else appcore.EDITABLE_FACTS),
           *(["voters"] if part == "votes" else []), "id"]
frame = pd.DataFrame(appcore.editor_rows(loaded, ids, delta), columns=columns)
narrow = part == "facts"
config = {"id": st.column_config.TextColumn("Mã", width=70),
          "name": st.column_config.TextColumn("Tên", width=160 if narrow else 180),
          "unit": st.column_config.TextColumn("Đơn vị", width=120 if narrow else 170),
          "target": st.column_config.TextColumn("Mục tiêu", width=60),
          "voters": st.column_config.TextColumn("Số người biểu quyết", width=90),
          **{k: st.column_config.NumberColumn(f"Phiếu {k}", min_value=0, step=1, format="%d", width=80)
             for k in appcore.VOTE_KEYS},
          **{k: st.column_config.CheckboxColumn(appcore.EDITABLE_FACTS[k], width=80)
             for k in ("disciplined", "self_remedied", "degeneration", "targets_below_half")},
          "sick_leave_months": st.column_config.NumberColumn(appcore.EDITABLE_FACTS["sick_leave_months"], min_value=0.0,
                                                             max_value=12.0, step=0.5, format="localized", width=80),
          "civil_servant_level": st.column_config.SelectboxColumn(appcore.EDITABLE_FACTS["civil_servant_level"],
                                                                  options=LEVEL_CODES, width=80)}
edited = st.data_editor(frame, key=f"wi_editor::{part}::{scope}::{edit_query}", hide_index=True, num_rows="fixed",
                        width="stretch", disabled=["id", "name", "unit", "target", "voters"],
                        column_config={c: config[c] for c in columns})
folded = appcore.harvest_edits(loaded, edited.to_dict("records"), delta)
delta["votes"], delta["facts"] = folded["votes"], folded["facts"]
st.caption(f"{appcore.num(len(ids))} đối tượng trong bảng. Đã sửa phiếu của {appcore.num(len(delta['votes']))} và dữ "
           f"kiện của {appcore.num(len(delta['facts']))} đối tượng trong toàn hồ sơ.")

# ---- solve, save, open --------------------------------------------------------------------------------------
st.divider()
for warning in appcore.delta_warnings(loaded, delta):
    st.warning(warning)
missing = appcore.missing_notes(delta, notes)
if missing:
    st.warning(shared.md("Chưa giải được: quyết định khóa hay bỏ khóa của " + ", ".join(sid for sid, _ in missing)
                         + f" chưa ghi «{appcore.REASON_LABEL}» và «{appcore.AUTHOR_LABEL}» (ô ghi ở mục «Khóa mức» "
                           "phía trên)."))
shared.show_download_warnings(source)
b1, b2, b3, _ = st.columns([1, 1, 1, 2])
b1.button("Giải với giả định", key="wi_solve", type="primary", on_click=solve_clicked,
          disabled=not appcore.delta_changes_something(delta) or bool(missing))
whatif_file = appcore.whatif_text(delta, notes)
whatif_name = f"{shared.file_stem(source.name)}_gia_dinh.json"
with b2:
    shared.download("Tải tệp giả định (.json)", source, "whatif", whatif_name, lambda: whatif_file,
                    "application/json", key="wi_download")
b3.button("Xóa mọi giả định", key="wi_reset", on_click=reset)
with st.expander("Mở tệp giả định đã lưu"):
    st.file_uploader("Tệp giả định (.json)", type=["json"], key="wi_upload", on_change=load_whatif_file)
    for line in state.get("wi_upload_error", []):
        st.error(line)
