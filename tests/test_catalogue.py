"""The rule catalogue (model/data/rules.toml) says what RULES.md and the seed texts say, and loads strictly."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from model.catalogue import (
    DEFAULT_PROFILE,
    SEEDS,
    CatalogueError,
    Citation,
    OptionOverrides,
    RuleOptions,
    UnknownProfile,
    load_catalogue,
    parse_catalogue,
    read_catalogue,
    resolve_options,
)

SHARED = Path(__file__).resolve().parents[2] / "shared"
RULES_MD = SHARED / "RULES.md"
SEED_DIR = SHARED / "seeds"
CATALOGUE_FILE = Path(__file__).resolve().parents[1] / "model" / "data" / "rules.toml"

needs_rules_md = pytest.mark.skipif(not RULES_MD.is_file(), reason=f"RULES.md not found at {RULES_MD}")
needs_seeds = pytest.mark.skipif(not SEED_DIR.is_dir(), reason=f"seed texts not found in {SEED_DIR}")

# A bold rule heading ("**C1 — the 20% cap.**") or a row of the §5 table ("| E1 | …").
_RULE_ENTRY = re.compile(r"^\*\*(?P<head>[A-Z]\d+[a-z]?) —|^\| (?P<row>[A-Z]\d+[a-z]?) \|", re.MULTILINE)
_BMT_REF = re.compile(r"II\.B\.\d+(?:\.\d+)?(?:[a-d](?:–[a-d])?)?")
_BD_REF = re.compile(r"BĐ (\d+\.\d+)")
_VIETNAMESE_LETTER = re.compile(
    "[àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ]", re.IGNORECASE
)


def rules_md_entries() -> dict[str, str]:
    """Each rule ID of RULES.md, in document order, with the text that states its sources."""
    text = unicodedata.normalize("NFC", RULES_MD.read_text(encoding="utf-8"))
    entries: dict[str, str] = {}
    for match in _RULE_ENTRY.finditer(text):
        if match["head"]:
            block_end = text.find("\n\n", match.start())
            entries[match["head"]] = text[match.start() : block_end if block_end >= 0 else None]
        else:
            line = text[match.start() : text.find("\n", match.start())]
            entries[match["row"]] = line.split("|")[4]  # | rule | fact | effect | source |
    return entries


def sections_named(text: str) -> set[str]:
    """The sections a piece of RULES.md cites, as labels: "BMT II.B.1.3a–b" gives BMT II.B.1.3a and …3b."""
    labels = {f"BĐ {n}" for n in _BD_REF.findall(text)}
    for ref in _BMT_REF.findall(text):
        if "–" in ref:
            stem, last = ref.split("–")
            labels |= {f"BMT {stem[:-1]}{chr(c)}" for c in range(ord(stem[-1]), ord(last) + 1)}
        else:
            labels.add(f"BMT {ref}")
    return labels


def covered(named: str, cited: set[str]) -> bool:
    """A section RULES.md names is covered by the same citation or a more precise one (II.B.1.3 by II.B.1.3a)."""
    return any(c == named or (c.startswith(named) and c[len(named)] in ".abcd") for c in cited)


def seed_text(seed: str) -> str:
    raw = (SEED_DIR / seed).read_text(encoding="utf-8")
    return " ".join(unicodedata.normalize("NFC", raw).split())


CATALOGUE = load_catalogue()
ALL_CITATIONS = [
    pytest.param(rule.id, c, id=f"{rule.id}-{c.label}-{i}")
    for rule in CATALOGUE.rules
    for i, c in enumerate(rule.citations)
]


# --- The catalogue matches RULES.md ----------------------------------------------------------


@needs_rules_md
def test_catalogue_ids_are_the_rule_ids_of_rules_md_in_order():
    assert CATALOGUE.rule_ids == tuple(rules_md_entries())


@needs_rules_md
@pytest.mark.parametrize("rule_id", CATALOGUE.rule_ids)
def test_every_section_rules_md_names_for_a_rule_is_cited(rule_id):
    named = sections_named(rules_md_entries()[rule_id])
    cited = {c.label for c in CATALOGUE.rule(rule_id).citations}
    assert named, f"RULES.md names no source for {rule_id}"
    assert {n for n in named if not covered(n, cited)} == set()


def test_c1_cites_every_kind_of_subject_the_20_percent_cap_covers():
    assert CATALOGUE.rule("C1").cite == "BMT II.B.1.3a; BMT II.B.2.3a; BMT II.B.3.3a; BMT II.B.4; BĐ 5.2"


# --- Citations are verbatim ------------------------------------------------------------------


def test_every_rule_has_at_least_one_citation():
    assert all(len(rule.citations) >= 1 for rule in CATALOGUE.rules)


@needs_seeds
@pytest.mark.parametrize(("rule_id", "citation"), ALL_CITATIONS)
def test_every_quote_is_verbatim_in_its_seed(rule_id, citation: Citation):
    assert citation.seed == SEEDS[citation.source]
    assert citation.quote in seed_text(citation.seed), f"{rule_id}: quote not found in {citation.seed}"


@pytest.mark.parametrize(("rule_id", "citation"), ALL_CITATIONS)
def test_every_quote_is_short(rule_id, citation: Citation):
    assert 10 <= len(citation.quote.split()) <= 40


def test_a_citation_label_is_source_and_section():
    assert CATALOGUE.rule("S1").citations[0].label == "BMT II.B.3.3a"


def test_cite_lists_each_section_once_in_file_order():
    assert CATALOGUE.rule("V1").cite == "BMT II.B.4.2"
    assert CATALOGUE.rule("S5").cite == "BĐ 5.5; BMT II.B.5; BMT II.B.4"


# --- Texts are Vietnamese, NFC ---------------------------------------------------------------


def all_texts():
    for rule in CATALOGUE.rules:
        yield f"rule {rule.id} title", rule.title
        yield f"rule {rule.id} summary", rule.summary
    for option in CATALOGUE.options:
        yield f"option {option.name} title", option.title
        yield f"option {option.name} help", option.help
    for profile in CATALOGUE.profiles:
        yield f"profile {profile.id} title", profile.title
        yield f"profile {profile.id} description", profile.description


@pytest.mark.parametrize(("where", "text"), list(all_texts()), ids=[w for w, _ in all_texts()])
def test_every_title_and_text_is_vietnamese_in_nfc(where, text):
    assert unicodedata.is_normalized("NFC", text)
    assert _VIETNAMESE_LETTER.search(text), f"{where} has no Vietnamese letter with a diacritic"


def test_the_catalogue_file_itself_is_nfc():
    assert unicodedata.is_normalized("NFC", CATALOGUE_FILE.read_text(encoding="utf-8"))


# --- Rules, options and profiles refer to each other correctly --------------------------------


def test_every_option_a_rule_reads_exists_and_names_that_rule_back():
    for rule in CATALOGUE.rules:
        for name in rule.options:
            assert rule.id in CATALOGUE.option(name).rules


def test_the_options_are_exactly_the_fields_of_rule_options_with_the_same_defaults():
    assert [o.name for o in CATALOGUE.options] == list(RuleOptions.model_fields)
    assert {o.name: o.default for o in CATALOGUE.options} == RuleOptions().model_dump()


def test_option_overrides_has_the_same_fields_as_rule_options_all_unset():
    assert list(OptionOverrides.model_fields) == list(RuleOptions.model_fields)
    assert OptionOverrides().given() == {}


def test_the_literal_readings_are_the_defaults():
    options = RuleOptions()
    assert (options.cap_percent, options.cap_base) == (20, "good_only")
    assert (options.small_group_threshold, options.small_group_allowance) == (5, 1)
    assert options.allow_up is False
    assert options.org_member_discipline is True


def test_c1_reads_cap_percent_and_cap_base_c2_the_small_group_options_e7b_the_discipline_option():
    assert CATALOGUE.rule("C1").options == ("cap_percent", "cap_base")
    assert CATALOGUE.rule("C2").options == ("small_group_threshold", "small_group_allowance")
    assert CATALOGUE.rule("E7b").options == ("org_member_discipline",)


def test_rules_take_effect_with_quy_dinh_132():
    assert {rule.effective_from for rule in CATALOGUE.rules} == {date(2018, 3, 8)}


@pytest.mark.parametrize("profile", CATALOGUE.profiles, ids=lambda p: p.id)
def test_every_profile_overrides_are_valid_rule_options(profile):
    assert OptionOverrides.model_validate(profile.options).given() == profile.options
    assert isinstance(RuleOptions.model_validate(profile.options), RuleOptions)


def test_the_default_profile_is_bmt_2018_with_every_default():
    assert CATALOGUE.default_profile.id == DEFAULT_PROFILE == "bmt-2018"
    assert CATALOGUE.default_profile.options == {}
    assert CATALOGUE.default_profile.rule_options == RuleOptions()


def test_the_bu_dang_profile_uses_the_same_values():
    assert CATALOGUE.profile("bd-2020").rule_options == RuleOptions()


def test_the_366_profile_keeps_the_20_percent_cap_and_its_exception_profile_raises_it_to_25():
    assert CATALOGUE.profile("qd366-2025").rule_options.cap_percent == 20
    assert CATALOGUE.profile("qd366-2025-ngoai-le-25").options == {"cap_percent": 25}
    assert CATALOGUE.profile("qd366-2025").effective_to is None


def test_a_profile_is_in_force_between_its_dates():
    profile = CATALOGUE.profile("qd366-2025")
    assert profile.in_force(date(2025, 12, 31))
    assert not profile.in_force(date(2025, 1, 1))


# --- resolve_options -------------------------------------------------------------------------


def test_no_profile_means_the_default_profile():
    assert resolve_options(None, None) == RuleOptions()


def test_the_profile_values_apply_over_the_defaults():
    assert resolve_options("qd366-2025-ngoai-le-25", None).cap_percent == 25


def test_case_overrides_apply_over_the_profile():
    options = resolve_options("qd366-2025-ngoai-le-25", {"cap_percent": 30, "allow_up": True})
    assert (options.cap_percent, options.allow_up, options.cap_base) == (30, True, "good_only")


def test_an_override_left_unset_keeps_the_profile_value():
    options = resolve_options("qd366-2025-ngoai-le-25", OptionOverrides(cap_base="good_and_above"))
    assert (options.cap_percent, options.cap_base) == (25, "good_and_above")


def test_an_unknown_profile_is_rejected_with_the_known_ones_listed():
    with pytest.raises(UnknownProfile) as raised:
        resolve_options("qd-999", None)
    assert isinstance(raised.value, ValueError)
    assert "qd-999" in str(raised.value) and "bmt-2018" in str(raised.value)


def test_an_unknown_rule_is_a_key_error_in_vietnamese():
    with pytest.raises(KeyError, match="Không có quy tắc"):
        CATALOGUE.rule("Z9")


@pytest.mark.parametrize(
    "overrides",
    [
        {"cap_procent": 25},  # unknown option key
        {"cap_percent": 0},  # below the minimum
        {"cap_percent": 101},  # above the maximum
        {"cap_percent": "25"},  # a string is not an int
        {"cap_base": "all"},  # not one of the choices
        {"allow_up": "yes"},  # not a bool
        {"small_group_allowance": -1},
    ],
    ids=["unknown-key", "cap-0", "cap-101", "cap-string", "base-unknown", "allow-up-string", "allowance-negative"],
)
def test_a_bad_option_override_is_rejected(overrides):
    with pytest.raises(ValidationError):
        resolve_options(None, overrides)


def test_rule_options_are_frozen():
    with pytest.raises(ValidationError):
        RuleOptions().cap_percent = 30  # type: ignore[misc]


# --- The loader is strict --------------------------------------------------------------------


def test_the_catalogue_is_read_once():
    assert load_catalogue() is load_catalogue()


def test_reading_the_shipped_file_directly_gives_the_same_catalogue():
    assert read_catalogue(CATALOGUE_FILE) == CATALOGUE


SHIPPED = CATALOGUE_FILE.read_text(encoding="utf-8")
V1_HEAD = 'id = "V1"\n'
FIRST_CITATION_SEED = 'source = "BMT"\n  seed = "001_e88d142370430d59.txt"\n  section = "II.B.4.2"'


def swap(old: str, new: str, count: int = 1):
    def mutate(text: str) -> str:
        assert old in text, f"fixture anchor not found: {old!r}"
        return text.replace(old, new, count)

    return mutate


BMT_SEED = FIRST_CITATION_SEED
BD_SEED = FIRST_CITATION_SEED.replace("001_e88d142370430d59", "000_bbfa2d98fbdf0405")
C1_OPTIONS = 'options = ["cap_percent", "cap_base"]'
BD_DATES = 'effective_to = "2023-10-03"\ndefault = '

# (what is wrong, how the shipped file is spoiled, what the error must mention)
BAD_FILES = [
    ("unknown-rule-key", swap(V1_HEAD, V1_HEAD + 'severity = "high"\n'), "rule[0] (V1) › severity"),
    ("unknown-top-level-table", lambda t: t + '\n[[rules]]\nid = "X1"\n', "rules"),
    ("plural-citations-key", swap("[[rule.citation]]", "[[rule.citations]]"), "citations"),
    ("bad-family", swap('family = "ballot"', 'family = "vote"'), "family"),
    ("bad-kind", swap('applies_to = ["collective"]', 'applies_to = ["committee"]'), "applies_to"),
    ("no-kind", swap('applies_to = ["collective"]', "applies_to = []"), "cần ít nhất một"),
    ("bad-date", swap('effective_from = "2018-03-08"', 'effective_from = "2018-02-30"'), "effective_from"),
    ("seed-of-the-other-source", swap(BMT_SEED, BD_SEED), "000_bbfa2d98fbdf0405"),
    ("section-not-in-rules-md-numbering", swap('section = "II.B.4.2"', 'section = "4.2"'), "số mục"),
    ("non-nfc-text", swap("Cách tính phiếu", unicodedata.normalize("NFD", "Cách tính phiếu")), "NFC"),
    ("rule-reads-unknown-option", swap(C1_OPTIONS, 'options = ["cap_percent", "cap_ceiling"]'), "cap_ceiling"),
    ("option-default-differs", swap("default = 20\n", "default = 25\n"), "cap_percent"),
    ("option-missing", swap('name = "allow_up"', 'name = "allow_upward"'), "thiếu tùy chọn của RuleOptions: allow_up"),
    ("option-bounds-differ", swap("maximum = 100\n", "maximum = 90\n"), "giới hạn"),
    ("two-default-profiles", swap(BD_DATES + "false", BD_DATES + "true"), "bd-2020"),
    ("profile-override-unknown-option", swap("cap_percent = 25\n", "cap_percent = 25\nceiling = 3\n"), "ceiling"),
    ("profile-override-out-of-range", swap("cap_percent = 25\n", "cap_percent = 250\n"), "cap_percent"),
    ("profile-dates-reversed", swap('effective_to = "2023-10-03"', 'effective_to = "2017-01-01"'), "effective_to"),
    ("duplicate-rule-id", swap('id = "E8"', 'id = "E7"'), "bị lặp"),
    ("not-toml", lambda t: t + "\n[[rule]\n", "TOML"),
]


@pytest.mark.parametrize(("mutate", "needle"), [pytest.param(m, n, id=i) for i, m, n in BAD_FILES])
def test_a_malformed_catalogue_is_rejected_with_a_message_naming_the_problem(tmp_path, mutate, needle):
    bad = tmp_path / "rules.toml"
    bad.write_text(mutate(SHIPPED), encoding="utf-8")
    with pytest.raises(CatalogueError) as raised:
        read_catalogue(bad)
    assert str(bad) in str(raised.value)
    assert needle in str(raised.value)


def test_an_error_names_the_rule_and_the_field_in_the_file_s_own_words():
    bad = SHIPPED.replace('section = "II.B.4.2"', 'section = "4.2"', 1)
    with pytest.raises(CatalogueError, match=r"rule\[0\] \(V1\) › citation\[0\]"):
        parse_catalogue(bad)
