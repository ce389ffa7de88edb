"""Page «Báo cáo»: download the Word report, the Excel results and the JSON result."""

import streamlit as st

from app_pages import shared
from solver.reports.word import parse_report_date

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

st.title("Báo cáo")
text, name, loaded, result = shared.require_result()
time_limit, workers = shared.settings()
stem = shared.file_stem(name)

st.write(shared.md(f"Các tệp dưới đây trình bày kết quả của hồ sơ «{loaded.case.name}» với cùng câu chữ như "
                   "trang «Kết quả». Tệp tạo ra giống hệt nhau giữa các lần tải (không ghi giờ tạo); mỗi lần tải "
                   "được ghi vào nhật ký kiểm tra (tên tệp và mã băm)."))
day_text = st.text_input("Ngày ghi trên báo cáo Word (để trống nếu không ghi ngày)", key="report_date",
                         placeholder="VD: 15/12/2018 hoặc 2018-12-15")
date = None
if day_text.strip():
    try:
        date = parse_report_date(day_text).isoformat()
    except ValueError as exc:
        st.error(f"Ngày không hợp lệ: {exc}")

if result.status not in ("optimal", "feasible"):
    st.warning("Chưa có kết quả xếp loại: báo cáo chỉ trình bày trạng thái và các quyết định mâu thuẫn.")

with st.spinner("Đang lập báo cáo…"):
    docx = shared.docx_bytes(text, name, time_limit, workers, date)
    xlsx = shared.xlsx_bytes(text, name, time_limit, workers)
json_text = result.dumps()
shared.show_audit_warning()
names = {"docx": f"{stem}_bao_cao.docx", "xlsx": f"{stem}_ket_qua.xlsx", "json": f"{stem}_ket_qua.json"}

c1, c2, c3 = st.columns(3)
with c1:
    st.markdown("**Báo cáo Word**")
    st.caption("Trạng thái, tùy chọn quy tắc, bảng tổng hợp, từng thay đổi với lý do và trích dẫn, thứ tự họp (S5).")
    st.download_button("Tải báo cáo Word (.docx)", docx, file_name=names["docx"], mime=DOCX, key="report_docx",
                       on_click=shared.log_download, args=("docx", names["docx"], docx), type="primary")
with c2:
    st.markdown("**Kết quả Excel**")
    st.caption("Mỗi loại đối tượng một trang: mức mục tiêu, kết quả, lý do; trang nhóm tỷ lệ.")
    st.download_button("Tải kết quả Excel (.xlsx)", xlsx, file_name=names["xlsx"], mime=XLSX, key="report_xlsx",
                       on_click=shared.log_download, args=("xlsx", names["xlsx"], xlsx))
with c3:
    st.markdown("**Kết quả JSON**")
    st.caption("Định dạng trao đổi, giống tệp `xeploai solve --json` ghi ra.")
    st.download_button("Tải kết quả JSON (.json)", json_text, file_name=names["json"], mime="application/json",
                       key="report_json", on_click=shared.log_download, args=("json", names["json"], json_text))
