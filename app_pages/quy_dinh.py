"""Page «Quy định»: the rule catalogue with its citations, the options in force and the rule profiles."""

import streamlit as st

from app_pages import shared
from solver import appcore

st.title("Quy định")
st.write("Mỗi quy định xeploai áp dụng có một tiêu đề và trích dẫn nguyên văn từ văn bản hướng dẫn (BMT: Hướng dẫn "
         "của Ban Thường vụ Thành ủy Buôn Ma Thuột, 2018; BĐ: Hướng dẫn của Ban Tổ chức Huyện ủy Bù Đăng, 2020).")

source = shared.current_source()
if source is not None:
    loaded = shared.case_of(source)
    st.subheader("Tùy chọn đang áp dụng cho hồ sơ")
    st.write(shared.md(f"Hồ sơ «{loaded.case.name}» dùng bộ quy định: {appcore.profile_in_force(loaded)}."))
    for row in appcore.option_rows(loaded.options.model_dump()):
        rules = f" ({row['Quy định']})" if row["Quy định"] else ""
        st.markdown(f"- **{shared.md(row['Tùy chọn'])}**{shared.md(rules)}: {shared.md(row['Giá trị'])} — "
                    f"*{shared.md(row['Mặc định'])}*.  \n  {shared.md(row['Giải thích'])}")

st.subheader("Danh mục quy định")
family = None
for rule in appcore.rule_items():
    if rule["family"] != family:
        family = rule["family"]
        st.markdown(f"##### {shared.md(family)}")
    with st.expander(f"{rule['title']} ({rule['cite']})"):
        st.markdown(shared.md(rule["summary"]))
        extra = f"Áp dụng cho: {rule['applies_to']}. Hiệu lực từ {rule['effective_from']}."
        if rule["options"]:
            extra += " Tùy chọn: " + "; ".join(rule["options"]) + "."
        st.caption(shared.md(extra))
        for c in rule["citations"]:
            st.markdown(f"**{shared.md(c['label'])}**: “{shared.md(c['quote'])}”")

st.subheader("Các bộ quy định")
for row in appcore.profile_rows():
    default = " (mặc định)" if row["Mặc định"] else ""
    st.markdown(f"**{shared.md(row['Bộ quy định'])}**{default} — {row['Hiệu lực']}; tùy chọn riêng: "
                f"{shared.md(row['Tùy chọn riêng'])}.  \n{shared.md(row['Mô tả'])}")
