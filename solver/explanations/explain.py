"""Explanations: a ``Reason`` record per change, found from the records that bind it.

The sentences come from ``solver.explanations.words``; the CLI, the app and the reports all call
``explain_changes`` / ``render_change``, so they say the same words.
"""

from __future__ import annotations

import itertools
import operator

from model.ballots import ballots_at_or_above, denominator
from model.levels import Level
from model.loader import LoadedCase
from solver.engine.records import AtMost, Cap, CountTrigger, Needs, Quota, SmallGroup, max_xs, quota_ok
from solver.explanations.words import cite, claim_sentence, describe_record, fact_sentence, score_text
from solver.explanations.words import final_level as _final
from solver.explanations.words import _name
from solver.explanations.words import render_change, render_why_not  # noqa: F401  (re-exported)
from solver.result import Change, Reason

def _at(members, levels: dict[str, Level], level: Level) -> list[str]:
    """The ``members`` whose level in ``levels`` is ``level``, in their order (selected in C)."""
    return list(itertools.compress(members, map(operator.eq, map(levels.__getitem__, members),
                                                itertools.repeat(level))))


def quota_numbers(loaded: LoadedCase, q: Quota, small: SmallGroup | None, levels: dict[str, Level],
                  targets: dict[str, Level], proposed: list[str] | None = None) -> dict:
    """The group's counts; ``proposed``: its members whose target is XS, when the caller has them."""
    # counted in C: groups of thousands, read for each of the 11,000 changes a quota explains at 300,000
    if proposed is None:
        proposed = _at(q.members, targets, Level.XS)
    final = list(map(levels.__getitem__, q.members))
    xs, t = operator.countOf(final, Level.XS), operator.countOf(final, Level.T)
    base = t + xs if q.base == "good_and_above" else t
    cap = max_xs(q, small, xs + t)
    return {"proposed_xs": len(proposed), "final_xs": xs, "final_t": t, "base": base, "cap": cap}


def cap_sentence(q: Quota, small: SmallGroup | None, nums: dict) -> str:
    """How many of the group may be XS, as the regulation counts it: of those rated T or above (the pool that
    moving XS to T keeps), at most ``cap`` — within the share of the rest rated T (the literal reading) or of
    the whole pool — or the small-group allowance (C2). Said with the number the share is taken of, "5 rated T,
    at most 0 XS" (20% of the 4 left if one kept XS) no longer reads as a wrong sum."""
    pool, cap = nums["final_xs"] + nums["final_t"], nums["cap"]
    head = f"{pool} đạt từ {Level.T.official} trở lên, tối đa {cap} {Level.XS.official}"
    if small is not None and not quota_ok(q, None, cap, pool - cap):
        return f"{head} (nhóm dưới {small.threshold:02d} được {small.allowance:02d})"
    if q.base == "good_and_above":
        return f"{head} ({q.percent}% của {pool})"
    return f"{head} ({q.percent}% của {pool - cap} người còn lại)"


def ballot_share(loaded: LoadedCase, sid: str, level: Level) -> str | None:
    """The raw share of ballots at ``level`` or above, as the committee counts it (e.g. "9/15")."""
    s = loaded.hierarchy.subjects[sid]
    if s.votes is None or s.target is not None:
        return None
    tally = s.votes.as_dict()
    return f"{ballots_at_or_above(tally, level)}/{denominator(tally, s.voters)}"


class _Explainer:
    """Finds the binding records of each change; caches each quota group's ranking once."""

    def __init__(self, loaded, records, levels, targets, weights, *, by_sid=None, quota_of=None, order=None,
                 claims=None, only=None):
        """Index ``records`` (only those of the subjects in ``only`` when given: the ones to explain); or, with
        ``by_sid``/``quota_of``/``order`` given, use those indexes (a what-if re-explains a few subjects of a
        province without re-reading its records). ``claims``: the computed cost of each move against the vote
        ranking (``solver.result.Claim`` by subject)."""
        self.loaded, self.levels, self.targets = loaded, levels, targets
        self.claims = claims or {}
        self.order = order if order is not None else {sid: i for i, sid in enumerate(targets)}
        self.weights = weights
        self._ranking: dict[str, tuple[list[str], dict[str, int], dict]] = {}
        if by_sid is not None:
            self.by_sid, self.quota_of = by_sid, quota_of
            return
        by_sid: dict[str, list[Record]] = {}
        self.by_sid = by_sid
        smalls = {r.group: r for r in records if type(r) is SmallGroup}
        self.quota_of: dict[str, tuple[Quota, SmallGroup | None]] = {}
        for r in records:  # by exact type (the record classes have no subclasses): a province has 170,000
            kind = type(r)
            if kind is Cap or kind is Needs or kind is CountTrigger:
                sid = r.sid
            elif kind is AtMost:
                sid = r.a
            else:
                if kind is Quota:
                    members = r.members if only is None else [m for m in r.members if m in only]
                    self.quota_of.update(dict.fromkeys(members, (r, smalls.get(r.group))))
                continue
            if only is not None and sid not in only:
                continue
            same = by_sid.get(sid)
            if same is None:
                by_sid[sid] = [r]
            else:
                same.append(r)

    def ranking(self, q: Quota, small: SmallGroup | None):
        """XS candidates of a group by the solver's support weight (then file order), and the group's numbers."""
        if q.group not in self._ranking:
            proposed = _at(q.members, self.targets, Level.XS)
            cands = sorted(proposed, key=lambda m: (-self.weights[m], self.order[m]))
            nums = quota_numbers(self.loaded, q, small, self.levels, self.targets, proposed)
            nums["kept"] = sum(1 for m in cands if self.levels[m] == Level.XS)
            self._ranking[q.group] = (cands, {m: i for i, m in enumerate(cands)}, nums)
        return self._ranking[q.group]

    def reasons(self, sid: str) -> list[Reason]:
        """The reasons that explain why ``sid`` ends at its final level rather than its target."""
        loaded, levels = self.loaded, self.levels
        s = loaded.hierarchy.subjects[sid]
        f, t = levels[sid], self.targets[sid]
        out: list[Reason] = []
        if s.lock is not None:
            return [Reason("lock", "lock", "", f"cấp có thẩm quyền đã quyết định (khóa) mức {s.lock.official}")]
        if f > t:
            return [Reason("allow_up", "objective", "", "được phép nâng mức theo phương án")]
        for r in self.by_sid.get(sid, []):
            if isinstance(r, Cap) and r.level == f:
                # the condition that failed: the next level's, or the clause that makes a subject K
                failed = f if f == Level.K else Level(int(f) + 1)
                out.append(Reason(r.rule, "forced", cite(loaded, r.rule, s.kind.value, r.detail, failed),
                                  fact_sentence(loaded, r),
                                  tuple(v for k, v in r.detail.items() if k in ("member", "unit", "collective")),
                                  tuple(sorted((k, str(v)) for k, v in r.detail.items()))))
            elif isinstance(r, AtMost) and r.a == sid:
                other = _final(loaded, levels, r.b)
                if other == f:
                    out.append(Reason(r.rule, "structural", cite(loaded, r.rule, s.kind.value), describe_record(loaded, r, levels), (r.b,),
                                      (("other_level", other.code),)))
            elif isinstance(r, Needs) and r.sid == sid and int(r.level) == int(f) + 1:
                failing = tuple(o for o in r.others if _final(loaded, levels, o) < r.minimum)
                if failing and not r.holds(len(r.others) - len(failing)):
                    out.append(Reason(r.rule, "structural", cite(loaded, r.rule, s.kind.value, level=r.level),
                                      describe_record(loaded, r, levels),
                                      failing, (("failing", len(failing)), ("total", len(r.others)))))
            elif isinstance(r, CountTrigger) and r.sid == sid and f == Level.K:
                failing = tuple(o for o in r.others if _final(loaded, levels, o) == Level.K)
                k = len(failing)
                if r.fires(k):
                    out.append(Reason(r.rule, "structural", cite(loaded, r.rule, s.kind.value, level=Level.K),
                                      describe_record(loaded, r, levels),
                                      failing, (("k", k), ("total", len(r.others)))))
        if sid in self.quota_of and ((not out and t == Level.XS and f == Level.T) or sid in self.claims):
            # a move decided by the quota; or one forced through S1–S3 by another subject's, while a subject
            # of its own group with less support kept the level: its computed cost is stated either way
            out.append(self.quota_reason(sid))
        if not out:
            out.append(Reason("objective", "objective", "", "được chọn để tổng thay đổi là ít nhất"))
        return out

    def quota_reason(self, sid: str) -> Reason:
        loaded, levels = self.loaded, self.levels
        q, small = self.quota_of[sid]
        cands, index, nums = self.ranking(q, small)
        rank = index[sid] + 1
        g = loaded.hierarchy.group(q.group)
        text = (f"nhóm «{g.name}»: {nums['proposed_xs']} đề nghị Hoàn thành xuất sắc nhiệm vụ; "
                f"{cap_sentence(q, small, nums)}; xếp thứ {rank}/{len(cands)}")
        subject = loaded.hierarchy.subjects[sid]
        share = ballot_share(loaded, sid, Level.XS)
        if subject.score is not None and subject.target is None:
            text += f" theo điểm ({score_text(subject.score)})"
        elif share is not None:
            text += f" theo tỷ lệ phiếu Xuất sắc {share}"
        text += f"; nhóm giữ {nums['kept']} đối tượng ở mức này"
        claim = self.claims.get(sid)
        others: tuple[str, ...] = ()
        numbers = {**nums, "rank": rank, "candidates": len(cands)}
        if claim is not None:
            text += "; " + claim_sentence(loaded, claim)
            others = claim.weaker_kept
            numbers.update(verdict=claim.verdict, extra_changes=claim.extra_changes, extra_steps=claim.extra_steps)
        rule = "C2" if small is not None and nums["base"] < small.threshold else "C1"
        return Reason(rule, "quota", cite(loaded, rule, loaded.hierarchy.subjects[sid].kind.value), text, others,
                      tuple(sorted(numbers.items())))


def moved_ids(levels: dict[str, Level], targets: dict[str, Level]) -> list[str]:
    """The subjects whose final level differs from their target, in file order (read in C)."""
    return list(itertools.compress(targets, map(operator.ne, map(levels.__getitem__, targets), targets.values())))


def explain_changes(loaded: LoadedCase, records: list[Record], levels: dict[str, Level],
                    targets: dict[str, Level], reasons: bool = True,
                    weights: dict[str, int] | None = None, claims: dict | None = None,
                    order: dict[str, int] | None = None, moved: list[str] | None = None) -> list[Change]:
    """A ``Change`` for every subject whose final level differs from its target, in file order (``moved``:
    those subjects, ``moved_ids``, when the caller has them)."""
    from solver.engine.staging import support_weights

    if weights is None:
        weights = support_weights(loaded, targets)  # each computed when a ranking reads it
    if moved is None:
        moved = moved_ids(levels, targets)
    ex = _Explainer(loaded, records, levels, targets, weights, claims=claims, order=order, only=set(moved))
    return [Change(sid, targets[sid], levels[sid], tuple(ex.reasons(sid)) if reasons else ()) for sid in moved]


