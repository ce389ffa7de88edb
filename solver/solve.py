"""The least-change solve: staged lexicographic objective, tie detection, deterministic tie-break.

Criteria (RULES.md §6), each proven optimal before the next is fixed:
1. fewest subjects whose final level differs from their target;
2. fewest level steps moved;
3. least total support (V1 share, in millionths) of the moved subjects: the weakest mandates move;
4. the documented deterministic key: keep higher the subjects listed earlier in the case
   (weight n − position), and then the lexicographically highest levels in file order.
Criterion 4 is not a rule of the guides: any alternative equal on 1–3 is reported as a tie.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ortools.sat.python import cp_model

from model.levels import Level
from model.loader import LoadedCase
from solver.encoding import Encoding
from solver.result import SolveResult

SCALE = 1_000_000


class VerifierFailure(RuntimeError):
    """The independent verifier rejected a solver answer: a bug, never a result."""


@dataclass(frozen=True)
class SolveOptions:
    time_limit: float = 60.0
    workers: int = 2
    max_ties: int = 5
    explain: bool = True


def support_weight(loaded: LoadedCase, sid: str, target: Level) -> int:
    """Support of a subject for its target, in millionths; a target without ballots weighs fully."""
    s = loaded.hierarchy.subjects[sid]
    if s.votes is None or s.target is not None:
        return SCALE
    sup = s.support(target)
    return (sup.numerator * SCALE) // sup.denominator


class _Runner:
    def __init__(self, opts: SolveOptions, deadline: float):
        self.opts = opts
        self.deadline = deadline

    def solve(self, model: cp_model.CpModel) -> tuple[int, cp_model.CpSolver]:
        solver = cp_model.CpSolver()
        p = solver.parameters
        p.num_workers = max(1, self.opts.workers)
        p.random_seed = 0
        p.max_time_in_seconds = max(0.01, self.deadline - time.monotonic())
        status = solver.solve(model)
        return status, solver


def _hint(enc: Encoding, model: cp_model.CpModel, levels: dict[str, Level]) -> None:
    model.clear_hints()
    for sid in enc.order:
        for lv in (1, 2, 3):
            model.add_hint(enc.ge[sid][lv], int(levels[sid]) >= lv)


def _read(enc: Encoding, solver: cp_model.CpSolver) -> dict[str, Level]:
    return {sid: enc.level_of(solver, sid) for sid in enc.order}


def _lex_greater(enc: Encoding, model: cp_model.CpModel, levels: dict[str, Level]) -> None:
    """Post: the assignment is lexicographically greater than ``levels`` in file order."""
    prefix = True  # "equal on every earlier subject"
    options = []
    for sid in enc.order:
        cur = int(levels[sid])
        ge = enc.ge[sid]
        if cur < 3:
            up = model.new_bool_var("")
            model.add_implication(up, ge[cur + 1])
            if prefix is not True:
                model.add_implication(up, prefix)
            options.append(up)
        eq_terms = [ge[lv] if lv <= cur else ge[lv].Not() for lv in (1, 2, 3)]
        nxt = model.new_bool_var("")
        for t in eq_terms:
            model.add_implication(nxt, t)
        if prefix is not True:
            model.add_implication(nxt, prefix)
        prefix = nxt
    model.add_bool_or(options)


def solve(loaded: LoadedCase, opts: SolveOptions = SolveOptions()) -> SolveResult:
    """Find the least-change assignment of a validated case, verify it, and explain it."""
    from solver.conflicts import find_conflict
    from solver.explain import explain_changes
    from solver.verify import verify

    start = time.monotonic()
    runner = _Runner(opts, start + opts.time_limit)
    enc = Encoding(loaded)
    model = enc.model
    changed_lits = enc.changed_terms()
    changed_expr = cp_model.LinearExpr.sum([c for c in changed_lits.values() if c is not False])
    steps_expr = enc.steps_expr()
    weights = {sid: support_weight(loaded, sid, enc.targets[sid]) for sid in enc.order}
    support_terms = [(changed_lits[sid], weights[sid]) for sid in enc.order if changed_lits[sid] is not False]
    support_expr = cp_model.LinearExpr.weighted_sum([t for t, _ in support_terms], [w for _, w in support_terms])
    n = len(enc.order)
    order_vars, order_w = [], []
    for pos, sid in enumerate(enc.order):
        for lv in (1, 2, 3):
            order_vars.append(enc.ge[sid][lv])
            order_w.append(-(n - pos))
    order_expr = cp_model.LinearExpr.weighted_sum(order_vars, order_w)
    stages = [("changed", changed_expr), ("steps", steps_expr), ("support", support_expr), ("order", order_expr)]

    result = SolveResult(loaded.case.name, "unknown", targets=dict(enc.targets),
                         profile=loaded.case.profile or "bmt-2018",
                         options=loaded.options.model_dump(mode="json"))
    levels: dict[str, Level] | None = None
    order_bound = None
    proven = True
    values: dict[str, int] = {}
    for name, expr in stages:
        model.minimize(expr)
        status, solver = runner.solve(model)
        if status == cp_model.INFEASIBLE:
            result.status = "conflict"
            result.conflicts = find_conflict(loaded, time_limit=max(1.0, runner.deadline - time.monotonic()))
            result.wall_time = time.monotonic() - start
            return result
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            if levels is None:
                result.status = "unknown"
                result.wall_time = time.monotonic() - start
                return result
            proven = False
            result.stages.append({"stage": name, "proven": False})
            break
        levels = _read(enc, solver)
        value = int(round(solver.objective_value))
        bound = int(round(solver.best_objective_bound))
        values[name] = value
        if name == "changed":
            result.bound_changed = bound
        is_opt = status == cp_model.OPTIMAL
        result.stages.append({"stage": name, "proven": is_opt})
        if not is_opt:
            proven = False
            break
        if name == "order":
            order_bound = expr <= value  # kept out of the model: ties are judged on criteria 1–3
        else:
            model.add(expr <= value)
        _hint(enc, model, levels)

    assert levels is not None
    if proven:
        unique = _finish_ties(enc, model, order_bound, levels, runner, opts, result)
        if unique is None:  # time ran out during the tie-break: keep the stage-4 answer, say so
            result.notes.append("Hết thời gian khi phá thế hòa theo khóa cố định: kết quả có thể khác giữa các lần chạy.")
            proven = False
        else:
            levels = unique
    result.proven = proven
    result.status = "optimal" if proven else "feasible"
    result.levels = levels
    result.changed = sum(1 for sid in enc.order if levels[sid] != enc.targets[sid])
    result.steps = sum(abs(int(levels[sid]) - int(enc.targets[sid])) for sid in enc.order)
    result.support_cost = sum(weights[sid] for sid in enc.order if levels[sid] != enc.targets[sid])
    violations = verify(loaded, levels)
    if violations:
        raise VerifierFailure(
            f"Bộ kiểm tra độc lập phát hiện {len(violations)} vi phạm trong lời giải của hồ sơ "
            f"«{loaded.case.name}»: " + "; ".join(str(v) for v in violations[:10])
        )
    result.changes = explain_changes(loaded, enc.records, levels, enc.targets, reasons=opts.explain)
    result.wall_time = time.monotonic() - start
    return result


def _free_subjects(enc, model, levels, runner, opts) -> tuple[list[str], bool]:
    """Subjects whose level differs in some assignment equal on criteria 1–3: a canonical set.

    Each round looks for an equally good assignment that moves as many not-yet-known subjects as
    possible; the loop ends when none can move (proven), so the set does not depend on the solver's path.
    """
    free: set[str] = set()
    base = model.clone()
    base.clear_objective()
    base.clear_hints()
    differs = {}
    for sid in enc.order:
        cur = int(levels[sid])
        ge = enc.ge[sid]
        options = ([ge[cur].Not()] if cur >= 1 else []) + ([ge[cur + 1]] if cur < 3 else [])
        d = base.new_bool_var(f"differs:{sid}")
        base.add_bool_or(options).only_enforce_if(d)
        differs[sid] = d
    for _ in range(max(1, opts.max_ties)):
        probe = base.clone()
        rest = [differs[sid] for sid in enc.order if sid not in free]
        if not rest:
            return sorted(free, key=enc.order.index), True
        probe.add(cp_model.LinearExpr.sum(rest) >= 1)
        probe.maximize(cp_model.LinearExpr.sum(rest))
        status, solver = runner.solve(probe)
        if status == cp_model.INFEASIBLE:
            return [sid for sid in enc.order if sid in free], True
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            break
        alt = _read(enc, solver)
        free.update(sid for sid in enc.order if alt[sid] != levels[sid])
    return [sid for sid in enc.order if sid in free], False


def _finish_ties(enc, model, order_bound, levels, runner, opts, result):
    """Report ties on criteria 1–3 and make the answer unique by the documented key (criterion 4)."""
    from solver.result import Tie

    free, complete = _free_subjects(enc, model, levels, runner, opts)
    if not complete:
        result.notes.append("Chưa xác định hết các phương án ngang nhau trong giới hạn tìm kiếm: danh sách có thể chưa đủ.")
    if not free:
        return levels  # the optimum on criteria 1–3 is unique
    result.tie_break_used = True
    # criterion 4 then the lexicographic maximum in file order: climb until nothing is greater
    while True:
        probe = model.clone()
        probe.clear_objective()
        probe.add(order_bound)
        _lex_greater(enc, probe, levels)
        status, solver = runner.solve(probe)
        if status == cp_model.INFEASIBLE:
            break
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None
        levels = _read(enc, solver)
    by_group: dict[str, list[str]] = {}
    group_of = enc.loaded.hierarchy.group_of
    for sid in free:
        by_group.setdefault(group_of.get(sid, ""), []).append(sid)
    for gid, members in by_group.items():
        result.ties.append(Tie(gid, tuple(members), tuple((m, levels[m]) for m in members)))
    return levels
