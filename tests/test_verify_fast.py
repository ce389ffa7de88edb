"""The full check's fast reading hides nothing. ``Verifier.check(levels)`` reads the assignment once, in the
order of the decided subjects, and takes shortcuts from it (V1, locks and direction screened in C, the quota
groups and S3's members read by position, subjects that meet no check left out); a check of a scope walks
every subject by id instead. Checked with every subject as the scope, both must find the same violations;
the full check must find what each per-subject check, called on every subject, finds; and it must find the
same, in the same order, whatever order the assignment lists."""

from __future__ import annotations

import random
from pathlib import Path

import msgspec
import pytest

from model.case import EMPTY_FACTS, EXCLUSIONS, Group, Kind
from model.generate import generate_case
from model.levels import Level
from model.loader import load_case, parse_case
from solver.verify import CHECKS, Verifier

ROOT = Path(__file__).resolve().parents[1]
#: the "dư ra" V1 message: only a full check looks for levels given to subjects that are not decided
EXTRA = "được xếp mức dù không phải đối tượng được xếp loại"


def _cases():
    for path in [ROOT / "scenarios" / "phuong_tan_loi_2018.json", ROOT / "scenarios" / "xa_2025.json",
                 *sorted((ROOT / "tests" / "data" / "examples").glob("*.json"))]:
        yield path.stem, load_case(path)
    yield "interplay", parse_case(generate_case(600, 21, interplay=True), "g.json")
    yield "qd366", parse_case(generate_case(600, 22, profile="qd366-2025"), "g.json")


CASES = list(_cases())


def _mutated(loaded, rng: random.Random):
    """The case with some locks, may_rise, exclusions, unrated subjects and subjects without facts, and two
    explicit quota groups."""
    subjects = []
    for s in loaded.case.subjects:
        r = rng.random()
        if r < 0.05:
            s = msgspec.structs.replace(s, lock=rng.choice(list(Level)))
        elif r < 0.10:
            s = msgspec.structs.replace(s, may_rise=True)
        elif r < 0.13 and s.kind is not Kind.unit:
            s = msgspec.structs.replace(s, excluded=rng.choice(list(EXCLUSIONS)))
        elif r < 0.16:
            s = msgspec.structs.replace(s, rated=False)
        elif r < 0.30:
            s = msgspec.structs.replace(s, facts=EMPTY_FACTS)  # e.g. a member with a person but no facts (P1)
        subjects.append(s)
    # as the loader allows: no unit, and each subject in one group at most
    grouped = {m for g in loaded.case.groups for m in g.members}
    free = [s.id for s in subjects if s.kind is not Kind.unit and s.id not in grouped]
    rng.shuffle(free)
    groups = [*loaded.case.groups, *(Group(id=f"NX{i}", name=f"Nhóm thử {i}", members=tuple(free[i::2][:6])) for i in range(2)
                                     if free[i::2])]
    return loaded.case.model_copy(update={"subjects": subjects, "groups": groups}), subjects


def _assignments(subjects, rng: random.Random):
    """Assignments that break rules in many ways: random levels, a level missing, one given to a subject
    that is not decided, one given as None."""
    decided = [s.id for s in subjects if s.rated and s.excluded is None and s.kind is not Kind.unit]
    ids = [s.id for s in subjects]
    for _ in range(4):
        levels = {sid: Level(rng.randrange(4)) for sid in decided}
        yield levels
        damaged = dict(levels)
        damaged.pop(rng.choice(decided))
        damaged[rng.choice(ids)] = Level(rng.randrange(4))
        yield damaged
        holes = dict(levels)
        holes[rng.choice(decided)] = None
        yield holes


def _key(v):
    return v.rule, v.subject, v.message


@pytest.mark.parametrize("name,loaded", CASES, ids=[name for name, _ in CASES])
def test_the_full_check_finds_what_a_check_of_every_subject_finds(name, loaded):
    rng = random.Random(name)
    for mutate in (False, True):
        case, subjects = _mutated(loaded, rng) if mutate else (loaded.case, loaded.case.subjects)
        opts = loaded.options.model_copy(update={"allow_up": rng.random() < 0.3})
        v = Verifier(case, opts)
        everyone = {s.id for s in subjects}
        for levels in _assignments(subjects, rng):
            full = v.check(levels)
            scoped = v.check(levels, everyone)
            assert sorted(map(_key, (x for x in full if x.message != EXTRA))) == sorted(map(_key, scoped))
            # and every per-subject check called on every subject with a level, no subject or check skipped
            naive = []
            for s in subjects:
                if levels.get(s.id) is not None:
                    for rid in opts.rules:
                        if rid in CHECKS:
                            CHECKS[rid](v, s, levels[s.id], levels, lambda *a: naive.append(a))
            assert [_key(x) for x in full if x.rule in CHECKS] == naive
            # the fast reading (levels listed in the case's order) and the lookup (any other order) agree
            assert v.check(dict(reversed(levels.items()))) == full


def test_the_comparison_sees_broken_rules():
    """The assignments above do break rules of every family the shortcuts touch (so the agreement means something)."""
    rules = set()
    for name, loaded in CASES:
        rng = random.Random(name)
        case, subjects = _mutated(loaded, rng)
        v = Verifier(case, loaded.options)
        for levels in _assignments(subjects, rng):
            rules |= {x.rule for x in v.check(levels)}
    assert {"V1", "lock", "direction", "C1", "S3", "S1", "S2", "E1", "P1"} <= rules


@pytest.mark.parametrize("name,loaded", CASES, ids=[name for name, _ in CASES])
def test_quota_groups_come_in_file_order(name, loaded):
    """C1's violations come group by group: the explicit groups as listed, then each derived group at its first
    subject in file order (its least position among the decided), as when the groups were found per subject."""
    case, _ = _mutated(loaded, random.Random(name))
    v = Verifier(case, loaded.options)
    keys = list(v.groups)
    explicit = [("explicit", g.id) for g in case.groups]
    assert keys[:len(explicit)] == explicit
    firsts = [min(v.groups[key]) for key in keys[len(explicit):]]
    assert firsts == sorted(firsts) and len(set(firsts)) == len(firsts)
