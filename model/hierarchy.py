"""The hierarchy of a case as a networkx graph: validation, derived quota groups, S5 rating order."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from operator import attrgetter

from model.ballots import NoMajority
from model.case import (EMPTY_FACTS, FACT_NAMES, FACTS_BY_KIND, SCORE_BANDS, TARGET_SOURCE_PHRASES, UNIT_CATEGORIES, Case,
                        Facts, Kind, Subject, Tier)
from model.errors import InputProblem
from model.levels import Level


@dataclass(frozen=True)
class QuotaGroup:
    """Subjects sharing one C1/C2 cap (RULES.md §3, quota groups)."""

    id: str
    name: str
    kind: Kind
    members: tuple[str, ...]
    explicit: bool = False


@dataclass
class Hierarchy:
    """Who contains, leads and heads whom; built only from a case that passed ``validate``."""

    case: Case
    subjects: dict[str, Subject]
    groups: list[QuotaGroup]
    group_of: dict[str, str]
    members_of: dict[str, list[str]] = field(default_factory=dict)
    sub_orgs_of: dict[str, list[str]] = field(default_factory=dict)
    collectives_leading: dict[str, list[str]] = field(default_factory=dict)
    heads_of: dict[str, list[str]] = field(default_factory=dict)
    #: P1: the records of each person (member and leader records sharing ``person``), in file order.
    persons: dict[str, list[str]] = field(default_factory=dict)
    #: Each same-level unit → the first party organization that lists it (its owner).
    unit_owner: dict[str, str] = field(default_factory=dict)

    def rated(self, sid: str) -> bool:
        return self.subjects[sid].decided

    def ancestors(self, sid: str) -> list[str]:
        """Party organizations above ``sid`` (nearest first)."""
        out = []
        cur = self.subjects[sid].parent
        while cur is not None:
            out.append(cur)
            cur = self.subjects[cur].parent
        return out

    @property
    def graph(self) -> "nx.DiGraph":
        """Every subject as a node; edges contains / leads / heads / same_level (built on first use)."""
        import networkx as nx  # imported here: a solve never draws the graph (65 ms at start otherwise)

        if self._graph is None:
            g = nx.DiGraph()
            for s in self.case.subjects:
                g.add_node(s.id, kind=s.kind.value)
                if s.parent is not None:
                    g.add_edge(s.parent, s.id, rel="contains")
                if s.leads is not None:
                    g.add_edge(s.id, s.leads, rel="leads")
                if s.heads is not None:
                    g.add_edge(s.id, s.heads, rel="heads")
                for u in s.same_level_units:
                    g.add_edge(s.id, u, rel="same_level")
            self._graph = g
        return self._graph

    def rating_order(self, order: str = "seed") -> list[list[str]]:
        """S5: meetings in stages; every subject's prerequisites sit in an earlier stage (the topological
        generations of the order graph, by Kahn's method on plain lists: networkx took seconds a province)."""
        return [sorted(stage) for stage in self._rating_stages(order)]

    def rating_stage_count(self, order: str = "seed") -> int:
        """How many meetings ``rating_order`` holds, without sorting a province's stages."""
        return len(self._rating_stages(order))

    def _rating_stages(self, order: str) -> list[list[str]]:
        """The stages of ``rating_order``, each in the order found. A member's edge to its organization is not in
        ``_order_edges``: a member nothing waits on (in a province, nearly all of them) is in the first stage,
        and its organization waits for the first stage for it; such members are counted by organization, not
        followed one by one, which took 0.5 s of ``check`` at 300,000 members."""
        after = _order_edges(self, order)
        waiting = dict.fromkeys(self.subjects, 0)
        for nexts in after.values():
            for v in nexts:
                waiting[v] += 1
        held = {v for nexts in after.values() for v in nexts}
        plain: dict[str, int] = {}  # organization -> its members nothing waits on
        for org, members in self.members_of.items():
            waited = held.intersection(members)
            for m in waited:  # a member rated after something: its edge to its organization is followed
                after.setdefault(m, set()).add(org)
            waiting[org] += len(members)
            if len(waited) < len(members):
                plain[org] = len(members) - len(waited)
        stage = [sid for sid, n in waiting.items() if n == 0]
        out, placed = [], 0
        while stage:
            out.append(stage)
            placed += len(stage)
            following = []
            for u in filter(after.__contains__, stage):
                for v in after[u]:
                    waiting[v] -= 1
                    if waiting[v] == 0:
                        following.append(v)
            for org, n in plain.items():  # the first stage holds every plain member
                waiting[org] -= n
                if waiting[org] == 0:
                    following.append(org)
            plain = {}
            stage = following
        if placed != len(waiting):
            import networkx as nx

            raise nx.NetworkXUnfeasible("the S5 order graph has a cycle")
        return out

    def group(self, gid: str) -> QuotaGroup:
        return self._groups_by_id[gid]

    def __post_init__(self) -> None:
        self._groups_by_id = {g.id: g for g in self.groups}
        self._graph = None


def _order_edges(h: Hierarchy, order: str = "seed") -> dict[str, set[str]]:
    """S5's order: each subject -> the subjects rated after it, but for members, each before its organization
    (``members_of``). ``order = "qd366"`` follows QĐ 366 Điều 12
    khoản 2: the leading collective (cấp ủy) before its party organization and before its members, and the
    same-level organizations and units before the party organization; the seed guides rate the organization
    before its collective."""
    after: dict[str, set[str]] = {}

    def edge(u: str, v: str) -> None:
        after.setdefault(u, set()).add(v)

    qd366, member = order == "qd366", Kind.member
    for sid, s in h.subjects.items():
        if s.parent is not None and s.kind is not member:  # lower organizations before their organization (a
            edge(sid, s.parent)  # member before its organization: counted apart, ``_rating_stages``)
        if qd366 and s.same_level_units:  # (4) tổ chức, cơ quan, đơn vị trước, tổ chức đảng sau
            for u in s.same_level_units:
                edge(u, sid)
        if s.kind is Kind.collective and s.leads is not None:
            led = h.subjects[s.leads]
            if qd366 and led.kind is Kind.party_org:  # (3) tập thể cấp ủy trước khi đánh giá tổ chức đảng
                edge(sid, s.leads)
                for m in h.members_of.get(s.leads, ()):  # (1) tập thể trước, cá nhân thành viên sau
                    if h.subjects[m].facts.committee_member:
                        edge(sid, m)
                # (5) tập thể cấp dưới trước, cấp trên sau: the organizations directly under the one this
                # collective leads, and their own collectives, before it (deeper ones come through them)
                for o in h.sub_orgs_of.get(s.leads, ()):
                    edge(o, sid)
                    for c in h.collectives_leading.get(o, ()):
                        edge(c, sid)
            else:  # the unit before its collective
                edge(s.leads, sid)
        if s.kind is Kind.leader and s.heads is not None:  # the collective (and its unit) before its head
            edge(s.heads, sid)
            led = h.subjects[s.heads].leads
            if led is not None:
                edge(led, sid)
    return after


#: Which tiers an organization may have under an organization of each tier (RULES.md §2, README): a đảng bộ
#: cấp trên cơ sở holds đảng bộ cấp trên cơ sở below it and tổ chức cơ sở đảng; a tổ chức cơ sở đảng holds
#: chi bộ trực thuộc and đảng bộ bộ phận; a đảng bộ bộ phận holds chi bộ trực thuộc. (An organization whose
#: superior is not in the case may have any tier.)
TIERS_UNDER: dict[Tier, frozenset[Tier]] = {
    Tier.upper: frozenset({Tier.upper, Tier.grassroots}),
    Tier.grassroots: frozenset({Tier.branch}),
    Tier.branch: frozenset({Tier.branch}),
}


def tier_mismatch(tier: Tier, up: Subject) -> str:
    """Why an organization of ``tier`` cannot stand under ``up``, in Vietnamese, with the rule."""
    rule = {
        Tier.upper: "dưới một đảng bộ cấp trên cơ sở chỉ có đảng bộ cấp trên cơ sở cấp dưới hoặc tổ chức cơ sở "
                    "đảng (chi bộ trực thuộc phải thuộc một tổ chức cơ sở đảng)",
        Tier.grassroots: "dưới một tổ chức cơ sở đảng chỉ có chi bộ trực thuộc hoặc đảng bộ bộ phận",
        Tier.branch: "dưới một đảng bộ bộ phận chỉ có chi bộ trực thuộc",
    }[up.tier]
    return (f"cấp «{tier.label}» không thể trực thuộc «{up.id}» (cấp «{up.tier.label}»): {rule}; hãy sửa cấp "
            "(tier) hoặc tổ chức cấp trên (parent)")


def _subject_problems(file: str, index: int, s: Subject, ids: dict[str, Subject],
                      targets: dict[str, Level] | None = None, bands: tuple[int, int, int] = SCORE_BANDS
                      ) -> list[InputProblem]:
    """The problems of one subject; its target (V1 counted once) goes into ``targets`` when given.

    Run for every subject of a province (300,000 and more) but the members ``_plain_member_targets`` passes,
    and by the incremental what-if: each check tests the common, valid case inline and builds a message only
    for a problem (``benchmarks/bench_scale.py``)."""
    out: list[InputProblem] = []
    here = (out, file, index, s)

    k = s.kind
    parent, tier, leads, heads = s.parent, s.tier, s.leads, s.heads
    if k is Kind.member:
        if parent is None:
            _err(here, "parent", "đảng viên phải thuộc một chi bộ (trường parent)")
        else:
            up = ids.get(parent)
            if up is None or up.kind is not Kind.party_org:
                _ref(here, ids, "parent", parent, _ORG)
            elif up.tier is Tier.upper:
                _err(here, "parent", f"«{parent}» là đảng bộ cấp trên cơ sở: đảng viên sinh hoạt ở chi bộ (chi bộ cơ sở "
                                     "hoặc chi bộ trực thuộc), hãy ghi chi bộ của đảng viên (parent)")
    elif k is Kind.party_org:
        up = ids.get(parent) if parent is not None else None
        if parent is not None and (up is None or up.kind is not Kind.party_org):
            up = _ref(here, ids, "parent", parent, _ORG)
        if tier is None:
            _err(here, "tier", "tổ chức đảng phải có cấp (tier: upper, grassroots hoặc branch)")
        elif up is not None and up.tier is not None and tier not in TIERS_UNDER[up.tier]:
            _err(here, "tier", tier_mismatch(tier, up))
    elif parent is not None:
        _err(here, "parent", "trường parent chỉ dùng cho đảng viên và tổ chức đảng")
    if tier is not None and k is not Kind.party_org:
        _err(here, "tier", "trường tier chỉ dùng cho tổ chức đảng")
    if k is Kind.collective:
        if leads is None:
            _err(here, "leads", "tập thể không ghi tổ chức, đơn vị mình lãnh đạo: quy tắc S1 không áp dụng", True)
        else:
            led = ids.get(leads)
            if led is None or led.kind not in _ORG_OR_UNIT:
                _ref(here, ids, "leads", leads, _ORG_OR_UNIT)
    elif leads is not None:
        _err(here, "leads", "trường leads chỉ dùng cho tập thể lãnh đạo, quản lý")
    if k is Kind.leader:
        if heads is None:
            _err(here, "heads", "cán bộ không ghi tập thể mình đứng đầu: quy tắc S2 không áp dụng", True)
        else:
            headed = ids.get(heads)
            if headed is None or headed.kind is not Kind.collective:
                _ref(here, ids, "heads", heads, _COLLECTIVE)
    elif heads is not None:
        _err(here, "heads", "trường heads chỉ dùng cho cán bộ lãnh đạo, quản lý")
    if s.same_level_units:
        if k is not Kind.party_org:
            _err(here, "same_level_units", "chỉ tổ chức đảng mới có chính quyền, MTTQ, đoàn thể cùng cấp")
        for u in s.same_level_units:
            _ref(here, ids, "same_level_units", u, _UNIT)
    category = s.category
    if not category and (k is Kind.collective or k is Kind.leader) and s.rated:
        _err(here, "category", "không có nhóm (category): đối tượng này được tính riêng một nhóm tỷ lệ", True)
    if k is Kind.unit and category is not None and category not in UNIT_CATEGORIES:
        _err(here, "category", f"loại đơn vị «{category}» không hợp lệ: dùng " + ", ".join(
            f"{code} ({label})" for code, label in UNIT_CATEGORIES.items()))
    if s.person is not None and k is not Kind.member and k is not Kind.leader:
        _err(here, "person", "chỉ đảng viên và cán bộ lãnh đạo, quản lý mới ghi mã người (person)")
    if s.main_post and s.person is None:
        _err(here, "main_post", "chức vụ chính (main_post) chỉ ghi cho người có mã người (person)")
    if s.decided_by is not None:
        if k is not Kind.collective:
            _err(here, "decided_by", "cấp ủy xem xét, quyết định (decided_by) chỉ ghi cho tập thể lãnh đạo, quản lý")
        else:
            _ref(here, ids, "decided_by", s.decided_by, _ORG)
    if k is Kind.unit and (s.score is not None or s.self_score is not None):
        _err(here, "score", "đơn vị là dữ liệu đầu vào: không ghi điểm (ghi mức xếp loại đã có, trường level)")
    if s.excluded is not None:
        allowed_ex = ("exempted", "suspended", "new_member") if k is Kind.member else ("new_body",)
        if k in (Kind.unit, Kind.leader) or s.excluded not in allowed_ex:
            _err(here, "excluded", "lý do không xếp loại này không dùng cho " + k.label.lower())
    if s.in_charge_of:
        if k is not Kind.leader:
            _err(here, "in_charge_of", "chỉ cán bộ lãnh đạo, quản lý mới ghi nơi mình phụ trách (in_charge_of)")
        for o in s.in_charge_of:
            _ref(here, ids, "in_charge_of", o, _ORG_OR_UNIT)
    if (s.lock_reason is not None or s.lock_author is not None) and s.lock is None:
        _err(here, "lock_reason", "lý do và người quyết định chỉ ghi cùng một mức khóa (lock)")
    facts = s.facts
    where = facts.violation_org
    if where is not None:
        other = ids.get(where)
        if other is None:
            _err(here, "facts.violation_org", f"tổ chức đảng nơi xảy ra vi phạm «{where}» không có trong hồ sơ: kỷ luật này "
                "không tính cho tổ chức đảng nào trong hồ sơ (BĐ 5.12)", True)
        elif other.kind is not Kind.party_org:
            _err(here, "facts.violation_org", f"«{where}» là {other.kind.label.lower()}, phải là tổ chức đảng")
        elif where == parent:
            _err(here, "facts.violation_org", "tổ chức đảng nơi xảy ra vi phạm trùng với chi bộ hiện nay: bỏ trống trường này")
        if not (facts.disciplined or facts.discipline is not None):
            _err(here, "facts.violation_org", "chỉ ghi nơi xảy ra vi phạm cho đảng viên bị kỷ luật (disciplined)")

    if k is Kind.unit:
        if s.level is None:
            _err(here, "level", "đơn vị phải có mức xếp loại đã có (trường level)")
        for fld in ("votes", "voters", "proposed", "target", "lock"):
            if getattr(s, fld) is not None:
                _err(here, fld, "đơn vị là dữ liệu đầu vào, không bỏ phiếu hay khóa ở đây (chỉ ghi level)")
        if s.may_rise:
            _err(here, "may_rise", "đơn vị là dữ liệu đầu vào, không thay đổi mức")
    else:
        if s.level is not None:
            _err(here, "level", "trường level chỉ dùng cho đơn vị (cơ quan, chính quyền, đoàn thể)")
        votes = s.votes
        if votes is None and s.voters is not None:
            _err(here, "voters", "có số người tham gia nhưng không có phiếu (votes)")
        if s.decided:
            try:
                target = s.target_level(bands)
            except NoMajority as exc:
                _err(here, "votes", f"{exc}: hãy nhập mức đề nghị (target) do cấp có thẩm quyền quyết định")
                target = None
            else:
                if target is None:
                    _err(here, "votes", "không có phiếu (votes), mức đề xuất (proposed) hay mức mục tiêu (target)")
            if target is not None and targets is not None:
                targets[s.id] = target
            proposed = s.proposed
            if proposed is not None and target is not None and target != proposed and (
                    s.target is not None or s.score is not None or votes is not None):
                source = TARGET_SOURCE_PHRASES[s.target_source()]  # what the target was read from
                _err(here, "proposed", f"mức đề xuất {proposed.official} khác mức mục tiêu {target.official} "
                     f"{source}: dùng mức {source}", True)
        elif s.lock is not None:
            _err(here, "lock", "đối tượng không xếp loại (rated = false) không thể bị khóa mức")
    if facts is not EMPTY_FACTS and _facts_not_for(k, facts):
        allowed = FACTS_BY_KIND[k]
        for name in facts.set_fields():
            if name not in allowed:
                _err(here, f"facts.{name}", f"dữ kiện này không áp dụng cho {k.label.lower()}")
    return out


#: Per kind, the facts it may not carry, read in one call (``_facts_not_for``).
_FACTS_NOT_ALLOWED = {k: attrgetter(*[n for n in FACT_NAMES if n not in allowed])
                      for k, allowed in FACTS_BY_KIND.items()}
_FACTS_NOT_ALLOWED_UNSET = {k: get(EMPTY_FACTS) for k, get in _FACTS_NOT_ALLOWED.items()}


def _facts_not_for(k: Kind, facts: Facts) -> bool:
    """Whether ``facts`` may set a fact a subject of kind ``k`` may not carry: the facts not allowed, compared
    at once with the empty facts' values (a fact unset is None or False, and a set one never equals them, as
    the flags are strict booleans). 0.4 us where ``Facts.set_fields`` takes 1.4 us, for the 140,000 members
    with facts of a province; ``set_fields`` then names the facts only when one may be wrong."""
    return _FACTS_NOT_ALLOWED[k](facts) != _FACTS_NOT_ALLOWED_UNSET[k]


#: The fields a member passed by ``_plain_member_targets`` leaves unset: each one, set, leads to a check of
#: ``_subject_problems`` that may fail (or, for ``lock`` and ``level``, to ``validate``'s locks and levels).
_MEMBER_RARE = attrgetter("tier", "leads", "heads", "same_level_units", "main_post", "decided_by", "excluded",
                          "in_charge_of", "lock_reason", "lock_author", "lock", "level")
_MEMBER_RARE_UNSET = (None, None, None, (), False, None, None, (), None, None, None, None)


def _plain_member_targets(subjects: tuple[Subject, ...], ids: dict[str, Subject], bands: tuple[int, int, int]
                          ) -> list[Level | None]:
    """For each subject, its target when it is a member on which ``_subject_problems`` finds nothing, else
    None (a member that may have a problem, or any other kind): ``_subject_problems`` then runs for it.

    A province is 90% such members: this path runs only the checks whose fields they set, in one loop. At
    300,000 members (``benchmarks/bench_scale.py``) ``_subject_problems`` took 0.9 s of ``validate``'s 1.2 s
    CPU; this loop takes 0.27 s, and ``_subject_problems`` 0.1 s for the 42,000 other subjects. Each condition
    below is one of ``_subject_problems``' checks passed."""
    out: list[Level | None] = []
    member, org, upper = Kind.member, Kind.party_org, Tier.upper
    for s in subjects:
        out.append(None)
        if s.kind is not member or _MEMBER_RARE(s) != _MEMBER_RARE_UNSET or not s.rated:
            continue
        up = ids.get(s.parent)  # a chi bộ, not a đảng bộ cấp trên cơ sở
        if up is None or up.kind is not org or up.tier is upper:
            continue
        if s.voters is not None and s.votes is None:
            continue
        facts = s.facts
        if facts is not EMPTY_FACTS and (facts.violation_org is not None or _facts_not_for(member, facts)):
            continue
        try:
            target = s.target_level(bands)
        except NoMajority:
            continue
        proposed = s.proposed
        if proposed is None or proposed is target:  # else the warning that they differ
            out[-1] = target  # None without any target: an error
    return out


def _err(here: tuple, fld: str | None, msg: str, warning: bool = False) -> None:
    out, file, index, s = here
    out.append(InputProblem(file, msg, sheet="subjects", row=index + 1, field=fld, subject=s.id, warning=warning))


def _ref(here: tuple, ids: dict[str, Subject], fld: str, target: str | None, kinds: tuple[Kind, ...]
         ) -> Subject | None:
    """The subject ``target`` refers to when it exists and is of one of ``kinds``; else a problem and None."""
    if target is None:
        return None
    other = ids.get(target)
    if other is None:
        _err(here, fld, f"tham chiếu tới mã «{target}» không có trong danh sách đối tượng")
        return None
    if other.kind not in kinds:
        names = " hoặc ".join(k.label.lower() for k in kinds)
        _err(here, fld, f"«{target}» là {other.kind.label.lower()}, phải là {names}")
        return None
    return other


_ORG = (Kind.party_org,)
_ORG_OR_UNIT = (Kind.party_org, Kind.unit)
_COLLECTIVE = (Kind.collective,)
_UNIT = (Kind.unit,)


def _has_parent_cycle(ids: dict[str, Subject], parents: set[str]) -> bool:
    """Whether the parent links hold a cycle: walked from the subjects that are someone's parent only (every
    subject of a cycle is), so that the members of a province are not walked one by one."""
    state: dict[str, int] = {}
    for start in parents:
        cur = start
        path = []
        while cur in ids and cur not in state:
            state[cur] = 1
            path.append(cur)
            cur = ids[cur].parent
        if cur in ids and state[cur] == 1:
            return True
        for p in path:
            state[p] = 2
    return False


_ID = attrgetter("id")


def validate(case: Case, file: str = "<case>", targets: dict[str, Level] | None = None,
             bands: tuple[int, int, int] = SCORE_BANDS, *, locks: dict[str, Level] | None = None, given_levels: dict[str, Level] | None = None,
             index: dict[str, Subject] | None = None) -> list[InputProblem]:
    """Every structural problem of a case (errors and warnings), in Vietnamese.

    With ``targets``, the target of every decided subject is stored there in file order (V1 is counted
    once per subject, here, rather than again by every later step); with ``locks`` and ``given_levels``,
    the locked level of each subject that has one and the level of each subject not decided that carries
    one (the units), in file order: gathered on the same pass (``model.loader.LoadedCase``). ``index``, an
    empty dict, receives each id's first subject (``build`` reuses it).
    """
    out: list[InputProblem] = []
    ids: dict[str, Subject] = {} if index is None else index
    subjects = case.subjects
    by_id = dict(zip(map(_ID, subjects), subjects))  # the last subject of each id: the first too when none repeats
    if len(by_id) == len(subjects):  # the common case, built in C (0.15 s less at 300,000 members)
        ids.update(by_id)
    else:  # an id written twice: the first subject of it is kept, each later one is an error
        first: dict[str, int] = {}
        for i, s in enumerate(subjects):
            if s.id in ids:
                out.append(InputProblem(file, f"mã «{s.id}» bị trùng (đã dùng ở đối tượng thứ {first[s.id] + 1} của "
                                              "danh sách subjects)", sheet="subjects", row=i + 1, field="id",
                                        subject=s.id))
            else:
                ids[s.id] = s
                first[s.id] = i
    del by_id
    persons: dict[str, list[Subject]] = defaultdict(list)
    listing: list[Subject] = []  # organizations that list same-level units
    parents: set[str] = set()
    plain = _plain_member_targets(subjects, ids, bands)
    for i, (s, target) in enumerate(zip(subjects, plain)):
        if target is not None:  # no problem, no lock, no given level, no same-level unit
            if targets is not None:
                targets[s.id] = target
        else:
            out.extend(_subject_problems(file, i, s, ids, targets, bands))
            if locks is not None and s.lock is not None:
                locks[s.id] = s.lock
            if given_levels is not None and s.level is not None and not s.decided:
                given_levels[s.id] = s.level
            if s.same_level_units:
                listing.append(s)
        parents.add(s.parent)
        if s.person is not None:
            persons[s.person].append(s)

    rows: dict[str, int] = {}

    def row(sid: str) -> int:
        """The (1-based) row of the last subject with this id: the index is made for the first problem."""
        if not rows:
            rows.update((s.id, i + 1) for i, s in enumerate(case.subjects))
        return rows[sid]

    parents.discard(None)
    if _has_parent_cycle(ids, parents):
        state: dict[str, int] = {}  # 1: on the current path, 2: done
        for start in ids:
            path = []
            cur = start
            while cur in ids and state.get(cur) is None:
                state[cur] = 1
                path.append(cur)
                cur = ids[cur].parent
            if cur in ids and state.get(cur) == 1:  # walked back onto the current path: a cycle
                cycle = path[path.index(cur):]
                text = " → ".join([*cycle, cycle[0]])
                out.append(InputProblem(file, f"quan hệ cấp trên tạo thành vòng: {text}", sheet="subjects",
                                        row=row(cycle[0]), field="parent", subject=cycle[0]))
            for p in path:
                state[p] = 2

    typed: set[str] = set()
    for s in listing:
        for u in s.same_level_units:
            unit = ids.get(u)
            if unit is not None and unit.kind is Kind.unit and unit.category is None and u not in typed:
                typed.add(u)
                out.append(InputProblem(file, "đơn vị cùng cấp của tổ chức đảng phải ghi loại (category): "
                                        + ", ".join(f"{c} ({n})" for c, n in UNIT_CATEGORIES.items())
                                        + f" — «{s.id}» ghi đơn vị này trong same_level_units",
                                        sheet="subjects", row=row(u), field="category", subject=u))
    for pid, recs in persons.items():
        members = [r for r in recs if r.kind is Kind.member]
        mains = [r for r in recs if r.main_post]
        if len(members) > 1:
            out.append(InputProblem(file, f"người «{pid}» có {len(members)} bản ghi đảng viên: một người chỉ sinh "
                                    "hoạt ở một chi bộ", sheet="subjects", row=row(members[1].id),
                                    field="person", subject=members[1].id))
        if len(mains) > 1:
            out.append(InputProblem(file, f"người «{pid}» ghi nhiều chức vụ chính (main_post): chỉ ghi một",
                                    sheet="subjects", row=row(mains[1].id), field="main_post",
                                    subject=mains[1].id))
        if len(recs) == 1:
            out.append(InputProblem(file, f"mã người «{pid}» chỉ có một bản ghi: không có gì để liên kết",
                                    sheet="subjects", row=row(recs[0].id), field="person",
                                    subject=recs[0].id, warning=True))

    seen_group: dict[str, str] = {}
    group_ids: set[str] = set()
    for gi, g in enumerate(case.groups):
        def gerr(msg: str, warning: bool = False) -> None:
            out.append(InputProblem(file, msg, sheet="groups", row=gi + 1, field="members",
                                    subject=g.id, warning=warning))
        if g.id in group_ids:
            out.append(InputProblem(file, f"mã nhóm «{g.id}» bị trùng", sheet="groups", row=gi + 1,
                                    field="id", subject=g.id))
        if g.id.startswith(DERIVED_GROUP_PREFIXES):
            prefixes = ", ".join(DERIVED_GROUP_PREFIXES)
            out.append(InputProblem(file, f"mã nhóm «{g.id}» có dạng mã của các nhóm tỷ lệ xeploai tự lập (bắt đầu "
                                          f"bằng {prefixes}) nên có thể trùng với một nhóm tự lập; hãy đặt mã khác",
                                    sheet="groups", row=gi + 1, field="id", subject=g.id))
        group_ids.add(g.id)
        kinds = set()
        for m in g.members:
            s = ids.get(m)
            if s is None:
                gerr(f"thành viên «{m}» không có trong danh sách đối tượng")
                continue
            if s.kind is Kind.unit:
                gerr(f"«{m}» là đơn vị (dữ liệu đầu vào), không thuộc nhóm tỷ lệ")
            kinds.add(s.kind)
            if m in seen_group:
                gerr(f"«{m}» đã thuộc nhóm «{seen_group[m]}»: mỗi đối tượng chỉ ở một nhóm")
            seen_group[m] = g.id
        if len(kinds) > 1:
            gerr("một nhóm tỷ lệ chỉ gồm một loại đối tượng, nhóm này trộn: "
                 + ", ".join(sorted(k.label for k in kinds)))
    return out


#: How the ids of derived quota groups begin (``derive_groups``): an explicit group may not take such an id,
#: or it could collide with a derived one (say ``dv:CB``, the members of CB) and merge two groups.
DERIVED_GROUP_PREFIXES = ("dv:", "tcd:", *(f"{k.value}:" for k in Kind))


def _grassroots_of(sid: str, subjects: dict[str, Subject]) -> str:
    cur = subjects[sid].parent
    top = cur
    while cur is not None:
        if subjects[cur].tier is Tier.grassroots:
            return cur
        top = cur
        cur = subjects[cur].parent
    return top  # no grassroots ancestor: the top of the chain


def deciding_org(s: Subject, subjects: dict[str, Subject], unit_owner: dict[str, str]) -> str:
    """The party organization whose committee rates a collective ("" for the top of the case): the one it
    names (``decided_by``); else the organization above the one it leads; for a collective leading a unit,
    the party organization that lists the unit among its same-level units (BMT II.B.3.4)."""
    if s.decided_by is not None:
        return s.decided_by
    led = subjects.get(s.leads) if s.leads is not None else None
    if led is None:
        return ""
    if led.kind is Kind.party_org:
        return led.parent or ""
    return unit_owner.get(led.id, "")


def _part(text: str) -> str:
    """One part of a derived group id, escaped so that different groups never share an id: ids and
    categories may hold ":" (the separator) or begin with "#" (the mark of a subject without a group), so
    "%", ":" and a leading "#" are written %25, %3A and %23. Ordinary ids and categories are unchanged."""
    if "%" in text or ":" in text:
        text = text.replace("%", "%25").replace(":", "%3A")
    return "%23" + text[1:] if text.startswith("#") else text


def derive_groups(case: Case, subjects: dict[str, Subject], unit_owner: dict[str, str] | None = None
                  ) -> list[QuotaGroup]:
    """The default quota groups of RULES.md §3, with explicit groups taking their members out: members per
    grassroots organization, organizations per parent and tier, collectives per category and deciding
    committee, leaders per category (equivalent title). ``unit_owner``: each same-level unit's owner, when the
    caller has it (``Hierarchy.unit_owner``)."""
    explicit_members = {m for g in case.groups for m in g.members}
    if unit_owner is None:
        unit_owner = {}
        for s in case.subjects:
            for u in s.same_level_units:
                unit_owner.setdefault(u, s.id)
    buckets: dict[tuple, list[str]] = {}
    names: dict[tuple, str] = {}
    kinds: dict[tuple, Kind] = {}
    # a member's parent → the list of its grassroots organization's group: the key and name are made once
    # per chi bộ, not per member (derive_groups 0.18 s instead of 0.31 s CPU at 300,000 members)
    member_bucket: dict[str | None, list[str]] = {}
    member = Kind.member
    for s in case.subjects:
        if not s.decided or s.id in explicit_members:
            continue
        k = s.kind
        if k is member:
            bucket = member_bucket.get(s.parent)
            if bucket is None:
                org = _grassroots_of(s.id, subjects)
                key = ("dv", _part(org))
                if key not in names:
                    names[key] = f"Đảng viên thuộc {subjects[org].name}"
                    kinds[key] = k
                bucket = member_bucket[s.parent] = buckets.setdefault(key, [])
            bucket.append(s.id)
            continue
        if k is Kind.party_org:
            key = ("tcd", _part(s.parent or ""), s.tier.value)
            above = subjects[s.parent].name if s.parent else "cấp cao nhất của hồ sơ"
            names[key] = f"{s.tier.label} trực thuộc {above}"
        elif k is Kind.collective and s.category:
            decider = deciding_org(s, subjects, unit_owner)
            key = (k.value, _part(s.category), _part(decider))
            where = subjects[decider].name if decider else "cấp cao nhất của hồ sơ"
            names[key] = f"{k.label}: {s.category} (do cấp ủy {where} xem xét, quyết định)"
        elif s.category:
            key = (k.value, _part(s.category))
            names[key] = f"{k.label}: {s.category}"
        else:
            key = (k.value, "#" + _part(s.id))
            names[key] = f"{k.label}: {s.name} (không có nhóm)"
        kinds[key] = k
        buckets.setdefault(key, []).append(s.id)
    groups = [QuotaGroup(":".join(k), names[k], kinds[k], tuple(v)) for k, v in buckets.items()]
    for g in case.groups:
        members = tuple(m for m in g.members if subjects[m].decided)
        if members:
            groups.append(QuotaGroup(g.id, g.name, subjects[members[0]].kind, members, explicit=True))
    return groups


def build(case: Case, subjects: dict[str, Subject] | None = None) -> Hierarchy:
    """The hierarchy of a validated case (call ``validate`` first; errors there make this undefined);
    ``subjects``: the case's subjects by id, when ``validate`` gathered them."""
    if subjects is None:
        subjects = case.by_id()
    members_of: dict[str, list[str]] = defaultdict(list)
    sub_orgs_of: dict[str, list[str]] = defaultdict(list)
    collectives_leading: dict[str, list[str]] = defaultdict(list)
    heads_of: dict[str, list[str]] = defaultdict(list)
    persons: dict[str, list[str]] = defaultdict(list)
    unit_owner: dict[str, str] = {}
    member = Kind.member
    for s in case.subjects:
        sid, parent = s.id, s.parent
        if parent is not None:
            (members_of if s.kind is member else sub_orgs_of)[parent].append(sid)
        if s.person is not None:
            persons[s.person].append(sid)
        if s.same_level_units:
            for u in s.same_level_units:
                unit_owner.setdefault(u, sid)
        if s.leads is not None:
            collectives_leading[s.leads].append(sid)
        if s.heads is not None:
            heads_of[s.heads].append(sid)
    groups = derive_groups(case, subjects, unit_owner)
    group_of: dict[str, str] = {}
    for g in groups:  # in C, a group at a time: a comprehension over 331,000 members took 0.1 s
        group_of.update(dict.fromkeys(g.members, g.id))
    return Hierarchy(case, subjects, groups, group_of, dict(members_of), dict(sub_orgs_of),
                     dict(collectives_leading), dict(heads_of), dict(persons), unit_owner)
