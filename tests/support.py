"""Helpers shared by the tests (importable because pytest puts tests/ on sys.path)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from frisac import Design, Realization
from frisac.design import random_design
from frisac.metrics import evaluate

REFERENCE_DIR = Path(__file__).parent / "data" / "reference_cases"
REFERENCE_CASES = ("p1_default_heuristic", "p2_F60_heuristic", "p3_small_heuristic")


def design_for(realization: Realization, seed: int = 0, **kwargs: object) -> Design:
    """A random full-power design shaped for ``realization``."""
    return random_design(
        np.random.default_rng(seed),
        N_t=realization.N_t,
        K=realization.K,
        R=realization.R,
        power_w=realization.p_max_w,
        **kwargs,  # type: ignore[arg-type]
    )


def assert_feasible(r: Realization, d: Design) -> None:
    ev = evaluate(r, d)
    assert np.all(ev.comm.sinr >= r.sinr_min * (1 - 1e-6)), ev.comm.sinr_db
    assert ev.comm.power_w <= r.p_max_w * (1 + 1e-6)
    np.testing.assert_allclose(np.abs(d.psi[r.working_idx]), 1.0, atol=1e-9)
    assert np.linalg.eigvalsh(np.asarray(d.Rs)).min() >= -1e-12 * r.p_max_w
