"""Result objects of the optimisers: design, exact metrics, status, history, timing."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from frisac.design import Design
from frisac.metrics import Evaluation

__all__ = ["STATUSES", "IterationRecord", "OptimizeResult"]

STATUSES = ("converged", "max_iterations", "inaccurate", "infeasible", "failed")
"""Outcome of a run. ``inaccurate``: a design was returned but a solver reported low
accuracy on the way; ``infeasible``: the SINR / power constraints cannot be met (no design);
``failed``: the solver broke down (no design or an unusable one)."""


@dataclass(frozen=True)
class IterationRecord:
    """One outer iteration (or block update) of an optimiser.

    relaxed_objective : value of the paper's relaxed objective (33a) at the current design
        (NaN for methods that do not track it).
    trace_mcrb_phi : exact tr(MCRB_phi) at the current design, rad^2.
    """

    iteration: int
    block: str
    relaxed_objective: float
    trace_mcrb_phi: float
    min_sinr_db: float
    seconds: float
    accepted: bool = True
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "iteration": self.iteration,
            "block": self.block,
            "relaxed_objective": _finite_or_none(self.relaxed_objective),
            "trace_mcrb_phi": _finite_or_none(self.trace_mcrb_phi),
            "min_sinr_db": _finite_or_none(self.min_sinr_db),
            "seconds": self.seconds,
            "accepted": self.accepted,
            "note": self.note,
        }


def _finite_or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


@dataclass(frozen=True)
class OptimizeResult:
    """What every scheme returns.

    design / evaluation are None only when no design exists (infeasible or failed).
    solver_statuses counts the statuses the SDP solver reported (paper method).
    """

    scheme: str
    method: str
    status: str
    design: Design | None
    evaluation: Evaluation | None
    history: tuple[IterationRecord, ...] = ()
    solver: str = ""
    n_sdps: int = 0
    solver_statuses: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    iterations: int = 0
    message: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status={self.status!r}: expected one of {STATUSES}")

    @property
    def feasible(self) -> bool:
        return self.evaluation is not None and self.evaluation.feasible

    @property
    def trace_mcrb_phi(self) -> float:
        return self.evaluation.trace_mcrb_phi if self.evaluation is not None else float("nan")

    def to_json(self) -> dict[str, Any]:
        """Summary for the CLI and the results store (no arrays of the design)."""
        ev = self.evaluation
        return {
            "scheme": self.scheme,
            "method": self.method,
            "status": self.status,
            "trace_mcrb_phi": _finite_or_none(self.trace_mcrb_phi),
            "crb_perfect_trace_phi": (
                _finite_or_none(ev.sensing.crb_perfect_trace_rad2) if ev is not None else None
            ),
            "sinr": ev.comm.sinr.tolist() if ev is not None else None,
            "sinr_db": ev.comm.sinr_db.tolist() if ev is not None else None,
            "power_w": ev.comm.power_w if ev is not None else None,
            "bound_valid": ev.sensing.bound_valid if ev is not None else None,
            "feasible": self.feasible,
            "iterations": self.iterations,
            "seconds": self.seconds,
            "solver": self.solver,
            "n_sdps": self.n_sdps,
            "solver_statuses": dict(self.solver_statuses),
            "message": self.message,
            "history": [record.to_json() for record in self.history],
        }


def count_statuses(statuses: list[str]) -> dict[str, int]:
    return dict(Counter(statuses))
