"""Page «Giải trình»: for one subject, why it moved, why it and not another, and what keeping it would cost."""

import streamlit as st

from app_pages import shared
from model.levels import Level
from solver import appcore

st.title("Giải trình")
text, name, loaded, result = shared.require_result()
state = st.session_state

st.write("Chọn một đối tượng (các đối tượng bị thay đổi đứng đầu danh sách) để xem vì sao có mức này, vì sao là "
         "đối tượng này mà không phải đối tượng khác, và nếu giữ nguyên mức thì phải trả giá thế nào.")
q1, q2 = st.columns([1, 2])
query = q1.text_input("Tìm (tên hoặc mã)", key="why_query")
choices = appcore.subject_choices(loaded, result, query)
if not choices:
    st.info("Không tìm thấy đối tượng nào được xếp loại khớp với từ tìm.")
    st.stop()
if state.get("why_subject") not in choices:
    state.pop("why_subject", None)
sid = q2.selectbox("Đối tượng", choices, key="why_subject",
                   format_func=lambda s: appcore.subject_label(loaded, result, s))

why = appcore.why_moved(loaded, result, sid)
st.subheader(shared.md(f"{why['name']} ({sid})"))
st.caption(shared.md(" · ".join(x for x in (why["kind"], why["context"], f"mức mục tiêu {why['source']}") if x)))
if why["votes"] is not None:
    v = why["votes"]
    voters = why["voters"] or sum(v.values())
    st.caption(f"Phiếu: Xuất sắc {v['XS']}, Tốt {v['T']}, Trung bình {v['TB']}, Kém {v['K']} — {voters} người "
               "tham gia biểu quyết")

st.markdown("#### Vì sao có mức này")
if why["final"] is None:
    st.write("Chưa có kết quả xếp loại (xem trang «Kết quả»).")
elif why["moved"]:
    st.markdown(shared.md(why["sentence"]))
    for r in why["reasons"]:
        ref = f" — {r['rule']}, {r['citation']}" if r["citation"] else f" — {r['rule']}"
        st.markdown(f"- *{shared.md(r['kind'])}*: {shared.md(r['text'])}{shared.md(ref)}")
else:
    st.success(f"Giữ nguyên mức mục tiêu: {why['final'].official}. Không quy định nào buộc phải thay đổi.")

st.markdown("#### Vì sao là đối tượng này mà không phải đối tượng khác")
ranking = appcore.quota_ranking(loaded, result, sid)
if ranking is None:
    st.write("Đối tượng này không thuộc nhóm tỷ lệ nào.")
else:
    nums = ranking["numbers"] or {}
    cap = nums.get("after_cap") if nums.get("after_cap") is not None else nums.get("before_cap")
    st.markdown(
        f"Nhóm tỷ lệ **{shared.md(ranking['name'])}** ({ranking['size']} đối tượng): {nums.get('before_xs', 0)} đề "
        f"nghị XS; sau khi xếp: {nums.get('after_xs', '—')} XS, {nums.get('after_t', '—')} T; tối đa {cap} XS "
        f"({nums.get('rule', '')}).")
    if ranking["rows"]:
        st.caption("Khi nhóm vượt trần, xeploai hạ trước những đối tượng có tỷ lệ phiếu Xuất sắc thấp nhất (giữ "
                   "người được tín nhiệm cao), trừ khi hạ người đó kéo theo nhiều thay đổi hơn hoặc người đó đã "
                   "bị khóa mức.")
        st.dataframe(ranking["rows"], hide_index=True, width="stretch")
    else:
        st.write("Trong nhóm không có ai được đề nghị Hoàn thành xuất sắc nhiệm vụ.")

st.markdown("#### Nếu giữ mức thì sao")
if why["target"] is None:
    st.stop()
levels = [lv.code for lv in (Level.XS, Level.T, Level.HT, Level.K)]
k1, k2 = st.columns([2, 1], vertical_alignment="bottom")
keep = k1.selectbox("Giữ ở mức", levels, index=levels.index(why["target"].code), key=f"why_keep_level_{sid}",
                    format_func=lambda c: Level[c].official)
if k2.button("Tính chi phí", key="why_keep_button", type="primary"):
    state["why_keep_request"] = (sid, keep)
if state.get("why_keep_request") == (sid, keep):
    time_limit, workers = shared.settings()
    with st.spinner("Đang giải lại với đối tượng này bị khóa ở mức đã chọn…"):
        cost = shared.keep_cost(text, name, sid, keep, time_limit, workers)
    box = st.success if cost["possible"] else st.error
    box(shared.md(cost["lines"][0]))
    parts = []
    for line in cost["lines"][1:]:
        line = line.strip()
        parts.append(f"- {shared.md(line[2:])}" if line.startswith("- ") else f"\n{shared.md(line)}\n")
    if parts:
        st.markdown("\n".join(parts))
