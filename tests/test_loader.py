"""The case loader rejects each kind of bad input with one Vietnamese problem naming its field; good cases load, NFC."""

from __future__ import annotations

import json
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
