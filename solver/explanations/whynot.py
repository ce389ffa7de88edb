"""Why not? Re-solve with one subject held at a level and say what it would cost, or why it cannot be."""

from __future__ import annotations

from dataclasses import dataclass, field

from model.levels import Level
from model.loader import LoadedCase, parse_case
from solver.result import SolveResult
from solver.engine.solve import SolveOptions, solve


@dataclass
class WhyNot:
    """The answer to "what if this subject kept this level?" against the base answer."""

    sid: str
    keep: Level
    base: SolveResult
    held: SolveResult
    moved: list[tuple[str, Level, Level]] = field(default_factory=list)  # (id, base final, held final)

    @property
    def possible(self) -> bool:
        return self.held.status in ("optimal", "feasible")

    @property
    def extra_changes(self) -> int | None:
        if not self.possible or self.base.changed is None:
            return None
        return self.held.changed - self.base.changed

    def to_json(self) -> dict:
        return {"id": self.sid, "keep": self.keep.code, "possible": self.possible,
                "status": self.held.status, "extra_changes": self.extra_changes,
                "base_objective": self.base.objective, "held_objective": self.held.objective,
                "moved": [{"id": i, "base": a.code, "held": b.code} for i, a, b in self.moved],
                "conflicts": [c.to_json() for c in self.held.conflicts]}


def hold(loaded: LoadedCase, sid: str, keep: Level | None = None, base: SolveResult | None = None,
         opts: SolveOptions = SolveOptions()) -> WhyNot:
    """Solve again with ``sid`` locked at ``keep`` (default: its target) and compare with the base answer."""
    subject = loaded.hierarchy.subjects.get(sid)
    if subject is None or not subject.decided:
        raise KeyError(f"không có đối tượng được xếp loại mang mã «{sid}»")
    keep = keep if keep is not None else subject.target_level()
    base = base if base is not None else solve(loaded, opts)
    data = loaded.case.to_data()
    for s in data["subjects"]:
        if s["id"] == sid:
            s["lock"] = keep.code
    held_case = parse_case(data, loaded.source)
    held = solve(held_case, opts)
    out = WhyNot(sid, keep, base, held)
    if out.possible and base.levels:
        out.moved = [(i, base.levels[i], held.levels[i]) for i in held.levels if held.levels[i] != base.levels[i]]
    return out
