"""Upper bounds by propagation: the greatest assignment that satisfies every rule except the quotas.

All rules other than C1/C2 are monotone upper bounds (lowering one subject can only lower the bound of
another), so the assignments that satisfy them are closed under pointwise maximum and a greatest one
exists: the fixpoint computed here from the targets (levels only move down), the locks and the records.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from model.levels import Level
from model.loader import LoadedCase
from solver.engine.records import Cap, Record, Structural


def record_bound(r: Record, level: Callable[[str], int]) -> int:
    """The upper bound a structural record puts on its subject, given the bounds ``level`` of the others."""
    return r.bound(level)


def upper_bounds(loaded: LoadedCase, records: list[Record], targets: dict[str, Level]) -> dict[str, Level]:
    """The greatest levels (decided subjects and units) allowed by caps, structure, locks and direction."""
    subjects = loaded.hierarchy.subjects
    u: dict[str, int] = {}
    for sid, t in targets.items():
        s = subjects[sid]
        u[sid] = int(s.lock) if s.lock is not None else int(t)
    for s in loaded.case.subjects:
        if s.level is not None and not s.decided:
            u[s.id] = int(s.level)
    watchers: dict[str, list[Record]] = {}
    for r in records:
        if isinstance(r, Cap):
            u[r.sid] = min(u[r.sid], int(r.level))
        elif isinstance(r, Structural):
            for o in r.reads():
                watchers.setdefault(o, []).append(r)

    queue = deque(r for r in records if isinstance(r, Structural))
    while queue:
        r = queue.popleft()
        sid = r.subject
        b = r.bound(u.__getitem__)
        if b < u[sid]:
            u[sid] = b
            queue.extend(watchers.get(sid, ()))
    return {sid: Level(v) for sid, v in u.items()}
