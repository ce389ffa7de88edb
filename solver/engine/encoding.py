"""The CP-SAT encoding: order literals "level ≥ L" per decided subject, and the posting of rule records."""

from __future__ import annotations

from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from model.case import Kind
from model.levels import Level
from model.loader import LoadedCase
from solver.engine.staging import Model
from solver.engine.rules import AtMost, Cap, CountTrigger, Needs, Quota, Record, SmallGroup, records

@dataclass
class Guard:
    """One assumption literal of the conflict model and what it stands for."""

    lit: cp_model.IntVar
    kind: str  # "lock" | "direction" | "rule"
    sid: str | None
    record: Record | None = None


@dataclass
class Encoding:
    """A CP-SAT model of one case: ``ge[sid][L]`` is true iff the level of ``sid`` is at least ``L``."""

    loaded: LoadedCase
    guarded: bool = False
    given_records: list | None = None
    model: cp_model.CpModel = field(default_factory=lambda: Model())
    ge: dict[str, list] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    targets: dict[str, Level] = field(default_factory=dict)
    records: list[Record] = field(default_factory=list)
    guards: list[Guard] = field(default_factory=list)

    def __post_init__(self) -> None:
        case = self.loaded.case
        for s in case.subjects:
            if s.decided:
                self.order.append(s.id)
                self.targets[s.id] = s.target_level()
                lits = [True] + [self.model.new_bool_var(f"{s.id}>={lv}") for lv in (1, 2, 3)]
                for lv in (2, 3):
                    self.model.add_implication(lits[lv], lits[lv - 1])
                self.ge[s.id] = lits
            elif s.kind is Kind.unit and s.level is not None:
                self.ge[s.id] = [True] + [int(s.level) >= lv for lv in (1, 2, 3)]
        self.records = self.given_records if self.given_records is not None else \
            records(self.loaded.hierarchy, self.loaded.options)
        for r in self.records:
            self._post(r)
        self._post_locks_and_direction()

    # -- helpers ------------------------------------------------------------------------------
    def _guard(self, kind: str, sid: str | None, record: Record | None = None) -> list:
        if not self.guarded:
            return []
        lit = self.model.new_bool_var(f"guard{len(self.guards)}")
        self.guards.append(Guard(lit, kind, sid, record))
        return [lit]

    def _clause(self, lits: list, enforce: list) -> None:
        """Post OR(lits) under ``enforce``; constants in ``lits`` are simplified away."""
        vars_ = []
        for lit in lits:
            if lit is True:
                return
            if lit is False:
                continue
            vars_.append(lit)
        negs = [e.Not() for e in enforce]
        self.model.add_bool_or(vars_ + negs)

    @staticmethod
    def _not(lit):
        if isinstance(lit, bool):
            return not lit
        return lit.Not()

    def k_count(self, ids: tuple[str, ...]):
        """Linear expression: how many of ``ids`` are at K."""
        const = 0
        terms = []
        for o in ids:
            lit = self.ge[o][1]
            if isinstance(lit, bool):
                const += 0 if lit else 1
            else:
                terms.append(lit)
        return const + len(terms) - cp_model.LinearExpr.sum(terms)

    # -- records --------------------------------------------------------------------------------
    def _post(self, r: Record) -> None:
        ge = self.ge
        if isinstance(r, Cap):
            g = self._guard("rule", r.sid, r)
            for lv in range(int(r.level) + 1, 4):
                self._clause([self._not(ge[r.sid][lv])], g)
        elif isinstance(r, AtMost):
            g = self._guard("rule", r.a, r)
            for lv in (1, 2, 3):
                self._clause([self._not(ge[r.a][lv]), ge[r.b][lv]], g)
        elif isinstance(r, Needs):
            g = self._guard("rule", r.sid, r)
            if r.percent >= 100:
                for o in r.others:
                    self._clause([self._not(ge[r.sid][int(r.level)]), ge[o][int(r.minimum)]], g)
            else:  # a share of the others (S3 under HD 21's reading): a linear count, enforced by the level
                lits = [ge[o][int(r.minimum)] for o in r.others]
                const = sum(1 for x in lits if x is True)
                terms = [x for x in lits if not isinstance(x, bool)]
                head = ge[r.sid][int(r.level)]
                if head is False:
                    return
                count = const + cp_model.LinearExpr.sum(terms)
                ct = self.model.add(100 * count >= r.percent * len(r.others))
                ct.only_enforce_if([*([] if head is True else [head]), *g])
        elif isinstance(r, CountTrigger):
            g = self._guard("rule", r.sid, r)
            n = len(r.others)
            expr = self.k_count(r.others)
            if r.at_least is not None:
                ct = self.model.add(expr <= r.at_least - 1)
            else:
                ct = self.model.add(100 * expr <= r.percent * n)
            ct.only_enforce_if([ge[r.sid][1], *g])
        elif isinstance(r, Quota):
            self._post_quota(r)
        elif isinstance(r, SmallGroup):
            pass  # posted together with its Quota
        else:  # pragma: no cover - a new record type must be posted here
            raise TypeError(f"unknown record {r!r}")

    def _post_quota(self, q: Quota) -> None:
        small = next((r for r in self.records if isinstance(r, SmallGroup) and r.group == q.group), None)
        xs = cp_model.LinearExpr.sum([self.ge[m][3] for m in q.members])
        good = cp_model.LinearExpr.sum([self.ge[m][2] for m in q.members])  # T or XS
        base = good if q.base == "good_and_above" else good - xs
        g1 = self._guard("rule", None, q)
        if small is None:
            self.model.add(100 * xs <= q.percent * base).only_enforce_if(g1)
            return
        g2 = self._guard("rule", None, small)
        s = self.model.new_bool_var(f"small:{q.group}")
        for lit in g2:
            self.model.add_implication(s, lit)
        self.model.add(base <= small.threshold - 1).only_enforce_if(s)
        self.model.add(xs <= small.allowance).only_enforce_if(s)
        # valid for both branches (s ⇒ xs ≤ allowance) and much tighter in the LP than an enforced constraint
        self.model.add(100 * xs <= q.percent * base + 100 * small.allowance * s).only_enforce_if(g1)

    def may_rise(self, sid: str) -> bool:
        s = self.loaded.hierarchy.subjects[sid]
        return self.loaded.options.allow_up or s.may_rise

    def _post_locks_and_direction(self) -> None:
        for sid in self.order:
            s = self.loaded.hierarchy.subjects[sid]
            ge = self.ge[sid]
            if s.lock is not None:
                g = self._guard("lock", sid)
                for lv in (1, 2, 3):
                    self._clause([ge[lv] if lv <= s.lock else self._not(ge[lv])], g)
            elif not self.may_rise(sid):
                t = int(self.targets[sid])
                if t < 3:
                    g = self._guard("direction", sid)
                    for lv in range(t + 1, 4):
                        self._clause([self._not(ge[lv])], g)

    # -- objective terms ----------------------------------------------------------------------
    def changed_terms(self) -> dict[str, object]:
        """Per subject, a literal (or False) that is true iff its level differs from its target."""
        out: dict[str, object] = {}
        for sid in self.order:
            t = int(self.targets[sid])
            ge = self.ge[sid]
            below = ge[t].Not() if t >= 1 else False
            can_rise = self.may_rise(sid) or self.loaded.hierarchy.subjects[sid].lock is not None
            above = ge[t + 1] if (t < 3 and can_rise) else False
            if above is False:
                out[sid] = below
            elif below is False:
                out[sid] = above
            else:
                c = self.model.new_bool_var(f"changed:{sid}")
                self.model.add_bool_or([below, above]).only_enforce_if(c)
                self.model.add_implication(below, c)
                self.model.add_implication(above, c)
                out[sid] = c
        return out

    def steps_expr(self):
        terms = []
        const = 0
        for sid in self.order:
            t = int(self.targets[sid])
            ge = self.ge[sid]
            for lv in (1, 2, 3):
                if lv <= t:
                    const += 1
                    terms.append(-1 * ge[lv])
                else:
                    terms.append(ge[lv])
        return const + cp_model.LinearExpr.sum(terms)

    def level_of(self, solver: cp_model.CpSolver, sid: str) -> Level:
        ge = self.ge[sid]
        return Level(sum(1 for lv in (1, 2, 3) if (ge[lv] if isinstance(ge[lv], bool) else solver.boolean_value(ge[lv]))))
