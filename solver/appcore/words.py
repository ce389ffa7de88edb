"""The app's Vietnamese: numbers (14.563; 0,6), sizes, seconds, levels, rule profiles and options in words.

Nothing here shows a code to the user: profiles by their catalogue title, options by their title and a
Vietnamese label for each value, rules by their title and the clause of the document they rest on.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

from model.case import KIND_LABELS, Kind
from model.catalogue import load_catalogue
from model.levels import Level
from solver.result import STATUS_LABELS, SolveResult

#: One colour per final level (the legend, the charts); grey for a subject that is not rated.
LEVEL_COLORS = {Level.XS: "#1a7f37", Level.T: "#2f6fb5", Level.HT: "#b7791f", Level.K: "#c62828"}
UNRATED_COLOR = "#9e9e9e"
#: Colours of a change (the tree's default colouring): lowered, raised, unchanged.
CHANGE_COLORS = {"down": "#c62828", "up": "#1a7f37", "same": "#cfd8dc", "unrated": "#eceff1"}
LEVEL_ORDER = (Level.XS, Level.T, Level.HT, Level.K)

#: Vietnamese labels of enum option values. The catalogue has a title and a help text per option but no
#: label per value; until it has one, the app keeps them here (no code such as ``good_only`` on screen).
def _enum_labels() -> dict[str, dict[str, str]]:
    """The catalogue's Vietnamese label of each value of each enum parameter."""
    return {s.name: dict(zip(s.choices, s.labels)) for s in load_catalogue().params if s.type == "enum"}


ENUM_LABELS: dict[str, dict[str, str]] = _enum_labels()


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def num(value: Any) -> str:
    """An integer the Vietnamese way: 14.563; a dash for none."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "có" if value else "không"
    if isinstance(value, float) and not value.is_integer():
        return dec(value)
    return f"{int(value):,}".replace(",", ".")


def dec(value: float | None, digits: int = 1) -> str:
    """A decimal number the Vietnamese way: 0,6; 1.234,5; a dash for none."""
    if value is None:
        return "—"
    text = f"{value:,.{digits}f}"
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def percent(value: float | None, digits: int = 1) -> str:
    """A percentage: 16,7%; a dash for none."""
    return "—" if value is None else dec(value, digits) + "%"


def seconds(value: float) -> str:
    """Seconds with one decimal: 2,5."""
    return dec(value, 1)


def size(n_bytes: int) -> str:
    """A file size: 812 byte, 40,3 KB, 41,4 MB."""
    if n_bytes < 1024:
        return f"{n_bytes} byte"
    if n_bytes < 1024 * 1024:
        return f"{dec(n_bytes / 1024)} KB"
    return f"{dec(n_bytes / (1024 * 1024))} MB"



def kind_label(kind: Kind | str) -> str:
    return KIND_LABELS[Kind(kind)]


def move_words(target: Level | None, final: Level | None) -> str:
    """"XS → T" for a change, "T (giữ)" otherwise, "—" when there is nothing to say."""
    if final is None:
        return target.code if target is not None else "—"
    if target is None or target == final:
        return f"{final.code} (giữ)"
    return f"{target.code} → {final.code}"


# ---- rule profiles -----------------------------------------------------------------------------------


def profile_title(profile_id: str | None) -> str:
    """A profile's title (None: the default one); an unknown id says so in words."""
    cat = load_catalogue()
    if profile_id is None:
        return cat.default_profile.title
    try:
        return cat.profile(profile_id).title
    except ValueError:
        return f"bộ quy định không có trong danh mục («{profile_id}»)"


def profile_choices() -> list[dict]:
    """Every profile of the catalogue, default first: id (for the program only), title, description, period."""
    cat = load_catalogue()
    rows = [{"id": p.id, "title": p.title, "description": plain_text(p.description), "default": p.default,
             "period": _period(p.effective_from, p.effective_to)} for p in cat.profiles]
    rows.sort(key=lambda r: not r["default"])
    return rows


def _period(start, end) -> str:
    return f"hiệu lực từ {start.strftime('%d/%m/%Y')}" + (f" đến {end.strftime('%d/%m/%Y')}" if end else "")


# ---- rule options ------------------------------------------------------------------------------------


def option_value(name: str, value: Any, options: dict | None = None) -> str:
    """An option's value in words: 20%, "Có"/"Không", the label of an enum value; never its code."""
    options = options or {}
    if isinstance(value, bool):
        return "Có" if value else "Không"
    if name in ENUM_LABELS:
        label = ENUM_LABELS[name].get(str(value))
        if label is not None:
            if name == "cap_base":
                return f"{options.get('cap_percent', 20)}% " + label
            return label
    if name == "cap_percent":
        return f"{value}%"
    if name == "small_group_allowance" and value == 0:
        return "0 (không áp dụng quy định về nhóm dưới 05)"
    if isinstance(value, (int, float)):
        return num(value)
    return plain_text(str(value))


def enum_label(name: str, value: str) -> str:
    """The label of one choice of an enum option (for a select box)."""
    return ENUM_LABELS.get(name, {}).get(value) or value


@lru_cache(maxsize=1)
def _code_words() -> list[tuple[re.Pattern, str]]:
    """Codes that may appear in the catalogue's own texts (profiles, options, option values, rules), with the
    words that replace them on screen."""
    cat = load_catalogue()
    pairs: list[tuple[str, str]] = []
    for p in cat.profiles:
        pairs.append((p.id, f"«{p.title}»"))
    for spec in cat.params:
        for choice in spec.choices:
            pairs.append((choice, f"«{enum_label(spec.name, choice)}»"))
        pairs.append((spec.name, f"«{spec.title}»"))
    for rule in cat.rules:
        pairs.append((rule.id, f"«{rule.title}»"))
    pairs.sort(key=lambda pair: -len(pair[0]))  # the longest first: qd366-2025-ngoai-le-25 before qd366-2025
    return [(re.compile(r"(?<![\w-])" + re.escape(code) + r"(?![\w-])"), words) for code, words in pairs]


def plain_text(text: str) -> str:
    """A catalogue text with the codes of profiles, options, option values and rules replaced by their words."""
    for pattern, words in _code_words():
        text = pattern.sub(words, text)
    return text


def option_rows(options: dict) -> list[dict]:
    """Every parameter read by a rule in force, with its value in words and whether it is the value of the
    case's own profile; the rules it serves are cited in the profile's sources only."""
    from model.catalogue import resolve_options

    used = options.get("rules")
    sources = tuple(options["sources"]) if options.get("sources") else None
    try:
        base = resolve_options(options.get("profile")).model_dump(mode="json")
    except ValueError:
        base = {}
    rows = []
    for spec in load_catalogue().params:
        if spec.name not in options:
            continue
        if used is not None and spec.rules and not any(r in used for r in spec.rules):
            continue
        value = options[spec.name]
        default_value = base.get(spec.name, spec.default)
        default = "mặc định" if value == default_value else \
            f"khác mặc định (mặc định: {option_value(spec.name, default_value, {**options, spec.name: default_value})})"
        rows.append({"Tùy chọn": spec.title, "Giá trị": option_value(spec.name, value, options), "Mặc định": default,
                     "Quy định": ", ".join(rule_label(r, sources) for r in spec.rules
                                           if used is None or r in used),
                     "Giải thích": plain_text(spec.help)})
    return rows


# ---- rules -------------------------------------------------------------------------------------------


@lru_cache(maxsize=None)
def rule_title(rule_id: str) -> str:
    """A rule's title (the catalogue's); a lock or the direction have their own words."""
    if rule_id == "lock":
        return "Quyết định khóa mức của cấp có thẩm quyền"
    if rule_id == "direction":
        return "Chỉ hạ mức, không nâng mức"
    try:
        return load_catalogue().rule(rule_id).title
    except KeyError:
        return rule_id


@lru_cache(maxsize=None)
def rule_clause(rule_id: str, sources: tuple[str, ...] | None = None) -> str:
    """The clauses of the documents a rule rests on, e.g. "BMT II.B.2.3a; BĐ 5.2" — only of ``sources`` (the
    case's profile) when given."""
    try:
        return load_catalogue().rule(rule_id).cite_in(sources)
    except KeyError:
        return ""


def rule_label(rule_id: str, sources: tuple[str, ...] | None = None) -> str:
    """A rule as a label: its title and its clause in ``sources`` (never its code)."""
    clause = rule_clause(rule_id, sources)
    return f"{rule_title(rule_id)} ({clause})" if clause else rule_title(rule_id)


_RULE_CODE = re.compile(r"\[(?:[A-Z]\d+[a-z]?|lock|direction), ")
_RULE_ONLY = re.compile(r" ?\[(?:[A-Z]\d+[a-z]?)\]")


def clauses_only(text: str) -> str:
    """A sentence of the explanations with its rule codes dropped and the documents' clauses kept:
    "[S3, BMT II.B.1.3a]" → "[BMT II.B.1.3a]" (the codes are the program's, the clauses the committee's)."""
    return _RULE_ONLY.sub("", _RULE_CODE.sub("[", text))


# ---- the status of a solve ---------------------------------------------------------------------------


def status_view(result: SolveResult) -> dict:
    """The status in words: tone, headline, whether it is proven least change, its sentences."""
    tone = {"optimal": "success", "feasible": "warning"}.get(result.status, "error")
    if result.status == "optimal":
        headline = "Đã chứng minh tối ưu: đây là phương án thay đổi ít nhất."
    elif result.status == "feasible":
        headline = "Khả thi nhưng CHƯA chứng minh tối ưu (hết thời gian): có thể còn phương án thay đổi ít hơn."
    else:
        label = STATUS_LABELS[result.status]
        headline = label[:1].upper() + label[1:] + "."
    return {"tone": tone, "headline": headline, "proven": result.proven, "sentences": status_sentences(result)}


def status_sentences(result: SolveResult) -> list[str]:
    """The status in sentences: ``solver.explanations.words.status_sentences``, pointing at the app's page of
    decisions for conflicts."""
    from solver.explanations.words import status_sentences as sentences

    return sentences(result, conflicts_at="trang «Việc cần quyết định»")


def cap_sentence(options: dict, loaded=None) -> str:
    """The quota rules as applied, in one sentence, with C1's citation in the case's own sources (no rule
    code): ``solver.explanations.words.quota_sentence``."""
    from solver.explanations.words import quota_sentence

    return quota_sentence(loaded, options, with_citation=True)


def whatif_mode_words(mode: str, result: SolveResult) -> str:
    """How a what-if was solved, in words (the answer is the same either way)."""
    if mode == "incremental":
        return (f"Chỉ giải lại phần hồ sơ mà giả định chạm tới ({dec(result.wall_time, 2)} giây); kết quả giống hệt "
                "giải lại toàn bộ hồ sơ.")
    return f"Đã giải lại toàn bộ hồ sơ với giả định ({dec(result.wall_time, 2)} giây)."


__all__ = [
    "CHANGE_COLORS", "ENUM_LABELS", "clauses_only", "LEVEL_COLORS", "LEVEL_ORDER", "UNRATED_COLOR", "cap_sentence", "dec",
    "enum_label", "kind_label", "move_words", "nfc", "num", "option_rows", "option_value", "percent",
    "plain_text", "profile_choices", "profile_title", "rule_clause", "rule_label", "rule_title", "seconds", "size",
    "status_sentences", "status_view", "whatif_mode_words",
]
