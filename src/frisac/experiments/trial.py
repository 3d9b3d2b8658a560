"""One Monte-Carlo trial of a sweep: a pure, picklable task (for process pools and Dask).

``run_trial`` draws the trial's realisation from its own seed, runs every requested
scheme (sharing channels and faults) and returns one row per scheme. Solver trouble is
an outcome, not a crash: an unexpected error in a scheme becomes a row with status
``failed`` and the error message. The computation runs with single-threaded BLAS so that
the numbers do not depend on how many workers share the machine.
"""

from __future__ import annotations

import json
import time
import traceback
from dataclasses import dataclass
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from frisac.experiments.spec import trial_seed
from frisac.optimize import run_schemes, scheme_options
from frisac.optimize.result import OptimizeResult
from frisac.realization import draw_realization
from frisac.scenario import Scenario

__all__ = ["TrialTask", "run_trial"]


@dataclass(frozen=True)
class TrialTask:
    """Everything a worker needs to run one (value, trial) of a sweep."""

    value_index: int
    value: Any
    trial: int
    scenario: dict[str, Any]
    schemes: tuple[str, ...]
    method: str
    root_seed: int
    options: dict[str, Any]

    @property
    def key(self) -> str:
        """A stable name for schedulers (Dask task key)."""
        return f"frisac-trial-v{self.value_index}-t{self.trial}"


def _row(task: TrialTask, scheme: str, result: OptimizeResult | None, error: str = "") -> dict:
    base: dict[str, Any] = {
        "value_index": task.value_index,
        "value": json.dumps(task.value),
        "trial": task.trial,
        "scheme": scheme,
        "method": task.method,
        "seed": f"{task.root_seed}:{task.trial}",
    }
    if result is None:
        return {**base, "status": "failed", "feasible": 0, "message": error}
    ev = result.evaluation
    row = {
        **base,
        "status": result.status,
        "feasible": int(result.feasible),
        "iterations": result.iterations,
        "seconds": result.seconds,
        "solver": result.solver,
        "n_sdps": result.n_sdps,
        "message": result.message,
        "history": json.dumps([h.to_json() for h in result.history]),
    }
    if ev is not None:
        s = ev.sensing
        row.update(
            trace_mcrb_phi=_finite(s.trace_mcrb_phi_rad2),
            crb_perfect_trace_phi=_finite(s.crb_perfect_trace_rad2),
            trace_mse_bound_phi=_finite(float(np.trace(s.mse_bound_phi_rad2))),
            bias_phi_e=_finite(float(s.bias_phi_rad[0])),
            bias_phi_a=_finite(float(s.bias_phi_rad[1])),
            fit_snr_db=_finite(s.fit_snr_db),
            ambiguity_margin=_finite(s.ambiguity_margin),
            bound_valid=int(s.bound_valid),
            min_sinr_db=_finite(float(np.min(ev.comm.sinr_db))),
            sinr_db=json.dumps([_finite(float(v)) for v in ev.comm.sinr_db]),
            power_w=ev.comm.power_w,
        )
    return row


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def run_trial(task: TrialTask) -> list[dict[str, Any]]:
    """Run one trial; returns one row per requested scheme (never raises for solver trouble)."""
    start = time.perf_counter()
    with threadpool_limits(limits=1):
        scenario = Scenario.from_mapping(task.scenario)
        realization = draw_realization(
            scenario, np.random.default_rng(trial_seed(task.root_seed, task.trial, 0))
        )
        try:
            results = run_schemes(
                realization,
                task.schemes,
                options=scheme_options(task.method, task.options),
                rng=np.random.default_rng(trial_seed(task.root_seed, task.trial, 1)),
            )
        except Exception as exc:  # any solver breakdown is recorded, not raised
            detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
            return [_row(task, scheme, None, f"error: {detail}") for scheme in task.schemes]
    rows = [_row(task, scheme, results[scheme]) for scheme in task.schemes]
    for row in rows:
        row.setdefault("seconds", time.perf_counter() - start)
    return rows
