"""Conflicts: the smallest set of locks, bounds and rule instances that cannot all hold.

An objective-free model guards every lock, direction bound and rule instance with an assumption
literal; CP-SAT returns a core, which is shrunk by deletion to a minimal set, then mapped back to
subjects, rule IDs and Vietnamese sentences.
"""

from __future__ import annotations

import time

from ortools.sat.python import cp_model

from model.loader import LoadedCase
from solver.engine.encoding import Encoding, Guard
from solver.explanations.words import cite, describe_record, direction_text, lock_text
from solver.result import ConflictItem, ConflictSet
from solver.engine.staging import Runner, run_cpsat


#: The deletion steps first try CP-SAT without presolve, within this deterministic time: on a province's
#: sub-case (3,400 variables) a step then takes 0.02 s instead of 0.12 s. A deterministic limit, not a wall
#: clock one, so the answer does not depend on the machine; a step it does not settle gets a full solve.
QUICK_DETERMINISTIC_TIME = 2.0


def _infeasible(enc: Encoding, lits: list, time_limit: float, quick: bool = False) -> tuple[bool | None, list[int]]:
    """(True, a core) when ``lits`` cannot all hold, (False, []) when they can, (None, []) when time ran out."""
    enc.model.clear_assumptions()
    enc.model.add_assumptions(lits)
    stoppable = len(enc.model.proto.variables) >= Runner.SMALL
    for fast in ((True, False) if quick else (False,)):
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = 0
        solver.parameters.max_time_in_seconds = max(0.01, time_limit)
        if fast:
            solver.parameters.cp_model_presolve = False
            solver.parameters.max_deterministic_time = QUICK_DETERMINISTIC_TIME
        started = time.monotonic()
        status, stopped = run_cpsat(solver, enc.model, stoppable=stoppable)
        if stopped:  # Ctrl-C: a conflict half searched is no answer; the run stops
            raise KeyboardInterrupt
        if status == cp_model.INFEASIBLE:
            return True, list(solver.sufficient_assumptions_for_infeasibility())
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return False, []
        time_limit -= time.monotonic() - started
    return None, []


def _item(loaded: LoadedCase, g: Guard, enc: Encoding) -> ConflictItem:
    subjects = loaded.hierarchy.subjects
    if g.kind == "lock":
        return ConflictItem("lock", "lock", g.sid, lock_text(loaded, g.sid))
    if g.kind == "direction":
        return ConflictItem("direction", "direction", g.sid, direction_text(loaded, g.sid, enc.targets[g.sid]))
    r = g.record
    kind = subjects[g.sid].kind.value if g.sid in subjects else None
    return ConflictItem("rule", r.rule, g.sid, describe_record(loaded, r), cite(loaded, r.rule, kind,
                                                                                getattr(r, "detail", None)))


def find_conflict(loaded: LoadedCase, time_limit: float = 30.0, given_records: list | None = None
                  ) -> ConflictSet:
    """A minimal conflicting set (empty if the case is in fact feasible), searched within ``time_limit``
    seconds in all: when time runs out the set found so far is returned, still conflicting, marked not
    minimal (``ConflictSet.minimal``).

    With ``given_records``, only those rule instances (and the locks and direction bounds of the case's
    subjects) are guarded: a sub-case that is already infeasible on its own (``find_local_conflict``).
    """
    deadline = time.monotonic() + time_limit
    enc = Encoding(loaded, guarded=True, given_records=given_records)
    index = {g.lit.index: i for i, g in enumerate(enc.guards)}
    infeasible, core = _infeasible(enc, [g.lit for g in enc.guards], time_limit)
    if not infeasible:
        found = ConflictSet()
        found.minimal = infeasible is False  # None: time ran out before the set was found
        return found
    necessary: list[int] = []
    minimal = True
    candidates = sorted(index[c] for c in core if c in index) or list(range(len(enc.guards)))
    while candidates:  # deletion: keep an element only if the rest is feasible without it
        left = deadline - time.monotonic()
        if left <= 0:
            necessary.extend(candidates)  # what is left stays: the set still conflicts
            minimal = False
            break
        e = candidates.pop(0)
        still, core = _infeasible(enc, [enc.guards[j].lit for j in necessary + candidates], left, quick=True)
        if still:
            in_core = {index[c] for c in core if c in index}
            if in_core:
                candidates = [c for c in candidates if c in in_core]
        else:
            minimal = minimal and still is False  # None: not shown feasible in time, kept to be safe
            necessary.append(e)
    found = ConflictSet(_item(loaded, enc.guards[j], enc) for j in sorted(necessary))
    found.minimal = minimal
    return found


def find_local_conflict(loaded: LoadedCase, locked: list[str], records_of, time_limit: float = 30.0,
                        group_records: list = ()) -> ConflictSet:
    """A minimal conflicting set of a sub-case that is infeasible on its own.

    When a locked subject's propagated upper bound (``solver.engine.bounds``) is below its lock, the bound was
    derived from the records of the subjects it reads, transitively: those subjects' rules, locks and
    direction bounds are infeasible on their own. Likewise a component of XS candidates without a
    solution (``solver.engine.reduced``): its candidates and its quota groups' members (``locked``), what they
    read, and the groups' C1/C2 records (``group_records``). A minimal set of that sub-case is a minimal
    set of the whole case (minimality is a property of the set), and the search stays small in a province.
    ``records_of(sid)`` gives a subject's per-subject records, in ``solver.engine.rules.records`` order.
    """
    from solver.engine.rules import RULES

    rule_rank = {rid: i for i, (rid, _) in enumerate(RULES)}
    reach: set[str] = set()
    stack = list(locked)
    while stack:
        x = stack.pop()
        if x in reach:
            continue
        reach.add(x)
        for r in records_of(x):
            stack.extend(r.reads())
    pos = {s.id: i for i, s in enumerate(loaded.case.subjects) if s.id in reach}
    inside = [s for s in loaded.case.subjects if s.id in pos]
    recs = sorted([*((rule_rank[r.rule], pos[sid], k, r) for sid in pos for k, r in enumerate(records_of(sid))),
                   *((rule_rank[r.rule], -1, k, r) for k, r in enumerate(group_records))], key=lambda t: t[:3])
    sub_case = loaded.case.model_copy(update={"subjects": tuple(inside)})
    sub = LoadedCase(sub_case, loaded.hierarchy, loaded.options, [], loaded.source)
    return find_conflict(sub, time_limit, given_records=[t[3] for t in recs])


def find_component_conflict(loaded: LoadedCase, comp: list[str], quotas: list, smalls: dict, records_of,
                            time_limit: float = 30.0) -> ConflictSet:
    """A minimal conflicting set for a component of XS candidates without a solution (``solver.engine.reduced``):
    searched on its candidates and its quota groups' members, what they read, and the groups' C1/C2
    records (``smalls``: C2 records by group)."""
    seeds = [*comp, *(m for q in quotas for m in q.members)]
    groups = [*quotas, *(smalls[q.group] for q in quotas if q.group in smalls)]
    return find_local_conflict(loaded, seeds, records_of, time_limit, group_records=groups)
