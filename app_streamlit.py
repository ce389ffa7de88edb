"""xeploai — the Streamlit app: the only entry point; the pages live in ``app_pages/``, one thin view each."""

import streamlit as st

from app_pages import shared
from solver import access, appcore

st.set_page_config(page_title="xeploai — Xếp loại chất lượng", layout="wide", initial_sidebar_state="expanded")

# ---- the optional password of a shared machine (``xeploai password``): nothing else shows until it is given
folder = appcore.case_folder()
try:
    opened = access.session_open(folder, st.session_state.get(shared.ACCESS_KEY))
except access.AccessError as exc:
    st.title("xeploai")
    st.error(shared.md(f"Không mở được giao diện: {exc}."))
    st.stop()
if not opened:
    st.title("xeploai — cần mật khẩu")
    st.write("Giao diện này được đặt mật khẩu vì máy dùng chung. Hãy nhập mật khẩu để tiếp tục.")
    with st.form("access_form", clear_on_submit=True):
        password = st.text_input("Mật khẩu", type="password", key="access_password")
        submitted = st.form_submit_button("Mở giao diện", type="primary", key="access_submit")
    if submitted:
        with st.spinner("Đang kiểm tra mật khẩu…"):
            fingerprint, problem = access.try_password(folder, password)
        del password
        st.session_state.pop("access_password", None)  # the password is not kept in the session
        if problem is None:
            st.session_state[shared.ACCESS_KEY] = fingerprint
            st.rerun()
        st.error(problem)
    st.caption("Quên mật khẩu: nhờ người quản trị máy này đặt lại hoặc bỏ mật khẩu (xem hướng dẫn cài đặt).")
    st.stop()

pages = [
    st.Page("app_pages/du_lieu.py", title="Dữ liệu", url_path="du-lieu", default=True),
    st.Page("app_pages/viec_can_quyet_dinh.py", title="Việc cần quyết định", url_path="viec-can-quyet-dinh"),
    st.Page("app_pages/ket_qua.py", title="Kết quả", url_path="ket-qua"),
    st.Page("app_pages/nhom_ty_le.py", title="Nhóm tỷ lệ", url_path="nhom-ty-le"),
    st.Page("app_pages/so_do.py", title="Sơ đồ", url_path="so-do"),
    st.Page("app_pages/gia_dinh.py", title="Giả định", url_path="gia-dinh"),
    st.Page("app_pages/giai_trinh.py", title="Giải trình", url_path="giai-trinh"),
    st.Page("app_pages/bao_cao.py", title="Báo cáo", url_path="bao-cao"),
    st.Page("app_pages/nhat_ky.py", title="Nhật ký", url_path="nhat-ky"),
    st.Page("app_pages/quy_dinh.py", title="Quy định", url_path="quy-dinh"),
]
page = st.navigation(pages)
st.markdown(shared.STYLE, unsafe_allow_html=True)

with st.sidebar:
    st.markdown("**xeploai** — xếp loại chất lượng hằng năm: thay đổi ít nhất, có giải trình.")
    source = shared.current_source()
    if source is None:
        st.caption("Chưa nạp hồ sơ.")
    else:
        loaded = appcore.CASES.get(source.ident)
        title = loaded.case.name if loaded is not None else source.name
        st.caption(f"Hồ sơ đang dùng: {shared.md(title)} ({shared.md(source.name)})")
    with st.expander("Thiết lập bộ giải"):
        st.number_input("Thời gian tối đa (giây)", min_value=1, max_value=3600, step=10,
                        value=int(shared.DEFAULT_TIME_LIMIT), key="solve_time_limit",
                        help="Hết thời gian mà chưa chứng minh được tối ưu thì kết quả ghi rõ là chưa chứng minh.")
        st.number_input("Số luồng tính toán", min_value=1, max_value=16, step=1, value=shared.DEFAULT_WORKERS,
                        key="solve_workers")
    st.caption(shared.md(f"Thư mục hồ sơ: {folder}"))
    log_path = appcore.audit_log_path(folder)
    st.caption(shared.md(f"Nhật ký kiểm tra: {log_path}" if log_path else "Nhật ký kiểm tra: đang tắt"))
    st.caption("Mọi dữ liệu chỉ xử lý trên máy này, không gửi đi đâu.")
    if st.session_state.get(shared.ACCESS_KEY):
        if st.button("Khóa giao diện", key="access_lock", help="Đóng phiên này: phải nhập lại mật khẩu."):
            st.session_state.pop(shared.ACCESS_KEY, None)
            st.rerun()

page.run()
