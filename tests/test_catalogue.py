"""The rule catalogue (model/data/rules.toml) says what the source texts say, chooses rules per profile, and
loads strictly."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from model.catalogue import (
    DEFAULT_PROFILE,
    CatalogueError,
    Citation,
    OptionOverrides,
    Params,
    RuleOptions,
    UnknownProfile,
    load_catalogue,
    parse_catalogue,
    read_catalogue,
    resolve_options,
)
from solver.engine.rules import RULES

ROOT = Path(__file__).resolve().parents[1]
SOURCE_DIR = ROOT / "tests" / "data" / "sources"
#: The 2025 texts have no official full text in the repository (the catalogue's `text_file` is empty): their quotes
#: are checked against the passages of the regulations copied verbatim from secondary copies, one passage per
#: article or section, each under a heading `=== <section> === <where it was read>` (tests/data/sources/README.md).
EXCERPT_FILES = {"QĐ366": "qd366_2025_trich.txt", "HD43": "hd43_2025_trich.txt"}
_EXCERPT_HEADING = re.compile(r"^=== (?P<section>[^=]+?) === (?P<origin>\S.*)$", re.MULTILINE)
CATALOGUE_FILE = ROOT / "model" / "data" / "rules.toml"
_VIETNAMESE_LETTER = re.compile(
    "[àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ]", re.IGNORECASE
)

CATALOGUE = load_catalogue()
ALL_CITATIONS = [
    pytest.param(rule.id, c, id=f"{rule.id}-{c.label}-{i}")
    for rule in CATALOGUE.rules
    for i, c in enumerate(rule.citations)
]


def _collapse(raw: str) -> str:
    return " ".join(unicodedata.normalize("NFC", raw).split())


def source_file(source_id: str) -> Path | None:
    """Where the repository stores the text of a source (its full text, or the 2025 excerpts), if it does."""
    name = CATALOGUE.source(source_id).text_file or EXCERPT_FILES.get(source_id, "")
    return SOURCE_DIR / name if name and (SOURCE_DIR / name).is_file() else None


def source_text(source_id: str) -> str | None:
    """The text of a source, NFC with whitespace collapsed, when the repository has it."""
    path = source_file(source_id)
    return _collapse(path.read_text(encoding="utf-8")) if path else None


def excerpt_passages(source_id: str) -> list[tuple[str, str, str]]:
    """The passages of a 2025 excerpt file: (section, where it was read, text NFC with whitespace collapsed)."""
    raw = (SOURCE_DIR / EXCERPT_FILES[source_id]).read_text(encoding="utf-8")
    heads = list(_EXCERPT_HEADING.finditer(raw))
    ends = [h.start() for h in heads[1:]] + [len(raw)]
    return [(h["section"], h["origin"], _collapse(raw[h.end():end])) for h, end in zip(heads, ends)]


# --- The rules, in RULES.md order, one function each ----------------------------------------------

#: The rule IDs of RULES.md (§1, §3–§5) in their order, the rule of one person with several posts and who is
#: not rated, then the rules of QĐ 366-QĐ/TW (REGULATION-2025.md): scores, tasks, shortcomings, leaders,
#: discipline, collectives, and the 25% exception.
RULES_MD_IDS = ("V1", "C1", "C2", "S1", "S2", "S3", "S4", "S5", "E1", "E2", "E3", "E4", "E5", "E6", "E7", "E7b",
                "E7c", "E8", "E9", "P1", "X1", "Q1", "Q2", "Q3", "Q4", "Q5", "Q6", "C3")


def test_the_catalogue_lists_the_rules_of_rules_md_in_order():
    assert CATALOGUE.rule_ids == RULES_MD_IDS


def test_the_code_registers_one_function_per_catalogue_rule_in_the_same_order():
    assert tuple(rid for rid, _ in RULES) == CATALOGUE.rule_ids


# --- Sources and citations ------------------------------------------------------------------------

def test_the_sources_are_the_two_seed_guides_and_the_2025_texts():
    assert [s.id for s in CATALOGUE.sources] == ["BMT", "BĐ", "QĐ366", "HD43"]
    assert CATALOGUE.source("BĐ").number == "01-HD/BTCHU" and CATALOGUE.source("BĐ").date == date(2020, 11, 17)
    assert CATALOGUE.source("QĐ366").issuer == "Bộ Chính trị" and CATALOGUE.source("QĐ366").date == date(2025, 8, 30)
    assert CATALOGUE.source("HD43").number == "43-HD/BTCTW"


def test_a_section_is_read_in_the_source_s_own_words():
    assert CATALOGUE.source("BĐ").section_text("5.13") == "điểm 5.13"
    assert CATALOGUE.source("QĐ366").section_text("Điều 11 khoản 1") == "Điều 11 khoản 1"


def test_c1_cites_every_kind_of_subject_the_20_percent_cap_covers():
    assert CATALOGUE.rule("C1").cite_in(("BMT", "BĐ")) == "BMT II.B.1.3a; BMT II.B.2.3a; BMT II.B.3.3a; BMT II.B.4; BĐ 5.2"
    assert CATALOGUE.rule("C1").cite_in(("QĐ366", "HD43")) == "QĐ 366 Điều 11 khoản 1"


def test_a_rule_cites_the_clause_of_the_subject_s_kind_from_the_profile_s_sources_only():
    c1 = CATALOGUE.rule("C1")
    assert c1.cite_in(("BMT",), "member") == "BMT II.B.2.3a"
    assert c1.cite_in(("BMT",), "leader") == "BMT II.B.4"
    assert c1.cite_in(("BĐ",), "member") == "BĐ 5.2"
    assert c1.cite_in(("BMT", "BĐ"), "collective") == "BMT II.B.3.3a; BĐ 5.2"


def test_every_rule_has_at_least_one_citation():
    assert all(len(rule.citations) >= 1 for rule in CATALOGUE.rules)


@pytest.mark.parametrize(("rule_id", "citation"), ALL_CITATIONS)
def test_every_quote_is_verbatim_in_its_source(rule_id, citation: Citation):
    text = source_text(citation.source)
    if text is None:
        pytest.skip(f"văn bản {CATALOGUE.source(citation.source).short} không có trong kho: không đối chiếu được "
                    f"trích dẫn của {rule_id}")
    assert citation.quote in text, f"{rule_id}: quote not found in {citation.source}"


def test_the_two_seed_texts_are_in_the_repository():
    assert source_text("BMT") is not None and source_text("BĐ") is not None


# --- The 2025 excerpts ----------------------------------------------------------------------------

EXCERPT_CITATIONS = [p for p in ALL_CITATIONS if p.values[1].source in EXCERPT_FILES]


def test_the_2025_excerpts_are_in_the_repository():
    assert all(source_file(source_id) is not None for source_id in EXCERPT_FILES)


@pytest.mark.parametrize("source_id", list(EXCERPT_FILES))
def test_an_excerpt_file_is_nfc_and_every_passage_names_a_section_of_its_source_and_where_it_was_read(source_id):
    raw = (SOURCE_DIR / EXCERPT_FILES[source_id]).read_text(encoding="utf-8")
    assert unicodedata.is_normalized("NFC", raw)
    assert raw.startswith("=== "), "text before the first heading belongs to no section"
    pattern = re.compile(CATALOGUE.source(source_id).section_pattern)
    passages = excerpt_passages(source_id)
    assert passages
    for section, origin, text in passages:
        assert pattern.match(section), (source_id, section)
        assert origin.startswith("tnt305/tai_lieu_noi_bo src/etl/dataset/") and origin.endswith(".md"), origin
        assert len(text.split()) >= 8, (source_id, section)


def _under(section: str, cited: str) -> bool:
    """A passage of `section` lies under the cited section: the same, or one of its clauses ("Điều 11 khoản 1"
    under "Điều 11")."""
    return section == cited or section.startswith(cited + " ")


@pytest.mark.parametrize(("rule_id", "citation"), EXCERPT_CITATIONS)
def test_a_2025_quote_stands_in_a_passage_of_the_section_it_cites(rule_id, citation: Citation):
    found_in = [section for section, _, text in excerpt_passages(citation.source) if citation.quote in text]
    assert found_in, f"{rule_id}: quote not found in {citation.source}"
    assert any(_under(section, citation.section) for section in found_in), (
        f"{rule_id}: cites {citation.section}, the quote stands under {found_in}")


@pytest.mark.parametrize(("rule_id", "citation"), ALL_CITATIONS)
def test_every_quote_is_short(rule_id, citation: Citation):
    assert 8 <= len(citation.quote.split()) <= 70


def test_a_citation_label_is_source_and_section():
    assert CATALOGUE.rule("S1").citations[0].label == "BMT II.B.3.3a"


def test_cite_lists_each_section_once_in_file_order():
    assert CATALOGUE.rule("V1").cite == "BMT II.B.4.2"
    assert CATALOGUE.rule("S5").cite == "BĐ 5.5; BMT II.B.5; BMT II.B.4; QĐ 366 Điều 12 khoản 2"


# --- Texts are Vietnamese, NFC --------------------------------------------------------------------

def all_texts():
    for rule in CATALOGUE.rules:
        yield f"rule {rule.id} title", rule.title
        yield f"rule {rule.id} summary", rule.summary
    for spec in CATALOGUE.params:
        yield f"param {spec.name} title", spec.title
        yield f"param {spec.name} help", spec.help
        for label in spec.labels:
            yield f"param {spec.name} label", label
    for profile in CATALOGUE.profiles:
        yield f"profile {profile.id} title", profile.title
        yield f"profile {profile.id} description", profile.description
        for rid, note in profile.unsourced.items():
            yield f"profile {profile.id} unsourced {rid}", note
    for source in CATALOGUE.sources:
        yield f"source {source.id} document", source.document
        yield f"source {source.id} short", source.short


@pytest.mark.parametrize(("where", "text"), list(all_texts()), ids=[w for w, _ in all_texts()])
def test_every_title_and_text_is_vietnamese_in_nfc(where, text):
    assert unicodedata.is_normalized("NFC", text)
    assert _VIETNAMESE_LETTER.search(text), f"{where} has no Vietnamese letter with a diacritic"


def test_the_catalogue_file_itself_is_nfc():
    assert unicodedata.is_normalized("NFC", CATALOGUE_FILE.read_text(encoding="utf-8"))


# --- Rules, parameters and profiles refer to each other correctly ----------------------------------

def test_every_parameter_a_rule_reads_exists_and_names_that_rule_back():
    for rule in CATALOGUE.rules:
        for name in rule.params:
            assert rule.id in CATALOGUE.param(name).rules


def test_the_parameters_are_exactly_the_fields_of_params_with_the_same_defaults():
    assert [o.name for o in CATALOGUE.params] == list(Params.model_fields)
    assert {o.name: o.default for o in CATALOGUE.params} == Params().model_dump()


def test_option_overrides_has_the_same_fields_as_params_all_unset():
    assert list(OptionOverrides.model_fields) == list(Params.model_fields)
    assert OptionOverrides().given() == {}


def test_the_literal_readings_are_the_defaults():
    p = Params()
    assert (p.cap_percent, p.cap_base) == (20, "good_only")
    assert (p.small_group_threshold, p.small_group_allowance) == (5, 1)
    assert (p.org_k_percent, p.units_k_at_least, p.sick_leave_months) == (20, 2, 3)
    assert p.allow_up is False and p.org_member_discipline is True
    assert p.several_posts == "report"


def test_every_enum_value_has_a_vietnamese_label():
    spec = CATALOGUE.param("cap_base")
    assert spec.label_of("good_only").startswith("số Hoàn thành tốt nhiệm vụ")
    assert CATALOGUE.param("several_posts").label_of("report") == "nêu rõ để cấp có thẩm quyền quyết định"
    assert CATALOGUE.param("allow_up").label_of(False) == "không"


@pytest.mark.parametrize("profile", CATALOGUE.profiles, ids=lambda p: p.id)
def test_every_profile_rule_is_stated_by_one_of_its_sources_or_says_why_not(profile):
    for rid in profile.rules:
        assert CATALOGUE.rule(rid).citations_in(profile.sources) or rid in profile.unsourced, (profile.id, rid)


@pytest.mark.parametrize("profile", CATALOGUE.profiles, ids=lambda p: p.id)
def test_every_profile_values_are_valid_parameters(profile):
    assert OptionOverrides.model_validate(profile.params).given() == profile.params


def test_the_default_profile_reads_both_seed_guides_together():
    default = CATALOGUE.default_profile
    assert default.id == DEFAULT_PROFILE == "bmt-bd-2020"
    assert default.sources == ("BMT", "BĐ")
    assert set(default.rules) == {r.id for r in CATALOGUE.rules if r.citations_in(("BMT", "BĐ"))}
    assert default.rule_options == resolve_options(None)
    assert default.rule_options.transfer_exemption is True  # BĐ 5.11 read with BMT II.B.4


def test_c2_is_a_bu_dang_rule_on_in_bd_2020_and_the_combined_profile_only():
    with_c2 = {p.id for p in CATALOGUE.profiles if "C2" in p.rules}
    assert with_c2 == {"bd-2020", "bmt-bd-2020"}


def test_the_literal_bmt_profile_cites_bmt_only_and_has_no_bu_dang_rule():
    bmt = CATALOGUE.profile("bmt-2018")
    assert bmt.sources == ("BMT",)
    assert not {"C2", "E9"} & set(bmt.rules)
    assert bmt.rule_options.transfer_exemption is False and bmt.rule_options.head_below_collective is True


def test_the_literal_bu_dang_profile_has_only_what_its_guide_says():
    bd = CATALOGUE.profile("bd-2020")
    assert bd.sources == ("BĐ",)
    assert set(bd.rules) == {"V1", "C1", "C2", "S2", "S5", "E5", "E8", "E9", "P1", "X1"}
    assert "chưa có văn bản" in bd.unsourced["V1"]
    options = bd.rule_options
    assert options.head_below_collective is False and options.transfer_exemption is True


def test_a_profile_is_in_force_between_its_dates():
    profile = CATALOGUE.profile("qd366-2025")
    assert profile.in_force(date(2025, 12, 31))
    assert not profile.in_force(date(2025, 1, 1))


# --- resolve_options ------------------------------------------------------------------------------

def test_no_profile_means_the_default_profile():
    assert resolve_options(None, None) == CATALOGUE.default_profile.rule_options


def test_case_overrides_apply_over_the_profile():
    options = resolve_options("bmt-2018", {"cap_percent": 30, "allow_up": True})
    assert (options.cap_percent, options.allow_up, options.cap_base) == (30, True, "good_only")
    assert options.profile == "bmt-2018" and options.sources == ("BMT",)


def test_a_case_may_switch_a_rule_on_and_then_cites_the_rule_s_own_source():
    options = resolve_options("bmt-2018", None, {"C2": True, "E6": False})
    assert options.on("C2") and not options.on("E6")
    assert options.sources == ("BMT", "BĐ")
    assert list(options.rules) == [r for r in CATALOGUE.rule_ids if r in options.rules]


def test_a_rule_that_took_effect_after_the_rating_year_is_not_in_force():
    assert not resolve_options("bmt-bd-2020", None, None, year=2019).on("C2")
    assert resolve_options("bmt-bd-2020", None, None, year=2020).on("C2")


def test_an_unknown_rule_switch_is_a_key_error_naming_the_rules():
    with pytest.raises(KeyError, match="Không có quy tắc 'Z9'"):
        resolve_options(None, None, {"Z9": True})


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
        {"small_group_threshold": 10**30},
        {"units_k_at_least": 0},
        {"several_posts": "maybe"},
    ],
    ids=["unknown-key", "cap-0", "cap-101", "cap-string", "base-unknown", "allow-up-string", "allowance-negative",
         "threshold-huge", "units-0", "posts-unknown"],
)
def test_a_bad_option_override_is_rejected(overrides):
    with pytest.raises(ValidationError):
        resolve_options(None, overrides)


def test_rule_options_are_frozen():
    with pytest.raises(ValidationError):
        RuleOptions().cap_percent = 30  # type: ignore[misc]


# --- The loader is strict -------------------------------------------------------------------------

def test_the_catalogue_is_read_once():
    assert load_catalogue() is load_catalogue()


def test_reading_the_shipped_file_directly_gives_the_same_catalogue():
    assert read_catalogue(CATALOGUE_FILE) == CATALOGUE


SHIPPED = CATALOGUE_FILE.read_text(encoding="utf-8")
V1_HEAD = 'id = "V1"\n'
C1_PARAMS = 'params = ["cap_percent", "cap_base"]'
BD_DATES = 'effective_to = 2023-10-03\ndefault = '
BMT_RULES = 'rules = ["V1", "C1", "S1",'


def swap(old: str, new: str, count: int = 1):
    def mutate(text: str) -> str:
        assert old in text, f"fixture anchor not found: {old!r}"
        return text.replace(old, new, count)

    return mutate


# (what is wrong, how the shipped file is spoiled, what the error must mention)
BAD_FILES = [
    ("unknown-rule-key", swap(V1_HEAD, V1_HEAD + 'severity = "high"\n'), "rule[0] (V1) › severity"),
    ("unknown-top-level-table", lambda t: t + '\n[[rules]]\nid = "X1"\n', "rules"),
    ("plural-citations-key", swap("[[rule.citation]]", "[[rule.citations]]"), "citations"),
    ("bad-family", swap('family = "ballot"', 'family = "vote"'), "family"),
    ("bad-kind", swap('binds = ["collective"]', 'binds = ["committee"]'), "binds"),
    ("no-kind", swap('binds = ["collective"]', "binds = []"), "cần ít nhất một"),
    ("bad-date", swap("effective_from = 2018-03-08", 'effective_from = "2018-02-30"'), "effective_from"),
    ("undeclared-source", swap('source = "BMT"\n  section = "II.B.4.2"', 'source = "HCM"\n  section = "II.B.4.2"'),
     "nguồn không khai báo 'HCM'"),
    ("section-not-in-the-source-s-numbering", swap('section = "II.B.4.2"', 'section = "4.2"'), "số mục"),
    ("citation-of-a-kind-the-rule-does-not-bind", swap('kinds = ["member"]\n  quote = \'Chỉ hoàn thành',
                                                       'kinds = ["leader"]\n  quote = \'Chỉ hoàn thành'), "leader"),
    ("non-nfc-text", swap("Cách tính phiếu", unicodedata.normalize("NFD", "Cách tính phiếu")), "NFC"),
    ("rule-reads-unknown-param", swap(C1_PARAMS, 'params = ["cap_percent", "cap_ceiling"]'), "cap_ceiling"),
    ("param-default-differs", swap("default = 20\n", "default = 25\n"), "cap_percent"),
    ("param-missing", swap('name = "allow_up"', 'name = "allow_upward"'), "thiếu tham số của Params: allow_up"),
    ("param-bounds-differ", swap("maximum = 100\ntitle = \"Tỷ lệ tối đa", "maximum = 90\ntitle = \"Tỷ lệ tối đa"),
     "giới hạn"),
    ("enum-without-labels", swap('labels = ["số Hoàn thành tốt nhiệm vụ (đúng', 'xlabels = ["số Hoàn thành tốt nhiệm vụ (đúng'),
     "xlabels"),
    ("two-default-profiles", swap(BD_DATES + "false", BD_DATES + "true"), "bmt-2018"),
    ("profile-param-unknown", swap("  [profile.params]\n  transfer_exemption = true\n\n[[profile]]\nid = \"bmt-2018\"",
                                   "  [profile.params]\n  ceiling = 3\n\n[[profile]]\nid = \"bmt-2018\""), "ceiling"),
    ("profile-rule-without-source", swap(BMT_RULES, 'rules = ["V1", "C1", "C2", "S1",'), "quy tắc C2 không có trích dẫn"),
    ("profile-rules-out-of-order", swap(BMT_RULES, 'rules = ["C1", "V1", "S1",'), "thứ tự"),
    ("profile-unknown-source", swap('sources = ["BMT"]', 'sources = ["BMT", "XX"]'), "XX"),
    ("profile-dates-reversed", swap("effective_to = 2023-10-03", "effective_to = 2017-01-01"), "effective_to"),
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
    bad = SHIPPED.replace("family = \"ballot\"", "family = \"vote\"", 1)
    with pytest.raises(CatalogueError, match=r"rule\[0\] \(V1\) › family"):
        parse_catalogue(bad)


def test_no_rule_text_names_a_source_or_the_software():
    """A rule's title and summary are printed in every profile's report: they name no document (a case cites
    only its own profile's sources, and the citation column carries them) and no software."""
    names = ["Buôn Ma Thuột", "Bù Đăng", "Quy định 366", "Hướng dẫn 43", "Quy định 132", "BMT", "BĐ",
             "sản phẩm", "phần mềm", "tùy chọn", "tham số", "bộ giải"]
    for rule in CATALOGUE.rules:
        for word in names:
            assert word not in rule.title and word not in rule.summary, (rule.id, word)
