"""What-if analysis: load a what-if (solving its base when it re-rates), compare two solves, check an expect block.

``compare`` lines up the base solve and the what-if solve: who ends at a different final level (with the
what-if's reasons from ``solver.explanations.explain``), the objective and status before and after, the options that
changed, and the quota groups whose numbers differ (``solver.reports.tables``). The sentences are generated
here, once, for the CLI and the JSON alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model.errors import CaseInvalid, InputProblem
from model.levels import Level
from model.loader import LoadedCase
from model.whatif import WhatIf, load_case_or_whatif, load_whatif, load_whatif_base
from solver.reports.tables import quota_table
from solver.result import STATUS_LABELS, ConflictItem, Reason, SolveResult, conflict_heading
from solver.engine.solve import SolveOptions, solve

#: The quota-table columns that a comparison shows side by side.
QUOTA_KEYS = ("before_xs", "before_t", "before_cap", "before_rule", "after_xs", "after_t", "after_cap", "after_rule",
              "cap_percent", "cap_base")
#: The columns that decide whether a group differs: final numbers when both sides were solved, else targets.
#: (A changed option shows through the cap and its rule; the options line names the option itself.)
AFTER_KEYS = ("after_xs", "after_t", "after_cap", "after_rule")
BEFORE_KEYS = ("before_xs", "before_t", "before_cap", "before_rule")

CAP_BASE_LABELS = {"good_only": "số HTTNV (đúng chữ văn bản)", "good_and_above": "số HTTNV trở lên"}


class SolveCache:
    """Solves each loaded case once: a re-rating and the comparison both need the base's solve."""

    def __init__(self, opts: SolveOptions | None = None):
        self.opts = opts or SolveOptions()
        self._results: dict[int, tuple[LoadedCase, SolveResult]] = {}

    def result(self, loaded: LoadedCase) -> SolveResult:
        hit = self._results.get(id(loaded))
        if hit is None or hit[0] is not loaded:
            hit = (loaded, solve(loaded, self.opts))
            self._results[id(loaded)] = hit
        return hit[1]

    def remember(self, loaded: LoadedCase, result: SolveResult) -> None:
        """Take a solve made elsewhere (an incremental what-if session) as ``loaded``'s."""
        self._results[id(loaded)] = (loaded, result)

    def published(self, loaded: LoadedCase) -> dict[str, Level]:
        """The levels a solve of ``loaded`` publishes; ``ValueError`` (in Vietnamese) when it has none."""
        r = self.result(loaded)
        if r.status not in ("optimal", "feasible") or not r.levels:
            raise ValueError(f"hồ sơ gốc «{loaded.case.name}» không có kết quả để xếp loại lại "
                             f"(trạng thái: {STATUS_LABELS.get(r.status, r.status)})")
        return dict(r.levels)


def load_any(path: str | Path, opts: SolveOptions | None = None, cache: SolveCache | None = None) -> LoadedCase:
    """A case file (.json, .xlsx) or the case a what-if file describes (its base solved first if it re-rates)."""
    cache = cache or SolveCache(opts)
    return load_case_or_whatif(path, cache.published)


def load_whatif_solved(path: str | Path, opts: SolveOptions | None = None, cache: SolveCache | None = None
                       ) -> tuple[LoadedCase, LoadedCase, WhatIf]:
    """``model.whatif.load_whatif`` with the base solved by CP-SAT when the what-if re-rates."""
    cache = cache or SolveCache(opts)
    return load_whatif(path, cache.published)


def solve_whatif_file(path: str | Path, cache: SolveCache) -> tuple[LoadedCase, LoadedCase, WhatIf]:
    """(base, what-if case, delta) of a what-if file, both sides solved into ``cache``: the base in full,
    the what-if by an incremental session on it (``solver.engine.incremental``: a lock, fact, vote or target
    change re-solves only the part of the case it touches; anything else is solved in full there)."""
    from solver.engine.incremental import Session

    base, base_raw, base_path, delta = load_whatif_base(path, cache.published)
    session = Session(base, cache.opts, raw=base_raw)
    cache.remember(base, session.result)
    if delta.rerate:
        try:
            cache.published(base)
        except ValueError as exc:  # the base has no published result (a conflict, the time ran out)
            raise CaseInvalid([InputProblem(str(path), str(exc), field="rerate")]) from None
    what, result = session.apply(delta, file=str(path), base_file=str(base_path))
    cache.remember(what, result)
    return base, what, delta


# ---- the comparison --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Move:
    """A subject whose final level differs between the base and the what-if solve."""

    id: str
    name: str
    kind: str
    base_target: Level | None
    base_final: Level | None
    whatif_target: Level | None
    whatif_final: Level | None
    reasons: tuple[Reason, ...] = ()
    base_reasons: tuple[Reason, ...] = ()

    def to_json(self) -> dict:
        def code(lv: Level | None) -> str | None:
            return None if lv is None else lv.code

        return {"id": self.id, "name": self.name, "kind": self.kind,
                "base_target": code(self.base_target), "base_final": code(self.base_final),
                "whatif_target": code(self.whatif_target), "whatif_final": code(self.whatif_final),
                "reasons": [r.to_json() for r in self.reasons],
                "base_reasons": [r.to_json() for r in self.base_reasons]}


@dataclass(frozen=True)
class QuotaDiff:
    """One quota group whose numbers differ: its quota-table row in the base and in the what-if."""

    group: str
    name: str
    kind: str
    base: dict | None
    whatif: dict | None

    def to_json(self) -> dict:
        return {"group": self.group, "name": self.name, "kind": self.kind, "base": self.base, "whatif": self.whatif}


@dataclass
class Comparison:
    """A base solve and a what-if solve side by side."""

    base_name: str
    whatif_name: str
    base_source: str
    whatif_source: str
    question: str | None
    base_status: str
    whatif_status: str
    base_proven: bool
    whatif_proven: bool
    base_objective: dict | None
    whatif_objective: dict | None
    options_changed: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    profile_changed: tuple[str, str] | None = None
    moves: list[Move] = field(default_factory=list)
    targets_changed: list[str] = field(default_factory=list)
    quota: list[QuotaDiff] = field(default_factory=list)
    base_conflicts: list[ConflictItem] = field(default_factory=list)
    whatif_conflicts: list[ConflictItem] = field(default_factory=list)
    only_in_base: list[str] = field(default_factory=list)
    only_in_whatif: list[str] = field(default_factory=list)

    @property
    def comparable(self) -> bool:
        """True when both solves gave levels, so that final levels can be compared subject by subject."""
        return self.base_status in ("optimal", "feasible") and self.whatif_status in ("optimal", "feasible")

    @property
    def changed_vs_base(self) -> int | None:
        """How many subjects end at a different final level (None when a side has no levels)."""
        return len(self.moves) if self.comparable else None

    def to_json(self) -> dict:
        return {
            "base": {"case": self.base_name, "source": self.base_source, "status": self.base_status,
                     "proven_optimal": self.base_proven, "objective": self.base_objective,
                     "conflicts": [c.to_json() for c in self.base_conflicts]},
            "whatif": {"case": self.whatif_name, "source": self.whatif_source, "question": self.question,
                       "status": self.whatif_status, "proven_optimal": self.whatif_proven,
                       "objective": self.whatif_objective,
                       "conflicts": [c.to_json() for c in self.whatif_conflicts]},
            "options_changed": {k: {"base": a, "whatif": b} for k, (a, b) in sorted(self.options_changed.items())},
            "profile_changed": (None if self.profile_changed is None else
                                {"base": self.profile_changed[0], "whatif": self.profile_changed[1]}),
            "changed_vs_base": self.changed_vs_base,
            "moves": [m.to_json() for m in self.moves],
            "targets_changed": list(self.targets_changed),
            "quota": [q.to_json() for q in self.quota],
            "only_in_base": list(self.only_in_base),
            "only_in_whatif": list(self.only_in_whatif),
        }

    def dumps(self) -> str:
        """The deterministic JSON text of the comparison (sorted keys, no timing)."""
        return json.dumps(self.to_json(), ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def _quota_rows(loaded: LoadedCase, result: SolveResult, groups: set[str] | None = None) -> dict[str, dict]:
    rows = {}
    for row in quota_table(loaded, result, groups):
        rows[row["group"]] = {"name": row["name"], "kind": row["kind"].value,
                              **{k: row[k] for k in QUOTA_KEYS}}
    return rows


def _groups_that_may_differ(base_loaded: LoadedCase, base_result: SolveResult, what_loaded: LoadedCase,
                            what_result: SolveResult, by_levels: bool) -> set[str] | None:
    """The quota groups whose compared numbers can differ between two solves, or None for all of them.

    A group's row reads the group (members, name), the options (percent, base, the small-group rule), the
    25% decisions and
    its members' targets and, for the final numbers (``by_levels``), final levels; with the same groups,
    options and decided subjects, only the groups of a subject whose target (or final level) differs can
    differ: a what-if on a few subjects of a province then compares a few groups, not all of them."""
    if (base_loaded.options != what_loaded.options or base_result.targets.keys() != what_result.targets.keys()
            or base_loaded.hierarchy.groups != what_loaded.hierarchy.groups
            or base_loaded.case.exceptions != what_loaded.case.exceptions):  # a 25% decision changes percents
        return None
    changed = {sid for sid, _ in base_result.targets.items() ^ what_result.targets.items()}
    if by_levels:
        changed.update(sid for sid, _ in base_result.levels.items() ^ what_result.levels.items())
    group_of = what_loaded.hierarchy.group_of
    return {group_of[sid] for sid in changed if sid in group_of}


def compare(base_loaded: LoadedCase, base_result: SolveResult, what_loaded: LoadedCase, what_result: SolveResult,
            question: str | None = None, *, every_group: bool = False) -> Comparison:
    """Line up two solves of cases over the same subjects: moves, objectives, options, quota groups
    (``every_group``: compute every group's row on both sides, not only those that may differ)."""
    subjects = what_loaded.hierarchy.subjects
    base_ids, what_ids = set(base_result.targets), set(what_result.targets)
    cmp = Comparison(
        base_name=base_loaded.case.name, whatif_name=what_loaded.case.name,
        base_source=base_loaded.source, whatif_source=what_loaded.source, question=question,
        base_status=base_result.status, whatif_status=what_result.status,
        base_proven=base_result.proven, whatif_proven=what_result.proven,
        base_objective=base_result.objective, whatif_objective=what_result.objective,
        base_conflicts=base_result.conflicts, whatif_conflicts=what_result.conflicts,
        only_in_base=[sid for sid in base_result.targets if sid not in what_ids],
        only_in_whatif=[sid for sid in what_result.targets if sid not in base_ids],
    )
    before, after = base_loaded.options.model_dump(), what_loaded.options.model_dump()
    cmp.options_changed = {k: (before[k], after[k]) for k in before if before[k] != after.get(k)}
    bp, wp = base_loaded.options.profile, what_loaded.options.profile
    cmp.profile_changed = None if bp == wp else (bp, wp)
    common = [sid for sid in what_result.targets if sid in base_ids]
    cmp.targets_changed = [sid for sid in common if base_result.targets[sid] != what_result.targets[sid]]
    if cmp.comparable:
        why = {c.id: c.reasons for c in what_result.changes}
        why_base = {c.id: c.reasons for c in base_result.changes}
        for sid in common:
            a, b = base_result.levels[sid], what_result.levels[sid]
            if a != b:
                s = subjects[sid]
                cmp.moves.append(Move(sid, s.name, s.kind.value, base_result.targets[sid], a,
                                      what_result.targets[sid], b, why.get(sid, ()), why_base.get(sid, ())))
    # with levels on both sides the final numbers are compared; otherwise the targets' numbers
    keys = AFTER_KEYS if cmp.comparable else BEFORE_KEYS
    groups = None if every_group else _groups_that_may_differ(base_loaded, base_result, what_loaded, what_result,
                                                              cmp.comparable)
    base_rows, what_rows = _quota_rows(base_loaded, base_result, groups), _quota_rows(what_loaded, what_result, groups)
    order = list(what_rows) + [g for g in base_rows if g not in what_rows]
    for gid in order:
        a, b = base_rows.get(gid), what_rows.get(gid)
        if a is None or b is None or any(a[k] != b[k] for k in keys):
            ref = b or a
            pick = lambda r: None if r is None else {k: r[k] for k in QUOTA_KEYS}  # noqa: E731
            cmp.quota.append(QuotaDiff(gid, ref["name"], ref["kind"], pick(a), pick(b)))
    return cmp


# ---- rendering -------------------------------------------------------------------------------------


def _objective(o: dict | None) -> str:
    return "—" if o is None else f"{o['changed']} đối tượng, {o['steps']} bậc"


def _option_value(name: str, v: Any) -> str:
    if name == "cap_base":
        return CAP_BASE_LABELS.get(v, str(v))
    if isinstance(v, bool):
        return "có" if v else "không"
    return f"{v}%" if name == "cap_percent" else str(v)


def _quota_cell(r: dict | None, final: bool, targets: bool) -> str:
    """One side of a quota row: final numbers (``final``), or the targets' numbers; ``targets`` adds those."""
    if r is None:
        return "không có nhóm này"
    aim = f"mục tiêu XS {r['before_xs']}, T {r['before_t']}"
    if not final or r["after_xs"] is None:
        return f"{aim}, tối đa {r['before_cap']} XS ({r['before_rule']}, {r['cap_percent']}%)"
    text = f"XS {r['after_xs']}, T {r['after_t']}, tối đa {r['after_cap']} XS ({r['after_rule']}, {r['cap_percent']}%)"
    return f"{text}; {aim}" if targets else text


def render_comparison(cmp: Comparison, max_moves: int = 200) -> list[str]:
    """The comparison as Vietnamese lines (what ``xeploai compare`` prints)."""
    from model.catalogue import load_catalogue

    cat = load_catalogue()
    lines = ["So sánh phương án xếp loại", f"  Gốc: {cmp.base_name} ({cmp.base_source})"]
    if cmp.question:
        lines += [f"  Giả định: {cmp.whatif_source}", f"Câu hỏi: {cmp.question}"]
    else:
        lines.append(f"  So với: {cmp.whatif_name} ({cmp.whatif_source})")
    if cmp.profile_changed:
        lines.append(f"Bộ quy tắc: {cmp.profile_changed[0]} → {cmp.profile_changed[1]}")
    for name, (a, b) in sorted(cmp.options_changed.items()):
        lines.append(f"Tùy chọn «{cat.param(name).title}» ({name}): {_option_value(name, a)} → "
                     f"{_option_value(name, b)}")
    lines.append(f"Trạng thái: gốc — {STATUS_LABELS[cmp.base_status]}; giả định — {STATUS_LABELS[cmp.whatif_status]}")
    lines.append(f"Thay đổi so với mức mục tiêu: gốc {_objective(cmp.base_objective)} → giả định "
                 f"{_objective(cmp.whatif_objective)}")
    if cmp.targets_changed:
        lines.append(f"Số đối tượng có mức mục tiêu khác hồ sơ gốc: {len(cmp.targets_changed)}")
    if cmp.comparable:
        n = len(cmp.moves)
        lines.append(f"Số đối tượng có mức cuối cùng khác phương án gốc: {n}")
        if n:
            lines.append("Những đối tượng xếp loại khác đi:")
        for m in cmp.moves[:max_moves]:
            head = (f"  - {m.name} ({m.id}): gốc {m.base_final.official} → giả định {m.whatif_final.official}"
                    f" (mục tiêu {m.whatif_target.official})")
            if m.reasons:
                why = " | ".join(f"{r.text}" + (f" [{r.rule}, {r.citation}]" if r.citation else "") for r in m.reasons)
                head += f" — trong giả định: {why}"
            else:
                head += " — trong giả định giữ đúng mức mục tiêu"
            if m.base_reasons:
                head += "; trong phương án gốc: " + " | ".join(r.text for r in m.base_reasons)
            lines.append(head)
        if n > max_moves:
            lines.append(f"  … và {n - max_moves} đối tượng khác (xem tệp JSON)")
    else:
        lines.append("Không so sánh được từng đối tượng: một trong hai phương án không có kết quả.")
    if cmp.quota:
        lines.append("Nhóm tỷ lệ có số liệu khác:")
        for q in cmp.quota:
            aims = q.base is not None and q.whatif is not None and any(
                q.base[k] != q.whatif[k] for k in ("before_xs", "before_t"))
            lines.append(f"  - {q.name}: gốc {_quota_cell(q.base, cmp.comparable, aims)} → giả định "
                         f"{_quota_cell(q.whatif, cmp.comparable, aims)}")
    else:
        lines.append("Các nhóm tỷ lệ: số liệu không đổi.")
    for label, items in (("phương án gốc", cmp.base_conflicts), ("giả định", cmp.whatif_conflicts)):
        if items:
            lines.append(conflict_heading(items, f" trong {label}"))
            for c in items:
                ref = f" [{c.rule}, {c.citation}]" if c.citation else ""
                lines.append(f"  - {c.text}{ref}")
    if cmp.only_in_base or cmp.only_in_whatif:
        lines.append(f"Đối tượng chỉ có ở một bên: gốc {len(cmp.only_in_base)}, giả định {len(cmp.only_in_whatif)}")
    return lines


# ---- expect blocks ---------------------------------------------------------------------------------


def check_expect(delta: WhatIf, result: SolveResult, cmp: Comparison | None = None) -> list[str]:
    """What of the what-if's ``expect`` block does not hold, in Vietnamese (empty: everything holds)."""
    e = delta.expect
    if e is None:
        return []
    out = []
    if e.status is not None and result.status != e.status:
        out.append(f"trạng thái: mong đợi {e.status}, nhận được {result.status}")
    if e.objective is not None:
        got = (result.changed, result.steps)
        if got != (e.objective.changed, e.objective.steps):
            out.append(f"mục tiêu: mong đợi {e.objective.changed} thay đổi, {e.objective.steps} bậc; nhận được "
                       f"{got[0]} thay đổi, {got[1]} bậc")
        elif not result.proven:
            out.append("mục tiêu đúng nhưng chưa được chứng minh tối ưu")
    for sid, lv in e.levels.items():
        got = result.levels.get(sid)
        if got != lv:
            out.append(f"{sid}: mong đợi {lv.code}, nhận được {got.code if got is not None else 'không có'}")
    if e.changed_vs_base is not None:
        got = None if cmp is None else cmp.changed_vs_base
        if got != e.changed_vs_base:
            out.append(f"số đối tượng khác phương án gốc: mong đợi {e.changed_vs_base}, nhận được {got}")
    if e.objective_vs_base is not None:
        got = None
        if cmp is not None and cmp.base_objective is not None and cmp.whatif_objective is not None:
            got = (cmp.whatif_objective["changed"] - cmp.base_objective["changed"],
                   cmp.whatif_objective["steps"] - cmp.base_objective["steps"])
        want = (e.objective_vs_base.changed, e.objective_vs_base.steps)
        if got != want:
            out.append(f"mục tiêu so với phương án gốc: mong đợi {want[0]:+d} thay đổi, {want[1]:+d} bậc; nhận được "
                       + ("không so được" if got is None else f"{got[0]:+d} thay đổi, {got[1]:+d} bậc"))
    if e.conflict_subjects:
        named = {c.subject for c in result.conflicts}
        missing = [s for s in e.conflict_subjects if s not in named]
        if missing:
            out.append("tập mâu thuẫn không nêu: " + ", ".join(missing))
    return out


__all__ = [
    "Comparison", "Move", "QuotaDiff", "SolveCache", "check_expect", "compare", "load_any", "load_whatif_solved",
    "render_comparison",
]
