"""The least-change solve: choose the formulation, run the staged driver, verify, explain.

Criteria (RULES.md §6), each proven optimal before the next is fixed (``solver.engine.staging``):
1. fewest subjects whose final level differs from their target;
2. fewest level steps moved;
3. least total support (V1 share, in millionths) of the moved subjects: the weakest mandates move;
4. the documented deterministic key: keep higher the subjects listed earlier in the case
   (weight n − position), and then the lexicographically highest levels in file order.
Criterion 4 is not a rule of the guides: every subject whose level differs between assignments equal
on 1–3 is reported as a tie.

Two exact formulations share the driver. The *general* model decides every level with order literals
(``solver.engine.encoding``). The *reduced* model (``solver.engine.reduced``) applies when levels only move down (no
``allow_up``, no ``may_rise``): one boolean per XS candidate, solved component by component.
``method="auto"`` picks the reduced model whenever it is exact.
"""

from __future__ import annotations

import operator
import time
from collections.abc import Callable
from dataclasses import dataclass

from ortools.sat.python import cp_model

from model.levels import Level
from model.loader import LoadedCase, no_gc
from solver.engine.bounds import upper_bounds
from solver.engine.encoding import Encoding
from solver.engine.reduced import solve_reduced
from solver.background import Forked
from solver.result import SolveResult
from solver.engine.rules import Quota, SmallGroup, records, subject_of
from solver.engine.staging import Runner, solve_space, support_weight, support_weights
from solver.phases import note as note_phase
from solver.phases import phase

__all__ = ["SolveOptions", "VerifierFailure", "reducible", "solve", "support_weight", "verifier_failure"]


class VerifierFailure(RuntimeError):
    """The independent verifier rejected a solver answer: a bug, never a result."""


@dataclass(frozen=True)
class SolveOptions:
    time_limit: float = 60.0
    workers: int = 2
    max_ties: int = 50
    explain: bool = True
    method: str = "auto"  # "auto" | "general" | "reduced"
    progress: Callable[[str], None] | None = None  # told, in Vietnamese, what a long solve is doing
    #: Use the second core through forked children (``solver.background``) on a large case: half of the
    #: components are solved in a child while this process solves the other half, and the answer is verified
    #: in a child while this process explains it. The command line's choice; the app's server, with its
    #: threads, does everything in process.
    second_core: bool = False

    def say(self, text: str) -> None:
        if self.progress is not None:
            self.progress(text)


def reducible(loaded: LoadedCase) -> bool:
    """True when the reduced model is exact: no level may rise above its target except by a lock."""
    return not loaded.options.allow_up and not any(map(_MAY_RISE, loaded.case.subjects))  # read in C


_MAY_RISE = operator.attrgetter("may_rise")


class GeneralSpace:
    """Every decided subject's level as order literals ``ge[sid][L]`` (``solver.engine.encoding``)."""

    def __init__(self, loaded: LoadedCase, recs, weights: dict[str, int]):
        self.enc = Encoding(loaded, given_records=recs)
        self.group_of = loaded.hierarchy.group_of
        self.model = self.enc.model
        self.order = self.enc.order
        self.targets = self.enc.targets
        changed = self.enc.changed_terms()
        self.weights = weights
        lits = [c for c in changed.values() if c is not False]
        self.criteria = [
            ("changed", cp_model.LinearExpr.sum(lits)),
            ("steps", self.enc.steps_expr()),
            ("support", cp_model.LinearExpr.weighted_sum(
                [changed[s] for s in self.order if changed[s] is not False],
                [self.weights[s] for s in self.order if changed[s] is not False])),
        ]
        n = len(self.order)
        self.key = cp_model.LinearExpr.weighted_sum(
            [self.enc.ge[s][lv] for s in self.order for lv in (1, 2, 3)],
            [-(n - pos) for pos, _ in enumerate(self.order) for _ in (1, 2, 3)])

    def read(self, solver) -> dict[str, Level]:
        return {sid: self.enc.level_of(solver, sid) for sid in self.order}

    def hint(self, model, levels) -> None:
        model.clear_hints()
        for sid in self.order:
            for lv in (1, 2, 3):
                model.add_hint(self.enc.ge[sid][lv], int(levels[sid]) >= lv)

    def differs(self, model, sid: str, cur: int):
        """A literal implying that ``sid`` is not at level ``cur``."""
        ge = self.enc.ge[sid]
        options = ([ge[cur].Not()] if cur >= 1 else []) + ([ge[cur + 1]] if cur < 3 else [])
        d = model.new_bool_var("")
        model.add_bool_or(options).only_enforce_if(d)
        return d

    def above(self, model, sid: str, cur: int):
        return self.enc.ge[sid][cur + 1] if cur < 3 else None

    def equal(self, sid: str, cur: int) -> list:
        ge = self.enc.ge[sid]
        return [ge[lv] if lv <= cur else ge[lv].Not() for lv in (1, 2, 3)]


#: The number of decided subjects from which the command line verifies in a child process: below it the
#: verifier takes a few hundredths of a second, less than starting the child.
FORK_FROM = 20_000
#: Seconds the solving process waits, once it has explained, for the child's verification (a few seconds even for
#: millions of members) before it stops the child and verifies in process.
VERIFY_CHILD_TIMEOUT = 300.0


def _verified(loaded: LoadedCase, checking: Forked) -> None:
    """Raise ``VerifierFailure`` when the independent verifier found a rule broken."""
    violations = checking.result(timeout=VERIFY_CHILD_TIMEOUT)
    if violations:
        raise verifier_failure(loaded, violations)


def verifier_failure(loaded: LoadedCase, violations: list) -> VerifierFailure:
    """The error raised when the independent verifier rejects an answer (naming the case and the rules)."""
    return VerifierFailure(f"Bộ kiểm tra độc lập phát hiện {len(violations)} vi phạm trong lời giải của hồ sơ "
                           f"«{loaded.case.name}»: " + "; ".join(str(v) for v in violations[:10]))


def general_claims(loaded: LoadedCase, recs, result: SolveResult, weights: dict[str, int], opts: SolveOptions) -> dict:
    """The general model's claims (``solver.result.Claim``): each move against the vote ranking, solved again
    in full with the subject held at its target (the general model is for cases of a few thousand subjects)."""
    from dataclasses import replace

    from model.loader import parse_case
    from solver.engine.reduced import against_ranking
    from solver.result import Claim

    pos = {sid: i for i, sid in enumerate(result.targets)}
    levels = result.levels
    quotas = [r for r in recs if isinstance(r, Quota)]
    cands = {sid: lv for sid, lv in levels.items() if result.targets[sid] == Level.XS}
    out = {}
    for sid, group, weaker in against_ranking(loaded, quotas, cands, weights, pos):
        data = loaded.case.to_data()
        for s in data["subjects"]:
            if s["id"] == sid:
                s["lock"] = Level.XS.code
        held = solve(parse_case(data, loaded.source), replace(opts, explain=False, progress=None))
        if held.status != "optimal":
            out[sid] = Claim(sid, group, weaker, "impossible")
            continue
        base_only = tuple(s for s in result.targets if levels[s] != result.targets[s] and held.levels[s] == result.targets[s])
        alt_only = tuple(s for s in result.targets if held.levels[s] != result.targets[s] and levels[s] == result.targets[s])
        extra_c, extra_s = held.changed - result.changed, held.steps - result.steps
        extra_w = held.support_cost - result.support_cost
        verdict = ("more_changes" if extra_c > 0 else "more_steps" if extra_s > 0 else
                   "support" if extra_w > 0 else "tie")
        out[sid] = Claim(sid, group, weaker, verdict, extra_c, extra_s, base_only, alt_only,
                         sum(weights[s] for s in base_only), sum(weights[s] for s in alt_only))
    return out


def solve(loaded: LoadedCase, opts: SolveOptions = SolveOptions(), keep: dict | None = None) -> SolveResult:
    """Find the least-change assignment of a validated case, verify it, and explain it.

    ``keep``, when given and the reduced model answers, receives what a later what-if re-uses
    (``solver.engine.incremental``): ``records``, ``weights``, ``bounds``, ``parts`` (each component's solution).
    """
    with no_gc():
        return _solve(loaded, opts, keep)


def _solve(loaded: LoadedCase, opts: SolveOptions, keep: dict | None = None) -> SolveResult:
    from solver.engine.conflicts import find_component_conflict, find_conflict, find_local_conflict
    from solver.explanations.decisions import attach_decisions
    from solver.explanations.explain import explain_changes, moved_ids
    from solver.verify import verify

    start = time.monotonic()
    runner = Runner(opts, start + opts.time_limit)
    with phase("records"):
        recs = records(loaded.hierarchy, loaded.options)
        targets = loaded.targets
        weights = support_weights(loaded, targets)
        pos = {sid: i for i, sid in enumerate(targets)}  # file order, read by the components and the explanations
    method = opts.method
    if method == "auto":
        method = "reduced" if reducible(loaded) else "general"
    elif method == "reduced" and not reducible(loaded):
        raise ValueError("mô hình rút gọn chỉ chính xác khi không cho phép nâng mức (allow_up, may_rise)")
    result = SolveResult(loaded.case.name, "unknown", targets=dict(targets),
                         profile=loaded.options.profile,
                         options=loaded.options.model_dump(mode="json"), method=method)
    refused: list[str] = []
    conflicted: list = []  # [candidates, quota records] of a component without a solution
    if method == "reduced":
        opts.say("Đang tính mức cao nhất mỗi đối tượng được phép (lan truyền các quy định)…")
        with phase("bounds"):
            bounds = upper_bounds(loaded, recs, targets)
        refused = [s for s, lock in loaded.locks.items() if s in targets and bounds[s] < lock]
        if refused:
            status, levels = "conflict", None
        else:
            parts: list = []
            with phase("components"):
                status, levels = solve_reduced(loaded, recs, bounds, targets, weights, runner, opts, result,
                                               parts_out=parts, conflict_out=conflicted, pos=pos)
            if keep is not None and levels is not None and not runner.interrupted:
                keep.update(records=recs, weights=weights, bounds=bounds, parts=parts)
    else:
        opts.say("Đang giải mô hình tổng quát (cho phép nâng mức)…")
        status, levels = solve_space(GeneralSpace(loaded, recs, weights), runner, opts, result)
    if status == "conflict":
        result.status = "conflict"
        budget = max(1.0, runner.deadline - time.monotonic())
        if method == "reduced" and (refused or conflicted):
            # the propagation already refused these locks, or one component of XS candidates has no
            # solution: search the sub-case their bounds read (and the component's quota groups)
            by_subject: dict[str, list] = {}
            for r in recs:
                sid = subject_of(r)
                if sid is not None:
                    by_subject.setdefault(sid, []).append(r)
            if refused:
                found = find_local_conflict(loaded, refused, lambda sid: by_subject.get(sid, []), budget)
            else:
                smalls = {r.group: r for r in recs if isinstance(r, SmallGroup)}
                found = find_component_conflict(loaded, *conflicted, smalls, lambda sid: by_subject.get(sid, []),
                                                budget)
            result.take_conflicts(found)
        else:
            result.take_conflicts(find_conflict(loaded, time_limit=budget))
        attach_decisions(loaded, result)
        result.wall_time = time.monotonic() - start
        return result
    if runner.interrupted:
        result.notes.append("Việc tìm kiếm bị dừng giữa chừng (Ctrl-C) trước khi tìm được phương án nào." if levels is None else
                            "Việc tìm kiếm bị dừng giữa chừng (Ctrl-C): kết quả là phương án tốt nhất đã tìm được, CHƯA chứng minh tối ưu.")
    if levels is None:
        result.status = "unknown"
        result.wall_time = time.monotonic() - start
        return result
    result.status = status
    result.proven = status == "optimal"
    result.levels = levels
    opts.say("Đang kiểm tra độc lập mọi quy định trên kết quả…")
    with phase("verify"):  # on the second core for a large case, while this process explains
        checking = Forked(verify, loaded, levels, fork=opts.second_core and len(levels) >= FORK_FROM)
    if not checking.forked:
        _verified(loaded, checking)
    moved = moved_ids(levels, targets)
    result.changed = len(moved)
    result.steps = sum(abs(int(levels[sid]) - int(targets[sid])) for sid in moved)
    result.support_cost = sum(weights[sid] for sid in moved)
    if method == "general" and opts.explain and status == "optimal":
        result.claims = general_claims(loaded, recs, result, weights, opts)
    opts.say("Đang lập giải trình cho từng thay đổi…")
    with phase("explain"):
        result.changes = explain_changes(loaded, recs, levels, targets, reasons=opts.explain, weights=weights,
                                         claims=result.claims, order=pos, moved=moved)
    with phase("decisions"):
        attach_decisions(loaded, result)
    with phase("verify"):
        _verified(loaded, checking)  # the answer is returned (and written) only once verified
    if checking.forked:
        note_phase("verify_child", cpu=checking.child_cpu, private_mib=checking.child_private_mib)
    result.wall_time = time.monotonic() - start
    return result
