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


#: ``Level(v)`` by index: the enum's call costs a microsecond a subject.
_LEVELS = tuple(Level(v) for v in range(4))


def upper_bounds(loaded: LoadedCase, records: list[Record], targets: dict[str, Level]) -> dict[str, Level]:
    """The greatest levels (decided subjects and units) allowed by caps, structure, locks and direction."""
    u = dict(zip(targets, map(int, targets.values())))
    for sid, lock in loaded.locks.items():
        if sid in u:
            u[sid] = int(lock)
    u.update(zip(loaded.given_levels, map(int, loaded.given_levels.values())))
    # Records reading the same subjects (S3 reads an organization's members three times, through one tuple)
    # are watched together: a member's bound dropping wakes its organization's three records at once.
    structural: list[Record] = []
    together: dict[int, list[Record]] = {}
    read: dict[int, tuple[str, ...]] = {}
    for r in records:
        if isinstance(r, Cap):
            if r.level < u[r.sid]:
                u[r.sid] = int(r.level)
        elif isinstance(r, Structural):
            structural.append(r)
            others = r.reads()
            key = id(others)
            same = together.get(key)
            if same is None:
                together[key] = [r]
                read[key] = others
            else:
                same.append(r)
    watchers: dict[str, list[list[Record]]] = {}
    for key, others in read.items():
        same = together[key]
        for o in others:
            w = watchers.get(o)
            if w is None:
                watchers[o] = [same]
            else:
                w.append(same)

    level = u.__getitem__
    queue = deque(structural)
    while queue:
        r = queue.popleft()
        sid = r.subject
        b = r.bound(level)
        if b < u[sid]:
            u[sid] = b
            for same in watchers.get(sid, ()):
                queue.extend(same)
    return dict(zip(u, map(_LEVELS.__getitem__, u.values())))
