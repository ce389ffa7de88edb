"""Page «Kết quả»: the status in words, the counts before and after per kind, the changes grouped by TCCSĐ and
chi bộ with their reasons, and every subject — searched, filtered and paged on the server."""

import streamlit as st

from app_pages import shared
from model.levels import Level
from solver import appcore

PER_PAGE = 50

st.title("Kết quả xếp loại")
source, loaded, session, result = shared.require_result()
with st.spinner("Đang chuẩn bị các bảng…"):
    view = shared.view_of(session)

shared.status_box(result)
cols = st.columns(4)
cols[0].metric("Đã chứng minh tối ưu", "Có" if result.proven else "Chưa")
cols[1].metric("Số đối tượng thay đổi", appcore.num(result.changed))
cols[2].metric("Tổng số bậc thay đổi", appcore.num(result.steps))
cols[3].metric("Thời gian giải", f"{appcore.dec(result.wall_time, 2)} giây")
if result.decisions:
    st.info(f"Có {appcore.num(len(result.decisions))} việc cần cấp có thẩm quyền quyết định (mâu thuẫn, phương án "
            "ngang nhau…): xem trang «Việc cần quyết định».")
    st.page_link(shared.PAGE_DECISIONS, label="Mở trang Việc cần quyết định")

st.subheader("Số lượng theo mức, trước và sau")
st.caption("«Trước» là mức mục tiêu (mức ghi sẵn, theo điểm thẩm định, theo phiếu biểu quyết hoặc mức đề xuất); «sau» là kết quả.")
counts = session.derived("level_counts", lambda: appcore.level_counts(loaded, result))
st.plotly_chart(appcore.before_after_figure(appcore.level_count_data(counts)), key="res_bars",
                config={"displaylogo": False, "displayModeBar": False})
st.dataframe(appcore.level_count_rows(counts), hide_index=True, width="stretch", key="res_counts")

# ---- the changes, grouped by TCCSĐ and chi bộ (a fragment: its filters rerun only this part) -------------


@st.fragment
def changes() -> None:
    st.subheader(f"Các thay đổi và lý do ({appcore.num(len(result.changes))})")
    if not result.changes:
        st.write("Không có đối tượng nào phải thay đổi so với mức mục tiêu." if result.levels else
                 "Chưa có kết quả xếp loại.")
        return
    groups = session.derived("change_groups", view.change_groups)
    by_id = {g["id"]: g for g in groups}
    st.caption("Số thay đổi theo tổ chức cơ sở đảng (nhiều nhất trước); chọn một tổ chức để xem từng thay đổi.")
    shared.table([{"Tổ chức cơ sở đảng": g["name"], "Thay đổi": appcore.num(g["changes"]),
                   "Hạ mức": appcore.num(g["down"]), "Nâng mức": appcore.num(g["up"]),
                   "Chi bộ có thay đổi": appcore.num(sum(1 for b in g["branches"] if b["id"] is not None))}
                  for g in groups[:300]], key="res_groups", height=shared.table_height(min(len(groups), 8)),
                 widths={"Tổ chức cơ sở đảng": 380, "Thay đổi": 90, "Hạ mức": 90, "Nâng mức": 90,
                         "Chi bộ có thay đổi": 130})
    g1, g2 = st.columns(2)
    options = [None, *by_id]
    if st.session_state.get("res_group") not in options:
        st.session_state.pop("res_group", None)
    group = g1.selectbox("Tổ chức cơ sở đảng", options, key="res_group",
                         format_func=lambda g: "Tất cả" if g is None else
                         f"{by_id[g]['name']} ({appcore.num(by_id[g]['changes'])} thay đổi)")
    branches = by_id[group]["branches"] if group is not None else []
    branch_ids = [None, *(b["id"] for b in branches if b["id"] is not None)]
    names = {b["id"]: b for b in branches}
    if st.session_state.get("res_branch") not in branch_ids:
        st.session_state.pop("res_branch", None)
    branch = g2.selectbox("Chi bộ", branch_ids, key="res_branch", disabled=group is None,
                          format_func=lambda b: "Tất cả" if b is None else
                          f"{names[b]['name']} ({appcore.num(names[b]['changes'])} thay đổi)")
    f1, f2, f3 = st.columns([2, 2, 2])
    query = f1.text_input("Tìm (tên, mã, chi bộ, tổ chức; gõ không dấu cũng được)", key="res_change_query")
    kinds = f2.multiselect("Loại đối tượng", appcore.kind_choices(loaded), key="res_change_kinds",
                           format_func=appcore.kind_label, placeholder=shared.CHOOSE)
    rules = f3.multiselect("Quy định", session.derived("rule_titles", view.change_rule_titles),
                           key="res_change_rules", placeholder=shared.CHOOSE)
    shown = view.change_ids(query, kinds, rules, group, branch)
    p1, p2 = st.columns([1, 4], vertical_alignment="bottom")
    page = shared.pager(len(shown), "res_change_page", PER_PAGE, p1)
    p2.caption(f"{appcore.num(len(shown))} thay đổi" + (f", mỗi trang {PER_PAGE}" if len(shown) > PER_PAGE else ""))
    for item in appcore.change_items(loaded, result, shown[(page - 1) * PER_PAGE: page * PER_PAGE]):
        with st.container(border=True):
            shared.change_block(item)


# ---- every subject (a fragment too) ---------------------------------------------------------------------------


@st.fragment
def subjects() -> None:
    st.subheader("Tất cả đối tượng")
    h1, h2, h3, h4 = st.columns([3, 2, 2, 2])
    query = h1.text_input("Tìm (tên, mã, chi bộ, tổ chức; gõ không dấu cũng được)", key="res_subject_query")
    kinds = h2.multiselect("Loại", appcore.kind_choices(loaded), key="res_subject_kinds",
                           format_func=appcore.kind_label, placeholder=shared.CHOOSE)
    states = h3.multiselect("Thay đổi", list(appcore.STATES), key="res_subject_states", placeholder=shared.CHOOSE)
    finals = h4.multiselect("Kết quả", [lv.code for lv in appcore.LEVEL_ORDER], key="res_subject_finals",
                            placeholder=shared.CHOOSE, format_func=lambda c: f"{c} — {Level[c].official}")
    found = view.find(query, kinds, states, finals)
    s1, s2 = st.columns([1, 4], vertical_alignment="bottom")
    page = shared.pager(len(found), "res_subject_page", container=s1)
    s2.caption(f"{appcore.num(len(found))} / {appcore.num(len(view.ids))} đối tượng; mỗi trang "
               f"{appcore.num(appcore.PAGE_SIZE)}. Mức: XS, T, HT, K là Hoàn thành xuất sắc, tốt, hoàn thành, không "
               "hoàn thành nhiệm vụ.")
    shared.table(view.page(found, page), key="res_subjects", height=shared.table_height(min(len(found), 12), 460))


changes()
subjects()
