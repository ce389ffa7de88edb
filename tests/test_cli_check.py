"""``xeploai check``: exit codes and the Vietnamese summary of a case (counts per kind, quota groups, S5 stages)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from solver.commands.cli import EXIT_INVALID, EXIT_OK, main
from solver.explanations.words import number

ROOT = Path(__file__).resolve().parents[1]
TAN_LOI = ROOT / "scenarios" / "phuong_tan_loi_2018.json"
BAD = ROOT / "tests" / "data" / "bad"

#: The Vietnamese label the summary uses for each kind of subject.
LABELS = {
    "party_org": "Tổ chức đảng",
    "member": "Đảng viên",
    "collective": "Tập thể lãnh đạo, quản lý",
    "leader": "Cán bộ lãnh đạo, quản lý",
    "unit": "Cơ quan, đơn vị",
}


@pytest.fixture(scope="module")
def raw() -> dict:
    return json.loads(TAN_LOI.read_text(encoding="utf-8"))


def run_check(capsys, path: Path) -> tuple[int, str]:
    code = main(["check", str(path)])
    out = capsys.readouterr()
    assert out.err == ""
    return code, out.out


def expected_group_count(raw: dict) -> int:
    """Quota groups counted from the raw file by RULES.md §3: one per grassroots organization (members),
    per (parent, tier) of party organizations, per category of collectives and of leaders."""
    subjects = [s for s in raw["subjects"] if s.get("rated", True) and s["kind"] != "unit"]
    keys = set()
    for s in subjects:
        if s["kind"] == "member":
            keys.add(("member", "grassroots"))  # the scenario has a single grassroots organization
        elif s["kind"] == "party_org":
            keys.add(("org", s.get("parent"), s["tier"]))
        else:
            keys.add((s["kind"], s["category"]))
    return len(keys)


def test_check_on_the_ward_scenario_exits_0(capsys):
    code, out = run_check(capsys, TAN_LOI)
    assert code == EXIT_OK
    assert "Traceback" not in out
    assert out.rstrip().endswith("Kết quả kiểm tra: hợp lệ, không có lỗi.")


def test_check_prints_the_counts_per_kind_in_vietnamese(capsys, raw):
    _, out = run_check(capsys, TAN_LOI)
    lines = out.splitlines()
    assert lines[0] == f"Hồ sơ: {raw['name']}"
    assert "Bộ quy định: Hai hướng dẫn thực hiện Quy định 132-QĐ/TW đọc chung (Buôn Ma Thuột 2018 và Bù Đăng 2020) (mặc định)" in lines
    for kind, label in LABELS.items():
        of_kind = [s for s in raw["subjects"] if s["kind"] == kind]
        rated = [s for s in of_kind if s.get("rated", True)]
        expected = f"  {label}: {len(of_kind)}" + ("" if kind == "unit" else f" (xếp loại: {len(rated)})")
        assert expected in lines, expected
    members = [s for s in raw["subjects"] if s["kind"] == "member"]
    assert f"  Đảng viên: {len(members)} (xếp loại: {len(members) - 1})" in lines  # one new member, unrated
    assert "Không xếp loại (mới dưới 6 tháng, miễn sinh hoạt…): 1" in lines


def test_check_prints_the_tiers_and_the_quota_groups(capsys, raw):
    _, out = run_check(capsys, TAN_LOI)
    lines = out.splitlines()
    branches = sum(1 for s in raw["subjects"] if s.get("tier") == "branch")
    assert f"  Chi bộ trực thuộc / đảng bộ bộ phận: {branches}" in lines
    assert "  Tổ chức cơ sở đảng: 1" in lines
    n = expected_group_count(raw)
    assert f"Nhóm tỷ lệ: {n} (tự lập: {n}, khai báo: 0)" in lines
    rated_members = sum(1 for s in raw["subjects"] if s["kind"] == "member" and s.get("rated", True))
    assert f"  Đảng viên thuộc Đảng bộ phường Tân Lợi: {rated_members}" in lines
    chi_uy = sum(1 for s in raw["subjects"] if s.get("category") == "chi_uy")
    assert (f"  Tập thể lãnh đạo, quản lý: chi_uy (do cấp ủy Đảng bộ phường Tân Lợi xem xét, quyết định): {chi_uy}"
            in lines)
    branch_group = f"  Chi bộ trực thuộc / đảng bộ bộ phận trực thuộc Đảng bộ phường Tân Lợi: {branches}"
    assert branch_group in lines


def test_check_prints_the_targets_and_the_rating_stages(capsys, raw):
    _, out = run_check(capsys, TAN_LOI)
    lines = out.splitlines()
    voted = sum(1 for s in raw["subjects"] if s["kind"] != "unit" and s.get("rated", True) and "votes" in s)
    assert f"Mức mục tiêu: theo phiếu {voted}, ghi sẵn 0, theo đề xuất 0" in lines  # no scores: not named
    # longest S5 chain: member → chi bộ → Đảng bộ → Đảng ủy → Bí thư Đảng ủy
    assert "Thứ tự xếp loại (S5): 5 vòng họp" in lines
    assert not any(line.startswith("Cảnh báo") for line in lines)


def test_check_says_how_many_targets_come_from_scores(capsys):
    """QĐ 366: a scored subject's target is read from its score (after an explicit target, before the votes)."""
    path = ROOT / "scenarios" / "xa_2025.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    decided = [s for s in raw["subjects"] if s["kind"] != "unit" and s.get("rated", True)
               and not s.get("excluded")]
    scored = sum(1 for s in decided if "target" not in s and "score" in s)
    voted = sum(1 for s in decided if "target" not in s and "score" not in s and "votes" in s)
    assert scored > 0
    _, out = run_check(capsys, path)
    line = next(x for x in out.splitlines() if x.startswith("Mức mục tiêu:"))
    assert line.startswith(f"Mức mục tiêu: theo điểm {number(scored)}, theo phiếu {number(voted)}, ")


def test_check_output_is_nfc(capsys):
    _, out = run_check(capsys, TAN_LOI)
    assert unicodedata.is_normalized("NFC", out)


def test_check_lists_warnings_but_still_exits_0(capsys, tmp_path):
    case = {"name": "Tập thể không ghi đơn vị", "subjects": [
        {"id": "CB", "name": "Chi bộ", "kind": "party_org", "tier": "grassroots", "proposed": "T"},
        {"id": "CU", "name": "Chi ủy", "kind": "collective", "category": "chi_uy", "proposed": "T"},
    ]}
    path = tmp_path / "canh_bao.json"
    path.write_text(json.dumps(case, ensure_ascii=False), encoding="utf-8")
    code, out = run_check(capsys, path)
    assert code == EXIT_OK
    assert "Cảnh báo (1):" in out
    assert "trường «leads»" in out and "S1" in out


def test_check_on_a_bad_case_exits_2_with_the_problem(capsys):
    code, out = run_check(capsys, BAD / "duplicate_id.json")
    assert code == EXIT_INVALID
    assert out.startswith("Hồ sơ không hợp lệ: ")
    assert "(1 lỗi)" in out
    assert "trường «id»" in out and "DV1" in out


def test_check_via_python_m_solver_matches_the_in_process_output(capsys):
    _, in_process = run_check(capsys, TAN_LOI)
    proc = subprocess.run([sys.executable, "-m", "solver", "check", str(TAN_LOI)], cwd=ROOT,
                          capture_output=True, timeout=120)
    assert proc.returncode == EXIT_OK
    assert proc.stderr == b""
    assert proc.stdout.decode("utf-8") == in_process


@pytest.mark.skipif(shutil.which("xeploai") is None, reason="console script not installed")
def test_check_via_the_console_script_exits_0():
    proc = subprocess.run(["xeploai", "check", str(TAN_LOI)], cwd=ROOT, capture_output=True, timeout=120)
    assert proc.returncode == EXIT_OK
    assert "Kết quả kiểm tra: hợp lệ" in proc.stdout.decode("utf-8")
