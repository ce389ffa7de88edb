"""The case generator: deterministic for a seed, valid at any size and depth, realistic in its rates."""

import argparse
import random
import time
import unicodedata
from collections import Counter

import pytest

from model.ballots import voted_level
from model.case import Kind, Tier
from model.generate import SHAPES, dumps_case, generate_case, shape_for_depth, tally
from model.levels import Level
from model.loader import load_case, parse_case
from solver.commands.generate import cmd_generate, configure_generate
from solver.engine.solve import SolveOptions, solve


def _voted(subject: dict) -> Level:
    v = subject["votes"]
    return voted_level({k: v.get(k, 0) for k in ("XS", "T", "TB", "K")}, subject.get("voters"))


def _depth(loaded) -> int:
    """Party-organization levels on the longest chain from the top to an organization holding members."""
    h = loaded.hierarchy
    holders = {s.parent for s in loaded.case.subjects if s.kind is Kind.member}
    return max(1 + len(h.ancestors(o)) for o in holders)


@pytest.fixture(scope="module")
def big():
    return generate_case(20_000, 11)


# -- determinism ---------------------------------------------------------------------------------

def test_the_same_seed_gives_byte_identical_json():
    a = dumps_case(generate_case(2_000, 7))
    b = dumps_case(generate_case(2_000, 7))
    assert a == b
    assert dumps_case(generate_case(300, 7, interplay=True), lines=True) == \
        dumps_case(generate_case(300, 7, interplay=True), lines=True)


def test_different_seeds_give_different_cases():
    assert dumps_case(generate_case(2_000, 1)) != dumps_case(generate_case(2_000, 2))


def test_the_generator_does_not_touch_the_global_random_state():
    random.seed(5)
    expected = random.random()
    random.seed(5)
    generate_case(500, 3)
    assert random.random() == expected


# -- validity at any size and depth --------------------------------------------------------------

@pytest.mark.parametrize("members", [1, 9, 200, 2_000])
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_generated_cases_validate_with_exactly_the_members_asked(members, shape):
    data = generate_case(members, 3, shape=shape)
    loaded = parse_case(data, "generated.json")
    assert loaded.warnings == []
    assert sum(1 for s in loaded.case.subjects if s.kind is Kind.member) == members


@pytest.mark.parametrize("depth", [1, 2, 3, 4, 5, 6, 7])
def test_a_shape_of_depth_n_validates_and_is_n_levels_deep(depth):
    data = generate_case(3_000, depth, shape=depth)
    loaded = parse_case(data)
    assert shape_for_depth(depth).depth == depth
    assert _depth(loaded) == depth
    tiers = Counter(s.tier for s in loaded.case.subjects if s.kind is Kind.party_org)
    assert tiers[Tier.grassroots] >= 1
    assert tiers[Tier.upper] == 0 or depth >= 3


def test_a_province_has_districts_grassroots_branches_and_chi_bo_co_so(big):
    loaded = parse_case(big)
    subjects = loaded.hierarchy.subjects
    orgs = [s for s in loaded.case.subjects if s.kind is Kind.party_org]
    top = [s for s in orgs if s.parent is None]
    assert len(top) == 1 and top[0].tier is Tier.upper
    districts = [s for s in orgs if s.parent == top[0].id]
    assert len(districts) >= 2 and all(s.tier is Tier.upper for s in districts)
    grassroots = [s for s in orgs if s.tier is Tier.grassroots]
    holders = {s.parent for s in loaded.case.subjects if s.kind is Kind.member}
    assert any(g.id in holders for g in grassroots), "some grassroots orgs are chi bộ cơ sở with members directly"
    assert any(g.id not in holders for g in grassroots), "some grassroots orgs are đảng bộ with chi bộ"
    assert all(subjects[o].tier is not Tier.upper for o in holders)


def test_collectives_leaders_and_units_are_wired(big):
    loaded = parse_case(big)
    h = loaded.hierarchy
    subjects = h.subjects
    kinds = Counter(s.kind for s in loaded.case.subjects)
    assert kinds[Kind.collective] > 0 and kinds[Kind.leader] > 0 and kinds[Kind.unit] > 0
    # every đảng bộ cơ sở is led by a cấp ủy that a secretary heads
    dang_bo = [s for s in loaded.case.subjects if s.kind is Kind.party_org and h.sub_orgs_of.get(s.id)]
    assert all(h.collectives_leading.get(s.id) for s in dang_bo)
    assert all(h.heads_of.get(c) for s in dang_bo for c in h.collectives_leading[s.id])
    # ward and commune organizations list their UBND, MTTQ, đoàn thể; "Thường trực UBND" leads the UBND
    with_units = [s for s in loaded.case.subjects if s.kind is Kind.party_org and s.same_level_units]
    assert with_units
    ubnd = [u for s in with_units for u in s.same_level_units if subjects[u].name.startswith("Ủy ban nhân dân")]
    assert len(ubnd) == len(with_units)
    for u in ubnd:
        (coll,) = h.collectives_leading[u]
        assert subjects[coll].name.startswith("Thường trực Ủy ban nhân dân")
        (head,) = h.heads_of[coll]
        assert "Chủ tịch Ủy ban nhân dân" in subjects[head].name
    # categories are per type and deciding committee: never one group for all chi ủy of the case
    categories = Counter(s.category for s in loaded.case.subjects if s.kind is Kind.collective)
    assert len(categories) > 10


def test_ids_are_short_unique_and_names_are_nfc_vietnamese(big):
    ids = [s["id"] for s in big["subjects"]]
    assert len(ids) == len(set(ids))
    assert max(len(i) for i in ids) <= 8
    assert all(unicodedata.is_normalized("NFC", s["name"]) for s in big["subjects"])
    members = [s["name"] for s in big["subjects"] if s["kind"] == "member"]
    assert all(len(n.split()) == 3 for n in members)  # họ + đệm + tên
    assert len(set(members)) > len(members) // 10  # drawn, not one name repeated
    assert any(" Thị " in n for n in members) and any(" Văn " in n for n in members)


# -- ballots and distributions -------------------------------------------------------------------

def test_every_tally_gives_exactly_the_level_it_was_drawn_for():
    rng = random.Random(0)
    for _ in range(4_000):
        n = rng.randint(1, 40)
        level = rng.randint(0, 3)
        t = tally(rng, level, n)
        assert sum(t.values()) == n
        assert voted_level({k: t.get(k, 0) for k in ("XS", "T", "TB", "K")}) == Level(level)


def test_member_voted_levels_follow_the_published_distribution(big):
    levels = Counter(_voted(s) for s in big["subjects"] if s["kind"] == "member" and "votes" in s)
    total = sum(levels.values())
    share = {lv: 100 * levels[lv] / total for lv in Level}
    assert 15 - 5 <= share[Level.XS] <= 20 + 5
    assert 70 - 5 <= share[Level.T] <= 75 + 5
    assert 8 - 5 <= share[Level.HT] <= 10 + 5
    assert share[Level.K] <= 1 + 5
    assert share[Level.K] > 0  # but K exists


def test_grassroots_organizations_are_a_little_more_often_xs_than_members(big):
    members = [_voted(s) for s in big["subjects"] if s["kind"] == "member" and "votes" in s]
    grassroots = [_voted(s) for s in big["subjects"] if s.get("tier") == "grassroots" and "votes" in s]
    member_xs = sum(v is Level.XS for v in members) / len(members)
    org_xs = sum(v is Level.XS for v in grassroots) / len(grassroots)
    assert org_xs > member_xs
    assert org_xs < 0.40


def test_voters_are_between_5_and_40(big):
    totals = [sum(s["votes"].values()) for s in big["subjects"] if "votes" in s]
    assert min(totals) >= 5 and max(totals) <= 40


def test_facts_come_at_realistic_rates(big):
    members = [s for s in big["subjects"] if s["kind"] == "member"]
    n = len(members)
    facts = Counter(f for s in members for f, v in s.get("facts", {}).items() if v)
    not_rated = sum(1 for s in members if s.get("rated") is False)
    long_sick = sum(1 for s in members if s.get("facts", {}).get("sick_leave_months", 0) >= 3)
    assert 0.30 <= facts["civil_servant_level"] / n <= 0.50
    assert 0.001 <= facts["disciplined"] / n <= 0.006
    assert 0.002 <= long_sick / n <= 0.01
    assert 0.005 <= not_rated / n <= 0.015
    assert 0.05 <= facts["committee_member"] / n <= 0.25
    assert all("votes" not in s for s in members if s.get("rated") is False)


def test_ties_in_support_are_common_but_not_universal():
    loaded = parse_case(generate_case(2_000, 5))
    h = loaded.hierarchy
    tied_groups = spread_groups = candidates = tied_candidates = 0
    for g in h.groups:
        sup = [h.subjects[m].support(Level.XS) for m in g.members if h.subjects[m].target_level() is Level.XS]
        if len(sup) < 2:
            continue
        counts = Counter(sup)
        tied_groups += any(c > 1 for c in counts.values())
        spread_groups += len(counts) > 1
        candidates += len(sup)
        tied_candidates += sum(c for c in counts.values() if c > 1)
    assert tied_groups > 0 and spread_groups > 0
    assert 0.1 < tied_candidates / candidates < 0.95


# -- the interplay pattern -----------------------------------------------------------------------

@pytest.mark.parametrize("shape", ["province", "commune"])
def test_interplay_keeps_the_weaker_xs_with_its_xs_chi_uy_and_secretary(shape):
    data = generate_case(400, 2, shape=shape, interplay=True)
    subjects = {s["id"]: s for s in data["subjects"]}
    # the pattern: P has the weaker XS vote but an XS chi ủy and secretary; Q's chi ủy is already lower
    assert subjects["IP"]["votes"]["XS"] < subjects["IQ"]["votes"]["XS"]
    assert _voted(subjects["IP-C"]) is Level.XS and _voted(subjects["IP-L"]) is Level.XS
    assert _voted(subjects["IQ-C"]) is Level.T
    result = solve(parse_case(data), SolveOptions(time_limit=60, workers=2))
    assert result.status == "optimal"
    assert result.levels["IP"] is Level.XS and result.levels["IP-C"] is Level.XS and result.levels["IP-L"] is Level.XS
    assert result.levels["IQ"] is Level.T


def test_interplay_needs_room_and_a_level_below_the_top():
    with pytest.raises(ValueError):
        generate_case(20, 1, interplay=True)
    with pytest.raises(ValueError):
        generate_case(500, 1, shape=1, interplay=True)


# -- scale and arguments -------------------------------------------------------------------------

def test_generation_scales_linearly():
    start = time.perf_counter()
    data = generate_case(60_000, 1)
    text = dumps_case(data)
    elapsed = time.perf_counter() - start
    assert sum(1 for s in data["subjects"] if s["kind"] == "member") == 60_000
    assert len(text) > 5_000_000
    assert elapsed < 10  # 300,000 members take a few seconds


@pytest.mark.parametrize("bad", [0, -5, 2.5, True])
def test_member_count_must_be_a_positive_integer(bad):
    with pytest.raises(ValueError):
        generate_case(bad, 1)


def test_unknown_shape_is_refused_in_vietnamese():
    with pytest.raises(ValueError, match="không có dạng"):
        generate_case(100, 1, shape="galaxy")


# -- the command ---------------------------------------------------------------------------------

def _args(*argv):
    p = argparse.ArgumentParser(prog="xeploai generate")
    configure_generate(p)
    return p.parse_args(list(argv))


def test_generate_command_writes_a_loadable_deterministic_file(tmp_path, capsys):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert cmd_generate(_args("--members", "1500", "--seed", "9", str(a))) == 0
    assert cmd_generate(_args("--members", "1500", "--seed", "9", str(b))) == 0
    assert a.read_bytes() == b.read_bytes()
    loaded = load_case(a)
    assert sum(1 for s in loaded.case.subjects if s.kind is Kind.member) == 1500
    assert "Đã ghi" in capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir()] != [] and not list(tmp_path.glob(".*.tmp"))


def test_generate_command_with_interplay_and_profile(tmp_path):
    out = tmp_path / "c.json"
    assert cmd_generate(_args("--members", "300", "--interplay", "--profile", "bd-2020", str(out))) == 0
    loaded = load_case(out)
    assert loaded.case.profile == "bd-2020"
    assert {"IX", "IP", "IQ", "IR"} <= set(loaded.hierarchy.subjects)


def test_generate_command_refuses_bad_arguments(tmp_path, capsys):
    with pytest.raises(SystemExit):
        _args("--members", "0", str(tmp_path / "x.json"))
    assert cmd_generate(_args("--members", "100", "--profile", "khong-co", str(tmp_path / "x.json"))) == 2
    assert cmd_generate(_args("--members", "10", "--interplay", str(tmp_path / "y.json"))) == 2
    out = capsys.readouterr().out
    assert "Không tạo được hồ sơ" in out
    assert not (tmp_path / "x.json").exists() and not (tmp_path / "y.json").exists()
