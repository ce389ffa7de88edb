"""Incremental what-ifs: re-solve a change to a few subjects of a solved case without solving it again.

A ``Session`` keeps what a full solve of the base found: the per-subject records, the propagated upper
bounds, each component's solution, the explanations. A what-if that only locks, unlocks, or changes the
facts, votes or target of some subjects (``model.whatif``) then touches a small part of the case:

1. the changed subjects are validated alone (the structure is unchanged, so nothing else can break);
2. only the rules that read the changed data are re-read (``solver.engine.rules.records_of``): the subject
   itself, its organization, the collective it heads or leads, the collectives leading its organization;
3. only the bounds downstream of those subjects are propagated again: a subject's bound reads only the
   subjects its own records name, so everything not downstream keeps its base bound exactly;
4. only the components whose candidates, quotas, edges, locks or weights may differ are solved again:
   the union of the base components touching the region and of the new candidates, closed under the
   quota groups and S1/S2 edges that link them (so it is a union of whole components of the what-if);
5. the answer is verified by the independent verifier on every rule instance that reads a changed
   subject (``Verifier.check(levels, scope)``); the base answer was verified on all of them;
6. only the subjects whose explanation may read a change are explained again.

Each step is the full solve's step restricted to where the what-if differs, so the answer is the
full solve's answer (``tests/test_incremental.py`` compares them byte for byte on random what-ifs).
A what-if that changes options or the profile, re-rates, or leads to a conflict is solved in full.
"""

from __future__ import annotations

import dataclasses
import time
from collections import ChainMap
from collections.abc import Iterable

from model.errors import CaseInvalid, InputProblem, pydantic_message
from model.hierarchy import _subject_problems
from model.levels import Level
from model.loader import LoadedCase, bands_of, no_gc
from model.case import Kind, Subject, dump, validate_as
from model.whatif import WhatIf, apply_whatif, parse_whatif
from pydantic import ValidationError
from solver.engine.bounds import record_bound
from solver.explanations.decisions import attach_decisions
from solver.explanations.explain import _Explainer
from solver.engine.reduced import merge_parts, plan_components, solve_component
from solver.result import Change, SolveResult
from solver.engine.rules import AtMost, Cap, CountTrigger, Needs, Quota, Record, SmallGroup, subject_of
from solver.engine.solve import SolveOptions, reducible, solve, verifier_failure
from solver.engine.staging import Runner, support_weight
from solver.verify import Verifier

__all__ = ["Session", "is_local"]


def is_local(delta: WhatIf) -> bool:
    """True when a what-if only locks, unlocks or changes facts, votes, scores or targets of named subjects."""
    return not (delta.rerate or delta.profile is not None or delta.options.given() or delta.rules
                or delta.exceptions)


def _reads(r: Record) -> Iterable[str]:
    """The subjects whose level a per-subject record reads."""
    return r.reads()


class Session:
    """A solved base case, ready to answer what-ifs on a few subjects in a fraction of a full solve."""

    def __init__(self, loaded: LoadedCase, opts: SolveOptions = SolveOptions(), raw: dict | None = None):
        """Solve ``loaded`` in full and keep what a what-if re-uses. ``raw`` is the case's raw data, if the
        caller has it (the what-if is applied to the raw dictionaries of the subjects it names)."""
        self.loaded, self.opts = loaded, opts
        self.incremental = reducible(loaded)
        self._raw_subjects: dict[str, dict] = {}
        if raw is not None and isinstance(raw.get("subjects"), list):
            for s in raw["subjects"]:
                if isinstance(s, dict) and isinstance(s.get("id"), str):
                    self._raw_subjects.setdefault(s["id"], s)
        self.last_mode = "full"
        self._file_index: dict[str, int] | None = None
        with no_gc():
            if not self.incremental:
                self.result = solve(loaded, opts)
                return
            self._prepare()

    # -- the base ------------------------------------------------------------------------------------

    def _prepare(self) -> None:
        """Solve the base in full (``solver.engine.solve``) and index what it used, for the what-ifs to come."""
        loaded = self.loaded
        kept: dict = {}
        self.result = solve(loaded, self.opts, keep=kept)
        if self.result.status not in ("optimal", "feasible") or "parts" not in kept:
            # conflicts, unknown or interrupted answers go through the full path (and stay there)
            self.incremental = False
            return
        self.targets = loaded.targets
        self.pos = {sid: i for i, sid in enumerate(self.targets)}
        self.decided = set(self.targets)
        self.weights, self.bounds, self.parts = kept["weights"], kept["bounds"], kept["parts"]
        self.quota_by_group: dict[str, Quota] = {}
        self.quota_index: dict[str, int] = {}
        self.smalls: dict[str, SmallGroup] = {}
        self.by_subject: dict[str, list[Record]] = {}
        self.readers: dict[str, set[str]] = {}
        for r in kept["records"]:
            if isinstance(r, Quota):
                self.quota_index[r.group] = len(self.quota_index)
                self.quota_by_group[r.group] = r
            elif isinstance(r, SmallGroup):
                self.smalls[r.group] = r
            else:
                sid = subject_of(r)
                self.by_subject.setdefault(sid, []).append(r)
                for o in _reads(r):
                    self.readers.setdefault(o, set()).add(sid)
        self.comp_of = {sid: i for i, p in enumerate(self.parts) for sid in p.members}
        self.forced = sum(1 for sid in self.targets if self.bounds[sid] != self.targets[sid])
        self.verifier = Verifier(loaded.case, loaded.options)
        self.change_of = {c.id: c for c in self.result.changes}

    # -- a what-if -----------------------------------------------------------------------------------

    def apply(self, delta: WhatIf | dict, file: str = "<giả định>", base_file: str | None = None
              ) -> tuple[LoadedCase, SolveResult]:
        """The what-if case and its solve: incremental when the delta is local, else a full solve."""
        if not isinstance(delta, WhatIf):
            delta = parse_whatif(delta, file)
        with no_gc():
            start = time.monotonic()
            if not (self.incremental and is_local(delta)):
                return self._full(delta, file, base_file, start)
            loaded, changed = self._apply_to_subjects(delta, file, base_file)
            result = self._resolve(loaded, changed, start)
            if result is None:  # no answer in time, or stopped: the full path decides
                self.last_mode = "full"
                result = solve(loaded, self.opts)
            else:
                self.last_mode = "incremental"
            return loaded, result

    def _full(self, delta: WhatIf, file: str, base_file: str | None, start: float
              ) -> tuple[LoadedCase, SolveResult]:
        from model.loader import parse_case

        published = None
        if delta.rerate:
            published = dict(self.result.levels) if self.result.levels else None
        applied = apply_whatif(self._raw_data(), delta, published, file=file,
                               base_file=base_file or self.loaded.source)
        loaded = parse_case(applied, f"{file} (áp dụng lên {base_file or self.loaded.source})", nfc_done=True)
        loaded.source = file
        self.last_mode = "full"
        return loaded, solve(loaded, self.opts)

    def _conflict(self, loaded: LoadedCase, found, start: float, region: set[str]) -> SolveResult:
        """A what-if's conflict, written as the full solve writes it (``found``: ``solver.engine.conflicts``)."""
        base = self.result
        result = SolveResult(loaded.case.name, "conflict", targets=dict(loaded.targets), profile=base.profile,
                             options=base.options, method="reduced")
        result.take_conflicts(found)
        attach_decisions(loaded, result)
        result.wall_time = time.monotonic() - start
        self.last_region = {"region": len(region), "conflict": len(result.conflicts)}
        return result

    def _raw_data(self) -> dict:
        """The base's raw data: the caller's own dictionaries where given, else the case written back."""
        data = self.loaded.case.to_data()
        data["subjects"] = [self._raw_subjects.get(s["id"], s) for s in data["subjects"]]
        return data

    def _raw_of(self, sid: str) -> dict:
        raw = self._raw_subjects.get(sid)
        if raw is not None:
            return raw
        return dump(self.loaded.hierarchy.subjects[sid], mode="json", exclude_defaults=True)

    def _apply_to_subjects(self, delta: WhatIf, file: str, base_file: str | None
                           ) -> tuple[LoadedCase, dict[str, Subject]]:
        """The what-if case, built by replacing the named subjects of the base (validated one by one)."""
        base = self.loaded
        h = base.hierarchy
        base_file = base_file or base.source
        ids = [sid for sid in sorted(delta.mentioned()) if sid in h.subjects]
        mini = {"name": base.case.name, "subjects": [dict(self._raw_of(sid)) for sid in ids]}
        # the expect block may name any subject of the case: it is checked against the result, not applied here
        applied = apply_whatif(mini, delta.model_copy(update={"expect": None}), None, file=file,
                               base_file=base_file)
        where = f"{file} (áp dụng lên {base_file})"
        new: dict[str, Subject] = {}
        problems: list[InputProblem] = []
        for raw in applied["subjects"]:
            sid = raw["id"]
            row = self._position(sid) + 1
            try:
                new[sid] = validate_as(Subject, raw, context={"nfc_done": True})
            except ValidationError as exc:
                for err in exc.errors():
                    problems.append(InputProblem(where, pydantic_message(err), sheet="subjects", row=row,
                                                 field=".".join(str(p) for p in err["loc"]) or None, subject=sid))
        if problems:
            raise CaseInvalid(problems)
        subjects = dict(h.subjects)
        subjects.update(new)
        targets = dict(base.targets)
        warnings = [w for w in base.warnings if w.subject not in new]
        for sid, s in new.items():
            row = self._position(sid)
            found: dict = {}
            for p in _subject_problems(where, row, s, subjects, found, bands_of(self.loaded.options)):
                (warnings if p.warning else problems).append(p)
            if sid in targets:
                targets[sid] = found[sid]
        if problems:
            raise CaseInvalid(problems)
        # the order a full validation reports them in: subjects by row, then the rest
        warnings.sort(key=lambda p: (0, p.row or 0) if p.sheet == "subjects" else (1, 0))
        case_subjects = list(base.case.subjects)
        for sid, s in new.items():
            case_subjects[self._position(sid)] = s
        case = base.case.model_copy(update={"subjects": tuple(case_subjects), "name": applied["name"]})
        hierarchy = dataclasses.replace(h, case=case, subjects=subjects)
        loaded = LoadedCase(case, hierarchy, base.options, warnings, file)
        loaded.__dict__["targets"] = targets
        return loaded, new

    def _position(self, sid: str) -> int:
        """The subject's row in the case file (0-based)."""
        if self._file_index is None:
            self._file_index = {s.id: i for i, s in enumerate(self.loaded.case.subjects)}
        return self._file_index[sid]

    def _resolve(self, loaded: LoadedCase, new: dict[str, Subject], start: float) -> SolveResult | None:
        """The incremental solve of ``loaded`` (the base with the subjects of ``new`` replaced)."""
        from solver.engine.rules import data_readers, records_of

        h = loaded.hierarchy
        subjects = h.subjects
        opts = self.opts
        targets = loaded.targets
        decided = self.decided
        changed = set(new)

        # 2. records of every subject whose rules read the changed data
        around: set[str] = set()
        base_subjects = self.loaded.hierarchy.subjects
        for sid, s in new.items():
            around |= data_readers(h, s) | data_readers(h, base_subjects[sid])  # old and new data alike
        around &= decided
        order = sorted(around, key=self.pos.__getitem__)
        fresh = records_of(h, loaded.options, order, decided_ids=decided)

        def recs_of(sid: str) -> list[Record]:
            got = fresh.get(sid)
            return got if got is not None else self.by_subject.get(sid, [])

        extra_readers: dict[str, set[str]] = {}
        for sid, rs in fresh.items():
            for r in rs:
                for o in _reads(r):
                    extra_readers.setdefault(o, set()).add(sid)

        # 3. bounds again on the region downstream of the changes
        region: set[str] = set()
        stack = list(around | changed)
        while stack:
            x = stack.pop()
            if x in region:
                continue
            region.add(x)
            stack.extend(self.readers.get(x, ()))  # the new readers (extra_readers) are in `around`
        u: dict[str, int] = {}
        for sid in region:
            s = subjects[sid]
            if sid in decided:
                u[sid] = int(s.lock) if s.lock is not None else int(targets[sid])
            elif s.level is not None:
                u[sid] = int(s.level)
        base_bounds = self.bounds

        def get(o: str) -> int:
            v = u.get(o)
            return v if v is not None else int(base_bounds[o])

        for sid in region:
            for r in recs_of(sid):
                if isinstance(r, Cap):
                    u[sid] = min(u[sid], int(r.level))

        queue = [r for sid in region for r in recs_of(sid) if isinstance(r, (AtMost, Needs, CountTrigger))]
        while queue:
            r = queue.pop()
            sid = subject_of(r)
            b = record_bound(r, get)
            if b < u[sid]:
                u[sid] = b
                for y in (*self.readers.get(sid, ()), *extra_readers.get(sid, ())):
                    if y in region:
                        queue.extend(q for q in recs_of(y) if isinstance(q, (AtMost, Needs, CountTrigger)))
        new_bounds = {sid: Level(v) for sid, v in u.items()}
        bounds = ChainMap(new_bounds, base_bounds)
        refused = [sid for sid in sorted(region & decided, key=self.pos.__getitem__)
                   if subjects[sid].lock is not None and bounds[sid] < subjects[sid].lock]
        if refused:  # locks the rules refuse: the minimal set, searched where the full solve searches it
            from solver.engine.conflicts import find_local_conflict

            return self._conflict(loaded, find_local_conflict(
                loaded, refused, recs_of, max(1.0, start + opts.time_limit - time.monotonic())), start, region)

        # 4. the components that may differ, solved again
        def cand(sid: str) -> bool:
            return sid in decided and bounds[sid] == Level.XS

        group_of = h.group_of
        touched = region | changed
        affected: set[int] = set()
        members: set[str] = set()
        frontier: list[str] = []

        def take(m: str) -> None:
            if m not in members and cand(m):
                members.add(m)
                frontier.append(m)

        def take_part(i: int) -> None:
            if i not in affected:
                affected.add(i)
                for m in self.parts[i].members:
                    take(m)

        def link(p: str) -> None:
            if p not in members and cand(p):
                take(p)
                if p in self.comp_of:
                    take_part(self.comp_of[p])

        for x in region:
            take(x)
        for x in touched:
            if x in self.comp_of:
                take_part(self.comp_of[x])
        # close under quota groups and S1/S2 edges. Forward edges suffice: a candidate with an edge to a
        # candidate x was in x's base component, or its bound or records changed (it reads x), so it is
        # in the region already.
        seen_groups: set[str] = set()
        todo = list({group_of[x] for x in touched if x in group_of})
        while todo or frontier:
            while todo:
                g = todo.pop()
                if g not in seen_groups:
                    seen_groups.add(g)
                    for m in self.quota_by_group[g].members:
                        link(m)
            if frontier:
                x = frontier.pop()
                if x in group_of and group_of[x] not in seen_groups:
                    todo.append(group_of[x])
                for r in recs_of(x):
                    if isinstance(r, AtMost):
                        link(r.b)
        pos = self.pos
        cands = sorted(members, key=pos.__getitem__)
        quotas = sorted((self.quota_by_group[g] for g in {group_of[m] for m in cands if m in group_of}),
                        key=lambda q: self.quota_index[q.group])
        # the full solve lists S1 edges (collectives) before S2 edges (leaders), each in file order
        edges = [r for m in sorted(members, key=lambda m: (subjects[m].kind is not Kind.collective, pos[m]))
                 for r in recs_of(m) if isinstance(r, AtMost)]
        plan = plan_components(cands, quotas, edges, self.smalls)
        weights = ChainMap({sid: support_weight(loaded, sid, targets[sid]) for sid in changed if sid in decided},
                           self.weights)
        runner = Runner(opts, start + opts.time_limit)
        fresh_parts = []
        for i, comp in enumerate(plan.comps):
            part = solve_component(loaded, comp, plan.quotas[i], plan.edges[i], plan.smalls, bounds, weights, pos,
                                   runner, opts)
            if part.status == "conflict" and not runner.interrupted:
                # the first component without a solution, in file order as in the full solve (the others
                # kept their base solution): its minimal set, searched where the full solve searches it
                from solver.engine.conflicts import find_component_conflict

                return self._conflict(loaded, find_component_conflict(
                    loaded, comp, plan.quotas[i], self.smalls, recs_of,
                    max(1.0, start + opts.time_limit - time.monotonic())), start, region)
            if part.status in ("conflict", "unknown"):
                return None
            fresh_parts.append(part)
        if runner.interrupted:
            return None
        parts = [p for i, p in enumerate(self.parts) if i not in affected] + fresh_parts

        # levels, objective and status
        base = self.result
        levels = dict(base.levels)
        for sid in region & decided:
            levels[sid] = bounds[sid]
        forced = self.forced
        for sid in (region | changed) & decided:
            forced += (bounds[sid] != targets[sid]) - (base_bounds[sid] != self.targets[sid])
        result = SolveResult(loaded.case.name, "unknown", targets=dict(targets), profile=base.profile,
                             options=base.options, method="reduced")
        status = merge_parts(parts, forced, pos, levels, result)
        moved = {sid for sid in (region | members | changed) & decided if levels[sid] != base.levels[sid]}
        result.status = status
        result.proven = status == "optimal"
        result.levels = levels
        look = (region | members | changed) & decided
        result.changed = base.changed + sum((levels[s] != targets[s]) - (base.levels[s] != self.targets[s])
                                            for s in look)
        result.steps = base.steps + sum(abs(int(levels[s]) - int(targets[s]))
                                        - abs(int(base.levels[s]) - int(self.targets[s])) for s in look)
        result.support_cost = base.support_cost + sum(
            (weights[s] if levels[s] != targets[s] else 0)
            - (self.weights[s] if base.levels[s] != self.targets[s] else 0) for s in look)

        # 5. the verifier on every rule instance that reads a changed subject
        verifier = self.verifier.replaced(list(new.values()))
        violations = verifier.check(levels, moved | changed)
        if violations:
            raise verifier_failure(loaded, violations)

        # 6. explanations of every subject that may read a change
        touch = moved | changed
        again = set(around) | touch
        for x in touch:
            again.update(self.readers.get(x, ()))
            again.update(extra_readers.get(x, ()))
        for g in {group_of[x] for x in touch if x in group_of}:
            again.update(self.quota_by_group[g].members)
        base_claims = self.result.claims
        again.update(sid for sid in set(result.claims) | set(base_claims)
                     if result.claims.get(sid) != base_claims.get(sid))  # a re-solved component's costs
        again &= decided
        by_sid = {sid: recs_of(sid) for sid in again}
        quota_of = {}
        for sid in again:
            g = group_of.get(sid)
            if g is not None:
                quota_of[sid] = (self.quota_by_group[g], self.smalls.get(g))
        ex = _Explainer(loaded, None, levels, targets, weights, by_sid=by_sid, quota_of=quota_of, order=pos,
                        claims=result.claims)
        changes: list[Change] = []
        for sid, t in targets.items():
            lv = levels[sid]
            if lv == t:
                continue
            if sid in again:
                changes.append(Change(sid, t, lv, tuple(ex.reasons(sid)) if opts.explain else ()))
            else:
                changes.append(self.change_of[sid])
        result.changes = changes
        attach_decisions(loaded, result)
        result.wall_time = time.monotonic() - start
        self.last_region = {"region": len(region), "candidates": len(cands), "components": len(plan.comps),
                            "verified": len(touch), "explained": len(again)}
        return result
