"""What-if benchmark (issue 9, target 3): re-solve a one-subject change on a province-sized case.

Usage: python benchmarks/bench_whatif.py [--members 300000] [--seed 1] [--count 10] [--check 1] [--workers 2]

Generates a case (``model.generate``), solves it once into a ``solver.engine.incremental.Session``, then applies
``--count`` what-ifs of each kind (a lock, a fact, a vote) that each change one subject, and times
``Session.apply``: validate the change, re-solve, verify, explain (the result in memory, as the app uses
it; writing a 40 MB JSON file is not part of a re-solve). ``--check`` of them are also solved in full
the ordinary way (apply the what-if to the raw case, load, solve) and the two answers compared byte for
byte (``--check`` of each kind). Prints a table and the ratios; no assertion: it measures.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from model.generate import generate_case  # noqa: E402
from model.loader import no_gc, parse_case  # noqa: E402
from model.whatif import apply_whatif  # noqa: E402
from solver.engine.incremental import Session  # noqa: E402
from solver.engine.solve import SolveOptions, solve  # noqa: E402


def whatif(data: dict, kind: str, rng: random.Random) -> dict:
    """One what-if of ``kind`` on one random subject that can take it."""
    delta = {"whatif": f"Nếu thay đổi một đối tượng ({kind})?", "base": "goc.json"}
    subjects = data["subjects"]
    while True:
        s = rng.choice(subjects)
        decided = s["kind"] != "unit" and s.get("rated", True)
        if kind == "lock" and decided:
            delta["lock"] = {s["id"]: rng.choice(["XS", "T", "HT"])}
            return delta
        if kind == "fact" and s["kind"] == "member":
            delta["facts"] = {s["id"]: {"disciplined": not (s.get("facts") or {}).get("disciplined", False)}}
            return delta
        if kind == "vote" and decided and s.get("votes") and s.get("target") is None:
            n = sum(s["votes"].values())
            xs = rng.randint(0, n)
            delta["votes"] = {s["id"]: {"XS": xs, "T": n - xs, "TB": 0, "K": 0}}
            return delta


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--members", type=int, default=300_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=10, help="what-ifs of each kind")
    ap.add_argument("--check", type=int, default=1, help="what-ifs of each kind also solved in full and compared")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    opts = SolveOptions(workers=args.workers, time_limit=300)
    print(f"# machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"# {args.members:,} members, seed {args.seed}, workers {args.workers}")
    data = generate_case(args.members, args.seed)
    with no_gc():
        t0 = time.perf_counter()
        loaded = parse_case(data, "goc.json")
        t1 = time.perf_counter()
        session = Session(loaded, opts, raw=data)
        t2 = time.perf_counter()
    print(f"# load and validate {t1 - t0:.2f} s; base solve kept for what-ifs {t2 - t1:.2f} s "
          f"({session.result.status}, {session.result.changed} changed)")
    rng = random.Random(args.seed)
    print("| what-if | count | median s | max s | incremental | full solve s | same answer | full ÷ what-if |")
    print("|---|---|---|---|---|---|---|---|")
    worst = 0.0
    for kind in ("lock", "fact", "vote"):
        times, modes, fulls, same = [], 0, [], []
        checked = 0
        for _ in range(args.count):
            delta = whatif(data, kind, rng)
            start = time.perf_counter()
            _, result = session.apply(delta, "gia_dinh.json", "goc.json")
            took = time.perf_counter() - start
            times.append(took)
            modes += session.last_mode == "incremental" or result.status == "conflict"
            if checked < args.check:
                checked += 1
                with no_gc():
                    start = time.perf_counter()
                    applied = apply_whatif(data, delta, None, file="gia_dinh.json", base_file="goc.json")
                    full_loaded = parse_case(applied, "gia_dinh.json (áp dụng lên goc.json)", nfc_done=True)
                    full = solve(full_loaded, opts)
                    fulls.append(time.perf_counter() - start)
                same.append(full.dumps() == result.dumps())
        worst = max(worst, max(times))
        med = statistics.median(times)
        full_s = f"{statistics.mean(fulls):.2f}" if fulls else "—"
        ratio = f"{statistics.mean(fulls) / med:.0f}×" if fulls else "—"
        same_s = f"{sum(same)}/{len(same)}" if same else "—"
        print(f"| {kind} | {len(times)} | {med:.3f} | {max(times):.3f} | {modes}/{len(times)} | {full_s} | {same_s} | "
              f"{ratio} |")
    print(f"# slowest what-if {worst:.3f} s (target ≤ 1 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
