"""Quality benchmark (issue 9.5): how many more changes the manual weakest-first method makes than xeploai.

Usage: python benchmarks/bench_quality.py
Runs on every shipped scenario and on generated interplay-heavy cases (an XS organization with an XS
collective and an XS secretary competing for one quota place with an organization whose collective is
already lower). Prints a table; the last column must never be negative.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from model.generate import generate_case  # noqa: E402
from model.loader import load_case, parse_case  # noqa: E402
from solver.engine.greedy import greedy  # noqa: E402
from solver.engine.solve import solve  # noqa: E402
from solver.verify import verify  # noqa: E402


def row(name: str, loaded) -> tuple:
    best = solve(loaded)
    manual = greedy(loaded)
    assert not verify(loaded, manual), "the manual method must still give a valid assignment"
    manual_changed = sum(1 for s in manual if manual[s] != loaded.targets[s])
    return name, best.status, best.changed, manual_changed, manual_changed - best.changed


def main() -> int:
    cases = [(p.stem, load_case(p)) for p in sorted((ROOT / "scenarios").glob("*.json"))]
    for seed in (1, 2, 3):
        cases.append((f"generated interplay, seed {seed}", parse_case(generate_case(5000, seed, interplay=True))))
    print("| case | status | xeploai changes | manual method changes | extra changes by hand |")
    print("|---|---|---|---|---|")
    worse = 0
    for name, loaded in cases:
        r = row(name, loaded)
        worse += r[-1] < 0
        print("| " + " | ".join(str(x) for x in r) + " |", flush=True)
    print(f"# cases where the manual method beat xeploai: {worse} (must be 0)")
    return 1 if worse else 0


if __name__ == "__main__":
    sys.exit(main())
