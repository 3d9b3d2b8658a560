"""The direct method with and without reusing the line search's eta0 refinement.

Runs the perfect scheme of Table I realisations (seeds of ``bench_optimize.py``) twice in
one process, reuse off then on, and prints both wall times, their ratio and whether the
designs are identical (they must be: the reuse skips a repeated, deterministic computation).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_direct_reuse.py --seeds 0 5
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import frisac.optimize.direct as direct
from frisac import Scenario, draw_realization
from frisac.experiments.spec import trial_seed
from frisac.optimize import SchemeOptions, run_schemes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 5])
    args = parser.parse_args()
    print(f"{'seed':>4} {'reuse off s':>12} {'reuse on s':>11} {'ratio':>6} {'identical':>9}")
    for seed in args.seeds:
        r = draw_realization(Scenario.default(), np.random.default_rng(trial_seed(1000, seed, 0)))
        runs = {}
        for reuse in (False, True):
            direct.REUSE_TRIAL_ETA = reuse
            start = time.perf_counter()
            result = run_schemes(r, ["perfect"], options=SchemeOptions(method="direct"))
            runs[reuse] = (time.perf_counter() - start, result["perfect"])
        (t_off, off), (t_on, on) = runs[False], runs[True]
        same = (
            off.design is not None
            and on.design is not None
            and np.array_equal(off.design.psi, on.design.psi)
            and np.array_equal(off.design.W, on.design.W)
            and np.array_equal(off.design.Rs, on.design.Rs)
        )
        print(f"{seed:>4} {t_off:>12.1f} {t_on:>11.1f} {t_off / t_on:>6.2f} {same!s:>9}")


if __name__ == "__main__":
    main()
