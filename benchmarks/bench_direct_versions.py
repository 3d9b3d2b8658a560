"""The direct method at two commits, side by side: wall time per L-BFGS iteration.

Checks a baseline commit out into a temporary git worktree and runs, for every case, the
same scheme with the baseline's code and with this checkout's code, one after the other,
each in a fresh single-threaded Python process (so neither run warms the other's caches).
Trajectories differ in the last digits between versions (any change of rounding does
that), so the iteration counts differ too; the fair measure of the cost of the method is
the time per L-BFGS iteration, printed with its ratio, next to the totals and the bounds.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_direct_versions.py --baseline 932e99b
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_direct_versions.py --baseline 932e99b \\
        --cases 0 5 1024 --repeats 2

A case is a Table I seed of bench_optimize.py, or 1024 for the R = 32 x 32 realisation of
bench_scaling.py (F = 256).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

RUN_CASE = """
import json, sys, time
import numpy as np
import frisac
from frisac import Scenario, draw_realization
from frisac.experiments.spec import trial_seed
from frisac.optimize import SchemeOptions, run_schemes
case, scheme = int(sys.argv[1]), sys.argv[2]
if case == 1024:
    scenario = Scenario.default().replace(R_y=32, R_z=32, F=256)
    r = draw_realization(scenario, np.random.default_rng(trial_seed(2000, 1024, 0)))
else:
    r = draw_realization(Scenario.default(), np.random.default_rng(trial_seed(1000, case, 0)))
start = time.perf_counter()
results = run_schemes(r, [scheme], options=SchemeOptions(method="direct"))
seconds = time.perf_counter() - start
result = results[scheme]
iterations = sum(res.iterations for res in results.values())
record = {"seconds": seconds, "iterations": iterations, "trace": result.trace_mcrb_phi}
print(json.dumps({**record, "module": frisac.__file__}))
"""


def run(src: Path, case: int, scheme: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src), "OMP_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", RUN_CASE, str(case), scheme],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    record = json.loads(out.stdout.strip().splitlines()[-1])
    if not Path(record["module"]).resolve().is_relative_to(src.resolve()):
        raise SystemExit(f"{src}: the run imported frisac from {record['module']} instead")
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="commit to compare against")
    parser.add_argument("--cases", type=int, nargs="+", default=[0, 5])
    parser.add_argument("--scheme", default="perfect", choices=["perfect", "proposed"])
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        worktree = Path(tmp) / "baseline"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(worktree), args.baseline],
            check=True,
            capture_output=True,
        )
        try:
            print(
                f"{'case':>5} {'version':>9} {'seconds':>8} {'iterations':>10} "
                f"{'ms/iter':>8} {'tr bound':>11}"
            )
            ratios = []
            for case in args.cases:
                for _ in range(args.repeats):
                    rows = {}
                    for label, src in (("baseline", worktree / "src"), ("current", ROOT / "src")):
                        rec = run(src, case, args.scheme)
                        rec["ms"] = 1e3 * rec["seconds"] / max(rec["iterations"], 1)
                        rows[label] = rec
                        print(
                            f"{case:>5} {label:>9} {rec['seconds']:>8.1f} "
                            f"{rec['iterations']:>10} {rec['ms']:>8.2f} {rec['trace']:>11.4e}",
                            flush=True,
                        )
                    ratio = rows["baseline"]["ms"] / rows["current"]["ms"]
                    ratios.append(ratio)
                    print(f"{case:>5} {'ratio':>9} per iteration (baseline / current): {ratio:.2f}")
            print(f"per-iteration speed-up: min {min(ratios):.2f}, max {max(ratios):.2f}")
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(worktree)],
                check=False,
                capture_output=True,
            )


if __name__ == "__main__":
    main()
