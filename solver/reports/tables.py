"""Report tables as plain data: the quota table per group and the level counts per kind (reports and app)."""

from __future__ import annotations

from collections import Counter

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
    all_kinds = Counter(s.kind for s in loaded.case.subjects)
    rows = []
    for kind in RATED_KINDS:
        if not all_kinds[kind]:
            continue
        ids = [sid for sid in result.targets if subjects[sid].kind is kind]
        before = Counter(result.targets[sid] for sid in ids)
        after = Counter(result.levels[sid] for sid in ids) if result.levels else None
        rows.append({
            "kind": kind, "rated": len(ids), "unrated": all_kinds[kind] - len(ids),
            "before": {lv: before[lv] for lv in LEVELS_DESC},
            "after": {lv: after[lv] for lv in LEVELS_DESC} if after is not None else None,
            "changed": changed[kind],
        })
    return rows
