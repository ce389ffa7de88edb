"""The case loader rejects each kind of bad input with one Vietnamese problem naming its field; good cases load, NFC."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from model.case import Kind
from model.errors import CaseInvalid
from model.loader import load_case, parse_case
from solver.commands.cli import EXIT_INVALID

ROOT = Path(__file__).resolve().parents[1]
BAD = ROOT / "tests" / "data" / "bad"
EXAMPLES = sorted((ROOT / "tests" / "data" / "examples").glob("*.json"))
SCENARIOS = sorted((ROOT / "scenarios").glob("*.json"))

_VIETNAMESE_LETTER = re.compile(
    "[àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ]", re.IGNORECASE
)
#: Phrases pydantic or Python would print if an error escaped untranslated.
_ENGLISH = ("Input should", "Field required", "Value error", "validation error", "Extra inputs", "Traceback")

#: fixture stem → (field the first problem names, subject or group it names, text the message must contain).
#: ``None`` for field/subject means the problem is about the whole file.
EXPECTED: dict[str, tuple[str | None, str | None, str]] = {
    "duplicate_id": ("id", "DV1", "trùng"),
    "unknown_parent": ("parent", "DV1", "CB_KHONG_CO"),
    "parent_cycle": ("parent", None, "vòng"),
    "member_parent_not_org": ("parent", "DV2", "tổ chức đảng"),
    "leader_heads_non_collective": ("heads", "BT", "tập thể"),
    "collective_leads_member": ("leads", "CU", "đảng viên"),
    "missing_tier": ("tier", "CB", "tier"),
    "unit_without_level": ("level", "UB", "level"),
    "unit_with_votes": ("votes", "UB", "đơn vị"),
    "no_majority": ("votes", "CB", "quá bán"),
    "votes_exceed_voters": ("voters", "CB", "lớn hơn số người tham gia"),
    "negative_votes": ("votes.XS", "CB", "lớn hơn hoặc bằng 0"),
    "level_typo": ("proposed", "CB", "XSS"),
    "unknown_field": ("colour", "CB", "không có trong định dạng"),
    "fact_wrong_kind": ("facts.disciplined", "UB", "không áp dụng"),
    "group_unknown_member": ("members", "N1", "DV9"),
    "group_mixed_kinds": ("members", "N1", "trộn"),
    "subject_in_two_groups": ("members", "N2", "DV1"),
    "unknown_profile": ("profile", None, "bmt-2099"),
    "bad_option": ("options.cap_percent", None, "100"),
    "lock_on_unrated": ("lock", "DV1", "khóa"),
    "no_target": ("votes", "DV1", "không có phiếu"),
    "not_json": (None, None, "JSON sai cú pháp"),
    "top_level_list": (None, None, "đối tượng JSON"),
    "not_utf8": (None, None, "UTF-8"),
    # issue 18: JSON is read with strict types (no "yes" for true, no true for a count, no "15" for 15)
    "lax_bool_as_text": ("facts.disciplined", "DV1", "phải là true hoặc false, nhận được chữ «yes»"),
    "lax_ballot_as_boolean": ("votes.XS", "DV1", "phải là số nguyên, nhận được giá trị đúng/sai true"),
    "lax_voters_as_text": ("voters", "DV1", "hãy bỏ dấu ngoặc kép"),
    "lax_rated_as_text": ("rated", "DV1", "phải là true hoặc false, nhận được chữ «false» (hãy bỏ dấu ngoặc kép)"),
    # ids hold no hidden character; names no line break
    "id_zero_width": ("id", "DV\u200b1", "khoảng trắng độ rộng 0 không nhìn thấy (U+200B) ở ký tự thứ 3"),
    "id_bidi_override": ("id", "DV\u202e1", "ký tự đổi chiều viết không nhìn thấy (U+202E)"),
    "name_line_break": ("name", "DV1", "dấu xuống dòng (U+000A)"),
    # organization tiers follow the hierarchy; explicit groups cannot take a derived group's id
    "tier_upper_under_grassroots": ("tier", "HU", "dưới một tổ chức cơ sở đảng chỉ có chi bộ trực thuộc"),
    "group_id_like_derived": ("id", "dv:CB", "nhóm tỷ lệ xeploai tự lập"),
    "option_threshold_too_large": ("options.small_group_threshold", None, "nhỏ hơn hoặc bằng 100"),
}

def test_every_bad_fixture_has_an_expectation_and_vice_versa():
    assert sorted(p.stem for p in BAD.glob("*.json")) == sorted(EXPECTED)


@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_bad_fixture_is_rejected_naming_its_field(stem):
    field, subject, fragment = EXPECTED[stem]
    path = BAD / f"{stem}.json"
    with pytest.raises(CaseInvalid) as info:
        load_case(path)
    problems = info.value.problems
    assert problems, "CaseInvalid must carry at least one problem"
    first = problems[0]
    assert not first.warning
    assert first.file == str(path)
    assert first.field == field
    if subject is not None:
        assert first.subject == subject
    assert fragment in first.message
    rendered = str(first)
    assert _VIETNAMESE_LETTER.search(first.message), f"message is not Vietnamese: {first.message!r}"
    assert not any(e in rendered for e in _ENGLISH), rendered
    if field is not None:
        assert f"trường «{field}»" in rendered
    assert rendered.startswith("Lỗi — ")


def test_parent_cycle_names_both_organizations_of_the_cycle():
    with pytest.raises(CaseInvalid) as info:
        load_case(BAD / "parent_cycle.json")
    first = info.value.problems[0]
    assert first.subject in ("A", "B")
    assert "A" in first.message and "B" in first.message


def test_syntax_error_names_the_line():
    with pytest.raises(CaseInvalid) as info:
        load_case(BAD / "not_json.json")
    assert info.value.problems[0].row == 2  # the trailing comma sits on line 2 of the fixture


def test_the_latin1_fixture_really_is_not_utf8():
    raw = (BAD / "not_utf8.json").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert json.loads(raw.decode("latin-1"))["subjects"]  # otherwise a well-formed case


def test_missing_file_is_a_vietnamese_problem(tmp_path):
    with pytest.raises(CaseInvalid) as info:
        load_case(tmp_path / "khong_co.json")
    assert "không mở được tệp" in info.value.problems[0].message


def test_every_problem_is_reported_not_just_the_first():
    data = {"name": "Nhiều lỗi", "subjects": [
        {"id": "CB", "name": "Chi bộ", "kind": "party_org", "proposed": "T"},  # no tier
        {"id": "DV1", "name": "Đảng viên 1", "kind": "member", "parent": "KHONG_CO", "proposed": "T"},
    ]}
    with pytest.raises(CaseInvalid) as info:
        parse_case(data, "nhieu_loi.json")
    fields = [(p.subject, p.field) for p in info.value.problems]
    assert ("CB", "tier") in fields and ("DV1", "parent") in fields


# ---- the command line on the same fixtures ---------------------------------------------------------


@pytest.fixture(scope="module")
def cli_runs():
    """``python -m solver check`` on every bad fixture, the processes started together to keep this fast."""
    procs = {
        stem: subprocess.Popen([sys.executable, "-m", "solver", "check", str(BAD / f"{stem}.json")],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for stem in sorted(EXPECTED)
    }
    out = {}
    for stem, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=120)
        out[stem] = (proc.returncode, stdout.decode("utf-8"), stderr.decode("utf-8"))
    return out


@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_cli_check_exits_2_and_names_the_field(stem, cli_runs):
    field, _subject, fragment = EXPECTED[stem]
    code, stdout, stderr = cli_runs[stem]
    assert code == EXIT_INVALID
    assert "Traceback" not in stdout + stderr
    assert "Hồ sơ không hợp lệ" in stdout
    assert f"{stem}.json" in stdout
    assert fragment in stdout
    if field is not None:
        assert f"trường «{field}»" in stdout


# ---- NFC and the good cases ------------------------------------------------------------------------


def _nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def test_nfd_names_and_ids_load_as_nfc(tmp_path):
    org_id, member_id = "Chi-bộ-Hòa-Bình", "Đảng-viên-Nguyễn-Thị-Hằng"
    data = {
        "name": _nfd("Hồ sơ viết ở dạng NFD"),
        "subjects": [
            {"id": _nfd(org_id), "name": _nfd("Chi bộ Hòa Bình"), "kind": "party_org", "tier": "grassroots",
             "parent": None, "proposed": _nfd("XS")},
            {"id": _nfd(member_id), "name": _nfd("Nguyễn Thị Hằng"), "kind": "member",
             "parent": _nfd(org_id), "votes": {"XS": 3, "T": 10, "TB": 2, "K": 0}},
        ],
        "groups": [{"id": _nfd("nhóm-một"), "name": _nfd("Nhóm một"), "members": [_nfd(member_id)]}],
    }
    raw = json.dumps(data, ensure_ascii=False)
    assert not unicodedata.is_normalized("NFC", raw)  # the test really feeds NFD
    path = tmp_path / "nfd.json"
    path.write_text(raw, encoding="utf-8")
    loaded = load_case(path)
    case = loaded.case
    assert case.name == "Hồ sơ viết ở dạng NFD"
    assert [s.id for s in case.subjects] == [org_id, member_id]
    assert [s.name for s in case.subjects] == ["Chi bộ Hòa Bình", "Nguyễn Thị Hằng"]
    assert case.subjects[1].parent == org_id
    assert case.groups[0].id == "nhóm-một" and case.groups[0].members == (member_id,)
    every_string = json.dumps(case.model_dump(mode="json"), ensure_ascii=False)
    assert unicodedata.is_normalized("NFC", every_string)
    assert loaded.hierarchy.members_of[org_id] == [member_id]  # NFD references resolved after NFC


def test_nfd_and_nfc_spellings_of_one_id_are_the_same_subject():
    data = {"name": "Mã trùng qua chuẩn hóa", "subjects": [
        {"id": "Chi bộ Hòa", "name": "Chi bộ Hòa", "kind": "party_org", "tier": "grassroots", "proposed": "T"},
        {"id": _nfd("Chi bộ Hòa"), "name": "Chi bộ Hòa (bản sao)", "kind": "party_org", "tier": "grassroots",
         "proposed": "T"},
    ]}
    with pytest.raises(CaseInvalid) as info:
        parse_case(data)
    assert info.value.problems[0].field == "id"


def test_there_are_examples_and_scenarios_to_load():
    assert len(EXAMPLES) >= 9
    assert any(p.name == "phuong_tan_loi_2018.json" for p in SCENARIOS)


@pytest.mark.parametrize("path", EXAMPLES + SCENARIOS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_good_case_loads(path):
    loaded = load_case(path)
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert len(loaded.case.subjects) == len(raw["subjects"])
    assert all(not w.message.startswith("Traceback") for w in loaded.warnings)
    rated = [s for s in loaded.case.subjects if s.decided]
    assert all(s.target_level() is not None for s in rated)
    assert set(loaded.hierarchy.group_of) == {s.id for s in rated}


def test_tan_loi_scenario_has_the_shape_it_claims():
    loaded = load_case(ROOT / "scenarios" / "phuong_tan_loi_2018.json")
    by_kind: dict[Kind, list] = {}
    for s in loaded.case.subjects:
        by_kind.setdefault(s.kind, []).append(s)
    members = by_kind[Kind.member]
    assert 120 <= len(members) <= 150
    branches = [s for s in by_kind[Kind.party_org] if s.tier is not None and s.tier.value == "branch"]
    assert 5 <= len(branches) <= 6
    assert all(15 <= (m.voters or m.votes.total) <= 30 for m in members if m.votes is not None)
    voted = [m.voted().code for m in members if m.decided]
    share = {code: voted.count(code) / len(voted) for code in ("XS", "T", "HT", "K")}
    assert 0.15 <= share["XS"] <= 0.20 and 0.70 <= share["T"] <= 0.75
    assert 0.08 <= share["HT"] <= 0.10 and share["K"] <= 0.01
    assert sum(not m.rated for m in members) == 1
    assert loaded.warnings == []


# ---- issue 18: what the loader refuses before reading, and strict types everywhere -----------------


def _small_case() -> dict:
    return {"name": "Nhỏ", "subjects": [
        {"id": "CB", "name": "Chi bộ", "kind": "party_org", "tier": "grassroots", "proposed": "T"},
        {"id": "DV1", "name": "Đảng viên A", "kind": "member", "parent": "CB", "votes": {"XS": 9, "T": 6},
         "voters": 15, "facts": {"sick_leave_months": 3}},
    ]}


def test_a_folder_given_as_a_case_is_refused_in_vietnamese(tmp_path):
    for name in ("ho_so.json", "ho_so.xlsx"):
        folder = tmp_path / name
        folder.mkdir()
        with pytest.raises(CaseInvalid) as info:
            load_case(folder)
        assert "thư mục" in info.value.problems[0].message


@pytest.mark.parametrize("suffix", [".json", ".xlsx"])
def test_a_fifo_is_refused_without_blocking_or_reading_it(tmp_path, suffix):
    fifo = tmp_path / f"ong{suffix}"
    os.mkfifo(fifo)  # opening it for reading would block until a writer came: it must not be opened
    with pytest.raises(CaseInvalid) as info:
        load_case(fifo)
    assert "không phải một tệp thường" in info.value.problems[0].message


def test_dev_zero_is_refused_not_read_forever():
    with pytest.raises(CaseInvalid) as info:
        load_case("/dev/zero")
    assert "không phải một tệp thường" in info.value.problems[0].message


def test_the_reader_is_bounded_whatever_stat_says(tmp_path, monkeypatch):
    import model.loader as loader

    path = tmp_path / "lon.json"
    path.write_text(json.dumps(_small_case()), encoding="utf-8")
    monkeypatch.setattr(loader, "MAX_BYTES", 64)  # stat says 300 bytes > 64: refused before reading
    with pytest.raises(CaseInvalid) as info:
        loader.read_json(path)
    assert "quá lớn" in info.value.problems[0].message
    real_stat = os.stat

    class Small:  # a file that says it is small (as /proc files do) is still read at most MAX_BYTES + 1
        def __init__(self, st):
            self.st_mode, self.st_size = st.st_mode, 0

    monkeypatch.setattr(loader.os, "stat", lambda p, *a, **k: Small(real_stat(p, *a, **k)))
    with pytest.raises(CaseInvalid) as info:
        loader.read_json(path)
    assert "quá lớn" in info.value.problems[0].message


def test_a_workbook_saved_with_a_json_name_is_named_for_what_it_is(tmp_path):
    xls, xlsx = tmp_path / "cu.json", tmp_path / "moi.json"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    xlsx.write_bytes(b"PK\x03\x04" + bytes(600))
    with pytest.raises(CaseInvalid) as info:
        load_case(xls)
    assert "Excel 97–2003 (.xls) chưa được hỗ trợ, hãy lưu thành .xlsx" in info.value.problems[0].message
    with pytest.raises(CaseInvalid) as info:
        load_case(xlsx)
    assert "đuôi tệp là .xlsx" in info.value.problems[0].message


@pytest.mark.parametrize("where, value, field", [
    (("facts", "disciplined"), 1, "facts.disciplined"),
    (("facts", "sick_leave_months"), "3", "facts.sick_leave_months"),
    (("facts", "sick_leave_months"), True, "facts.sick_leave_months"),
    (("votes", "T"), 6.0, "votes.T"),
    (("votes", "T"), "6", "votes.T"),
    (("may_rise",), "true", "may_rise"),
    (("voters",), 15.0, "voters"),
    (("same_level_units",), "UB", "same_level_units"),
])
def test_every_wrong_json_type_is_an_error_naming_the_subject_and_field(where, value, field):
    data = _small_case()
    target = data["subjects"][1]
    for key in where[:-1]:
        target = target.setdefault(key, {})
    target[where[-1]] = value
    with pytest.raises(CaseInvalid) as info:
        parse_case(data, "kieu_sai.json")
    first = info.value.problems[0]
    assert (first.file, first.subject, first.field) == ("kieu_sai.json", "DV1", field)
    assert not any(e in first.message for e in _ENGLISH) and _VIETNAMESE_LETTER.search(first.message)


def test_an_integer_number_of_sick_months_is_still_a_number():
    loaded = parse_case(_small_case(), "dung.json")
    assert loaded.hierarchy.subjects["DV1"].facts.sick_leave_months == 3.0


@pytest.mark.parametrize("field, value", [("whatif", "Nếu…\nthì sao?"), ("rerate", "true"), ("lock", {"DV1": 3})])
def test_a_whatif_with_a_wrong_type_is_refused_naming_the_field(field, value):
    from model.whatif import parse_whatif

    data = {"whatif": "Nếu khóa DV1?", "base": "goc.json", "lock": {"DV1": "T"}, field: value}
    with pytest.raises(CaseInvalid) as info:
        parse_whatif(data, "gia_dinh.json")
    assert info.value.problems[0].field.split(".")[0] == field


def test_whatif_facts_are_strict_too(tmp_path):
    from model.whatif import load_case_or_whatif

    (tmp_path / "goc.json").write_text(json.dumps(_small_case(), ensure_ascii=False), encoding="utf-8")
    (tmp_path / "gd.json").write_text(json.dumps({"whatif": "Nếu DV1 bị kỷ luật?", "base": "goc.json",
                                                  "facts": {"DV1": {"disciplined": "yes"}}}), encoding="utf-8")
    with pytest.raises(CaseInvalid) as info:
        load_case_or_whatif(tmp_path / "gd.json")
    assert info.value.problems[0].field == "facts.DV1.disciplined"


@pytest.mark.parametrize("name", ["Nguyễn\u200bVăn An", "Nguyễn Văn An\u202e", "Nguyễn\tVăn"])
def test_a_hidden_character_in_a_name_is_refused_and_shown_visibly(name):
    data = _small_case()
    data["subjects"][1]["name"] = name
    with pytest.raises(CaseInvalid) as info:
        parse_case(data, "ten.json")
    first = info.value.problems[0]
    assert first.field == "name" and "⟨U+" in str(first)
    assert str(first).isprintable()


def test_a_name_may_hold_a_non_breaking_space_and_any_vietnamese_letter():
    data = _small_case()
    data["subjects"][1]["name"] = "Nguyễn\u00a0Thị Ánh Tuyết — Đảng viên (dự bị)"
    parse_case(data, "ten.json")


@pytest.mark.parametrize("ref", ["parent", "category"])
def test_a_hidden_character_in_a_reference_is_refused(ref):
    data = _small_case()
    data["subjects"][1][ref] = "CB\u200d"
    with pytest.raises(CaseInvalid) as info:
        parse_case(data, "tham_chieu.json")
    assert info.value.problems[0].field == ref


@pytest.mark.parametrize("tiers, fragment", [
    (("grassroots", "upper"), "dưới một tổ chức cơ sở đảng chỉ có chi bộ trực thuộc"),
    (("grassroots", "grassroots"), "dưới một tổ chức cơ sở đảng chỉ có chi bộ trực thuộc"),
    (("upper", "branch"), "chi bộ trực thuộc phải thuộc một tổ chức cơ sở đảng"),
    (("branch", "grassroots"), "dưới một đảng bộ bộ phận chỉ có chi bộ trực thuộc"),
    (("branch", "upper"), "dưới một đảng bộ bộ phận chỉ có chi bộ trực thuộc"),
])
def test_an_organization_tier_the_hierarchy_does_not_allow_is_an_error_naming_the_rule(tiers, fragment):
    above, below = tiers
    data = {"name": "Cấp", "subjects": [
        {"id": "A", "name": "Tổ chức A", "kind": "party_org", "tier": above, "proposed": "T"},
        {"id": "B", "name": "Tổ chức B", "kind": "party_org", "tier": below, "parent": "A", "proposed": "T"},
    ]}
    with pytest.raises(CaseInvalid) as info:
        parse_case(data, "cap.json")
    first = info.value.problems[0]
    assert (first.subject, first.field) == ("B", "tier")
    assert fragment in first.message and "«A»" in first.message


def test_the_tiers_the_hierarchy_allows_load():
    orgs = [("T", "upper", None), ("H", "upper", "T"), ("D", "grassroots", "H"), ("P", "branch", "D"),
            ("C", "branch", "P"), ("S", "grassroots", None), ("X", "branch", None)]
    parse_case({"name": "Cấp", "subjects": [
        {"id": i, "name": f"Tổ chức {i}", "kind": "party_org", "tier": t, "parent": p, "proposed": "T"}
        for i, t, p in orgs]}, "cap.json")


@pytest.mark.parametrize("gid", ["dv:CB", "tcd::grassroots", "collective:chi_uy", "leader:#BT"])
def test_an_explicit_group_cannot_take_the_form_of_a_derived_group_id(gid):
    data = _small_case()
    data["groups"] = [{"id": gid, "name": "Nhóm", "members": ["DV1"]}]
    with pytest.raises(CaseInvalid) as info:
        parse_case(data, "nhom.json")
    first = info.value.problems[0]
    assert (first.sheet, first.field, first.subject) == ("groups", "id", gid)


@pytest.mark.parametrize("option", ["small_group_threshold", "small_group_allowance"])
def test_small_group_options_are_bounded(option):
    data = _small_case()
    data["options"] = {option: 10**30}
    with pytest.raises(CaseInvalid) as info:
        parse_case(data, "tuy_chon.json")
    assert info.value.problems[0].field == f"options.{option}"
    data["options"] = {option: 100}
    parse_case(data, "tuy_chon.json")
