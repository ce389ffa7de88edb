"""Page «Sơ đồ»: the hierarchy as a treemap to drill into, coloured by final level, changes marked; one chi bộ."""

import plotly.graph_objects as go
import streamlit as st

from app_pages import shared
from solver import appcore

st.title("Sơ đồ tổ chức")
text, name, loaded, result = shared.require_result()
subjects = loaded.hierarchy.subjects

st.write("Chọn một tổ chức đảng; bấm vào một ô của sơ đồ để đi sâu xuống (chi bộ → đảng viên, tập thể lãnh đạo "
         "và người đứng đầu), bấm thanh đường dẫn phía trên để quay lại. ▼ là đối tượng bị hạ mức, ▲ là được nâng mức.")
shared.level_legend()

roots = appcore.tree_roots(loaded)
if st.session_state.get("tree_root") not in roots:
    st.session_state.pop("tree_root", None)
root = st.selectbox("Tổ chức đảng", roots, key="tree_root",
                    format_func=lambda sid: f"{subjects[sid].name} ({sid})")
tree = appcore.tree_data(loaded, result, root)
if tree["members_hidden"]:
    st.info("Tổ chức này có quá nhiều đối tượng để vẽ từng đảng viên: sơ đồ chỉ vẽ tổ chức, tập thể và cán bộ "
            "lãnh đạo (số đảng viên ghi trong ngoặc). Chọn một tổ chức cơ sở đảng để thấy từng đảng viên.")
changed = sum(tree["changed"])
st.caption(f"{tree['size']} đối tượng trong sơ đồ, {changed} đối tượng thay đổi.")

fig = go.Figure(go.Treemap(
    ids=tree["ids"], labels=tree["labels"], parents=tree["parents"],
    marker={"colors": tree["colors"], "line": {"width": 1, "color": "#ffffff"}},
    hovertext=tree["hover"], hoverinfo="text", maxdepth=3, pathbar={"visible": True},
    textfont={"color": "#ffffff"}, tiling={"packing": "squarify"},
))
fig.update_layout(height=640, margin={"l": 4, "r": 4, "t": 30, "b": 4})
st.plotly_chart(fig, key="tree_chart", config={"displaylogo": False})

st.subheader("Chi tiết một tổ chức")
branches = appcore.branches_of(loaded, root)
if st.session_state.get("tree_branch") not in branches:
    st.session_state.pop("tree_branch", None)
branch = st.selectbox("Chi bộ / tổ chức", branches, key="tree_branch",
                      format_func=lambda sid: f"{subjects[sid].name} ({sid})")
rows = appcore.attached_rows(loaded, result, branch)
st.dataframe(rows, hide_index=True, width="stretch", height=shared.table_height(len(rows), 600),
             column_order=[c for c in rows[0] if c != "Thuộc"])
moved = [it for it in appcore.change_items(loaded, result) if it["id"] in {r["Mã"] for r in rows}]
if moved:
    st.markdown(f"**Thay đổi trong {shared.md(subjects[branch].name)}** ({len(moved)})")
    for item in moved:
        with st.container(border=True):
            shared.change_block(item)
