"""What the competent level must decide itself: ties, conflicts between locks, and (as the engine grows)
changes against the vote ranking with their computed cost and the exceptions a case records.

Each matter is a ``solver.result.Decision`` record; its sentence is rendered from its figures here, so the
CLI, the app, the Word report and the JSON say the same words.
"""

from __future__ import annotations

from model.loader import LoadedCase
from solver.engine.rules import main_post
from model.levels import Level
from solver.explanations.words import cite, claim_sentence, share_of
from solver.result import Decision, SolveResult


def _names(loaded: LoadedCase, ids) -> str:
    subjects = loaded.hierarchy.subjects
    return ", ".join(subjects[i].name for i in ids)


def tie_decisions(loaded: LoadedCase, result: SolveResult) -> list[Decision]:
    """One matter per quota group with equally good answers: who may change places, and what was chosen."""
    out = []
    h = loaded.hierarchy
    for tie in result.ties:
        group = h.group(tie.group).name if tie.group and tie.group in h._groups_by_id else ""
        chosen = dict(tie.chosen)
        kept = [s for s in tie.subjects if chosen[s] == max(chosen.values())]
        where = f" trong nhóm «{group}»" if group else ""
        text = (f"{len(tie.subjects)} đối tượng{where} có thể đổi chỗ cho nhau mà số thay đổi, số bậc và tổng tỷ lệ "
                f"phiếu của những người phải hạ không đổi: {_names(loaded, tie.subjects)}. Phương án đề xuất giữ "
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
    for c in result.claims.values():
        if c.verdict == "tie":
            continue
        s = h.subjects[c.sid]
        final = result.levels[c.sid]
        text = (f"{s.name} ({share_of(loaded, c.sid)}) được đề nghị {Level.XS.official} nhưng xếp {final.official}; "
                + claim_sentence(loaded, c) + ".")
        rule = "C2" if any(r.rule == "C2" for ch in result.changes if ch.id == c.sid for r in ch.reasons) else "C1"
        out.append(Decision("against_ranking", "Thay đổi không theo thứ tự tỷ lệ phiếu", text,
                            (c.sid, *c.weaker_kept), c.group,
                            (("verdict", c.verdict), ("extra_changes", c.extra_changes),
                             ("extra_steps", c.extra_steps), ("base_support", c.base_support),
                             ("alt_support", c.alt_support)), rule, cite(loaded, rule, s.kind.value)))
    return out


def attach_decisions(loaded: LoadedCase, result: SolveResult) -> None:
    """Fill ``result.decisions`` from what the solve found: conflicts, ties in group order, then the people
    whose posts ended at different levels."""
    result.decisions = (conflict_decisions(loaded, result) + tie_decisions(loaded, result)
                        + ranking_decisions(loaded, result) + several_posts_decisions(loaded, result))
