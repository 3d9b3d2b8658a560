"""The bound means what it says: the misspecified ML estimator's spread matches the MCRB.

Simulate Y = Gbar X + N with a fixed X (X X^H / T = Rx) and estimate the angles with the
perfect-RIS least-squares (misspecified ML) estimator many times. Its empirical covariance
about eta0 should match MCRB_phi and its mean should sit at phi0, not at the true angle.

Statistics: for n independent 2-D Gaussian errors the relative standard deviation of the
sample trace is at most sqrt(2 / n): 7.1% at n = 400 and 4.5% at n = 1000, so a 20%
tolerance is about 3 standard deviations. The mean is tested with its Mahalanobis distance.
"""

import json

import numpy as np
import pytest

from frisac import Realization, Scenario, draw_realization, load_design, load_realization
from frisac.metrics import evaluate
from frisac.metrics.estimator import misspecified_ml_estimates, transmit_signal
from support import REFERENCE_DIR, design_for

TARGET_TRACE_RAD2 = 3e-5
"""Small arrays are asymptotic only at high SNR: the noise is set so that tr(MCRB) is this."""


def _with_noise(r: Realization, noise_w: float) -> Realization:
    values = r.to_dict()
    values["noise_sensing_w"] = noise_w
    return Realization(**values)


def _check(r: Realization, d, n_trials: int, seed: int) -> None:
    ev = evaluate(r, d).sensing
    assert ev.bound_valid  # the diagnostics agree that the asymptotic bound applies here
    est = misspecified_ml_estimates(r, d, n_trials, np.random.default_rng(seed))
    err = est[:, :2] - ev.eta0[:2]
    cov = err.T @ err / n_trials
    ratio = np.trace(cov) / ev.trace_mcrb_phi_rad2
    assert ratio == pytest.approx(1.0, abs=0.2), (ratio, np.trace(cov), ev.trace_mcrb_phi_rad2)
    # Mean estimate: Mahalanobis distance in units of the standard error MCRB_phi / n.
    # About eta0 it is chi-square with 2 degrees of freedom (< 18.4 with prob. 0.9999);
    # about the true angle it must be far larger (the fault-induced bias).
    precision = np.linalg.inv(ev.mcrb_phi_rad2 / n_trials)
    mean = est[:, :2].mean(axis=0)
    to_eta0 = (mean - ev.eta0[:2]) @ precision @ (mean - ev.eta0[:2])
    to_truth = (mean - r.phi_target) @ precision @ (mean - r.phi_target)
    assert to_eta0 < 18.4, (mean, ev.eta0[:2])
    assert to_truth > 50.0, (mean, r.phi_target)


def test_transmit_signal_has_the_design_covariance() -> None:
    rng = np.random.default_rng(0)
    L = rng.standard_normal((6, 6)) + 1j * rng.standard_normal((6, 6))
    Rx = L @ L.conj().T
    X = transmit_signal(Rx, 32, rng)
    np.testing.assert_allclose(X @ X.conj().T / 32, Rx, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="T=4"):
        transmit_signal(Rx, 4, rng)


@pytest.mark.parametrize("seed", [1, 3])
def test_mcrb_matches_misspecified_ml_small_arrays(seed: int) -> None:
    """N_t = 8, R = 4 x 4, F = 4; 400 trials; noise lowered into the asymptotic regime."""
    s = Scenario.default().replace(N_t=8, N_r=8, R_y=4, R_z=4, F=4, K=2)
    r = draw_realization(s, np.random.default_rng(seed))
    d = design_for(r, seed)
    trace = evaluate(r, d).sensing.trace_mcrb_phi_rad2
    r = _with_noise(r, r.noise_sensing_w * TARGET_TRACE_RAD2 / trace)
    _check(r, d, n_trials=400, seed=seed + 100)


@pytest.mark.slow
def test_mcrb_matches_misspecified_ml_table_one() -> None:
    """Table I size (reference case p1), default noise -110 dBm, 1000 trials."""
    folder = REFERENCE_DIR / "p1_default_heuristic"
    r = load_realization(folder / "realisation.npz")
    d = load_design(folder / "design.npz")
    assert json.loads((folder / "expected.json").read_text())["overrides_from_table_I"] == {}
    _check(r, d, n_trials=1000, seed=7)


def test_validity_flag_catches_designs_where_the_bound_fails() -> None:
    """Minimising tr(MCRB) without the validity safeguard starves the fitted echo: the
    bound then collapses while the estimator's real spread does not. The flag must say so.

    N_t = 8, R = 4 x 4, F = 4 at -150 dBm; 200 Monte-Carlo trials.
    """
    from frisac.optimize.direct import DirectOptions, direct_optimize
    from frisac.optimize.transmit import cophase_psi

    s = Scenario.default().replace(N_t=8, N_r=8, R_y=4, R_z=4, F=4, K=2, noise_sensing_dbm=-150.0)
    r = draw_realization(s, np.random.default_rng(11))
    result = direct_optimize(r, cophase_psi(r), options=DirectOptions(require_valid_bound=False))
    ev = evaluate(r, result.design).sensing
    est = misspecified_ml_estimates(r, result.design, 200, np.random.default_rng(1))
    err = est[:, :2] - ev.eta0[:2]
    spread = np.trace(err.T @ err) / len(err)
    assert spread > 10 * ev.trace_mcrb_phi_rad2  # the bound fails for this design ...
    assert not ev.bound_valid  # ... and the diagnostics say so
    assert ev.fit_snr_db < 20.0 or ev.ambiguity_margin < 5.0
