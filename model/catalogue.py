"""The rule catalogue as data: rule IDs, titles, citations to the seeds, rule options and profiles.

The law's text lives in ``model/data/rules.toml`` (one ``[[rule]]`` per rule ID of RULES.md, with
verbatim quotes from the two seed guides); this module loads it strictly into frozen models and
resolves the rule options a case runs with: defaults of :class:`RuleOptions`, then the chosen
profile's overrides, then the case's own :class:`OptionOverrides`. Code refers to rules by ID and
reads citations from here; it never retypes them.
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

DEFAULT_PROFILE = "bmt-2018"

#: The seed file each citation source refers to (RULES.md: BMT = Buôn Ma Thuột 2018, BĐ = Bù Đăng 2020).
SEEDS: dict[str, str] = {"BMT": "001_e88d142370430d59.txt", "BĐ": "000_bbfa2d98fbdf0405.txt"}

Source = Literal["BMT", "BĐ"]
Family = Literal["ballot", "quota", "structural", "individual", "order"]
Kind = Literal["party_org", "member", "collective", "leader"]
OptionType = Literal["int", "bool", "enum"]
CapBase = Literal["good_only", "good_and_above"]

KINDS: tuple[str, ...] = get_args(Kind)
FAMILIES: tuple[str, ...] = get_args(Family)

#: Section numbering of each source, as RULES.md writes it (BMT II.B.x.y[a-d], BĐ 5.n).
_SECTION_PATTERNS = {"BMT": r"^II\.B\.\d+(\.\d+[a-d]?)?$", "BĐ": r"^5\.\d+$"}


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
ProfileId = Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
OptionName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------------------------------------
# Rule options: the readings the text allows, with the literal reading as default.
# ---------------------------------------------------------------------------------------------

CapPercent = Annotated[int, Field(ge=1, le=100)]
#: C2's threshold and allowance: the text says "dưới 05 … chọn 01"; 100 leaves room for any other reading a
#: committee may adopt, and keeps a value like 10^30 (which silently switched the cap off and overflowed the
#: solver's 64-bit integers) out.
SmallCount = Annotated[int, Field(ge=0, le=100)]


class RuleOptions(BaseModel):
    """The values of every rule option a solve runs with (defaults = the literal text, RULES.md)."""

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
    #: E7b: the literal reading (a disciplined member makes the organization K); False turns E7b off.
    org_member_discipline: bool = True


class OptionOverrides(BaseModel):
    """Option values a profile or a case sets explicitly; ``None`` leaves the value below in place."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    cap_percent: CapPercent | None = None
    cap_base: CapBase | None = None
    small_group_threshold: SmallCount | None = None
    small_group_allowance: SmallCount | None = None
    allow_up: bool | None = None
    org_member_discipline: bool | None = None

    def given(self) -> dict[str, Any]:
        """Only the options set here, as a plain dict."""
        return self.model_dump(exclude_none=True)


# ---------------------------------------------------------------------------------------------
# Catalogue entries
# ---------------------------------------------------------------------------------------------


class Citation(_Frozen):
    """One place in a seed text that a rule rests on, with a short verbatim quote (NFC)."""

    source: Source
    seed: str
    section: str
    quote: Text

    @model_validator(mode="after")
    def _seed_and_section_match_source(self) -> Citation:
        if self.seed != SEEDS[self.source]:
            expected = SEEDS[self.source]
            raise ValueError(f"nguồn {self.source} phải trỏ tới tệp {expected}, không phải {self.seed}")
        if not re.match(_SECTION_PATTERNS[self.source], self.section):
            raise ValueError(f"số mục {self.section!r} không đúng cách đánh số của nguồn {self.source}")
        return self

    @property
    def label(self) -> str:
        """The citation as RULES.md writes it, e.g. "BMT II.B.2.3a"."""
        return f"{self.source} {self.section}"


class Rule(_Frozen):
    """One rule of RULES.md: ID, Vietnamese title and summary, the options it reads, its citations."""

    id: RuleId
    title: Text
    family: Family
    applies_to: tuple[Kind, ...]
    summary: Text
    options: tuple[OptionName, ...] = ()
    effective_from: date
    citations: tuple[Citation, ...]

    @field_validator("applies_to", "options")
    @classmethod
    def _no_repeats(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError(f"giá trị bị lặp: {list(value)}")
        return value

    @field_validator("applies_to", "citations")
    @classmethod
    def _not_empty(cls, value: tuple[Any, ...]) -> tuple[Any, ...]:
        if not value:
            raise ValueError("cần ít nhất một phần tử")
        return value

    @property
    def cite(self) -> str:
        """Every citation label, in file order without repeats, joined by "; "."""
        return "; ".join(dict.fromkeys(c.label for c in self.citations))


class OptionSpec(_Frozen):
    """How a rule option is presented and bounded: type, default, choices, bounds, UI texts, rules."""

    name: OptionName
    type: OptionType
    default: StrictBool | StrictInt | StrictStr
    choices: tuple[str, ...] = ()
    minimum: StrictInt | None = None
    maximum: StrictInt | None = None
    title: Text
    help: Text
    rules: tuple[RuleId, ...] = ()

    @model_validator(mode="after")
    def _default_fits_type(self) -> OptionSpec:
        kind = {"int": int, "bool": bool, "enum": str}[self.type]
        if type(self.default) is not kind:
            raise ValueError(f"giá trị mặc định {self.default!r} không thuộc kiểu {self.type}")
        if self.type == "enum":
            if not self.choices or self.default not in self.choices:
                raise ValueError(f"tùy chọn enum cần choices chứa giá trị mặc định {self.default!r}")
        elif self.choices:
            raise ValueError(f"chỉ tùy chọn enum mới có choices (đây là {self.type})")
        if self.type != "int" and (self.minimum is not None or self.maximum is not None):
            raise ValueError("chỉ tùy chọn int mới có minimum/maximum")
        if self.minimum is not None and self.default < self.minimum:
            raise ValueError(f"giá trị mặc định {self.default} nhỏ hơn minimum {self.minimum}")
        if self.maximum is not None and self.default > self.maximum:
            raise ValueError(f"giá trị mặc định {self.default} lớn hơn maximum {self.maximum}")
        return self


class Profile(_Frozen):
    """A named set of option values with the period it was in force (``effective_to`` inclusive, None = open)."""

    id: ProfileId
    title: Text
    description: Text
    effective_from: date
    effective_to: date | None = None
    default: StrictBool = False
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("options")
    @classmethod
    def _options_are_overrides(cls, value: dict[str, Any]) -> dict[str, Any]:
        return OptionOverrides.model_validate(value).given()

    @model_validator(mode="after")
    def _dates_in_order(self) -> Profile:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError(f"effective_to {self.effective_to} trước effective_from {self.effective_from}")
        return self

    @property
    def overrides(self) -> OptionOverrides:
        return OptionOverrides.model_validate(self.options)

    @property
    def rule_options(self) -> RuleOptions:
        """The option defaults with this profile's overrides applied."""
        return RuleOptions.model_validate(self.options)

    def in_force(self, day: date) -> bool:
        """Whether ``day`` falls in the profile's period."""
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)


class Catalogue(_Frozen):
    """Every rule (in RULES.md order), option and profile, checked for consistency with each other."""

    rules: tuple[Rule, ...]
    options: tuple[OptionSpec, ...]
    profiles: tuple[Profile, ...]

    @model_validator(mode="after")
    def _consistent(self) -> Catalogue:
        problems: list[str] = [] if self.rules else ["danh mục không có quy tắc nào"]
        for what, ids in (
            ("mã quy tắc", [r.id for r in self.rules]),
            ("tên tùy chọn", [o.name for o in self.options]),
            ("mã bộ quy định", [p.id for p in self.profiles]),
        ):
            repeated = sorted({i for i in ids if ids.count(i) > 1})
            if repeated:
                problems.append(f"{what} bị lặp: {', '.join(repeated)}")
        rules = {r.id: r for r in self.rules}
        options = {o.name: o for o in self.options}
        for rule in self.rules:
            for name in rule.options:
                if name not in options:
                    problems.append(f"quy tắc {rule.id} đọc tùy chọn không tồn tại {name!r}")
                elif rule.id not in options[name].rules:
                    problems.append(f"quy tắc {rule.id} đọc tùy chọn {name!r} mà tùy chọn không ghi quy tắc này")
        for option in self.options:
            for rid in option.rules:
                if rid not in rules:
                    problems.append(f"tùy chọn {option.name!r} ghi quy tắc không tồn tại {rid}")
                elif option.name not in rules[rid].options:
                    problems.append(f"tùy chọn {option.name!r} ghi quy tắc {rid} mà quy tắc không đọc nó")
        problems.extend(_mismatches_with_rule_options(self.options))
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

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        known = ", ".join(self.rule_ids)
        raise KeyError(f"Không có quy tắc {rule_id!r} trong danh mục; các mã hiện có: {known}")

    def option(self, name: str) -> OptionSpec:
        for o in self.options:
            if o.name == name:
                return o
        known = ", ".join(o.name for o in self.options)
        raise KeyError(f"Không có tùy chọn {name!r} trong danh mục; các tùy chọn hiện có: {known}")

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


def _mismatches_with_rule_options(specs: tuple[OptionSpec, ...]) -> list[str]:
    """Where the file's option list differs from the fields of RuleOptions (names, types, defaults, bounds)."""
    fields = RuleOptions.model_fields
    problems = []
    missing = [n for n in fields if n not in {s.name for s in specs}]
    extra = [s.name for s in specs if s.name not in fields]
    if missing:
        problems.append(f"thiếu tùy chọn của RuleOptions: {', '.join(missing)}")
    if extra:
        problems.append(f"tùy chọn không có trong RuleOptions: {', '.join(extra)}")
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
            problems.append(f"tùy chọn {spec.name!r}: kiểu {spec.type} khác RuleOptions ({kind})")
        if spec.default != field.default or type(spec.default) is not type(field.default):
            problems.append(f"tùy chọn {spec.name!r}: mặc định {spec.default!r} khác RuleOptions {field.default!r}")
        if tuple(spec.choices) != tuple(choices):
            problems.append(f"tùy chọn {spec.name!r}: choices {list(spec.choices)} khác RuleOptions {list(choices)}")
        low, high = _bounds(field.metadata)
        if (spec.minimum, spec.maximum) != (low, high):
            problems.append(
                f"tùy chọn {spec.name!r}: giới hạn [{spec.minimum}, {spec.maximum}] khác RuleOptions [{low}, {high}]"
            )
    return problems


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------

#: File layout (TOML array-of-tables names) → model field names.
_TOP_LEVEL = {"rule": "rules", "option": "options", "profile": "profiles"}
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
            if depth == 1 and loc[0] in ("rules", "profiles", "options"):
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
    profile_id: str | None, overrides: OptionOverrides | dict[str, Any] | None = None
) -> RuleOptions:
    """The options a solve runs with: defaults, then the profile's (None = default profile), then ``overrides``."""
    catalogue = load_catalogue()
    profile = catalogue.default_profile if profile_id is None else catalogue.profile(profile_id)
    if overrides is None:
        given: dict[str, Any] = {}
    elif isinstance(overrides, OptionOverrides):
        given = overrides.given()
    else:
        given = OptionOverrides.model_validate(overrides).given()
    return RuleOptions.model_validate({**profile.options, **given})


__all__ = [
    "DEFAULT_PROFILE", "FAMILIES", "KINDS", "SEEDS", "Catalogue", "CatalogueError", "Citation", "OptionOverrides",
    "OptionSpec", "Profile", "Rule", "RuleOptions", "UnknownProfile", "load_catalogue", "parse_catalogue",
    "read_catalogue", "resolve_options",
]
