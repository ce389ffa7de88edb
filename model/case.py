"""The case format: one rating round as pydantic models (the JSON interchange contract)."""

from __future__ import annotations

import abc
import dataclasses
import itertools
import operator
import re
import typing
import unicodedata
from enum import Enum
from functools import lru_cache
from fractions import Fraction
from typing import Annotated, Any

import msgspec
from msgspec import Meta
from pydantic import (BaseModel, ConfigDict, Field, GetCoreSchemaHandler, StrictBool, StrictFloat, StrictInt,
                      ValidationInfo, field_validator, model_validator)
from pydantic import AfterValidator, TypeAdapter
from pydantic.dataclasses import dataclass as pydantic_dataclass
from pydantic_core import core_schema

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


#: The per-subject types (``Subject`` and what it holds) are msgspec Structs (``CaseRecord``), frozen, without a
#: ``__dict__`` and not tracked by the garbage collector. A JSON case of a province is decoded by msgspec straight
#: into them (``model.loader``): at 300,000 members parsing and typing the subjects takes 0.4 s instead of 2.6 s
#: through pydantic, and they take less memory than pydantic dataclasses (``benchmarks/bench_scale.py``).
#:
#: Each field is declared once, with its constraints for both libraries side by side in one ``Annotated``
#: (msgspec reads its ``Meta`` and ignores pydantic's metadata; pydantic the reverse). What pydantic checks and
#: msgspec cannot (the character classes of ids and names, the Python validators) is checked on msgspec's path
#: by ``model.loader`` and ``records_pass_checks``; anything doubtful there sends the file to pydantic's path.
#: pydantic validates any other data (workbooks, what-ifs, ``validate_as``) through a pydantic dataclass built
#: from the same fields (``_twin``), which gives the Vietnamese error messages with their locations, and is
#: turned into the record. ``tests/test_fast_input.py`` holds the two paths to the same answers.


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


_LEVEL_CODES = {lv.code: lv for lv in Level}


def _level(value: Any) -> Any:
    if type(value) is str and value in _LEVEL_CODES:  # the common case, without parse_level's folding
        return _LEVEL_CODES[value]
    if value is None or isinstance(value, Level):
        return value
    return parse_level(value)


class LevelValue(abc.ABC):
    """The type of a level field: read from its code (``"XS"``), held as a ``Level``, written back as its code
    in JSON dumps. ``Level`` is registered as a virtual subclass, so msgspec accepts the ``Level`` that
    ``level_from_code`` (its decoding hook) returns; pydantic reads it through ``_level``."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_before_validator_function(
            _level, handler.generate_schema(Level),
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda v: v.name, return_schema=core_schema.str_schema(), when_used="json"))


LevelValue.register(Level)


def level_from_code(tp: type, value: Any) -> Any:
    """msgspec's decoding hook: a level field's code as its ``Level`` (only the plain code: anything else is
    left to pydantic's path, which also reads spaces around it)."""
    if tp is LevelValue and type(value) is str and value in _LEVEL_CODES:
        return _LEVEL_CODES[value]
    raise ValueError("not a level code")  # msgspec reports it as a validation error


#: A subject, group or category id, or a reference to one: printable, no hidden character (model.errors).
Id = Annotated[str, Meta(min_length=1, max_length=200), Field(min_length=1, max_length=200, pattern=ID_PATTERN)]
#: A reference (or a category): as an id, without the length floor (an empty one is caught by its rule).
Ref = Annotated[str, Meta(max_length=200), Field(max_length=200, pattern=ID_PATTERN)]
#: A name shown to people: no line break, control, zero-width or bidirectional-override character.
Name = Annotated[str, Meta(min_length=1, max_length=500), Field(min_length=1, max_length=500, pattern=NAME_PATTERN)]
#: A count of ballots: a JSON integer (not "15", not true, not 15.0).
Count = Annotated[StrictInt, Meta(ge=0, le=1_000_000), Field(ge=0, le=1_000_000)]
#: A count that is at least one (voters, tasks assigned).
Positive = Annotated[StrictInt, Meta(ge=1, le=1_000_000), Field(ge=1, le=1_000_000)]


def _choice(words: dict[str, str]) -> Any:
    """A string that must be one of the keys of ``words`` (the same pattern for both libraries)."""
    pattern = "^(" + "|".join(words) + ")$"
    return Annotated[str, Meta(pattern=pattern), Field(pattern=pattern)]


class CaseRecord(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True, gc=False):
    """Base of the per-subject types: see above. pydantic validates data as a record through its twin. The
    constructor does not validate (a Struct's never does): data from outside is read with ``validate_as``."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        twin = _twin(cls)
        names = cls.__struct_fields__

        def validate(value: Any, checked: Any) -> Any:
            if type(value) is cls:
                return value
            return cls(**vars(checked(value)))

        def serialize(value: Any, info: Any) -> Any:
            data = object.__new__(twin)
            data.__dict__.update(zip(names, msgspec.structs.astuple(value)))
            return _adapter(twin).dump_python(data, mode=info.mode, include=info.include, exclude=info.exclude,
                                              exclude_defaults=info.exclude_defaults,
                                              exclude_none=info.exclude_none, round_trip=info.round_trip)

        return core_schema.no_info_wrap_validator_function(
            validate, handler.generate_schema(twin),
            serialization=core_schema.plain_serializer_function_ser_schema(serialize, info_arg=True))


#: The pydantic validators of each record type, by name: the checks that are more than a field's type.
_TWIN_VALIDATORS: dict[str, dict[str, Any]] = {}


@lru_cache(maxsize=None)
def _twin(cls: type) -> type:
    """The pydantic dataclass with the fields of the record type ``cls`` (same names, order, types, defaults)
    and its validators: what validates data with pydantic's error messages before the record is built."""
    hints = typing.get_type_hints(cls, include_extras=True)
    fields = [(f.name, hints[f.name]) if f.required else (f.name, hints[f.name], dataclasses.field(default=f.default))
              for f in msgspec.structs.fields(cls)]
    plain = dataclasses.make_dataclass(cls.__name__, fields, namespace=dict(_TWIN_VALIDATORS.get(cls.__name__, {})))
    plain.__module__ = __name__
    return pydantic_dataclass(plain, config=ConfigDict(extra="forbid"))


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


class Votes(CaseRecord):
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


#: A ballot grade of a criterion: msgspec checks the pattern, pydantic's twin the validator (its message says
#: which grades are allowed).
Grade = Annotated[str, Meta(pattern="^(" + "|".join(GRADE_KEYS) + ")$")]


class Criteria(CaseRecord):
    """E6 self-grades per criterion (ballot grades XS/T/TB/K): task criteria and the rest."""

    task: tuple[Grade, ...] = ()
    other: tuple[Grade, ...] = ()


def _grades(cls: type, v: tuple[str, ...]) -> tuple[str, ...]:
    for g in v:
        if g not in GRADE_KEYS:
            raise ValueError(f"cấp độ tiêu chí không hợp lệ: {g!r} (dùng XS, T, TB hoặc K)")
    return v


_TWIN_VALIDATORS["Criteria"] = {"_grades": field_validator("task", "other")(classmethod(_grades))}


def _one_decimal(value: float | None) -> float | None:
    if _more_than_one_decimal(value):
        raise ValueError("điểm chỉ ghi đến một chữ số thập phân (ví dụ 87,5)")
    return value


def _more_than_one_decimal(value: float | None) -> bool:
    return value is not None and abs(value * 10 - round(value * 10)) > 1e-9


#: A score on the 100-point scale of QĐ 366 Điều 10, with one decimal.
Score = Annotated[StrictFloat, Meta(ge=0, le=100), Field(ge=0, le=100), AfterValidator(_one_decimal)]

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


class Tasks(CaseRecord):
    """Q2 (QĐ 366 Điều 11): the tasks assigned in the year and how they were done (for a leader: the tasks of
    the places he or she directly leads)."""

    assigned: Positive
    done: Count
    on_time: Count
    exceeded: Count = 0

    def problem(self) -> str | None:
        """What makes these counts inconsistent, or None."""
        if self.done > self.assigned:
            return f"số nhiệm vụ hoàn thành ({self.done}) lớn hơn số được giao ({self.assigned})"
        if self.on_time > self.done:
            return f"số hoàn thành đúng hạn ({self.on_time}) lớn hơn số hoàn thành ({self.done})"
        if self.exceeded > self.done:
            return f"số vượt mức yêu cầu ({self.exceeded}) lớn hơn số hoàn thành ({self.done})"
        return None


def _consistent(self: Any) -> Any:
    problem = Tasks.problem(self)
    if problem:
        raise ValueError(problem)
    return self


_TWIN_VALIDATORS["Tasks"] = {"_consistent": model_validator(mode="after")(_consistent)}


class Discipline(CaseRecord):
    """Q5, Q6 (QĐ 366 Điều 11 khoản 4): a discipline in the year, by form and kind of violation; a violation
    self-reported and remedied is left to the competent level (``self_reported``)."""

    form: _choice(DISCIPLINE_FORMS)
    kind: _choice(VIOLATION_KINDS)
    self_reported: StrictBool = False


#: Months of sick leave in the year (a JSON integer is accepted too).
Months = Annotated[StrictFloat, Meta(ge=0, le=12), Field(ge=0, le=12)]


class Facts(CaseRecord):
    """Facts that cap or force a level (RULES.md §4–§5)."""

    civil_servant_level: LevelValue | None = None
    disciplined: StrictBool = False
    self_remedied: StrictBool = False
    committee_member: StrictBool = False
    degeneration: StrictBool = False
    targets_below_half: StrictBool = False
    sick_leave_months: Months | None = None
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

    def set_fields(self) -> list[str]:
        """Names of the facts that are set (true, or a value: level K, 0 months and an empty reference count)."""
        values = _fact_values(self)
        maybe = _falsy_valued(values)
        if 0 in maybe or "" in maybe:  # a set fact with a false-looking value (rare): look at each
            return [k for k, v in zip(FACT_NAMES, values) if v is not None and v is not False]
        # every other fact is set exactly when it is truthy: chosen in C, a third of the time at 300,000 members
        return list(itertools.compress(FACT_NAMES, values))


#: The names of the facts, in their order.
FACT_NAMES: tuple[str, ...] = Facts.__struct_fields__
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


class Subject(CaseRecord):
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
    excluded: _choice(EXCLUSIONS) | None = None
    votes: Votes | None = None
    voters: Positive | None = None
    proposed: LevelValue | None = None
    target: LevelValue | None = None
    level: LevelValue | None = None
    lock: LevelValue | None = None
    #: Why the competent level decided the lock, and who decided (a title or an account, not a name).
    lock_reason: Name | None = None
    lock_author: Name | None = None
    rated: StrictBool = True
    may_rise: StrictBool = False
    facts: Facts = EMPTY_FACTS

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


_get_id = operator.attrgetter("id")
#: An id that starts or ends with a space, in the ids joined by NUL (which no id decoded by msgspec holds).
_SPACE_AT_AN_END = re.compile(r"(?:^|\x00)\s|\s(?:\x00|$)")


def records_pass_checks(subjects: list[Subject]) -> bool:
    """False when a subject breaks what the field types do not say: an id with spaces around it, more ballots
    than voters, a score with two decimals, inconsistent task counts. msgspec's path asks it of the subjects it
    decodes (a False sends the file to pydantic's path); pydantic's twin raises the same through its validators,
    with the message, on the field concerned. The fields are read in C and only the subjects holding a value
    looked at: 0.05 s at 300,000 members, a tenth of a look at each subject."""
    ids = "\x00".join(map(_get_id, subjects))
    if ids.count("\x00") != max(len(subjects) - 1, 0) or _SPACE_AT_AN_END.search(ids):
        return False
    for s in itertools.compress(subjects, map(_get_voters, subjects)):
        if _ballots_problem(s.votes, s.voters):
            return False
    for field in (_get_score, _get_self_score):
        if any(map(_more_than_one_decimal, filter(None, map(field, subjects)))):  # 0 and None pass
            return False
    return not any(t.problem() for t in filter(None, map(_get_tasks, subjects)))


_get_voters = operator.attrgetter("voters")
_get_score = operator.attrgetter("score")
_get_self_score = operator.attrgetter("self_score")
_get_tasks = operator.attrgetter("facts.tasks")


def _id_problem(v: str) -> str | None:
    return "mã không được có khoảng trắng ở đầu hoặc cuối" if v != v.strip() or not v else None


def _ballots_problem(votes: Votes | None, voters: int | None) -> str | None:
    if voters is not None and votes is not None and votes.total > voters:
        return f"tổng số phiếu ({votes.total}) lớn hơn số người tham gia biểu quyết ({voters})"
    return None


def _id(cls: type, v: str) -> str:
    if _id_problem(v):
        raise ValueError(_id_problem(v))
    return v


def _votes_within_voters(cls: type, v: int | None, info: ValidationInfo) -> int | None:
    problem = _ballots_problem(info.data.get("votes"), v)
    if problem:
        raise ValueError(problem)
    return v


_TWIN_VALIDATORS["Subject"] = {"_id": field_validator("id")(classmethod(_id)),
                               "_votes_within_voters": field_validator("voters")(classmethod(_votes_within_voters))}


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
    levels: dict[str, LevelValue] = {}

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
    "EMPTY_FACTS", "FACT_NAMES", "dump", "CaseRecord", "level_from_code", "records_pass_checks", "validate_as", "Case", "Criteria", "DISCIPLINE_FORMS", "Discipline", "EXCLUSIONS", "QuotaException", "SCORE_BANDS", "Tasks",
    "UNIT_CATEGORIES", "VIOLATION_KINDS", "level_of_score", "Expect", "Facts", "FACTS_BY_KIND", "Group", "Kind", "NoMajority", "Strict",
    "Subject", "Tier", "Votes", "nfc_deep",
]
