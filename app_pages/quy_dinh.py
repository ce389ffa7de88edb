"""Page «Quy định»: the rule catalogue with its citations, the options in force and the rule profiles."""

import streamlit as st

from app_pages import shared
from solver import appcore

st.title("Quy định")
st.write("Mỗi quy định có một tiêu đề và trích dẫn nguyên văn từ văn bản; một hồ sơ chỉ trích dẫn văn bản của bộ quy "
         "định nó áp dụng. Các văn bản:")
for src in appcore.source_rows():
    number = f" số {src['number']}" if src["number"] else ""
    note = f" {src['note']}" if src["note"] else ""
    st.markdown(shared.md(f"- **{src['label']}**: {src['document']}{number}, {src['issuer']}, ngày {src['date']}.{note}"))

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
for rule in appcore.rule_items(loaded.options if source is not None else None):
    if rule["family"] != family:
        family = rule["family"]
        st.markdown(f"##### {shared.md(family)}")
    state = "" if rule["in_force"] is None else (" — đang áp dụng" if rule["in_force"] else " — không áp dụng với hồ sơ này")
    cite = f" ({rule['cite']})" if rule["cite"] else ""
    with st.expander(f"{rule['title']}{cite}{state}"):
        st.markdown(shared.md(rule["summary"]))
        if rule["unsourced"]:
            st.info(shared.md(rule["unsourced"]))
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
