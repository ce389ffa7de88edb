"""The rules as constraint records: one function per rule ID, registered in catalogue (RULES.md) order.

Each function reads the case (its hierarchy, facts and parameters) and yields records
(``solver.engine.records``); a rule not in force for the case's profile is not called at all. The CP-SAT
models post the records, the conflict finder guards each with an assumption literal, and the explanations
cite them. The independent verifier (``solver.verify``) does not use this module.

Adding a rule: its catalogue entry (``model/data/rules.toml``), one function here added to ``RULES``, one
``check_<ID>`` in the verifier, and their tests. If it reads the data of subjects other than its own,
say so in ``data_readers`` (a what-if re-reads exactly those).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from model.case import EMPTY_FACTS, Kind, Subject
from model.catalogue import RuleOptions, load_catalogue
from model.hierarchy import Hierarchy
from model.levels import GRADE_TO_LEVEL, Level
from solver.engine.records import (
    AtMost,
    Cap,
    CountTrigger,
    Needs,
    Quota,
    Record,
    SmallGroup,
    max_xs,
    quota_ok,
    subject_of,
)

#: The facts the shared empty instance itself sets (none today): ``Context.having`` gives every subject for these.
_DEFAULT_SET = frozenset(EMPTY_FACTS.set_fields())


def _index_facts(having: dict, s: Subject, f) -> None:
    """File ``s`` under each fact its ``f`` sets (``Facts.set_fields``)."""
    for name in f.set_fields():
        having.setdefault(name, {}).setdefault(s.kind, []).append(s)


#: Unit types whose K rating counts towards S3's "từ 02 tổ chức (Mặt trận Tổ quốc, đoàn thể …)" trigger.
FRONT_AND_MASS = ("mat_tran", "doan_the")


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
        self._having: dict[str, dict[Kind, list[Subject]]] = {}
        self._kinds: dict[tuple[Kind, ...], list[Subject]] = {}
        self._decided = self.decided_ids
        self._rated_members: dict[str, tuple[str, ...]] = {}
        self._moved_here: dict[str, list[str]] | None = None
        self._binds: dict[str, tuple[Kind, ...]] = {}
        self._conduct: dict[str, tuple[Subject, ...]] = {}
        self._e9 = self.options.on("E9")
        if self._decided is None:
            if self.only is None:
                self._index()  # the whole case in one pass: decided ids, kinds, facts, E9's moves
            else:
                self._decided = {s.id for s in self.h.case.subjects if s.decided}

    def _index(self) -> None:
        """One pass over the subjects (a province's are read once, not once per rule): the decided ones by
        kind in file order, and, for each fact, the decided subjects whose facts give it a value (``having``)."""
        by_kind: dict[Kind, list[Subject]] = {k: [] for k in Kind}
        having = self._having
        default = EMPTY_FACTS
        if self.only is None:
            decided = self._decided is None
            dec: set[str] = set() if decided else self._decided
            moved: dict[str, list[str]] = {}  # E9, made on the way: every member, rated or not
            for s in self.h.case.subjects:
                f = s.facts
                if f is not default and f.violation_org is not None and s.kind is Kind.member:
                    moved.setdefault(f.violation_org, []).append(s.id)
                if decided:
                    if not s.decided:
                        continue
                    dec.add(s.id)
                elif s.id not in dec:
                    continue
                by_kind[s.kind].append(s)
                if f is not default:
                    _index_facts(having, s, f)
                if s.person is not None:
                    having.setdefault("person", {}).setdefault(s.kind, []).append(s)
            self._decided = dec
            subjects = self.h.subjects
            self._moved_here = {o: ids for o, ids in moved.items() if o in subjects}
        else:
            dec = self._decided
            for sid in self.only:
                if sid in dec:
                    s = self.h.subjects[sid]
                    by_kind[s.kind].append(s)
                    f = s.facts
                    if f is not default:
                        _index_facts(having, s, f)
                    if s.person is not None:
                        having.setdefault("person", {}).setdefault(s.kind, []).append(s)
        self._by_kind = by_kind

    def decided(self, kinds: tuple[Kind, ...]) -> list[Subject]:
        """Decided subjects of these kinds, in file order within each kind."""
        out = self._kinds.get(kinds)
        if out is None:
            if self._by_kind is None:
                self._index()
            out = self._kinds[kinds] = [s for k in kinds for s in self._by_kind[k]]
        return out

    def having(self, fact: str, kinds: tuple[Kind, ...]) -> list[Subject]:
        """The decided subjects of these kinds (kind by kind, in file order, as ``decided``) whose ``fact`` has a
        value (not None, not false), or, for ``"person"``, who carry a person id: a rule that reads one fact
        reads only these instead of every member of a province. Every other subject has that fact unset."""
        if fact in _DEFAULT_SET:
            return self.decided(kinds)
        if self._by_kind is None:
            self._index()
        given = self._having.get(fact, {})
        return [s for k in kinds for s in given.get(k, ())]

    def binds(self, rule_id: str) -> tuple[Kind, ...]:
        """The kinds a rule binds under the case's profile: those its citations from the profile's sources speak
        of (a rule is applied to a kind only where its source says so); every kind it binds when the profile
        keeps it without a source."""
        cached = self._binds.get(rule_id)
        if cached is None:
            rule = load_catalogue().rule(rule_id)
            kinds: set[str] = set()
            for c in rule.citations_in(self.options.sources):
                kinds.update(c.kinds or rule.binds)
            if not kinds:
                kinds = set(rule.binds)
            cached = self._binds[rule_id] = tuple(k for k in Kind if k.value in kinds)
        return cached

    def is_decided(self, sid: str) -> bool:
        return sid in self._decided

    def has_level(self, sid: str) -> bool:
        """True for subjects that carry a level: decided subjects and units."""
        if sid in self._decided:
            return True
        s = self.subjects[sid]
        return s.kind is Kind.unit and s.level is not None

    def rated_members(self, org: str) -> tuple[str, ...]:
        """The members of ``org`` whose level counts (S3's shares)."""
        out = self._rated_members.get(org)
        if out is None:
            dec = self._decided
            out = self._rated_members[org] = tuple(m for m in self.h.members_of.get(org, ()) if m in dec)
        return out

    def rated_sub_orgs(self, org: str) -> tuple[str, ...]:
        return tuple(o for o in self.h.sub_orgs_of.get(org, ()) if o in self._decided)

    def elsewhere(self, m: Subject) -> bool:
        """E9: the member's discipline counts at the organization where the violation happened, not here."""
        return m.facts.violation_org is not None and self._e9

    def conduct_members(self, org: str) -> tuple[Subject, ...]:
        """The members whose discipline counts at ``org`` (E7, E7b, S4): its own members, rated or not
        ("đảng viên của chi bộ"), except those disciplined for a violation at a former organization, and
        those disciplined after leaving ``org`` for a violation that happened here (E9, BĐ 5.12). Made once
        per organization: E7, E7b and S4 all read it."""
        out = self._conduct.get(org)
        if out is None:
            subjects = self.subjects
            own = [subjects[m] for m in self.h.members_of.get(org, ())]
            if self._e9:
                own = [s for s in own if s.facts.violation_org is None]
                own.extend(subjects[m] for m in _moved_here(self).get(org, ()))
            out = self._conduct[org] = tuple(own)
        return out

    def subordinate_committees(self, org: str) -> Iterator[Subject]:
        """The collectives in the case that lead the organizations directly under ``org`` ("tập thể cấp ủy
        trực thuộc")."""
        for o in self.h.sub_orgs_of.get(org, ()):
            for c in self.h.collectives_leading.get(o, ()):
                yield self.subjects[c]


# ---- §3 quotas -----------------------------------------------------------------------------------

def rule_C1_cap(ctx: Context) -> Iterator[Record]:
    """C1: XS at most ``cap_percent``% of those rated T in each quota group (BMT II.B.1.3a, II.B.2.3a, II.B.3.3a, II.B.4; BĐ 5.2; QĐ 366 Điều 11 khoản 1)."""
    if ctx.only is not None:
        return
    excepted = exception_groups(ctx)
    for g in ctx.h.groups:
        if g.id not in excepted:
            yield Quota("C1", g.id, g.members, ctx.options.cap_percent, ctx.options.cap_base)


def within(h: Hierarchy, sid: str, scope: str) -> bool:
    """C3: whether a subject is managed within the organization ``scope`` ("thuộc phạm vi quản lý"): its
    sub-organizations and members at any depth, the collectives leading those (or leading the units of
    ``scope`` and of its sub-organizations) and the leaders heading such collectives. ``scope``'s own
    committee is rated by the level above, so it is not within."""
    s = h.subjects[sid]
    if s.kind in (Kind.party_org, Kind.member):
        return scope in h.ancestors(sid)
    if s.kind is Kind.leader:
        return s.heads is not None and within(h, s.heads, scope)
    if s.kind is Kind.collective and s.leads is not None:
        led = h.subjects[s.leads]
        if led.kind is Kind.party_org:
            return within(h, led.id, scope)
        owner = h.unit_owner.get(led.id)
        return owner is not None and (owner == scope or within(h, owner, scope))
    return False


def exception_groups(ctx: Context) -> dict[str, tuple[int, str]]:
    """C3: the quota groups every member of which is managed within the scope of a 25% decision, with its
    percent and scope (the first decision in file order that covers a group)."""
    if not ctx.options.on("C3") or not ctx.h.case.exceptions:
        return {}
    out: dict[str, tuple[int, str]] = {}
    for e in ctx.h.case.exceptions:
        for g in ctx.h.groups:
            if g.id not in out and all(within(ctx.h, m, e.scope) for m in g.members):
                out[g.id] = (e.percent, e.scope)
    return out


def rule_C3_exception(ctx: Context) -> Iterator[Record]:
    """C3: in the groups a 25% decision of the competent level covers, XS at most that percent of those rated T (QĐ 366 Điều 11 khoản 1)."""
    if ctx.only is not None:
        return
    excepted = exception_groups(ctx)
    for g in ctx.h.groups:
        if g.id in excepted:
            yield Quota("C3", g.id, g.members, excepted[g.id][0], ctx.options.cap_base)


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
    """S2: a head is never above the unit he heads, nor (BMT) his collective; BĐ exempts one transferred in (BMT II.B.4; BĐ 5.11)."""
    opts = ctx.options
    for s in ctx.decided((Kind.leader,)):
        if s.heads is None or (opts.transfer_exemption and s.facts.transferred_in_exempt):
            continue
        if opts.head_below_collective and ctx.has_level(s.heads):
            yield AtMost("S2", s.id, s.heads)
        led = ctx.subjects[s.heads].leads
        if led is not None and ctx.has_level(led):
            yield AtMost("S2", s.id, led)


def rule_S3_org_bounded_by_members(ctx: Context) -> Iterator[Record]:
    """S3: an organization is bounded by its members, sub-organizations and same-level units (BMT II.B.1.3)."""
    percent = ctx.options.org_k_percent
    for org in ctx.decided((Kind.party_org,)):
        members = ctx.rated_members(org.id)
        if members:
            yield from _xs_needs(ctx, org.id, members, "members")
            yield Needs("S3", org.id, Level.T, members, Level.HT, "members")
            yield CountTrigger("S3", org.id, members, "members", percent=percent)
        subs = ctx.rated_sub_orgs(org.id)
        if subs:
            yield from _xs_needs(ctx, org.id, subs, "sub_orgs")
            yield Needs("S3", org.id, Level.T, subs, Level.HT, "sub_orgs")
            counted = []
            for o in ctx.h.sub_orgs_of.get(org.id, ()):
                leading = [c for c in ctx.h.collectives_leading.get(o, ()) if ctx.is_decided(c)]
                if leading:
                    counted.extend(leading)
                elif ctx.is_decided(o):
                    counted.append(o)
            yield CountTrigger("S3", org.id, tuple(counted), "sub_committees", percent=percent)
        units = tuple(u for u in org.same_level_units if ctx.has_level(u))
        if units:
            yield Needs("S3", org.id, Level.XS, units, Level.T, "units")
            yield Needs("S3", org.id, Level.T, units, Level.HT, "units")
            front = tuple(u for u in units if ctx.subjects[u].category in FRONT_AND_MASS)
            if front:
                yield CountTrigger("S3", org.id, front, "front_units", percent=None,
                                   at_least=ctx.options.units_k_at_least)
        if org.facts.standing_committee_disciplined:
            yield Cap("S3", org.id, Level.K, "standing_committee_disciplined")
        for c in ctx.h.collectives_leading.get(org.id, ()):
            if ctx.subjects[c].facts.disciplined:
                yield Cap("S3", org.id, Level.K, "leading_collective_disciplined", {"collective": c})


def _xs_needs(ctx: Context, org: str, others: tuple[str, ...], what: str) -> Iterator[Record]:
    """S3's XS condition on members or sub-organizations: all at T or above (the 2018 guides), or — the reading of
    HD 21-HD/BTCTW (2019), ``org_xs_reading = hd21`` — all at HT or above and ``xs_good_share`` % at T or above."""
    if ctx.options.org_xs_reading == "hd21":
        yield Needs("S3", org, Level.XS, others, Level.HT, what)
        yield Needs("S3", org, Level.XS, others, Level.T, what, ctx.options.xs_good_share)
    else:
        yield Needs("S3", org, Level.XS, others, Level.T, what)


def collective_members(ctx: Context, cid: str) -> list[str]:
    """Members of a collective: the leaders who head it and the committee members of the organization it leads."""
    out = list(ctx.h.heads_of.get(cid, ()))
    led = ctx.subjects[cid].leads
    if led is not None:
        out.extend(m.id for m in ctx.conduct_members(led) if m.facts.committee_member)
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
        if s.leads is not None:
            led = ctx.subjects[s.leads]
            if led.facts.targets_below_half:
                yield Cap("S4", s.id, Level.K, "unit_targets_below_half", {"unit": s.leads})
            if led.facts.committee_member_disciplined:
                cap = Level.T if led.facts.self_remedied else Level.K
                yield Cap("S4", s.id, cap, "member_disciplined",
                          {"org": s.leads, "self_remedied": led.facts.self_remedied})
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


# ---- §5 individual eligibility: E1–E5 are clauses of the member's standard (BMT II.B.2.3) ---------

def rule_E1_civil_servant(ctx: Context) -> Iterator[Record]:
    """E1: a party member who is a civil servant is never above his civil-servant rating (BMT II.B.2.3)."""
    for s in ctx.having("civil_servant_level", (Kind.member,)):
        r = s.facts.civil_servant_level
        if r is not None and r < Level.XS:
            yield Cap("E1", s.id, r, "civil_servant_level", {"level": r})


def rule_E2_disciplined(ctx: Context) -> Iterator[Record]:
    """E2: a member disciplined in the year is K, one violation counted once (BMT II.B.2.3d)."""
    for s in ctx.having("disciplined", (Kind.member,)):
        if s.facts.disciplined:
            yield Cap("E2", s.id, Level.K, "disciplined")


def rule_E3_degeneration(ctx: Context) -> Iterator[Record]:
    """E3: a member found by the competent level to have degenerated is K (BMT II.B.2.3d)."""
    for s in ctx.having("degeneration", ctx.binds("E3")):
        if s.facts.degeneration:
            yield Cap("E3", s.id, Level.K, "degeneration")


def rule_E4_targets_below_half(ctx: Context) -> Iterator[Record]:
    """E4: a member, organization or collective completing less than half of its targets is K (BMT II.B.2.3d, II.B.1.3d, II.B.3.3d)."""
    for s in ctx.having("targets_below_half", (Kind.member, Kind.party_org, Kind.collective)):
        if s.facts.targets_below_half:
            yield Cap("E4", s.id, Level.K, "targets_below_half")


def rule_E5_sick_leave(ctx: Context) -> Iterator[Record]:
    """E5: a member on sick leave for ``sick_leave_months`` (3) months or more in the year is at most HT (BĐ 5.8; BMT II.B.5)."""
    limit = ctx.options.sick_leave_months
    for s in ctx.having("sick_leave_months", (Kind.member,)):
        months = s.facts.sick_leave_months
        if months is not None and months >= limit:
            yield Cap("E5", s.id, Level.HT, "sick_leave_months", {"months": months, "limit": limit})


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
    """E6: the criteria self-grades cap a member, organization or collective (BMT II.B.1.3, II.B.2.3, II.B.3.3)."""
    for s in ctx.having("criteria", (Kind.member, Kind.party_org, Kind.collective)):
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
        for m in ctx.conduct_members(org.id):
            mf = m.facts
            if mf.committee_member and mf.disciplined:
                cap = Level.T if mf.self_remedied else Level.HT
                yield Cap("E7", org.id, cap, "committee_member_disciplined", {"member": m.id})


def rule_E7b_member_discipline(ctx: Context) -> Iterator[Record]:
    """E7b: a chi bộ with a member, a đảng bộ with a committee member or a subordinate committee disciplined and not self-remedied fails HT, so K (BMT II.B.1.3c–d)."""
    if not ctx.options.org_member_discipline:
        return
    for org in ctx.decided((Kind.party_org,)):
        f = org.facts
        if f.committee_member_disciplined and not f.self_remedied:
            yield Cap("E7b", org.id, Level.K, "committee_member_disciplined")
        if f.subordinate_committee_disciplined and not f.self_remedied:
            yield Cap("E7b", org.id, Level.K, "subordinate_committee_disciplined")
        for c in ctx.subordinate_committees(org.id):
            if c.facts.disciplined and not c.facts.self_remedied:
                yield Cap("E7b", org.id, Level.K, "subordinate_committee_disciplined", {"collective": c.id})
        for m in ctx.conduct_members(org.id):
            if m.facts.disciplined and not m.facts.self_remedied:
                yield Cap("E7b", org.id, Level.K, "member_disciplined", {"member": m.id})


def rule_E7c_committee_let_violations(ctx: Context) -> Iterator[Record]:
    """E7c: a đảng bộ with a subordinate committee that let corruption or other violations happen, dealt with and not self-remedied, is K (BMT II.B.1.3d)."""
    for org in ctx.decided((Kind.party_org,)):
        for c in ctx.subordinate_committees(org.id):
            if c.facts.violations_handled and not c.facts.self_remedied:
                yield Cap("E7c", org.id, Level.K, "violations_handled", {"collective": c.id})


def rule_E8_maternity(ctx: Context) -> Iterator[Record]:
    """E8: maternity leave is rated on the time worked: a note, never a cap (BĐ 5.8; BMT II.B.5)."""
    return iter(())


def _moved_here(ctx: Context) -> dict[str, list[str]]:
    """E9: the members disciplined after a transfer, by the organization where the violation happened."""
    if ctx._moved_here is None:
        out: dict[str, list[str]] = {}
        for s in ctx.h.case.subjects:
            where = s.facts.violation_org if s.kind is Kind.member else None
            if where is not None and where in ctx.subjects:
                out.setdefault(where, []).append(s.id)
        ctx._moved_here = out
    return ctx._moved_here


def rule_E9_discipline_after_transfer(ctx: Context) -> Iterator[Record]:
    """E9: a discipline carried out after a transfer counts against the organization where the violation happened, not the new one (BĐ 5.12).

    It posts no record of its own: it says where E7, E7b and S4 count a member's discipline
    (``Context.conduct_members``), and those rules' reasons cite it.
    """
    return iter(())


def main_post(h: Hierarchy, person: str) -> str:
    """P1: the record of a person's main and highest post: the one marked ``main_post``, else the first leader
    record, else the member record (file order)."""
    recs = h.persons[person]
    marked = [r for r in recs if h.subjects[r].main_post]
    if marked:
        return marked[0]
    leaders = [r for r in recs if h.subjects[r].kind is Kind.leader]
    return leaders[0] if leaders else recs[0]


def rule_P1_several_posts(ctx: Context) -> Iterator[Record]:
    """P1: with ``several_posts = follow_main``, a person's other records take the level of the main and highest post (BMT II.B.5; BĐ 5.5)."""
    if ctx.options.several_posts != "follow_main":
        return
    h = ctx.h
    for s in ctx.having("person", (Kind.member, Kind.leader)):
        if s.person is None:
            continue
        main = main_post(h, s.person)
        if not ctx.is_decided(main):
            continue
        if s.id != main:
            yield AtMost("P1", s.id, main)
        else:
            for other in h.persons[s.person]:
                if other != main and ctx.is_decided(other):
                    yield AtMost("P1", main, other)


# ---- the 2025 regulation: QĐ 366-QĐ/TW Điều 11, HD 43-HD/BTCTW --------------------------------

def rule_X1_not_rated(ctx: Context) -> Iterator[Record]:
    """X1: subjects exempted, suspended or too new are listed but not rated, and take part in no count (BMT II.B.5; BĐ 5.8; QĐ 366 Điều 5 khoản 2)."""
    return iter(())


def rule_Q1_score_bands(ctx: Context) -> Iterator[Record]:
    """Q1: the appraised score sets the target by its band (90 / 70 / 50); it sets targets, not constraints (QĐ 366 Điều 10, 11)."""
    return iter(())


def task_cap(tasks, options: RuleOptions, leading: bool) -> tuple[Level, str]:
    """Q2: the highest level the tasks allow, and which clause decided it: "xs", "t", "ht" (the conditions of
    that level hold), "k" (an explicit K clause) or "gap" (HT's conditions fail, no K clause applies)."""
    n, done, on_time, exceeded = tasks.assigned, tasks.done, tasks.on_time, tasks.exceeded
    if leading and 100 * done < options.k_leader_done_percent * n:
        return Level.K, "k"
    if not leading and 100 * (n - done) > options.k_not_done_percent * n:
        return Level.K, "k"
    if done == n and on_time == n and 100 * exceeded >= options.xs_exceeded_percent * n:
        return Level.XS, "xs"
    if done == n and on_time == n:
        return Level.T, "t"
    if done == n and 100 * (n - on_time) <= options.ht_late_percent * n:
        return Level.HT, "ht"
    return Level.HT, "gap"


def rule_Q2_tasks(ctx: Context) -> Iterator[Record]:
    """Q2: the share of tasks done, on time and exceeding caps the level; too few done (or the 5 indicators missed where one leads) means K (QĐ 366 Điều 11)."""
    for s in ctx.decided(ctx.binds("Q2")):
        f = s.facts
        leading = s.kind is not Kind.member
        if leading and f.indicators_missed:
            yield Cap("Q2", s.id, Level.K, "indicators_missed", {"clause": "k"})
        if f.tasks is None:
            continue
        cap, clause = task_cap(f.tasks, ctx.options, leading)
        if cap < Level.XS:
            t = f.tasks
            yield Cap("Q2", s.id, cap, "tasks", {"assigned": t.assigned, "done": t.done, "on_time": t.on_time,
                                                 "exceeded": t.exceeded, "clause": clause, "leading": leading})


def rule_Q3_shortcomings(ctx: Context) -> Iterator[Record]:
    """Q3: XS needs every shortcoming pointed out at the previous review remedied (QĐ 366 Điều 11 khoản 1)."""
    for s in ctx.decided(ctx.binds("Q3")):
        if s.facts.shortcomings_remedied is False:
            yield Cap("Q3", s.id, Level.T, "shortcomings_not_remedied")


def in_charge(h: Hierarchy, s: Subject) -> tuple[str, ...]:
    """Q4: the places a leader is in charge of: the one his collective leads, then those he names."""
    out = []
    if s.heads is not None:
        led = h.subjects[s.heads].leads
        if led is not None:
            out.append(led)
    out.extend(o for o in s.in_charge_of if o not in out)
    return tuple(out)


def rule_Q4_leader_scope(ctx: Context) -> Iterator[Record]:
    """Q4: a leader is K when more than half of the places he is in charge of are K, more than half of the confidence votes were low, or corruption in his direct scope was disciplined — unless he found and remedied it: the competent level decides (QĐ 366 Điều 11 khoản 4)."""
    for s in ctx.decided(ctx.binds("Q4")):
        f = s.facts
        places = tuple(o for o in in_charge(ctx.h, s) if ctx.has_level(o))
        if places:
            yield CountTrigger("Q4", s.id, places, "places", percent=ctx.options.leader_units_k_percent)
        if f.low_confidence:
            yield Cap("Q4", s.id, Level.K, "low_confidence")
        if f.corruption_in_scope and not f.self_remedied:
            yield Cap("Q4", s.id, Level.K, "corruption_in_scope")


def discipline_binds(s: Subject) -> bool:
    """Q5: whether a discipline makes the person K: for a leader a duty-related violation; for a member also a
    breach of "những điều đảng viên không được làm" or of "trách nhiệm nêu gương". Every form the regulation
    names is "từ khiển trách trở lên". A self-reported one is left to the competent level."""
    d = s.facts.discipline
    if d is None or d.self_reported:
        return False
    kinds = ("duty",) if s.kind is Kind.leader else ("duty", "forbidden", "example")
    return d.kind in kinds


def rule_Q5_discipline(ctx: Context) -> Iterator[Record]:
    """Q5: a violation disciplined from khiển trách up — duty-related, or for a member also a forbidden act or a breach of the duty to set an example — means K (QĐ 366 Điều 11 khoản 4)."""
    for s in ctx.decided(ctx.binds("Q5")):
        if discipline_binds(s):
            d = s.facts.discipline
            yield Cap("Q5", s.id, Level.K, "discipline", {"form": d.form, "violation": d.kind})


def rule_Q6_collective(ctx: Context) -> Iterator[Record]:
    """Q6: a collective is XS only without a subordinate unit or member disciplined, and K for personnel errors or disunity, a member's duty-related discipline (not one from a former post) or a member's degeneration (QĐ 366 Điều 11 khoản 1, 4)."""
    for s in ctx.decided(ctx.binds("Q6")):
        f = s.facts
        if f.personnel_errors:
            yield Cap("Q6", s.id, Level.K, "personnel_errors")
        if f.disunity:
            yield Cap("Q6", s.id, Level.K, "disunity")
        if (f.disciplined or f.discipline is not None) and not f.self_remedied:
            yield Cap("Q6", s.id, Level.T, "collective_disciplined")
        members = [ctx.subjects[m] for m in collective_members(ctx, s.id)]
        for m in members:
            mf = m.facts
            if mf.discipline is not None or mf.disciplined:
                on_duty = mf.discipline is not None and mf.discipline.kind == "duty"
                remedied = on_duty and mf.discipline.self_reported  # the competent level weighs it (a decision)
                detail = {"member": m.id, "duty": on_duty and not remedied}
                if remedied:
                    detail["self_reported"] = True
                yield Cap("Q6", s.id, Level.T if remedied or not on_duty else Level.K, "member_disciplined", detail)
            if mf.degeneration:
                yield Cap("Q6", s.id, Level.K, "member_degeneration", {"member": m.id})
        if s.leads is not None:
            for c in ctx.subordinate_committees(s.leads):
                if c.facts.disciplined or c.facts.discipline is not None:
                    yield Cap("Q6", s.id, Level.T, "subordinate_disciplined", {"collective": c.id})


def rule_V1_ballots(ctx: Context) -> Iterator[Record]:
    """V1: the voted level is the highest with a strict cumulative majority; it sets targets, not constraints (BMT II.B.4.2)."""
    return iter(())


#: Every rule, in catalogue (RULES.md) order: (rule ID, function).
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
    ("E7c", rule_E7c_committee_let_violations),
    ("E8", rule_E8_maternity),
    ("E9", rule_E9_discipline_after_transfer),
    ("P1", rule_P1_several_posts),
    ("X1", rule_X1_not_rated),
    ("Q1", rule_Q1_score_bands),
    ("Q2", rule_Q2_tasks),
    ("Q3", rule_Q3_shortcomings),
    ("Q4", rule_Q4_leader_scope),
    ("Q5", rule_Q5_discipline),
    ("Q6", rule_Q6_collective),
    ("C3", rule_C3_exception),
]


def in_force(options: RuleOptions) -> list[tuple[str, Callable[[Context], Iterator[Record]]]]:
    """The rule functions of the rules in force for these options, in catalogue order."""
    return [(rid, fn) for rid, fn in RULES if options.on(rid)]


def quota_records(ctx: Context) -> tuple[list[Quota], dict[str, SmallGroup]]:
    """The quota records of the rules in force (C1 and C3, in group order) and the C2 records by group."""
    quotas: list[Quota] = []
    if ctx.options.on("C1"):
        quotas.extend(rule_C1_cap(ctx))
    if ctx.options.on("C3"):
        quotas.extend(rule_C3_exception(ctx))
    order = {g.id: i for i, g in enumerate(ctx.h.groups)}
    quotas.sort(key=lambda q: order[q.group])
    smalls = {r.group: r for r in rule_C2_fewer_than_five(ctx)} if ctx.options.on("C2") else {}
    return quotas, smalls


def records(h: Hierarchy, options: RuleOptions) -> list[Record]:
    """All constraint records of a case, rule by rule (only the rules in force)."""
    ctx = Context(h, options)
    out: list[Record] = []
    for _rid, fn in in_force(options):
        out.extend(fn(ctx))
    return out


def records_of(h: Hierarchy, options: RuleOptions, subjects: list[str],
               decided_ids: set[str] | None = None) -> dict[str, list[Record]]:
    """The per-subject records (every rule but C1/C2) of these subjects (file order), rule by rule.

    ``records`` lists, for each subject, exactly these records in this order: a what-if that changes
    one subject's facts re-reads only the subjects whose rules read those facts (``data_readers``).
    """
    ctx = Context(h, options, only=subjects, decided_ids=decided_ids)
    out: dict[str, list[Record]] = {sid: [] for sid in subjects if sid in ctx._decided}
    for _rid, fn in in_force(options):
        for r in fn(ctx):
            out[subject_of(r)].append(r)
    return out


def data_readers(h: Hierarchy, s: Subject) -> set[str]:
    """Every subject whose rule functions read the data (facts, not level) of ``s``: ``s`` itself, its
    organization (S3, E7, E7b) and the collectives leading it (S4: committee members), the organization it
    leads and the one above that (S3: leading collective disciplined; E7b, E7c: subordinate committee), the
    collective it heads (S4), the collectives leading it (S4: the unit's results, the committee-member fact)
    and the organization where its violation happened (E9). Callers keep the decided ones."""
    out = {s.id}
    if s.parent is not None:
        out.add(s.parent)
        out.update(h.collectives_leading.get(s.parent, ()))
    if s.leads is not None:
        out.add(s.leads)
        led = h.subjects.get(s.leads)
        if led is not None and led.parent is not None:
            out.add(led.parent)
            out.update(h.collectives_leading.get(led.parent, ()))  # Q6: a subordinate unit disciplined
    if s.heads is not None:
        out.add(s.heads)
    out.update(h.collectives_leading.get(s.id, ()))
    where = s.facts.violation_org
    if where is not None and where in h.subjects:
        out.add(where)
        out.update(h.collectives_leading.get(where, ()))
    return out


__all__ = [
    "FRONT_AND_MASS", "RULES", "AtMost", "Cap", "Context", "CountTrigger", "Needs", "Quota", "Record",
    "SmallGroup", "collective_members", "quota_records", "criteria_cap", "data_readers", "in_force", "main_post", "max_xs",
    "quota_ok", "records", "records_of", "subject_of",
]
