"""Page «Dữ liệu»: pick a shipped scenario or upload a case; its errors by sheet, row and field; its summary."""

import streamlit as st

from app_pages import shared
from model.errors import CaseInvalid
from solver import appcore


def problem_lists(exc: CaseInvalid) -> tuple[list[dict], list[str]]:
    problems = [*exc.problems, *exc.warnings]
    return appcore.problem_rows(problems), [str(p) for p in problems]


st.title("Dữ liệu")
st.write("Chọn một hồ sơ mẫu có sẵn, hoặc tải lên hồ sơ của đơn vị (tệp JSON hoặc sổ tính Excel .xlsx).")
folder = appcore.case_folder()

source_tab, upload_tab, folder_tab = st.tabs(["Hồ sơ mẫu", "Tải tệp lên", "Thư mục hồ sơ"])

with source_tab:
    options = shared.scenarios()
    by_file = {s["file"]: s for s in options}
    chosen = st.selectbox("Hồ sơ mẫu", list(by_file), key="data_scenario",
                          format_func=lambda f: f"{by_file[f]['name']} — {by_file[f]['subjects']} đối tượng ({f})")
    if st.button("Nạp hồ sơ mẫu", key="data_load_scenario", type="primary") and chosen:
        text, digest = appcore.read_case_file(by_file[chosen]["path"])
        try:
            shared.loaded_case(text, chosen)
        except CaseInvalid as exc:
            st.session_state["data_problems"] = (chosen, *problem_lists(exc))
        else:
            st.session_state.pop("data_problems", None)
            shared.set_case(text, chosen, key=f"scenarios/{chosen}", digest=digest)
            st.rerun()

with upload_tab:
    st.caption(shared.md(f"Tệp hợp lệ được lưu vào thư mục hồ sơ {folder} (không lưu ở nơi nào khác); tải lên tệp "
                         "cùng tên sẽ thay bản cũ, lịch sử của hồ sơ vẫn liền một mạch."))
    upload = st.file_uploader("Tệp hồ sơ (.json, .xlsx)", type=["json", "xlsx", "xlsm"], key="data_upload")
    if upload is not None and st.session_state.get("data_upload_seen") != upload.file_id:
        st.session_state["data_upload_seen"] = upload.file_id
        try:
            stored = appcore.store_upload(folder, upload.name, upload.getvalue())
        except CaseInvalid as exc:
            st.session_state["data_problems"] = (upload.name, *problem_lists(exc))
        else:
            st.session_state.pop("data_problems", None)
            shared.set_case(stored.text, stored.key, key=stored.key, digest=stored.digest)
            st.rerun()

with folder_tab:
    kept = appcore.folder_cases(folder)
    if not kept:
        st.caption(shared.md(f"Thư mục hồ sơ {folder} chưa có hồ sơ nào. Tệp tải lên được lưu ở đây."))
    else:
        by_name = {c["file"]: c for c in kept}
        picked = st.selectbox("Hồ sơ trong thư mục", list(by_name), key="data_folder_file",
                              format_func=lambda f: f"{f} — sửa lần cuối {by_name[f]['modified']}")
        if st.button("Mở hồ sơ", key="data_folder_open", type="primary") and picked:
            try:
                stored = appcore.open_folder_case(folder, picked)
            except CaseInvalid as exc:
                st.session_state["data_problems"] = (picked, *problem_lists(exc))
            else:
                st.session_state.pop("data_problems", None)
                shared.set_case(stored.text, stored.key, key=stored.key, digest=stored.digest)
                st.rerun()

problems = st.session_state.get("data_problems")
if problems:
    name, rows, lines = problems
    errors = [r for r in rows if r["Mức độ"] == "Lỗi"]
    st.error(shared.md(f"Hồ sơ «{name}» không hợp lệ: {len(errors)} lỗi. Hãy sửa tệp theo từng dòng dưới đây "
                       "rồi nạp lại."))
    st.dataframe(rows, hide_index=True, width="stretch")
    st.markdown("\n".join(f"- {shared.md(line)}" for line in lines[:200]))

case = shared.current_case()
if case is None:
    st.stop()

text, name = case
loaded = shared.loaded_case(text, name)
summary = appcore.case_summary(loaded)

st.divider()
st.subheader(shared.md(f"Hồ sơ đang dùng: {summary['name']}"))
if summary["description"]:
    st.caption(shared.md(summary["description"]))
cols = st.columns(4)
cols[0].metric("Số đối tượng", summary["subjects"])
cols[1].metric("Nhóm tỷ lệ", summary["group_count"])
cols[2].metric("Vòng họp xếp loại (S5)", summary["stages"])
cols[3].metric("Mức đã khóa", summary["locks"])
st.markdown(
    f"Bộ quy định: **{shared.md(summary['profile'])}**. Mức mục tiêu: theo phiếu {summary['targets']['votes']}, "
    f"ghi sẵn {summary['targets']['target']}, theo đề xuất {summary['targets']['proposed']}; "
    f"không xếp loại: {summary['unrated']}.")

left, right = st.columns(2)
with left:
    st.markdown("**Đối tượng theo loại**")
    st.dataframe(summary["kinds"], hide_index=True, width="stretch")
    if summary["tiers"]:
        st.markdown("**Tổ chức đảng theo cấp**")
        st.dataframe(summary["tiers"], hide_index=True, width="stretch")
with right:
    st.markdown(f"**Nhóm tỷ lệ** ({summary['group_count']}, nhóm lớn nhất trước)")
    st.dataframe(summary["groups"], hide_index=True, width="stretch", height=320)

if summary["warnings"]:
    with st.expander(f"Cảnh báo ({len(summary['warnings'])})"):
        st.markdown("\n".join(f"- {shared.md(w)}" for w in summary["warnings"][:300]))

if st.button("Xếp loại và xem kết quả", key="data_go_results", type="primary"):
    st.switch_page(shared.PAGE_RESULTS)
