"""The rule catalogue as data: sources, rules with their citations, parameters and profiles.

The law lives in ``model/data/rules.toml``: the texts a rule may cite (``Source``), one ``Rule`` per rule ID
with verbatim quotes from those texts, the parameters of the rules (``ParamSpec``: the numbers and readings
of the text, with the literal reading as default) and the profiles (``Profile``: a dated choice of sources,
rules in force and parameter values). This module loads it strictly into frozen models and resolves what a
case runs with (``RuleOptions``): the default parameters, then the profile's values, then the case's own
``OptionOverrides``; the rules in force are the profile's, switched on or off by the case's ``rules`` map.
Code refers to rules by ID and reads citations from here; it never retypes them.
"""

from __future__ import annotations

import functools
import re
import tomllib
import unicodedata
from datetime import date
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

import annotated_types
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from model.errors import pydantic_message

DEFAULT_PROFILE = "bmt-bd-2020"

Family = Literal["ballot", "quota", "structural", "individual", "order", "person"]
Kind = Literal["party_org", "member", "collective", "leader"]
ParamType = Literal["int", "bool", "enum"]
CapBase = Literal["good_only", "good_and_above"]
SeveralPosts = Literal["report", "follow_main"]
OrgXsReading = Literal["all_good", "hd21"]
RatingOrder = Literal["seed", "qd366"]

KINDS: tuple[str, ...] = get_args(Kind)
FAMILIES: tuple[str, ...] = get_args(Family)


class CatalogueError(ValueError):
    """The catalogue file is malformed; the message names the file, the entry and the field."""


class UnknownProfile(ValueError):
    """A profile ID that the catalogue does not define."""


def _require_nfc(text: str) -> str:
    if not unicodedata.is_normalized("NFC", text):
        raise ValueError("văn bản phải ở dạng Unicode NFC")
    return text


Text = Annotated[str, Field(min_length=1), AfterValidator(_require_nfc)]
RuleId = Annotated[str, Field(pattern=r"^[A-Z]\d+[a-z]?$")]
SourceId = Annotated[str, Field(pattern=r"^[A-ZĐ][A-ZĐ0-9]*$")]
ProfileId = Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
ParamName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------------------------------------
# Parameters: the numbers and readings of the text, with the literal reading as default.
# ---------------------------------------------------------------------------------------------

CapPercent = Annotated[int, Field(ge=1, le=100)]
Percent = Annotated[int, Field(ge=0, le=100)]
#: C2's threshold and allowance: the text says "dưới 05 … chọn 01"; 100 leaves room for any other reading a
#: committee may adopt, and keeps a value like 10^30 (which silently switched the cap off and overflowed the
#: solver's 64-bit integers) out.
SmallCount = Annotated[int, Field(ge=0, le=100)]
UnitsCount = Annotated[int, Field(ge=1, le=100)]
Months = Annotated[int, Field(ge=1, le=12)]
Score = Annotated[int, Field(ge=1, le=100)]


class Params(BaseModel):
    """The value of every rule parameter (defaults = the literal text); the [[param]] entries describe them."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    #: C1: XS may be at most this percentage of the base.
    cap_percent: CapPercent = 20
    #: C1: the base is the number rated T ("good_only", the text) or rated T or XS ("good_and_above").
    cap_base: CapBase = "good_only"
    #: C2: a group whose base is below this count ("dưới 05") gets the small-group allowance.
    small_group_threshold: SmallCount = 5
    #: C2: how many XS such a group may have ("chọn 01"); 0 turns C2 off.
    small_group_allowance: SmallCount = 1
    #: RULES.md §6: whether a level may be raised above its target (default: only down).
    allow_up: bool = False
    #: E7b: the literal reading (a disciplined member or committee makes the organization K); False turns E7b off.
    org_member_discipline: bool = True
    #: S3: more than this percentage of members (of subordinate committees) K makes the organization K.
    org_k_percent: Percent = 20
    #: S3: this many Fatherland Front / mass organizations K at the same level make the organization K.
    units_k_at_least: UnitsCount = 2
    #: E5: this many months of sick leave or more cap a member at HT.
    sick_leave_months: Months = 3
    #: S2: the head is also bounded by his collective (BMT II.B.4), not only by the unit (BĐ 5.11).
    head_below_collective: bool = True
    #: S2: a head who transferred in, unrelated to the unit's rating, is exempt (BĐ 5.11).
    transfer_exemption: bool = False
    #: P1: one person's records that end at different levels are reported, or follow the main post.
    several_posts: SeveralPosts = "report"
    #: Q1 (QĐ 366 Điều 11): the score from which the target is XS, T, HT.
    score_xs: Score = 90
    score_t: Score = 70
    score_ht: Score = 50
    #: Q2: at least this % of tasks exceeded for XS; at most this % late for HT; above this % not done: K
    #: (non-leaders); below this % done where one leads: K (leaders, collectives).
    xs_exceeded_percent: Percent = 30
    ht_late_percent: Percent = 20
    k_not_done_percent: Percent = 50
    k_leader_done_percent: Percent = 70
    #: Q4: more than this % of the places a leader is in charge of rated K: K.
    leader_units_k_percent: Percent = 50
    #: C3: the most a 25% decision may set (QĐ 366 Điều 11 khoản 1).
    exception_max_percent: CapPercent = 25
    #: S3: XS needs every member (sub-organization) at T or above ("all_good", 2018), or all at HT or above
    #: and ``xs_good_share`` % at T or above ("hd21", HD 21-HD/BTCTW of 2019).
    org_xs_reading: OrgXsReading = "all_good"
    xs_good_share: Percent = 80
    #: S5: the order of the meetings (the seed guides', or QĐ 366 Điều 12 khoản 2).
    rating_order: RatingOrder = "seed"


class RuleOptions(Params):
    """What a solve runs with: the parameter values, the rules in force and the sources they may cite."""

    #: The profile these options were resolved from.
    profile: str = DEFAULT_PROFILE
    #: The IDs of the rules in force, in catalogue order.
    rules: tuple[str, ...] = Field(default_factory=lambda: load_catalogue().default_profile.rules)
    #: The sources a case under this profile cites, in the profile's order.
    sources: tuple[str, ...] = Field(default_factory=lambda: load_catalogue().default_profile.sources)

    def on(self, rule_id: str) -> bool:
        """Whether the rule is in force for this case."""
        return rule_id in self.rules

    @property
    def params(self) -> Params:
        return Params.model_validate({k: getattr(self, k) for k in Params.model_fields})


def _optional(annotation: Any) -> Any:
    return annotation | None


class OptionOverrides(BaseModel):
    """Parameter values a case (or a what-if) sets explicitly; ``None`` leaves the profile's value in place."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    cap_percent: CapPercent | None = None
    cap_base: CapBase | None = None
    small_group_threshold: SmallCount | None = None
    small_group_allowance: SmallCount | None = None
    allow_up: bool | None = None
    org_member_discipline: bool | None = None
    org_k_percent: Percent | None = None
    units_k_at_least: UnitsCount | None = None
    sick_leave_months: Months | None = None
    head_below_collective: bool | None = None
    transfer_exemption: bool | None = None
    several_posts: SeveralPosts | None = None
    score_xs: Score | None = None
    score_t: Score | None = None
    score_ht: Score | None = None
    xs_exceeded_percent: Percent | None = None
    ht_late_percent: Percent | None = None
    k_not_done_percent: Percent | None = None
    k_leader_done_percent: Percent | None = None
    leader_units_k_percent: Percent | None = None
    exception_max_percent: CapPercent | None = None
    org_xs_reading: OrgXsReading | None = None
    xs_good_share: Percent | None = None
    rating_order: RatingOrder | None = None

    def given(self) -> dict[str, Any]:
        """Only the values set here, as a plain dict."""
        return self.model_dump(exclude_none=True)


# ---------------------------------------------------------------------------------------------
# Catalogue entries
# ---------------------------------------------------------------------------------------------


class Source(_Frozen):
    """A text rules may cite: what it is, who issued it when, how its sections are numbered, where it is."""

    id: SourceId
    label: Text
    document: Text
    short: Text
    number: str = ""
    date: date
    issuer: Text
    implements: str = ""
    section_pattern: Text
    section_words: Text
    text_file: str = ""
    note: str = ""

    @field_validator("section_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"biểu thức số mục không hợp lệ: {exc}") from None
        return value

    @model_validator(mode="after")
    def _words_name_the_section(self) -> Source:
        if "{section}" not in self.section_words:
            raise ValueError("section_words phải chứa {section}")
        return self

    def section_text(self, section: str) -> str:
        """How a section of this text is read in a sentence, e.g. "điểm 5.13" or "Điều 11 khoản 1"."""
        return self.section_words.format(section=section)


class Citation(_Frozen):
    """One place in a source that a rule rests on, the kinds of subject it speaks of, and a short quote."""

    source: SourceId
    section: Text
    quote: Text
    kinds: tuple[Kind, ...] = ()
    #: The levels whose conditions the passage sets (``XS``, ``T``, ``HT``, ``K``), where a rule cites one clause
    #: per level (QĐ 366 Điều 11 khoản 1–4): a reason cites the clause of the level whose condition failed.
    levels: tuple[Literal["XS", "T", "HT", "K"], ...] = ()

    @property
    def label(self) -> str:
        """The citation as a compact label, e.g. "BMT II.B.2.3a" (source label and section)."""
        return f"{_source_label(self.source)} {self.section}"


def _source_label(source_id: str) -> str:
    try:
        return load_catalogue().source(source_id).label
    except (KeyError, CatalogueError, RecursionError):
        return source_id


class Rule(_Frozen):
    """One rule: ID, Vietnamese title and summary, the kinds it binds, the parameters it reads, its citations."""

    id: RuleId
    title: Text
    family: Family
    binds: tuple[Kind, ...]
    summary: Text
    #: The summary as a later text words the rule, by source id (``summary_in``): the seed summary of S5
    #: lists the 2018 order, which QĐ 366 Điều 12 khoản 2 does not.
    summaries: dict[str, Text] = {}
    params: tuple[ParamName, ...] = ()
    effective_from: date
    citations: tuple[Citation, ...]

    def summary_in(self, sources: tuple[str, ...] | None = None) -> str:
        """The summary for a case of these sources: a source's own wording when the rule has one (the first
        of ``sources`` that has), else ``summary``."""
        for src in sources or ():
            if src in self.summaries:
                return self.summaries[src]
        return self.summary

    @field_validator("binds", "params")
    @classmethod
    def _no_repeats(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError(f"giá trị bị lặp: {list(value)}")
        return value

    @field_validator("binds", "citations")
    @classmethod
    def _not_empty(cls, value: tuple[Any, ...]) -> tuple[Any, ...]:
        if not value:
            raise ValueError("cần ít nhất một phần tử")
        return value

    def citations_in(self, sources: tuple[str, ...] | None = None, kind: str | None = None,
                     level: str | None = None) -> list[Citation]:
        """The citations from these sources (all when None); with ``kind``, those that speak of that kind when
        the rule has any (a citation without ``kinds`` speaks of every kind the rule binds); with ``level`` (a
        level code), those that set that level's conditions when the rule has any."""
        chosen = [c for c in self.citations if sources is None or c.source in sources]
        if kind is not None:
            own = [c for c in chosen if not c.kinds or kind in c.kinds]
            if own:
                chosen = own
        if level is not None:
            own = [c for c in chosen if level in c.levels]
            if own:
                chosen = own
        return chosen

    def cite_in(self, sources: tuple[str, ...] | None = None, kind: str | None = None,
                level: str | None = None) -> str:
        """The citation labels from these sources (for ``kind``, for ``level``), in file order without repeats,
        joined by "; "."""
        return "; ".join(dict.fromkeys(c.label for c in self.citations_in(sources, kind, level)))

    @property
    def cite(self) -> str:
        """Every citation label of the rule, in file order without repeats."""
        return self.cite_in()



class ParamSpec(_Frozen):
    """How a rule parameter is presented and bounded: type, default, choices with labels, bounds, texts, rules."""

    name: ParamName
    type: ParamType
    default: StrictBool | StrictInt | StrictStr
    choices: tuple[str, ...] = ()
    labels: tuple[Annotated[Text, Field(pattern=r"^[^,]*$")], ...] = ()
    minimum: StrictInt | None = None
    maximum: StrictInt | None = None
    title: Text
    help: Text
    rules: tuple[RuleId, ...] = ()

    @model_validator(mode="after")
    def _default_fits_type(self) -> ParamSpec:
        kind = {"int": int, "bool": bool, "enum": str}[self.type]
        if type(self.default) is not kind:
            raise ValueError(f"giá trị mặc định {self.default!r} không thuộc kiểu {self.type}")
        if self.type == "enum":
            if not self.choices or self.default not in self.choices:
                raise ValueError(f"tham số enum cần choices chứa giá trị mặc định {self.default!r}")
            if len(self.labels) != len(self.choices):
                raise ValueError("tham số enum cần đúng một nhãn tiếng Việt (labels) cho mỗi giá trị của choices")
        elif self.choices or self.labels:
            raise ValueError(f"chỉ tham số enum mới có choices và labels (đây là {self.type})")
        if self.type != "int" and (self.minimum is not None or self.maximum is not None):
            raise ValueError("chỉ tham số int mới có minimum/maximum")
        if self.minimum is not None and self.default < self.minimum:
            raise ValueError(f"giá trị mặc định {self.default} nhỏ hơn minimum {self.minimum}")
        if self.maximum is not None and self.default > self.maximum:
            raise ValueError(f"giá trị mặc định {self.default} lớn hơn maximum {self.maximum}")
        return self

    def label_of(self, value: Any) -> str:
        """A value in words, for a committee: the enum label, "có"/"không", or the number."""
        if self.type == "enum":
            return self.labels[self.choices.index(value)] if value in self.choices else str(value)
        if self.type == "bool":
            return "có" if value else "không"
        return str(value)


class Profile(_Frozen):
    """A named, dated choice of sources, rules in force and parameter values (``effective_to`` inclusive)."""

    id: ProfileId
    #: A short name for lists (no comma: Excel's dropdown lists are comma-separated).
    short: Annotated[Text, Field(max_length=60, pattern=r"^[^,]*$")]
    title: Text
    description: Text
    sources: tuple[SourceId, ...]
    rules: tuple[RuleId, ...]
    #: Rules this profile keeps although none of its sources states them, each with the reason in words.
    unsourced: dict[RuleId, Text] = Field(default_factory=dict)
    effective_from: date
    effective_to: date | None = None
    default: StrictBool = False
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("params")
    @classmethod
    def _params_are_overrides(cls, value: dict[str, Any]) -> dict[str, Any]:
        return OptionOverrides.model_validate(value).given()

    @field_validator("sources", "rules")
    @classmethod
    def _unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("cần ít nhất một phần tử")
        if len(set(value)) != len(value):
            raise ValueError(f"giá trị bị lặp: {list(value)}")
        return value

    @model_validator(mode="after")
    def _dates_in_order(self) -> Profile:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError(f"effective_to {self.effective_to} trước effective_from {self.effective_from}")
        return self

    @property
    def overrides(self) -> OptionOverrides:
        return OptionOverrides.model_validate(self.params)

    @property
    def rule_options(self) -> RuleOptions:
        """The parameter defaults with this profile's values, its rules and its sources."""
        return RuleOptions.model_validate({**self.params, "profile": self.id, "rules": self.rules,
                                           "sources": self.sources})

    def in_force(self, day: date) -> bool:
        """Whether ``day`` falls in the profile's period."""
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)


class Catalogue(_Frozen):
    """Every source, rule (in RULES.md order), parameter and profile, checked for consistency with each other."""

    sources: tuple[Source, ...]
    rules: tuple[Rule, ...]
    params: tuple[ParamSpec, ...]
    profiles: tuple[Profile, ...]

    @model_validator(mode="after")
    def _consistent(self) -> Catalogue:
        problems: list[str] = [] if self.rules else ["danh mục không có quy tắc nào"]
        for what, ids in (
            ("mã nguồn", [s.id for s in self.sources]),
            ("mã quy tắc", [r.id for r in self.rules]),
            ("tên tham số", [o.name for o in self.params]),
            ("mã bộ quy định", [p.id for p in self.profiles]),
        ):
            repeated = sorted({i for i in ids if ids.count(i) > 1})
            if repeated:
                problems.append(f"{what} bị lặp: {', '.join(repeated)}")
        sources = {s.id: s for s in self.sources}
        rules = {r.id: r for r in self.rules}
        params = {o.name: o for o in self.params}
        for rule in self.rules:
            for c in rule.citations:
                src = sources.get(c.source)
                if src is None:
                    problems.append(f"quy tắc {rule.id} trích nguồn không khai báo {c.source!r}")
                elif not re.match(src.section_pattern, c.section):
                    problems.append(f"quy tắc {rule.id}: số mục {c.section!r} không đúng cách đánh số của nguồn "
                                    f"{c.source}")
                for k in c.kinds:
                    if k not in rule.binds:
                        problems.append(f"quy tắc {rule.id}: trích dẫn {c.source} {c.section} nói về {k} mà quy "
                                        "tắc không áp dụng cho loại đối tượng này")
            for name in rule.params:
                if name not in params:
                    problems.append(f"quy tắc {rule.id} đọc tham số không tồn tại {name!r}")
                elif rule.id not in params[name].rules:
                    problems.append(f"quy tắc {rule.id} đọc tham số {name!r} mà tham số không ghi quy tắc này")
        for spec in self.params:
            for rid in spec.rules:
                if rid not in rules:
                    problems.append(f"tham số {spec.name!r} ghi quy tắc không tồn tại {rid}")
                elif spec.name not in rules[rid].params:
                    problems.append(f"tham số {spec.name!r} ghi quy tắc {rid} mà quy tắc không đọc nó")
        problems.extend(_mismatches_with_params(self.params))
        order = {r.id: i for i, r in enumerate(self.rules)}
        for p in self.profiles:
            for sid in p.sources:
                if sid not in sources:
                    problems.append(f"bộ quy định {p.id} dùng nguồn không khai báo {sid!r}")
            for rid in p.rules:
                if rid not in rules:
                    problems.append(f"bộ quy định {p.id} ghi quy tắc không tồn tại {rid}")
                elif not rules[rid].citations_in(p.sources) and rid not in p.unsourced:
                    problems.append(f"bộ quy định {p.id}: quy tắc {rid} không có trích dẫn nào từ nguồn của bộ "
                                    f"({', '.join(p.sources)}) và không ghi lý do trong unsourced")
            if [r for r in p.rules if r in order] != sorted((r for r in p.rules if r in order), key=order.get):
                problems.append(f"bộ quy định {p.id}: các quy tắc phải theo thứ tự của danh mục")
            for rid in p.unsourced:  # a rule listed here but not in ``rules`` is available, off by default
                if rid not in rules:
                    problems.append(f"bộ quy định {p.id}: unsourced ghi quy tắc không tồn tại {rid}")
                elif rules[rid].citations_in(p.sources):
                    problems.append(f"bộ quy định {p.id}: quy tắc {rid} đã có trích dẫn từ nguồn của bộ, "
                                    "không cần ghi trong unsourced")
        defaults = [p.id for p in self.profiles if p.default]
        if defaults != [DEFAULT_PROFILE]:
            problems.append(f"phải có đúng một bộ quy định mặc định, là {DEFAULT_PROFILE!r}; tệp có {defaults}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.rules)

    @property
    def profile_ids(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.profiles)

    @property
    def default_profile(self) -> Profile:
        return next(p for p in self.profiles if p.default)

    def source(self, source_id: str) -> Source:
        for s in self.sources:
            if s.id == source_id:
                return s
        known = ", ".join(s.id for s in self.sources)
        raise KeyError(f"Không có nguồn {source_id!r} trong danh mục; các nguồn hiện có: {known}")

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        known = ", ".join(self.rule_ids)
        raise KeyError(f"Không có quy tắc {rule_id!r} trong danh mục; các mã hiện có: {known}")

    def param(self, name: str) -> ParamSpec:
        for o in self.params:
            if o.name == name:
                return o
        known = ", ".join(o.name for o in self.params)
        raise KeyError(f"Không có tham số {name!r} trong danh mục; các tham số hiện có: {known}")

    def profile(self, profile_id: str) -> Profile:
        for p in self.profiles:
            if p.id == profile_id:
                return p
        known = ", ".join(self.profile_ids)
        raise UnknownProfile(f"Không có bộ quy định {profile_id!r}; các bộ quy định hiện có: {known}")




def _bounds(metadata: list[Any]) -> tuple[int | None, int | None]:
    low = next((m.ge for m in metadata if isinstance(m, annotated_types.Ge)), None)
    high = next((m.le for m in metadata if isinstance(m, annotated_types.Le)), None)
    return low, high


def _mismatches_with_params(specs: tuple[ParamSpec, ...]) -> list[str]:
    """Where the file's parameter list differs from the fields of Params (names, types, defaults, bounds)."""
    fields = Params.model_fields
    problems = []
    missing = [n for n in fields if n not in {s.name for s in specs}]
    extra = [s.name for s in specs if s.name not in fields]
    if missing:
        problems.append(f"thiếu tham số của Params: {', '.join(missing)}")
    if extra:
        problems.append(f"tham số không có trong Params: {', '.join(extra)}")
    for spec in specs:
        field = fields.get(spec.name)
        if field is None:
            continue
        annotation = field.annotation
        if get_origin(annotation) is Literal:
            kind, choices = "enum", get_args(annotation)
        else:
            kind, choices = {bool: "bool", int: "int"}[annotation], ()
        if spec.type != kind:
            problems.append(f"tham số {spec.name!r}: kiểu {spec.type} khác Params ({kind})")
        if spec.default != field.default or type(spec.default) is not type(field.default):
            problems.append(f"tham số {spec.name!r}: mặc định {spec.default!r} khác Params {field.default!r}")
        if tuple(spec.choices) != tuple(choices):
            problems.append(f"tham số {spec.name!r}: choices {list(spec.choices)} khác Params {list(choices)}")
        low, high = _bounds(field.metadata)
        if (spec.minimum, spec.maximum) != (low, high):
            problems.append(
                f"tham số {spec.name!r}: giới hạn [{spec.minimum}, {spec.maximum}] khác Params [{low}, {high}]"
            )
    return problems


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------

#: File layout (TOML array-of-tables names) → model field names.
_TOP_LEVEL = {"source": "sources", "rule": "rules", "param": "params", "profile": "profiles"}
_RULE_KEYS = {"citation": "citations"}


def _renamed(table: Any, mapping: dict[str, str], where: str) -> Any:
    if not isinstance(table, dict):
        return table
    out = {}
    for key, value in table.items():
        if key in mapping.values():
            written = _invert(mapping)[key]
            raise CatalogueError(f"{where}: khóa không hợp lệ {key!r} (trong tệp viết {written!r})")
        out[mapping.get(key, key)] = value
    return out


def _invert(mapping: dict[str, str]) -> dict[str, str]:
    return {v: k for k, v in mapping.items()}


def _to_model_layout(data: dict[str, Any], name: str) -> dict[str, Any]:
    """Map the file's singular table names to the model's plural fields; "" effective_to means open."""
    data = _renamed(data, _TOP_LEVEL, name)
    rules = data.get("rules")
    if isinstance(rules, list):
        data["rules"] = [_renamed(r, _RULE_KEYS, f"{name}: rule[{i}]") for i, r in enumerate(rules)]
    profiles = data.get("profiles")
    if isinstance(profiles, list):
        data["profiles"] = [
            {**p, "effective_to": None} if isinstance(p, dict) and p.get("effective_to") == "" else p
            for p in profiles
        ]
    return data


def _where(loc: tuple[Any, ...], data: dict[str, Any]) -> str:
    """A pydantic error location in the file's own words, e.g. "rule[3] (S2) › citation[0] › quote"."""
    parts: list[str] = []
    file_names = _invert(_TOP_LEVEL)
    for depth, item in enumerate(loc):
        if isinstance(item, int):
            label = f"[{item}]"
            if depth == 1 and loc[0] in _TOP_LEVEL.values():
                entries = data.get(loc[0]) or []
                entry = entries[item] if item < len(entries) and isinstance(entries[item], dict) else {}
                ident = entry.get("id") or entry.get("name")
                if ident:
                    label += f" ({ident})"
            if parts:
                parts[-1] += label
            else:
                parts.append(label)
            continue
        text = str(item)
        if depth == 0:
            text = file_names.get(text, text)
        elif depth == 2 and loc[0] == "rules":
            text = _invert(_RULE_KEYS).get(text, text)
        parts.append(text)
    return " › ".join(parts)


def parse_catalogue(text: str, name: str = "rules.toml") -> Catalogue:
    """Parse catalogue TOML text strictly; every error names ``name``, the entry and the field."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not unicodedata.is_normalized("NFC", line):
            raise CatalogueError(f"{name}, dòng {number}: văn bản chưa ở dạng Unicode NFC")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{name}: TOML không hợp lệ: {exc}") from None
    data = _to_model_layout(raw, name)
    try:
        return Catalogue.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = _where(tuple(err["loc"]), data)
            message = pydantic_message(err)
            lines.append(f"{where}: {message}" if where else message)
        raise CatalogueError(f"{name}: danh mục quy tắc không hợp lệ:\n  " + "\n  ".join(lines)) from None


def read_catalogue(source: Traversable | Path | str) -> Catalogue:
    """Read and parse a catalogue file (uncached; :func:`load_catalogue` reads the shipped one)."""
    path = Path(source) if isinstance(source, str) else source
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogueError(f"{path}: không đọc được tệp danh mục: {exc}") from None
    return parse_catalogue(text, str(path))


@functools.cache
def load_catalogue() -> Catalogue:
    """The shipped catalogue, ``model/data/rules.toml``, read once."""
    return read_catalogue(files("model") / "data" / "rules.toml")


def resolve_options(
    profile_id: str | None,
    overrides: OptionOverrides | dict[str, Any] | None = None,
    switches: dict[str, bool] | None = None,
    year: int | None = None,
) -> RuleOptions:
    """What a solve runs with: the profile (None = the default profile), its parameter values with
    ``overrides`` on top, and its rules with ``switches`` (rule ID → on/off) applied, in catalogue order.

    A rule the case switches on although the profile's sources do not state it brings its own source, so
    it is cited where it comes from. With ``year`` (the rating year), a rule that took effect after the
    end of that year is not in force.
    """
    catalogue = load_catalogue()
    profile = catalogue.default_profile if profile_id is None else catalogue.profile(profile_id)
    if overrides is None:
        given: dict[str, Any] = {}
    elif isinstance(overrides, OptionOverrides):
        given = overrides.given()
    else:
        given = OptionOverrides.model_validate(overrides).given()
    rules = set(profile.rules)
    for rid, on in (switches or {}).items():
        catalogue.rule(rid)  # an unknown rule is a KeyError naming the known ones
        (rules.add if on else rules.discard)(rid)
    if year is not None:
        rules = {r for r in rules if catalogue.rule(r).effective_from <= date(year, 12, 31)}
    ordered = tuple(r for r in catalogue.rule_ids if r in rules)
    sources = list(profile.sources)
    for rid in ordered:
        rule = catalogue.rule(rid)
        if not rule.citations_in(tuple(sources)) and rid not in profile.unsourced:
            sources.append(rule.citations[0].source)
    return RuleOptions.model_validate({**profile.params, **given, "profile": profile.id, "rules": ordered,
                                       "sources": tuple(sources)})


__all__ = [
    "DEFAULT_PROFILE", "FAMILIES", "KINDS", "Catalogue", "CatalogueError", "Citation", "OptionOverrides",
    "ParamSpec", "Params", "Profile", "Rule", "RuleOptions", "Source", "UnknownProfile", "load_catalogue",
    "parse_catalogue", "read_catalogue", "resolve_options",
]
