"""Province-scale benchmark (issues 9 and 19): check, solve and report against the floor of parsing the input.

Usage: python benchmarks/bench_scale.py [--sizes 300000,600000] [--seed 11] [--workers 2] [--repeat 1]
                                        [--no-report] [--render] [--one-group N]

For each size, a case made as ``xeploai generate --members N --seed S`` makes it is written to a temporary folder,
then each measurement runs in a fresh process:

- the **floor**: a Python process that reads the file and parses it with msgspec, the fastest JSON parser
  xeploai uses (``python -c "msgspec.json.decode(open(f, 'rb').read())"``, interpreter start included);
- ``python -m solver check`` and ``python -m solver solve --json OUT`` (read, validate, solve, verify, explain,
  write the JSON, append to the audit log), as a user runs them;
- ``python -m solver report`` (everything ``solve`` does, plus the Word report and the Excel workbook), unless
  ``--no-report``.

Wall time is the best of ``--repeat`` runs (the machine is shared); peak memory is the child's maximum resident set
size. The phases of ``solve`` come from the process itself (``XEPLOAI_PHASES``, ``solver.phases``): load (read and
validate), records, bounds, components (CP-SAT and enumeration), verify (the independent verifier), explain,
decisions, write (the JSON), audit. Each figure is also given as a ratio to the floor.

The report is also measured in parts, in a fresh process that loads and solves first: the Word report and the
Excel results alone (seconds each), the review version with a comment per change, and that process's peak memory.
``--render`` counts the pages of the Word report's body (before "PHỤ LỤC 1") as headless LibreOffice lays it out.

``--one-group N`` measures issue 18's large quota group instead: a case of N members all in one explicit quota
group, against the same case with its ordinary (many small) groups — solve time, output size, the changes and
the size of the longest explanation. No assertion: it measures.
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

PHASES = ("load", "records", "bounds", "components", "verify", "explain", "decisions", "write", "audit")
FLOOR = "import msgspec, sys; msgspec.json.decode(open(sys.argv[1], 'rb').read())"


def run(cmd: list[str], env: dict | None = None) -> tuple[float, float, int, str]:
    """(wall seconds, peak RSS MiB, exit code, output) of one command in a fresh process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT,
                            env={**os.environ, **(env or {})})
    out = proc.stdout.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    return wall, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status), out


def best(cmd: list[str], repeat: int, env: dict | None = None, phases_file: Path | None = None):
    """The fastest of ``repeat`` runs: (wall, peak MiB, exit code, output, phases or None)."""
    chosen = None
    for _ in range(repeat):
        if phases_file is not None and phases_file.exists():
            phases_file.unlink()
        wall, peak, rc, out = run(cmd, env)
        phases = json.loads(phases_file.read_text()) if phases_file is not None and phases_file.exists() else None
        if chosen is None or wall < chosen[0]:
            chosen = (wall, peak, rc, out, phases)
    return chosen


def fmt(x: float) -> str:
    return f"{x:.2f}"


def scale(args, tmp: Path) -> int:
    sizes = [int(x) for x in args.sizes.split(",")]
    header = ("members", "subjects", "floor s", "check s", "check/floor", "solve s", "solve/floor", "solve peak MiB",
              "status", "changed", "report s", "report peak MiB", "Word s", "Excel s", "review Word s",
              "Word/Excel/review MB", "parts peak MiB", "Word body pages")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    details = []
    for n in sizes:
        case_path, out_path = tmp / f"case_{n}.json", tmp / f"out_{n}.json"
        data = generate_case(n, args.seed)
        case_path.write_text(dumps_case(data), encoding="utf-8")
        floor = best([sys.executable, "-c", FLOOR, str(case_path)], args.repeat)[0]
        phases_file = tmp / "phases.json"
        env = {"XEPLOAI_PHASES": str(phases_file)}
        check_s, _, check_rc, _, _ = best([sys.executable, "-m", "solver", "check", str(case_path)], args.repeat)
        solve_s, peak, rc, _, phases = best(
            [sys.executable, "-m", "solver", "solve", str(case_path), "--json", str(out_path), "--workers",
             str(args.workers), "--time-limit", str(args.time_limit)], args.repeat, env, phases_file)
        result = json.loads(out_path.read_text(encoding="utf-8")) if out_path.exists() else {}
        status = result.get("status", f"exit {rc}")
        if result.get("status") == "optimal" and not result.get("proven_optimal"):
            status = "optimal?"  # never happens: the JSON says proven only when proven
        changed = (result.get("objective") or {}).get("changed", "")
        report = ("—",) * 8
        if not args.no_report:  # load, solve, explanations, the Word report and the Excel results
            report_s, report_peak, report_rc, _, _ = best(
                [sys.executable, "-m", "solver", "report", str(case_path), "--docx", str(tmp / "r.docx"),
                 "--xlsx", str(tmp / "r.xlsx"), "--no-date", "--audit", "off", "--workers", str(args.workers),
                 "--time-limit", str(args.time_limit)], args.repeat)
            parts = report_parts(case_path, tmp / "parts.docx", args.workers, args.time_limit)
            pages = body_pages(tmp / "parts.docx") if args.render and "word" in parts else "—"
            report = (fmt(report_s) if report_rc == 0 else f"exit {report_rc}", f"{report_peak:.0f}",
                      parts.get("word", "?"), parts.get("excel", "?"), parts.get("review", "?"),
                      f"{parts.get('word_mb', '?')}/{parts.get('excel_mb', '?')}/{parts.get('review_mb', '?')}",
                      parts.get("peak_mib", "?"), pages)
        row = (n, len(data["subjects"]), fmt(floor), fmt(check_s) if check_rc == 0 else f"exit {check_rc}",
               fmt(check_s / floor), fmt(solve_s), fmt(solve_s / floor), f"{peak:.0f}", status, changed, *report)
        print("| " + " | ".join(str(x) for x in row) + " |", flush=True)
        details.append((n, floor, solve_s, phases))
    for n, floor, solve_s, phases in details:
        if not phases:
            continue
        print(f"\n# solve phases, {n} members (floor {fmt(floor)} s; solve {fmt(solve_s)} s end to end, interpreter "
              "start and imports included)")
        print("| phase | wall s | CPU s | wall/floor | resident MiB at its end | peak MiB at its end |")
        print("|---|---|---|---|---|---|")
        for name in PHASES:
            wall, cpu = phases["wall"].get(name), phases["cpu"].get(name)
            rss, top = phases.get("rss", {}).get(name), phases.get("peak", {}).get(name)
            if wall is not None:
                mem = f"{rss:.0f} | {top:.0f}" if rss is not None else "— | —"
                print(f"| {name} | {fmt(wall)} | {fmt(cpu)} | {fmt(wall / floor)} | {mem} |")
        child = phases.get("other", {}).get("components_child")
        if child:  # half of the components were solved in a forked child
            private = child.get("private_mib")
            print(f"| components, half in a child process | | {fmt(child['cpu'])} | | memory not shared with the "
                  f"solving process: {'—' if private is None else f'{private:.0f}'} MiB | |")
        child = phases.get("other", {}).get("verify_child")
        if child:  # the verifier ran in a forked child while the solving process explained
            private = child.get("private_mib")
            print(f"| verify, in a child process beside explain | (waited {fmt(phases['wall'].get('verify', 0))}) | "
                  f"{fmt(child['cpu'])} | | memory not shared with the solving process: "
                  f"{'—' if private is None else f'{private:.0f}'} MiB | |")
        inside = sum(phases["wall"].values())
        print(f"| (start, imports, summary) | {fmt(solve_s - inside)} | | {fmt((solve_s - inside) / floor)} |")
    return 0


def one_group(args, tmp: Path) -> int:
    """Issue 18: one quota group of N members against the same members in their ordinary groups."""
    n = args.one_group
    data = generate_case(n, args.seed)
    members = [s["id"] for s in data["subjects"] if s["kind"] == "member" and s.get("rated", True)]
    grouped = dict(data, groups=[{"id": "NHOM_LON", "name": f"Nhóm tỷ lệ chung của {len(members)} đảng viên",
                                  "members": members}])
    print(f"# {n} members (seed {args.seed}); one explicit quota group holds all {len(members)} rated members")
    header = ("case", "solve s", "peak MiB", "status", "changed", "JSON MB", "bytes per change",
              "longest explanation (chars)", "most subjects named in one explanation")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for label, case in (("many small groups", data), ("one group", grouped)):
        case_path, out_path = tmp / "case.json", tmp / "out.json"
        case_path.write_text(dumps_case(case), encoding="utf-8")
        solve_s, peak, rc, _, _ = best([sys.executable, "-m", "solver", "solve", str(case_path), "--json",
                                        str(out_path), "--workers", str(args.workers), "--time-limit",
                                        str(args.time_limit), "--audit", "off"], args.repeat)
        size = out_path.stat().st_size if out_path.exists() else 0
        result = json.loads(out_path.read_text(encoding="utf-8")) if out_path.exists() else {}
        changes = result.get("changes", [])
        longest = max((len(r["text"]) for c in changes for r in c["reasons"]), default=0)
        most = max((len(r["others"]) for c in changes for r in c["reasons"]), default=0)
        changed = (result.get("objective") or {}).get("changed", "")
        row = (label, fmt(solve_s), f"{peak:.0f}", result.get("status", f"exit {rc}"), changed, f"{size / 1e6:.1f}",
               f"{size / max(1, len(changes)):.0f}", longest, most)
        print("| " + " | ".join(str(x) for x in row) + " |", flush=True)
    return 0


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
    ap.add_argument("--sizes", default="300000,600000")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--time-limit", type=float, default=120)
    ap.add_argument("--repeat", type=int, default=1, help="runs of each measurement; the fastest is kept")
    ap.add_argument("--no-report", action="store_true", help="skip the Word + Excel report run")
    ap.add_argument("--render", action="store_true",
                    help="count the pages of the Word report's body with headless LibreOffice")
    ap.add_argument("--one-group", type=int, metavar="N", help="issue 18: one quota group of N members")
    args = ap.parse_args()
    print(f"# machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"load average at start {os.getloadavg()[0]:.1f}")
    print(f"# workers {args.workers}, seed {args.seed}, time limit {args.time_limit:g} s, best of {args.repeat}")
    with tempfile.TemporaryDirectory() as tmp:
        return one_group(args, Path(tmp)) if args.one_group else scale(args, Path(tmp))


if __name__ == "__main__":
    sys.exit(main())
