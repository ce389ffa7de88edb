"""Constraint records: what a rule instance says, as plain data the models post and the explanations cite.

Six kinds cover every rule: ``Cap`` (a fact caps a subject), ``AtMost`` (one subject never above another),
``Needs`` (a level needs every one of some others at a minimum), ``CountTrigger`` (K when too many others
are K), ``Quota`` (C1) and ``SmallGroup`` (C2). Each per-subject record knows the subject it bounds
(``subject``), the subjects whose levels it reads (``reads``) and the upper bound it puts on its subject
given the bounds of those (``bound``): the propagation, the incremental what-ifs and the conflict search all
use these three instead of switching on the record's type.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from model.levels import Level

TOP = 3  # the integer of XS: "no bound"


@dataclass(frozen=True)
class Cap:
    """``level(sid) ≤ level``, because of a fact (``fact`` names it, ``detail`` gives its numbers)."""

    rule: str
    sid: str
    level: Level
    fact: str
    detail: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def subject(self) -> str:
        return self.sid

    def reads(self) -> tuple[str, ...]:
        return ()

    def bound(self, level: Callable[[str], int]) -> int:
        return int(self.level)


@dataclass(frozen=True)
class AtMost:
    """``level(a) ≤ level(b)`` (S1 collective ≤ unit, S2 head ≤ collective and unit, P1 one person's posts)."""

    rule: str
    a: str
    b: str

    @property
    def subject(self) -> str:
        return self.a

    def reads(self) -> tuple[str, ...]:
        return (self.b,)

    def bound(self, level: Callable[[str], int]) -> int:
        return level(self.b)


@dataclass(frozen=True)
class Needs:
    """``level(sid) ≥ level`` only if every one of ``others`` is ``≥ minimum`` (S3)."""

    rule: str
    sid: str
    level: Level
    others: tuple[str, ...]
    minimum: Level
    what: str  # "members" | "sub_orgs" | "units"
    #: The share of ``others`` that must be ``≥ minimum`` (100: every one; S3 under HD 21's reading: 80).
    percent: int = 100

    @property
    def subject(self) -> str:
        return self.sid

    def reads(self) -> tuple[str, ...]:
        return self.others

    def holds(self, count: int) -> bool:
        """Whether ``count`` of the others at ``minimum`` or above meet the condition."""
        return 100 * count >= self.percent * len(self.others)

    def bound(self, level: Callable[[str], int]) -> int:
        others = self.others
        if self.percent >= 100:  # every one of them (the common case: one pass, no count)
            return int(self.level) - 1 if others and min(map(level, others)) < self.minimum else TOP
        ok = sum(1 for o in others if level(o) >= int(self.minimum))
        return TOP if self.holds(ok) else int(self.level) - 1


@dataclass(frozen=True)
class CountTrigger:
    """``sid`` is K when more than ``percent``% of ``others`` are K (S3); with ``at_least``, when that many are K."""

    rule: str
    sid: str
    others: tuple[str, ...]
    what: str
    percent: int | None = 20
    at_least: int | None = None

    @property
    def subject(self) -> str:
        return self.sid

    def reads(self) -> tuple[str, ...]:
        return self.others

    def fires(self, k: int) -> bool:
        """Whether ``k`` of the others rated K trigger the rule."""
        if self.at_least is not None:
            return k >= self.at_least
        return 100 * k > self.percent * len(self.others)

    def bound(self, level: Callable[[str], int]) -> int:
        return 0 if self.fires(list(map(level, self.others)).count(0)) else TOP


@dataclass(frozen=True)
class Quota:
    """C1: in ``group``, ``100·#XS ≤ percent·base`` on final levels (base = #T, or #T + #XS)."""

    rule: str
    group: str
    members: tuple[str, ...]
    percent: int
    base: str  # "good_only" | "good_and_above"


@dataclass(frozen=True)
class SmallGroup:
    """C2: while the base of ``group`` is below ``threshold``, up to ``allowance`` may still be XS."""

    rule: str
    group: str
    threshold: int
    allowance: int


def quota_ok(q: Quota, small: SmallGroup | None, xs: int, t: int) -> bool:
    """C1 (and C2 when given) on final counts: ``xs`` rated XS and ``t`` rated T in the group."""
    base = t + xs if q.base == "good_and_above" else t
    if 100 * xs <= q.percent * base:
        return True
    return small is not None and base < small.threshold and xs <= small.allowance


def max_xs(q: Quota, small: SmallGroup | None, pool: int) -> int:
    """The most XS a group may keep when ``pool`` of its subjects are XS or T (moving XS to T keeps the pool)."""
    return next(xs for xs in range(pool, -1, -1) if quota_ok(q, small, xs, pool - xs))


Record = Cap | AtMost | Needs | CountTrigger | Quota | SmallGroup
#: The per-subject records (every kind but the quota ones).
Bounding = (Cap, AtMost, Needs, CountTrigger)
#: The per-subject records whose bound depends on other subjects' levels.
Structural = (AtMost, Needs, CountTrigger)


def subject_of(r: Record) -> str | None:
    """The subject a per-subject record bounds (the one its rule function was reading); None for C1/C2."""
    return None if isinstance(r, (Quota, SmallGroup)) else r.subject


__all__ = ["AtMost", "Bounding", "Cap", "CountTrigger", "Needs", "Quota", "Record", "SmallGroup", "Structural",
           "max_xs", "quota_ok", "subject_of"]
