"""`explain --keep`: holding a subject gives either a conflict or a cost, with who else moves."""

from pathlib import Path

from model.levels import Level
from model.loader import load_case
from solver.commands.cli import main
from solver.explanations.whynot import hold

EXAMPLES = Path(__file__).resolve().parent / "data" / "examples"


def test_keeping_the_stronger_branch_costs_two_more_changes_in_example_03():
    w = hold(load_case(EXAMPLES / "03_quota_vs_head_collective.json"), "Q")
    assert w.possible and w.extra_changes == 2
    assert {i for i, _, _ in w.moved} == {"Q", "P", "CU_P", "BT_P"}


def test_keeping_a_weaker_member_at_xs_swaps_who_moves():
    loaded = load_case(EXAMPLES / "02_fewer_than_five.json")
    w = hold(loaded, "DV2", Level.XS)
    assert w.possible and w.extra_changes == 0  # the strongest (DV1) moves instead: same count, another person
    assert {i for i, _, _ in w.moved} == {"DV1", "DV2"}


def test_explain_cli_says_impossible_with_the_conflict(capsys):
    code = main(["explain", str(EXAMPLES / "05_conflicting_locks.json"), "DV3", "--keep", "Hoàn thành tốt nhiệm vụ"])
    out = capsys.readouterr().out
    assert code == 0
    assert "KHÔNG THỂ" in out and "C1" in out


def test_explain_cli_gives_the_cost(capsys):
    assert main(["explain", str(EXAMPLES / "03_quota_vs_head_collective.json"), "Q"]) == 0
    out = capsys.readouterr().out
    assert "CÓ THỂ" in out and "thêm 2 thay đổi" in out and "Chi ủy Thôn 1" in out


def test_explain_cli_rejects_an_unknown_id_and_a_bad_level(capsys):
    assert main(["explain", str(EXAMPLES / "03_quota_vs_head_collective.json"), "NOPE"]) == 2
    assert main(["explain", str(EXAMPLES / "03_quota_vs_head_collective.json"), "Q", "--keep", "XSS"]) == 2
    assert "không hợp lệ" in capsys.readouterr().out
