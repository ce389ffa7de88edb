"""Page «Kết quả»: the status in words, the counts before and after, every change with its reasons, all subjects."""

import streamlit as st

from app_pages import shared
from model.case import KIND_LABELS, Kind
from solver import appcore
from solver.reports.word import TIE_INTRO

PER_PAGE = 50

st.title("Kết quả xếp loại")
text, name, loaded, result = shared.require_result()

shared.status_box(result)
cols = st.columns(4)
cols[0].metric("Đã chứng minh tối ưu", "Có" if result.proven else "Chưa")
cols[1].metric("Số đối tượng thay đổi", "—" if result.changed is None else result.changed)
cols[2].metric("Tổng số bậc thay đổi", "—" if result.steps is None else result.steps)
cols[3].metric("Thời gian giải", f"{result.wall_time:.2f} giây".replace(".", ","))

if result.conflicts:
    st.subheader("Các quyết định và quy định mâu thuẫn nhau")
    st.markdown("\n".join(f"- {shared.md(c['Nội dung'])}" + (f" [{c['Quy tắc']}, {shared.md(c['Trích dẫn'])}]"
                                                              if c["Trích dẫn"] else "")
                          for c in appcore.conflict_rows(result)))

st.subheader("Số lượng theo mức, trước và sau")
st.caption("«Trước» là mức mục tiêu (theo phiếu biểu quyết, mức ghi sẵn hoặc mức đề xuất); «sau» là kết quả.")
st.dataframe(appcore.level_count_rows(loaded, result), hide_index=True, width="stretch")

items = appcore.change_items(loaded, result)
st.subheader(f"Các thay đổi và lý do ({len(items)})")
if not items:
    st.write("Không có đối tượng nào phải thay đổi so với mức mục tiêu." if result.levels else
             "Chưa có kết quả xếp loại.")
else:
    f1, f2, f3 = st.columns([2, 2, 1])
    query = f1.text_input("Tìm trong các thay đổi (tên, mã, lý do)", key="res_change_query")
    kinds = f2.multiselect("Loại đối tượng", [k.value for k in Kind if k is not Kind.unit], key="res_change_kinds",
                           format_func=lambda k: KIND_LABELS[Kind(k)], placeholder=shared.CHOOSE)
    rules = f3.multiselect("Quy tắc", sorted({r for it in items for r in it["rules"]}), key="res_change_rules",
                           placeholder=shared.CHOOSE)
    shown = appcore.filter_changes(items, query, kinds, rules)
    pages = max(1, -(-len(shown) // PER_PAGE))
    p1, p2 = st.columns([1, 4], vertical_alignment="bottom")
    page = 1
    if pages > 1:
        if not 1 <= st.session_state.get("res_change_page", 1) <= pages:
            st.session_state["res_change_page"] = 1
        page = p1.number_input(f"Trang (trên {pages})", min_value=1, max_value=pages, step=1, key="res_change_page")
    p2.caption(f"Hiện {len(shown)} thay đổi" + (f", mỗi trang {PER_PAGE}" if pages > 1 else ""))
    for item in shown[(page - 1) * PER_PAGE: page * PER_PAGE]:
        with st.container(border=True):
            shared.change_block(item)

if result.ties:
    st.subheader(f"Phương án ngang nhau ({len(result.ties)} nhóm)")
    st.write(TIE_INTRO)
    st.dataframe(appcore.tie_rows(loaded, result), hide_index=True, width="stretch")

st.subheader("Tất cả đối tượng")
rows = appcore.subject_rows(loaded, result)
g1, g2, g3, g4 = st.columns([2, 2, 2, 1])
query = g1.text_input("Tìm (mã, tên, tổ chức)", key="res_subject_query")
kinds = g2.multiselect("Loại", sorted({r["Loại"] for r in rows}), key="res_subject_kinds",
                       placeholder=shared.CHOOSE)
states = g3.multiselect("Thay đổi", sorted({r["Thay đổi"] for r in rows}), key="res_subject_states",
                        placeholder=shared.CHOOSE)
finals = g4.multiselect("Kết quả", ["XS", "T", "HT", "K"], key="res_subject_finals", placeholder=shared.CHOOSE)
subset = appcore.filter_subjects(rows, query, kinds, states, finals)
st.caption(f"{len(subset)} / {len(rows)} đối tượng")
st.dataframe(subset, hide_index=True, width="stretch", height=shared.table_height(len(subset)))
