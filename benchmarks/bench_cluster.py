"""Throughput of the same sweep on the local process pool and on Dask, side by side.

Runs one small sweep (reduced arrays so a trial takes about a second) three ways on this
machine: local pool, Dask LocalCluster (2 single-threaded worker processes), and prints
trials per minute, the Dask/local ratio and the overhead per task (difference of the mean
wall time per trial). Stores go to a temporary folder.

    .venv/bin/python benchmarks/bench_cluster.py [--trials 20] [--workers 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

from frisac import Scenario
from frisac.experiments import SweepSpec, run_sweep

warnings.filterwarnings("ignore")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    scenario = Scenario.default().replace(
        N_t=8, N_r=8, R_y=5, R_z=4, F=4, K=2, noise_sensing_dbm=-170.0
    )
    spec = SweepSpec(
        scenario=scenario,
        vary_key="F",
        values=(2, 4),
        schemes=("perfect", "naive", "proposed", "random"),
        trials=args.trials,
        root_seed=3,
    )
    n = args.trials * len(spec.values)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, executor in (("local pool", "local"), ("dask LocalCluster", "dask")):
            start = time.perf_counter()
            outcome = run_sweep(
                spec,
                Path(tmp) / executor,
                workers=args.workers,
                executor=executor,
                progress=False,
                log=lambda _: None,
            )
            wall = time.perf_counter() - start
            assert outcome.computed == n
            results[label] = wall
    print(f"sweep: {n} trials (4 schemes each), {args.workers} workers, reduced arrays")
    print(f"{'executor':>20} {'wall s':>8} {'trials/min':>11}")
    for label, wall in results.items():
        print(f"{label:>20} {wall:>8.1f} {60 * n / wall:>11.1f}")
    local, dask = results["local pool"], results["dask LocalCluster"]
    print(f"dask / local wall-time ratio: {dask / local:.2f}")
    print(
        f"overhead per task (incl. cluster start-up, spread over {n} tasks): "
        f"{(dask - local) / n * args.workers:.3f} s of worker time"
    )


if __name__ == "__main__":
    main()
