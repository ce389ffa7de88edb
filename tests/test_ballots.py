"""V1 ballot counting (RULES.md §1, BMT II.B.4.2), support for a level, and reading level spellings."""

from __future__ import annotations

import unicodedata
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.ballots import (NoMajority, ballots_at_or_above, denominator, support, support_scaled,
                           voted_from_counts, voted_level)
from model.case import Subject, validate_as
from model.levels import GRADE_TO_LEVEL, LEVELS_DESC, Level, parse_level


def tally(xs: int, t: int, tb: int, k: int) -> dict[str, int]:
    return {"XS": xs, "T": t, "TB": tb, "K": k}


#: The four worked examples of the BMT guide (15 voters) and the exact-50% case of RULES.md §1.
V1_TABLE = [
    pytest.param(9, 6, 0, 0, Level.XS, id="bmt-9-6-0-0-XS"),
    pytest.param(5, 9, 1, 0, Level.T, id="bmt-5-9-1-0-T"),
    pytest.param(3, 7, 5, 0, Level.T, id="bmt-3-7-5-0-T-cumulative-10-of-15"),
    pytest.param(3, 4, 6, 2, Level.HT, id="bmt-3-4-6-2-HT-cumulative-13-of-15"),
    pytest.param(8, 8, 0, 0, Level.T, id="exactly-half-is-not-a-majority"),
]


@pytest.mark.parametrize("xs, t, tb, k, expected", V1_TABLE)
def test_V1_voted_level_matches_the_guide(xs, t, tb, k, expected):
    assert voted_level(tally(xs, t, tb, k)) is expected


@pytest.mark.parametrize("xs, t, tb, k, expected", V1_TABLE)
def test_V1_voted_level_is_the_same_when_every_participant_voted(xs, t, tb, k, expected):
    assert voted_level(tally(xs, t, tb, k), xs + t + tb + k) is expected


def test_V1_support_for_XS_in_the_first_example_is_9_of_15():
    assert support(tally(9, 6, 0, 0), Level.XS) == Fraction(9, 15)


@pytest.mark.parametrize(
    "level, expected",
    [(Level.XS, Fraction(3, 15)), (Level.T, Fraction(7, 15)), (Level.HT, Fraction(13, 15)), (Level.K, 1)],
)
def test_V1_support_accumulates_from_the_top(level, expected):
    assert support(tally(3, 4, 6, 2), level) == expected


def test_V1_support_uses_the_participants_when_given():
    assert support(tally(9, 6, 0, 0), Level.XS, voters=20) == Fraction(9, 20)


def test_V1_support_of_an_empty_tally_is_zero_not_a_division_error():
    assert support(tally(0, 0, 0, 0), Level.XS) == 0


def test_V1_participants_who_cast_no_valid_ballot_count_in_the_denominator():
    # 8 of 15 valid ballots are XS (a majority), but 16 took part: 8 of 16 is exactly half, so T.
    assert voted_level(tally(8, 7, 0, 0)) is Level.XS
    assert voted_level(tally(8, 7, 0, 0), voters=16) is Level.T
    assert denominator(tally(8, 7, 0, 0), 16) == 16
    assert denominator(tally(8, 7, 0, 0), None) == 15


@pytest.mark.parametrize("votes, voters", [(tally(2, 2, 1, 0), 15), (tally(0, 0, 0, 7), 15), (tally(0, 0, 0, 0), 3)])
def test_V1_no_majority_even_cumulatively_raises(votes, voters):
    with pytest.raises(NoMajority) as info:
        voted_level(votes, voters)
    assert "quá bán" in str(info.value)


def test_V1_no_majority_is_an_input_error_of_the_subject_not_a_guess():
    s = validate_as(Subject, {"id": "DV1", "name": "Đảng viên 1", "kind": "member", "parent": "CB",
                              "votes": {"XS": 2, "T": 2, "TB": 1, "K": 0}, "voters": 15})
    with pytest.raises(NoMajority):
        s.target_level()


def test_V1_ballots_at_or_above_counts_higher_grades_too():
    t = tally(3, 4, 6, 2)
    assert [ballots_at_or_above(t, lv) for lv in LEVELS_DESC] == [3, 7, 13, 15]


def test_V1_subject_target_comes_from_its_votes():
    s = validate_as(Subject, {"id": "DV1", "name": "Đảng viên 1", "kind": "member", "parent": "CB",
                              "votes": tally(3, 7, 5, 0)})
    assert s.target_level() is Level.T
    assert s.target_source() == "votes"
    assert s.support(Level.T) == Fraction(10, 15)


# ---- level spellings ----------------------------------------------------------------------------------


@pytest.mark.parametrize("code, level", [("XS", Level.XS), ("T", Level.T), ("HT", Level.HT), ("K", Level.K),
                                         (" T ", Level.T)])
def test_strict_parsing_accepts_the_codes(code, level):
    assert parse_level(code) is level


@pytest.mark.parametrize("text", ["xs", "XSS", "HTTNV", "Hoàn thành tốt nhiệm vụ", "", "TB", "Tốt"])
def test_strict_parsing_rejects_anything_but_the_codes(text):
    with pytest.raises(ValueError) as info:
        parse_level(text)
    assert "mức xếp loại không hợp lệ" in str(info.value)


@pytest.mark.parametrize("value", [3, None, 2.0, ["XS"]])
def test_parsing_rejects_non_strings_in_vietnamese(value):
    for lenient in (False, True):
        with pytest.raises(ValueError) as info:
            parse_level(value, lenient=lenient)
        assert "mức xếp loại" in str(info.value)


LENIENT = [
    ("Hoàn thành xuất sắc nhiệm vụ", Level.XS),
    ("Hoàn thành tốt nhiệm vụ", Level.T),
    ("Hoàn thành nhiệm vụ", Level.HT),
    ("Không hoàn thành nhiệm vụ", Level.K),
    ("HTXSNV", Level.XS),
    ("HTTNV", Level.T),
    ("HTNV", Level.HT),
    ("KHTNV", Level.K),
    ("htxsnv", Level.XS),
    ("xs", Level.XS),
    ("ht", Level.HT),
    ("HOÀN THÀNH TỐT NHIỆM VỤ", Level.T),
    ("  hoàn   thành  nhiệm vụ ", Level.HT),
    ("Không Hoàn Thành Nhiệm Vụ", Level.K),
]


@pytest.mark.parametrize("text, level", LENIENT, ids=[t for t, _ in LENIENT])
def test_lenient_parsing_accepts_names_abbreviations_any_case(text, level):
    assert parse_level(text, lenient=True) is level


@pytest.mark.parametrize("text, level", LENIENT, ids=[t for t, _ in LENIENT])
def test_lenient_parsing_accepts_nfd(text, level):
    nfd = unicodedata.normalize("NFD", text)
    assert parse_level(nfd, lenient=True) is level


def test_the_nfd_inputs_really_differ_from_nfc():
    assert unicodedata.normalize("NFD", "Hoàn thành tốt nhiệm vụ") != "Hoàn thành tốt nhiệm vụ"


@pytest.mark.parametrize("text", ["XSS", "Tốt", "Hoàn thành xuất sắc nhiệm vụ lắm", "HTT", "H T"])
def test_lenient_parsing_still_rejects_unknown_spellings(text):
    with pytest.raises(ValueError) as info:
        parse_level(text, lenient=True)
    assert "mức xếp loại không hợp lệ" in str(info.value)


def test_level_names_round_trip_through_lenient_parsing():
    for lv in Level:
        assert parse_level(lv.official, lenient=True) is lv
        assert parse_level(lv.abbreviation, lenient=True) is lv
        assert parse_level(lv.code) is lv


def test_levels_are_totally_ordered():
    assert Level.XS > Level.T > Level.HT > Level.K
    assert list(LEVELS_DESC) == sorted(Level, reverse=True)


# ---- the integer fast paths equal the rule as written (Fraction and the cumulative loop) ------------

_COUNT = st.integers(min_value=0, max_value=60)


@given(_COUNT, _COUNT, _COUNT, _COUNT, st.one_of(st.none(), st.integers(min_value=0, max_value=300)))
@settings(max_examples=400, deadline=None)
def test_counts_fast_paths_equal_the_fraction_rule(xs, t, tb, k, voters):
    tally = {"XS": xs, "T": t, "TB": tb, "K": k}
    if voters is not None and voters < xs + t + tb + k:
        voters = xs + t + tb + k  # the case format refuses fewer voters than ballots
    for level in Level:
        share = support(tally, level, voters)
        assert support_scaled(xs, t, tb, k, level, voters, 1_000_000) == (share.numerator * 1_000_000) // share.denominator
    total = voters if voters is not None else xs + t + tb + k
    expected = next((lv for lv in (Level.XS, Level.T, Level.HT, Level.K)
                     if 2 * sum(tally[g] for g in tally if GRADE_TO_LEVEL[g] >= lv) > total), None)
    if expected is None:
        with pytest.raises(NoMajority):
            voted_from_counts(xs, t, tb, k, voters)
    else:
        assert voted_from_counts(xs, t, tb, k, voters) is expected
        assert voted_level(tally, voters) is expected
