"""Page «Nhóm tỷ lệ»: per quota group, XS against its cap; the chart opens on the groups the committee decides
and those over the cap before solving."""

import streamlit as st

from app_pages import shared
from solver import appcore

SHOW = {"focus": "Nhóm cần quyết định và nhóm vượt trần", "xs": "Mọi nhóm có đề nghị XS", "all": "Mọi nhóm"}

st.title("Nhóm tỷ lệ")
source, loaded, session, result = shared.require_result()
st.write(appcore.cap_sentence(result.options, loaded))

rows = session.derived("quota_rows", lambda: appcore.quota_rows(loaded, result))
decided = appcore.decided_groups(result)
over = [r for r in rows if r["over_before"]]
still_over = [r for r in rows if r["after_xs"] is not None and r["after_xs"] > r["after_cap"]]
cols = st.columns(4)
cols[0].metric("Số nhóm tỷ lệ", appcore.num(len(rows)))
cols[1].metric("Nhóm cần quyết định", appcore.num(len(decided)))
cols[2].metric("Vượt trần trước khi giải", appcore.num(len(over)))
cols[3].metric("Còn vượt trần sau khi giải", appcore.num(len(still_over)) if result.levels else "—")

f1, f2, f3 = st.columns([3, 3, 2])
show = f1.radio("Hiện", list(SHOW), key="quota_show", format_func=SHOW.get, horizontal=False)
kinds = f2.multiselect("Loại đối tượng", sorted({r["kind"] for r in rows}), key="quota_kinds",
                       placeholder=shared.CHOOSE)
limit = f3.number_input("Số nhóm trên biểu đồ", min_value=5, max_value=200, value=30, step=5, key="quota_limit")
shown = appcore.select_quota_rows(rows, kinds, only_with_xs=show == "xs", limit=int(limit), decided=decided,
                                  focus=show == "focus")
if shown:
    st.plotly_chart(appcore.quota_figure(shown, bool(result.levels), decided), key="quota_chart",
                    config={"displaylogo": False, "displayModeBar": False})
    st.caption("◆ và cột tím: nhóm có việc cấp có thẩm quyền quyết định (trang «Việc cần quyết định»). Cột đỏ: nhóm "
               "có số đề nghị XS vượt trần trước khi giải. Vạch đen: số XS tối đa được phép.")
elif show == "focus":
    st.info("Không có nhóm nào cần quyết định hay vượt trần trước khi giải. Chọn «Mọi nhóm có đề nghị XS» để xem "
            "các nhóm khác.")
else:
    st.info("Không có nhóm nào theo bộ lọc đã chọn.")

@st.fragment
def groups_table() -> None:
    """Every group the filters keep, a page at a time (a fragment: turning a page does not redraw the chart)."""
    st.subheader("Bảng các nhóm tỷ lệ")
    table = [r for r in rows if (not kinds or r["kind"] in kinds)
             and (show == "all" or (show == "xs" and (r["before_xs"] or r["after_xs"]))
                  or (show == "focus" and (r["group"] in decided or r["over_before"])))]
    table.sort(key=lambda r: (r["group"] not in decided, not r["over_before"], -r["size"], r["name"]))
    t1, t2 = st.columns([1, 4], vertical_alignment="bottom")
    page = shared.pager(len(table), "quota_page", container=t1)
    t2.caption(f"{appcore.num(len(table))} nhóm")
    start = (page - 1) * appcore.PAGE_SIZE
    shared.table(appcore.quota_display(table[start:start + appcore.PAGE_SIZE], decided), key="quota_table",
                 widths={"Nhóm tỷ lệ": 330, "XS đề nghị → kết quả": 125, "Tối đa XS": 75, "Cần quyết định": 90,
                         "Vượt trần trước khi giải": 90, "XS/T kết quả": 85, "Số đối tượng": 85})


groups_table()
