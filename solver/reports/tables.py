"""Report tables as plain data: the quota table per group and the level counts per kind (reports and app), and
what the Word report and the Excel results both read, computed once (``report_facts``)."""

from __future__ import annotations

import weakref
from collections import Counter
from functools import cached_property

from model.case import Kind
from model.levels import LEVELS_DESC, Level
from model.loader import LoadedCase
from solver.explanations.explain import quota_numbers
from solver.result import SolveResult
from solver.engine.rules import Context, Quota, SmallGroup, quota_records

#: The kinds the solver decides, in report order (units are inputs, not rated here).
RATED_KINDS = (Kind.party_org, Kind.member, Kind.collective, Kind.leader)


def _cap(loaded: LoadedCase, q: Quota, small: SmallGroup | None, levels: dict[str, Level],
         targets: dict[str, Level]) -> dict:
    """XS, T, base and cap of one group under ``levels``, and which rule sets the cap (C1 or C2)."""
    nums = quota_numbers(loaded, q, small, levels, targets)
    rule = "C2" if small is not None and nums["base"] < small.threshold else q.rule
    return {"xs": nums["final_xs"], "t": nums["final_t"], "base": nums["base"], "cap": nums["cap"], "rule": rule}


def quota_table(loaded: LoadedCase, result: SolveResult, groups: set[str] | None = None) -> list[dict]:
    """One row per quota group (of ``groups`` only, when given): XS and T before (targets) and after (final
    levels), the cap and the shares.

    Keys: ``group``, ``name``, ``kind``, ``explicit``, ``size``; ``before_xs``, ``before_t``, ``before_cap``,
    ``before_rule``, ``over_before`` (the targets broke the cap); ``after_xs``, ``after_t``, ``after_cap``,
    ``after_rule``, ``pct_t`` (XS as a percentage of T), ``pct_all`` (XS as a percentage of the group) — the
    ``after_*`` and percentage values are None when the result has no levels (conflict, unknown), and a
    percentage is None when its denominator is 0; ``cap_percent``, ``cap_base``.
    """
    targets = result.targets
    ctx = Context(loaded.hierarchy, loaded.options, decided_ids=set(targets))  # every decided subject has a target
    quotas, smalls = quota_records(ctx)
    levels = result.levels or None
    rows = []
    for q in quotas:
        if groups is not None and q.group not in groups:
            continue
        if any(m not in targets for m in q.members):
            continue  # a group the solve did not decide (never for a result of this case)
        g = loaded.hierarchy.group(q.group)
        small = smalls.get(q.group)
        before = _cap(loaded, q, small, targets, targets)
        row = {
            "group": g.id, "name": g.name, "kind": g.kind, "explicit": g.explicit, "size": len(q.members),
            "before_xs": before["xs"], "before_t": before["t"], "before_cap": before["cap"],
            "before_rule": before["rule"], "over_before": before["xs"] > before["cap"],
            "after_xs": None, "after_t": None, "after_cap": None, "after_rule": None,
            "pct_t": None, "pct_all": None, "cap_percent": q.percent, "cap_base": q.base,
        }
        if levels is not None:
            after = _cap(loaded, q, small, levels, targets)
            row.update(after_xs=after["xs"], after_t=after["t"], after_cap=after["cap"], after_rule=after["rule"],
                       pct_t=100 * after["xs"] / after["t"] if after["t"] else None,
                       pct_all=100 * after["xs"] / len(q.members) if q.members else None)
        rows.append(row)
    return rows


def level_counts(loaded: LoadedCase, result: SolveResult) -> list[dict]:
    """Per rated kind: how many subjects, how many at each level before and after, how many changed.

    Keys: ``kind``, ``rated``, ``unrated``, ``before`` and ``after`` (``{Level: count}`` over every level;
    ``after`` is None when the result has no levels), ``changed``. Kinds with no subject are left out.
    """
    subjects = loaded.hierarchy.subjects
    changed = Counter(subjects[c.id].kind for c in result.changes)
    targets, levels = result.targets, result.levels or None
    # One pass over a province's subjects; kinds found by identity and levels used as list indexes (a dict
    # keyed by an enum member hashes it in Python, a second per 300,000 subjects).
    slot = {id(kind): i for i, kind in enumerate(RATED_KINDS)}
    present = [0] * len(RATED_KINDS)
    before = [[0] * len(Level) for _ in RATED_KINDS]
    after = [[0] * len(Level) for _ in RATED_KINDS]
    for s in loaded.case.subjects:
        i = slot.get(id(s.kind))
        if i is None:
            continue
        present[i] += 1
        target = targets.get(s.id)
        if target is None:
            continue
        before[i][target] += 1
        if levels is not None:
            after[i][levels[s.id]] += 1
    rows = []
    for i, kind in enumerate(RATED_KINDS):
        if not present[i]:
            continue
        rated = sum(before[i])
        rows.append({
            "kind": kind, "rated": rated, "unrated": present[i] - rated,
            "before": {lv: before[i][lv] for lv in LEVELS_DESC},
            "after": {lv: after[i][lv] for lv in LEVELS_DESC} if levels is not None else None,
            "changed": changed[kind],
        })
    return rows


def target_sources(loaded: LoadedCase, result: SolveResult) -> str:
    """Where the levels before the review came from, in words: "biểu quyết", "biểu quyết, đề xuất", …"""
    targets = result.targets
    found = set()
    for s in loaded.case.subjects:
        if s.id in targets:
            found.add("target" if s.target is not None else "votes" if s.votes is not None else "proposed")
            if len(found) == 3:
                break
    words = [w for src, w in (("votes", "biểu quyết"), ("proposed", "đề xuất"), ("target", "mức đã xác định"))
             if src in found]
    return ", ".join(words) or "biểu quyết, đề xuất"


class ReportFacts:
    """What the Word report and the Excel results both read about one result (a province's quota table and
    counts take a second or two)."""

    def __init__(self, loaded: LoadedCase, result: SolveResult):
        self.counts = level_counts(loaded, result)
        self.groups = quota_table(loaded, result)
        self.sources = target_sources(loaded, result)
        self._loaded = loaded

    @cached_property
    def stages(self) -> list[list[str]]:
        """The S5 meeting order (the hierarchy's ``rating_order``)."""
        return self._loaded.hierarchy.rating_order(self._loaded.options.rating_order)


_LAST: tuple = ()


def report_facts(loaded: LoadedCase, result: SolveResult) -> ReportFacts:
    """The ``ReportFacts`` of a final result; the last pair asked for is remembered, so that the Word report and
    the Excel results of one ``report`` command compute them once. (Read-only for the callers.)"""
    global _LAST
    last = _LAST
    if last and last[0]() is loaded and last[1]() is result:
        return last[2]
    facts = ReportFacts(loaded, result)
    _LAST = (weakref.ref(loaded), weakref.ref(result), facts)
    return facts
