"""What the competent level must decide itself: ties, conflicts between locks, and (as the engine grows)
changes against the vote ranking with their computed cost and the exceptions a case records.

Each matter is a ``solver.result.Decision`` record; its sentence is rendered from its figures here, so the
CLI, the app, the Word report and the JSON say the same words.
"""

from __future__ import annotations

from model.loader import LoadedCase
from solver.engine.rules import main_post
from model.case import DISCIPLINE_FORMS
from model.levels import Level
from solver.explanations.words import cite, claim_sentence, joined, measure, share_of
from solver.result import Decision, SolveResult


def _names(loaded: LoadedCase, ids) -> str:
    subjects = loaded.hierarchy.subjects
    return joined([subjects[i].name for i in ids])


def tie_decisions(loaded: LoadedCase, result: SolveResult) -> list[Decision]:
    """One matter per quota group with equally good answers: who may change places, and what was chosen."""
    out = []
    h = loaded.hierarchy
    what = measure(loaded)
    for tie in result.ties:
        group = h.group(tie.group).name if tie.group and tie.group in h._groups_by_id else ""
        chosen = dict(tie.chosen)
        kept = [s for s in tie.subjects if chosen[s] == max(chosen.values())]
        where = f" trong nhóm «{group}»" if group else ""
        text = (f"{len(tie.subjects)} đối tượng{where} có thể đổi chỗ cho nhau mà số thay đổi, số bậc và tổng "
                f"{what} của những người phải hạ không đổi: {_names(loaded, tie.subjects)}. Phương án đề xuất giữ "
                f"{_names(loaded, kept)} theo thứ tự trong hồ sơ; cấp có thẩm quyền có thể chọn khác.")
        out.append(Decision("tie", "Phương án ngang nhau", text, tuple(tie.subjects), tie.group or None,
                            (("count", len(tie.subjects)),)))
    return out


def conflict_decisions(loaded: LoadedCase, result: SolveResult) -> list[Decision]:
    """The conflicting locks and rules as one matter: the committee must lift a lock or change a fact."""
    if not result.conflicts:
        return []
    locks = [c.subject for c in result.conflicts if c.kind == "lock" and c.subject]
    text = ("Các quyết định và quy định sau không thể cùng thỏa mãn: "
            + "; ".join(c.text for c in result.conflicts)
            + ". Cấp có thẩm quyền cần bỏ hoặc sửa ít nhất một quyết định trong số này.")
    return [Decision("conflict", "Các quyết định mâu thuẫn nhau", text, tuple(locks), None,
                     (("items", len(result.conflicts)), ("minimal", result.conflict_minimal)))]


def _post(loaded: LoadedCase, sid: str) -> str:
    """A record of a person as a post: a leader record's own name, or "<name>, đảng viên <chi bộ>"."""
    s = loaded.hierarchy.subjects[sid]
    if s.parent is not None:
        return f"{s.name}, đảng viên {loaded.hierarchy.subjects[s.parent].name}"
    return s.name


def several_posts_decisions(loaded: LoadedCase, result: SolveResult) -> list[Decision]:
    """P1: each person whose records end at different levels, with the main and highest post named; the
    competent level decides (BMT II.B.5 takes the main post's level as the basis, BĐ 5.5 leaves it to it)."""
    if not result.levels or not loaded.options.on("P1") or loaded.options.several_posts != "report":
        return []
    h = loaded.hierarchy
    out = []
    for person, recs in h.persons.items():
        rated = [r for r in recs if r in result.levels]
        if len({result.levels[r] for r in rated}) < 2:
            continue
        main = main_post(h, person)
        posts = "; ".join(f"{_post(loaded, r)}: {result.levels[r].official}" for r in rated)
        main_words = (f"chức vụ đảm nhiệm chính và cao nhất là {_post(loaded, main)} "
                      f"({result.levels[main].official})" if main in result.levels else
                      f"chức vụ đảm nhiệm chính và cao nhất ({h.subjects[main].name}) không xếp loại trong hồ sơ này")
        text = (f"Cùng một người có mức xếp loại khác nhau ở các nơi — {posts}; {main_words}. Cấp có thẩm quyền "
                "xem xét, quyết định mức chất lượng của người này.")
        out.append(Decision("several_posts", "Một người, mức khác nhau ở các chức vụ", text, tuple(rated), None,
                            (("person", person), ("main", main)), "P1", cite(loaded, "P1")))
    return out


def ranking_decisions(loaded: LoadedCase, result: SolveResult) -> list[Decision]:
    """Each move against the vote ranking, with its computed cost (ties are listed as ties)."""
    out = []
    h = loaded.hierarchy
    title = f"Thay đổi không theo thứ tự {measure(loaded)}"
    by_id = {ch.id: ch for ch in result.changes} if result.claims else {}
    for c in result.claims.values():
        if c.verdict == "tie":
            continue
        s = h.subjects[c.sid]
        final = result.levels[c.sid]
        text = (f"{s.name} ({share_of(loaded, c.sid)}) được đề nghị {Level.XS.official} nhưng xếp {final.official}; "
                + claim_sentence(loaded, c) + ".")
        change = by_id.get(c.sid)
        rule = "C2" if change is not None and any(r.rule == "C2" for r in change.reasons) else "C1"
        out.append(Decision("against_ranking", title, text,
                            (c.sid, *c.weaker_kept), c.group,
                            (("verdict", c.verdict), ("extra_changes", c.extra_changes),
                             ("extra_steps", c.extra_steps), ("base_support", c.base_support),
                             ("alt_support", c.alt_support)), rule, cite(loaded, rule, s.kind.value)))
    return out


def exception_decisions(loaded: LoadedCase, result: SolveResult) -> list[Decision]:
    """C3: each 25% decision the case records, with the groups it covers, its reason and its author."""
    if not loaded.options.on("C3") or not loaded.case.exceptions:
        return []
    from solver.engine.rules import Context, exception_groups

    h = loaded.hierarchy
    covered = exception_groups(Context(h, loaded.options, decided_ids=set(result.targets)))
    out = []
    for e in loaded.case.exceptions:
        groups = [h.group(g).name for g, (_p, scope) in covered.items() if scope == e.scope]
        where = ("; áp dụng cho nhóm: " + ", ".join(f"«{g}»" for g in groups)) if groups else (
            "; chưa có nhóm tỷ lệ nào gồm toàn tập thể, cá nhân thuộc phạm vi quản lý của tổ chức này")
        text = (f"{e.author} quyết định tỷ lệ Hoàn thành xuất sắc nhiệm vụ {e.percent}% (thay cho "
                f"{loaded.options.cap_percent}%) đối với tập thể, cá nhân thuộc phạm vi quản lý của "
                f"{h.subjects[e.scope].name}. Lý do: {e.reason}{where}.")
        out.append(Decision("exception", f"Quyết định tỷ lệ {e.percent}%", text, (e.scope,), None,
                            (("percent", e.percent), ("groups", len(groups))), "C3", cite(loaded, "C3")))
    return out


def _decided_by_lock(s) -> str:
    """The sentence of a decision the competent level took (a lock with its reason and author), or "" while
    it is not taken: a lock without its reason or author does not settle the matter (QĐ 366 leaves it to a
    recorded decision)."""
    if s.lock is None or not s.lock_reason or not s.lock_author:
        return ""
    return f" Cấp có thẩm quyền đã quyết định mức {s.lock.official}: {s.lock_reason} ({s.lock_author})."


def _ask(s) -> str:
    if s.lock is not None:
        return (f" Hồ sơ có mức khóa {s.lock.official} nhưng chưa ghi lý do và người quyết định: cần ghi đủ để hoàn tất "
                "quyết định.")
    return " Cấp có thẩm quyền xem xét, quyết định (khóa mức, ghi lý do và người quyết định)."


def regulation_decisions(loaded: LoadedCase, result: SolveResult) -> list[Decision]:
    """Under QĐ 366, what the product does not rate itself: a violation self-reported and remedied (the competent
    level weighs it, Điều 11 khoản 4), a discipline recorded without its form and kind, and tasks that meet
    neither the conditions of HTNV nor a K clause. Each is resolved by a lock with its reason and author."""
    o = loaded.options
    if not (o.on("Q5") or o.on("Q4") or o.on("Q2") or o.on("Q6")):
        return []
    from solver.engine.rules import Context, collective_members, task_cap

    out = []
    # Q6: members who found and remedied a duty-related violation; a rule context (which reads the case's
    # conduct indexes) only when there is one, so that a what-if does not pay for it
    remedied = {s.id for s in loaded.case.subjects
                if s.facts.discipline is not None and s.facts.discipline.kind == "duty"
                and s.facts.discipline.self_reported} if o.on("Q6") else set()
    ctx = None
    for s in loaded.case.subjects:
        if not s.decided:
            continue
        f = s.facts
        done = _decided_by_lock(s)
        ask = "" if done else _ask(s)
        if o.on("Q5") and f.discipline is not None and f.discipline.self_reported:
            text = (f"{s.name} bị kỷ luật {DISCIPLINE_FORMS[f.discipline.form]} nhưng đã tự giác nhận lỗi, tự phát hiện "
                    f"vi phạm và khắc phục xong hậu quả: mức xếp loại do cấp có thẩm quyền căn cứ hoàn cảnh, tính chất, mức độ vi phạm để quyết định.{done or ask}")
            out.append(Decision("exception", "Vi phạm tự giác nhận lỗi, đã khắc phục", text, (s.id,), None,
                                (("resolved", bool(done)),), "Q5", cite(loaded, "Q5", s.kind.value)))
        if o.on("Q4") and s.kind.value == "leader" and f.corruption_in_scope and f.self_remedied:
            text = (f"{s.name}: trong phạm vi quản lý trực tiếp xảy ra tham nhũng, lãng phí, tiêu cực bị kỷ luật, nhưng "
                    f"cán bộ đã chủ động phát hiện, báo cáo, chỉ đạo xử lý và khắc phục xong hậu quả.{done or ask}")
            out.append(Decision("exception", "Chủ động phát hiện, xử lý vi phạm trong phạm vi quản lý", text, (s.id,),
                                None, (("resolved", bool(done)),), "Q4", cite(loaded, "Q4", s.kind.value)))
        if o.on("Q5") and f.disciplined and f.discipline is None and s.kind.value in ("member", "leader"):
            text = (f"{s.name} bị kỷ luật trong năm nhưng hồ sơ chưa ghi hình thức kỷ luật và loại vi phạm: theo Quy "
                    f"định 366 (Điều 11 khoản 4) chưa xác định được mức.{done or ask}")
            out.append(Decision("exception", "Kỷ luật chưa ghi hình thức, loại vi phạm", text, (s.id,), None,
                                (("resolved", bool(done)),), "Q5", cite(loaded, "Q5", s.kind.value)))
        if remedied and s.kind.value == "collective":
            if ctx is None:
                ctx = Context(loaded.hierarchy, o, decided_ids=set(loaded.targets))
            subjects = loaded.hierarchy.subjects
            for mid in collective_members(ctx, s.id):
                d = subjects[mid].facts.discipline
                if mid in remedied:
                    text = (f"{s.name}: thành viên {subjects[mid].name} bị kỷ luật {DISCIPLINE_FORMS[d.form]} vì vi phạm "
                            "liên quan đến chức trách, nhiệm vụ nhưng đã chủ động phát hiện và khắc phục kịp thời: cấp có "
                            "thẩm quyền xem xét mức của tập thể (tạm xếp không cao hơn Hoàn thành tốt nhiệm vụ)."
                            f"{done or ask}")
                    out.append(Decision("exception", "Thành viên vi phạm đã tự giác khắc phục", text, (s.id, mid), None,
                                        (("resolved", bool(done)),), "Q6", cite(loaded, "Q6", s.kind.value)))
        if o.on("Q2") and f.tasks is not None and s.kind.value in ("member", "leader", "collective"):
            cap, clause = task_cap(f.tasks, o, s.kind.value != "member")
            if clause == "gap":
                tk = f.tasks
                text = (f"{s.name} hoàn thành {tk.done}/{tk.assigned} nhiệm vụ, {tk.on_time} đúng hạn: không đạt điều "
                        f"kiện mức Hoàn thành nhiệm vụ nhưng cũng không thuộc trường hợp Không hoàn thành nhiệm vụ — "
                        f"chưa có văn bản; tạm xếp không cao hơn Hoàn thành nhiệm vụ.{done or ask}")
                out.append(Decision("exception", "Chưa có văn bản cho kết quả nhiệm vụ này", text, (s.id,), None,
                                    (("resolved", bool(done)),), "Q2", cite(loaded, "Q2", s.kind.value)))
    return out


def attach_decisions(loaded: LoadedCase, result: SolveResult) -> None:
    """Fill ``result.decisions`` from what the solve found: conflicts, ties in group order, then the people
    whose posts ended at different levels."""
    result.decisions = (conflict_decisions(loaded, result) + tie_decisions(loaded, result)
                        + ranking_decisions(loaded, result) + exception_decisions(loaded, result)
                        + regulation_decisions(loaded, result) + several_posts_decisions(loaded, result))
