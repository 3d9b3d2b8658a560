"""Helpers shared by the tests (importable because pytest puts tests/ on sys.path)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from frisac import Design, Realization
from frisac.design import random_design

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
