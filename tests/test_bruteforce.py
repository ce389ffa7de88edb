"""Random tiny cases: the solver's objective, answer and ties equal an exhaustive enumeration."""

from itertools import product

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casebuild import case, collective, leader, member, org, unit
from model.levels import Level
from solver.engine.solve import SolveOptions, support_weight, solve
from solver.verify import verify

LEVELS = ["XS", "T", "HT", "K"]
FACTS = [{}, {}, {}, {"civil_servant_level": "T"}, {"civil_servant_level": "HT"}, {"disciplined": True},
         {"sick_leave_months": 4}, {"disciplined": True, "committee_member": True, "self_remedied": True},
         {"committee_member": True}, {"disciplined": True, "committee_member": True}]
#: Facts of a collective: its own discipline (S3 for the organization it leads, S4, E7b upwards) and the
#: violations it let happen (E7c upwards), remedied or not.
COLLECTIVE_FACTS = [{}, {}, {}, {"disciplined": True}, {"violations_handled": True},
                    {"violations_handled": True, "self_remedied": True}, {"disciplined": True, "self_remedied": True}]
UNIT_TYPES = ["chinh_quyen", "mat_tran", "doan_the"]
PROFILES = [None, "bmt-2018", "bd-2020", "bmt-bd-2020", "qd366-2025"]


@st.composite
def tiny_cases(draw):
    subjects = []
    n_orgs = draw(st.integers(1, 2))
    upper = n_orgs == 2 and draw(st.booleans())
    if upper:
        subjects.append(org("DB", draw(st.sampled_from(LEVELS)), tier="upper"))
    units = []
    if draw(st.booleans()):
        units = [unit(f"U{i}", draw(st.sampled_from(LEVELS)), category=draw(st.sampled_from(UNIT_TYPES)))
                 for i in range(draw(st.integers(1, 3)))]
        subjects.extend(units)
    budget = 6 - len([s for s in subjects if s["kind"] != "unit"])
    orgs = []
    for i in range(n_orgs):
        if budget <= 0:
            break
        o = org(f"O{i}", draw(st.sampled_from(LEVELS)), parent="DB" if upper else None,
                **({"same_level_units": [u["id"] for u in units]} if units and i == 0 else {}))
        subjects.append(o)
        orgs.append(o["id"])
        budget -= 1
    for j in range(draw(st.integers(0, max(0, budget)))):
        kind = draw(st.sampled_from(["member", "member", "member", "collective", "leader"]))
        target = draw(st.sampled_from(LEVELS))
        extra = {}
        if draw(st.integers(0, 9)) == 0:
            extra["lock"] = draw(st.sampled_from(LEVELS))
        if kind == "member":
            extra["facts"] = dict(draw(st.sampled_from(FACTS)))
            if extra["facts"].get("disciplined") and len(orgs) > 1 and draw(st.integers(0, 2)) == 0:
                extra["facts"]["violation_org"] = orgs[1]  # E9: disciplined after leaving O1 (parent O0 below)
                subjects.append(member(f"M{j}", orgs[0], target, **extra))
                continue
            if draw(st.integers(0, 3)) == 0:
                extra = {**extra, "target": None, "votes": draw(st.fixed_dictionaries(
                    {"XS": st.integers(0, 9), "T": st.integers(0, 9), "TB": st.integers(0, 3), "K": st.integers(0, 1)}
                ).filter(lambda v: sum(v.values()) > 0))}
                extra.pop("target")
                subjects.append({"id": f"M{j}", "name": f"ĐV {j}", "kind": "member",
                                 "parent": draw(st.sampled_from(orgs)), **extra})
                continue
            subjects.append(member(f"M{j}", draw(st.sampled_from(orgs)), target, **extra))
        elif kind == "collective":
            leads = draw(st.sampled_from(orgs + [u["id"] for u in units]))
            subjects.append(collective(f"C{j}", leads, target, facts=draw(st.sampled_from(COLLECTIVE_FACTS)), **extra))
        else:
            cols = [s["id"] for s in subjects if s["kind"] == "collective"]
            if not cols:
                continue
            if draw(st.integers(0, 3)) == 0:
                extra["facts"] = {"transferred_in_exempt": True}
            mates = [s for s in subjects if s["kind"] == "member" and "person" not in s]
            if mates and draw(st.booleans()):  # P1: the same person is a member and this leader
                mates[0]["person"] = extra["person"] = f"P{j}"
            subjects.append(leader(f"L{j}", draw(st.sampled_from(cols)), target, **extra))
    options = draw(st.fixed_dictionaries({
        "cap_base": st.sampled_from(["good_only", "good_and_above"]),
        "small_group_allowance": st.sampled_from([0, 1, 1]),
        "org_member_discipline": st.booleans(),
        "allow_up": st.sampled_from([False, False, True]),
        "several_posts": st.sampled_from(["report", "report", "follow_main"]),
        "units_k_at_least": st.sampled_from([1, 2, 2]),
    }))
    profile = draw(st.sampled_from(PROFILES))
    return subjects, options, profile


def brute_force(loaded):
    ids = [s.id for s in loaded.case.subjects if s.decided]
    targets = {s.id: s.target_level() for s in loaded.case.subjects if s.decided}
    weights = {sid: support_weight(loaded, sid, targets[sid]) for sid in ids}
    subjects = loaded.hierarchy.subjects

    def candidates(sid):
        # every level the verifier's lock and direction checks could accept: a lock's level; without
        # allow_up / may_rise, the levels up to the target (enumerating the others only finds violations)
        s = subjects[sid]
        if s.lock is not None:
            return [s.lock]
        if loaded.options.allow_up or s.may_rise:
            return list(Level)
        return [lv for lv in Level if lv <= targets[sid]]

    scored = []
    for combo in product(*(candidates(sid) for sid in ids)):
        levels = dict(zip(ids, combo))
        if verify(loaded, levels):
            continue
        moved = [s for s in ids if levels[s] != targets[s]]
        key = (len(moved), sum(abs(int(levels[s]) - int(targets[s])) for s in ids), sum(weights[s] for s in moved))
        scored.append((key, levels))
    if not scored:
        return None, []
    best = min(k for k, _ in scored)
    return best, [lv for k, lv in scored if k == best]


def brute_force_by_changes(loaded, limit: int = 6):
    """The same answer as ``brute_force`` for larger hand cases: every assignment with exactly k changed
    subjects, for k = 0, 1, 2, … until one is feasible (the least-change optimum has the smallest such k),
    then the optima among them on steps and support. None when no k up to ``limit`` is feasible."""
    from itertools import combinations

    ids = [s.id for s in loaded.case.subjects if s.decided]
    targets = {s.id: s.target_level() for s in loaded.case.subjects if s.decided}
    weights = {sid: support_weight(loaded, sid, targets[sid]) for sid in ids}
    subjects = loaded.hierarchy.subjects

    def moves(sid):
        s = subjects[sid]
        if s.lock is not None:
            return [s.lock] if s.lock != targets[sid] else []
        up = loaded.options.allow_up or s.may_rise
        return [lv for lv in Level if lv != targets[sid] and (up or lv < targets[sid])]

    forced = [sid for sid in ids if subjects[sid].lock is not None and subjects[sid].lock != targets[sid]]
    free = [sid for sid in ids if sid not in forced]
    for k in range(len(forced), min(len(ids), limit) + 1):
        scored = []
        for chosen in combinations(free, k - len(forced)):
            moved = [*forced, *chosen]
            for combo in product(*(moves(sid) for sid in moved)):
                levels = dict(targets)
                levels.update(zip(moved, combo))
                if verify(loaded, levels):
                    continue
                key = (k, sum(abs(int(levels[s]) - int(targets[s])) for s in ids), sum(weights[s] for s in moved))
                scored.append((key, levels))
        if scored:
            best = min(key for key, _ in scored)
            return best, [lv for key, lv in scored if key == best]
    return None, []


def documented_key(ids, levels):
    n = len(ids)
    weighted = sum((n - pos) * int(levels[sid]) for pos, sid in enumerate(ids))
    return (weighted, [int(levels[sid]) for sid in ids])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(tiny_cases())
def test_solver_equals_brute_force(drawn):
    subjects, options, profile = drawn
    loaded = case(*subjects, options=options, **({"profile": profile} if profile else {}))
    best, optima = brute_force(loaded)
    methods = ["general", "reduced"] if not options["allow_up"] else ["general"]
    for method in methods:
        check_against(loaded, best, optima, SolveOptions(workers=2, time_limit=30, max_ties=50, method=method))


def check_against(loaded, best, optima, opts):
    result = solve(loaded, opts)
    if best is None:
        assert result.status == "conflict"
        assert result.conflicts
        return
    assert result.status == "optimal" and result.proven
    assert (result.changed, result.steps, result.support_cost) == best
    assert verify(loaded, result.levels) == []
    ids = [s.id for s in loaded.case.subjects if s.decided]
    chosen = max(optima, key=lambda lv: documented_key(ids, lv))
    assert result.levels == chosen
    varying = {sid for sid in ids if len({lv[sid] for lv in optima}) > 1}
    assert {sid for t in result.ties for sid in t.subjects} == varying
    assert bool(result.ties) == (len(optima) > 1)


@st.composite
def linked_cases(draw):
    """A đảng bộ over two chi bộ with their chi ủy (subordinate committees), members moved between them
    (E9), one person who is a member and a secretary (P1), and typed same-level units (S3)."""
    subjects = [org("DB", draw(st.sampled_from(LEVELS)), tier="upper",
                    same_level_units=["U0", "U1"]),
                unit("U0", draw(st.sampled_from(LEVELS)), category=draw(st.sampled_from(UNIT_TYPES))),
                unit("U1", draw(st.sampled_from(LEVELS)), category=draw(st.sampled_from(UNIT_TYPES))),
                org("O0", draw(st.sampled_from(LEVELS)), parent="DB"),
                org("O1", draw(st.sampled_from(LEVELS)), parent="DB")]
    facts = dict(draw(st.sampled_from(FACTS)))
    if facts.get("disciplined") and draw(st.booleans()):
        facts["violation_org"] = "O1"
    subjects.append(member("M0", "O0", draw(st.sampled_from(LEVELS)), facts=facts, person="P"))
    subjects.append(collective("C0", "O0", draw(st.sampled_from(LEVELS)),
                               facts=draw(st.sampled_from(COLLECTIVE_FACTS))))
    subjects.append(leader("L0", "C0", draw(st.sampled_from(LEVELS)), person="P",
                           **({"main_post": True} if draw(st.booleans()) else {})))
    if draw(st.booleans()):
        subjects.append(collective("C1", "O1", draw(st.sampled_from(LEVELS)), category="chi_uy_2",
                                   facts=draw(st.sampled_from(COLLECTIVE_FACTS))))
    options = draw(st.fixed_dictionaries({
        "org_member_discipline": st.booleans(),
        "several_posts": st.sampled_from(["report", "follow_main"]),
        "small_group_allowance": st.sampled_from([0, 1]),
    }))
    return subjects, options, draw(st.sampled_from(PROFILES))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(linked_cases())
def test_solver_equals_brute_force_on_subordinate_committees_transfers_and_linked_persons(drawn):
    subjects, options, profile = drawn
    loaded = case(*subjects, options=options, **({"profile": profile} if profile else {}))
    best, optima = brute_force(loaded)
    for method in ("general", "reduced"):
        check_against(loaded, best, optima, SolveOptions(workers=2, time_limit=30, max_ties=50, method=method))


SCORES = [95.0, 91.5, 90.0, 85.0, 72.5, 60.0, 45.0]
FACTS_2025 = [{}, {}, {}, {"tasks": {"assigned": 10, "done": 10, "on_time": 10, "exceeded": 2}},
              {"tasks": {"assigned": 10, "done": 10, "on_time": 8, "exceeded": 0}},
              {"tasks": {"assigned": 10, "done": 7, "on_time": 7, "exceeded": 0}},
              {"tasks": {"assigned": 10, "done": 4, "on_time": 4, "exceeded": 0}},
              {"shortcomings_remedied": False}, {"discipline": {"form": "khien_trach", "kind": "duty"}},
              {"discipline": {"form": "canh_cao", "kind": "forbidden"}},
              {"discipline": {"form": "khien_trach", "kind": "duty", "self_reported": True}},
              {"degeneration": True}, {"sick_leave_months": 5}]
LEADER_FACTS_2025 = [{}, {}, {"low_confidence": True}, {"corruption_in_scope": True},
                     {"discipline": {"form": "khien_trach", "kind": "duty"}},
                     {"tasks": {"assigned": 10, "done": 6, "on_time": 6, "exceeded": 0}}]
COLLECTIVE_FACTS_2025 = [{}, {}, {"personnel_errors": True}, {"indicators_missed": True},
                         {"discipline": {"form": "khien_trach", "kind": "duty"}}]


@st.composite
def scored_cases(draw):
    """Tiny cases under QĐ 366: scores instead of ballots, tasks, disciplines by form and kind, a leader in
    charge of places, and sometimes a 25% decision and the seed's S3 thresholds switched on."""
    pick = lambda xs: draw(st.sampled_from(xs))  # noqa: E731
    subjects = [org("DB", None, tier="upper", score=pick(SCORES)),
                unit("U0", pick(LEVELS), category=pick(UNIT_TYPES)),
                org("O0", None, parent="DB", score=pick(SCORES), same_level_units=["U0"]),
                org("O1", None, parent="DB", score=pick(SCORES))]
    for j in range(draw(st.integers(1, 3))):
        facts = dict(pick(FACTS_2025))
        if j == 0 and draw(st.booleans()):
            facts["committee_member"] = True
        subjects.append(member(f"M{j}", pick(["O0", "O1"]), None, score=pick(SCORES), facts=facts))
    if draw(st.booleans()):
        subjects.append(collective("C0", "O0", None, score=pick(SCORES), facts=pick(COLLECTIVE_FACTS_2025)))
        subjects.append(leader("L0", "C0", None, score=pick(SCORES), facts=pick(LEADER_FACTS_2025),
                               **({"in_charge_of": ["U0", "O1"]} if draw(st.booleans()) else {})))
    extra = {}
    if draw(st.booleans()):
        extra["exceptions"] = [{"scope": "DB", "percent": 25, "reason": "Thành tích nổi trội", "author": "BTV"}]
    if draw(st.booleans()):
        extra["rules"] = {"S3": True}
    options = draw(st.fixed_dictionaries({"org_xs_reading": st.sampled_from(["all_good", "hd21"])}))
    return subjects, options, extra


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scored_cases())
def test_solver_equals_brute_force_under_qd_366_on_scored_cases(drawn):
    subjects, options, extra = drawn
    loaded = case(*subjects, options=options, profile="qd366-2025", **extra)
    best, optima = brute_force(loaded)
    for method in ("general", "reduced"):
        check_against(loaded, best, optima, SolveOptions(workers=2, time_limit=30, max_ties=50, method=method))
