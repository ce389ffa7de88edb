"""The case format: one rating round as pydantic models (the JSON interchange contract)."""

from __future__ import annotations

import dataclasses
import itertools
import operator
import unicodedata
from enum import Enum
from functools import lru_cache
from fractions import Fraction
from typing import Annotated, Any

from pydantic import (BaseModel, ConfigDict, Field, PlainSerializer, StrictBool, StrictFloat, StrictInt,
                      ValidationInfo, field_validator, model_validator)
from pydantic import AfterValidator, TypeAdapter
from pydantic.dataclasses import dataclass as pydantic_dataclass

from model.ballots import NoMajority, support, voted_from_counts
from model.catalogue import OptionOverrides
from model.errors import ID_PATTERN, NAME_PATTERN
from model.document import DocumentInfo
from model.levels import GRADE_KEYS, Level, parse_level


def nfc_deep(value: Any) -> Any:
    """NFC-normalize every string (keys included) of a JSON-like value."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {nfc_deep(k): nfc_deep(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(nfc_deep(v) for v in value)
    return value


class Strict(BaseModel):
    """Base of every case model: unknown keys rejected, frozen; strings arrive NFC.

    NFC is the loader's: ``model.loader.parse_case`` (every JSON case, workbook and what-if goes through it)
    normalizes the whole input once before validation. Validation runs in pydantic-core alone, with no
    Python callback per model: a per-model NFC validator cost a third of the load time of a 300,000-member
    case (``benchmarks/bench_scale.py``).

    Types are strict field by field (``StrictInt``, ``StrictBool``, ``StrictFloat``): a JSON ``"15"`` is not
    a number, ``"yes"`` or ``1`` not a boolean, ``true`` not a count. (Model-wide ``strict=True`` would also
    refuse a JSON list for a tuple and a code for an enum when the data come as Python objects, as they do
    from the loader and the Excel importer.) The Excel importer turns what people type into these types
    before validation: its coercions are its own, documented in ``model.excel``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)


#: The per-subject types (``Subject`` and what it holds) are pydantic dataclasses with slots, not models: the
#: same validation in pydantic-core, but an instance is its slots, without a ``__dict__`` and a set of the fields
#: given. At 300,000 members the subjects as models took 865 MiB, as slotted dataclasses 150 MiB
#: (``benchmarks/bench_scale.py``). Frozen and strict like ``Strict``; read and written through ``validate_as``
#: and ``dump``.
record = pydantic_dataclass(frozen=True, slots=True, config=ConfigDict(extra="forbid"))


@lru_cache(maxsize=None)
def _adapter(cls: type) -> TypeAdapter:
    return TypeAdapter(cls)


def validate_as(cls: type, data: Any, context: dict | None = None) -> Any:
    """``data`` validated as ``cls`` (a record type such as ``Subject`` or ``Votes``; a model type works too)."""
    return _adapter(cls).validate_python(data, context=context)


def dump(value: Any, **kwargs: Any) -> Any:
    """A record (or model) as plain data: ``pydantic.TypeAdapter.dump_python`` with its keywords (``mode``,
    ``exclude_defaults``…)."""
    return _adapter(type(value)).dump_python(value, **kwargs)


#: A subject, group or category id, or a reference to one: printable, no hidden character (model.errors).
Id = Annotated[str, Field(min_length=1, max_length=200, pattern=ID_PATTERN)]
#: A reference (or a category): as an id, without the length floor (an empty one is caught by its rule).
Ref = Annotated[str, Field(max_length=200, pattern=ID_PATTERN)]
#: A name shown to people: no line break, control, zero-width or bidirectional-override character.
Name = Annotated[str, Field(min_length=1, max_length=500, pattern=NAME_PATTERN)]
#: A count of ballots: a JSON integer (not "15", not true, not 15.0).
Count = Annotated[StrictInt, Field(ge=0, le=1_000_000)]

#: A level field: read from its code, written back as its code in JSON dumps.
LevelField = Annotated[Level, PlainSerializer(lambda v: v.name, return_type=str, when_used="json")]


_LEVEL_CODES = {lv.code: lv for lv in Level}


def _level(value: Any) -> Any:
    if type(value) is str and value in _LEVEL_CODES:  # the common case, without parse_level's folding
        return _LEVEL_CODES[value]
    if value is None or isinstance(value, Level):
        return value
    return parse_level(value)


class Kind(str, Enum):
    party_org = "party_org"
    member = "member"
    collective = "collective"
    leader = "leader"
    unit = "unit"

    @property
    def label(self) -> str:
        return KIND_LABELS[self]


#: The type of a same-level unit (S3): the K trigger counts only the Fatherland Front and mass organizations.
UNIT_CATEGORIES = {
    "chinh_quyen": "Chính quyền",
    "mat_tran": "Mặt trận Tổ quốc",
    "doan_the": "Đoàn thể chính trị - xã hội",
}

#: Where a subject's target level comes from (``Subject.target_source``), as counted by ``check``.
TARGET_SOURCES = {"target": "ghi sẵn", "score": "theo điểm", "votes": "theo phiếu", "proposed": "theo đề xuất",
                  "none": "chưa có mức"}
#: The same, as a phrase about one subject.
TARGET_SOURCE_PHRASES = {"target": "ghi sẵn trong hồ sơ", "score": "theo điểm thẩm định",
                         "votes": "theo phiếu biểu quyết", "proposed": "theo mức đề xuất", "none": ""}


def target_sources_text(counts: dict[str, int]) -> str:
    """«theo điểm 12, theo phiếu 30, ghi sẵn 0, theo đề xuất 1»: the score only where a subject has one, «chưa
    có mức» only where a subject has none (a light module: ``check`` must run without the solver)."""
    keys = [k for k in ("score", "votes", "target", "proposed", "none")
            if counts.get(k, 0) or k in ("votes", "target", "proposed")]
    return ", ".join(f"{TARGET_SOURCES[k]} {counts.get(k, 0):,}".replace(",", ".") for k in keys)


KIND_LABELS = {
    Kind.party_org: "Tổ chức đảng",
    Kind.member: "Đảng viên",
    Kind.collective: "Tập thể lãnh đạo, quản lý",
    Kind.leader: "Cán bộ lãnh đạo, quản lý",
    Kind.unit: "Cơ quan, đơn vị",
}


class Tier(str, Enum):
    upper = "upper"
    grassroots = "grassroots"
    branch = "branch"

    @property
    def label(self) -> str:
        return TIER_LABELS[self]


TIER_LABELS = {
    Tier.upper: "Cấp trên cơ sở",
    Tier.grassroots: "Tổ chức cơ sở đảng",
    Tier.branch: "Chi bộ trực thuộc / đảng bộ bộ phận",
}


@record
class Votes:
    """A tally: ballots per grade (XS, T, TB = trung bình, K = kém)."""

    XS: Count = 0
    T: Count = 0
    TB: Count = 0
    K: Count = 0

    def as_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in GRADE_KEYS}

    @property
    def total(self) -> int:
        return self.XS + self.T + self.TB + self.K


@record
class Criteria:
    """E6 self-grades per criterion (ballot grades XS/T/TB/K): task criteria and the rest."""

    task: tuple[str, ...] = ()
    other: tuple[str, ...] = ()

    @field_validator("task", "other")
    @classmethod
    def _grades(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for g in v:
            if g not in GRADE_KEYS:
                raise ValueError(f"cấp độ tiêu chí không hợp lệ: {g!r} (dùng XS, T, TB hoặc K)")
        return v


def _one_decimal(value: float | None) -> float | None:
    if value is not None and abs(value * 10 - round(value * 10)) > 1e-9:
        raise ValueError("điểm chỉ ghi đến một chữ số thập phân (ví dụ 87,5)")
    return value


#: A score on the 100-point scale of QĐ 366 Điều 10, with one decimal.
Score = Annotated[StrictFloat, Field(ge=0, le=100), AfterValidator(_one_decimal)]

#: Forms of party discipline, lightest first (QĐ 366 Điều 11 khoản 4: "từ khiển trách trở lên").
DISCIPLINE_FORMS = {"khien_trach": "khiển trách", "canh_cao": "cảnh cáo", "cach_chuc": "cách chức",
                    "khai_tru": "khai trừ"}
#: Kinds of violation that QĐ 366 Điều 11 khoản 4 names.
VIOLATION_KINDS = {"duty": "vi phạm liên quan đến chức trách, nhiệm vụ, hoạt động công vụ",
                   "forbidden": "vi phạm những điều đảng viên không được làm",
                   "example": "vi phạm quy định về trách nhiệm nêu gương",
                   "other": "vi phạm khác"}
#: Who is not rated (QĐ 366 Điều 5 khoản 2; BMT II.B.5; BĐ 5.8), with the words shown.
EXCLUSIONS = {"exempted": "được miễn công tác và sinh hoạt đảng", "suspended": "bị đình chỉ sinh hoạt đảng",
              "new_member": "mới kết nạp chưa đủ 06 tháng", "new_body": "mới thành lập chưa đủ 06 tháng"}


#: QĐ 366 Điều 11: the lowest scores of XS, T and HT (profile parameters score_xs, score_t, score_ht).
SCORE_BANDS = (90, 70, 50)


def level_of_score(score: float, bands: tuple[int, int, int] = SCORE_BANDS) -> Level:
    """The level a score falls in: from bands[0] XS, from bands[1] T, from bands[2] HT, below K."""
    xs, t, ht = bands
    if score >= xs:
        return Level.XS
    if score >= t:
        return Level.T
    if score >= ht:
        return Level.HT
    return Level.K


@record
class Tasks:
    """Q2 (QĐ 366 Điều 11): the tasks assigned in the year and how they were done (for a leader: the tasks of
    the places he or she directly leads)."""

    assigned: StrictInt = Field(ge=1, le=1_000_000)
    done: StrictInt = Field(ge=0, le=1_000_000)
    on_time: StrictInt = Field(ge=0, le=1_000_000)
    exceeded: StrictInt = Field(0, ge=0, le=1_000_000)

    @model_validator(mode="after")
    def _consistent(self) -> "Tasks":
        if self.done > self.assigned:
            raise ValueError(f"số nhiệm vụ hoàn thành ({self.done}) lớn hơn số được giao ({self.assigned})")
        if self.on_time > self.done:
            raise ValueError(f"số hoàn thành đúng hạn ({self.on_time}) lớn hơn số hoàn thành ({self.done})")
        if self.exceeded > self.done:
            raise ValueError(f"số vượt mức yêu cầu ({self.exceeded}) lớn hơn số hoàn thành ({self.done})")
        return self


@record
class Discipline:
    """Q5, Q6 (QĐ 366 Điều 11 khoản 4): a discipline in the year, by form and kind of violation; a violation
    self-reported and remedied is left to the competent level (``self_reported``)."""

    form: Annotated[str, Field(pattern="^(" + "|".join(DISCIPLINE_FORMS) + ")$")]
    kind: Annotated[str, Field(pattern="^(" + "|".join(VIOLATION_KINDS) + ")$")]
    self_reported: StrictBool = False


@record
class Facts:
    """Facts that cap or force a level (RULES.md §4–§5)."""

    civil_servant_level: LevelField | None = None
    disciplined: StrictBool = False
    self_remedied: StrictBool = False
    committee_member: StrictBool = False
    degeneration: StrictBool = False
    targets_below_half: StrictBool = False
    sick_leave_months: StrictFloat | None = Field(None, ge=0, le=12)  # a JSON integer is accepted too
    transferred_in_exempt: StrictBool = False
    maternity_leave: StrictBool = False
    criteria: Criteria | None = None
    # organization-level facts (a đảng bộ whose committee members are not all in the case)
    committee_member_disciplined: StrictBool = False
    subordinate_committee_disciplined: StrictBool = False
    standing_committee_disciplined: StrictBool = False
    # collective-level facts (S4, E7c)
    disunity: StrictBool = False
    #: E7c: the collective (a subordinate party committee) let corruption or other violations happen, and
    #: they were dealt with ("để xảy ra các vụ, việc tham ô, tham nhũng và các vi phạm khác bị xử lý").
    violations_handled: StrictBool = False
    #: E9: the id of the party organization where a member's violation happened, when the discipline came
    #: after a transfer; the discipline then counts against that organization, not the member's new one.
    violation_org: Ref | None = None
    # the 2025 regulation (QĐ 366 Điều 11)
    #: Q2: tasks assigned and done in the year.
    tasks: Tasks | None = None
    #: Q3: the shortcomings pointed out at the previous review were all remedied (None: none were pointed out).
    shortcomings_remedied: StrictBool | None = None
    #: Q5, Q6: a discipline in the year, with its form and the kind of violation.
    discipline: Discipline | None = None
    #: Q4: more than half of the votes of confidence in the year were low.
    low_confidence: StrictBool = False
    #: Q2: the place one leads missed the 5 basic socio-economic indicators.
    indicators_missed: StrictBool = False
    #: Q4: corruption, waste or negativity in the scope one manages directly, dealt with by discipline.
    corruption_in_scope: StrictBool = False
    #: Q6: the competent level concluded personnel errors, factions or the buying of posts in the collective.
    personnel_errors: StrictBool = False

    @field_validator("civil_servant_level", mode="before")
    @classmethod
    def _civil(cls, v: Any) -> Any:
        return _level(v)

    def set_fields(self) -> list[str]:
        """Names of the facts that are set (true, or a value: level K, 0 months and an empty reference count)."""
        values = _fact_values(self)
        maybe = _falsy_valued(values)
        if 0 in maybe or "" in maybe:  # a set fact with a false-looking value (rare): look at each
            return [k for k, v in zip(FACT_NAMES, values) if v is not None and v is not False]
        # every other fact is set exactly when it is truthy: chosen in C, a third of the time at 300,000 members
        return list(itertools.compress(FACT_NAMES, values))


#: The names of the facts, in their order.
FACT_NAMES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Facts))
_fact_values = operator.attrgetter(*FACT_NAMES)
#: The facts whose value may be set yet false-looking (level K, 0 months, an empty reference); every other fact
#: is a boolean or a record (always truthy). ``tests/test_case_records.py`` holds the list to the types.
FALSY_SETTABLE = ("civil_servant_level", "sick_leave_months", "violation_org")
_falsy_valued = operator.itemgetter(*(FACT_NAMES.index(n) for n in FALSY_SETTABLE))
#: The facts of a subject given none: one shared instance.
EMPTY_FACTS = Facts()


#: Which facts each kind may carry; anything else is an input error.
FACTS_BY_KIND: dict[Kind, frozenset[str]] = {
    Kind.member: frozenset({
        "civil_servant_level", "disciplined", "self_remedied", "committee_member", "degeneration",
        "targets_below_half", "sick_leave_months", "maternity_leave", "criteria", "violation_org",
        "tasks", "shortcomings_remedied", "discipline",
    }),
    Kind.leader: frozenset({
        "civil_servant_level", "disciplined", "self_remedied", "degeneration", "targets_below_half",
        "sick_leave_months", "transferred_in_exempt", "maternity_leave", "criteria",
        "tasks", "shortcomings_remedied", "discipline", "low_confidence", "indicators_missed", "corruption_in_scope",
    }),
    Kind.party_org: frozenset({
        "targets_below_half", "criteria", "committee_member_disciplined",
        "subordinate_committee_disciplined", "standing_committee_disciplined", "self_remedied",
    }),
    Kind.collective: frozenset({
        "disciplined", "disunity", "degeneration", "targets_below_half", "criteria", "self_remedied",
        "violations_handled", "tasks", "shortcomings_remedied", "discipline", "indicators_missed",
        "personnel_errors",
    }),
    Kind.unit: frozenset({"targets_below_half"}),
}


@record
class Subject:
    """One rated (or listed) subject: organization, member, collective, leader or unit."""

    id: Id
    name: Name
    kind: Kind
    parent: Ref | None = None
    tier: Tier | None = None
    leads: Ref | None = None
    heads: Ref | None = None
    category: Ref | None = None
    #: P1: one person's records (a member record and leader records) share this identifier.
    person: Ref | None = None
    #: P1: this record is the person's main and highest post.
    main_post: StrictBool = False
    #: A collective's deciding committee: the party organization whose committee rates it (quota groups).
    decided_by: Ref | None = None
    #: Q4: the places (organizations, units) a leader is in charge of, besides the one his collective leads.
    in_charge_of: tuple[Ref, ...] = ()
    same_level_units: tuple[Ref, ...] = ()
    #: Q1: the appraised score the level is read from (QĐ 366 Điều 10–11), and the self-assessed one.
    score: Score | None = None
    self_score: Score | None = None
    #: X1: why the subject is listed but not rated (``EXCLUSIONS``); it then takes part in no count.
    excluded: Annotated[str, Field(pattern="^(" + "|".join(EXCLUSIONS) + ")$")] | None = None
    votes: Votes | None = None
    voters: StrictInt | None = Field(None, ge=1, le=1_000_000)
    proposed: LevelField | None = None
    target: LevelField | None = None
    level: LevelField | None = None
    lock: LevelField | None = None
    #: Why the competent level decided the lock, and who decided (a title or an account, not a name).
    lock_reason: Name | None = None
    lock_author: Name | None = None
    rated: StrictBool = True
    may_rise: StrictBool = False
    facts: Facts = EMPTY_FACTS

    @field_validator("proposed", "target", "level", "lock", mode="before")
    @classmethod
    def _levels(cls, v: Any) -> Any:
        return _level(v)

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if v != v.strip() or not v:
            raise ValueError("mã không được có khoảng trắng ở đầu hoặc cuối")
        return v

    @field_validator("voters")
    @classmethod
    def _votes_within_voters(cls, v: int | None, info: ValidationInfo) -> int | None:
        votes = info.data.get("votes")
        if v is not None and votes is not None and votes.total > v:
            raise ValueError(f"tổng số phiếu ({votes.total}) lớn hơn số người tham gia biểu quyết ({v})")
        return v

    @property
    def decided(self) -> bool:
        """True when the solver decides this subject's level (rated, not excluded, and not a unit)."""
        return self.rated and self.excluded is None and self.kind is not Kind.unit

    def voted(self) -> Level | None:
        """The V1 voted level, or None without votes (raises NoMajority on a tally without majority)."""
        if self.votes is None:
            return None
        v = self.votes
        return voted_from_counts(v.XS, v.T, v.TB, v.K, self.voters)

    def target_level(self, bands: tuple[int, int, int] = SCORE_BANDS) -> Level | None:
        """The target: ``target`` if given, else the band of the appraised ``score`` (Q1; ``bands`` are the
        profile's lowest scores of XS, T and HT), else the voted level (V1), else ``proposed``."""
        if self.target is not None:
            return self.target
        if self.score is not None:
            return level_of_score(self.score, bands)
        if self.votes is not None:
            return self.voted()
        return self.proposed

    def target_source(self) -> str:
        if self.target is not None:
            return "target"
        if self.score is not None:
            return "score"
        if self.votes is not None:
            return "votes"
        if self.proposed is not None:
            return "proposed"
        return "none"

    def support(self, level: Level) -> Fraction | None:
        """Share of ballots at ``level`` or above; None without votes."""
        if self.votes is None:
            return None
        return support(self.votes.as_dict(), level, self.voters)


class Group(Strict):
    """An explicit quota group: its members leave their derived group."""

    id: Id
    name: Name
    members: tuple[Ref, ...]


class ExpectObjective(Strict):
    changed: StrictInt = Field(ge=0)
    steps: StrictInt = Field(ge=0)


class Expect(Strict):
    """What a solve of this case must give; checked by the tests, ignored by the solver."""

    status: str | None = None
    objective: ExpectObjective | None = None
    levels: dict[str, LevelField] = {}

    @field_validator("levels", mode="before")
    @classmethod
    def _levels(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {k: _level(x) for k, x in v.items()}
        return v


class QuotaException(Strict):
    """C3 (QĐ 366 Điều 11 khoản 1): the competent level sets the XS ratio, up to 25%, for the collectives and
    individuals managed by one organization with outstanding results; recorded with its reason and author."""

    scope: Ref
    percent: StrictInt = Field(ge=1, le=100)
    reason: Name
    author: Name


class Case(Strict):
    """A rating round: subjects, explicit quota groups, the rule profile, parameter overrides and rule switches."""

    name: Annotated[str, Field(min_length=1, pattern=NAME_PATTERN)]
    profile: str | None = None
    #: The rating year: a rule that took effect after its end is not in force.
    year: StrictInt | None = Field(None, ge=2000, le=2100)
    options: OptionOverrides = OptionOverrides()
    #: C3: the competent level's 25% decisions, one per managing organization.
    exceptions: tuple[QuotaException, ...] = ()
    #: Rules switched on or off for this case against its profile (rule ID → on), e.g. {"C2": true}.
    rules: dict[str, StrictBool] = {}
    subjects: tuple[Subject, ...]
    groups: tuple[Group, ...] = ()
    expect: Expect | None = None
    description: str | None = None
    #: The Word report's form: issuing body, number, place, date, signer, recipients (``model.document``).
    document: DocumentInfo | None = None

    def by_id(self) -> dict[str, Subject]:
        return {s.id: s for s in self.subjects}

    def to_data(self) -> dict:
        """The raw JSON-like data of this case (levels as codes, defaults left out): what a loader reads back."""
        return self.model_dump(mode="json", exclude_defaults=True)


__all__ = [
    "EMPTY_FACTS", "FACT_NAMES", "dump", "record", "validate_as", "Case", "Criteria", "DISCIPLINE_FORMS", "Discipline", "EXCLUSIONS", "QuotaException", "SCORE_BANDS", "Tasks",
    "UNIT_CATEGORIES", "VIOLATION_KINDS", "level_of_score", "Expect", "Facts", "FACTS_BY_KIND", "Group", "Kind", "NoMajority", "Strict",
    "Subject", "Tier", "Votes", "nfc_deep",
]
