"""The manual "Excel method", for comparison: demote the weakest XS in each group over its cap, propagate, repeat.

This is how committees fix conflicts by hand today. It always ends in an assignment that satisfies the
rules (for down-only cases), but not with the fewest changes: example 03 of ../shared/examples is the
textbook case. The benchmark prints how many more changes it makes than the least-change solve.
"""

from __future__ import annotations

from model.levels import Level
from model.loader import LoadedCase
from solver.engine.bounds import upper_bounds
from solver.engine.rules import Quota, SmallGroup, quota_ok, records
from solver.engine.staging import support_weight


def greedy(loaded: LoadedCase) -> dict[str, Level]:
    """Levels by the weakest-first manual method (levels only move down; locks are honoured as caps)."""
    recs = records(loaded.hierarchy, loaded.options)
    targets = loaded.targets
    weights = {sid: support_weight(loaded, sid, targets[sid]) for sid in targets}
    pos = {sid: i for i, sid in enumerate(targets)}
    smalls = {r.group: r for r in recs if isinstance(r, SmallGroup)}
    quotas = [r for r in recs if isinstance(r, Quota)]
    levels = upper_bounds(loaded, recs, targets)
    while True:
        demoted = False
        for q in quotas:
            small = smalls.get(q.group)
            xs = [m for m in q.members if levels[m] == Level.XS]
            t = sum(1 for m in q.members if levels[m] == Level.T)
            xs.sort(key=lambda m: (weights[m], -pos[m]))  # weakest support first, then the last listed
            while xs and not quota_ok(q, small, len(xs), t):
                levels[xs.pop(0)] = Level.T
                t += 1
                demoted = True
        if not demoted:
            return {sid: levels[sid] for sid in targets}
        levels = upper_bounds(loaded, recs, {sid: levels[sid] for sid in targets})
