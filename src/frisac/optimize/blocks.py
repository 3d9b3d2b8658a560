"""A and B as linear functions of the design, for the paper's convex sub-problems.

With the pseudo-true parameter eta0 and the assumed model (g and its derivatives) frozen
at the current design, every entry of A and B is

* linear in Rx (block {W, Rs, C}, paper eqs. 34-37): A_ij = tr(A_ij Rx), B_ij = tr(B_ij Rx)
  with Hermitian N_t x N_t coefficient matrices, since <M1, M2> = T tr(M1^H M2 Rx);
* affine in V~ = v~ v~^H (block {v_W, D}, eqs. 44-45): only the working part of the true
  echo, Gbar_W = alpha G_A V_W G_A^H with G_A = H_BR,W diag(a_W(phi)), depends on v_W, so
  A_ij = a_ij + tr(Phi_ij V~) while B does not change.

Units. In physical units the alpha entries of A and B are ~1e10 times the angle entries
and Rx is in watts; the SDP solvers need O(1) data. The maps below are returned scaled:
alpha coordinates by |alpha0| (a congruence, which leaves MCRB_phi and every LMI of the
paper equivalent), the whole of A and B by beta = tr(B_phiphi) / 2 at the current design,
and Rx by P_max (so the scaled Rx has trace <= 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from frisac._types import ComplexArray, FloatArray
from frisac.design import Design
from frisac.faults import true_coefficients
from frisac.metrics.sensing import (
    PseudoTrue,
    bounds_at,
    model_derivatives,
    model_matrix,
    model_vectors,
    pseudo_true,
    true_echo_matrix,
)
from frisac.metrics.sinr import cascaded_channels
from frisac.realization import Realization

__all__ = [
    "Linearisation",
    "RelaxedParts",
    "linearise",
    "relaxed_parts",
    "ris_maps",
    "rx_maps",
    "sinr_lift_matrices",
]


def _herm(M: ComplexArray) -> ComplexArray:
    return 0.5 * (M + np.swapaxes(M, -1, -2).conj())


@dataclass(frozen=True)
class RelaxedParts:
    """Pieces of the paper's relaxation at a design (eqs. 26, 30-33), physical units.

    numerator : U - B_ap B_aa^-1 B_pa (2 x 2), with U = B_pp + (A_ap + B_ap) B_aa^-1 (.)^T.
    z_inv : Z^-1 = [A^-1]_phiphi (2 x 2, negative definite when A is).
    value : (33a) at the optimal C~ = U and D~ = Z^-1: tr(numerator) * ||Z^-1||_F^2 (rad^2),
        an upper bound of tr(MCRB_phi) = tr(Z^-1 numerator Z^-1) (eq. 32).
    """

    numerator: NDArray[np.floating[Any]]
    z_inv: NDArray[np.floating[Any]]
    u: NDArray[np.floating[Any]]

    @property
    def value(self) -> float:
        return float(np.trace(self.numerator) * np.sum(self.z_inv**2))


def relaxed_parts(A: FloatArray, B: FloatArray) -> RelaxedParts:
    """Evaluate the relaxation (33a) exactly from A and B (any consistent scaling)."""
    X = B[:2, 2:]
    Y_inv = np.linalg.inv(B[2:, 2:])
    cross = A[:2, 2:] + X
    u = B[:2, :2] + cross @ Y_inv @ cross.T
    numerator = u - X @ Y_inv @ X.T
    z_inv = np.linalg.inv(A)[:2, :2]
    return RelaxedParts(numerator=0.5 * (numerator + numerator.T), z_inv=z_inv, u=u)


@dataclass(frozen=True)
class Linearisation:
    """Everything frozen at one design: eta0, exact A and B, derivative matrices, scaling.

    A, B : exact (4, 4) at eta0 (physical units). d1 (4, N, N), d2 (4, 4, N, N): model
    derivatives at eta0. residual : E = Gbar - alpha0 Omega(phi0). scale : (4,) congruence
    [1, 1, |alpha0|, |alpha0|]; beta : normaliser of A and B.
    """

    eta: PseudoTrue
    A: FloatArray
    B: FloatArray
    d1: ComplexArray
    d2: ComplexArray
    residual: ComplexArray
    scale: FloatArray
    beta: float

    @property
    def A_scaled(self) -> FloatArray:
        return self.A * np.outer(self.scale, self.scale) / self.beta

    @property
    def B_scaled(self) -> FloatArray:
        return self.B * np.outer(self.scale, self.scale) / self.beta

    @property
    def relaxed(self) -> RelaxedParts:
        return relaxed_parts(self.A, self.B)


def linearise(
    realization: Realization, design: Design, eta: PseudoTrue | None = None
) -> Linearisation:
    """Freeze eta0 (found by the global search unless given) and the model at ``design``."""
    r = realization
    if eta is None:
        eta = pseudo_true(r, design)
    psi = np.asarray(design.psi)
    V = model_vectors(model_matrix(r.H_BR, psi), eta.phi_rad, r.ris_positions_m, r.wavelength)
    d1, d2 = model_derivatives(V, eta.alpha)
    g = V[:, 0]
    residual = true_echo_matrix(r, psi) - eta.alpha * np.outer(g, g.conj())
    bounds = bounds_at(r, design, eta.phi_rad, eta.alpha)
    a = abs(eta.alpha) if abs(eta.alpha) > 0 else 1.0
    scale = np.array([1.0, 1.0, a, a])
    B_s = bounds.B * np.outer(scale, scale)
    beta = float(np.trace(B_s[:2, :2]) / 2.0)
    if not beta > 0:
        beta = 1.0
    return Linearisation(
        eta=eta,
        A=bounds.A,
        B=bounds.B,
        d1=d1,
        d2=d2,
        residual=residual,
        scale=scale,
        beta=beta,
    )


def rx_maps(lin: Linearisation, realization: Realization) -> tuple[ComplexArray, ComplexArray]:
    """Scaled coefficient matrices with A_s(Rx') = tr(Am Rx'), B_s(Rx') = tr(Bm Rx').

    Rx' = Rx / P_max; A_s = S A S / beta with S = diag(scale). Shapes (4, 4, N_t, N_t).
    B_ij = (2 T / sigma^2) Re tr(d_i^H d_j Rx);  A_ij = (2 T / sigma^2) Re tr(E^H d_ij Rx) - B_ij.
    """
    r = realization
    c = 2.0 * r.T / r.noise_sensing_w
    d1h = np.conj(np.swapaxes(lin.d1, -1, -2))
    Bm = c * _herm(d1h[:, None] @ lin.d1[None, :])
    Am = c * _herm(lin.residual.conj().T @ lin.d2) - Bm
    factor = (np.outer(lin.scale, lin.scale) * r.p_max_w / lin.beta)[:, :, None, None]
    return Am * factor, Bm * factor


def ris_maps(
    lin: Linearisation, realization: Realization, design: Design
) -> tuple[ComplexArray, FloatArray, ComplexArray]:
    """Scaled affine maps in V~ = v~ v~^H, v~ = [conj(psi_W); 1] (paper eqs. 41-45).

    Returns
    -------
    Phi : complex (4, 4, n, n), n = W + 1: A_s(V~) = a0 + tr(Phi V~) (zero last row/column).
    a0 : float (4, 4), the part of A_s that does not depend on v_W.
    v_tilde : complex (n,), the current point.
    """
    r = realization
    work = r.working_idx
    n = work.size + 1
    a_target = r.steering_target
    G_A = r.H_BR[:, work] * a_target[work][None, :]  # N_t x W, gW = G_A v_W
    Rx = design.Rx
    c = 2.0 * r.T / r.noise_sensing_w
    # <alpha G_A V_W G_A^H, d_ij> = T conj(alpha) tr(V_W G_A^H d_ij Rx G_A)
    inner = G_A.conj().T @ (lin.d2 @ (Rx @ G_A))  # (4, 4, W, W)
    Phi = np.zeros((4, 4, n, n), dtype=np.complex128)
    Phi[:, :, :-1, :-1] = c * _herm(np.conj(r.alpha) * inner)
    v_tilde = np.concatenate([np.conj(np.asarray(design.psi)[work]), [1.0]])
    at_point = np.real(np.einsum("ijab,ba->ij", Phi, np.outer(v_tilde, v_tilde.conj())))
    factor = np.outer(lin.scale, lin.scale) / lin.beta
    a0 = (lin.A - at_point) * factor
    return Phi * factor[:, :, None, None], a0, v_tilde


def sinr_lift_matrices(
    realization: Realization, design: Design
) -> tuple[ComplexArray, ComplexArray]:
    """SINR constraints in the lifted RIS variable, paper eqs. (41)-(43).

    Returns
    -------
    Q : complex (K, n, n) with tr(Q_k V~) = hbar_k Omega_k hbar_k^H, where
        Omega_k = w_k w_k^H - gamma (sum_{i != k} w_i w_i^H + Rs); SINR_k >= gamma is
        tr(Q_k V~) >= gamma sigma_k^2.
    G : complex (K, n, N_t), hbar_k = v~^H G_k.
    """
    r = realization
    work, bad = r.working_idx, r.fault_idx
    n = work.size + 1
    G = np.zeros((r.K, n, r.N_t), dtype=np.complex128)
    G[:, :-1, :] = np.conj(r.h[work, :]).T[:, :, None] * np.conj(r.H_BR[:, work]).T[None]
    psi_f = true_coefficients(np.zeros(r.R, dtype=complex), bad, r.fault_coef)
    G[:, -1, :] = cascaded_channels(r.H_BR, r.h, psi_f)
    W, Rs = design.W, design.Rs
    total = W @ W.conj().T + Rs
    Q = np.empty((r.K, n, n), dtype=np.complex128)
    for k in range(r.K):
        own = np.outer(W[:, k], W[:, k].conj())
        omega = own - r.sinr_min * (total - own)
        Q[k] = G[k] @ omega @ G[k].conj().T
    return _herm(Q), G
