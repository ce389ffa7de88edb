"""The reduced exact model for down-only cases: one boolean per XS candidate, solved per component.

When levels only move down, the assignments that satisfy every rule but the quotas have a greatest
element (``solver.engine.bounds``), and every least-change optimum is that element with some XS candidates
pushed to T (pushing one also pushes, through S1/S2, whoever may not be above it). So each candidate
gets one boolean, the quota groups are linear in them, and candidates linked by a quota group or an
S1/S2 edge form a component that is solved on its own: the objective, the ties and the documented key
are all separable. A component made of one quota group without edges is solved in closed form.
"""

from __future__ import annotations

import itertools
import operator
import time
from dataclasses import dataclass, field, replace

import numpy as np
from ortools.sat.python import cp_model

from model.levels import Level
from model.loader import LoadedCase
from solver.engine.rules import AtMost, Quota, Record, SmallGroup, quota_ok
from solver.background import Forked
from solver.engine.staging import Model, solve_space
from solver.phases import note as note_phase


class ReducedSpace:
    """The candidates of one component as booleans ``y`` (XS kept) for the staged driver."""

    def __init__(self, loaded: LoadedCase, comp: list[str], quotas: list[Quota], edges: list[AtMost],
                 smalls: dict[str, SmallGroup], bounds: dict[str, Level], weights: dict[str, int],
                 pos: dict[str, int]):
        self.model = Model()
        self.group_of = loaded.hierarchy.group_of
        self.order = comp
        self.y = {sid: self.model.new_bool_var(sid) for sid in comp}
        subjects = loaded.hierarchy.subjects
        for sid, y in self.y.items():
            if subjects[sid].lock == Level.XS:
                self.model.add(y == 1)
        for r in edges:
            self.model.add_implication(self.y[r.a], self.y[r.b])
        for q in quotas:
            _post_quota(self.model, q, smalls.get(q.group), [self.y[m] for m in q.members if m in self.y],
                        _fixed_t(q, bounds))
        self.weights = weights
        drops = [self.y[s].Not() for s in comp]
        self.criteria = [
            ("changed", cp_model.LinearExpr.sum(drops)),
            ("support", cp_model.LinearExpr.weighted_sum(drops, [self.weights[s] for s in comp])),
        ]
        n = len(pos)
        self.key = cp_model.LinearExpr.weighted_sum([self.y[s] for s in comp], [-(n - pos[s]) for s in comp])

    def read(self, solver) -> dict[str, Level]:
        return {sid: Level.XS if solver.boolean_value(y) else Level.T for sid, y in self.y.items()}

    def hint(self, model, levels) -> None:
        model.clear_hints()
        for sid, y in self.y.items():
            model.add_hint(y, levels[sid] == Level.XS)

    def differs(self, model, sid: str, cur: int):
        return self.y[sid].Not() if cur == 3 else self.y[sid]

    def above(self, model, sid: str, cur: int):
        return self.y[sid] if cur < 3 else None

    def equal(self, sid: str, cur: int) -> list:
        return [self.y[sid] if cur == 3 else self.y[sid].Not()]


class SolveResultStub:
    """What the staged driver writes about one component, merged into the case's result afterwards."""

    def __init__(self) -> None:
        self.stages: list[dict] = []
        self.bound_changed: int | None = None
        self.ties: list = []
        self.notes: list[str] = []
        self.tie_break_used = False


def _fixed_t(q: Quota, bounds: dict[str, Level]) -> int:
    """The members of ``q`` held at T by their bounds: none of them is a candidate (a candidate's bound is XS).
    Counted in C, a group of thousands at a time."""
    return operator.countOf(map(bounds.__getitem__, q.members), Level.T)


def _post_quota(model, q: Quota, small: SmallGroup | None, cand: list, fixed_t: int) -> None:
    xs = cp_model.LinearExpr.sum(cand)
    t = fixed_t + len(cand) - xs
    base = t + xs if q.base == "good_and_above" else t
    if small is None:
        model.add(100 * xs <= q.percent * base)
        return
    s = model.new_bool_var("")
    model.add(base <= small.threshold - 1).only_enforce_if(s)
    model.add(xs <= small.allowance).only_enforce_if(s)
    # valid for both branches (s ⇒ xs ≤ allowance) and much tighter in the LP than an enforced constraint
    model.add(100 * xs <= q.percent * base + 100 * small.allowance * s)


def _components(cands: list[str], insides: list[list[str]], edges: list[AtMost]) -> list[list[str]]:
    """The components of ``cands`` linked by the edges and by sharing a quota group (``insides``: each group's
    candidates)."""
    parent = {c: c for c in cands}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    for e in edges:
        union(e.a, e.b)
    for inside in insides:
        for m in inside[1:]:
            union(inside[0], m)
    comps: dict[str, list[str]] = {}
    for c in cands:  # file order within and across components
        comps.setdefault(find(c), []).append(c)
    return list(comps.values())


def _closed_form(loaded, comp, q, small, bounds, weight, pos):
    """One quota group, no edges: keep the locked, then the strongest support, then the earliest listed."""
    subjects = loaded.hierarchy.subjects
    locked = [s for s in comp if subjects[s].lock == Level.XS]
    free = [s for s in comp if subjects[s].lock != Level.XS]
    fixed_t = _fixed_t(q, bounds)
    c = len(comp)
    best = next((xs for xs in range(c, len(locked) - 1, -1) if quota_ok(q, small, xs, fixed_t + c - xs)), None)
    if best is None:
        return None, []
    ranked = sorted(free, key=lambda s: (-weight[s], pos[s]))
    keep = best - len(locked)
    levels = {s: Level.XS for s in locked}
    levels.update({s: (Level.XS if i < keep else Level.T) for i, s in enumerate(ranked)})
    ties = []
    if 0 < keep < len(ranked) and weight[ranked[keep - 1]] == weight[ranked[keep]]:
        w = weight[ranked[keep]]
        ties = [s for s in free if weight[s] == w]
    return levels, ties


#: Components with at most this many candidates are solved by enumerating their assignments (``Enumerated``).
ENUMERATE_UP_TO = 14


class Enumerated:
    """Every assignment of a small component's candidates, as numpy arrays: the same optimum as the CP-SAT
    stages by definition, without their cost.

    Hand-written on purpose (numpy does the work): CP-SAT spends about half a millisecond a call whatever the
    model's size (presolve, LP, search setup), and a province splits into some 750 components of a few
    candidates needing some 4,000 calls (stages, ties, claims): 2.4 s of a 300,000-member solve, against a
    target of 8 s end to end (``benchmarks/bench_scale.py``). Enumerating the 2^n assignments of a component
    of n ≤ ``ENUMERATE_UP_TO`` candidates answers the same questions in microseconds. Where an answer
    depends on which of several equally good assignments a solver finds (a claim's alternative tied on
    the documented key), ``unique`` is False and the CP-SAT path answers instead, so results are the same
    bytes either way (``tests/test_decomposition.py``)."""

    def __init__(self, loaded: LoadedCase, comp: list[str], quotas: list[Quota], edges: list[AtMost],
                 smalls: dict[str, SmallGroup], bounds: dict[str, Level], weights: dict[str, int],
                 pos: dict[str, int]):
        n = len(comp)
        self.comp = comp
        col = {sid: i for i, sid in enumerate(comp)}
        # row r keeps candidate i at XS when bit (n - 1 - i) of r is set: rows in increasing order are in
        # increasing lexicographic order of the assignment in file order (XS above T)
        rows = np.arange(1 << n, dtype=np.int64)
        y = ((rows[:, None] >> np.arange(n - 1, -1, -1, dtype=np.int64)) & 1).astype(np.int64)
        ok = np.ones(1 << n, dtype=bool)
        subjects = loaded.hierarchy.subjects
        for sid in comp:
            if subjects[sid].lock == Level.XS:
                ok &= y[:, col[sid]] == 1
        for r in edges:
            ok &= (y[:, col[r.a]] <= y[:, col[r.b]])
        for q in quotas:
            inside = [col[m] for m in q.members if m in col]
            xs = y[:, inside].sum(axis=1)
            t = _fixed_t(q, bounds) + len(inside) - xs
            base = t + xs if q.base == "good_and_above" else t
            fits = 100 * xs <= q.percent * base
            small = smalls.get(q.group)
            if small is not None:
                fits |= (base <= small.threshold - 1) & (xs <= small.allowance)
            ok &= fits
        w = np.array([weights[sid] for sid in comp], dtype=np.int64)
        key = np.array([-(len(pos) - pos[sid]) for sid in comp], dtype=np.int64)
        self.y, self.ok = y, ok
        self.changed = n - y.sum(axis=1)
        self.support = (1 - y) @ w
        self.key = y @ key
        self.weights = w

    def best(self, among: np.ndarray) -> np.ndarray:
        """The rows of ``among`` (a mask) optimal on the criteria: fewest changed, then least support moved."""
        rows = np.flatnonzero(among)
        if rows.size == 0:
            return rows
        rows = rows[self.changed[rows] == self.changed[rows].min()]
        return rows[self.support[rows] == self.support[rows].min()]

    def levels(self, row: int) -> dict[str, Level]:
        return {sid: (Level.XS if self.y[row, i] else Level.T) for i, sid in enumerate(self.comp)}

    def solve(self):
        """(levels, changed, free subjects in file order) of the component, or None without a solution: the
        optimum on the criteria, the documented key, then the lexicographically highest (``solve_space``)."""
        opt = self.best(self.ok)
        if opt.size == 0:
            return None
        free = [sid for i, sid in enumerate(self.comp) if self.y[opt, i].min() != self.y[opt, i].max()]
        keyed = opt[self.key[opt] == self.key[opt].min()]
        return self.levels(int(keyed.max())), int(self.changed[opt[0]]), free

    def alternative(self, sid: str):
        """(levels, unique) of the best assignment keeping ``sid`` at XS on the criteria then the key
        (``component_claims``), or (None, True) when there is none."""
        i = self.comp.index(sid)
        opt = self.best(self.ok & (self.y[:, i] == 1))
        if opt.size == 0:
            return None, True
        keyed = opt[self.key[opt] == self.key[opt].min()]
        return self.levels(int(keyed[0])), keyed.size == 1


@dataclass
class Part:
    """The solution of one component: what the staged driver (or the closed form) found for it."""

    members: list[str]
    status: str  # "optimal" | "feasible" | "conflict" | "unknown"
    levels: dict[str, Level] | None
    bound_changed: int = 0
    ties: list = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stages: list[dict] = field(default_factory=list)
    tie_break_used: bool = False
    #: The computed cost of keeping each candidate moved against the vote ranking (``solver.result.Claim``).
    claims: list = field(default_factory=list)


@dataclass
class Plan:
    """The XS candidates of a case split into independent components, with each one's quotas and edges."""

    cands: list[str]
    comps: list[list[str]]
    quotas: list[list[Quota]]
    edges: list[list[AtMost]]
    smalls: dict[str, SmallGroup]


def plan_components(cands: list[str], quotas: list[Quota], edges: list[AtMost],
                    smalls: dict[str, SmallGroup]) -> Plan:
    """Components of ``cands`` (file order) linked by the quota groups and S1/S2 edges among them."""
    cset = set(cands)
    edges = [e for e in edges if e.a in cset and e.b in cset]
    kept, insides = [], []
    for q in quotas:  # each group's members read once (a province's groups hold 300,000)
        inside = [m for m in q.members if m in cset]
        if inside:
            kept.append(q)
            insides.append(inside)
    comps = _components(cands, insides, edges)
    head = {sid: i for i, comp in enumerate(comps) for sid in comp}
    comp_quotas: list[list[Quota]] = [[] for _ in comps]
    comp_edges: list[list[AtMost]] = [[] for _ in comps]
    for q, inside in zip(kept, insides):
        comp_quotas[head[inside[0]]].append(q)
    for e in edges:
        comp_edges[head[e.a]].append(e)
    return Plan(cands, comps, comp_quotas, comp_edges, smalls)


def solve_component(loaded: LoadedCase, comp: list[str], qs: list[Quota], es: list[AtMost],
                    smalls: dict[str, SmallGroup], bounds: dict[str, Level], weights: dict[str, int],
                    pos: dict[str, int], runner, opts) -> Part:
    """Decide the candidates of one component (closed form for a lone quota group without edges)."""
    from solver.result import Tie

    table = None
    if len(qs) == 1 and not es:
        part, tied = _closed_form(loaded, comp, qs[0], smalls.get(qs[0].group), bounds, weights, pos)
        if part is None:
            return Part(comp, "conflict", None)
        out = Part(comp, "optimal", part, sum(1 for s in comp if part[s] != Level.XS))
        if tied:
            out.tie_break_used = True
            out.ties.append(Tie(loaded.hierarchy.group_of.get(tied[0], ""), tuple(tied),
                                tuple((s, part[s]) for s in tied)))
    elif len(comp) <= ENUMERATE_UP_TO:
        table = Enumerated(loaded, comp, qs, es, smalls, bounds, weights, pos)
        solved = table.solve()
        if solved is None:
            return Part(comp, "conflict", None)
        part, changed, free = solved
        out = Part(comp, "optimal", part, changed,
                   stages=[{"stage": name, "proven": True} for name in ("changed", "support", "order")])
        if free:
            out.tie_break_used = True
            by_group: dict[str, list[str]] = {}
            for sid in free:
                by_group.setdefault(loaded.hierarchy.group_of.get(sid, ""), []).append(sid)
            out.ties = [Tie(gid, tuple(members), tuple((m, part[m]) for m in members))
                        for gid, members in by_group.items()]
    else:
        # each component is its own model: CP-SAT proves a component at once, while one model holding
        # many independent components did not prove the support stage in 60 s (50k members)
        space = ReducedSpace(loaded, comp, qs, es, smalls, bounds, weights, pos)
        holder = SolveResultStub()
        st, part = solve_space(space, runner, opts, holder)
        if part is None and st != "conflict":
            st = "unknown"
        out = Part(comp, st, part, holder.bound_changed or 0, list(holder.ties), list(holder.notes),
                   list(holder.stages), holder.tie_break_used)
    if out.status == "optimal" and opts.explain:
        out.claims = component_claims(loaded, comp, qs, es, smalls, bounds, weights, pos, runner, out.levels,
                                      table)
    return out


def against_ranking(loaded: LoadedCase, qs: list[Quota], levels: dict[str, Level], weights: dict[str, int],
                    pos: dict[str, int]) -> list[tuple[str, str, tuple[str, ...]]]:
    """(candidate moved, its group, the candidates of that group kept at XS with less support): the moves
    against the vote ranking that a claim must justify. Linear in the group (a suffix minimum, not a scan
    per member). A subject locked at XS is not "kept with less support": the competent level decided it
    (its reason is the lock), so it makes no claim — else one lock low in a large group would make every
    member moved above it a claim, each solved again (quadratic)."""
    subjects = loaded.hierarchy.subjects
    out = []
    for q in qs:
        cands = sorted((m for m in q.members if m in levels), key=lambda m: (-weights[m], pos[m]))
        kept_after: list[list[str]] = [[] for _ in cands]
        acc: list[str] = []
        for i in range(len(cands) - 1, -1, -1):
            kept_after[i] = acc
            if levels[cands[i]] == Level.XS and subjects[cands[i]].lock is None:
                acc = [cands[i], *acc[:2]]  # the nearest few: a sentence names at most three
        for i, m in enumerate(cands):
            if levels[m] == Level.XS:
                continue
            weaker = tuple(k for k in kept_after[i] if weights[k] < weights[m])
            if weaker:
                out.append((m, q.group, weaker))
    return sorted(out, key=lambda x: pos[x[0]])


def component_claims(loaded: LoadedCase, comp: list[str], qs: list[Quota], es: list[AtMost],
                     smalls: dict[str, SmallGroup], bounds: dict[str, Level], weights: dict[str, int],
                     pos: dict[str, int], runner, levels: dict[str, Level], table: Enumerated | None = None
                     ) -> list:
    """For each candidate moved against the vote ranking, solve the component again with it kept at XS, on
    the criteria of RULES.md §6 (fewest changes, then least support moved — a move here is one step — then
    the documented key), and record what that alternative costs against the chosen answer: the subjects
    moved in one answer and not the other, and their support."""
    from solver.result import Claim

    out = []
    for sid, group, weaker in against_ranking(loaded, qs, levels, weights, pos):
        alt, unique = table.alternative(sid) if table is not None else (None, False)
        if not unique:  # no table, or several alternatives equally good: the one CP-SAT finds
            space = ReducedSpace(loaded, comp, qs, es, smalls, bounds, weights, pos)
            space.model.add(space.y[sid] == 1)
            alt = None
            for _name, expr in [*space.criteria, ("order", space.key)]:
                space.model.minimize(expr)
                status, solver = runner.solve(space.model)
                if status != cp_model.OPTIMAL:
                    alt = None
                    break
                alt = space.read(solver)
                space.model.add(expr <= int(round(solver.objective_value)))
        if alt is None:
            out.append(Claim(sid, group, weaker, "impossible"))
            continue
        base_only = tuple(s for s in comp if levels[s] != Level.XS and alt[s] == Level.XS)
        alt_only = tuple(s for s in comp if alt[s] != Level.XS and levels[s] == Level.XS)
        base_support = sum(weights[s] for s in base_only)
        alt_support = sum(weights[s] for s in alt_only)
        extra = len(alt_only) - len(base_only)
        verdict = "more_changes" if extra > 0 else ("support" if alt_support > base_support else "tie")
        out.append(Claim(sid, group, weaker, verdict, extra, extra, base_only, alt_only, base_support, alt_support))
    return out


def merge_parts(parts: list[Part], forced: int, pos: dict[str, int], levels: dict[str, Level], result
                ) -> str:
    """Write the components' solutions into ``levels`` and ``result`` (in file order); the overall status."""
    status = "optimal"
    bound = forced
    stage_flags = {"changed": True, "support": True, "order": True}
    ties: list = []
    claims: list = []
    for part in sorted(parts, key=lambda p: pos[p.members[0]]):
        if part.status in ("conflict", "unknown"):
            return part.status
        ties.extend(part.ties)
        claims.extend(part.claims)
        result.notes.extend(part.notes)
        result.tie_break_used |= part.tie_break_used
        for s in part.stages:
            stage_flags[s["stage"]] = stage_flags.get(s["stage"], True) and s["proven"]
        bound += part.bound_changed
        if part.status != "optimal":
            status = "feasible"
        levels.update(part.levels)
    result.stages = [{"stage": k, "proven": v} for k, v in stage_flags.items()]
    result.bound_changed = bound
    result.ties.extend(ties)
    result.ties.sort(key=lambda t: pos[t.subjects[0]])
    result.claims = {c.sid: c for c in sorted(claims, key=lambda c: pos[c.sid])}
    return status


def solve_reduced(loaded: LoadedCase, recs: list[Record], bounds: dict[str, Level], targets: dict[str, Level],
                  weights: dict[str, int], runner, opts, result, parts_out: list[Part] | None = None,
                  conflict_out: list | None = None, pos: dict[str, int] | None = None
                  ) -> tuple[str, dict[str, Level] | None]:
    """Decide every XS candidate; return (status, levels of all decided subjects).

    ``parts_out``, when given, receives every component's solution (``solver.engine.incremental`` keeps them);
    ``conflict_out`` the candidates and quota records of a component that has no solution; ``pos`` the file
    position of each subject of ``targets``, when the caller has it."""
    # in C, over a province's 331,000 decided subjects (levels are singletons, compared by identity): a Python
    # pass took 0.15 s
    held = list(map(bounds.__getitem__, targets))
    levels: dict[str, Level] = dict(zip(targets, held))
    cands: list[str] = list(itertools.compress(targets, map(operator.is_, held, itertools.repeat(Level.XS))))
    forced = sum(map(operator.is_not, held, targets.values()))  # changes forced by the bounds, outside the model
    quotas, edges, smalls = [], [], {}
    for r in recs:
        kind = type(r)  # the record classes have no subclasses
        if kind is Quota:
            quotas.append(r)
        elif kind is AtMost:
            edges.append(r)
        elif kind is SmallGroup:
            smalls[r.group] = r
    plan = plan_components(cands, quotas, edges, smalls)
    if pos is None:
        pos = {sid: i for i, sid in enumerate(targets)}
    everything = range(len(plan.comps))
    if opts.second_core and len(cands) >= PARALLEL_FROM:
        mine, theirs = _halves(plan)
        quiet = replace(opts, progress=None)
        child = Forked(_solve_some, loaded, plan, theirs, bounds, weights, pos, runner, quiet, len(cands))
        solved = _solve_some(loaded, plan, mine, bounds, weights, pos, runner, opts, len(cands))[0]
        other, interrupted = child.result(
            timeout=max(1.0, runner.deadline - time.monotonic()) + COMPONENTS_CHILD_GRACE)
        if interrupted:  # Ctrl-C reached the child's search: spend no more time here either (``Runner.solve``)
            runner.interrupted, runner.deadline = True, min(runner.deadline, time.monotonic())
        solved.update(other)
        if child.forked:
            note_phase("components_child", cpu=child.child_cpu, private_mib=child.child_private_mib)
    else:
        solved = _solve_some(loaded, plan, everything, bounds, weights, pos, runner, opts, len(cands))[0]
    parts: list[Part] = []
    for i in everything:  # in order: the first component without a solution decides, as in one pass
        part = solved.get(i)
        if part is None:  # a component after one without a solution, not solved
            break
        parts.append(part)
        if part.status in ("conflict", "unknown"):
            if part.status == "conflict" and conflict_out is not None:
                conflict_out.extend([list(plan.comps[i]), list(plan.quotas[i])])
            return part.status, None
    if parts_out is not None:
        parts_out.extend(parts)
    status = merge_parts(parts, forced, pos, levels, result)
    return status, levels


#: The number of XS candidates from which the command line solves half of the components in a child process
#: (``SolveOptions.second_core``): at 300,000 members (20,000 candidates) that took 0.6 s off 1.2 s; below it,
#: starting the child and sending the parts back cost more than they save.
PARALLEL_FROM = 5_000
#: Seconds the solving process waits for the child's components beyond the time limit before it stops the child
#: and solves them itself.
COMPONENTS_CHILD_GRACE = 60.0


#: Work per candidate or group member read, by the way a component is solved (``solve_component``), relative to
#: the closed form: measured at 300,000 members (1.1 µs for the closed form, 8 µs enumerated, 270 µs through
#: the CP-SAT stages, a few dozen components that take half of the time).
_WORK = {"closed": 1, "enumerated": 8, "cp-sat": 250}


def _halves(plan: Plan) -> tuple[list[int], list[int]]:
    """The components split in two of about the same work: the heaviest first, each to the lighter half (its
    weight the candidates and group members it reads, times ``_WORK``). Deterministic: the split never changes
    an answer, only which process finds it."""
    weight = []
    for comp, qs, es in zip(plan.comps, plan.quotas, plan.edges):
        way = "closed" if len(qs) == 1 and not es else "enumerated" if len(comp) <= ENUMERATE_UP_TO else "cp-sat"
        weight.append(_WORK[way] * (len(comp) + sum(len(q.members) for q in qs)))
    halves: tuple[list[int], list[int]] = ([], [])
    load = [0, 0]
    for i in sorted(range(len(plan.comps)), key=lambda i: (-weight[i], i)):
        k = 0 if load[0] <= load[1] else 1
        halves[k].append(i)
        load[k] += weight[i]
    return sorted(halves[0]), sorted(halves[1])


def _solve_some(loaded: LoadedCase, plan: Plan, which, bounds: dict[str, Level], weights: dict[str, int],
                pos: dict[str, int], runner, opts, n_cands: int) -> tuple[dict[int, Part], bool]:
    """The parts of the components ``which`` (in order), up to the first without a solution; and whether the
    search was interrupted (Ctrl-C)."""
    out: dict[int, Part] = {}
    step = max(1, len(which) // 10)
    for k, i in enumerate(which):
        if k % step == 0:  # with a child solving the other half at about the same pace: the share of all done
            done = k * len(plan.comps) // max(1, len(which))
            opts.say(f"Đang giải: {done}/{len(plan.comps)} nhóm liên thông ({n_cands} đối tượng đề nghị XS)…")
        part = solve_component(loaded, plan.comps[i], plan.quotas[i], plan.edges[i], plan.smalls, bounds, weights,
                               pos, runner, opts)
        out[i] = part
        if part.status in ("conflict", "unknown"):
            break
    return out, runner.interrupted
