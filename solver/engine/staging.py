"""The staged lexicographic driver shared by both formulations: proven stages, ties, the documented key."""

from __future__ import annotations

import threading
import time

from ortools.sat.python import cp_model

from model.ballots import support_scaled
from model.levels import Level
from model.loader import LoadedCase
from solver.result import Tie

SCALE = 1_000_000


def support_weight(loaded: LoadedCase, sid: str, target: Level) -> int:
    """Support of a subject for its target, in millionths: its share of ballots (V1), or its score out of 100 (Q1);
    a target set by hand weighs fully."""
    s = loaded.hierarchy.subjects[sid]
    if s.target is not None:
        return SCALE
    if s.score is not None:
        return round(s.score * 10) * (SCALE // 1000)  # tenths of a point, exactly
    v = s.votes
    if v is None:
        return SCALE
    return support_scaled(v.XS, v.T, v.TB, v.K, target, s.voters, SCALE)


class SupportWeights(dict):
    """``support_weight`` of each subject of ``targets``, computed when first read, then kept.

    A solve reads the weights of the candidates for XS, of the subjects that change and of those a what-if
    touches: at 300,000 members a fifth of the 331,000 decided subjects. Computing every weight first cost
    0.3 s there (``benchmarks/bench_scale.py``). Reading a subject that is not in ``targets`` raises
    ``KeyError``, as a plain dictionary of all the weights would."""

    __slots__ = ("_loaded", "_targets")

    def __init__(self, loaded: LoadedCase, targets: dict[str, Level]):
        super().__init__()
        self._loaded, self._targets = loaded, targets

    def __missing__(self, sid: str) -> int:
        weight = self[sid] = support_weight(self._loaded, sid, self._targets[sid])
        return weight


def support_weights(loaded: LoadedCase, targets: dict[str, Level]) -> SupportWeights:
    """The support weights of the subjects of ``targets`` (``SupportWeights``: each computed when first read)."""
    return SupportWeights(loaded, targets)


class Model(cp_model.CpModel):
    """A CpModel without the per-instance camelCase aliases: building them cost half a millisecond per
    model, a third of the solve time when a province is solved as thousands of small components."""

    def _add_pre_pep8_methods(self) -> None:
        pass

    def clone(self) -> "Model":
        copy = Model()
        copy.proto.copy_from(self.proto)
        copy.rebuild_constant_map()
        return copy


def run_cpsat(solver: cp_model.CpSolver, model: cp_model.CpModel, *, stoppable: bool = False) -> tuple[int, bool]:
    """``solver.solve(model)`` with CP-SAT's own Ctrl-C handler off; returns (status, stopped by Ctrl-C).

    CP-SAT's handler writes a log line from inside the signal handler: when the signal lands while a
    thread is in malloc, the process deadlocks (seen: a Ctrl-C during presolve hung for good). With it
    off, Python's own handler only notes the signal. A ``stoppable`` solve on the main thread runs in a
    helper thread while the main thread waits, so the KeyboardInterrupt arrives at once and becomes
    ``stop_search()``: the search ends with its best answer so far. Elsewhere a Ctrl-C raises
    KeyboardInterrupt as soon as the (short) solve returns.
    """
    solver.parameters.catch_sigint_signal = False
    if not stoppable or threading.current_thread() is not threading.main_thread():
        return solver.solve(model), False
    box: dict = {}
    finished = threading.Event()

    def work() -> None:
        try:
            box["status"] = solver.solve(model)
        except BaseException as exc:  # handed to the main thread below
            box["error"] = exc
        finally:
            finished.set()

    helper = threading.Thread(target=work, name="cpsat", daemon=True)
    helper.start()
    stopped = False
    # Wait on an Event, not on join(): in Python 3.11 a KeyboardInterrupt inside Thread.join() can mark a
    # running thread as stopped (the bpo-45274 path), and the process would then exit under the solver.
    while not finished.is_set():
        try:
            finished.wait(0.1 if stopped else None)
        except KeyboardInterrupt:
            stopped = True
        if stopped:  # asked again until the search ends: a stop asked before the search began is lost
            solver.stop_search()
    helper.join()
    if "error" in box:
        raise box["error"]
    return box["status"], stopped


class Runner:
    def __init__(self, opts, deadline: float):
        self.opts = opts
        self.deadline = deadline
        self.interrupted = False

    #: Models with fewer variables than this run on one worker: a portfolio costs more than it saves there.
    #: Larger ones can also be stopped by Ctrl-C with their best answer so far (``run_cpsat``).
    SMALL = 2000

    def solve(self, model: cp_model.CpModel, *, lp: bool = False) -> tuple[int, cp_model.CpSolver]:
        solver = cp_model.CpSolver()
        p = solver.parameters
        small = len(model.proto.variables) < self.SMALL
        p.num_workers = 1 if small else max(1, self.opts.workers)
        p.random_seed = 0
        if lp:
            p.linearization_level = 2
        p.max_time_in_seconds = max(0.01, self.deadline - time.monotonic())
        status, stopped = run_cpsat(solver, model, stoppable=not small)
        if stopped:
            # Ctrl-C: spend no more time; the answer so far is finished, verified and marked not proven.
            self.interrupted = True
            self.deadline = time.monotonic()
        return status, solver


def lex_greater(space, model, levels: dict[str, Level]) -> None:
    """Post: the assignment is lexicographically greater than ``levels`` in file order."""
    prefix = None  # literal "equal on every earlier subject" (None: trivially true)
    options = []
    for sid in space.order:
        cur = int(levels[sid])
        up = space.above(model, sid, cur)
        if up is not None:
            choice = model.new_bool_var("")
            model.add_implication(choice, up)
            if prefix is not None:
                model.add_implication(choice, prefix)
            options.append(choice)
        eq = space.equal(sid, cur)
        if eq:
            nxt = model.new_bool_var("")
            for t in eq:
                model.add_implication(nxt, t)
            if prefix is not None:
                model.add_implication(nxt, prefix)
            prefix = nxt
    model.add_bool_or(options)


def free_subjects(space, model, levels, runner, opts) -> tuple[list[str], bool]:
    """Subjects whose level differs in some assignment equal on criteria 1–3: a canonical set.

    Each round looks for an equally good assignment that moves as many not-yet-known subjects as
    possible; the loop ends when none can move (proven), so the set does not depend on the solver's path.
    """
    free: set[str] = set()
    base = model.clone()
    base.clear_objective()
    base.clear_hints()
    differs = {}
    for sid in space.order:
        d = space.differs(base, sid, int(levels[sid]))
        if d is not None:
            differs[sid] = d
    for _ in range(max(1, opts.max_ties)):
        rest = [differs[sid] for sid in space.order if sid in differs and sid not in free]
        if not rest:
            return [sid for sid in space.order if sid in free], True
        probe = base.clone()
        probe.add(cp_model.LinearExpr.sum(rest) >= 1)
        probe.maximize(cp_model.LinearExpr.sum(rest))
        status, solver = runner.solve(probe)
        if status == cp_model.INFEASIBLE:
            return [sid for sid in space.order if sid in free], True
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            break
        alt = space.read(solver)
        free.update(sid for sid in space.order if alt[sid] != levels[sid])
    return [sid for sid in space.order if sid in free], False


def run_stages(space, runner, result) -> tuple[str, dict[str, Level] | None, object]:
    """Run the proven stages; return (status word, levels, the criterion-4 bound constraint)."""
    model = space.model
    levels = None
    key_bound = None
    for name, expr in [*space.criteria, ("order", space.key)]:
        model.minimize(expr)
        status, solver = runner.solve(model, lp=True)
        if status == cp_model.INFEASIBLE:
            return "conflict", None, None
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return ("unknown" if levels is None else "feasible"), levels, None
        levels = space.read(solver)
        if name == "changed":
            result.bound_changed = int(round(solver.best_objective_bound))
        result.stages.append({"stage": name, "proven": status == cp_model.OPTIMAL})
        if status != cp_model.OPTIMAL:
            return "feasible", levels, None
        value = int(round(solver.objective_value))
        if name == "order":
            key_bound = expr <= value  # kept out of the model: ties are judged on criteria 1–3
        else:
            model.add(expr <= value)
        space.hint(model, levels)
    return "optimal", levels, key_bound


def finish_ties(space, key_bound, levels, runner, opts, result):
    """Report ties on criteria 1–3 and make the answer unique by the documented key (criterion 4)."""
    model = space.model
    free, complete = free_subjects(space, model, levels, runner, opts)
    if not complete:
        result.notes.append("Chưa xác định hết các phương án ngang nhau trong giới hạn tìm kiếm: danh sách có thể chưa đủ.")
    if not free:
        return levels  # the optimum on criteria 1–3 is unique
    result.tie_break_used = True
    while True:  # criterion 4, then the lexicographic maximum in file order: climb until nothing is greater
        probe = model.clone()
        probe.clear_objective()
        probe.add(key_bound)
        lex_greater(space, probe, levels)
        status, solver = runner.solve(probe)
        if status == cp_model.INFEASIBLE:
            break
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None
        levels = space.read(solver)
    by_group: dict[str, list[str]] = {}
    for sid in free:
        by_group.setdefault(space.group_of.get(sid, ""), []).append(sid)
    for gid, members in by_group.items():
        result.ties.append(Tie(gid, tuple(members), tuple((m, levels[m]) for m in members)))
    return levels


def solve_space(space, runner, opts, result) -> tuple[str, dict[str, Level] | None]:
    """The proven stages, then the ties and the documented key: (status, levels) of one model."""
    status, levels, key_bound = run_stages(space, runner, result)
    if status == "optimal":
        final = finish_ties(space, key_bound, levels, runner, opts, result)
        if final is None:
            result.notes.append("Hết thời gian khi phá thế hòa theo khóa cố định: kết quả có thể khác giữa các lần chạy.")
            status = "feasible"
        else:
            levels = final
    return status, levels
