"""Sensing metrics: derivatives, A and B against brute force, identities and invariances."""

import numpy as np
import pytest

from frisac import Design, Scenario, draw_realization
from frisac.geometry import steering_vector
from frisac.metrics import evaluate
from frisac.metrics.sensing import (
    bounds_at,
    crb_perfect,
    echo_factors,
    least_squares_derivatives,
    model_derivatives,
    model_matrix,
    model_vectors,
    pseudo_true,
    true_echo_matrix,
)
from support import design_for

STEPS = np.logspace(-2, -7, 11)


def _small(seed: int = 3, **changes):
    values = {"N_t": 6, "N_r": 6, "R_y": 5, "R_z": 3, "F": 3, "K": 2, "T": 16, **changes}
    s = Scenario.default().replace(**values)
    r = draw_realization(s, np.random.default_rng(seed))
    return r, design_for(r, seed)


def _mu(r, psi, eta) -> np.ndarray:
    """Explicit model alpha g g^H, independent of the derivative code."""
    g = model_matrix(r.H_BR, psi) @ steering_vector(eta[:2], r.ris_positions_m, r.wavelength)
    return complex(eta[2], eta[3]) * np.outer(g, g.conj())


def _analytic(r, psi, eta):
    V = model_vectors(model_matrix(r.H_BR, psi), eta[:2], r.ris_positions_m, r.wavelength)
    return model_derivatives(V, complex(eta[2], eta[3]))


def _relative_errors(f, exact, step_scale):
    errors = []
    for h in STEPS:
        fd = (f(h * step_scale) - f(-h * step_scale)) / (2 * h * step_scale)
        errors.append(np.linalg.norm(fd - exact) / np.linalg.norm(exact))
    return np.array(errors)


def _assert_second_order_then_rounding(errors: np.ndarray) -> None:
    # Central differences: error ~ h^2 while truncation dominates (a factor 100 per decade
    # of h, here 10^0.5 per step of STEPS, so ~10 per step), then rounding ~ eps / h.
    ratio = errors[2] / errors[0]  # one decade: expect ~0.01
    assert ratio < 0.03, errors
    assert errors.min() < 1e-8 * max(1.0, errors[0]), errors


@pytest.mark.parametrize("seed", [1, 2])
def test_first_derivatives_match_finite_differences(seed: int) -> None:
    r, d = _small(seed)
    eta = np.array([*r.phi_target + [0.05, -0.03], 2e-5, -1e-5])
    d1, _ = _analytic(r, d.psi, eta)
    scales = [1.0, 1.0, abs(complex(eta[2], eta[3])), abs(complex(eta[2], eta[3]))]
    for i in range(4):

        def shifted(delta, i=i):
            e = eta.copy()
            e[i] += delta
            return _mu(r, d.psi, e)

        errors = _relative_errors(shifted, d1[i], scales[i])
        if i < 2:
            _assert_second_order_then_rounding(errors)
        else:  # linear in alpha: central differences are exact up to rounding
            assert errors.max() < 1e-6, errors


@pytest.mark.parametrize("seed", [1, 2])
def test_second_derivatives_match_finite_differences(seed: int) -> None:
    r, d = _small(seed)
    eta = np.array([*r.phi_target + [-0.02, 0.04], 1e-5, 3e-5])
    _, d2 = _analytic(r, d.psi, eta)
    assert np.all(d2[2:, 2:] == 0)  # d^2 mu / d alpha^2 = 0 (eq. 58)
    for i in range(4):
        for j in range(2):  # derivatives of d_i along phi_j (the alpha rows follow by symmetry)

            def shifted(delta, i=i, j=j):
                e = eta.copy()
                e[j] += delta
                return _analytic(r, d.psi, e)[0][i]

            errors = _relative_errors(shifted, d2[i, j], 1.0)
            _assert_second_order_then_rounding(errors)
            np.testing.assert_allclose(d2[i, j], d2[j, i], rtol=1e-12, atol=1e-30)


def _explicit_signal(r, d, T: int, rng) -> np.ndarray:
    """X (N_t x T) with X X^H / T = Rx exactly."""
    w, U = np.linalg.eigh(d.Rx)
    root = U * np.sqrt(np.maximum(w, 0))
    Z = rng.standard_normal((T, r.N_t)) + 1j * rng.standard_normal((T, r.N_t))
    Qm, _ = np.linalg.qr(Z)  # T x N_t, orthonormal columns
    X = np.sqrt(T) * root @ Qm.conj().T
    np.testing.assert_allclose(X @ X.conj().T / T, d.Rx, rtol=1e-10, atol=1e-14)
    return X


def test_a_b_gradient_hessian_against_brute_force_vectors() -> None:
    """A, B, grad and Hessian from the 6 x 6 Gram matrices equal the N_t T-vector formulas."""
    r, d = _small(5)
    rng = np.random.default_rng(0)
    X = _explicit_signal(r, d, r.T, rng)
    Gbar = true_echo_matrix(r, d.psi)
    eta = np.array([*r.phi_target + [0.01, 0.02], 1.1 * r.alpha.real, 0.3 * r.alpha.real])
    alpha = complex(eta[2], eta[3])
    d1, d2 = _analytic(r, d.psi, eta)
    eps = (Gbar @ X - _mu(r, d.psi, eta) @ X).ravel()
    D1 = np.stack([(m @ X).ravel() for m in d1])
    B_brute = 2 / r.noise_sensing_w * np.real(D1.conj() @ D1.T)
    A_brute = np.empty((4, 4))
    for i in range(4):
        for j in range(4):
            A_brute[i, j] = 2 / r.noise_sensing_w * np.real(eps.conj() @ (d2[i, j] @ X).ravel())
    A_brute -= B_brute
    bounds = bounds_at(r, d, eta[:2], alpha)
    scale = np.sqrt(np.outer(np.diag(B_brute), np.diag(B_brute)))
    np.testing.assert_allclose(bounds.B / scale, B_brute / scale, atol=1e-11)
    np.testing.assert_allclose(bounds.A / scale, A_brute / scale, atol=1e-11)
    # Gradient and Hessian of L = ||Y - mu X||^2 against finite differences of L itself.
    V = model_vectors(model_matrix(r.H_BR, d.psi), eta[:2], r.ris_positions_m, r.wavelength)
    grad, hess, _ = least_squares_derivatives(V, alpha, d.Rx, Gbar @ d.Rx, r.T)
    Y = Gbar @ X

    def cost(e):
        return np.linalg.norm(Y - _mu(r, d.psi, e) @ X) ** 2

    steps = np.array([1e-6, 1e-6, 1e-6 * abs(alpha), 1e-6 * abs(alpha)])
    for i in range(4):
        e = np.zeros(4)
        e[i] = steps[i]
        fd = (cost(eta + e) - cost(eta - e)) / (2 * steps[i])
        assert fd == pytest.approx(grad[i], rel=1e-5)
    np.testing.assert_allclose(hess, -r.noise_sensing_w * bounds.A, rtol=1e-12)


def test_no_faults_gives_truth_and_mcrb_equals_crb() -> None:
    r, d = _small(7)
    clean = r.without_faults()
    _, gF = echo_factors(clean, d.psi)
    assert np.all(gF == 0)
    ev = evaluate(clean, d).sensing
    np.testing.assert_allclose(ev.eta0[:2], clean.phi_target, rtol=0, atol=1e-10)
    assert abs(ev.alpha0 - clean.alpha) < 1e-9 * abs(clean.alpha)
    np.testing.assert_allclose(ev.A, -ev.B, rtol=1e-8, atol=0)
    crb = crb_perfect(clean, d)
    np.testing.assert_allclose(ev.mcrb, np.linalg.inv(ev.B), rtol=1e-8)
    np.testing.assert_allclose(ev.mcrb, crb, rtol=1e-8)
    assert ev.trace_mcrb_phi_rad2 == pytest.approx(ev.crb_perfect_trace_rad2, rel=1e-8)
    np.testing.assert_allclose(ev.bias_phi_rad, 0.0, atol=1e-10)


def test_b_psd_a_symmetric_and_gradient_vanishes_at_eta0() -> None:
    r, d = _small(11)
    ev = evaluate(r, d).sensing
    np.testing.assert_array_equal(ev.B, ev.B.T)
    np.testing.assert_array_equal(ev.A, ev.A.T)
    s = 1 / np.sqrt(np.diag(ev.B))
    assert np.linalg.eigvalsh(ev.B * np.outer(s, s)).min() > -1e-12
    assert ev.a_negative_definite
    # The gradient at eta0 is negligible next to the gradient 1e-4 rad away.
    shifted = bounds_at(r, d, ev.eta0[:2] + [1e-4, 0.0], ev.alpha0)
    assert np.linalg.norm(ev.gradient_at_eta0[:2]) < 1e-7 * np.linalg.norm(shifted.gradient[:2])


def test_faults_bias_the_pseudo_true_angle() -> None:
    r, d = _small(13, F=6)
    ev = evaluate(r, d).sensing
    assert np.linalg.norm(ev.bias_phi_rad) > 1e-6  # the fault mismatch moves eta0
    np.testing.assert_allclose(
        ev.mse_bound_phi_rad2, ev.mcrb_phi_rad2 + np.outer(*[ev.bias_phi_rad] * 2)
    )


def test_common_phase_on_w_changes_nothing() -> None:
    r, d = _small(17)
    rotated = Design(W=d.W * np.exp(0.7j), Rs=d.Rs, psi=d.psi)
    a, b = evaluate(r, d), evaluate(r, rotated)
    np.testing.assert_allclose(b.comm.sinr, a.comm.sinr, rtol=1e-12)
    assert b.trace_mcrb_phi == pytest.approx(a.trace_mcrb_phi, rel=1e-9)


def test_scaling_t_and_noise() -> None:
    r, d = _small(19)
    base = evaluate(r, d).sensing
    values = r.to_dict()
    values["T"] = 4 * r.T
    longer = evaluate(type(r)(**values), d).sensing
    np.testing.assert_allclose(longer.mcrb, base.mcrb / 4, rtol=1e-9)
    values = r.to_dict()
    values["noise_sensing_w"] = 10 * r.noise_sensing_w
    noisier = evaluate(type(r)(**values), d).sensing
    np.testing.assert_allclose(noisier.mcrb, 10 * base.mcrb, rtol=1e-9)
    np.testing.assert_allclose(noisier.eta0, base.eta0, rtol=0, atol=1e-14)


def test_pseudo_true_is_the_global_minimiser_in_the_window() -> None:
    """No point of a fine 0.1 deg grid has a lower cost than eta0."""
    r, d = _small(23)
    eta = pseudo_true(r, d)
    M = model_matrix(r.H_BR, d.psi)
    C = true_echo_matrix(r, d.psi) @ d.Rx
    half = np.deg2rad(15)
    e = np.linspace(r.phi_target[0] - half, r.phi_target[0] + half, 301)
    a = np.linspace(r.phi_target[1] - half, r.phi_target[1] + half, 301)
    phi = np.stack(np.meshgrid(e, a, indexing="ij"), axis=-1).reshape(-1, 2)
    G = steering_vector(phi, r.ris_positions_m, r.wavelength) @ M.T
    num = np.abs(np.einsum("kn,nm,km->k", G.conj(), C, G)) ** 2
    den = np.sum(np.abs(G) ** 2, 1) * np.real(np.einsum("kn,nm,km->k", G.conj(), d.Rx, G))
    g0 = M @ steering_vector(eta.phi_rad, r.ris_positions_m, r.wavelength)
    J0 = abs(g0.conj() @ C @ g0) ** 2 / (np.linalg.norm(g0) ** 2 * np.real(g0.conj() @ d.Rx @ g0))
    assert np.max(num / den) <= J0 * (1 + 1e-12)
    assert not eta.on_window_boundary


def test_singular_a_is_reported_not_hidden() -> None:
    """A design with no power toward the target carries no information: NaN bound, flags."""
    r, d = _small(29)
    silent = Design(W=np.zeros_like(d.W), Rs=np.zeros_like(d.Rs), psi=d.psi)
    ev = evaluate(r, silent).sensing
    assert np.isnan(ev.trace_mcrb_phi_rad2) and np.isnan(ev.crb_perfect_trace_rad2)
    assert not ev.a_negative_definite
    assert not np.isfinite(ev.cond_A)


@pytest.mark.parametrize("seed", [1, 4])
def test_tracking_matches_refinement_and_bounds(seed: int, monkeypatch) -> None:
    """track_pseudo_true gives refine_pseudo_true's eta0 and transmit_bounds' MCRB there.

    From a start near eta0 it takes the fused fast path (stops before a step < 1e-13 rad);
    from a start far away it hands over to the refinement and must give exactly its result.
    """
    import frisac.metrics.sensing as sensing
    from frisac.metrics.sensing import refine_pseudo_true, track_pseudo_true, transmit_bounds

    handed_over = []
    monkeypatch.setattr(
        sensing,
        "refine_pseudo_true",
        lambda *a, **k: handed_over.append(1) or refine_pseudo_true(*a, **k),
    )
    r, d = _small(seed)
    psi, Rx = np.asarray(d.psi), d.Rx
    eta0 = pseudo_true(r, d)
    for start, fast in ((eta0.phi_rad + 1e-6, True), (eta0.phi_rad + np.deg2rad(1.0), False)):
        handed_over.clear()
        tracked, bounds = track_pseudo_true(r, psi, Rx, start)
        assert len(handed_over) == (0 if fast else 1)
        refined = refine_pseudo_true(r, psi, Rx, start)
        reference = transmit_bounds(r, psi, Rx, refined.phi_rad, refined.alpha)
        assert tracked.converged
        if fast:
            assert np.max(np.abs(tracked.phi_rad - refined.phi_rad)) < 1e-12
            assert abs(tracked.alpha - refined.alpha) < 1e-9 * abs(refined.alpha)
            pairs = (
                (bounds.mcrb, reference.mcrb),
                (bounds.A, reference.A),
                (bounds.B, reference.B),
            )
            for ours, theirs in pairs:
                # entries span 12 decades: tolerance scaled per entry by sqrt(|M_ii M_jj|)
                scale = np.sqrt(np.outer(np.abs(np.diag(theirs)), np.abs(np.diag(theirs))))
                assert np.all(np.abs(ours - theirs) <= 1e-8 * scale)
        else:  # a 1 deg start is outside the quadratic region: exactly the refinement
            assert np.array_equal(tracked.phi_rad, refined.phi_rad)
            assert tracked.alpha == refined.alpha
            assert np.array_equal(bounds.mcrb, reference.mcrb)
        np.testing.assert_allclose(tracked.phi_rad, eta0.phi_rad, rtol=0, atol=1e-10)


@pytest.mark.parametrize("R_y, R_z", [(5, 3), (40, 2)])
def test_grid_model_vectors_match_the_steering_vector(R_y: int, R_z: int) -> None:
    """The separable grid evaluation (running products over r_y) equals M a(phi) everywhere."""
    from frisac.metrics.sensing import grid_model_vectors

    r, d = _small(2, R_y=R_y, R_z=R_z, F=1)
    M = model_matrix(r.H_BR, np.asarray(d.psi))
    phi_e = r.phi_target[0] + np.deg2rad(np.linspace(-15, 15, 7))
    phi_a = r.phi_target[1] + np.deg2rad(np.linspace(-15, 15, 9))
    grid = grid_model_vectors(
        M,
        R_y=r.R_y,
        R_z=r.R_z,
        d_y_m=r.d_y,
        d_z_m=r.d_z,
        wavelength_m=r.wavelength,
        phi_e=phi_e,
        phi_a=phi_a,
    )
    assert grid.shape == (r.N_t, phi_e.size, phi_a.size)
    for i, e in enumerate(phi_e):
        for j, a in enumerate(phi_a):
            direct = M @ steering_vector(np.array([e, a]), r.ris_positions_m, r.wavelength)
            assert np.linalg.norm(grid[:, i, j] - direct) <= 1e-12 * np.linalg.norm(direct)
