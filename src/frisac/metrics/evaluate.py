"""One call that evaluates a design on a realisation: sensing and communication together."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from frisac.design import Design
from frisac.metrics.sensing import SensingResult, evaluate_sensing
from frisac.metrics.sinr import CommResult, evaluate_comm
from frisac.realization import Realization

__all__ = ["Evaluation", "evaluate"]


@dataclass(frozen=True)
class Evaluation:
    """Exact metrics of one design on one realisation (MODEL.md sections 5-6)."""

    sensing: SensingResult
    comm: CommResult

    @property
    def trace_mcrb_phi(self) -> float:
        return self.sensing.trace_mcrb_phi_rad2

    @property
    def feasible(self) -> bool:
        return self.comm.feasible

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dictionary; angles in rad, bounds in rad^2, powers in W."""
        s, c = self.sensing, self.comm
        return {
            "trace_mcrb_phi": s.trace_mcrb_phi_rad2,
            "mcrb_phi": s.mcrb_phi_rad2.tolist(),
            "mcrb": s.mcrb.tolist(),
            "eta0": s.eta0.tolist(),
            "phi_true": s.phi_true_rad.tolist(),
            "bias_phi": s.bias_phi_rad.tolist(),
            "mse_bound_phi": s.mse_bound_phi_rad2.tolist(),
            "trace_mse_bound_phi": float(np.trace(s.mse_bound_phi_rad2)),
            "crb_perfect_phi": s.crb_perfect_phi_rad2.tolist(),
            "crb_perfect_trace_phi": s.crb_perfect_trace_rad2,
            "sinr": c.sinr.tolist(),
            "sinr_db": c.sinr_db.tolist(),
            "power_w": c.power_w,
            "feasible": c.feasible,
            "sinr_ok": c.sinr_ok,
            "power_ok": c.power_ok,
            "A": s.A.tolist(),
            "B": s.B.tolist(),
            "diagnostics": {
                "gradient_at_eta0": s.gradient_at_eta0.tolist(),
                "cond_A_equilibrated": s.cond_A,
                "A_negative_definite": s.a_negative_definite,
                "newton_iterations": s.newton_iterations,
                "eta0_on_window_boundary": s.on_window_boundary,
                "fit_snr_db": s.fit_snr_db,
                "ambiguity_margin": s.ambiguity_margin,
                "bound_valid": s.bound_valid,
            },
            "units": {
                "angles": "rad",
                "bounds": "rad^2 (angle block)",
                "power": "W",
                "sinr": "linear (sinr_db in dB)",
                "order": "[phi_e, phi_a, Re alpha, Im alpha]",
            },
        }


def evaluate(realization: Realization, design: Design) -> Evaluation:
    """Exact tr(MCRB_phi), CRB, SINRs and power of a design on a realisation."""
    return Evaluation(
        sensing=evaluate_sensing(realization, design),
        comm=evaluate_comm(realization, design),
    )
