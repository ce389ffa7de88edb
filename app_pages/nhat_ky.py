"""Page «Nhật ký»: the audit history of the current case across its versions, and whether the log is intact."""

import streamlit as st

from app_pages import shared
from solver import appcore

st.title("Nhật ký")
text, name, loaded = shared.require_case()
key, digest = shared.case_identity()

st.write(shared.md(f"Lịch sử của hồ sơ «{loaded.case.name}» (tệp {key}): mỗi lần xếp loại, mỗi quyết định khóa "
                   "hay bỏ khóa mức kèm lý do và người quyết định, mỗi tệp được tải về — mới nhất ở trên. Mọi "
                   "phiên bản của hồ sơ (sau mỗi lần sửa, khóa mức) nằm chung một lịch sử."))
history = appcore.case_history(key, [digest])

if history["state"] == "off":
    st.info("Nhật ký kiểm tra đang tắt (biến môi trường XEPLOAI_AUDIT=off): không có gì được ghi.")
    st.stop()
if history["state"] == "error":
    st.error(shared.md(f"Không đọc được nhật ký kiểm tra: {history['error']}"))
    st.stop()
st.caption(shared.md(f"Tệp nhật ký: {history['path']}"))
if history["state"] == "empty":
    st.info("Nhật ký chưa có bản ghi nào: bản ghi đầu tiên được ghi khi hồ sơ được xếp loại.")
    st.stop()

if history["intact"]:
    st.success(history["verdict"])
else:
    st.error(shared.md(history["verdict"]))

rows = history["rows"]
kinds = sorted({r["Việc"].split(":")[0] for r in rows})
chosen = st.multiselect("Loại việc", kinds, key="log_kinds", placeholder=shared.CHOOSE)
shown = [r for r in rows if not chosen or r["Việc"].split(":")[0] in chosen]
st.caption(f"{len(shown)} / {len(rows)} bản ghi của hồ sơ này (cả nhật ký: {history['count']} bản ghi). "
           "«Phiên bản hồ sơ» và «Mã kết quả» là 12 ký tự đầu của mã băm SHA-256.")
if shown:
    st.dataframe(shown, hide_index=True, width="stretch", height=shared.table_height(len(shown), cap=560))
else:
    st.write("Hồ sơ này chưa có bản ghi nào trong nhật ký.")
