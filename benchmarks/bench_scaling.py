"""Wall time of the direct method and of the paper's BCD against the RIS size.

R_z = 10 and R_y = 5, 10, 15, 20, 30, 40 (R = 50 ... 400), then a 32 x 32 RIS (R = 1024),
F = R / 4, N_t = 32, K = 4 (Table I otherwise), one realisation each. The direct method
runs everywhere (perfect, then proposed from its phases). The paper's method runs while a
single scheme finishes within --cap seconds; larger sizes are skipped once one does not.
Writes a JSON-lines record per size (--out), a markdown table and the plot docs/scaling.png.
``--methods direct-2w`` runs the direct method with ``DirectOptions(workers=2)`` (the
descents of each round in two processes: both cores of the machine).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_scaling.py --cap 1800
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np

from frisac import Scenario, draw_realization
from frisac.experiments.spec import trial_seed
from frisac.optimize import SchemeOptions, run_schemes
from frisac.optimize.direct import DirectOptions

warnings.filterwarnings("ignore", message="Solution may be inaccurate")

SIZES = [(5, 10), (10, 10), (15, 10), (20, 10), (30, 10), (40, 10), (32, 32)]
VARIANTS = {
    "direct": SchemeOptions(method="direct"),
    "paper": SchemeOptions(method="paper"),
    # The same direct method with the descents of each round in two processes (both cores).
    "direct-2w": SchemeOptions(method="direct", direct=DirectOptions(workers=2)),
}


def run(R_y: int, R_z: int, method: str) -> dict:
    R = R_y * R_z
    scenario = Scenario.default().replace(R_y=R_y, R_z=R_z, F=R // 4)
    r = draw_realization(scenario, np.random.default_rng(trial_seed(2000, R, 0)))
    start = time.perf_counter()
    results = run_schemes(r, ["perfect", "proposed"], options=VARIANTS[method])
    total = time.perf_counter() - start
    return {
        "R_y": R_y,
        "R_z": R_z,
        "R": R,
        "method": method,
        "seconds": total,
        "perfect_seconds": results["perfect"].seconds,
        "proposed_seconds": results["proposed"].seconds,
        "perfect_trace": results["perfect"].trace_mcrb_phi,
        "proposed_trace": results["proposed"].trace_mcrb_phi,
        "feasible": bool(results["perfect"].feasible and results["proposed"].feasible),
        "proposed_bound_valid": bool(
            results["proposed"].evaluation is not None
            and results["proposed"].evaluation.sensing.bound_valid
        ),
    }


def paper_medians(paths: list[Path]) -> dict:
    """The paper's median wall times over bench_optimize.py's realisations (one size)."""
    import statistics

    recs = [
        json.loads(line)
        for path in paths
        for line in path.read_text().splitlines()
        if line.strip() and "paper_proposed" in json.loads(line)
    ]
    if not recs:
        raise SystemExit(f"{paths}: no records with the paper's method")

    def median(key: str, field: str) -> float:
        return statistics.median(rec[key][field] for rec in recs)

    return {
        "R": recs[0]["R"],
        "method": f"paper (median of {len(recs)})",
        "seconds": statistics.median(rec["paper_seconds"] for rec in recs),
        "perfect_seconds": median("paper_perfect", "seconds"),
        "proposed_seconds": median("paper_proposed", "seconds"),
        "perfect_trace": median("paper_perfect", "trace"),
        "proposed_trace": median("paper_proposed", "trace"),
        "feasible": all(
            rec["paper_perfect"]["feasible"] and rec["paper_proposed"]["feasible"] for rec in recs
        ),
    }


def report(records: list[dict], plot: Path | None) -> None:
    print(
        f"{'R':>6} {'method':>18} {'perfect s':>10} {'proposed s':>11} {'total s':>9} "
        f"{'tr CRB (UB)':>12} {'tr MCRB (prop)':>15} feasible"
    )
    for rec in sorted(records, key=lambda x: (x["R"], x["method"])):
        print(
            f"{rec['R']:>6} {rec['method']:>18} {rec['perfect_seconds']:>10.1f} "
            f"{rec['proposed_seconds']:>11.1f} {rec['seconds']:>9.1f} "
            f"{rec['perfect_trace']:>12.4e} {rec['proposed_trace']:>15.4e} {rec['feasible']}"
        )
    if plot is None:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from frisac.plotting import save_figure

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    groups = (
        ("o-", lambda m: m == "direct"),
        ("^-", lambda m: m == "direct-2w"),
        ("s--", lambda m: m.startswith("paper")),
    )
    for style, member in groups:
        recs = sorted((r for r in records if member(r["method"])), key=lambda x: x["R"])
        if recs:
            ax.loglog(
                [r["R"] for r in recs],
                [r["proposed_seconds"] for r in recs],
                style,
                label=f"{recs[0]['method']}: proposed",
            )
            ax.loglog(
                [r["R"] for r in recs],
                [r["perfect_seconds"] for r in recs],
                style,
                alpha=0.5,
                label=f"{recs[0]['method']}: perfect (UB)",
            )
    ax.axhline(60, color="grey", ls=":", lw=1)
    ax.text(60, 60, " 60 s", va="bottom", color="grey")
    ax.set_xlabel("RIS elements R (F = R/4, N_t = 32, K = 4)")
    ax.set_ylabel("wall time per scheme [s]")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("Scaling of the optimisers (2-core machine, single-threaded BLAS)")
    save_figure(fig, plot)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cap", type=float, default=1800.0, help="paper: seconds per scheme")
    parser.add_argument("--out", type=Path, default=Path("bench_scaling.jsonl"))
    parser.add_argument("--plot", type=Path, default=Path("docs/scaling.png"))
    parser.add_argument("--methods", nargs="+", default=["direct", "paper"], choices=VARIANTS)
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--max-r", type=int, default=None, help="skip sizes with more elements")
    parser.add_argument("--min-r", type=int, default=None, help="skip sizes with fewer elements")
    parser.add_argument(
        "--paper-from",
        type=Path,
        nargs="+",
        default=None,
        help="bench_optimize.py JSON-lines files: add the paper's median times at their R",
    )
    args = parser.parse_args()
    records = []
    if args.out.exists():
        records = [json.loads(x) for x in args.out.read_text().splitlines() if x.strip()]
    if args.paper_from:
        records.append(paper_medians(args.paper_from))
    if not args.report_only:
        paper_ok = True
        for R_y, R_z in SIZES:
            if args.max_r is not None and R_y * R_z > args.max_r:
                continue
            if args.min_r is not None and R_y * R_z < args.min_r:
                continue
            for method in args.methods:
                if method == "paper" and not paper_ok:
                    continue
                if any(r["R"] == R_y * R_z and r["method"] == method for r in records):
                    continue
                rec = run(R_y, R_z, method)
                records.append(rec)
                with args.out.open("a") as handle:
                    handle.write(json.dumps(rec) + "\n")
                print(f"R={rec['R']} {method}: {rec['seconds']:.1f} s", flush=True)
                if (
                    method == "paper"
                    and max(rec["perfect_seconds"], rec["proposed_seconds"]) > args.cap
                ):
                    paper_ok = False
    report(records, args.plot)


if __name__ == "__main__":
    main()
