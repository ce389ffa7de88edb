"""The case format: one rating round as pydantic models (the JSON interchange contract)."""

from __future__ import annotations

import unicodedata
from enum import Enum
from fractions import Fraction
from typing import Annotated, Any

from pydantic import BaseModel, PlainSerializer, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from model.ballots import NoMajority, support, voted_from_counts
from model.catalogue import OptionOverrides
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


def _nfc(text: str) -> str:
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def nfc_shallow(value: Any) -> Any:
    """NFC-normalize the strings of one model's raw dict: its keys, string values, and the strings of its
    lists and plain dicts. Nested models normalize their own fields, so each string is seen once."""
    if not isinstance(value, dict):
        return value
    out = {}
    for k, v in value.items():
        if isinstance(v, str):
            v = _nfc(v)
        elif isinstance(v, (list, tuple)):
            v = [_nfc(x) if isinstance(x, str) else x for x in v]
        elif isinstance(v, dict):
            v = {(_nfc(a) if isinstance(a, str) else a): (_nfc(b) if isinstance(b, str) else b) for a, b in v.items()}
        out[_nfc(k) if isinstance(k, str) else k] = v
    return out


class Strict(BaseModel):
    """Base of every case model: unknown keys rejected, frozen, strings NFC on the way in."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _nfc(cls, data: Any, info: ValidationInfo) -> Any:
        if info.context and info.context.get("nfc_done"):
            return data  # the loader normalized the whole input once
        return nfc_shallow(data)


#: A level field: read from its code, written back as its code in JSON dumps.
LevelField = Annotated[Level, PlainSerializer(lambda v: v.name, return_type=str, when_used="json")]


def _level(value: Any) -> Any:
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


class Votes(Strict):
    """A tally: ballots per grade (XS, T, TB = trung bình, K = kém)."""

    XS: int = Field(0, ge=0, le=1_000_000)
    T: int = Field(0, ge=0, le=1_000_000)
    TB: int = Field(0, ge=0, le=1_000_000)
    K: int = Field(0, ge=0, le=1_000_000)

    def as_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in GRADE_KEYS}

    @property
    def total(self) -> int:
        return self.XS + self.T + self.TB + self.K


class Criteria(Strict):
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


class Facts(Strict):
    """Facts that cap or force a level (RULES.md §4–§5)."""

    civil_servant_level: LevelField | None = None
    disciplined: bool = False
    self_remedied: bool = False
    committee_member: bool = False
    degeneration: bool = False
    targets_below_half: bool = False
    sick_leave_months: float | None = Field(None, ge=0, le=12)
    transferred_in_exempt: bool = False
    maternity_leave: bool = False
    criteria: Criteria | None = None
    # organization-level facts (a đảng bộ whose committee members are not all in the case)
    committee_member_disciplined: bool = False
    subordinate_committee_disciplined: bool = False
    standing_committee_disciplined: bool = False
    # collective-level facts (S4)
    disunity: bool = False

    @field_validator("civil_servant_level", mode="before")
    @classmethod
    def _civil(cls, v: Any) -> Any:
        return _level(v)

    def set_fields(self) -> list[str]:
        """Names of the facts that are set (true, or a value)."""
        return [k for k, v in self.__dict__.items() if v is not None and v is not False]


#: Which facts each kind may carry; anything else is an input error.
FACTS_BY_KIND: dict[Kind, frozenset[str]] = {
    Kind.member: frozenset({
        "civil_servant_level", "disciplined", "self_remedied", "committee_member", "degeneration",
        "targets_below_half", "sick_leave_months", "maternity_leave", "criteria",
    }),
    Kind.leader: frozenset({
        "civil_servant_level", "disciplined", "self_remedied", "degeneration", "targets_below_half",
        "sick_leave_months", "transferred_in_exempt", "maternity_leave", "criteria",
    }),
    Kind.party_org: frozenset({
        "targets_below_half", "criteria", "committee_member_disciplined",
        "subordinate_committee_disciplined", "standing_committee_disciplined", "self_remedied",
    }),
    Kind.collective: frozenset({
        "disciplined", "disunity", "degeneration", "targets_below_half", "criteria", "self_remedied",
    }),
    Kind.unit: frozenset({"targets_below_half"}),
}


class Subject(Strict):
    """One rated (or listed) subject: organization, member, collective, leader or unit."""

    id: str = Field(min_length=1, max_length=200)
    name: str = Field(min_length=1, max_length=500)
    kind: Kind
    parent: str | None = None
    tier: Tier | None = None
    leads: str | None = None
    heads: str | None = None
    category: str | None = None
    same_level_units: tuple[str, ...] = ()
    votes: Votes | None = None
    voters: int | None = Field(None, ge=1, le=1_000_000)
    proposed: LevelField | None = None
    target: LevelField | None = None
    level: LevelField | None = None
    lock: LevelField | None = None
    rated: bool = True
    may_rise: bool = False
    facts: Facts = Facts()

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
        """True when the solver decides this subject's level (rated, and not a unit)."""
        return self.rated and self.kind is not Kind.unit

    def voted(self) -> Level | None:
        """The V1 voted level, or None without votes (raises NoMajority on a tally without majority)."""
        if self.votes is None:
            return None
        v = self.votes
        return voted_from_counts(v.XS, v.T, v.TB, v.K, self.voters)

    def target_level(self) -> Level | None:
        """The target: ``target`` if given, else the voted level (V1), else ``proposed``."""
        if self.target is not None:
            return self.target
        if self.votes is not None:
            return self.voted()
        return self.proposed

    def target_source(self) -> str:
        if self.target is not None:
            return "target"
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

    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    members: tuple[str, ...]


class ExpectObjective(Strict):
    changed: int = Field(ge=0)
    steps: int = Field(ge=0)


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


class Case(Strict):
    """A rating round: subjects, explicit quota groups, the rule profile and option overrides."""

    name: str = Field(min_length=1)
    profile: str | None = None
    options: OptionOverrides = OptionOverrides()
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
    "Case", "Criteria", "Expect", "Facts", "FACTS_BY_KIND", "Group", "Kind", "NoMajority", "Strict",
    "Subject", "Tier", "Votes", "nfc_deep",
]
