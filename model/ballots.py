"""V1 ballot counting (BMT II.B.4.2): the voted level of a tally and the support for a level."""

from __future__ import annotations

from fractions import Fraction

from model.levels import GRADE_KEYS, GRADE_TO_LEVEL, Level


class NoMajority(ValueError):
    """No level reaches a strict majority even cumulatively: an input error, never a guess."""


def ballots_at_or_above(tally: dict[str, int], level: Level) -> int:
    """Number of ballots for ``level`` or any higher level."""
    return sum(tally[k] for k in GRADE_KEYS if GRADE_TO_LEVEL[k] >= level)


def denominator(tally: dict[str, int], voters: int | None) -> int:
    """The number of participants when given, else the sum of the four counts."""
    return voters if voters is not None else sum(tally[k] for k in GRADE_KEYS)


def voted_level(tally: dict[str, int], voters: int | None = None) -> Level:
    """The highest level whose ballots, with all higher ones, are strictly more than half (V1)."""
    return voted_from_counts(tally["XS"], tally["T"], tally["TB"], tally["K"], voters)


def voted_from_counts(xs: int, t: int, tb: int, k: int, voters: int | None = None) -> Level:
    """``voted_level`` on the four counts (XS, T, TB, K): the same rule without building a tally."""
    cast = xs + t + tb + k
    total = voters if voters is not None else cast
    if 2 * xs > total:
        return Level.XS
    if 2 * (xs + t) > total:
        return Level.T
    if 2 * (xs + t + tb) > total:
        return Level.HT
    if 2 * cast > total:
        return Level.K
    raise NoMajority(f"không mức nào đạt quá bán kể cả khi cộng dồn ({cast}/{total} phiếu hợp lệ)")


def support(tally: dict[str, int], level: Level, voters: int | None = None) -> Fraction:
    """The share of ballots at ``level`` or above (e.g. 9/15 for XS with 9 XS of 15)."""
    total = denominator(tally, voters)
    if total == 0:
        return Fraction(0)
    return Fraction(ballots_at_or_above(tally, level), total)


def support_scaled(xs: int, t: int, tb: int, k: int, level: Level, voters: int | None, scale: int) -> int:
    """``floor(support · scale)`` on the four counts, in integers (the solver's weight of a mandate)."""
    total = voters if voters is not None else xs + t + tb + k
    if total == 0:
        return 0
    at_or_above = (xs, xs + t, xs + t + tb, xs + t + tb + k)[3 - int(level)]
    return (at_or_above * scale) // total
