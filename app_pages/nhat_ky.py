"""Page «Nhật ký»: the audit history of the current case across its versions, and whether the log is intact."""

import streamlit as st

from app_pages import shared
from solver import appcore

st.title("Nhật ký")
source, loaded = shared.require_case()

st.write(shared.md(f"Lịch sử của hồ sơ «{loaded.case.name}» (tệp {source.name}): mỗi lần xếp loại (một lần cho mỗi "
                   "phiên bản hồ sơ), mỗi quyết định khóa hay bỏ khóa mức kèm lý do và người quyết định, mỗi tệp được "
                   "tải về — mới nhất ở trên. Mọi phiên bản của hồ sơ (sau mỗi lần sửa, khóa mức) nằm chung một lịch "
                   "sử, đánh số theo thứ tự xuất hiện."))
for warning in appcore.flush_logs():  # the records still being written (a what-if's solve) first
    st.warning(warning)
history = appcore.case_history(source.key, [source.digest])

if history["state"] == "off":
    st.info("Nhật ký kiểm tra đang tắt: không có gì được ghi.")
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
st.caption(f"{appcore.num(len(shown))} / {appcore.num(len(rows))} bản ghi của hồ sơ này (cả nhật ký: "
           f"{appcore.num(history['count'])} bản ghi).")
if shown:
    shared.table(shown[:1000], key="log_table", height=shared.table_height(len(shown), cap=560),
                 widths={"Số": 45, "Thời gian": 140, "Việc": 150, "Đối tượng": 80, "Nội dung": 300,
                         "Người quyết định": 105, "Phiên bản hồ sơ": 70})
else:
    st.write("Hồ sơ này chưa có bản ghi nào trong nhật ký.")
with st.expander("Chi tiết để kiểm tra (mã băm)"):
    st.caption("Mỗi phiên bản hồ sơ, mỗi kết quả và mỗi tệp tải về được nhận diện bằng mã băm SHA-256 của nó: cùng "
               "nội dung thì cùng mã, sửa một ký tự thì mã khác hẳn.")
    st.dataframe(history["technical"][:1000], hide_index=True, width="stretch", key="log_technical")
