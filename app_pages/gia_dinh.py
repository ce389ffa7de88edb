"""Page «Giả định»: lock a level, change rule options, edit votes and facts; re-solve and compare with the base."""

import json

import pandas as pd
import streamlit as st

from app_pages import shared
from model.catalogue import load_catalogue
from model.errors import CaseInvalid
from model.levels import Level
from solver import appcore
from solver.reports.word import option_words

LEVEL_CODES = ["XS", "T", "HT", "K"]

st.title("Giả định")
text, name, loaded, result = shared.require_result()
subjects = loaded.hierarchy.subjects
catalogue = load_catalogue()
state = st.session_state
if "wi_delta" not in state:
    state["wi_delta"] = appcore.empty_delta("", name)
delta = state["wi_delta"]
#: id → the reason and author of its lock or lift in this what-if (kept beside the delta, not in it)
notes = state.setdefault("lock_notes", {})


def clear_widgets() -> None:
    """Forget the page's widget values, so that they are read again from the delta."""
    for key in [k for k in state if isinstance(k, str) and k.startswith("wi_")
                and k not in ("wi_delta", "wi_solved", "wi_upload_seen")]:
        del state[key]


def reset() -> None:
    state["wi_delta"] = appcore.empty_delta("", name)
    state["lock_notes"] = {}
    state.pop("wi_solved", None)
    clear_widgets()


def add_lock() -> None:
    """Lock a level: refused (with the message kept for the screen) without a reason and an author."""
    sid, level = state.get("wi_lock_subject"), state.get("wi_lock_level")
    if not (sid and level):
        return
    try:
        note = appcore.lock_note(loaded, sid, level, state.get("wi_lock_reason"), state.get("wi_lock_author"))
    except appcore.LockRefused as exc:
        state["wi_lock_error"] = str(exc)
        return
    state.pop("wi_lock_error", None)
    state["wi_delta"]["lock"][sid] = level
    if sid in state["wi_delta"]["unlock"]:  # a new level replaces lifting the base lock
        state["wi_delta"]["unlock"].remove(sid)
    state["lock_notes"][sid] = note
    state["wi_lock_reason"] = ""


def remove_lock(sid: str) -> None:
    state["wi_delta"]["lock"].pop(sid, None)
    state["lock_notes"].pop(sid, None)


def add_unlock() -> None:
    """Lift a lock of the base case: refused without a reason and an author, like a lock."""
    sid = state.get("wi_unlock_subject")
    if not sid:
        return
    try:
        note = appcore.lock_note(loaded, sid, None, state.get("wi_unlock_reason"), state.get("wi_unlock_author"))
    except appcore.LockRefused as exc:
        state["wi_unlock_error"] = str(exc)
        return
    state.pop("wi_unlock_error", None)
    state["wi_delta"]["lock"].pop(sid, None)
    if sid not in state["wi_delta"]["unlock"]:
        state["wi_delta"]["unlock"].append(sid)
    state["lock_notes"][sid] = note
    state["wi_unlock_reason"] = ""


def keep_base_lock(sid: str) -> None:
    if sid in state["wi_delta"]["unlock"]:
        state["wi_delta"]["unlock"].remove(sid)
    state["lock_notes"].pop(sid, None)


def profile_changed() -> None:
    state["wi_delta"]["options"] = {}
    for spec in catalogue.options:
        state.pop(f"wi_opt_{spec.name}", None)


def load_whatif_file() -> None:
    upload = state.get("wi_upload")
    if upload is None:
        return
    try:
        data = json.loads(upload.getvalue().decode("utf-8-sig"))
        new = appcore.delta_from_file(data, upload.name)
        appcore.check_delta_ids(loaded.hierarchy.subjects, new, upload.name)  # ids of this case only
    except (UnicodeDecodeError, json.JSONDecodeError):
        state["wi_upload_error"] = [f"{upload.name}: tệp không phải JSON hợp lệ (UTF-8)"]
        return
    except CaseInvalid as exc:
        state["wi_upload_error"] = [str(p) for p in exc.problems]
        return
    state.pop("wi_upload_error", None)
    new["base"] = name
    state["wi_delta"] = new
    state["lock_notes"] = {sid: note for sid, note in appcore.notes_from_description(data.get("description")).items()
                           if (sid, note["level"]) in appcore.decisions(new)}
    state.pop("wi_solved", None)
    clear_widgets()


st.write("Một giả định là một thay đổi nhỏ đặt lên hồ sơ gốc (không sửa hồ sơ gốc). Mọi điều bạn nhập ở đây được "
         "giữ lại khi chuyển trang; bấm «Giải với giả định» để xem phương án mới khác phương án gốc ở đâu.")

if "wi_question" not in state:
    state["wi_question"] = delta["whatif"]
delta["whatif"] = st.text_input("Câu hỏi giả định", key="wi_question",
                                placeholder="Ví dụ: Nếu giữ Chi bộ Khối phố 1 ở mức Hoàn thành tốt nhiệm vụ thì sao?")

# ---- locks ----------------------------------------------------------------------------------------
st.subheader("Khóa mức")
st.caption(f"Mỗi quyết định khóa hay bỏ khóa mức phải ghi «{appcore.REASON_LABEL}» và «{appcore.AUTHOR_LABEL}» (chức "
           "danh hoặc mã tài khoản, không ghi họ tên). Khi bấm «Giải với giả định», các quyết định được ghi vào nhật "
           "ký kiểm tra của hồ sơ.")
c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
lock_query = c1.text_input("Tìm đối tượng (tên hoặc mã)", key="wi_lock_query")
choices = appcore.subject_choices(loaded, result, lock_query)
c1.selectbox("Đối tượng", choices, key="wi_lock_subject",
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


def note_words(sid: str, level: str | None) -> str:
    note = notes.get(sid)
    if not note or note.get("level", "?") != level:
        return " — **chưa ghi lý do và người quyết định**"
    return shared.md(f" — lý do: {note['reason']}; người quyết định: {note['author']}")


for sid, code in sorted(delta["lock"].items()):
    l1, l2 = st.columns([5, 1], vertical_alignment="center")
    l1.markdown(f"Khóa **{shared.md(subjects[sid].name)}** ({shared.md(sid)}) ở mức {Level[code].official}"
                + note_words(sid, code))
    l2.button("Bỏ", key=f"wi_lock_remove_{sid}", on_click=remove_lock, args=(sid,))
base_locks = [s for s in loaded.case.subjects if s.lock is not None]
if base_locks:
    with st.expander(f"Mức đã khóa trong hồ sơ gốc ({len(base_locks)}): bỏ khóa trong giả định",
                     expanded=bool(delta["unlock"])):
        locked = {s.id: s for s in base_locks}
        u1, u2 = st.columns([3, 2], vertical_alignment="bottom")
        unlock_query = u1.text_input("Tìm (tên hoặc mã)", key="wi_unlock_query")
        unlock_choices = appcore.locked_choices(loaded, unlock_query, exclude=delta["unlock"])
        u2.selectbox("Mức đang khóa", unlock_choices, key="wi_unlock_subject",
                     format_func=lambda sid: f"{locked[sid].name} ({sid}) — đang khóa {locked[sid].lock.official}")
        v1, v2, v3 = st.columns([3, 2, 1], vertical_alignment="bottom")
        v1.text_input(appcore.REASON_LABEL, key="wi_unlock_reason", max_chars=appcore.MAX_REASON,
                      placeholder="VD: Hội nghị Ban Thường vụ xem xét lại")
        v2.text_input(appcore.AUTHOR_LABEL, key="wi_unlock_author", max_chars=appcore.MAX_AUTHOR,
                      placeholder="VD: Ban Thường vụ, btc-01")
        v3.button("Bỏ khóa", key="wi_unlock_add", on_click=add_unlock, disabled=not unlock_choices)
        if state.get("wi_unlock_error"):
            st.error(state["wi_unlock_error"])
        for sid in sorted(delta["unlock"]):
            s = locked.get(sid) or subjects[sid]
            k1, k2 = st.columns([5, 1], vertical_alignment="center")
            k1.markdown(f"Bỏ khóa **{shared.md(s.name)}** ({shared.md(sid)})" + note_words(sid, None))
            k2.button("Giữ khóa", key=f"wi_unlock_keep_{sid}", on_click=keep_base_lock, args=(sid,))

# ---- options ---------------------------------------------------------------------------------------
st.subheader("Tùy chọn quy tắc")
base_profile = loaded.case.profile or catalogue.default_profile.id
if "wi_profile" not in state:
    state["wi_profile"] = delta["profile"] or base_profile
profile = st.selectbox("Bộ quy định", list(catalogue.profile_ids), key="wi_profile", on_change=profile_changed,
                       format_func=lambda p: catalogue.profile(p).title)
delta["profile"] = profile if profile != base_profile else None
values = appcore.option_values(loaded, delta)
chosen = {}
o1, o2 = st.columns(2)
for i, spec in enumerate(catalogue.options):
    key = f"wi_opt_{spec.name}"
    if key not in state:
        state[key] = values[spec.name]
    box = o1 if i % 2 == 0 else o2
    if spec.type == "bool":
        chosen[spec.name] = box.toggle(spec.title, key=key, help=spec.help)
    elif spec.type == "int":
        chosen[spec.name] = int(box.number_input(spec.title, min_value=spec.minimum, max_value=spec.maximum, step=1,
                                                 key=key, help=spec.help))
    else:
        chosen[spec.name] = box.selectbox(spec.title, list(spec.choices), key=key, help=spec.help,
                                          format_func=lambda c, n=spec.name: option_words(n, c, values))
delta["options"] = appcore.options_delta(loaded, delta["profile"], chosen)

# ---- votes and facts -------------------------------------------------------------------------------
st.subheader("Phiếu biểu quyết và dữ kiện")
scopes = dict(appcore.editor_scopes(loaded))
e1, e2 = st.columns([3, 2])
scope = e1.selectbox("Phạm vi", list(scopes), key="wi_scope", format_func=scopes.get)
edit_query = e2.text_input("Hoặc tìm trong cả hồ sơ (tên, mã)", key="wi_edit_query")
ids = appcore.scope_ids(loaded, scope, edit_query)
frame = pd.DataFrame(appcore.editor_rows(loaded, ids, delta),
                     columns=["id", "name", "kind", "target", "voters", *appcore.VOTE_KEYS, *appcore.EDITABLE_FACTS])
votes_column = {k: st.column_config.NumberColumn(f"Phiếu {k}", min_value=0, step=1, format="%d")
                for k in appcore.VOTE_KEYS}
edited = st.data_editor(
    frame, key=f"wi_editor::{scope}::{edit_query}", hide_index=True, num_rows="fixed", width="stretch",
    disabled=["id", "name", "kind", "target", "voters"],
    column_config={
        "id": st.column_config.TextColumn("Mã"), "name": st.column_config.TextColumn("Tên", width="medium"),
        "kind": st.column_config.TextColumn("Loại"), "target": st.column_config.TextColumn("Mức mục tiêu gốc"),
        "voters": st.column_config.NumberColumn("Số người biểu quyết", format="%d"),
        **votes_column,
        "disciplined": st.column_config.CheckboxColumn(appcore.EDITABLE_FACTS["disciplined"]),
        "self_remedied": st.column_config.CheckboxColumn(appcore.EDITABLE_FACTS["self_remedied"]),
        "degeneration": st.column_config.CheckboxColumn(appcore.EDITABLE_FACTS["degeneration"]),
        "targets_below_half": st.column_config.CheckboxColumn(appcore.EDITABLE_FACTS["targets_below_half"]),
        "sick_leave_months": st.column_config.NumberColumn(appcore.EDITABLE_FACTS["sick_leave_months"],
                                                           min_value=0.0, max_value=12.0, step=0.5),
        "civil_servant_level": st.column_config.SelectboxColumn(appcore.EDITABLE_FACTS["civil_servant_level"],
                                                                options=LEVEL_CODES),
    },
)
folded = appcore.harvest_edits(loaded, edited.to_dict("records"), delta)
delta["votes"], delta["facts"] = folded["votes"], folded["facts"]
st.caption(f"{len(ids)} đối tượng trong bảng. Đã sửa phiếu của {len(delta['votes'])} và dữ kiện của "
           f"{len(delta['facts'])} đối tượng trong toàn hồ sơ.")

# ---- solve, save, load -----------------------------------------------------------------------------
st.divider()
for warning in appcore.delta_warnings(shared.case_data(text), delta):
    st.warning(warning)
missing = appcore.missing_notes(delta, notes)
if missing:
    st.warning(shared.md("Chưa giải được: quyết định khóa hay bỏ khóa của " + ", ".join(sid for sid, _ in missing)
                         + f" chưa ghi «{appcore.REASON_LABEL}» và «{appcore.AUTHOR_LABEL}». Hãy khóa (hoặc bỏ "
                         "khóa) lại đối tượng đó, có ghi lý do và người quyết định."))
shared.show_audit_warning()
b1, b2, b3, _ = st.columns([1, 1, 1, 2])
if b1.button("Giải với giả định", key="wi_solve", type="primary",
             disabled=not appcore.delta_changes_something(delta) or bool(missing)):
    state["wi_solved"] = json.dumps(delta, ensure_ascii=False, sort_keys=True)
    shared.log_locks(delta, notes)
whatif_file = appcore.whatif_text(delta, notes)
whatif_name = f"{shared.file_stem(name)}_gia_dinh.json"
b2.download_button("Tải tệp giả định (.json)", whatif_file, key="wi_download", on_click=shared.log_download,
                   args=("whatif", whatif_name, whatif_file), file_name=whatif_name, mime="application/json")
b3.button("Xóa mọi giả định", key="wi_reset", on_click=reset)
with st.expander("Mở tệp giả định đã lưu"):
    st.file_uploader("Tệp giả định (.json)", type=["json"], key="wi_upload", on_change=load_whatif_file)
    for line in state.get("wi_upload_error", []):
        st.error(line)

solved = state.get("wi_solved")
if solved:
    snapshot = json.loads(solved)
    st.subheader("So với phương án gốc")
    if snapshot != json.loads(json.dumps(delta, ensure_ascii=False, sort_keys=True)):
        st.info("Giả định đã được sửa sau lần giải này: bấm «Giải với giả định» để cập nhật kết quả dưới đây.")
    try:
        what_loaded, what_result, mode = shared.whatif_result(text, name, solved)
    except CaseInvalid as exc:
        st.error("Giả định làm hồ sơ không hợp lệ:")
        st.markdown("\n".join(f"- {shared.md(str(p))}" for p in exc.problems))
    else:
        diff = appcore.difference_rows(loaded, result, what_loaded, what_result)
        shared.status_box(what_result)
        st.caption(appcore.whatif_mode_words(mode, what_result))
        d1, d2, d3 = st.columns(3)
        d1.metric("Thay đổi so với mục tiêu — gốc", "—" if result.changed is None else result.changed)
        d2.metric("Thay đổi so với mục tiêu — giả định", "—" if what_result.changed is None else what_result.changed,
                  delta=None if what_result.changed is None or result.changed is None
                  else what_result.changed - result.changed, delta_color="inverse")
        d3.metric("Số đối tượng xếp khác phương án gốc", len(diff["moves"]) if diff["comparable"] else "—")
        if diff["options_changed"]:
            st.dataframe(diff["options_changed"], hide_index=True, width="stretch")
        if diff["conflicts"]:
            st.markdown("**Các quyết định và quy định mâu thuẫn nhau**")
            st.markdown("\n".join(f"- {shared.md(c['Nội dung'])}" for c in diff["conflicts"]))
        if diff["moves"]:
            st.markdown("**Những đối tượng xếp loại khác phương án gốc**")
            st.dataframe(diff["moves"], hide_index=True, width="stretch")
        elif diff["comparable"]:
            st.write("Không đối tượng nào xếp loại khác phương án gốc.")
        if diff["quota"]:
            st.markdown("**Nhóm tỷ lệ có số liệu khác**")
            st.dataframe(diff["quota"], hide_index=True, width="stretch")
