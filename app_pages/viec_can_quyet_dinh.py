"""Page «Việc cần quyết định»: what the committee decides itself, by kind, each with one click to lock the
subjects it names in the what-if editor (reason and author asked there)."""

import streamlit as st

from app_pages import shared
from solver import appcore

st.title("Việc cần quyết định")
source, loaded, session, result = shared.require_result()

st.write("Những việc dưới đây phần mềm không tự quyết: cấp có thẩm quyền (Ban Thường vụ) xem xét và quyết định. Mỗi "
         "việc có nút «Khóa theo ý kiến Ban Thường vụ» mở trang «Giả định» với các đối tượng đã điền sẵn; ở đó ghi "
         "mức, lý do và người quyết định, rồi giải lại để thấy phương án mới.")
shared.status_box(result)
groups = appcore.decision_groups(result)
if not groups:
    st.success("Không có việc nào cần cấp có thẩm quyền quyết định riêng: không có quyết định mâu thuẫn, không có "
               "phương án ngang nhau hay trường hợp ngoại lệ nào.")
    st.page_link(shared.PAGE_RESULTS, label="Xem kết quả xếp loại")
    st.stop()

cols = st.columns(min(len(groups), 4))
for i, g in enumerate(groups):
    cols[i % len(cols)].metric(g["heading"], appcore.num(g["count"]))
shared.decisions_view(loaded, result, "dec", session=session)
