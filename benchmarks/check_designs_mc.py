"""Does each design's bound describe a real estimator? Monte-Carlo check of saved designs.

For designs saved by ``bench_optimize.py --designs DIR``: the nominal tr(MCRB_phi), the
validity flag (fit SNR, competing-peak margin), and what the misspecified maximum-
likelihood estimator actually does over N noisy echoes: its spread about phi0 (what the
MCRB claims to bound) and its mean squared error about the TRUE angles (what a user
gets). Prints one line per design and, per method, the median actual MSE.

    .venv/bin/python benchmarks/check_designs_mc.py /work/bench/designs --trials 300
"""

from __future__ import annotations

import argparse
import re
import statistics
import warnings
from pathlib import Path

import numpy as np

from frisac import load_design, load_realization
from frisac.metrics import evaluate
from frisac.metrics.estimator import misspecified_ml_estimates

warnings.filterwarnings("ignore")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--scheme", default="proposed")
    parser.add_argument("--methods", nargs="+", default=["paper", "direct"])
    args = parser.parse_args()
    pattern = re.compile(rf"seed(\d+)_({'|'.join(args.methods)})_{args.scheme}\.npz")
    rows = []
    for path in sorted(args.folder.glob("seed*.npz")):
        match = pattern.fullmatch(path.name)
        if not match:
            continue
        seed, method = int(match.group(1)), match.group(2)
        r = load_realization(args.folder / f"seed{seed}_realisation.npz")
        d = load_design(path)
        ev = evaluate(r, d).sensing
        est = misspecified_ml_estimates(r, d, args.trials, np.random.default_rng(seed))
        spread = float(np.mean(np.sum((est[:, :2] - ev.eta0[:2]) ** 2, axis=1)))
        mse = float(np.mean(np.sum((est[:, :2] - r.phi_target) ** 2, axis=1)))
        rows.append((seed, method, ev, spread, mse))
    print(
        f"{'seed':>4} {'method':>7} {'tr MCRB':>10} {'valid':>5} {'fit SNR':>8} {'margin':>8} "
        f"{'MC spread':>10} {'spread/MCRB':>11} {'MSE bound':>10} {'MC MSE':>10}"
    )
    for seed, method, ev, spread, mse in sorted(rows, key=lambda x: (x[0], x[1])):
        print(
            f"{seed:>4} {method:>7} {ev.trace_mcrb_phi_rad2:>10.3e} {ev.bound_valid!s:>5} "
            f"{ev.fit_snr_db:>8.1f} {ev.ambiguity_margin:>8.2f} {spread:>10.3e} "
            f"{spread / ev.trace_mcrb_phi_rad2:>11.2f} {np.trace(ev.mse_bound_phi_rad2):>10.3e} "
            f"{mse:>10.3e}"
        )
    print(f"({args.trials} Monte-Carlo echoes per design, scheme {args.scheme})")
    for method in args.methods:
        mses = [mse for _, m, _, _, mse in rows if m == method]
        if mses:
            median = statistics.median(mses)
            print(f"{method:>7}: median Monte-Carlo MSE about the true angles {median:.3e} rad^2")
    by_seed: dict[int, dict[str, float]] = {}
    for seed, method, _, _, mse in rows:
        by_seed.setdefault(seed, {})[method] = mse
    paired = [v for v in by_seed.values() if {"paper", "direct"} <= v.keys()]
    if paired:
        wins = sum(v["direct"] <= v["paper"] for v in paired)
        print(f"direct's actual MSE <= paper's on {wins} of {len(paired)} realisations")


if __name__ == "__main__":
    main()
