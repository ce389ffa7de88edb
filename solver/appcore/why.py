"""Explaining one subject: why it moved, where it stands in its quota group's ranking (opened at it, with
the cut line drawn), and the subjects a user can pick.
"""

from __future__ import annotations

from fractions import Fraction

from model.levels import Level
from model.loader import LoadedCase
from solver.appcore.tables import LOCKED, REASON_KIND_LABELS, ResultView, _context, fold, quota_rows, xs_share
from solver.appcore.words import kind_label, num, rule_clause, rule_title
from solver.explanations.explain import render_change
from model.case import TARGET_SOURCE_PHRASES
from solver.result import SolveResult

#: The ranking shows this many rows above and below the subject viewed.
WINDOW = 7


def subject_choices(loaded: LoadedCase, result: SolveResult | None = None, query: str = "", limit: int = 500,
                    view: ResultView | None = None) -> list[str]:
    """Decided subjects matching ``query`` (name, code, organization; accents optional), changed ones
    first, at most ``limit``."""
    changed = {c.id for c in result.changes} if result is not None else set()
    subjects = loaded.hierarchy.subjects
    if not query.strip() and result is not None:  # nothing typed: the changes first, without a pass over all
        first = [c.id for c in result.changes][:limit]
        rest = []
        for s in loaded.case.subjects:
            if len(first) + len(rest) >= limit:
                break
            if s.decided and s.id not in changed:
                rest.append(s.id)
        return first + rest
    if view is not None:
        ids = [view.ids[i] for i in view.find(query)]
    else:
        q = fold(query)
        ids = [s.id for s in loaded.case.subjects if not q or q in fold(f"{s.id} {s.name}")]
    ids = [i for i in ids if subjects[i].decided]
    ids.sort(key=lambda sid: sid not in changed)  # stable: file order inside each part
    return ids[:limit]


def locked_choices(loaded: LoadedCase, query: str = "", exclude: list[str] | tuple[str, ...] = (),
                   limit: int = 500) -> list[str]:
    """Subjects whose level the case locks, matching ``query`` (name or code), those of ``exclude`` left out."""
    q, skip = fold(query), set(exclude)
    return [s.id for s in loaded.case.subjects
            if s.lock is not None and s.id not in skip and (not q or q in fold(f"{s.id} {s.name}"))][:limit]


def subject_label(loaded: LoadedCase, result: SolveResult | None, sid: str) -> str:
    s = loaded.hierarchy.subjects[sid]
    if result is not None and result.levels and sid in result.levels:
        t, f = result.targets[sid], result.levels[sid]
        move = f"{t.code} → {f.code}" if t != f else f"giữ {f.code}"
        return f"{s.name} ({sid}) — {move}"
    return f"{s.name} ({sid})"


def why_moved(loaded: LoadedCase, result: SolveResult, sid: str) -> dict:
    """Why a subject ends where it does: its change sentence and reasons, or that it kept its target."""
    s = loaded.hierarchy.subjects[sid]
    target = result.targets.get(sid)
    final = result.levels.get(sid) if result.levels else None
    by_id = {c.id: c for c in result.changes}
    change = by_id.get(sid)
    return {
        "id": sid, "name": s.name, "kind": kind_label(s.kind), "context": _context(loaded, sid),
        "target": target, "final": final, "moved": change is not None,
        "sentence": render_change(loaded, change, by_id) if change is not None else "",
        "reasons": [{"rule": r.rule, "title": rule_title(r.rule), "kind": REASON_KIND_LABELS.get(r.kind, r.kind),
                     "citation": r.citation or rule_clause(r.rule, loaded.options.sources), "text": r.text}
                    for r in (change.reasons if change else ())],
        "source": TARGET_SOURCE_PHRASES[s.target_source()],
        "votes": s.votes.as_dict() if s.votes is not None else None, "voters": s.voters,
        "lock": s.lock,
    }


def _excluded_by(change) -> str | None:
    """The rule (title) that put a subject below XS other than the quota, or None (the quota, or no change)."""
    if change is None:
        return None
    for r in change.reasons:
        if r.kind not in ("quota", "objective"):
            return rule_title(r.rule)
    return None


def quota_ranking(loaded: LoadedCase, result: SolveResult, sid: str, window: int = WINDOW) -> dict | None:
    """The quota group of ``sid``: its numbers, and everyone proposed XS ranked by XS ballots (the order in
    which the least-change objective lowers them), who kept XS, who was excluded by another rule (marked
    as such, not as "not kept by the quota"), and the cut line after as many eligible candidates as the
    group may have XS. ``rows`` is the whole ranking, ``around`` the rows around ``sid``. None when ``sid``
    has no quota group."""
    h = loaded.hierarchy
    gid = h.group_of.get(sid)
    if gid is None:
        return None
    group = h.group(gid)
    numbers = next(iter(quota_rows(loaded, result, {gid})), None)
    order = {s: i for i, s in enumerate(result.targets)}
    levels = result.levels or {}
    change_of = {c.id: c for c in result.changes}
    candidates = [m for m in group.members if result.targets.get(m) is Level.XS or levels.get(m) is Level.XS]

    def key(m: str) -> tuple:
        share = xs_share(loaded, m)[0]
        s = h.subjects[m]
        strength = share if share is not None and s.target is None else Fraction(1)
        return (-strength, order.get(m, 0))

    candidates.sort(key=key)
    cap = None
    if numbers is not None:
        cap = numbers["after_cap"] if numbers["after_cap"] is not None else numbers["before_cap"]
    rows, eligible, cut_at = [], 0, None
    for rank, m in enumerate(candidates, start=1):
        s = h.subjects[m]
        final = levels.get(m)
        excluded = _excluded_by(change_of.get(m))
        if final is Level.XS:
            kept = "giữ XS" + (f" ({LOCKED})" if s.lock is Level.XS else "")
        elif excluded is not None:
            kept = f"không xét theo tỷ lệ: bị hạ do quy định «{excluded}»"
        elif s.lock is not None:
            kept = f"{LOCKED} ở mức {s.lock.code}"
        elif final is None:
            kept = "chưa có kết quả"
        else:
            kept = "không giữ XS: vượt tỷ lệ"
        if excluded is None:
            eligible += 1
        rows.append({"Thứ tự": num(rank), "Tên": s.name, "Phiếu": xs_share(loaded, m)[1],
                     "Mục tiêu → Kết quả": f"{result.targets[m].code} → {final.code}" if final else "—",
                     "Kết quả theo tỷ lệ": kept, "Đang xem": "◀" if m == sid else "", "Mã": m})
        if cap is not None and cut_at is None and excluded is None and eligible == cap:
            cut_at = len(rows)
    line = None
    if cap is not None and cut_at is not None and cut_at < len(rows):
        line = {"Thứ tự": "", "Tên": f"──── tối đa {num(cap)} XS trong nhóm ────", "Phiếu": "",
                "Mục tiêu → Kết quả": "", "Kết quả theo tỷ lệ": "", "Đang xem": "", "Mã": ""}
        rows.insert(cut_at, line)
    at = next((i for i, r in enumerate(rows) if r["Mã"] == sid), None)
    if at is None:
        around = rows[: 2 * window + 1]
    else:
        lo = max(0, at - window)
        around = rows[lo: lo + 2 * window + 1]
    return {"group": gid, "name": group.name, "size": len(group.members), "numbers": numbers, "rows": rows,
            "around": around, "cap": cap, "is_candidate": sid in candidates, "position": at,
            "excluded": _excluded_by(change_of.get(sid)) if sid in candidates else None}


__all__ = ["WINDOW", "locked_choices", "quota_ranking", "ranking_caption", "ranking_sentence", "subject_choices", "subject_label", "why_moved"]


def ranking_sentence(ranking: dict) -> str:
    """The numbers of a quota group (``quota_ranking``) in words, with the official level names; without a
    result (a conflict) only what was proposed and the cap."""
    nums = ranking["numbers"] or {}
    xs, t = Level.XS.official, Level.T.official
    text = (f"Nhóm tỷ lệ **{ranking['name']}** ({num(ranking['size'])} đối tượng): "
            f"{num(nums.get('before_xs', 0))} đề nghị {xs}")
    if nums.get("after_xs") is not None:
        text += f"; sau khi xếp: {num(nums['after_xs'])} {xs}, {num(nums.get('after_t'))} {t}"
    return text + f"; tối đa {num(ranking['cap'])} {xs}."


def ranking_caption(loaded: LoadedCase) -> str:
    """How a group over its cap is resolved (RULES.md §6), naming what this case ranks by."""
    from solver.explanations.words import measure

    return (f"Khi nhóm vượt trần, xeploai chọn phương án phải thay đổi ít đối tượng nhất, rồi ít bậc nhất; trong các "
            f"phương án ấy, hạ trước những đối tượng có {measure(loaded)} thấp nhất (giữ người được đánh giá cao). "
            "Người đã bị khóa mức giữ mức khóa. Đường kẻ là số Hoàn thành xuất sắc nhiệm vụ tối đa của nhóm; bảng mở "
            "ở đối tượng đang xem (◀).")

