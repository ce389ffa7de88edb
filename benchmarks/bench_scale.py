"""Province-scale benchmark (issues 9 and 19): check, solve and report against the floor of parsing the input.

Usage: python benchmarks/bench_scale.py [--sizes 300000,600000] [--seed 11] [--workers 2] [--repeat 1]
                                        [--no-report] [--one-group N]

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
              "status", "changed", "report s", "report peak MiB")
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
        report = ("—", "—")
        if not args.no_report:
            report_s, report_peak, report_rc, _, _ = best(
                [sys.executable, "-m", "solver", "report", str(case_path), "--docx", str(tmp / "r.docx"),
                 "--xlsx", str(tmp / "r.xlsx"), "--no-date", "--audit", "off", "--workers", str(args.workers),
                 "--time-limit", str(args.time_limit)], args.repeat)
            report = (fmt(report_s) if report_rc == 0 else f"exit {report_rc}", f"{report_peak:.0f}")
        row = (n, len(data["subjects"]), fmt(floor), fmt(check_s) if check_rc == 0 else f"exit {check_rc}",
               fmt(check_s / floor), fmt(solve_s), fmt(solve_s / floor), f"{peak:.0f}", status, changed, *report)
        print("| " + " | ".join(str(x) for x in row) + " |", flush=True)
        details.append((n, floor, solve_s, phases))
    for n, floor, solve_s, phases in details:
        if not phases:
            continue
        print(f"\n# solve phases, {n} members (floor {fmt(floor)} s; solve {fmt(solve_s)} s end to end, interpreter "
              "start and imports included)")
        print("| phase | wall s | CPU s | wall/floor |")
        print("|---|---|---|---|")
        for name in PHASES:
            wall, cpu = phases["wall"].get(name), phases["cpu"].get(name)
            if wall is not None:
                print(f"| {name} | {fmt(wall)} | {fmt(cpu)} | {fmt(wall / floor)} |")
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="300000,600000")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--time-limit", type=float, default=120)
    ap.add_argument("--repeat", type=int, default=1, help="runs of each measurement; the fastest is kept")
    ap.add_argument("--no-report", action="store_true", help="skip the Word + Excel report run")
    ap.add_argument("--one-group", type=int, metavar="N", help="issue 18: one quota group of N members")
    args = ap.parse_args()
    print(f"# machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"load average at start {os.getloadavg()[0]:.1f}")
    print(f"# workers {args.workers}, seed {args.seed}, time limit {args.time_limit:g} s, best of {args.repeat}")
    with tempfile.TemporaryDirectory() as tmp:
        return one_group(args, Path(tmp)) if args.one_group else scale(args, Path(tmp))


if __name__ == "__main__":
    sys.exit(main())
