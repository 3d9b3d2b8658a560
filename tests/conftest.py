"""Shared fixtures: small scenarios, realisations and the reference cases."""

from __future__ import annotations

import numpy as np
import pytest

from frisac import Scenario, draw_realization
from frisac.realization import Realization


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
