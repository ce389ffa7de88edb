"""The independent verifier: plain Python that re-checks an assignment against every rule.

It reads the case directly and shares no code with ``solver.engine.rules`` or the CP-SAT encoding, so a
mistake in the encoding cannot hide itself. Every solve is verified before it is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

from model.case import Kind
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
    """

    def __init__(self, case, opts):
        self.case, self.opts = case, opts
        self.subj = {s.id: s for s in case.subjects}
        self.members_in: dict[str, list] = {}
        self.orgs_in: dict[str, list] = {}
        self.collectives_on: dict[str, list] = {}
        self.leaders_on: dict[str, list] = {}
        self.units_of: dict[str, list[str]] = {}  # unit → organizations that list it as same-level unit
        for s in case.subjects:
            if s.kind is Kind.member and s.parent is not None:
                self.members_in.setdefault(s.parent, []).append(s)
            elif s.kind is Kind.party_org and s.parent is not None:
                self.orgs_in.setdefault(s.parent, []).append(s)
            elif s.kind is Kind.collective and s.leads is not None:
                self.collectives_on.setdefault(s.leads, []).append(s)
            elif s.kind is Kind.leader and s.heads is not None:
                self.leaders_on.setdefault(s.heads, []).append(s)
            for u in s.same_level_units:
                self.units_of.setdefault(u, []).append(s.id)
        # quota groups: explicit groups first, the rest by the default grouping (RULES.md §3)
        subj = self.subj
        explicit = {m: g.id for g in case.groups for m in g.members}
        self.groups: dict[str, list[str]] = {}
        self.group_key: dict[str, str] = {}
        for g in case.groups:
            key = "explicit:" + g.id
            self.groups[key] = [m for m in g.members if subj[m].rated and subj[m].kind is not Kind.unit]
        for s in case.subjects:
            if not s.rated or s.kind is Kind.unit or s.id in explicit:
                continue
            if s.kind is Kind.member:
                cur, top = s.parent, s.parent
                while cur is not None and subj[cur].tier is not None and subj[cur].tier.value != "grassroots":
                    top = cur
                    cur = subj[cur].parent
                key = "members:" + (cur if cur is not None else top)
            elif s.kind is Kind.party_org:
                key = f"orgs:{s.parent}:{s.tier.value}"
            else:
                key = f"{s.kind.value}:{s.category}" if s.category else f"single:{s.id}"
            self.groups.setdefault(key, []).append(s.id)
        for key, ids in self.groups.items():
            for m in ids:
                self.group_key[m] = key

    def replaced(self, new_subjects: list) -> "Verifier":
        """A verifier for the same case with these subjects' data replaced (same ids, kinds and links)."""
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
                out.add(led.parent)  # S3: collectives leading the sub-organizations
        if s.heads is not None:
            out.add(s.heads)  # S4: the leaders heading the collective
        for c in self.collectives_on.get(sid, []):
            out.add(c.id)  # S1, S4 (the unit's results)
            out.update(x.id for x in self.leaders_on.get(c.id, []))  # S2: the unit led by the head's collective
        out.update(x.id for x in self.leaders_on.get(sid, []))  # S2
        out.update(self.units_of.get(sid, []))  # S3 same-level units
        return out

    def check(self, levels: dict[str, Level], scope=None) -> list[Violation]:
        case, opts, subj = self.case, self.opts, self.subj
        out: list[Violation] = []

        def bad(rule: str, sid: str, msg: str) -> None:
            out.append(Violation(rule, sid, msg))

        def lvl(sid: str) -> Level | None:
            s = subj[sid]
            if s.kind is Kind.unit:
                return s.level
            return levels.get(sid) if s.rated else None

        members_in, orgs_in = self.members_in, self.orgs_in
        collectives_on, leaders_on = self.collectives_on, self.leaders_on
        if scope is None:
            own = list(case.subjects)
            group_keys = list(self.groups)
            reading = own
        else:
            own = [subj[sid] for sid in sorted(scope)]
            group_keys = sorted({self.group_key[sid] for sid in scope if sid in self.group_key})
            near: set[str] = set()
            for sid in scope:
                near |= self.readers(sid)
            reading = [subj[sid] for sid in sorted(near)]
        for s in own:
            if s.rated and s.kind is not Kind.unit and s.id not in levels:
                bad("V1", s.id, "không có mức xếp loại cuối cùng")
        if scope is None:
            for sid in levels:
                if sid not in subj or not subj[sid].rated or subj[sid].kind is Kind.unit:
                    bad("V1", sid, "được xếp mức dù không phải đối tượng được xếp loại")

        # locks and direction (RULES.md §6)
        for s in own:
            if s.id not in levels:
                continue
            x = levels[s.id]
            target = s.target if s.target is not None else (s.voted() if s.votes is not None else s.proposed)
            if s.lock is not None:
                if x != s.lock:
                    bad("lock", s.id, f"đã khóa ở {s.lock.code} nhưng xếp {x.code}")
            elif not (opts.allow_up or s.may_rise) and x > target:
                bad("direction", s.id, f"xếp {x.code} cao hơn mức mục tiêu {target.code}")

        # C1 / C2 on every quota group touched
        for key in group_keys:
            ids = self.groups[key]
            xs = sum(1 for i in ids if levels.get(i) == XS)
            t = sum(1 for i in ids if levels.get(i) == T)
            base = t + xs if opts.cap_base == "good_and_above" else t
            ok = xs * 100 <= opts.cap_percent * base
            if not ok and opts.small_group_allowance > 0 and base < opts.small_group_threshold:
                ok = xs <= opts.small_group_allowance
            if not ok:
                bad("C1", key, f"{xs} XS với cơ sở {base}: vượt {opts.cap_percent}%")

        for s in reading:
            x = levels.get(s.id)
            if x is None:
                continue
            f = s.facts
            # S1
            if s.kind is Kind.collective and s.leads is not None:
                u = lvl(s.leads)
                if u is not None and x > u:
                    bad("S1", s.id, f"tập thể {x.code} cao hơn đơn vị {s.leads} ({u.code})")
            # S2
            if s.kind is Kind.leader and s.heads is not None and not f.transferred_in_exempt:
                for other in (s.heads, subj[s.heads].leads):
                    if other is None:
                        continue
                    o = lvl(other)
                    if o is not None and x > o:
                        bad("S2", s.id, f"người đứng đầu {x.code} cao hơn {other} ({o.code})")
            # S3
            if s.kind is Kind.party_org:
                mem = [lvl(m.id) for m in members_in.get(s.id, []) if lvl(m.id) is not None]
                subs = orgs_in.get(s.id, [])
                sub_lv = [lvl(o.id) for o in subs if lvl(o.id) is not None]
                units = [lvl(u) for u in s.same_level_units if lvl(u) is not None]
                for label, vals in (("đảng viên", mem), ("tổ chức trực thuộc", sub_lv), ("đơn vị cùng cấp", units)):
                    if vals and x == XS and min(vals) < T:
                        bad("S3", s.id, f"XS nhưng có {label} dưới HTTNV")
                    if vals and x >= T and min(vals) < HT:
                        bad("S3", s.id, f"{x.code} nhưng có {label} KHTNV")
                if mem and x > K and 5 * sum(1 for v in mem if v == K) > len(mem):
                    bad("S3", s.id, "trên 20% đảng viên KHTNV nhưng chi bộ không KHTNV")
                counted = []
                for o in subs:
                    lead = [c for c in collectives_on.get(o.id, []) if lvl(c.id) is not None]
                    if lead:
                        counted.extend(lvl(c.id) for c in lead)
                    elif lvl(o.id) is not None:
                        counted.append(lvl(o.id))
                if counted and x > K and 5 * sum(1 for v in counted if v == K) > len(counted):
                    bad("S3", s.id, "trên 20% tập thể cấp ủy trực thuộc KHTNV nhưng đảng bộ không KHTNV")
                if x > K and sum(1 for v in units if v == K) >= 2:
                    bad("S3", s.id, "từ 2 đơn vị cùng cấp KHTNV nhưng tổ chức không KHTNV")
                leading_disc = any(c.facts.disciplined for c in collectives_on.get(s.id, []))
                if x > K and (f.standing_committee_disciplined or leading_disc):
                    bad("S3", s.id, "ban thường vụ / chi ủy bị kỷ luật nhưng tổ chức không KHTNV")
                # E7 / E7b
                members = [m for m in members_in.get(s.id, []) if m.rated]
                cm = [m for m in members if m.facts.committee_member and m.facts.disciplined]
                if f.committee_member_disciplined or cm:
                    remedied = all(m.facts.self_remedied for m in cm) and (not f.committee_member_disciplined or f.self_remedied)
                    if x > (T if remedied else HT):
                        bad("E7", s.id, f"có cấp ủy viên bị kỷ luật nhưng xếp {x.code}")
                if opts.org_member_discipline and x > K:
                    if any(m.facts.disciplined and not m.facts.self_remedied for m in members) or (
                            (f.committee_member_disciplined or f.subordinate_committee_disciplined) and not f.self_remedied):
                        bad("E7b", s.id, "có đảng viên / cấp ủy viên bị kỷ luật nhưng tổ chức không KHTNV")
            # S4
            if s.kind is Kind.collective:
                mem = list(leaders_on.get(s.id, []))
                if s.leads is not None:
                    mem += [m for m in members_in.get(s.leads, []) if m.facts.committee_member]
                cap = XS
                if f.disciplined or f.disunity or f.degeneration:
                    cap = K
                if s.leads is not None and subj[s.leads].facts.targets_below_half:
                    cap = K
                for m in mem:
                    if m.facts.degeneration or (m.facts.disciplined and not m.facts.self_remedied):
                        cap = K
                    elif m.facts.disciplined:
                        cap = min(cap, T)
                if x > cap:
                    bad("S4", s.id, f"xếp {x.code} nhưng hành vi của tập thể / thành viên chỉ cho phép {cap.code}")
            # E1–E6 on persons (and E4, E6 on organizations and collectives)
            if s.kind in (Kind.member, Kind.leader):
                if f.civil_servant_level is not None and x > f.civil_servant_level:
                    bad("E1", s.id, f"xếp {x.code} cao hơn xếp loại công chức {f.civil_servant_level.code}")
                if f.disciplined and x > K:
                    bad("E2", s.id, "bị kỷ luật trong năm nhưng không KHTNV")
                if f.degeneration and x > K:
                    bad("E3", s.id, "suy thoái nhưng không KHTNV")
                if f.sick_leave_months is not None and f.sick_leave_months >= 3 and x > HT:
                    bad("E5", s.id, "nghỉ ốm từ 3 tháng nhưng cao hơn HTNV")
            if f.targets_below_half and s.kind is not Kind.unit and x > K:
                bad("E4", s.id, "hoàn thành dưới 50% chỉ tiêu nhưng không KHTNV")
            if f.criteria is not None and x > _cap_from_criteria(f.criteria.task, f.criteria.other):
                bad("E6", s.id, f"các tiêu chí không đạt mức {x.code}")
        return out


def verify(loaded: LoadedCase, levels: dict[str, Level]) -> list[Violation]:
    """Every rule broken by ``levels`` (a level per decided subject); empty when all hold."""
    return Verifier(loaded.case, loaded.options).check(levels)
