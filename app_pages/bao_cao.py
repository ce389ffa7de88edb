"""Page «Báo cáo»: the Word report, the Excel results and the JSON result — buttons at once, each file built
when its button is pressed."""

import streamlit as st

from app_pages import shared
from solver import appcore
from solver.reports.excel import build_xlsx
from solver.reports.word import build_docx, parse_report_date

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

st.title("Báo cáo")
source, loaded, session, result = shared.require_result()
stem = shared.file_stem(source.name)

st.write(shared.md(f"Các tệp dưới đây trình bày kết quả của hồ sơ «{loaded.case.name}» với cùng câu chữ như trang "
                   "«Kết quả». Mỗi tệp được lập khi bấm nút tải (hồ sơ lớn: có thể mất đến vài chục giây, trình duyệt "
                   "tải về khi tệp xong); tệp giống hệt nhau giữa các lần tải, và mỗi lần tải được ghi vào nhật ký "
                   "kiểm tra."))
day_text = st.text_input("Ngày ghi trên báo cáo Word (để trống nếu không ghi ngày)", key="report_date",
                         placeholder="VD: 15/12/2018")
date = None
if day_text.strip():
    try:
        date = parse_report_date(day_text).isoformat()
    except ValueError as exc:
        st.error(f"Ngày không hợp lệ: {exc}")

if result.status not in ("optimal", "feasible"):
    st.warning("Chưa có kết quả xếp loại: báo cáo chỉ trình bày trạng thái và các quyết định mâu thuẫn.")
shared.show_download_warnings(source)
names = {"docx": f"{stem}_bao_cao.docx", "xlsx": f"{stem}_ket_qua.xlsx", "json": f"{stem}_ket_qua.json"}

c1, c2, c3 = st.columns(3)
with c1:
    st.markdown("**Báo cáo Word**")
    st.caption("Trạng thái, việc cần quyết định, tùy chọn quy tắc, bảng tổng hợp, từng thay đổi với lý do và trích "
               "dẫn, thứ tự họp.")
    shared.download("Tải báo cáo Word (.docx)", source, "docx", names["docx"],
                    lambda: build_docx(loaded, result, date=date), DOCX, key="report_docx", type="primary")
with c2:
    st.markdown("**Kết quả Excel**")
    st.caption("Mỗi loại đối tượng một trang: mức mục tiêu, kết quả, lý do; trang nhóm tỷ lệ.")
    shared.download("Tải kết quả Excel (.xlsx)", source, "xlsx", names["xlsx"], lambda: build_xlsx(loaded, result),
                    XLSX, key="report_xlsx")
with c3:
    st.markdown("**Kết quả JSON**")
    st.caption("Định dạng trao đổi của xeploai, để lưu trữ hay chuyển sang phần mềm khác.")
    shared.download("Tải kết quả JSON (.json)", source, "json", names["json"],
                    lambda: result.sealed or result.dumps(), "application/json", key="report_json")
st.caption(f"Kết quả: {appcore.num(result.changed)} đối tượng thay đổi; "
           f"{appcore.num(len(result.decisions))} việc cần quyết định.")
