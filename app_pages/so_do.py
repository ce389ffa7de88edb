"""Page «Sơ đồ»: the hierarchy as a treemap, coloured by change (or by level), never more boxes than the
browser draws at once; one organization's subjects and changes below."""

import streamlit as st

from app_pages import shared
from solver import appcore

COLOR = {"change": "thay đổi (hạ mức, nâng mức, giữ nguyên)", "level": "mức kết quả"}

st.title("Sơ đồ tổ chức")
source, loaded, session, result = shared.require_result()
subjects = loaded.hierarchy.subjects
state = st.session_state


def root_changed() -> None:
    state.pop("tree_branch", None)  # the organizations below the old root are not offered any more


st.write("Chọn một tổ chức đảng; bấm vào một ô để đi sâu xuống (chi bộ → đảng viên, tập thể lãnh đạo và người "
         "đứng đầu), bấm thanh đường dẫn phía trên để quay lại.")
roots = session.derived("tree_roots", lambda: appcore.tree_roots(loaded))
if state.get("tree_root") not in roots:
    state.pop("tree_root", None)
c1, c2, c3 = st.columns([3, 2, 2])
root = c1.selectbox("Tổ chức đảng", roots, key="tree_root", on_change=root_changed,
                    format_func=lambda sid: f"{subjects[sid].name} ({sid})")
color = c2.radio("Tô màu theo", list(COLOR), key="tree_color", format_func=COLOR.get)
only = c3.toggle("Chỉ hiện các thay đổi", key="tree_only_changes",
                 help="Chỉ vẽ các đối tượng bị thay đổi và các tổ chức chứa chúng.")
if color == "change":
    shared.change_legend()
else:
    shared.level_legend()
tree = session.derived(f"tree:{root}:{color}:{only}",
                       lambda: appcore.tree_data(loaded, result, root, color=color, only_changes=only))
if tree["mode"] != "all":
    st.info(f"Tổ chức này có quá nhiều đối tượng để vẽ từng ô (tối đa {appcore.num(appcore.MAX_BOXES)} ô): sơ đồ "
            + ("chỉ vẽ các tổ chức đảng ở các cấp trên cùng" if tree["mode"].startswith("depth") else
               "bỏ bớt đảng viên" if tree["mode"] == "no_members" else "chỉ vẽ các tổ chức đảng")
            + "; mỗi tổ chức ghi số đảng viên và số thay đổi bên trong. Chọn một tổ chức cơ sở đảng, hoặc bật «Chỉ "
              "hiện các thay đổi», để thấy từng người.")
st.caption(f"{appcore.num(tree['size'])} ô trong sơ đồ; {appcore.num(tree['changes_inside'])} thay đổi trong tổ "
           "chức này.")
st.plotly_chart(appcore.tree_figure(tree, color), key="tree_chart", config={"displaylogo": False,
                                                                             "displayModeBar": False})

@st.fragment
def details() -> None:
    """One organization's subjects and changes (a fragment: choosing one does not redraw the tree)."""
    st.subheader("Chi tiết một tổ chức")
    branches = appcore.branches_of(loaded, root)
    if state.get("tree_branch") not in branches:
        state.pop("tree_branch", None)
    branch = st.selectbox("Chi bộ / tổ chức trực thuộc", branches, key="tree_branch",
                          format_func=lambda sid: f"{subjects[sid].name} ({sid})")
    view = shared.view_of(session)
    ids = appcore.attached_ids(loaded, branch)
    t1, t2 = st.columns([1, 4], vertical_alignment="bottom")
    page = shared.pager(len(ids), "tree_page", container=t1)
    t2.caption(f"{appcore.num(len(ids))} đối tượng: tổ chức, tập thể lãnh đạo và người đứng đầu, đảng viên.")
    start = (page - 1) * appcore.PAGE_SIZE
    shared.table(view.rows(ids[start:start + appcore.PAGE_SIZE]), key="tree_rows",
                 height=shared.table_height(min(len(ids), 12), 460))
    moved = [sid for sid in ids if sid in view.change_of]
    if moved:
        st.markdown(f"**Thay đổi trong {shared.md(subjects[branch].name)}** ({appcore.num(len(moved))})")
        for item in appcore.change_items(loaded, result, moved[:50]):
            with st.container(border=True):
                shared.change_block(item)


details()
