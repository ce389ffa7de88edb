"""Province-scale benchmark (issue 9): time and peak memory of check, solve and report, and the ratios.

Usage: python benchmarks/bench_scale.py [--sizes 10000,50000,150000,300000] [--seed 1] [--workers 2] [--no-report]
                                       [--render]
Each measurement runs the real CLI in a fresh process (``python -m solver check|solve|report``) on a case made by
``model.generate.generate_case``; peak memory is the child's maximum resident set size. Prints a table and the
ratios the issue asks for (solve ÷ check, growth per member). No assertion: it measures.

The report is also measured in parts, in a fresh process that loads and solves first: the Word report and the
Excel results alone (seconds each), the review version with a comment per change, and that process's peak memory.
``--render`` counts the pages of the Word report's body (before "PHỤ LỤC 1") as headless LibreOffice lays it out.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from model.generate import dumps_case, generate_case  # noqa: E402


def run(cmd: list[str]) -> tuple[float, float, int, str]:
    """(wall seconds, peak RSS MiB, exit code, stdout) of one command in a fresh process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT)
    out = proc.stdout.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss / 1024, proc.returncode, out


PARTS = r"""
import json, resource, sys, time
from model.loader import load_case
from solver.engine.solve import SolveOptions, solve
from solver.reports.excel import build_xlsx
from solver.reports.word import build_docx
loaded = load_case(sys.argv[1])
result = solve(loaded, SolveOptions(workers=int(sys.argv[2]), time_limit=float(sys.argv[3])))
out = {}
for name, build in (("word", lambda: build_docx(loaded, result)), ("excel", lambda: build_xlsx(loaded, result)),
                    ("review", lambda: build_docx(loaded, result, review=True))):
    start = time.perf_counter()
    data = build()
    out[name] = round(time.perf_counter() - start, 2)
    out[name + "_mb"] = round(len(data) / 2**20, 1)
    if name == "word":
        open(sys.argv[4], "wb").write(data)
out["peak_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
print(json.dumps(out))
"""


def report_parts(case_path: Path, docx_path: Path, workers: int, time_limit: float) -> dict:
    """Seconds of the Word report, the Excel results and the review version alone, after a load and a solve."""
    proc = subprocess.run([sys.executable, "-c", PARTS, str(case_path), str(workers), str(time_limit), str(docx_path)],
                          capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def body_pages(docx_path: Path) -> str:
    """The pages of the Word report's body (header to signature) as headless LibreOffice lays it out: the body,
    the document's first section (before "PHỤ LỤC 1"), is cut out and converted alone, since a province's
    appendices run to thousands of pages ("—" without LibreOffice). The cut is made in the XML text: removing a
    province's appendix tables from an lxml tree takes minutes."""
    import shutil
    import zipfile

    if not (shutil.which("soffice") and shutil.which("pdfinfo")):
        return "—"
    with zipfile.ZipFile(docx_path) as src:
        parts = {info.filename: src.read(info.filename) for info in src.infolist()}
    xml = parts["word/document.xml"]
    start = xml.index(b"<w:sectPr")  # the first section's properties, in the paragraph that ends the body
    end = xml.index(b"</w:sectPr>", start) + len(b"</w:sectPr>")
    para_end = xml.index(b"</w:p>", end) + len(b"</w:p>")
    parts["word/document.xml"] = xml[:start] + xml[end:para_end] + xml[start:end] + b"</w:body></w:document>"
    with tempfile.TemporaryDirectory() as tmp:
        cut = Path(tmp) / "than.docx"
        with zipfile.ZipFile(cut, "w", zipfile.ZIP_DEFLATED) as dst:
            for name, data in parts.items():
                dst.writestr(name, data)
        subprocess.run(["soffice", f"-env:UserInstallation={Path(tmp, 'profile').as_uri()}", "--headless",
                        "--convert-to", "pdf", "--outdir", tmp, str(cut)], capture_output=True, timeout=600)
        pdf = cut.with_suffix(".pdf")
        if not pdf.exists():
            return "—"
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
        return next((line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")), "—")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,50000,150000,300000")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--time-limit", type=float, default=120)
    ap.add_argument("--no-report", action="store_true", help="skip the Word + Excel report run")
    ap.add_argument("--render", action="store_true",
                    help="count the pages of the Word report's body with headless LibreOffice")
    args = ap.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    print(f"# machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"# workers {args.workers}, seed {args.seed}, time limit {args.time_limit:g} s")
    header = ("members", "subjects", "check s", "solve s", "solve/check", "peak MiB", "status", "changed", "µs/member",
              "report s", "report peak MiB", "Word s", "Excel s", "review Word s", "Word/Excel/review MB",
              "parts peak MiB", "Word body pages")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            case_path = Path(tmp) / f"case_{n}.json"
            out_path = Path(tmp) / f"out_{n}.json"
            data = generate_case(n, args.seed)
            case_path.write_text(dumps_case(data), encoding="utf-8")
            check_s, _, check_rc, _ = run([sys.executable, "-m", "solver", "check", str(case_path)])
            solve_s, peak, rc, text = run([sys.executable, "-m", "solver", "solve", str(case_path), "--json",
                                           str(out_path), "--workers", str(args.workers),
                                           "--time-limit", str(args.time_limit)])
            result = json.loads(out_path.read_text(encoding="utf-8")) if out_path.exists() else {}
            status = result.get("status", f"exit {rc}")
            if result.get("status") == "optimal" and not result.get("proven_optimal"):
                status = "optimal?"  # never happens: the JSON says proven only when proven
            changed = (result.get("objective") or {}).get("changed", "")
            report = ("—",) * 8
            if not args.no_report:  # load, solve, explanations, the Word report and the Excel results
                report_s, report_peak, report_rc, _ = run(
                    [sys.executable, "-m", "solver", "report", str(case_path), "--docx", str(Path(tmp) / "r.docx"),
                     "--xlsx", str(Path(tmp) / "r.xlsx"), "--no-date", "--audit", "off",
                     "--workers", str(args.workers), "--time-limit", str(args.time_limit)])
                parts = report_parts(case_path, Path(tmp) / "parts.docx", args.workers, args.time_limit)
                pages = body_pages(Path(tmp) / "parts.docx") if args.render and "word" in parts else "—"
                report = (f"{report_s:.2f}" if report_rc == 0 else f"exit {report_rc}", f"{report_peak:.0f}",
                          parts.get("word", "?"), parts.get("excel", "?"), parts.get("review", "?"),
                          f"{parts.get('word_mb', '?')}/{parts.get('excel_mb', '?')}/{parts.get('review_mb', '?')}",
                          parts.get("peak_mib", "?"), pages)
            row = (n, len(data["subjects"]), f"{check_s:.2f}", f"{solve_s:.2f}", f"{solve_s / check_s:.2f}",
                   f"{peak:.0f}", status, changed, f"{1e6 * solve_s / n:.1f}", *report)
            rows.append(row)
            print("| " + " | ".join(str(x) for x in row) + " |", flush=True)
            if check_rc != 0:
                print(f"# check exited {check_rc}")
    if len(rows) >= 2:
        first, last = rows[0], rows[-1]
        growth = (float(last[3]) / float(first[3])) / (last[0] / first[0])
        print(f"# growth of solve time relative to linear, {first[0]} → {last[0]} members: {growth:.2f}× "
              "(1.0 = linear)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
