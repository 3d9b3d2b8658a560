"""Communication metrics against hand computations and closed forms."""

import numpy as np
import pytest

from frisac import Design, Realization, Scenario, draw_realization
from frisac.faults import true_coefficients
from frisac.metrics.sinr import cascaded_channels, evaluate_comm, sinr, transmit_power
from support import design_for


def _one_user_one_element() -> tuple[Realization, Design]:
    values = draw_realization(
        Scenario.default().replace(N_t=2, N_r=2, R_y=1, R_z=1, F=0, K=1),
        np.random.default_rng(0),
    ).to_dict()
    values["H_BR"] = np.array([[1.0 + 2.0j], [0.5 - 1.0j]])  # (N_t = 2, R = 1)
    values["h"] = np.array([[2.0 - 1.0j]])  # (R = 1, K = 1)
    values["noise_comm_w"] = np.array([0.25])
    return Realization(**values), Design(
        W=np.array([[1.0], [1.0j]]), Rs=np.array([[1.0, 0.5j], [-0.5j, 2.0]]), psi=np.array([1j])
    )


def test_sinr_by_hand_one_user_one_element() -> None:
    r, d = _one_user_one_element()
    # hbar = conj(h) psi conj(H_BR)^T = (2 + 1j) * 1j * [1 - 2j, 0.5 + 1j]
    c = (2 + 1j) * 1j
    hbar = np.array([c * (1 - 2j), c * (0.5 + 1j)])
    desired = abs(hbar[0] * 1 + hbar[1] * 1j) ** 2
    Rs = d.Rs
    sensing = (
        abs(hbar[0]) ** 2 * 1.0
        + abs(hbar[1]) ** 2 * 2.0
        + 2 * np.real(hbar[0] * 0.5j * np.conj(hbar[1]))
    )
    assert np.real(Rs[0, 1]) == 0.0
    expected = desired / (sensing + 0.25)
    got = evaluate_comm(r, d).sinr
    assert got[0] == pytest.approx(expected, rel=1e-13)
    assert transmit_power(d.W, d.Rs) == pytest.approx(2.0 + 3.0, rel=1e-15)


def test_single_user_maximum_ratio_transmission() -> None:
    """K = 1, Rs = 0, w = sqrt(P) hbar^H / |hbar|: SINR = P |hbar|^2 / sigma^2 (the maximum)."""
    s = Scenario.default().replace(K=1, F=10)
    r = draw_realization(s, np.random.default_rng(1))
    psi = np.exp(1j * np.random.default_rng(2).uniform(0, 2 * np.pi, r.R))
    hbar = cascaded_channels(r.H_BR, r.h, true_coefficients(psi, r.fault_idx, r.fault_coef))[0]
    w = np.sqrt(r.p_max_w) * hbar.conj() / np.linalg.norm(hbar)
    d = Design(W=w[:, None], Rs=np.zeros((r.N_t, r.N_t)), psi=psi)
    got = evaluate_comm(r, d).sinr[0]
    assert got == pytest.approx(
        r.p_max_w * np.linalg.norm(hbar) ** 2 / r.noise_comm_w[0], rel=1e-12
    )
    # Any other unit-power direction does worse.
    other = np.random.default_rng(3).standard_normal(r.N_t) + 0j
    other *= np.sqrt(r.p_max_w) / np.linalg.norm(other)
    worse = sinr(hbar[None], other[:, None], np.zeros((r.N_t, r.N_t)), r.noise_comm_w)
    assert worse[0] < got


def test_faults_change_the_channel_only_through_faulty_elements() -> None:
    r = draw_realization(Scenario.default().replace(F=30), np.random.default_rng(4))
    d = design_for(r, 4)
    psi_true = true_coefficients(d.psi, r.fault_idx, r.fault_coef)
    # Brute force: h_k^H diag(psi_true) H_BR^H summed element by element.
    brute = np.zeros((r.K, r.N_t), dtype=complex)
    for k in range(r.K):
        for e in range(r.R):
            brute[k] += np.conj(r.h[e, k]) * psi_true[e] * np.conj(r.H_BR[:, e])
    np.testing.assert_allclose(cascaded_channels(r.H_BR, r.h, psi_true), brute, rtol=1e-12)


def test_feasibility_flags() -> None:
    r = draw_realization(Scenario.default().replace(F=5), np.random.default_rng(5))
    d = design_for(r, 5)
    result = evaluate_comm(r, d)
    assert result.power_w == pytest.approx(r.p_max_w, rel=1e-12) and result.power_ok
    assert result.sinr_ok == bool(np.all(result.sinr >= r.sinr_min * (1 - 1e-6)))
    louder = Design(W=d.W * 1.01, Rs=d.Rs, psi=d.psi)
    assert not evaluate_comm(r, louder).power_ok
    np.testing.assert_allclose(result.sinr_db, 10 * np.log10(result.sinr))
