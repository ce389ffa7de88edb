"""Page «Báo cáo»: the Word report, the Excel results and the JSON result — buttons at once, each file built
when its button is pressed."""

import streamlit as st

from app_pages import shared
from solver import appcore
from solver.reports.excel import build_xlsx
from solver.reports.word import build_docx

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

st.title("Báo cáo")
source, loaded, session, result = shared.require_result()
stem = shared.file_stem(source.name)

st.write(shared.md(f"Các tệp dưới đây trình bày kết quả của hồ sơ «{loaded.case.name}» với cùng câu chữ như trang "
                   "«Kết quả». Mỗi tệp được lập khi bấm nút tải (hồ sơ lớn: có thể mất đến vài chục giây, trình duyệt "
                   "tải về khi tệp xong); tệp giống hệt nhau giữa các lần tải, và mỗi lần tải được ghi vào nhật ký "
                   "kiểm tra."))
with st.expander("Thông tin văn bản (số, ngày, nơi gửi, người ký)", expanded=False):
    st.caption("Điền sẵn theo hồ sơ; ô để trống thì báo cáo để chỗ trống («Số …», «…, ngày … tháng … năm …») để "
               "điền tay. Chỉ dùng cho tệp tải về lần này, hồ sơ không bị sửa.")
    defaults = appcore.form_defaults(loaded)
    values: dict[str, str] = {}
    kinds = list(appcore.DOCUMENT_TYPES)
    values["type"] = st.radio("Loại văn bản", kinds, index=kinds.index(defaults["type"]), horizontal=True,
                              format_func=appcore.DOCUMENT_TYPES.get, key="report_type")
    left, right = st.columns(2)
    for i, f in enumerate(appcore.FORM_FIELDS):
        box = left if i % 2 == 0 else right
        key = "report_date" if f.name == "date" else f"report_{f.name}"
        if f.lines:
            values[f.name] = box.text_area(f.label, value=defaults[f.name], placeholder=f.example, key=key,
                                           height=90)
        else:
            values[f.name] = box.text_input(f.label, value=defaults[f.name], placeholder=f.example, key=key)
    review = st.checkbox("Bản dùng để rà soát: mỗi trường hợp điều chỉnh có một ghi chú giải trình bên lề (không "
                         "dùng để in, ban hành)", key="report_review")
document, problems = appcore.document_from_form(values)
for problem in problems:
    st.error(f"Thông tin văn bản chưa hợp lệ — {problem}. Báo cáo Word dùng thông tin của hồ sơ.")
if document is None:
    document = loaded.case.document

if result.status not in ("optimal", "feasible"):
    st.warning("Chưa có kết quả xếp loại: báo cáo chỉ trình bày trạng thái và các quyết định mâu thuẫn.")
shared.show_download_warnings(source)
names = {"docx": f"{stem}_bao_cao.docx", "xlsx": f"{stem}_ket_qua.xlsx", "json": f"{stem}_ket_qua.json"}

c1, c2, c3 = st.columns(3)
with c1:
    st.markdown("**Báo cáo Word**")
    st.caption("Văn bản gửi Ban Thường vụ theo thể thức văn bản của Đảng: kết quả bằng số liệu, những vấn đề cần "
               "xem xét, quyết định, đề xuất; danh sách đầy đủ ở các phụ lục." +
               (" Bản rà soát: có ghi chú giải trình bên lề." if review else ""))
    shared.download("Tải báo cáo Word (.docx)", source, "docx", names["docx"],
                    lambda: build_docx(loaded, result, document=document, review=review), DOCX,
                    key="report_docx", type="primary")
with c2:
    st.markdown("**Kết quả Excel**")
    st.caption("Mỗi loại đối tượng một trang: phiếu, điểm, mức mục tiêu, kết quả, lý do (dòng thay đổi được tô "
               "màu); trang việc cần quyết định; trang nhóm tỷ lệ.")
    shared.download("Tải kết quả Excel (.xlsx)", source, "xlsx", names["xlsx"], lambda: build_xlsx(loaded, result),
                    XLSX, key="report_xlsx")
with c3:
    st.markdown("**Kết quả JSON**")
    st.caption("Định dạng trao đổi của xeploai, để lưu trữ hay chuyển sang phần mềm khác.")
    shared.download("Tải kết quả JSON (.json)", source, "json", names["json"],
                    lambda: result.sealed or result.dumps(), "application/json", key="report_json")
st.caption(f"Kết quả: {appcore.num(result.changed)} đối tượng thay đổi; "
           f"{appcore.num(len(result.decisions))} việc cần quyết định.")
