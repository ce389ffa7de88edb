"""What the competent level must decide itself: ties, conflicts between locks, and (as the engine grows)
changes against the vote ranking with their computed cost and the exceptions a case records.

Each matter is a ``solver.result.Decision`` record; its sentence is rendered from its figures here, so the
CLI, the app, the Word report and the JSON say the same words.
"""

from __future__ import annotations

from model.loader import LoadedCase
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


def attach_decisions(loaded: LoadedCase, result: SolveResult) -> None:
    """Fill ``result.decisions`` from what the solve found (conflicts first, then ties in group order)."""
    result.decisions = conflict_decisions(loaded, result) + tie_decisions(loaded, result)
