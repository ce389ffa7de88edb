"""The page «Việc cần quyết định»: the matters the committee decides itself (``SolveResult.decisions``:
ties, conflicts, changes against the vote ranking with their cost, exceptions, one person in several
posts…), grouped by kind, each with its text, the subjects it names, and a lock request that opens the
what-if editor pre-filled with a lock of those subjects.

It is generic over ``solver.result.Decision``: a kind it does not know is shown under the record's own
title, never dropped.
"""

from __future__ import annotations

from model.levels import Level
from model.loader import LoadedCase
from solver.appcore.tables import Places, xs_share
from solver.appcore.words import num
from solver.result import Decision, SolveResult

#: The kinds in the order the committee meets them, with a heading and a line saying what is asked.
KINDS = {
    "conflict": ("Quyết định mâu thuẫn nhau",
                 "Các quyết định khóa mức và quy định không thể cùng thỏa mãn: cần bỏ hoặc sửa ít nhất một quyết "
                 "định."),
    "against_ranking": ("Thay đổi ngược thứ tự phiếu",
                        "Đối tượng xếp trên (điểm hoặc tỷ lệ phiếu cao hơn) bị hạ trong khi đối tượng xếp dưới giữ "
                        "mức: phương án thay đổi ít nhất đòi hỏi như vậy; giữ theo thứ tự thì chi phí ghi kèm."),
    "tie": ("Phương án ngang nhau",
            "Các đối tượng có thể đổi chỗ cho nhau mà phương án vẫn thay đổi ít nhất: cấp có thẩm quyền chọn."),
    "exception": ("Trường hợp ngoại lệ",
                  "Trường hợp quy định để cấp có thẩm quyền xem xét riêng."),
    "several_posts": ("Một người nhiều chức vụ",
                      "Kết quả của cùng một người ở các chức vụ khác nhau không giống nhau: cần xem lại."),
}
DECISION_KINDS = KINDS
#: Shown on a page of decisions at a time (a province may have hundreds of ties).
PER_PAGE = 20


def decision_groups(result: SolveResult, decisions: list[Decision] | None = None) -> list[dict]:
    """The decisions grouped by kind (known kinds in :data:`KINDS` order, then the others by their title):
    kind, heading, what is asked, the records."""
    decisions = result.decisions if decisions is None else decisions
    by_kind: dict[str, list[Decision]] = {}
    for d in decisions:
        by_kind.setdefault(d.kind, []).append(d)
    order = [k for k in KINDS if k in by_kind] + sorted(k for k in by_kind if k not in KINDS)
    out = []
    for kind in order:
        items = by_kind[kind]
        heading, asked = KINDS.get(kind, (items[0].title or "Việc khác", ""))
        if kind == "against_ranking" and items[0].title:
            heading = items[0].title  # «… thứ tự điểm» or «… thứ tự tỷ lệ phiếu»: what the case ranks by
        out.append({"kind": kind, "heading": heading, "asked": asked, "items": items, "count": len(items)})
    return out


def decided_groups(result: SolveResult) -> set[str]:
    """The quota groups a decision names (the quota chart opens on them)."""
    return {d.group for d in result.decisions if d.group}


def decision_subject_rows(loaded: LoadedCase, result: SolveResult, d: Decision, places: Places | None = None
                          ) -> list[dict]:
    """The subjects a decision names, with where they belong, target → result, ballots and any lock."""
    h = loaded.hierarchy
    places = places or Places(loaded)
    levels = result.levels or {}
    rows = []
    for sid in d.subjects:
        if sid not in h.subjects:
            continue
        s = h.subjects[sid]
        target, final = result.targets.get(sid), levels.get(sid)
        move = (f"{target.code} → {final.code}" if target and final and target != final
                else (final.code if final else (target.code if target else "—")))
        rows.append({"Tên": s.name, "Đơn vị": places.unit_name(sid), "Mục tiêu → Kết quả": move,
                     "Phiếu": xs_share(loaded, sid)[1],
                     "Khóa": f"do Ban Thường vụ khóa ({s.lock.code})" if s.lock is not None else "", "Mã": sid})
    return rows


def decision_numbers(d: Decision) -> str:
    """A decision's figures in words, when it has any the text does not already carry (e.g. a cost)."""
    nums = dict(d.numbers)
    parts = []
    if "cost" in nums:
        parts.append(f"chi phí nếu giữ theo thứ tự: thêm {num(nums['cost'])} thay đổi")
    return "; ".join(parts)


def lock_request(loaded: LoadedCase, result: SolveResult, d: Decision) -> dict:
    """What the «khóa theo ý kiến Ban Thường vụ» button puts in the what-if editor: each subject the
    decision names, with the level proposed for its lock (its result, or its target when there is no
    result) and whether the case already locks it (then lifting that lock is offered too)."""
    levels = result.levels or {}
    subjects = loaded.hierarchy.subjects
    items = []
    for sid in d.subjects:
        s = subjects.get(sid)
        if s is None or not s.decided:
            continue
        level = levels.get(sid) or result.targets.get(sid) or s.lock or Level.T
        items.append({"id": sid, "name": s.name, "level": level.code,
                      "locked": s.lock.code if s.lock is not None else None})
    return {"kind": d.kind, "title": d.title, "text": d.text, "items": items}


__all__ = ["DECISION_KINDS", "KINDS", "PER_PAGE", "decided_groups", "decision_groups", "decision_numbers", "decision_subject_rows",
           "lock_request"]
