"""Channel statistics against their closed forms (MODEL.md section 3)."""

import numpy as np
import pytest

from frisac import Scenario, draw_realization, geometry
from frisac.channels import (
    circular_normal,
    draw_ue_positions,
    los_bs_ris,
    los_ris_ue,
    path_loss,
    radar_coefficient,
    rician,
)

N_DRAWS = 4000


def _bs_ris_los(s: Scenario) -> np.ndarray:
    u = geometry.unit_direction(s.bs_position_m, s.ris_position_m)
    q = geometry.ula_positions(s.N_t, s.d_x_m)
    p = geometry.ris_positions(s.R_y, s.R_z, s.d_y_m, s.d_z_m)
    return los_bs_ris(q, p, u, -u, s.wavelength_m)


def test_bs_ris_los_is_model_formula() -> None:
    s = Scenario.default().replace(N_t=4, R_y=3, R_z=2, F=0)
    los = _bs_ris_los(s)
    kappa = 2 * np.pi / s.wavelength_m
    u_br = geometry.unit_direction(s.bs_position_m, s.ris_position_m)
    for n in range(4):
        for r in range(6):
            q_n = np.array([n * s.d_x_m, 0, 0])
            p_r = np.array([0, (r % 3) * s.d_y_m, (r // 3) * s.d_z_m])
            # (H_BR^H)_{r,n} = exp(+j kappa (u_RB . p_r + u_BR . q_n))
            herm = np.exp(1j * kappa * (-u_br @ p_r + u_br @ q_n))
            assert los[n, r] == pytest.approx(np.conj(herm), abs=1e-13)


def test_bs_ris_power_los_and_k_factor_over_many_draws() -> None:
    """Mean power = path loss, the average recovers the LoS part, K-factor near 10.

    N_DRAWS = 4000 realisations of the 32 x 150 matrix. Per entry the sample mean of the
    normalised channel has standard deviation sqrt(1/(1+K) / N) = 0.0048; the mean power
    over all 4000*4800 entries has relative standard deviation below 1e-3.
    """
    s = Scenario.default()
    rng = np.random.default_rng(11)
    los = _bs_ris_los(s)
    d = np.linalg.norm(np.subtract(s.bs_position_m, s.ris_position_m))
    pl = path_loss(d, ref_gain=1e-3, ref_distance_m=1.0, exponent=2.0)
    acc = np.zeros_like(los)
    power = 0.0
    sq = np.zeros(los.shape)
    for _ in range(N_DRAWS):
        H = rician(rng, los, k_factor=s.rician_factor_bs_ris, gain=pl) / np.sqrt(pl)
        acc += H
        sq += np.abs(H) ** 2
    mean = acc / N_DRAWS
    power = sq.mean() / N_DRAWS
    assert power == pytest.approx(1.0, rel=5e-3)  # normalised: mean power / PL = 1
    k = s.rician_factor_bs_ris
    los_est = mean / np.sqrt(k / (1 + k))
    sigma = np.sqrt(1 / (1 + k) / N_DRAWS) / np.sqrt(k / (1 + k))
    assert np.max(np.abs(los_est - los)) < 6 * sigma  # max over 4800 entries, 6 sigma
    var = sq / N_DRAWS - np.abs(mean) ** 2
    k_hat = np.mean(np.abs(mean) ** 2) / np.mean(var)
    assert k_hat == pytest.approx(10.0, rel=0.05)


def test_ris_ue_power_los_and_k_factor_for_fixed_users() -> None:
    """RIS-UE link with K = 1 and mu = 2.2, users held fixed; N_DRAWS draws."""
    s = Scenario.default()
    rng = np.random.default_rng(12)
    ue = np.array([[15.0, 40.0, 1.0], [20.0, 35.0, 1.0]])
    u = np.stack([geometry.unit_direction(s.ris_position_m, p) for p in ue])
    p = geometry.ris_positions(s.R_y, s.R_z, s.d_y_m, s.d_z_m)
    los = los_ris_ue(p, u, s.wavelength_m)
    # h_k LoS equals the steering vector toward user k
    phi_k = geometry.angles_from_direction(u)
    np.testing.assert_allclose(los[:, 1], geometry.steering_vector(phi_k[1], p, s.wavelength_m))
    d = np.linalg.norm(ue - np.array(s.ris_position_m), axis=1)
    pl = path_loss(d, ref_gain=1e-3, ref_distance_m=1.0, exponent=2.2)
    draws = np.stack(
        [rician(rng, los, k_factor=1.0, gain=pl) / np.sqrt(pl) for _ in range(N_DRAWS)]
    )
    assert np.mean(np.abs(draws) ** 2) == pytest.approx(1.0, rel=5e-3)
    mean = draws.mean(axis=0)
    sigma = np.sqrt(0.5 / N_DRAWS) / np.sqrt(0.5)
    assert np.max(np.abs(mean / np.sqrt(0.5) - los)) < 6 * sigma
    k_hat = np.mean(np.abs(mean) ** 2) / np.mean(draws.var(axis=0))
    assert k_hat == pytest.approx(1.0, rel=0.05)


def test_realisation_channel_power_equals_path_loss() -> None:
    """Through draw_realization: mean |H_BR|^2 over 300 draws equals PL(43.0 m) within 1%."""
    s = Scenario.default()
    d = np.linalg.norm(np.subtract(s.bs_position_m, s.ris_position_m))
    pl = 1e-3 * d**-2.0
    draws = [draw_realization(s, np.random.default_rng(i)).H_BR for i in range(300)]
    power = np.mean([np.mean(np.abs(H) ** 2) for H in draws])
    assert power == pytest.approx(pl, rel=0.01)


def test_circular_normal_is_unit_variance_circular() -> None:
    z = circular_normal(np.random.default_rng(3), (200_000,))
    assert np.mean(np.abs(z) ** 2) == pytest.approx(1.0, rel=0.01)
    assert abs(np.mean(z**2)) < 0.01  # circular: E[z^2] = 0


def test_users_are_uniform_in_the_disc() -> None:
    rng = np.random.default_rng(5)
    pos = draw_ue_positions(rng, 100_000, center_m=(15.0, 40.0, 1.0), radius_m=8.0)
    rho = np.hypot(pos[:, 0] - 15.0, pos[:, 1] - 40.0)
    assert np.all(rho <= 8.0) and np.all(pos[:, 2] == 1.0)
    # Uniform on the disc: P(rho <= r) = (r / 8)^2, so E[rho^2] = 32 and P(rho <= 4) = 1/4.
    assert np.mean(rho**2) == pytest.approx(32.0, rel=0.01)
    assert np.mean(rho <= 4.0) == pytest.approx(0.25, abs=0.005)
    angle = np.arctan2(pos[:, 1] - 40.0, pos[:, 0] - 15.0)
    assert np.mean(angle > 0) == pytest.approx(0.5, abs=0.005)


def test_radar_coefficient_formula() -> None:
    s = Scenario.default()
    d = np.sqrt(641.0)  # target (20, 55, 1) from RIS (0, 40, 5)
    alpha = radar_coefficient(
        N_t=32, N_r=32, wavelength_m=s.wavelength_m, rcs_m2=10**0.1, distance_m=d
    )
    expected = np.sqrt(32 * 32 * s.wavelength_m**2 * 10**0.1 / ((4 * np.pi) ** 3 * d**4))
    assert alpha == pytest.approx(expected, rel=1e-14)
    assert abs(alpha) == pytest.approx(1.3472257533725249e-05, rel=1e-12)  # reference case p1
