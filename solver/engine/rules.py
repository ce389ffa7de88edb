"""The rules as constraint records: one function per rule ID, registered in RULES.md order.

Each function reads the case (its hierarchy, facts and options) and yields plain records
(``Cap``, ``AtMost``, ``Needs``, ``CountTrigger``, ``Quota``, ``SmallGroup``). The CP-SAT encoding
posts the records, the conflict finder guards each with an assumption literal, and the explanations
cite them. The independent verifier (``solver.verify``) does not use this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from model.case import Kind, Subject
from model.catalogue import RuleOptions
from model.hierarchy import Hierarchy
from model.levels import GRADE_TO_LEVEL, Level


@dataclass(frozen=True)
class Cap:
    """``level(sid) ≤ level``, because of a fact (``fact`` names it, ``detail`` gives its numbers)."""

    rule: str
    sid: str
    level: Level
    fact: str
    detail: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class AtMost:
    """``level(a) ≤ level(b)`` (S1 collective ≤ unit, S2 head ≤ collective and unit)."""

    rule: str
    a: str
    b: str


@dataclass(frozen=True)
class Needs:
    """``level(sid) ≥ level`` only if every one of ``others`` is ``≥ minimum`` (S3)."""

    rule: str
    sid: str
    level: Level
    others: tuple[str, ...]
    minimum: Level
    what: str  # "members" | "sub_orgs" | "units"


@dataclass(frozen=True)
class CountTrigger:
    """``sid`` is K when more than ``percent``% of ``others`` are K (S3); with ``at_least``, when that many are K."""

    rule: str
    sid: str
    others: tuple[str, ...]
    what: str
    percent: int | None = 20
    at_least: int | None = None


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


@dataclass
class Context:
    """What a rule function reads: the hierarchy, the options and shortcuts to subjects."""

    h: Hierarchy
    options: RuleOptions

    @property
    def subjects(self) -> dict[str, Subject]:
        return self.h.subjects

    #: Restrict the per-subject rules to these subjects, in file order (and skip C1/C2).
    only: list[str] | None = None
    #: The ids of every decided subject, when the caller already has them (else one pass over the case).
    decided_ids: set[str] | None = None

    def __post_init__(self) -> None:
        self._by_kind: dict[Kind, list[Subject]] | None = None  # made on first use (C1/C2 do not need it)
        if self.decided_ids is not None:
            self._decided = self.decided_ids
        else:
            self._decided = {s.id for s in self.h.case.subjects if s.decided}
        self._rated_members: dict[str, tuple[str, ...]] = {}

    def decided(self, kinds: tuple[Kind, ...]) -> Iterator[Subject]:
        """Decided subjects of these kinds, in file order within each kind."""
        if self._by_kind is None:
            by_kind: dict[Kind, list[Subject]] = {k: [] for k in Kind}
            dec = self._decided
            if self.only is None:
                chosen = (s for s in self.h.case.subjects if s.id in dec)
            else:
                chosen = (self.h.subjects[sid] for sid in self.only if sid in dec)
            for s in chosen:
                by_kind[s.kind].append(s)
            self._by_kind = by_kind
        for k in kinds:
            yield from self._by_kind[k]

    def has_level(self, sid: str) -> bool:
        """True for subjects that carry a level: decided subjects and units."""
        if sid in self._decided:
            return True
        s = self.subjects[sid]
        return s.kind is Kind.unit and s.level is not None

    def rated_members(self, org: str) -> tuple[str, ...]:
        out = self._rated_members.get(org)
        if out is None:
            dec = self._decided
            out = self._rated_members[org] = tuple(m for m in self.h.members_of.get(org, ()) if m in dec)
        return out

    def rated_sub_orgs(self, org: str) -> tuple[str, ...]:
        return tuple(o for o in self.h.sub_orgs_of.get(org, ()) if o in self._decided)


PERSONS = (Kind.member, Kind.leader)


# ---- §3 quotas -----------------------------------------------------------------------------------

def rule_C1_cap(ctx: Context) -> Iterator[Record]:
    """C1: XS at most ``cap_percent``% of those rated T in each quota group (BMT II.B.1.3a, II.B.2.3a, II.B.3.3a, II.B.4; BĐ 5.2)."""
    if ctx.only is not None:
        return
    for g in ctx.h.groups:
        yield Quota("C1", g.id, g.members, ctx.options.cap_percent, ctx.options.cap_base)


def rule_C2_fewer_than_five(ctx: Context) -> Iterator[Record]:
    """C2: where fewer than five are rated T, one may still be XS (BĐ 5.13)."""
    if ctx.options.small_group_allowance <= 0 or ctx.only is not None:
        return
    for g in ctx.h.groups:
        yield SmallGroup("C2", g.id, ctx.options.small_group_threshold, ctx.options.small_group_allowance)


# ---- §4 structural rules -------------------------------------------------------------------------

def rule_S1_collective_below_unit(ctx: Context) -> Iterator[Record]:
    """S1: a collective is never above the organization or unit it leads (BMT II.B.3.3a)."""
    for s in ctx.decided((Kind.collective,)):
        if s.leads is not None and ctx.has_level(s.leads):
            yield AtMost("S1", s.id, s.leads)


def rule_S2_head_below_collective(ctx: Context) -> Iterator[Record]:
    """S2: a head is never above his collective nor the unit it leads, unless transferred in (BMT II.B.4; BĐ 5.11)."""
    for s in ctx.decided((Kind.leader,)):
        if s.heads is None or s.facts.transferred_in_exempt:
            continue
        if ctx.has_level(s.heads):
            yield AtMost("S2", s.id, s.heads)
        led = ctx.subjects[s.heads].leads
        if led is not None and ctx.has_level(led):
            yield AtMost("S2", s.id, led)


def rule_S3_org_bounded_by_members(ctx: Context) -> Iterator[Record]:
    """S3: an organization is bounded by its members, sub-organizations and same-level units (BMT II.B.1.3)."""
    for org in ctx.decided((Kind.party_org,)):
        members = ctx.rated_members(org.id)
        if members:
            yield Needs("S3", org.id, Level.XS, members, Level.T, "members")
            yield Needs("S3", org.id, Level.T, members, Level.HT, "members")
            yield CountTrigger("S3", org.id, members, "members", percent=20)
        subs = ctx.rated_sub_orgs(org.id)
        if subs:
            yield Needs("S3", org.id, Level.XS, subs, Level.T, "sub_orgs")
            yield Needs("S3", org.id, Level.T, subs, Level.HT, "sub_orgs")
            counted = []
            for o in ctx.h.sub_orgs_of.get(org.id, ()):
                leading = [c for c in ctx.h.collectives_leading.get(o, ()) if c in ctx._decided]
                if leading:
                    counted.extend(leading)
                elif o in ctx._decided:
                    counted.append(o)
            yield CountTrigger("S3", org.id, tuple(counted), "sub_committees", percent=20)
        units = tuple(u for u in org.same_level_units if ctx.has_level(u))
        if units:
            yield Needs("S3", org.id, Level.XS, units, Level.T, "units")
            yield Needs("S3", org.id, Level.T, units, Level.HT, "units")
            yield CountTrigger("S3", org.id, units, "units", percent=None, at_least=2)
        if org.facts.standing_committee_disciplined:
            yield Cap("S3", org.id, Level.K, "standing_committee_disciplined")
        for c in ctx.h.collectives_leading.get(org.id, ()):
            if ctx.subjects[c].facts.disciplined:
                yield Cap("S3", org.id, Level.K, "leading_collective_disciplined", {"collective": c})


def collective_members(ctx: Context, cid: str) -> list[str]:
    """Members of a collective: the leaders who head it and the committee members of the organization it leads."""
    out = list(ctx.h.heads_of.get(cid, ()))
    led = ctx.subjects[cid].leads
    if led is not None:
        out.extend(m for m in ctx.h.members_of.get(led, ()) if ctx.subjects[m].facts.committee_member)
    return out


def rule_S4_collective_conduct(ctx: Context) -> Iterator[Record]:
    """S4: a collective is bounded by its members' conduct and its unit's results (BMT II.B.3.3)."""
    for s in ctx.decided((Kind.collective,)):
        f = s.facts
        if f.disciplined:
            yield Cap("S4", s.id, Level.K, "collective_disciplined")
        if f.disunity:
            yield Cap("S4", s.id, Level.K, "disunity")
        if f.degeneration:
            yield Cap("S4", s.id, Level.K, "member_degeneration")
        if s.leads is not None and ctx.subjects[s.leads].facts.targets_below_half:
            yield Cap("S4", s.id, Level.K, "unit_targets_below_half", {"unit": s.leads})
        for m in collective_members(ctx, s.id):
            mf = ctx.subjects[m].facts
            if mf.disciplined:
                cap = Level.T if mf.self_remedied else Level.K
                yield Cap("S4", s.id, cap, "member_disciplined", {"member": m, "self_remedied": mf.self_remedied})
            if mf.degeneration:
                yield Cap("S4", s.id, Level.K, "member_degeneration", {"member": m})


def rule_S5_rating_order(ctx: Context) -> Iterator[Record]:
    """S5: the order of meetings, derived from the graph; it constrains no level (BĐ 5.5; BMT II.B.5, II.B.4)."""
    return iter(())


# ---- §5 individual eligibility ------------------------------------------------------------------

def rule_E1_civil_servant(ctx: Context) -> Iterator[Record]:
    """E1: a party member who is a civil servant is never above his civil-servant rating (BMT II.B.2.3)."""
    for s in ctx.decided(PERSONS):
        r = s.facts.civil_servant_level
        if r is not None and r < Level.XS:
            yield Cap("E1", s.id, r, "civil_servant_level", {"level": r})


def rule_E2_disciplined(ctx: Context) -> Iterator[Record]:
    """E2: a member disciplined in the year is K, one violation counted once (BMT II.B.2.3d)."""
    for s in ctx.decided(PERSONS):
        if s.facts.disciplined:
            yield Cap("E2", s.id, Level.K, "disciplined")


def rule_E3_degeneration(ctx: Context) -> Iterator[Record]:
    """E3: a member found by the competent level to have degenerated is K (BMT II.B.2.3d)."""
    for s in ctx.decided(PERSONS):
        if s.facts.degeneration:
            yield Cap("E3", s.id, Level.K, "degeneration")


def rule_E4_targets_below_half(ctx: Context) -> Iterator[Record]:
    """E4: completing less than half of the assigned targets means K (BMT II.B.2.3d, II.B.1.3d, II.B.3.3d)."""
    for s in ctx.decided((Kind.member, Kind.leader, Kind.party_org, Kind.collective)):
        if s.facts.targets_below_half:
            yield Cap("E4", s.id, Level.K, "targets_below_half")


def rule_E5_sick_leave(ctx: Context) -> Iterator[Record]:
    """E5: three months or more of sick leave in the year caps a person at HT (BĐ 5.8; BMT II.B.5)."""
    for s in ctx.decided(PERSONS):
        months = s.facts.sick_leave_months
        if months is not None and months >= 3:
            yield Cap("E5", s.id, Level.HT, "sick_leave_months", {"months": months})


def criteria_cap(task: tuple[str, ...], other: tuple[str, ...]) -> Level:
    """The highest level the E6 criteria grades allow."""
    t = [GRADE_TO_LEVEL[g] for g in task]
    o = [GRADE_TO_LEVEL[g] for g in other]
    if all(x == Level.XS for x in t) and all(x >= Level.T for x in o):
        return Level.XS
    if all(x >= Level.T for x in t) and all(x >= Level.HT for x in o):
        return Level.T
    if all(x >= Level.HT for x in t + o):
        return Level.HT
    return Level.K


def rule_E6_criteria(ctx: Context) -> Iterator[Record]:
    """E6: the criteria self-grades cap the level (BMT II.B.1.3, II.B.2.3, II.B.3.3)."""
    for s in ctx.decided((Kind.member, Kind.leader, Kind.party_org, Kind.collective)):
        c = s.facts.criteria
        if c is not None:
            cap = criteria_cap(c.task, c.other)
            if cap < Level.XS:
                yield Cap("E6", s.id, cap, "criteria", {"task": c.task, "other": c.other})


def rule_E7_committee_discipline(ctx: Context) -> Iterator[Record]:
    """E7: an organization with a committee member disciplined is not XS, nor T unless self-remedied (BMT II.B.1.3a–b)."""
    for org in ctx.decided((Kind.party_org,)):
        if org.facts.committee_member_disciplined:
            cap = Level.T if org.facts.self_remedied else Level.HT
            yield Cap("E7", org.id, cap, "committee_member_disciplined")
        for m in ctx.rated_members(org.id):
            mf = ctx.subjects[m].facts
            if mf.committee_member and mf.disciplined:
                cap = Level.T if mf.self_remedied else Level.HT
                yield Cap("E7", org.id, cap, "committee_member_disciplined", {"member": m})


def rule_E7b_member_discipline(ctx: Context) -> Iterator[Record]:
    """E7b: an organization with a (committee) member disciplined and not self-remedied fails HT, so K (BMT II.B.1.3c)."""
    if not ctx.options.org_member_discipline:
        return
    for org in ctx.decided((Kind.party_org,)):
        f = org.facts
        if (f.committee_member_disciplined or f.subordinate_committee_disciplined) and not f.self_remedied:
            yield Cap("E7b", org.id, Level.K, "committee_member_disciplined")
        for m in ctx.rated_members(org.id):
            mf = ctx.subjects[m].facts
            if mf.disciplined and not mf.self_remedied:
                yield Cap("E7b", org.id, Level.K, "member_disciplined", {"member": m})


def rule_E8_maternity(ctx: Context) -> Iterator[Record]:
    """E8: maternity leave is rated on the time worked: a note, never a cap (BĐ 5.8)."""
    return iter(())


def rule_V1_ballots(ctx: Context) -> Iterator[Record]:
    """V1: the voted level is the highest with a strict cumulative majority; it sets targets, not constraints (BMT II.B.4.2)."""
    return iter(())


#: Every rule, in RULES.md order: (rule ID, function).
RULES: list[tuple[str, Callable[[Context], Iterator[Record]]]] = [
    ("V1", rule_V1_ballots),
    ("C1", rule_C1_cap),
    ("C2", rule_C2_fewer_than_five),
    ("S1", rule_S1_collective_below_unit),
    ("S2", rule_S2_head_below_collective),
    ("S3", rule_S3_org_bounded_by_members),
    ("S4", rule_S4_collective_conduct),
    ("S5", rule_S5_rating_order),
    ("E1", rule_E1_civil_servant),
    ("E2", rule_E2_disciplined),
    ("E3", rule_E3_degeneration),
    ("E4", rule_E4_targets_below_half),
    ("E5", rule_E5_sick_leave),
    ("E6", rule_E6_criteria),
    ("E7", rule_E7_committee_discipline),
    ("E7b", rule_E7b_member_discipline),
    ("E8", rule_E8_maternity),
]


def records(h: Hierarchy, options: RuleOptions) -> list[Record]:
    """All constraint records of a case, rule by rule."""
    ctx = Context(h, options)
    out: list[Record] = []
    for _rid, fn in RULES:
        out.extend(fn(ctx))
    return out


def subject_of(r: Record) -> str | None:
    """The subject a per-subject record bounds (the one its rule function was reading); None for C1/C2."""
    if isinstance(r, AtMost):
        return r.a
    if isinstance(r, (Quota, SmallGroup)):
        return None
    return r.sid


def records_of(h: Hierarchy, options: RuleOptions, subjects: list[str],
               decided_ids: set[str] | None = None) -> dict[str, list[Record]]:
    """The per-subject records (every rule but C1/C2) of these subjects (file order), rule by rule.

    ``records`` lists, for each subject, exactly these records in this order: a what-if that changes
    one subject's facts re-reads only the subjects whose rules read those facts (``solver.engine.incremental``).
    """
    ctx = Context(h, options, only=subjects, decided_ids=decided_ids)
    out: dict[str, list[Record]] = {sid: [] for sid in subjects if sid in ctx._decided}
    for _rid, fn in RULES:
        for r in fn(ctx):
            out[subject_of(r)].append(r)
    return out
