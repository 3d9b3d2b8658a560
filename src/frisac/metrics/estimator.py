"""Monte-Carlo check of the bounds: simulate echoes and run the misspecified ML estimator.

The receiver believes the perfect-RIS model alpha g(phi) g(phi)^H and estimates
(phi, alpha) by least squares, ``argmin ||Y - alpha g g^H X||^2``, which is maximum
likelihood under its (wrong) model. Under the true (faulty) model this estimator
converges to the pseudo-true eta0 and its covariance approaches the MCRB (paper Sec. III).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from frisac._types import ComplexArray
from frisac.design import Design, check_compatible
from frisac.metrics.sensing import pseudo_true, true_echo_matrix
from frisac.realization import Realization

__all__ = ["misspecified_ml_estimates", "transmit_signal"]


def transmit_signal(Rx: ComplexArray, T: int, rng: np.random.Generator) -> ComplexArray:
    """A signal X (N_t x T) whose sample covariance X X^H / T equals Rx exactly.

    X = sqrt(T) Rx^(1/2) U^H with U (T x N_t) having orthonormal columns (needs T >= N_t).
    """
    N_t = Rx.shape[0]
    if N_t > T:
        raise ValueError(f"T={T} snapshots cannot carry a rank-{N_t} covariance; need T >= N_t")
    w, vectors = np.linalg.eigh(0.5 * (Rx + Rx.conj().T))
    root = vectors * np.sqrt(np.maximum(w, 0.0))
    Z = rng.standard_normal((T, N_t)) + 1j * rng.standard_normal((T, N_t))
    U, _ = np.linalg.qr(Z)
    return np.sqrt(T) * root @ U.conj().T


def misspecified_ml_estimates(
    realization: Realization,
    design: Design,
    n_trials: int,
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    """Estimate eta from ``n_trials`` noisy echoes Y = Gbar X + N (one fixed X).

    Returns
    -------
    estimates : float ndarray, shape (n_trials, 4), rows [phi_e, phi_a, Re alpha, Im alpha].
    """
    check_compatible(realization, design)
    r = realization
    X = transmit_signal(design.Rx, r.T, rng)
    clean = true_echo_matrix(r, np.asarray(design.psi)) @ X
    out = np.empty((n_trials, 4))
    sigma = np.sqrt(r.noise_sensing_w / 2.0)
    for trial in range(n_trials):
        noise = sigma * (rng.standard_normal(clean.shape) + 1j * rng.standard_normal(clean.shape))
        Y = clean + noise
        out[trial] = pseudo_true(r, design, C=Y @ X.conj().T / r.T).eta
    return out
