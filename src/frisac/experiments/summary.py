"""Summaries of a results store: per (value, scheme) statistics for tables and figures.

mean, 95% confidence interval of the mean (t-interval on the log scale would hide the
spread that matters here, so the interval is on the linear scale, clipped at the
smallest positive value for log plots), median, and the fraction of trials whose design
met every SINR constraint and the fraction where the bound is meaningful (bound_valid).
Rows without a finite bound (failed, infeasible) are left out
of the bound statistics and counted in ``n_failed``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

__all__ = ["SchemeStats", "format_table", "series_by_scheme", "summarise"]


@dataclass(frozen=True)
class SchemeStats:
    value: Any
    scheme: str
    n: int
    n_failed: int
    mean: float
    low: float
    high: float
    median: float
    feasible_fraction: float
    mean_seconds: float
    valid_fraction: float = float("nan")


def _interval(x: np.ndarray) -> tuple[float, float, float]:
    mean = float(np.mean(x))
    if x.size < 2:
        return mean, mean, mean
    half = float(stats.t.ppf(0.975, x.size - 1) * np.std(x, ddof=1) / math.sqrt(x.size))
    return mean, mean - half, mean + half


def summarise(
    rows: Iterable[dict[str, Any]], *, metric: str = "trace_mcrb_phi"
) -> list[SchemeStats]:
    """Per (value_index, scheme) statistics of ``metric``, ordered by value then scheme."""
    groups: dict[tuple[int, str], list[dict[str, Any]]] = defaultdict(list)
    values: dict[int, Any] = {}
    for row in rows:
        groups[(int(row["value_index"]), str(row["scheme"]))].append(row)
        values[int(row["value_index"])] = row["value"]
    out = []
    order = {name: i for i, name in enumerate(("perfect", "proposed", "naive", "random"))}
    for (index, scheme), group in sorted(
        groups.items(), key=lambda kv: (kv[0][0], order.get(kv[0][1], 9))
    ):
        metric_values = np.array(
            [r[metric] for r in group if r.get(metric) is not None and np.isfinite(r[metric])]
        )
        n_failed = len(group) - metric_values.size
        mean, low, high = (
            _interval(metric_values) if metric_values.size else (np.nan, np.nan, np.nan)
        )
        seconds = [float(r["seconds"]) for r in group if r.get("seconds") is not None]
        out.append(
            SchemeStats(
                value=values[index],
                scheme=scheme,
                n=int(metric_values.size),
                n_failed=n_failed,
                mean=mean,
                low=low,
                high=high,
                median=float(np.median(metric_values)) if metric_values.size else np.nan,
                feasible_fraction=float(np.mean([bool(r["feasible"]) for r in group])),
                valid_fraction=float(np.mean([bool(r.get("bound_valid")) for r in group])),
                mean_seconds=float(np.mean(seconds)) if seconds else np.nan,
            )
        )
    return out


def format_table(summary: Sequence[SchemeStats], *, key: str, metric: str) -> str:
    """A plain-text table: one line per (value, scheme)."""
    lines = [
        f"{key:>12} {'scheme':>9} {'n':>4} {'mean ' + metric:>22} {'95% CI':>25} "
        f"{'SINR met':>8} {'valid':>6} {'s/trial':>8}"
    ]
    for s in summary:
        ci = f"[{s.low:.3e}, {s.high:.3e}]" if np.isfinite(s.low) else "-"
        lines.append(
            f"{s.value!s:>12} {s.scheme:>9} {s.n:>4} {s.mean:>22.4e} {ci:>25} "
            f"{s.feasible_fraction:>8.0%} {s.valid_fraction:>6.0%} {s.mean_seconds:>8.2f}"
        )
    return "\n".join(lines)


def series_by_scheme(
    stats: Sequence[SchemeStats],
) -> tuple[list[float], dict[str, dict[str, list[float]]]]:
    """Swept values and, per scheme, the 'mean', 'low', 'high', 'feasible_fraction' series.

    The lower end of the confidence band is clipped at 1e-3 x mean so that it can be drawn
    on a log axis (a t-interval of a few trials can reach below zero).
    """
    values: list[float] = []
    series: dict[str, dict[str, list[float]]] = {}
    for s in stats:
        if float(s.value) not in values:
            values.append(float(s.value))
        entry = series.setdefault(
            s.scheme, {"mean": [], "low": [], "high": [], "feasible_fraction": []}
        )
        entry["mean"].append(s.mean)
        entry["low"].append(max(s.low, s.mean * 1e-3) if np.isfinite(s.low) else s.mean)
        entry["high"].append(s.high)
        entry["feasible_fraction"].append(s.feasible_fraction)
    return values, series
