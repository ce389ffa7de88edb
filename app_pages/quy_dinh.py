"""Page «Quy định»: the rule catalogue with its citations, the options in force and the rule profiles."""

import streamlit as st

from app_pages import shared
from solver import appcore

st.title("Quy định")
st.write("Mỗi quy tắc xeploai áp dụng có một mã, một tiêu đề và trích dẫn nguyên văn từ văn bản hướng dẫn "
         "(BMT: Hướng dẫn của Ban Thường vụ Thành ủy Buôn Ma Thuột, 2018; BĐ: Hướng dẫn của Ban Tổ chức Huyện ủy "
         "Bù Đăng, 2020).")

case = shared.current_case()
if case is not None:
    loaded = shared.loaded_case(*case)
    st.subheader("Tùy chọn đang áp dụng cho hồ sơ")
    profile = appcore.profile_title(loaded.case.profile)
    st.write(shared.md(f"Hồ sơ «{loaded.case.name}» dùng bộ quy định: {profile}."))
    for row in appcore.options_in_force(loaded.options.model_dump()):
        rules = f" (quy tắc {row['Quy tắc']})" if row["Quy tắc"] else ""
        st.markdown(f"- **{shared.md(row['Tùy chọn'])}**{rules}: {shared.md(row['Giá trị'])} — *{row['Mặc định']}*.  \n"
                    f"  {shared.md(row['Giải thích'])}")

st.subheader("Danh mục quy tắc")
family = None
for rule in appcore.rule_items():
    if rule["family"] != family:
        family = rule["family"]
        st.markdown(f"##### {shared.md(family)}")
    with st.expander(f"{rule['id']} — {rule['title']}"):
        st.markdown(shared.md(rule["summary"]))
        extra = f"Áp dụng cho: {rule['applies_to']}. Hiệu lực từ {rule['effective_from']}."
        if rule["options"]:
            extra += " Tùy chọn: " + "; ".join(rule["options"]) + "."
        st.caption(shared.md(extra))
        for c in rule["citations"]:
            st.markdown(f"**{shared.md(c['label'])}**: “{shared.md(c['quote'])}”")

st.subheader("Các bộ quy định")
for row in appcore.profile_rows():
    period = f"hiệu lực từ {row['Hiệu lực từ']} đến {row['Đến']}"
    default = ", mặc định" if row["Mặc định"] else ""
    st.markdown(f"**{shared.md(row['Bộ quy định'])}** (mã `{row['Mã']}`{default}; {period}; tùy chọn riêng: "
                f"{shared.md(row['Tùy chọn riêng'])})  \n{shared.md(row['Mô tả'])}")
