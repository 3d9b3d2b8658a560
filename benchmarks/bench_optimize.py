"""Paper's BCD versus frisac's direct method on Table I realisations, side by side.

For every seed: draw a Table I realisation, run the scheme chain (perfect -> proposed) with
the paper's method (Algorithms 1-3, SDP duals solved by SDPA) and with the direct method,
and record wall times, exact tr(MCRB_phi) / tr(CRB_phi), feasibility, whether the bound is
in its valid regime, and the number of SDPs. Each seed's record is appended to a JSON-lines
file as soon as it is done, so long runs can be split over processes and merged:

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_optimize.py --seeds 0 1 2 3 4 --out a.jsonl
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_optimize.py --seeds 5 6 7 8 9 --out b.jsonl
    .venv/bin/python benchmarks/bench_optimize.py --summarize a.jsonl b.jsonl

The summary prints the per-seed table, the median wall-time ratio (paper / direct) per
scheme and for the whole chain, the fraction of seeds where direct <= 1.01 x paper, and the
fraction of feasible designs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from frisac import Scenario, draw_realization, save_design, save_realization
from frisac.experiments.spec import trial_seed
from frisac.optimize import SchemeOptions, run_schemes
from frisac.optimize.direct import DirectOptions

warnings.filterwarnings("ignore", message="Solution may be inaccurate")


VARIANTS = {
    "direct": SchemeOptions(method="direct"),
    "paper": SchemeOptions(method="paper"),
    # The direct method without the bound-validity safeguard: the raw objective only.
    "direct-raw": SchemeOptions(method="direct", direct=DirectOptions(require_valid_bound=False)),
}


def _git_commit() -> str | None:
    import subprocess

    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parent,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() or None


def run_seed(seed: int, overrides: dict, methods: list[str], designs: Path | None) -> dict:
    scenario = Scenario.default().replace(**overrides)
    r = draw_realization(scenario, np.random.default_rng(trial_seed(1000, seed, 0)))
    record: dict = {"seed": seed, "R": r.R, "F": r.F, "N_t": r.N_t, "K": r.K}
    record["commit"] = _git_commit()
    record["started"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    if designs is not None:
        designs.mkdir(parents=True, exist_ok=True)
        save_realization(designs / f"seed{seed}_realisation.npz", r)
    for method in methods:
        start = time.perf_counter()
        results = run_schemes(
            r,
            ["perfect", "naive", "proposed", "random"],
            options=VARIANTS[method],
            rng=np.random.default_rng(trial_seed(1000, seed, 1)),
        )
        record[f"{method}_seconds"] = time.perf_counter() - start
        for scheme, result in results.items():
            ev = result.evaluation
            record[f"{method}_{scheme}"] = {
                "status": result.status,
                "seconds": result.seconds,
                "trace": result.trace_mcrb_phi,
                "feasible": result.feasible,
                "bound_valid": bool(ev.sensing.bound_valid) if ev is not None else False,
                "mse_bound": float(np.trace(ev.sensing.mse_bound_phi_rad2)) if ev else None,
                "n_sdps": result.n_sdps,
                "iterations": result.iterations,
            }
            if designs is not None and result.design is not None:
                save_design(designs / f"seed{seed}_{method}_{scheme}.npz", result.design)
    return record


def summarize(paths: list[Path]) -> None:
    merged: dict[int, dict] = {}
    for path in paths:
        for line in path.read_text().splitlines():
            if line.strip():
                rec = json.loads(line)
                merged.setdefault(rec["seed"], {}).update(rec)
    records = [
        merged[k]
        for k in sorted(merged)
        if all(
            f"{m}_{s}" in merged[k] for m in ("paper", "direct") for s in ("perfect", "proposed")
        )
    ]
    if not records:
        print("no seed has both the paper's and the direct method's records: nothing to compare")
        return
    print(
        f"{'seed':>4} {'scheme':>8} {'paper s':>9} {'direct s':>9} {'ratio':>7} "
        f"{'paper tr':>11} {'direct tr':>11} {'d/p':>6} {'feasible p/d':>12} {'valid p/d':>10} "
        f"{'SDPs':>5}"
    )
    ratios: dict[str, list[float]] = {"perfect": [], "proposed": [], "chain": []}
    quality: dict[str, list[float]] = {"perfect": [], "proposed": []}
    quality_valid: dict[str, list[float]] = {"perfect": [], "proposed": []}
    paper_invalid: dict[str, int] = {"perfect": 0, "proposed": 0}
    feasible: list[bool] = []
    for rec in records:
        for scheme in ("perfect", "proposed"):
            p, d = rec[f"paper_{scheme}"], rec[f"direct_{scheme}"]
            ratio = p["seconds"] / d["seconds"]
            ratios[scheme].append(ratio)
            quality[scheme].append(d["trace"] / p["trace"])
            if p["bound_valid"]:
                quality_valid[scheme].append(d["trace"] / p["trace"])
            else:
                paper_invalid[scheme] += 1
            feasible.append(bool(d["feasible"]))
            flags = f"{str(p['feasible'])[0]}/{str(d['feasible'])[0]}"
            valid = f"{str(p['bound_valid'])[0]}/{str(d['bound_valid'])[0]}"
            print(
                f"{rec['seed']:>4} {scheme:>8} {p['seconds']:>9.1f} {d['seconds']:>9.1f} "
                f"{ratio:>7.1f} {p['trace']:>11.4e} {d['trace']:>11.4e} "
                f"{d['trace'] / p['trace']:>6.3f} {flags:>12} {valid:>10} {p['n_sdps']:>5}"
            )
        ratios["chain"].append(rec["paper_seconds"] / rec["direct_seconds"])
    n = len(records)
    print()
    print(f"realisations: {n} (R={records[0]['R']}, F={records[0]['F']}, N_t={records[0]['N_t']})")
    for key, values in ratios.items():
        print(f"median wall-time ratio paper/direct, {key:>8}: {statistics.median(values):.1f}")
    for scheme, values in quality.items():
        share = np.mean([v <= 1.01 for v in values])
        print(
            f"{scheme:>8}: direct tr <= 1.01 x paper on {share:.0%} of realisations "
            f"(median direct/paper {statistics.median(values):.3f}); the paper's bound is "
            f"outside its valid regime on {paper_invalid[scheme]} of {n}"
        )
        valid = quality_valid[scheme]
        if valid:
            share = np.mean([v <= 1.01 for v in valid])
            print(
                f"{'':>8}  where the paper's bound is valid: direct <= 1.01 x paper on "
                f"{share:.0%} of {len(valid)}"
            )
    raw = [rec for rec in records if "direct-raw_proposed" in rec]
    if raw:
        values = [
            rec["direct-raw_proposed"]["trace"] / rec["paper_proposed"]["trace"] for rec in raw
        ]
        times = [rec["paper_seconds"] / rec["direct-raw_seconds"] for rec in raw]
        print(
            f"direct without the validity safeguard (raw objective), proposed: tr <= 1.01 x "
            f"paper on {np.mean([v <= 1.01 for v in values]):.0%} of {len(raw)} (median "
            f"ratio {statistics.median(values):.3g}); median chain time ratio "
            f"{statistics.median(times):.1f}; bound valid on "
            f"{sum(rec['direct-raw_proposed']['bound_valid'] for rec in raw)} of {len(raw)}"
        )
    mse = [
        rec["direct_proposed"]["mse_bound"] / rec["paper_proposed"]["mse_bound"] for rec in records
    ]
    print(
        f"proposed, MSE bound tr(MCRB_phi + bias bias^T): direct <= 1.01 x paper on "
        f"{np.mean([v <= 1.01 for v in mse]):.0%} of {n} (median direct/paper "
        f"{statistics.median(mse):.3f})"
    )
    print(f"direct designs feasible: {np.mean(feasible):.0%} ({sum(feasible)}/{len(feasible)})")
    for method in ("paper", "direct"):
        keyed = [rec for rec in records if f"{method}_naive" in rec]
        if not keyed:
            continue
        below_naive = sum(
            rec[f"{method}_proposed"]["trace"] < rec[f"{method}_naive"]["trace"] for rec in keyed
        )
        below_random = sum(
            rec[f"{method}_proposed"]["trace"] < rec[f"{method}_random"]["trace"] for rec in keyed
        )
        print(
            f"{method}: proposed below naive on {below_naive} of {len(keyed)} seeds, below "
            f"random on {below_random} of {len(keyed)} (naive SINR met on "
            f"{sum(rec[f'{method}_naive']['feasible'] for rec in keyed)})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="*", default=list(range(10)))
    parser.add_argument("--out", type=Path, default=Path("bench_optimize.jsonl"))
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--summarize", type=Path, nargs="+", default=None)
    parser.add_argument("--designs", type=Path, default=None, help="folder to save designs in")
    parser.add_argument("--methods", nargs="+", default=["direct", "paper"], choices=list(VARIANTS))
    args = parser.parse_args()
    if args.summarize:
        summarize(args.summarize)
        return
    overrides = {}
    for item in args.sets:
        key, value = item.split("=", 1)
        overrides[key] = json.loads(value)
    for seed in args.seeds:
        record = run_seed(seed, overrides, args.methods, args.designs)
        with args.out.open("a") as handle:
            handle.write(json.dumps(record) + "\n")
        times = ", ".join(f"{m} {record[m + '_seconds']:.1f} s" for m in args.methods)
        print(f"seed {seed}: {times}", file=sys.stderr, flush=True)
    summarize([args.out])


if __name__ == "__main__":
    main()
