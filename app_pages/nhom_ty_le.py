"""Page «Nhóm tỷ lệ»: per quota group, XS against its cap (chart and table), groups over the cap before highlighted."""

import plotly.graph_objects as go
import streamlit as st

from app_pages import shared
from model.levels import Level
from solver import appcore
from solver.reports.word import cap_sentence

OVER_COLOR = "#c62828"
BEFORE_COLOR = "#9e9e9e"

st.title("Nhóm tỷ lệ")
text, name, loaded, result = shared.require_result()
st.write(cap_sentence(result))

rows = appcore.quota_rows(loaded, result)
over = [r for r in rows if r["over_before"]]
still_over = [r for r in rows if r["after_xs"] is not None and r["after_xs"] > r["after_cap"]]
cols = st.columns(3)
cols[0].metric("Số nhóm tỷ lệ", len(rows))
cols[1].metric("Vượt trần trước khi giải", len(over))
cols[2].metric("Còn vượt trần sau khi giải", len(still_over) if result.levels else "—")

f1, f2, f3, f4 = st.columns([3, 2, 2, 2])
kinds = f1.multiselect("Loại đối tượng", sorted({r["kind"] for r in rows}), key="quota_kinds",
                       placeholder=shared.CHOOSE)
only_over = f2.checkbox("Chỉ nhóm vượt trần", key="quota_only_over",
                        help="Chỉ các nhóm có số đề nghị XS vượt trần trước khi giải.")
only_xs = f3.checkbox("Chỉ nhóm có đề nghị XS", value=True, key="quota_only_xs")
limit = f4.number_input("Số nhóm trên biểu đồ", min_value=5, max_value=300, value=30, step=5, key="quota_limit")
shown = appcore.select_quota_rows(rows, kinds, only_over, only_xs, int(limit))

if shown:
    labels = appcore.unique_labels([r["name"] for r in shown])
    fig = go.Figure()
    for over, color, legend in ((True, OVER_COLOR, "XS đề nghị, vượt trần"), (False, BEFORE_COLOR, "XS đề nghị")):
        if any(r["over_before"] is over for r in shown):
            fig.add_bar(y=labels, x=[r["before_xs"] if r["over_before"] is over else None for r in shown],
                        orientation="h", name=legend, marker_color=color, offsetgroup="before",
                        hovertemplate="%{y}<br>XS đề nghị: %{x}<extra></extra>")
    if result.levels:
        fig.add_bar(y=labels, x=[r["after_xs"] for r in shown], orientation="h", name="XS kết quả", offsetgroup="after",
                    marker_color=appcore.LEVEL_COLORS[Level.XS],
                    hovertemplate="%{y}<br>XS kết quả: %{x}<extra></extra>")
        caps = [r["after_cap"] for r in shown]
    else:
        caps = [r["before_cap"] for r in shown]
    fig.add_scatter(y=labels, x=caps, mode="markers", name="Tối đa XS được phép",
                    marker={"symbol": "line-ns", "size": 22, "line": {"width": 3, "color": "#111111"}},
                    hovertemplate="%{y}<br>Tối đa XS: %{x}<extra></extra>")
    fig.update_layout(barmode="group", height=max(320, 34 * len(shown) + 120),
                      yaxis={"autorange": "reversed", "automargin": True},
                      xaxis={"title": "Số đối tượng xếp loại Hoàn thành xuất sắc nhiệm vụ", "rangemode": "tozero"},
                      legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
                      margin={"l": 10, "r": 10, "t": 40, "b": 40})
    st.plotly_chart(fig, key="quota_chart", config={"displaylogo": False})
    st.caption("Cột đỏ: nhóm có số đề nghị XS vượt trần trước khi giải. Vạch đen: số XS tối đa được phép (C1/C2).")
else:
    st.info("Không có nhóm nào theo bộ lọc đã chọn.")

st.subheader("Bảng các nhóm tỷ lệ")
table = [r for r in rows if (not kinds or r["kind"] in kinds) and (not only_over or r["over_before"])]
st.dataframe(appcore.quota_display(table), hide_index=True, width="stretch", height=shared.table_height(len(table)))
