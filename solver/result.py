"""Solve results with an explicit status, and their deterministic JSON form."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from model.levels import Level
from solver.jsonout import dumps_indented

_CODE = {lv: lv.code for lv in Level}

#: ``optimal``: proven least change. ``feasible``: a verified answer, not proven least (time limit).
#: ``conflict``: the locks and rules cannot all hold. ``invalid``: the input is wrong.
#: ``unknown``: the time limit ran out before any answer was found.
STATUSES = ("optimal", "feasible", "conflict", "invalid", "unknown")

STATUS_LABELS = {
    "optimal": "tối ưu (đã chứng minh thay đổi ít nhất)",
    "feasible": "khả thi nhưng CHƯA chứng minh tối ưu (hết thời gian)",
    "conflict": "mâu thuẫn: các quyết định khóa và quy định không thể cùng thỏa mãn",
    "invalid": "dữ liệu đầu vào không hợp lệ",
    "unknown": "hết thời gian mà chưa tìm được phương án",
}


@dataclass(frozen=True)
class Reason:
    """Why a subject moved: the rule, its citation, the other subjects and the numbers involved."""

    rule: str
    kind: str  # "forced" | "structural" | "quota" | "objective"
    citation: str
    text: str
    others: tuple[str, ...] = ()
    numbers: tuple[tuple[str, Any], ...] = ()

    def to_json(self) -> dict:
        return {"rule": self.rule, "kind": self.kind, "citation": self.citation, "text": self.text,
                "others": list(self.others), "numbers": dict(self.numbers)}


@dataclass(frozen=True)
class Change:
    id: str
    before: Level
    after: Level
    reasons: tuple[Reason, ...] = ()

    def to_json(self) -> dict:
        return {"id": self.id, "from": self.before.code, "to": self.after.code,
                "reasons": [r.to_json() for r in self.reasons]}


@dataclass(frozen=True)
class Tie:
    """Subjects of one quota group whose level differs between assignments equally good on the three
    criteria of RULES.md §6: a choice left to the committee (``chosen`` is what the documented key picked)."""

    group: str
    subjects: tuple[str, ...]
    chosen: tuple[tuple[str, Level], ...]

    def to_json(self) -> dict:
        return {"group": self.group, "subjects": list(self.subjects),
                "chosen": {k: v.code for k, v in self.chosen}}


@dataclass(frozen=True)
class Claim:
    """The vote-ranked alternative for a subject moved while one with less support keeps the level: what
    keeping it would cost, computed by solving again with it held (never a sentence written once for all).

    ``verdict``: ``more_changes`` (keeping it moves ``extra_changes`` more subjects), ``more_steps`` (as many
    subjects, ``extra_steps`` more steps), ``support`` (the same changes and steps, but the subjects moved
    instead have more support in all — criterion 3), ``tie`` (equally good: the committee decides), or
    ``impossible`` (the locks and rules do not allow keeping it). ``base_moved`` are the subjects moved in
    the chosen answer but not in the alternative, ``alt_moved`` those moved in the alternative instead;
    ``base_support`` / ``alt_support`` their support in millionths of the ballots (what criterion 3 sums).
    """

    sid: str
    group: str
    weaker_kept: tuple[str, ...]
    verdict: str
    extra_changes: int = 0
    extra_steps: int = 0
    base_moved: tuple[str, ...] = ()
    alt_moved: tuple[str, ...] = ()
    base_support: int = 0
    alt_support: int = 0

    def to_json(self) -> dict:
        return {"id": self.sid, "group": self.group, "weaker_kept": list(self.weaker_kept), "verdict": self.verdict,
                "extra_changes": self.extra_changes, "extra_steps": self.extra_steps,
                "base_moved": list(self.base_moved), "alt_moved": list(self.alt_moved),
                "base_support": self.base_support, "alt_support": self.alt_support}


@dataclass(frozen=True)
class Decision:
    """A matter the competent level itself must decide, with the figures that frame it.

    ``kind``: ``tie`` (equally good answers), ``conflict`` (locks and rules that cannot all hold),
    ``against_ranking`` (a subject with more support moved while one with less keeps the level, with the
    computed cost of the vote-ranked alternative), ``exception`` (a 25% decision, a self-reported violation),
    ``several_posts`` (one person's records end at different levels). ``text`` is rendered from ``numbers``
    in one place (``solver.explanations``); ``subjects`` are ids, ``group`` a quota group id when one applies.
    """

    kind: str
    title: str
    text: str
    subjects: tuple[str, ...] = ()
    group: str | None = None
    numbers: tuple[tuple[str, Any], ...] = ()
    #: The rule the matter rests on and its citation in the case's profile ("" when none applies).
    rule: str = ""
    citation: str = ""

    def to_json(self) -> dict:
        return {"kind": self.kind, "title": self.title, "text": self.text, "subjects": list(self.subjects),
                "group": self.group, "numbers": dict(self.numbers), "rule": self.rule, "citation": self.citation}


#: Said when the search for a minimal conflicting set ran out of time.
CONFLICT_NOT_MINIMAL = ("Hết thời gian trước khi rút gọn xong tập mâu thuẫn: các mục nêu ra đúng là không thể cùng "
                        "thỏa mãn, nhưng có thể bỏ bớt vài mục mà vẫn mâu thuẫn.")


def conflict_heading(items, where: str = "") -> str:
    """The heading of a list of conflicting items: "the smallest set" only when it was shown minimal."""
    if getattr(items, "minimal", True):
        return f"Tập nhỏ nhất các quyết định và quy định mâu thuẫn nhau{where}:"
    return f"Các quyết định và quy định mâu thuẫn nhau{where} (chưa rút gọn xong trong thời gian cho phép):"


class ConflictSet(list):
    """The members of a conflicting set; ``minimal`` is False when time ran out before each member was
    shown necessary (the set still cannot all hold)."""

    minimal: bool = True


@dataclass(frozen=True)
class ConflictItem:
    """One member of a minimal conflicting set: a lock, a direction bound or a rule instance."""

    kind: str  # "lock" | "direction" | "rule"
    rule: str
    subject: str | None
    text: str
    citation: str = ""

    def to_json(self) -> dict:
        return {"kind": self.kind, "rule": self.rule, "subject": self.subject, "text": self.text,
                "citation": self.citation}


@dataclass
class SolveResult:
    """The outcome of one solve. ``proven`` is true only when every stage was proven optimal."""

    case_name: str
    status: str
    levels: dict[str, Level] = field(default_factory=dict)
    targets: dict[str, Level] = field(default_factory=dict)
    changed: int | None = None
    steps: int | None = None
    support_cost: int | None = None
    changes: list[Change] = field(default_factory=list)
    ties: list[Tie] = field(default_factory=list)
    conflicts: list[ConflictItem] = field(default_factory=list)
    #: What the committee must decide itself, first in the app, the report and the JSON.
    decisions: list[Decision] = field(default_factory=list)
    #: The computed cost of every change against the vote ranking, by subject, in file order.
    claims: dict[str, Claim] = field(default_factory=dict)
    proven: bool = False
    bound_changed: int | None = None
    stages: list[dict] = field(default_factory=list)
    tie_break_used: bool = False
    notes: list[str] = field(default_factory=list)
    wall_time: float = 0.0
    profile: str = ""
    options: dict = field(default_factory=dict)
    method: str = ""
    #: The JSON text, once ``seal`` says the result is final (the CLI writes it and the audit log hashes it).
    sealed: str | None = field(default=None, repr=False, compare=False)

    @property
    def conflict_minimal(self) -> bool:
        """False when time ran out before every member of ``conflicts`` was shown necessary."""
        return getattr(self.conflicts, "minimal", True)

    def take_conflicts(self, found: ConflictSet) -> None:
        """Record the conflicting set ``solver.engine.conflicts`` found (with a note when it is not minimal)."""
        self.conflicts = found
        if not self.conflict_minimal:
            self.notes.append(CONFLICT_NOT_MINIMAL)

    def seal(self) -> str:
        """Declare the result final and compute its JSON text once (300,000 levels take a second to write)."""
        self.sealed = None
        self.sealed = self.dumps()
        return self.sealed

    @property
    def objective(self) -> dict | None:
        if self.changed is None:
            return None
        return {"changed": self.changed, "steps": self.steps}

    def to_json(self, *, timing: bool = False, sort: bool = True) -> dict:
        """The JSON form; ``sort=False`` leaves the level maps in file order (the writer sorts every key)."""
        levels, targets = self.levels.items(), self.targets.items()
        if sort:
            levels, targets = sorted(levels), sorted(targets)
        out = {
            "case": self.case_name,
            "status": self.status,
            "proven_optimal": self.proven,
            "profile": self.profile,
            "options": self.options,
            "levels": {k: _CODE[v] for k, v in levels},
            "targets": {k: _CODE[v] for k, v in targets},
            "objective": self.objective,
            "changes": [c.to_json() for c in self.changes],
            "ties": [t.to_json() for t in self.ties],
            "tie_break_used": self.tie_break_used,
            "conflicts": [c.to_json() for c in self.conflicts],
            "decisions": [d.to_json() for d in self.decisions],
            "claims": [c.to_json() for c in self.claims.values()],
            "stages": self.stages,
            "method": self.method,
            "notes": self.notes,
        }
        if self.status == "feasible":
            out["gap"] = {"changed_lower_bound": self.bound_changed}
        if not self.conflict_minimal:
            out["conflict_minimal"] = False
        if timing:
            out["wall_time_s"] = round(self.wall_time, 3)
        return out

    def dumps(self, *, timing: bool = False) -> str:
        if self.sealed is not None and not timing:
            return self.sealed
        return dumps_indented(self.to_json(timing=timing, sort=False)) + "\n"
