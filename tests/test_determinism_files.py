"""The files a user keeps are byte-identical for the same input: the JSON of ``xeploai solve --json`` and the Excel
and Word files of ``xeploai report --no-date``, across 1, 2 and 8 workers, across runs (fresh processes with
different hash seeds, one with its clock a year ahead), on the ward scenario and on a generated case."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from model.generate import generate_case

ROOT = Path(__file__).resolve().parents[1]
TAN_LOI = ROOT / "scenarios" / "phuong_tan_loi_2018.json"

#: One run: ``solve --json`` then ``report --xlsx --docx --no-date``, both through ``solver.commands.cli.main``, in a
#: fresh process; the first argument shifts ``time.time`` (what zip timestamps are taken from) by days.
DRIVER = r"""
import sys, time
shift = float(sys.argv[1]) * 86400
if shift:
    real_time = time.time
    time.time = lambda: real_time() + shift
from solver.commands.cli import main
case, out, workers = sys.argv[2], sys.argv[3], sys.argv[4]
codes = [
    main(["solve", case, "--json", f"{out}/ket_qua.json", "--workers", workers]),
    main(["report", case, "--xlsx", f"{out}/ket_qua.xlsx", "--docx", f"{out}/bao_cao.docx", "--no-date",
          "--workers", workers]),
]
sys.exit(max(codes))
"""

#: (workers, PYTHONHASHSEED, clock shift in days): the worker counts of the issue, and two repeats.
RUNS = [(1, "1", 0), (2, "2", 0), (8, "3", 0), (2, "4", 0), (2, "5", 400)]
OUTPUTS = ("ket_qua.json", "ket_qua.xlsx", "bao_cao.docx")


def run(case: Path, out: Path, workers: int, seed: str, shift: float) -> subprocess.CompletedProcess:
    out.mkdir(parents=True)
    return subprocess.run([sys.executable, "-c", DRIVER, str(shift), str(case), str(out), str(workers)], cwd=ROOT,
                          capture_output=True, timeout=300,
                          env={**os.environ, "PYTHONHASHSEED": seed, "XEPLOAI_AUDIT": "off"})


def outputs_of_every_run(case: Path, folder: Path) -> dict[tuple, dict[str, bytes]]:
    with ThreadPoolExecutor(max_workers=2) as pool:
        procs = list(pool.map(lambda r: run(case, folder / f"w{r[0]}_s{r[1]}_t{r[2]}", *r), RUNS))
    outputs = {}
    for r, proc in zip(RUNS, procs):
        assert proc.returncode == 0, proc.stdout.decode() + proc.stderr.decode()
        out = folder / f"w{r[0]}_s{r[1]}_t{r[2]}"
        outputs[r] = {name: (out / name).read_bytes() for name in OUTPUTS}
    return outputs


@pytest.fixture(scope="module")
def generated_case(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("case") / "huyen_3000.json"
    path.write_text(json.dumps(generate_case(3_000, 11), ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module", params=["ward", "generated"])
def outputs(request, generated_case, tmp_path_factory) -> dict[tuple, dict[str, bytes]]:
    case = TAN_LOI if request.param == "ward" else generated_case
    return outputs_of_every_run(case, tmp_path_factory.mktemp(request.param))


@pytest.mark.parametrize("name", OUTPUTS)
def test_each_output_is_byte_identical_across_workers_and_runs(outputs, name):
    first = outputs[RUNS[0]][name]
    different = [r for r in RUNS if outputs[r][name] != first]
    assert different == [], f"{name} differs for (workers, hash seed, clock shift) {different}"


def test_the_outputs_are_real_files_of_an_optimal_solve(outputs):
    files = outputs[RUNS[0]]
    data = json.loads(files["ket_qua.json"])
    assert data["status"] == "optimal" and data["proven_optimal"] is True
    assert data["objective"]["changed"] > 0 and "wall_time_s" not in data
    for name in ("ket_qua.xlsx", "bao_cao.docx"):
        with zipfile.ZipFile(io.BytesIO(files[name])) as z:
            assert z.testzip() is None
            assert len({info.date_time for info in z.infolist()}) == 1  # one fixed stamp, not the clock


def test_the_word_report_carries_its_date_only_when_asked(tmp_path):
    from model.loader import load_case
    from solver.reports.word import write_docx
    from solver.engine.solve import SolveOptions, solve

    loaded = load_case(TAN_LOI)
    result = solve(loaded, SolveOptions(workers=1))
    dated, undated, undated2 = tmp_path / "a.docx", tmp_path / "b.docx", tmp_path / "c.docx"
    write_docx(loaded, result, dated, date="2031-07-15")
    write_docx(loaded, result, undated, date=None)
    write_docx(loaded, result, undated2, date=None)
    assert undated.read_bytes() == undated2.read_bytes()
    assert dated.read_bytes() != undated.read_bytes()
    with zipfile.ZipFile(dated) as z:
        text = z.read("word/document.xml").decode("utf-8")
    assert "2031" in text
