"""Page «Dữ liệu»: the unit's own data in three steps (the Excel template, filled in, uploaded), the case
folder and the shipped scenarios; errors by sheet, row and field; the rule profile chosen in words."""

import dataclasses
import time

import streamlit as st

from app_pages import shared
from model.errors import CaseInvalid
from solver import appcore

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
state = st.session_state
folder = appcore.case_folder()


def start(job: tuple) -> None:
    """A button's callback: the job runs in the next run, its buttons drawn disabled meanwhile."""
    state["data_job"] = job


def upload_changed() -> None:
    if state.get("data_upload") is not None:
        start(("upload",))


def run_job(job: tuple) -> None:
    """Read (and for an upload, keep) the case a job names, with its steps on the screen; errors are kept
    for the screen and change nothing: the open case stays open."""
    kind = job[0]
    started = time.monotonic()
    try:
        if kind == "upload":
            upload = state.get("data_upload")
            if upload is None:
                return
            name = upload.name
            source, loaded, _ = shared.with_progress(
                f"Đang đọc và kiểm tra tệp «{name}»…",
                lambda say: appcore.store_upload(folder, upload.name, upload.getvalue(), say), done="Đã đọc xong")
        else:  # the file chosen when the button was pressed (the box's value then, not when it was drawn)
            name = state.get("data_folder_file") if kind == "folder" else state.get("data_scenario")
            if not name:
                return

            def work(say):
                say(f"Đang mở tệp «{name}»…")
                found = (appcore.folder_source(folder, name) if kind == "folder"
                         else appcore.scenario_source(scenarios[name]["path"]))
                return found, appcore.open_case(found, say, lambda: say(shared.WAITING))

            source, loaded = shared.with_progress(f"Đang đọc và kiểm tra hồ sơ «{name}»…", work, done="Đã đọc xong")
    except CaseInvalid as exc:
        problems = [*exc.problems, *exc.warnings]
        state["data_problems"] = (name, appcore.problem_rows(problems), [str(p) for p in problems])
        return
    state.pop("data_problems", None)
    state["data_done"] = f"Đã đọc và kiểm tra «{name}» trong {appcore.seconds(time.monotonic() - started)} giây."
    appcore.CASES.put(source.ident, loaded)
    if appcore.needs_profile(source, loaded):
        state["data_pending"] = source.state()
        return
    state.pop("data_pending", None)
    shared.set_case(source, loaded)


def choose_profile() -> None:
    """The profile picked for a workbook that names none: the case opens under it."""
    source = appcore.CaseSource.from_state(state["data_pending"])
    loaded = appcore.CASES.get(source.ident) or appcore.load_source(source)
    chosen = dataclasses.replace(source, profile=state["data_profile"])
    state.pop("data_pending", None)
    shared.set_case(chosen, appcore.with_profile(loaded, chosen.profile))


scenarios = {s["file"]: s for s in appcore.list_scenarios()}
busy = state.get("data_job") is not None

st.title("Dữ liệu")
st.markdown(
    "Làm việc với dữ liệu của đơn vị mình trong ba bước:\n"
    "1. **Tải bảng tính Excel mẫu** (nút bên dưới): mỗi trang một loại đối tượng, trang đầu là hướng dẫn.\n"
    "2. **Điền dữ liệu** của đơn vị vào bảng tính và lưu lại (có thể xóa các dòng ví dụ tô vàng).\n"
    "3. **Tải bảng tính lên** ở mục «Tải tệp lên»: xeploai kiểm tra từng dòng; lỗi được chỉ rõ trang, dòng, cột.\n\n"
    "Cũng nhận tệp hồ sơ JSON (định dạng trao đổi của xeploai).")
source = shared.current_source()
t1, t2 = st.columns(2)
with t1:
    shared.download("Tải bảng tính mẫu (trống)", None, "template",
                    "xeploai_mau.xlsx", appcore.template_bytes, XLSX, key="data_template_blank", type="primary")
with t2:
    if source is not None:
        loaded_now = appcore.CASES.get(source.ident)
        if loaded_now is not None:
            shared.download("Tải bảng tính điền sẵn hồ sơ đang mở", source, "template",
                            f"{shared.file_stem(source.name)}_bang_tinh.xlsx",
                            lambda: appcore.template_bytes(loaded_now), XLSX, key="data_template_filled",
                            help="Hồ sơ đang mở ghi vào bảng tính mẫu: sửa rồi tải lên lại.")

upload_tab, folder_tab, source_tab = st.tabs(["Tải tệp lên", "Thư mục hồ sơ", "Hồ sơ mẫu"])

with upload_tab:
    st.caption(shared.md(f"Tệp hợp lệ được lưu vào thư mục hồ sơ {folder} (không lưu ở nơi nào khác); tải lên tệp "
                         "cùng tên sẽ thay bản cũ, lịch sử của hồ sơ vẫn liền một mạch."))
    st.file_uploader("Bảng tính Excel (.xlsx) hoặc tệp hồ sơ (.json)", type=["xlsx", "xlsm", "json"],
                     key="data_upload", on_change=upload_changed)

with folder_tab:
    kept = appcore.folder_cases(folder)
    if not kept:
        st.caption(shared.md(f"Thư mục hồ sơ {folder} chưa có hồ sơ nào. Tệp tải lên được lưu ở đây."))
    else:
        by_name = {c["file"]: c for c in kept}
        picked = st.selectbox("Hồ sơ trong thư mục", list(by_name), key="data_folder_file",
                              format_func=lambda f: f"{f} — {appcore.size(by_name[f]['size'])}, sửa lần cuối "
                                                    f"{by_name[f]['modified']}")
        st.button("Mở hồ sơ", key="data_folder_open", type="primary", disabled=busy or not picked,
                  on_click=start, args=(("folder",),))

with source_tab:
    chosen = st.selectbox("Hồ sơ mẫu (mọi người trong các hồ sơ mẫu là hư cấu)", list(scenarios),
                          key="data_scenario",
                          format_func=lambda f: f"{scenarios[f]['name']} — {appcore.num(scenarios[f]['subjects'])} "
                                                "đối tượng")
    st.button("Nạp hồ sơ mẫu", key="data_load_scenario", type="primary", disabled=busy or not chosen,
              on_click=start, args=(("scenario",),))

if busy:
    job = state["data_job"]
    try:
        run_job(job)
    finally:
        state.pop("data_job", None)
    st.rerun()

pending = state.get("data_pending")
if pending:
    pending_source = appcore.CaseSource.from_state(pending)
    st.warning(shared.md(f"Bảng tính «{pending_source.name}» hợp lệ nhưng chưa ghi bộ quy định áp dụng (trang «Tùy "
                         "chọn»). Hãy chọn bộ quy định để mở hồ sơ:"))
    choices = {p["id"]: p for p in appcore.profile_choices()}
    picked = st.radio("Bộ quy định", list(choices), key="data_profile",
                      format_func=lambda p: choices[p]["title"] + (" (mặc định)" if choices[p]["default"] else ""))
    st.caption(shared.md(f"{choices[picked]['description']} ({choices[picked]['period']})."))
    st.button("Mở hồ sơ với bộ quy định này", key="data_profile_ok", type="primary", on_click=choose_profile)

problems = state.get("data_problems")
if problems:
    name, rows, lines = problems
    errors = [r for r in rows if r["Mức độ"] == "Lỗi"]
    if source is not None:
        open_now = appcore.CASES.get(source.ident)
        still = f"Hồ sơ đang mở vẫn là «{open_now.case.name if open_now else source.name}» (tệp {source.name})."
    else:
        still = "Chưa có hồ sơ nào đang mở."
    st.error(shared.md(f"Không mở được «{name}»: {appcore.num(len(errors))} lỗi. Không có gì thay đổi. {still} Hãy "
                       "sửa tệp theo từng dòng dưới đây rồi tải lên lại."))
    st.dataframe(rows[:500], hide_index=True, width="stretch", key="data_problem_table")
    st.markdown("\n".join(f"- {shared.md(line)}" for line in lines[:200]))

if source is None or pending:
    st.stop()

loaded = shared.case_of(source)
summary = appcore.summary_of(source, loaded)

st.divider()
st.subheader(shared.md(f"Hồ sơ đang dùng: {summary['name']}"))
if state.get("data_done"):
    st.caption(shared.md(state["data_done"]))
if summary["description"]:
    st.caption(shared.md(summary["description"]))
cols = st.columns(4)
cols[0].metric("Số đối tượng", appcore.num(summary["subjects"]))
cols[1].metric("Nhóm tỷ lệ", appcore.num(summary["group_count"]))
cols[2].metric("Vòng họp xếp loại", appcore.num(summary["stages"]))
cols[3].metric("Mức đã khóa", appcore.num(summary["locks"]))
chosen_note = " (chọn khi mở bảng tính)" if source.profile else ""
st.markdown(
    f"Bộ quy định: **{shared.md(summary['profile_title'])}**{chosen_note}. Mức mục tiêu: "
    f"{summary['targets_text']}; không xếp loại: {appcore.num(summary['unrated'])}.")

left, right = st.columns(2)
with left:
    st.markdown("**Đối tượng theo loại**")
    st.dataframe(summary["kinds"], hide_index=True, width="stretch", key="data_kinds")
    if summary["tiers"]:
        st.markdown("**Tổ chức đảng theo cấp**")
        st.dataframe(summary["tiers"], hide_index=True, width="stretch", key="data_tiers")
with right:
    shown = len(summary["groups"])
    more = f", hiện {appcore.num(shown)} nhóm lớn nhất" if shown < summary["group_count"] else ", nhóm lớn nhất trước"
    st.markdown(f"**Nhóm tỷ lệ** ({appcore.num(summary['group_count'])}{more})")
    shared.table(summary["groups"], key="data_groups", height=320,
                 widths={"Nhóm tỷ lệ": 250, "Số đối tượng": 85, "Khai báo trong hồ sơ": 95})

if summary["warnings"]:
    with st.expander(f"Cảnh báo ({appcore.num(len(summary['warnings']))})"):
        st.markdown("\n".join(f"- {shared.md(w)}" for w in summary["warnings"][:300]))

if st.button("Xếp loại và xem việc cần quyết định", key="data_go_results", type="primary"):
    st.switch_page(shared.PAGE_DECISIONS)
