import numpy as np
import pytest

from frisac import Scenario, geometry


def _angles_deg(src, dst) -> np.ndarray:
    return np.rad2deg(geometry.angles_from_direction(geometry.unit_direction(src, dst)))


def test_default_target_angles_match_model() -> None:
    # MODEL.md section 2: phi_e = -9.09 deg, phi_a = 36.87 deg (the paper swaps the labels).
    s = Scenario.default()
    phi = _angles_deg(s.ris_position_m, s.target_position_m)
    np.testing.assert_allclose(phi, [-9.09, 36.87], atol=0.01)


def test_default_scatterer_angles_match_closed_form() -> None:
    # Scatterer (25, 30, 1) from the RIS (0, 40, 5): delta = (25, -10, -4), |delta| = sqrt(741).
    s = Scenario.default()
    phi = _angles_deg(s.ris_position_m, s.scatter_position_m)
    expected = np.rad2deg([np.arcsin(-4 / np.sqrt(741.0)), np.arctan2(-10.0, 25.0)])
    np.testing.assert_allclose(phi, expected, atol=0.01)
    np.testing.assert_allclose(phi, [-8.45, -21.80], atol=0.01)


def test_steering_vector_is_paper_eq8_element_by_element() -> None:
    s = Scenario.default()
    lam, dy, dz = s.wavelength_m, s.d_y_m, s.d_z_m
    kappa = 2 * np.pi / lam
    phi = np.array([-0.3, 1.1])
    a = geometry.steering_vector(phi, geometry.ris_positions(s.R_y, s.R_z, dy, dz), lam)
    for r in range(s.R):
        r_y, r_z = r % s.R_y, r // s.R_y
        expected = np.exp(
            -1j * kappa * (dy * r_y * np.cos(phi[0]) * np.sin(phi[1]) + dz * r_z * np.sin(phi[0]))
        )
        assert a[r] == pytest.approx(expected, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(np.abs(a), 1.0, rtol=0, atol=1e-14)


def test_angles_and_direction_invert_each_other() -> None:
    rng = np.random.default_rng(0)
    phi = np.column_stack([rng.uniform(-1.5, 1.5, 50), rng.uniform(-3.1, 3.1, 50)])
    u = geometry.direction_from_angles(phi)
    np.testing.assert_allclose(np.linalg.norm(u, axis=1), 1.0, atol=1e-15)
    np.testing.assert_allclose(geometry.angles_from_direction(u), phi, atol=1e-12)


def test_positions_layout() -> None:
    p = geometry.ris_positions(3, 2, 0.1, 0.2)
    np.testing.assert_allclose(p[4], [0.0, 0.1, 0.2])  # r = 4 -> r_y = 1, r_z = 1
    np.testing.assert_allclose(geometry.ula_positions(3, 0.5)[:, 0], [0.0, 0.5, 1.0])
    with pytest.raises(ValueError, match="direction undefined"):
        geometry.unit_direction([1, 2, 3], [1, 2, 3])


@pytest.mark.parametrize("phi", [np.array([-0.16, 0.64]), np.array([0.7, -2.0])])
def test_steering_derivatives_match_finite_differences(phi: np.ndarray) -> None:
    s = Scenario.default().replace(R_y=5, R_z=4, F=2)
    pos = geometry.ris_positions(s.R_y, s.R_z, s.d_y_m, s.d_z_m)
    lam = s.wavelength_m
    a, da, d2a = geometry.steering_derivatives(phi, pos, lam)
    np.testing.assert_allclose(a, geometry.steering_vector(phi, pos, lam), atol=1e-15)
    step = 1e-6  # central differences: truncation O(step^2) ~ 1e-12 * |a'''| ~ 1e-9
    for i in range(2):
        e = np.zeros(2)
        e[i] = step
        a_p = geometry.steering_vector(phi + e, pos, lam)
        fd = a_p - geometry.steering_vector(phi - e, pos, lam)
        np.testing.assert_allclose(da[i], fd / (2 * step), rtol=0, atol=1e-7)
        _, da_p, _ = geometry.steering_derivatives(phi + e, pos, lam)
        _, da_m, _ = geometry.steering_derivatives(phi - e, pos, lam)
        np.testing.assert_allclose(d2a[:, i], (da_p - da_m) / (2 * step), rtol=0, atol=1e-6)


@pytest.mark.parametrize("phi", [np.array([-0.16, 0.64]), np.array([0.7, -2.0])])
def test_steering_basis_columns_are_the_derivatives(phi: np.ndarray) -> None:
    """Order 2: steering_derivatives' a, a_i, a_ij (to rounding); order 3 adds four columns
    (checked against finite differences in tests/optimize/test_direct.py) and keeps these."""
    s = Scenario.default().replace(R_y=5, R_z=4, F=2)
    pos = geometry.ris_positions(s.R_y, s.R_z, s.d_y_m, s.d_z_m)
    lam = s.wavelength_m
    a, da, d2a = geometry.steering_derivatives(phi, pos, lam)
    expected = np.stack([a, da[0], da[1], d2a[0, 0], d2a[0, 1], d2a[1, 1]], axis=1)
    second = geometry.steering_basis(phi, pos, lam, order=2)
    third = geometry.steering_basis(phi, pos, lam, order=3)
    assert second.shape == (s.R_y * s.R_z, 6) and third.shape == (s.R_y * s.R_z, 10)
    np.testing.assert_allclose(second, expected, rtol=1e-13, atol=1e-13 * np.abs(expected).max())
    np.testing.assert_allclose(third[:, :6], second, rtol=1e-15, atol=0)
    with pytest.raises(ValueError, match="order: 4; expected 2 or 3"):
        geometry.steering_basis(phi, pos, lam, order=4)
