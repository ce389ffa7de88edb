"""Page «Giải trình»: for one subject, why it moved (with its chain of causes), where it stands in its quota
group's ranking, and what keeping its level would cost (answered on the incremental session)."""

import streamlit as st

from app_pages import shared
from model.levels import Level
from solver import appcore

st.title("Giải trình")
source, loaded, session, result = shared.require_result()
view = shared.view_of(session)
state = st.session_state

st.write("Chọn một đối tượng (các đối tượng bị thay đổi đứng đầu danh sách) để xem vì sao có mức này, vì sao là "
         "đối tượng này mà không phải đối tượng khác, và nếu giữ nguyên mức thì phải trả giá thế nào.")
q1, q2 = st.columns([1, 2])
query = q1.text_input("Tìm (tên, mã, chi bộ; gõ không dấu cũng được)", key="why_query")
choices = appcore.subject_choices(loaded, result, query, view=view)
asked = state.pop("why_open", None)  # another page opened this one at a subject
if asked in loaded.hierarchy.subjects and loaded.hierarchy.subjects[asked].decided:
    choices = [asked, *(c for c in choices if c != asked)]
    state["why_subject"] = asked
elif state.get("why_subject") not in choices:
    state.pop("why_subject", None)
if not choices:
    st.info("Không tìm thấy đối tượng nào được xếp loại khớp với từ tìm.")
    st.stop()
sid = q2.selectbox("Đối tượng", choices, key="why_subject",
                   format_func=lambda s: appcore.subject_label(loaded, result, s))

why = appcore.why_moved(loaded, result, sid)
st.subheader(shared.md(f"{why['name']} ({sid})"))
st.caption(shared.md(" · ".join(x for x in (why["kind"], why["context"], f"mức mục tiêu {why['source']}") if x)))
if why["lock"] is not None:
    st.caption(f"{appcore.LOCKED} ở mức {why['lock'].official}.")
if why["votes"] is not None:
    v = why["votes"]
    voters = why["voters"] or sum(v.values())
    st.caption(f"Phiếu: Xuất sắc {appcore.num(v['XS'])}, Tốt {appcore.num(v['T'])}, Trung bình {appcore.num(v['TB'])}, "
               f"Kém {appcore.num(v['K'])} — {appcore.num(voters)} người tham gia biểu quyết")

st.markdown("#### Vì sao có mức này")
if why["final"] is None:
    st.write("Chưa có kết quả xếp loại (xem trang «Kết quả»).")
elif why["moved"]:
    st.markdown(shared.md(appcore.clauses_only(why["sentence"])))
    for r in why["reasons"]:
        ref = f" — {r['title']} ({r['citation']})" if r["citation"] else f" — {r['title']}"
        st.markdown(f"- *{shared.md(r['kind'])}*: {shared.md(r['text'])}{shared.md(ref)}")
    chain = appcore.change_chain(loaded, result, sid)
    if chain["nodes"] > 1:
        st.markdown("**Chuỗi nguyên nhân** (nguyên nhân ở bên trái, đối tượng đang xem ở bên phải)")
        st.graphviz_chart(chain["dot"])
else:
    st.success(f"Giữ nguyên mức mục tiêu: {why['final'].official}. Không quy định nào buộc phải thay đổi.")

st.markdown("#### Vì sao là đối tượng này mà không phải đối tượng khác")
ranking = appcore.quota_ranking(loaded, result, sid)
if ranking is None:
    st.write("Đối tượng này không thuộc nhóm tỷ lệ nào.")
else:
    st.markdown(appcore.ranking_sentence({**ranking, "name": shared.md(ranking["name"])}))
    if ranking["excluded"]:
        st.warning(shared.md(f"Đối tượng này không bị hạ vì tỷ lệ: bị hạ do quy định «{ranking['excluded']}», nên "
                             "không tính trong thứ tự của nhóm."))
    if ranking["rows"]:
        st.caption(appcore.ranking_caption(loaded))
        shared.table(ranking["around"], key="why_ranking")
        if len(ranking["rows"]) > len(ranking["around"]):
            with st.expander(f"Cả nhóm ({appcore.num(len(ranking['rows']))} dòng)"):
                shared.table(ranking["rows"][:2000], key="why_ranking_all")
    else:
        st.write("Trong nhóm không có ai được đề nghị Hoàn thành xuất sắc nhiệm vụ.")

@st.fragment
def keep_cost() -> None:
    """«Nếu giữ mức thì sao» (a fragment: the button reruns only this part)."""
    st.markdown("#### Nếu giữ mức thì sao")
    if why["target"] is None:
        return
    levels = [lv.code for lv in appcore.LEVEL_ORDER]
    k1, k2 = st.columns([2, 1], vertical_alignment="bottom")
    keep = k1.selectbox("Giữ ở mức", levels, index=levels.index(why["target"].code), key=f"why_keep_level_{sid}",
                        format_func=lambda c: Level[c].official)
    if k2.button("Tính chi phí", key="why_keep_button", type="primary"):
        state["why_keep_request"] = (sid, keep)
    if state.get("why_keep_request") == (sid, keep):
        with st.spinner("Đang giải lại phần hồ sơ liên quan với đối tượng này bị khóa ở mức đã chọn…"):
            cost = appcore.keep_cost(session, sid, Level[keep], source.name)
        box = st.success if cost["possible"] else st.error
        lines = [appcore.clauses_only(line) for line in cost["lines"]]
        box(shared.md(lines[0]))
        parts = []
        for line in lines[1:]:
            line = line.strip()
            parts.append(f"- {shared.md(line[2:])}" if line.startswith("- ") else f"\n{shared.md(line)}\n")
        if parts:
            st.markdown("\n".join(parts))
        st.caption(appcore.whatif_mode_words(cost["mode"], cost["held"]))
        if not cost["possible"]:
            chain = appcore.conflict_chain(cost["held_loaded"], cost["held"])
            if chain["dot"]:
                st.graphviz_chart(chain["dot"])


keep_cost()
