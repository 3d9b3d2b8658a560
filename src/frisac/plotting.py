"""Figures: matplotlib is imported here only (Agg backend); files are written atomically."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from frisac.errors import FrisacInputError
from frisac.io import atomic_write

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from frisac.optimize.result import OptimizeResult

__all__ = [
    "plot_beampattern",
    "plot_convergence",
    "plot_convergence_series",
    "plot_sweep",
    "save_figure",
]

FIGURE_FORMATS = (".png", ".pdf", ".svg")
SCHEME_STYLE = {
    "perfect": {"color": "black", "marker": "o", "label": "UB (perfect RIS, CRB)"},
    "proposed": {"color": "tab:blue", "marker": "s", "label": "proposed (MCRB)"},
    "naive": {"color": "tab:orange", "marker": "^", "label": "naive (MCRB)"},
    "random": {"color": "tab:red", "marker": "v", "label": "random (MCRB)"},
}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Figure, path: str | Path) -> None:
    """Save a figure atomically; the format follows the extension (.png, .pdf, .svg)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FIGURE_FORMATS:
        raise FrisacInputError(
            f"figure {str(path)!r}: unknown extension {suffix or '(none)'!r}; "
            f"expected one of {', '.join(FIGURE_FORMATS)}"
        )
    with atomic_write(path) as handle:
        fig.savefig(handle, format=suffix[1:], dpi=150, bbox_inches="tight")
    _pyplot().close(fig)


def plot_convergence(
    results: Sequence[OptimizeResult], path: str | Path, *, title: str = "", xlabel: str = ""
) -> None:
    """Objective versus iteration (the paper's Fig. 3): relaxed (33a) and exact tr(MCRB_phi)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for result in results:
        its = np.array([h.iteration for h in result.history], dtype=float)
        exact = np.array([h.trace_mcrb_phi for h in result.history])
        relaxed = np.array([h.relaxed_objective for h in result.history])
        label = result.message if result.message.startswith("F=") else result.scheme
        line = ax.semilogy(its, exact, marker="o", ms=3, label=f"{label}: exact tr(MCRB)")[0]
        if np.any(np.isfinite(relaxed)):
            ax.semilogy(
                its, relaxed, ls="--", color=line.get_color(), label=f"{label}: relaxed (33a)"
            )
    ax.set_xlabel(xlabel or "iteration")
    ax.set_ylabel("objective [rad$^2$]")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title or "Convergence")
    save_figure(fig, path)


def plot_beampattern(
    phi_e_deg: NDArray[np.float64],
    phi_a_deg: NDArray[np.float64],
    panels: Mapping[str, NDArray[np.float64]],
    target_deg: tuple[float, float],
    path: str | Path,
) -> None:
    """2-D beampatterns (power in W toward (phi_e, phi_a)), one panel per entry (Fig. 4)."""
    plt = _pyplot()
    n = len(panels)
    cols = min(4, n)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 3.0 * rows), squeeze=False)
    for ax, (name, power) in zip(axes.ravel(), panels.items(), strict=False):
        mesh = ax.pcolormesh(phi_a_deg, phi_e_deg, power, shading="auto", cmap="viridis")
        ax.plot(target_deg[1], target_deg[0], "r+", ms=10, mew=2)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel(r"azimuth $\phi_a$ [deg]")
        ax.set_ylabel(r"elevation $\phi_e$ [deg]")
        fig.colorbar(mesh, ax=ax, label="power [W]")
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    fig.tight_layout()
    save_figure(fig, path)


def plot_sweep(
    values: Sequence[float],
    stats: Mapping[str, Mapping[str, Sequence[float]]],
    path: str | Path,
    *,
    xlabel: str,
    title: str,
) -> None:
    """Bound versus a swept parameter: mean (line) and a 95% confidence band per scheme.

    stats[scheme] holds equal-length sequences 'mean', 'low', 'high' and optionally
    'feasible_fraction' (drawn on a second axis).
    """
    plt = _pyplot()
    fig, (ax, ax2) = plt.subplots(
        2, 1, figsize=(6.4, 6.0), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    x = np.asarray(values, dtype=float)
    for scheme, s in stats.items():
        style = SCHEME_STYLE.get(scheme, {"label": scheme})
        mean = np.asarray(s["mean"], dtype=float)
        ax.semilogy(x, mean, **style)
        ax.fill_between(
            x,
            np.asarray(s["low"], dtype=float),
            np.asarray(s["high"], dtype=float),
            color=style.get("color"),
            alpha=0.15,
        )
        if "feasible_fraction" in s:
            ax2.plot(
                x,
                np.asarray(s["feasible_fraction"], dtype=float),
                marker=style.get("marker"),
                color=style.get("color"),
            )
    ax.set_ylabel(r"tr(MCRB$_\phi$) or tr(CRB$_\phi$) [rad$^2$]")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title)
    ax2.set_ylabel("SINR met\n(fraction)")
    ax2.set_ylim(-0.05, 1.05)
    ax2.set_xlabel(xlabel)
    ax2.grid(True, alpha=0.3)
    save_figure(fig, path)


def plot_convergence_series(
    series: Mapping[str, Sequence[tuple[int, float, float]]], path: str | Path, *, title: str
) -> None:
    """Fig. 3: relaxed objective (33a) (solid) and exact tr(MCRB_phi) (dashed) per run.

    series[label] holds (iteration, relaxed, exact) points; several points of the same
    iteration (one per block) are reduced to the last one.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for label, points in series.items():
        last: dict[int, tuple[float, float]] = {}
        for iteration, relaxed, exact in points:
            last[int(iteration)] = (relaxed, exact)
        its = np.array(sorted(last))
        relaxed_values = np.array([last[i][0] for i in its], dtype=float)
        exact_values = np.array([last[i][1] for i in its], dtype=float)
        line = ax.semilogy(its, relaxed_values, marker="o", ms=3, label=f"{label}: (33a)")[0]
        ax.semilogy(
            its, exact_values, ls="--", color=line.get_color(), label=f"{label}: exact tr(MCRB)"
        )
    ax.set_xlabel("BCD iteration")
    ax.set_ylabel("objective [rad$^2$]")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=10)
    save_figure(fig, path)
