"""Shared fixtures: small scenarios, realisations and the reference cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from frisac import Scenario, draw_realization
from frisac.realization import Realization

REFERENCE_DIR = Path(__file__).parent / "data" / "reference_cases"
REFERENCE_CASES = ("p1_default_heuristic", "p2_F60_heuristic", "p3_small_heuristic")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261203)


@pytest.fixture
def small_scenario() -> Scenario:
    """Nt = 8, R = 4 x 4, F = 4, K = 2: small enough for fast tests."""
    return Scenario.default().replace(N_t=8, N_r=8, R_y=4, R_z=4, F=4, K=2)


@pytest.fixture
def small_realization(small_scenario: Scenario) -> Realization:
    return draw_realization(small_scenario, np.random.default_rng(7))
