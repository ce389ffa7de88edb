"""Every sentence that compares a move with the vote ranking states a computed cost, and that cost is
what solving again with the subject held (the why-not answer, ``xeploai explain --keep``) gives.

On every shipped scenario and hand-checked example, each claim is checked against ``whynot.hold`` — a full
solve of the case with the subject locked at its target, sharing nothing with the component re-solve that
computed the claim but the solver itself — and the sentence shown is the one rendered from the claim.
"""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import pytest

from model.loader import load_case
from solver.engine.solve import SolveOptions, solve
from solver.explanations.whynot import hold
from solver.explanations.words import claim_sentence, measure, render_why_not, support_sum
from solver.verify import verify

ROOT = Path(__file__).resolve().parents[1]
CASES = [*sorted((ROOT / "scenarios").glob("*.json")),
         *[p for p in sorted((ROOT / "tests" / "data" / "examples").glob("*.json")) if "conflicting" not in p.name]]
OPTS = SolveOptions(workers=2, time_limit=120)


@pytest.fixture(scope="module", params=CASES, ids=lambda p: p.stem)
def solved(request):
    loaded = load_case(request.param)
    result = solve(loaded, OPTS)
    assert result.status == "optimal" and verify(loaded, result.levels) == []
    return loaded, result


def test_every_claim_agrees_with_the_why_not_answer(solved):
    loaded, base = solved
    for sid, claim in base.claims.items():
        w = hold(loaded, sid, None, base, OPTS)
        if claim.verdict == "impossible":
            assert not w.possible, sid
            continue
        assert w.possible and w.held.status == "optimal", sid
        assert w.held.changed - base.changed == claim.extra_changes, sid
        assert w.held.steps - base.steps == claim.extra_steps, sid
        assert w.held.support_cost - base.support_cost == claim.alt_support - claim.base_support, sid
        if claim.verdict == "more_changes":
            assert claim.extra_changes > 0
        elif claim.verdict == "support":
            assert claim.extra_changes == claim.extra_steps == 0 and claim.alt_support > claim.base_support
        else:
            assert claim.verdict == "tie" and claim.alt_support == claim.base_support and claim.extra_changes == 0
        moved = {i for i, _a, _b in w.moved}
        tied = {s for t in w.held.ties for s in t.subjects}
        assert set(claim.alt_moved) | set(claim.base_moved) <= moved | tied, sid


def test_every_weaker_subject_named_kept_the_level_with_less_support(solved):
    loaded, base = solved
    from solver.engine.staging import support_weight

    for sid, claim in base.claims.items():
        mine = support_weight(loaded, sid, base.targets[sid])
        for k in claim.weaker_kept:
            assert base.levels[k] == base.targets[k] and support_weight(loaded, k, base.targets[k]) < mine


def test_the_reason_shown_is_the_sentence_rendered_from_the_claim(solved):
    loaded, base = solved
    by_id = {c.id: c for c in base.changes}
    for sid, claim in base.claims.items():
        texts = [r.text for r in by_id[sid].reasons]
        assert any(claim_sentence(loaded, claim) in t for t in texts), sid


def test_no_sentence_claims_a_cost_it_did_not_compute(solved):
    loaded, base = solved
    for change in base.changes:
        for r in change.reasons:
            assert "kéo theo nhiều thay đổi hơn" not in r.text
            if re.search(r"có (điểm|tỷ lệ phiếu|điểm hoặc tỷ lệ phiếu) thấp hơn", r.text):
                assert change.id in base.claims


def _support_as_counted(s) -> str:
    """What the committee ranks a subject by, written independently of the product's words module."""
    if s.target is not None:
        return "mức ghi sẵn"
    if s.score is not None:
        text = f"{s.score:.1f}".replace(".", ",")
        return (text[:-2] if text.endswith(",0") else text) + " điểm"
    if s.votes is None:
        return "không có phiếu"
    v = s.votes
    return f"{v.XS}/{s.voters if s.voters is not None else v.XS + v.T + v.TB + v.K}"


def test_each_claim_names_the_scores_or_ballots_it_ranks_by(solved):
    """A QĐ 366 case ranks by score: its sentences say «điểm» and show each subject's score, never «không có
    phiếu» for a scored subject; a ballot case shows the ballots."""
    loaded, base = solved
    subjects = loaded.hierarchy.subjects
    for sid, claim in base.claims.items():
        sentence = claim_sentence(loaded, claim)
        for k in claim.weaker_kept[:4]:
            assert f"{subjects[k].name} ({_support_as_counted(subjects[k])})" in sentence, (sid, sentence)
        everyone = (sid, *claim.weaker_kept, *claim.alt_moved, *claim.base_moved)
        if all(subjects[i].score is not None and subjects[i].target is None for i in everyone):
            assert "có điểm thấp hơn" in sentence and "phiếu" not in sentence, sentence


def test_the_2025_scenario_has_claims_by_score():
    loaded = load_case(ROOT / "scenarios" / "xa_2025.json")
    result = solve(loaded, OPTS)
    texts = [d.text for d in result.decisions if d.kind == "against_ranking"]
    assert texts and all("có điểm thấp hơn" in t for t in texts)
    assert all(d.title == "Thay đổi không theo thứ tự điểm" for d in result.decisions if d.kind == "against_ranking")


def test_the_buon_ma_thuot_case_of_the_issue_is_explained_by_criterion_3():
    loaded = load_case(ROOT / "scenarios" / "buon_ma_thuot_2018.json")
    result = solve(loaded, OPTS)
    names = {s.id: s.name for s in loaded.case.subjects}
    (hoa_thuan,) = [c for c in result.claims.values() if names[c.sid] == "Đảng bộ xã Hòa Thuận"]
    assert hoa_thuan.verdict == "support" and hoa_thuan.extra_changes == 0
    assert [names[k] for k in hoa_thuan.weaker_kept] == ["Đảng bộ xã Cư Êbur"]
    alt = {names[s] for s in hoa_thuan.alt_moved}
    assert {"Đảng bộ xã Cư Êbur", "Đảng ủy xã Cư Êbur"} <= alt
    decision = next(d for d in result.decisions if d.kind == "against_ranking" and d.subjects[0] == hoa_thuan.sid)
    assert "tiêu chí 3" in decision.text and "2,36" in decision.text and "2,30" in decision.text


@pytest.mark.parametrize("path", [p for p in CASES if p.parent.name == "examples"], ids=lambda p: p.stem)
def test_the_general_model_computes_the_same_claims_as_the_reduced_one(path):
    loaded = load_case(path)
    reduced = solve(loaded, SolveOptions(workers=2, method="reduced"))
    general = solve(loaded, SolveOptions(workers=2, method="general"))
    assert general.levels == reduced.levels
    assert [c.to_json() for c in general.claims.values()] == [c.to_json() for c in reduced.claims.values()]


def _independent_support_cost(loaded, result) -> Fraction:
    """The sum, over the subjects moved, of what ranks them for their target: the score out of 100, or the share
    of ballots at the target or above (V1), or 1 for a written target — computed from the case alone."""
    total = Fraction(0)
    for s in loaded.case.subjects:
        if s.id not in result.targets or result.levels[s.id] == result.targets[s.id]:
            continue
        target = result.targets[s.id]
        if s.target is not None:
            total += 1
        elif s.score is not None:
            total += Fraction(round(s.score * 10), 1000)
        elif s.votes is None:
            total += 1
        else:
            v = s.votes
            at = sum((v.XS, v.T, v.TB, v.K)[: 4 - int(target)])
            total += Fraction(at, s.voters if s.voters is not None else v.XS + v.T + v.TB + v.K)
    return total


def test_the_why_not_answer_states_the_criterion_3_cost_it_computed(solved):
    """«Nếu giữ … thì sao» with the same changes and steps names the sums of support moved in both answers."""
    loaded, base = solved
    n = len(base.changes)
    assert abs(Fraction(base.support_cost, 1_000_000) - _independent_support_cost(loaded, base)) <= Fraction(n, 10**6)
    for sid, claim in list(base.claims.items())[:3]:
        if claim.verdict != "support":
            continue
        w = hold(loaded, sid, None, base, OPTS)
        scored = measure(loaded) == "điểm"
        line = render_why_not(loaded, w)[0]
        assert f"{support_sum(base.support_cost, scored)} → {support_sum(w.held.support_cost, scored)}" in line
        assert "tiêu chí 3" in line


def test_the_one_pass_weights_are_the_weights_of_the_ranking(solved):
    """``support_weights`` (computed when read, for a province) gives each subject its ``support_weight``: a score,
    a ballot share, or full support for a written target; a subject outside the targets is a KeyError."""
    from solver.engine.staging import support_weight, support_weights

    loaded, base = solved
    fast = support_weights(loaded, base.targets)
    assert len(fast) == 0  # nothing computed before it is read
    first = next(iter(base.targets))
    assert fast[first] == support_weight(loaded, first, base.targets[first]) and list(fast) == [first]
    assert {sid: fast[sid] for sid in base.targets} == {sid: support_weight(loaded, sid, t)
                                                        for sid, t in base.targets.items()}
    with pytest.raises(KeyError):
        fast["không có mã này"]


def test_each_listed_name_reads_as_one_subject(solved):
    """A leader's name often carries the post after a comma («Đinh Hải Yên, Bí thư Chi bộ …»): the lists of
    who would be demoted must still count as many names as the claim holds."""
    loaded, base = solved
    names = loaded.hierarchy.subjects
    for sid, claim in base.claims.items():
        if claim.verdict != "more_changes":
            continue
        text = claim_sentence(loaded, claim)
        listed = re.search(r"\(phải hạ (.*) thay vì (.*), [\d.]+ thay vì [\d.]+ thay đổi\)$", text)
        assert listed, text
        for part, ids in zip(listed.groups(), (claim.alt_moved, claim.base_moved)):
            shown = list(ids[:4])
            part = part.split(" và ")[0] if len(ids) > 4 else part
            sep = "; " if any("," in names[i].name for i in shown) else ", "
            assert part.split(sep) == [names[i].name for i in shown], text


def test_names_with_a_comma_are_listed_with_semicolons():
    from solver.explanations.words import joined

    assert joined(["Chi bộ Khu phố 18", "Đinh Hải Yên, Bí thư Chi bộ Khu phố 18"]) == (
        "Chi bộ Khu phố 18; Đinh Hải Yên, Bí thư Chi bộ Khu phố 18")
    assert joined(["Nguyễn Văn A", "Trần Thị B"]) == "Nguyễn Văn A, Trần Thị B"


def test_reasons_and_decisions_name_levels_in_full(solved):
    """Official level names in what users read, never the abbreviations HTXSNV, HTTNV, HTNV, KHTNV."""
    _loaded, base = solved
    texts = [r.text for c in base.changes for r in c.reasons] + [d.text for d in base.decisions]
    for text in texts:
        assert not re.search(r"\bK?HT(XS|T)?NV\b", text), text


def test_a_lock_low_in_a_large_group_makes_no_claims():
    """A subject locked at XS keeps the level by the competent level's decision, not by the ranking: members
    moved above it are not "moved while a weaker one keeps XS" (before: one claim — one re-solve of the
    whole group — per member moved, quadratic: 90 s at 2,000 members)."""
    from casebuild import case, member, org, votes

    n = 200
    subjects = [org("CB", target=None, votes=votes(10, 5))]
    for i in range(n):
        xs = 9 + i % 9 if i % 2 == 0 else 0
        subjects.append(member(f"M{i}", "CB", target=None, votes=votes(xs, 17 - xs)))
    subjects[-2]["lock"] = "XS"  # the weakest XS ballots of the group
    loaded = case(*subjects)
    result = solve(loaded, OPTS)
    assert result.status == "optimal" and verify(loaded, result.levels) == []
    assert result.levels[subjects[-2]["id"]].code == "XS"
    moved = [c for c in result.changes if c.id.startswith("M")]
    assert len(moved) > 50  # the quota moves many, and none of them is a claim against the lock
    assert all(subjects[-2]["id"] not in c.weaker_kept for c in result.claims.values())


def test_every_quota_sentence_does_its_own_sum(solved):
    """«N đạt từ Hoàn thành tốt nhiệm vụ trở lên, tối đa C Hoàn thành xuất sắc nhiệm vụ (20% của R người còn
    lại)»: C is the largest number a
    reader gets from N by the rule the sentence names (audit, case c17: «5 xếp loại T, tối đa 0» read as a
    wrong sum)."""
    _loaded, base = solved
    pattern = re.compile(r"(\d+) đạt từ Hoàn thành tốt nhiệm vụ trở lên, tối đa (\d+) Hoàn thành xuất sắc nhiệm vụ "
                         r"\(([^)]*)\)")
    seen = 0
    for c in base.changes:
        for r in c.reasons:
            for n, cap, rule in pattern.findall(r.text):
                n, cap = int(n), int(cap)
                seen += 1
                small = re.fullmatch(r"nhóm dưới (\d+) được (\d+)", rule)
                if small:
                    assert cap == int(small.group(2)), r.text
                    continue
                p, of = map(int, re.fullmatch(r"(\d+)% của (\d+)(?: người còn lại)?", rule).groups())
                if "còn lại" in rule:
                    assert of == n - cap, r.text
                    fits = [k for k in range(n + 1) if 100 * k <= p * (n - k)]
                else:
                    assert of == n, r.text
                    fits = [k for k in range(n + 1) if 100 * k <= p * n]
                assert cap == max(fits), r.text
    assert seen or not any(r.kind == "quota" for c in base.changes for r in c.reasons)
