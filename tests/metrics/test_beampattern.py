import numpy as np
import pytest

from frisac import Scenario, draw_realization
from frisac.faults import true_coefficients
from frisac.geometry import steering_vector
from frisac.metrics.beampattern import beampattern, beampattern_grid
from support import design_for


@pytest.fixture
def case():
    r = draw_realization(Scenario.default().replace(R_y=6, R_z=5, F=8), np.random.default_rng(2))
    return r, design_for(r, 2)


def test_grid_equals_pointwise_and_the_closed_form(case) -> None:
    r, d = case
    e = np.linspace(-0.5, 0.3, 7)
    a = np.linspace(0.2, 1.0, 9)
    grid = beampattern_grid(r, d, e, a, which="true")
    phi = np.stack(np.meshgrid(e, a, indexing="ij"), axis=-1)
    np.testing.assert_allclose(beampattern(r, d, phi, which="true"), grid, rtol=1e-12)
    # Closed form at one direction: a^H diag(psi_true) H_BR^H Rx H_BR diag(psi_true)^H a.
    psi_true = true_coefficients(d.psi, r.fault_idx, r.fault_coef)
    av = steering_vector(phi[3, 4], r.ris_positions_m, r.wavelength)
    x = r.H_BR @ (np.conj(psi_true) * av)
    assert grid[3, 4] == pytest.approx(np.real(x.conj() @ d.Rx @ x), rel=1e-12)


def test_true_and_assumed_agree_without_faults_and_differ_with(case) -> None:
    r, d = case
    e, a = np.linspace(-0.4, 0.2, 5), np.linspace(0.3, 0.9, 5)
    clean = r.without_faults()
    np.testing.assert_allclose(
        beampattern_grid(clean, d, e, a, which="true"),
        beampattern_grid(clean, d, e, a, which="assumed"),
        rtol=1e-12,
    )
    assert not np.allclose(
        beampattern_grid(r, d, e, a, which="true"), beampattern_grid(r, d, e, a, which="assumed")
    )
    with pytest.raises(ValueError, match="which='both'"):
        beampattern_grid(r, d, e, a, which="both")  # type: ignore[arg-type]
