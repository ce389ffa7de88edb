"""The independent verifier: plain Python that re-checks an assignment against every rule in force.

It reads the case directly and shares no code with ``solver.engine`` (neither the rule functions nor the
records), so a mistake in the encoding cannot hide itself. One ``check_<ID>`` per rule, registered in
``CHECKS``; a rule not in force for the case's profile is not checked. Every solve is verified before it is
reported.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable
from dataclasses import dataclass
from itertools import compress
from operator import gt

from model.ballots import voted_from_counts
from model.case import EMPTY_FACTS, Kind, Tier
from model.levels import GRADE_TO_LEVEL, Level
from model.loader import LoadedCase

K, HT, T, XS = Level.K, Level.HT, Level.T, Level.XS


@dataclass(frozen=True)
class Violation:
    rule: str
    subject: str
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.subject}: {self.message}"


def _decided(s) -> bool:
    """A subject whose level is decided: rated, not excluded (X1), not a unit."""
    return s.rated and s.excluded is None and s.kind is not Kind.unit


def _target(s, opts) -> Level:
    """The target, read independently of the solver: ``target``, else the score's band, else the ballots (V1,
    counted by ``model.ballots`` as the case format defines it), else the proposal."""
    if s.target is not None:
        return s.target
    if s.score is not None:
        for lv, low in ((XS, opts.score_xs), (T, opts.score_t), (HT, opts.score_ht)):
            if s.score >= low:
                return lv
        return K
    v = s.votes
    if v is None:
        return s.proposed
    return voted_from_counts(v.XS, v.T, v.TB, v.K, s.voters)  # NoMajority never: a loaded case has none


def _kinds(opts, rule_id: str) -> set:
    """The kinds a rule binds under the case's sources (read from the catalogue, which is data)."""
    from model.catalogue import load_catalogue

    rule = load_catalogue().rule(rule_id)
    kinds = {k for c in rule.citations if c.source in opts.sources for k in (c.kinds or rule.binds)}
    return kinds or set(rule.binds)


def _cap_from_criteria(task, other) -> Level:
    t = [GRADE_TO_LEVEL[g] for g in task]
    o = [GRADE_TO_LEVEL[g] for g in other]
    if min(t, default=XS) == XS and min(o, default=XS) >= T:
        return XS
    if min(t, default=XS) >= T and min(o, default=XS) >= HT:
        return T
    return HT if min(t + o, default=XS) >= HT else K


class Verifier:
    """The rules re-checked on final levels; indexes the case once, so a what-if can be checked locally.

    ``check(levels)`` checks everything; ``check(levels, scope)`` checks every rule instance that reads a
    subject of ``scope`` (its level or its data): when an assignment already verified differs from this
    one only on ``scope``, every other instance has the same inputs and the same verdict.

    Built for 300,000 members (issue 19): one pass over the case makes every index; the full check reads
    the assignment once, in C, into a list in the order of the decided subjects (``_order``), which the
    quota groups and S3 read by position; and the subjects that meet no check are left out at once.
    """

    def __init__(self, case, opts):
        self.case, self.opts = case, opts
        self.subj: dict[str, object] = {}
        self.members_in: dict[str, list] = {}
        self.orgs_in: dict[str, list] = {}
        self.collectives_on: dict[str, list] = {}
        self.leaders_on: dict[str, list] = {}
        self.units_of: dict[str, list[str]] = {}  # unit → organizations that list it as same-level unit
        self.person_records: dict[str, list[str]] = {}
        self.violations_at: dict[str, list] = {}  # E9: organization → members disciplined there after leaving
        self.in_charge: dict[str, list[str]] = {}  # Q4: place → leaders who name it in in_charge_of
        #: What ``level`` reads besides the assignment: the given level of each unit, None for the unrated.
        self._given: dict[str, Level | None] = {}
        #: What the lock and direction check reads of each decided subject: its target (V1, counted here), in
        #: file order (so the keys are the decided subjects), its lock and whether it may rise. Three dicts of
        #: shared values rather than a tuple per subject (331,000 tuples cost ~0.05 s more CPU at 300,000
        #: members, twice that with the garbage collector on). ``_note`` (a what-if) may set a lock of None or
        #: may_rise False.
        self._targets: dict[str, Level] = {}
        self._locks: dict[str, Level | None] = {}
        self._rising: dict[str, bool] = {}
        #: The decided subjects as the case was indexed, in file order: the quota groups (``groups``) and the
        #: decided members of each organization (``_members_at``) are positions in it.
        self._order: list[str] = []
        self._subjects_at: list = []  # the subject of each of ``_order``, as the case was indexed
        self._members_at: dict[str | None, list[int]] = {}
        #: Whether ``_order`` is still the decided subjects (not in a what-if's verifier where one changed
        #: between decided and not): then the full check reads V1, locks, direction and S3 through it.
        self._order_holds = True
        #: The full check's reading of the assignment, while it runs: (levels, the level of each of ``_order``).
        self._reading: tuple[dict, list] | None = None
        self._index(case.subjects)
        self._e9 = opts.on("E9")
        self._conduct: dict[str, list] = {}
        self._binds: dict[str, set] = {}
        self._group_key: dict[str, tuple[str, ...]] | None = None

    def _index(self, subjects) -> None:
        """One pass over the case: every index the checks read, what ``_note`` records of each subject and
        the quota groups (written out here rather than a call per subject, and the groups found per
        organization rather than per member: at 300,000 members this and ``_groups`` take ~0.5 s of CPU, the
        pass calling ``_note`` and a second walk over the decided for the groups took ~0.9 s)."""
        subj, given, targets, locks, rising = self.subj, self._given, self._targets, self._locks, self._rising
        order, members_at = self._order, self._members_at
        member, party_org, collective, leader, unit = Kind.member, Kind.party_org, Kind.collective, Kind.leader, Kind.unit
        opts, no_facts = self.opts, EMPTY_FACTS
        explicit = {m for g in self.case.groups for m in g.members}
        #: the default quota group of each decided subject outside the explicit groups, in file order: for a
        #: member its organization (all its members share a group), for any other its place in ``others``
        tokens: list[str | int | None] = []
        others: list = []
        members_in, subjects_at = self.members_in, self._subjects_at
        last_parent: object = object()  # no organization yet
        for s in subjects:
            sid, kind = s.id, s.kind
            subj[sid] = s
            if kind is member:
                key, index = s.parent, members_in
                if s.facts is not no_facts and s.facts.violation_org is not None:
                    self.violations_at.setdefault(s.facts.violation_org, []).append(s)
            elif kind is party_org:
                key, index = s.parent, self.orgs_in
            elif kind is collective:
                key, index = s.leads, self.collectives_on
            elif kind is leader:
                key, index = s.heads, self.leaders_on
            else:
                key = None
            if key is not None:
                listed = index.get(key)
                if listed is None:
                    index[key] = [s]
                else:
                    listed.append(s)
            if s.same_level_units:
                for u in s.same_level_units:
                    self.units_of.setdefault(u, []).append(sid)
            if s.person is not None:
                self.person_records.setdefault(s.person, []).append(sid)
            if s.in_charge_of:
                for place in s.in_charge_of:
                    self.in_charge.setdefault(place, []).append(sid)
            if not (s.rated and s.excluded is None and kind is not unit):  # not decided (``_decided``)
                given[sid] = s.level if kind is unit else None
                continue
            at = len(order)
            order.append(sid)
            subjects_at.append(s)
            targets[sid] = s.target if s.target is not None else _target(s, opts)
            if s.lock is not None:
                locks[sid] = s.lock
            if s.may_rise:
                rising[sid] = True
            if kind is member:
                listed = members_at.get(s.parent)
                if listed is None:
                    members_at[s.parent] = [at]
                else:
                    listed.append(at)
                if s.parent != last_parent and sid not in explicit:  # a run of one organization's members: once
                    tokens.append(s.parent)
                    last_parent = s.parent
            elif sid not in explicit:
                tokens.append(len(others))
                others.append((s, at))
        self._groups(explicit, tokens, others)

    def _note(self, s) -> None:
        """What ``level`` and the lock and direction check read of one subject: its given level, or its lock,
        target (V1, counted here) and may_rise."""
        sid = s.id
        if not _decided(s):
            self._given[sid] = s.level if s.kind is Kind.unit else None
            for rows in (self._targets, self._locks, self._rising):
                rows.pop(sid, None)
            return
        self._given.pop(sid, None)
        self._targets[sid] = _target(s, self.opts)
        self._locks[sid] = s.lock
        self._rising[sid] = s.may_rise

    def _groups(self, explicit: set[str], tokens: list, others: list) -> None:
        """Quota groups (``groups``: key → positions in ``_order``): explicit groups first, the rest by the
        default grouping (RULES.md §3), each group placed at its first subject in file order. ``tokens``:
        the default group of each decided subject outside the explicit groups, in file order, as ``_index``
        notes it (an organization's members are grouped together, so a member's group is found once per
        organization, not once per member)."""
        subj, members_at = self.subj, self._members_at
        owner: dict[str, str] = {}
        for sids in self.units_of.items():
            unit, orgs = sids
            owner[unit] = orgs[0]  # the first organization (file order) listing the unit
        # keyed by tuples, never by joined text: ids and categories may hold the separator
        self.groups: dict[tuple[str, ...], list[int]] = {}
        groups = self.groups
        if explicit:
            at = {sid: i for i, sid in enumerate(self._order)}  # the decided subjects' positions
            for g in self.case.groups:
                groups[("explicit", g.id)] = [at[m] for m in g.members if _decided(subj[m])]
        party_org, collective, grassroots = Kind.party_org, Kind.collective, Tier.grassroots
        order = self._order
        for token in dict.fromkeys(tokens):  # each group at its first subject
            if not isinstance(token, int):  # the members of the organization ``token``
                cur, top = token, token
                while cur is not None and subj[cur].tier is not None and subj[cur].tier is not grassroots:
                    top = cur
                    cur = subj[cur].parent
                key = ("members", cur if cur is not None else top)
                positions = members_at[token]
                if explicit:
                    positions = [i for i in positions if order[i] not in explicit]
                groups.setdefault(key, []).extend(positions)
                continue
            s, at = others[token]
            if s.kind is party_org:
                key = ("orgs", s.parent or "", s.tier.value)
            elif s.kind is collective and s.category:
                if s.decided_by is not None:
                    decider = s.decided_by
                elif s.leads is None:
                    decider = ""
                elif subj[s.leads].kind is party_org:
                    decider = subj[s.leads].parent or ""
                else:
                    decider = owner.get(s.leads, "")
                key = ("collective", s.category, decider)
            else:
                key = (s.kind.value, s.category) if s.category else ("single", s.id)
            groups.setdefault(key, []).append(at)

    def group_ids(self, key: tuple[str, ...]) -> list[str]:
        """The ids of a quota group's members."""
        order = self._order
        return [order[i] for i in self.groups[key]]

    @property
    def group_key(self) -> dict[str, tuple[str, ...]]:
        """Each grouped subject's group (one listed in two explicit groups: the later). Made when first read
        (by a check of a scope): the full check does not need it."""
        if self._group_key is None:
            self._group_key = {}
            for key in self.groups:
                self._group_key.update(dict.fromkeys(self.group_ids(key), key))
        return self._group_key

    def replaced(self, new_subjects: list) -> "Verifier":
        """A verifier for the same case with these subjects' data replaced (same ids, kinds and links)."""
        self.group_key  # made once, shared by every what-if's verifier
        out = object.__new__(Verifier)
        out.__dict__.update(self.__dict__)
        out.subj = dict(self.subj)
        for index in ("members_in", "orgs_in", "collectives_on", "leaders_on"):
            setattr(out, index, dict(getattr(self, index)))
        for s in new_subjects:
            out.subj[s.id] = s
            for index, key in (("members_in", s.parent), ("orgs_in", s.parent), ("collectives_on", s.leads),
                               ("leaders_on", s.heads)):
                lists = getattr(out, index)
                if key is not None and key in lists and any(o.id == s.id for o in lists[key]):
                    lists[key] = [s if o.id == s.id else o for o in lists[key]]
        changed = {s.id: s for s in new_subjects}
        members = [s for s in new_subjects if s.kind is Kind.member]
        if members and all(s.facts.violation_org == self.subj[s.id].facts.violation_org for s in members):
            # the same members where they were: their new data in place, without a pass over the case
            out.violations_at = dict(self.violations_at)
            for where in {s.facts.violation_org for s in members} - {None}:
                out.violations_at[where] = [changed.get(m.id, m) for m in self.violations_at[where]]
        elif members:
            at: dict[str, list] = {}
            for s in out.subj.values():
                if s.kind is Kind.member and s.facts.violation_org is not None:
                    at.setdefault(s.facts.violation_org, []).append(changed.get(s.id, s))
            out.violations_at = at
        rows = ("_given", "_targets", "_locks", "_rising")
        if any((s.kind is Kind.unit or not s.rated) != (self.subj[s.id].kind is Kind.unit or not self.subj[s.id].rated)
               for s in new_subjects):
            for name in rows:
                setattr(out, name, dict(getattr(self, name)))
            out._order_holds = False
        else:  # nobody changes between decided and not: the what-if's rows over the case's, without a copy
            for name in rows:
                setattr(out, name, ChainMap({}, getattr(self, name)))
        for s in new_subjects:
            out._note(s)
        out._conduct = {}
        out._reading = None
        return out

    def readers(self, sid: str) -> set[str]:
        """``sid`` and every subject whose rule instances read its level or its data."""
        subj = self.subj
        s = subj[sid]
        out = {sid}
        if s.parent is not None:
            out.add(s.parent)  # S3 members / sub-organizations, E7, E7b
            out.update(c.id for c in self.collectives_on.get(s.parent, []))  # S4: committee members of the led org
        if s.leads is not None:
            out.add(s.leads)  # S3: the collective leading the organization is disciplined
            led = subj[s.leads]
            if led.parent is not None:
                out.add(led.parent)  # S3, E7b, E7c: subordinate committees
                out.update(c.id for c in self.collectives_on.get(led.parent, []))  # Q6: a subordinate unit
        if s.heads is not None:
            out.add(s.heads)  # S4: the leaders heading the collective
        for c in self.collectives_on.get(sid, []):
            out.add(c.id)  # S1, S4 (the unit's results, the committee-member fact)
            out.update(x.id for x in self.leaders_on.get(c.id, []))  # S2: the unit led by the head's collective
        out.update(x.id for x in self.leaders_on.get(sid, []))  # S2
        out.update(self.units_of.get(sid, []))  # S3 same-level units
        out.update(self.in_charge.get(sid, []))  # Q4: the leaders in charge of this place
        where = s.facts.violation_org
        if where is not None and where in subj:
            out.add(where)  # E9: E7, E7b at the organization where the violation happened
            out.update(c.id for c in self.collectives_on.get(where, []))  # E9: S4 there
        if s.person is not None:
            out.update(self.person_records.get(s.person, []))  # P1
        return out

    def check(self, levels: dict[str, Level], scope=None) -> list[Violation]:
        case, opts, subj = self.case, self.opts, self.subj
        out: list[Violation] = []

        def bad(rule: str, sid: str, msg: str) -> None:
            out.append(Violation(rule, sid, msg))

        decided = self._targets  # keyed by the decided subjects, in file order
        per_subject = [(rid, CHECKS[rid]) for rid in opts.rules if rid in CHECKS]
        # each subject meets only the checks of its kind (``CHECK_KINDS``), in rule order, a check that needs
        # a fact (``CHECK_FACTS``) only when its facts give that one a value, and one that needs a person
        # (``CHECK_PERSON``) only when the subject has one
        by_kind = {k: [(fn, CHECK_FACTS.get(rid), rid in CHECK_PERSON) for rid, fn in per_subject
                       if k in CHECK_KINDS.get(rid, ALL_KINDS)] for k in Kind}
        unset = _UNSET_FACTS
        # A subject of a kind whose every check needs a fact or a person, that has neither, meets no check: left
        # out at once (at 300,000 members, the 190,000 members without facts or person).
        quiet = {k for k, checks in by_kind.items() if all(fact or person for _, fact, person in checks)}
        final = None
        if scope is None:
            own = decided
            group_keys = list(self.groups)
            reading = case.subjects
            # The assignment read once, in C, for V1, the direction, C1, S3 and the per-subject checks (each
            # looked every level up by id, 0.05-0.15 s apiece at 300,000 members). The solver lists the levels
            # in the case's order: then they are read as they come (~0.015 s), else looked up (~0.05 s).
            order = self._order
            if len(levels) == len(order) and list(levels) == order:
                final = list(levels.values())
            else:
                final = list(map(levels.get, order))
        else:
            own = [sid for sid in sorted(scope) if sid in decided]
            group_keys = sorted({self.group_key[sid] for sid in scope if sid in self.group_key})
            near: set[str] = set()
            for sid in scope:
                near |= self.readers(sid)
            reading = [subj[sid] for sid in sorted(near)]
        holds = final is not None and self._order_holds  # ``final`` is then the level of each decided subject
        # V1: every decided subject has a level and, in a full check, nothing else has one (when all decided
        # have one, only a longer assignment has more); then locks and direction, walked in order only when
        # something is off
        everyone = None not in final if holds else all(map(levels.__contains__, own))
        if not everyone:
            for sid in own:
                if sid not in levels:
                    bad("V1", sid, "không có mức xếp loại cuối cùng")
        only_decided = everyone and len(levels) == len(decided)
        if scope is None and not only_decided:
            for sid in levels:
                if sid not in decided:
                    bad("V1", sid, "được xếp mức dù không phải đối tượng được xếp loại")
        if not (holds and _locks_and_direction_hold(self, levels, final)):
            check_locks_and_direction(self, levels, own, bad)
        if opts.on("C1"):
            check_C1(self, levels, group_keys, bad, final)
        # each subject with a level, in file order: in a full check where only the decided have one, the
        # decided with ``final``, else as read
        if holds and only_decided:
            leveled = zip(self._subjects_at, final)
        else:
            leveled = ((s, levels.get(s.id)) for s in reading)
        self._reading = (levels, final) if holds else None
        try:
            for s, x in leveled:
                if x is None:
                    continue
                facts = s.facts
                if facts is unset and s.person is None and s.kind in quiet:
                    continue
                for fn, fact, person in by_kind[s.kind]:
                    if fact is not None and (facts is unset or (value := getattr(facts, fact)) is None or value is False):
                        continue
                    if person and s.person is None:
                        continue
                    fn(self, s, x, levels, bad)
        finally:
            self._reading = None
        return out

    # -- what the checks read ---------------------------------------------------------------------

    def level(self, levels: dict[str, Level], sid: str) -> Level | None:
        """The final level of a decided subject, the given level of a unit, None for the unrated."""
        given = self._given
        return given[sid] if sid in given else levels.get(sid)

    def member_levels(self, levels: dict[str, Level], org: str) -> list[Level]:
        """``level`` of each member of ``org`` that has one: in the full check, the decided members' read by
        position (~0.01 s at 300,000 members; by id, ~0.14 s), else each member's by id."""
        reading = self._reading
        if reading is not None and reading[0] is levels:
            final = reading[1]
            return [y for y in [final[i] for i in self._members_at.get(org, ())] if y is not None]
        given, get = self._given, levels.get
        ids = [m.id for m in self.members_in.get(org, ())]
        return [y for y in [given[sid] if sid in given else get(sid) for sid in ids] if y is not None]

    def binds(self, rule_id: str) -> set:
        """The kinds a rule binds under the case's sources (``_kinds``), read once per verifier."""
        kinds = self._binds.get(rule_id)
        if kinds is None:
            kinds = self._binds[rule_id] = _kinds(self.opts, rule_id)
        return kinds

    def conduct(self, org: str) -> list:
        """The members whose discipline counts at ``org`` and who have facts: its own (rated or not) not moved
        away by E9, and those disciplined after leaving it for a violation there (E9). A member without facts
        has no discipline, degeneration or committee seat, which is all its readers ask (E7, E7b, S4, Q6), so
        is left out. Made once per organization."""
        out = self._conduct.get(org)
        if out is None:
            no_facts, e9 = EMPTY_FACTS, self._e9
            # E9: a member's discipline counts at the organization where the violation happened
            out = [m for m in self.members_in.get(org, ())
                   if m.facts is not no_facts and not (e9 and m.facts.violation_org is not None)]
            if e9:
                out += self.violations_at.get(org, [])
            self._conduct[org] = out
        return out

    def managed_by(self, sid: str, scope: str) -> bool:
        """C3: whether a subject is managed within the organization ``scope`` (not ``scope``'s own committee)."""
        s = self.subj[sid]
        if s.kind in (Kind.party_org, Kind.member):
            cur = s.parent
            while cur is not None:
                if cur == scope:
                    return True
                cur = self.subj[cur].parent
            return False
        if s.kind is Kind.leader:
            return s.heads is not None and self.managed_by(s.heads, scope)
        if s.kind is Kind.collective and s.leads is not None:
            led = self.subj[s.leads]
            if led.kind is Kind.party_org:
                return self.managed_by(led.id, scope)
            owners = self.units_of.get(led.id, [])
            return bool(owners) and (owners[0] == scope or self.managed_by(owners[0], scope))
        return False

    def exception_percent(self, ids: list[str]) -> int:
        """The percent of a group: a 25% decision's when C3 is in force and it covers every member, else C1's."""
        if self.opts.on("C3") and ids:
            for e in self.case.exceptions:
                if all(self.managed_by(i, e.scope) for i in ids):
                    return e.percent
        return self.opts.cap_percent

    def subordinate_committees(self, org: str) -> list:
        return [c for o in self.orgs_in.get(org, []) for c in self.collectives_on.get(o.id, [])]


# ---- the checks, one per rule ------------------------------------------------------------------

def check_locks_and_direction(v: Verifier, levels, own, bad) -> None:
    """A lock holds its level; without allow_up / may_rise no level is above its target (RULES.md §6).
    ``own``: ids of decided subjects (their lock, target and may_rise are indexed once per case)."""
    targets, locks, rising, allow_up = v._targets, v._locks, v._rising, v.opts.allow_up
    for sid in own:
        x = levels.get(sid)
        if x is None:
            continue
        lock = locks.get(sid)
        if lock is not None:
            if x != lock:
                bad("lock", sid, f"đã khóa ở {lock.code} nhưng xếp {x.code}")
        elif not (allow_up or rising.get(sid, False)) and x > targets[sid]:
            bad("direction", sid, f"xếp {x.code} cao hơn mức mục tiêu {targets[sid].code}")


def _locks_and_direction_hold(v: Verifier, levels, final: list) -> bool:
    """Whether ``check_locks_and_direction`` finds nothing over every decided subject, whose levels are
    ``final`` (in the order of ``_order``, None for none): the levels above their target are found in C
    (``compress``), then only those and the locks are looked at."""
    targets, locks, rising = v._targets, v._locks, v._rising
    for sid, lock in locks.items():
        x = levels.get(sid)
        if lock is not None and x is not None and x != lock:
            return False
    if v.opts.allow_up:
        return True
    if None in final:
        final = [K if x is None else x for x in final]  # no level: above no target
    # ``targets`` holds the decided in the order of ``_order`` (a what-if's ChainMap too: its keys are the case's)
    above = compress(v._order, map(gt, final, targets.values()))
    return all(locks.get(sid) is not None or rising.get(sid, False) for sid in above)


def check_C1(v: Verifier, levels, group_keys, bad, final: list | None = None) -> None:
    """C1 (with the C2 allowance where C2 is in force): XS at most cap_percent % of the base, per group.
    ``final``: the full check's reading of the assignment (``check``), which the groups read by position."""
    opts, order, get = v.opts, v._order, levels.get
    small = opts.on("C2") and opts.small_group_allowance > 0
    for key in group_keys:
        positions = v.groups[key]
        if final is not None:
            levels_in = [final[i] for i in positions]
        else:
            levels_in = [get(order[i]) for i in positions]
        xs = levels_in.count(XS)
        t = levels_in.count(T)
        percent = v.exception_percent(v.group_ids(key)) if opts.on("C3") else opts.cap_percent
        base = t + xs if opts.cap_base == "good_and_above" else t
        ok = xs * 100 <= percent * base
        if not ok and small and base < opts.small_group_threshold:
            ok = xs <= opts.small_group_allowance
        if not ok:
            bad("C1", ":".join(key), f"{xs} XS với cơ sở {base}: vượt {percent}%")


def check_S1(v: Verifier, s, x, levels, bad) -> None:
    """S1: a collective is not above the organization or unit it leads."""
    if s.kind is Kind.collective and s.leads is not None:
        u = v.level(levels, s.leads)
        if u is not None and x > u:
            bad("S1", s.id, f"tập thể {x.code} cao hơn đơn vị {s.leads} ({u.code})")


def check_S2(v: Verifier, s, x, levels, bad) -> None:
    """S2: a head is not above the unit his collective leads, nor (head_below_collective) the collective;
    with transfer_exemption, one transferred in is exempt."""
    if s.kind is not Kind.leader or s.heads is None:
        return
    if v.opts.transfer_exemption and s.facts.transferred_in_exempt:
        return
    others = [v.subj[s.heads].leads]
    if v.opts.head_below_collective:
        others.append(s.heads)
    for other in others:
        if other is None:
            continue
        o = v.level(levels, other)
        if o is not None and x > o:
            bad("S2", s.id, f"người đứng đầu {x.code} cao hơn {other} ({o.code})")


def check_S3(v: Verifier, s, x, levels, bad) -> None:
    """S3: an organization against its members, sub-organizations, subordinate committees and same-level units."""
    if s.kind is not Kind.party_org or x == K:  # every clause binds a level above K
        return
    f, opts, given, get = s.facts, v.opts, v._given, levels.get

    def lv(sid: str) -> Level | None:  # ``Verifier.level``
        return given[sid] if sid in given else get(sid)

    mem = v.member_levels(levels, s.id)
    subs = v.orgs_in.get(s.id, ())
    sub_lv = [y for o in subs if (y := lv(o.id)) is not None]
    units = [u for u in s.same_level_units if lv(u) is not None]
    unit_lv = [lv(u) for u in units]
    hd21 = opts.org_xs_reading == "hd21"
    for label, vals in (("đảng viên", mem), ("tổ chức trực thuộc", sub_lv), ("đơn vị cùng cấp", unit_lv)):
        if vals and x == XS and hd21 and label != "đơn vị cùng cấp":
            if min(vals) < HT or 100 * (vals.count(T) + vals.count(XS)) < opts.xs_good_share * len(vals):
                bad("S3", s.id, f"XS nhưng {label} không đủ 100% từ HTNV và {opts.xs_good_share}% từ HTTNV")
        elif vals and x == XS and min(vals) < T:
            bad("S3", s.id, f"XS nhưng có {label} dưới HTTNV")
        if vals and x >= T and min(vals) < HT:
            bad("S3", s.id, f"{x.code} nhưng có {label} KHTNV")
    pct = opts.org_k_percent
    if mem and 100 * mem.count(K) > pct * len(mem):
        bad("S3", s.id, f"trên {pct}% đảng viên KHTNV nhưng chi bộ không KHTNV")
    counted = []
    for o in subs:
        lead = [y for c in v.collectives_on.get(o.id, ()) if (y := lv(c.id)) is not None]
        if lead:
            counted.extend(lead)
        elif (y := lv(o.id)) is not None:
            counted.append(y)
    if counted and 100 * counted.count(K) > pct * len(counted):
        bad("S3", s.id, f"trên {pct}% tập thể cấp ủy trực thuộc KHTNV nhưng đảng bộ không KHTNV")
    front_k = sum(1 for u in units if v.subj[u].category in ("mat_tran", "doan_the") and lv(u) == K)
    if front_k >= opts.units_k_at_least:
        bad("S3", s.id, f"{front_k} tổ chức Mặt trận, đoàn thể cùng cấp KHTNV nhưng tổ chức không KHTNV")
    if f.standing_committee_disciplined or any(c.facts.disciplined for c in v.collectives_on.get(s.id, ())):
        bad("S3", s.id, "ban thường vụ / chi ủy bị kỷ luật nhưng tổ chức không KHTNV")


def check_S4(v: Verifier, s, x, levels, bad) -> None:
    """S4: a collective against its own and its members' discipline, disunity, degeneration and its unit."""
    if s.kind is not Kind.collective:
        return
    f = s.facts
    mem = list(v.leaders_on.get(s.id, []))
    if s.leads is not None:
        mem += [m for m in v.conduct(s.leads) if m.facts.committee_member]
    cap = XS
    if f.disciplined or f.disunity or f.degeneration:
        cap = K
    if s.leads is not None:
        led = v.subj[s.leads].facts
        if led.targets_below_half:
            cap = K
        if led.committee_member_disciplined:
            cap = min(cap, T if led.self_remedied else K)
    for m in mem:
        if m.facts.degeneration or (m.facts.disciplined and not m.facts.self_remedied):
            cap = K
        elif m.facts.disciplined:
            cap = min(cap, T)
    if x > cap:
        bad("S4", s.id, f"xếp {x.code} nhưng hành vi của tập thể / thành viên chỉ cho phép {cap.code}")


def check_E1(v: Verifier, s, x, levels, bad) -> None:
    """E1: a member is not above his civil-servant rating."""
    f = s.facts
    if s.kind is Kind.member and f.civil_servant_level is not None and x > f.civil_servant_level:
        bad("E1", s.id, f"xếp {x.code} cao hơn xếp loại công chức {f.civil_servant_level.code}")


def check_E2(v: Verifier, s, x, levels, bad) -> None:
    """E2: a disciplined member is K."""
    if s.kind is Kind.member and s.facts.disciplined and x > K:
        bad("E2", s.id, "bị kỷ luật trong năm nhưng không KHTNV")


def check_E3(v: Verifier, s, x, levels, bad) -> None:
    """E3: a degenerate member is K."""
    if s.kind.value in v.binds("E3") and s.facts.degeneration and x > K:
        bad("E3", s.id, "suy thoái nhưng không KHTNV")


def check_E4(v: Verifier, s, x, levels, bad) -> None:
    """E4: a member, organization or collective below half of its targets is K."""
    if s.kind in (Kind.member, Kind.party_org, Kind.collective) and s.facts.targets_below_half and x > K:
        bad("E4", s.id, "hoàn thành dưới 50% chỉ tiêu nhưng không KHTNV")


def check_E5(v: Verifier, s, x, levels, bad) -> None:
    """E5: a member on sick leave for the limit or more is at most HT."""
    months = s.facts.sick_leave_months
    if s.kind is Kind.member and months is not None and months >= v.opts.sick_leave_months and x > HT:
        bad("E5", s.id, f"nghỉ ốm {months:g} tháng nhưng cao hơn HTNV")


def check_E6(v: Verifier, s, x, levels, bad) -> None:
    """E6: criteria self-grades cap a member, organization or collective."""
    c = s.facts.criteria
    if s.kind in (Kind.member, Kind.party_org, Kind.collective) and c is not None:
        if x > _cap_from_criteria(c.task, c.other):
            bad("E6", s.id, f"các tiêu chí không đạt mức {x.code}")


def check_E7(v: Verifier, s, x, levels, bad) -> None:
    """E7: an organization with a committee member disciplined is at most T (self-remedied) or HT."""
    if s.kind is not Kind.party_org:
        return
    f = s.facts
    cm = [m for m in v.conduct(s.id) if m.facts.committee_member and m.facts.disciplined]
    if f.committee_member_disciplined or cm:
        remedied = all(m.facts.self_remedied for m in cm) and (not f.committee_member_disciplined or f.self_remedied)
        if x > (T if remedied else HT):
            bad("E7", s.id, f"có cấp ủy viên bị kỷ luật nhưng xếp {x.code}")


def check_E7b(v: Verifier, s, x, levels, bad) -> None:
    """E7b: a member, committee member or subordinate committee disciplined, not self-remedied: K."""
    if s.kind is not Kind.party_org or not v.opts.org_member_discipline or x == K:
        return
    f = s.facts
    own = (f.committee_member_disciplined or f.subordinate_committee_disciplined) and not f.self_remedied
    member = any(m.facts.disciplined and not m.facts.self_remedied for m in v.conduct(s.id))
    committee = any(c.facts.disciplined and not c.facts.self_remedied for c in v.subordinate_committees(s.id))
    if own or member or committee:
        bad("E7b", s.id, "có đảng viên, cấp ủy viên hoặc tập thể cấp ủy trực thuộc bị kỷ luật nhưng tổ chức không KHTNV")


def check_E7c(v: Verifier, s, x, levels, bad) -> None:
    """E7c: a subordinate committee let violations happen, dealt with, not self-remedied: K."""
    if s.kind is not Kind.party_org or x == K:
        return
    if any(c.facts.violations_handled and not c.facts.self_remedied for c in v.subordinate_committees(s.id)):
        bad("E7c", s.id, "có tập thể cấp ủy trực thuộc để xảy ra vi phạm bị xử lý nhưng đảng bộ không KHTNV")


def check_P1(v: Verifier, s, x, levels, bad) -> None:
    """P1 (follow_main): every record of a person has the level of the main post."""
    if v.opts.several_posts != "follow_main" or s.person is None:
        return
    recs = v.person_records.get(s.person, [])
    marked = [r for r in recs if v.subj[r].main_post]
    leaders = [r for r in recs if v.subj[r].kind is Kind.leader]
    main = marked[0] if marked else (leaders[0] if leaders else recs[0])
    m = v.level(levels, main)
    if main != s.id and m is not None and x != m:
        bad("P1", s.id, f"xếp {x.code} khác mức ở chức vụ chính {main} ({m.code})")


def check_Q2(v: Verifier, s, x, levels, bad) -> None:
    """Q2: the tasks' shares and, where one leads, the 5 indicators."""
    if s.kind.value not in v.binds("Q2"):
        return
    o, f = v.opts, s.facts
    leading = s.kind is not Kind.member
    if leading and f.indicators_missed and x > K:
        bad("Q2", s.id, "nơi mình lãnh đạo không hoàn thành 5 chỉ tiêu nhưng không KHTNV")
    tk = f.tasks
    if tk is None:
        return
    n, done, on_time, ex = tk.assigned, tk.done, tk.on_time, tk.exceeded
    if leading:
        k = done * 100 < o.k_leader_done_percent * n
    else:
        k = (n - done) * 100 > o.k_not_done_percent * n
    all_on_time = done == n and on_time == n
    if k:
        cap = K
    elif all_on_time and ex * 100 >= o.xs_exceeded_percent * n:
        cap = XS
    elif all_on_time:
        cap = T
    else:
        cap = HT  # HT's conditions hold, or fail without a K clause (a decision for the competent level)
    if x > cap:
        bad("Q2", s.id, f"nhiệm vụ ({done}/{n} hoàn thành, {on_time} đúng hạn, {ex} vượt mức) chỉ cho phép {cap.code}")


def check_Q3(v: Verifier, s, x, levels, bad) -> None:
    """Q3: shortcomings not all remedied: not XS."""
    if s.kind.value in v.binds("Q3") and s.facts.shortcomings_remedied is False and x == XS:
        bad("Q3", s.id, "chưa khắc phục hết hạn chế, khuyết điểm kỳ trước nhưng XS")


def check_Q4(v: Verifier, s, x, levels, bad) -> None:
    """Q4: a leader's places, confidence votes and the corruption in his scope."""
    if s.kind is not Kind.leader or x == K:
        return
    f = s.facts
    places = []
    if s.heads is not None and v.subj[s.heads].leads is not None:
        places.append(v.subj[s.heads].leads)
    places += [p for p in s.in_charge_of if p not in places]
    lv = [v.level(levels, p) for p in places]
    lv = [y for y in lv if y is not None]
    if lv and 100 * sum(1 for y in lv if y == K) > v.opts.leader_units_k_percent * len(lv):
        bad("Q4", s.id, "quá nửa số nơi phụ trách KHTNV nhưng cán bộ không KHTNV")
    if f.low_confidence or (f.corruption_in_scope and not f.self_remedied):
        bad("Q4", s.id, "tín nhiệm thấp hoặc tham nhũng trong phạm vi quản lý nhưng không KHTNV")


def check_Q5(v: Verifier, s, x, levels, bad) -> None:
    """Q5: a discipline by kind (duty for a leader; duty, forbidden acts, example for a member)."""
    d = s.facts.discipline
    if s.kind not in (Kind.member, Kind.leader) or d is None or d.self_reported or x == K:
        return
    if d.kind == "duty" or (s.kind is Kind.member and d.kind in ("forbidden", "example")):
        bad("Q5", s.id, f"bị kỷ luật ({d.form}, {d.kind}) nhưng không KHTNV")


def check_Q6(v: Verifier, s, x, levels, bad) -> None:
    """Q6: a collective's conduct under QĐ 366."""
    if s.kind is not Kind.collective:
        return
    f = s.facts
    cap = XS
    if f.personnel_errors or f.disunity:
        cap = K
    if (f.disciplined or f.discipline is not None) and not f.self_remedied:
        cap = min(cap, T)
    mem = list(v.leaders_on.get(s.id, []))
    if s.leads is not None:
        mem += [m for m in v.conduct(s.leads) if m.facts.committee_member]
    for m in mem:
        mf = m.facts
        if mf.degeneration:
            cap = K
        if mf.discipline is not None and mf.discipline.kind == "duty" and not mf.discipline.self_reported:
            cap = K
        elif mf.discipline is not None or mf.disciplined:
            cap = min(cap, T)
    if s.leads is not None:
        for c in v.subordinate_committees(s.leads):
            if c.facts.disciplined or c.facts.discipline is not None:
                cap = min(cap, T)
    if x > cap:
        bad("Q6", s.id, f"xếp {x.code} nhưng kỷ luật, đoàn kết của tập thể, thành viên chỉ cho phép {cap.code}")

#: The kinds of subject each per-subject check judges (each returns at once for any other kind): ``check``
#: calls a check only for subjects of these kinds, and a check missing here for every subject.
CHECK_KINDS: dict[str, tuple[Kind, ...]] = {
    "S1": (Kind.collective,), "S2": (Kind.leader,), "S3": (Kind.party_org,), "S4": (Kind.collective,),
    "E1": (Kind.member,), "E2": (Kind.member,), "E3": (Kind.member, Kind.leader),
    "E4": (Kind.member, Kind.party_org, Kind.collective), "E5": (Kind.member,),
    "E6": (Kind.member, Kind.party_org, Kind.collective),
    "E7": (Kind.party_org,), "E7b": (Kind.party_org,), "E7c": (Kind.party_org,),
}

ALL_KINDS = tuple(Kind)

#: The fact without which each check has nothing to say (it is silent whenever that fact is None or false):
#: ``check`` calls it only for subjects whose facts give the fact a value. A check missing here is called
#: for every subject of its kinds (``tests/test_verify_index.py`` holds each entry to its claim).
CHECK_FACTS: dict[str, str] = {
    "E1": "civil_servant_level", "E2": "disciplined", "E3": "degeneration", "E4": "targets_below_half",
    "E5": "sick_leave_months", "E6": "criteria",
}
#: The checks silent for a subject without ``person`` (P1 compares the records of one person): ``check`` calls
#: them only for subjects with one (``tests/test_verify_index.py`` holds each entry to its claim too).
CHECK_PERSON: frozenset[str] = frozenset({"P1"})
#: The facts of a subject given none: every fact unset (``check`` skips its fact-bound checks at once).
_UNSET_FACTS = EMPTY_FACTS
assert not _UNSET_FACTS.set_fields(), "the default facts must set nothing (CHECK_FACTS)"

#: The per-subject checks by rule ID (C1/C2 are checked per group; V1, S5, E8 and E9 bound no level by
#: themselves: E9 says where E7, E7b and S4 count a discipline, and those checks read it).
CHECKS: dict[str, Callable] = {
    "S1": check_S1, "S2": check_S2, "S3": check_S3, "S4": check_S4, "E1": check_E1, "E2": check_E2,
    "E3": check_E3, "E4": check_E4, "E5": check_E5, "E6": check_E6, "E7": check_E7, "E7b": check_E7b,
    "E7c": check_E7c, "P1": check_P1, "Q2": check_Q2, "Q3": check_Q3, "Q4": check_Q4, "Q5": check_Q5,
    "Q6": check_Q6,
}


def verify(loaded: LoadedCase, levels: dict[str, Level]) -> list[Violation]:
    """Every rule broken by ``levels`` (a level per decided subject); empty when all hold."""
    return Verifier(loaded.case, loaded.options).check(levels)
