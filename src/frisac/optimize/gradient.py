"""Exact gradient of tr(MCRB_phi) with respect to the design (psi and Rx).

The objective F(theta) = f(eta0(theta), theta), f = tr([A^-1 B A^-1]_phiphi), depends on
the design theta = (psi, Rx) directly through A and B and indirectly through the
pseudo-true parameter eta0, a minimiser of the least-squares cost L(eta, theta). By the
implicit function theorem, d eta0 / d theta = -H^-1 d(grad_eta L)/d theta with
H = Hess_eta L = -sigma^2 A, so

    dF/dtheta = d/dtheta [ f(eta, theta) + lambda^T grad_eta L(eta, theta) ] at eta = eta0,
    lambda = A^-1 grad_eta f / sigma^2   (held fixed).

grad_eta f needs the THIRD derivatives of the model (dA/deta involves d^3 mu).

Everything is written with the low-rank representation of :mod:`frisac.metrics.sensing`:
the model's derivatives up to third order are combinations V K V^H of the ten vectors
V = M [a, a_e, a_a, a_ee, a_ea, a_aa, a_eee, a_eea, a_eaa, a_aaa] (M = H_BR diag(psi)^H),
so A, B and grad L are bilinear in the Gram matrices P = V^H V, Q = V^H Rx V and linear in
S = V^H C V (C = Gbar Rx). The gradient is then pushed back by hand (reverse mode) through
P, Q, S to V, Rx and the true echo factor gW, and from V and gW to psi.

Convention: for a real function f of a complex array Z the gradient Gamma satisfies
df = Re tr(Gamma^H dZ) (= Re sum conj(Gamma) dZ).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from frisac._types import ComplexArray, FloatArray
from frisac.geometry import steering_basis
from frisac.metrics.sensing import _equilibrate, echo_factors, model_matrix
from frisac.realization import Realization

__all__ = ["McrbGradient", "mcrb_gradient"]


# Angle multi-indices (sorted) of the ten basis vectors.
_BASIS = [(), (0,), (1,), (0, 0), (0, 1), (1, 1), (0, 0, 0), (0, 0, 1), (0, 1, 1), (1, 1, 1)]
_INDEX = {key: i for i, key in enumerate(_BASIS)}
NB = len(_BASIS)


def _omega_coefficients(angles: tuple[int, ...]) -> ComplexArray:
    """K with d^S (g g^H) = V K V^H for the angle multiset S (Leibniz over positions)."""
    K = np.zeros((NB, NB), dtype=np.complex128)
    positions = range(len(angles))
    for size in range(len(angles) + 1):
        for left in itertools.combinations(positions, size):
            a = tuple(sorted(angles[p] for p in left))
            b = tuple(sorted(angles[p] for p in positions if p not in left))
            K[_INDEX[a], _INDEX[b]] += 1.0
    return K


_OMEGA = {key: _omega_coefficients(key) for key in _BASIS}


def _model_coefficients(index: tuple[int, ...], alpha: complex) -> ComplexArray:
    """K of d^|index| mu / d eta_index for mu = alpha Omega, eta = [phi_e, phi_a, Re a, Im a]."""
    angles = tuple(sorted(i for i in index if i < 2))
    alphas = [i for i in index if i >= 2]
    if len(alphas) == 0:
        return alpha * _OMEGA[angles]
    if len(alphas) == 1:
        return (1.0 if alphas[0] == 2 else 1j) * _OMEGA[angles]
    return np.zeros((NB, NB), dtype=np.complex128)


def _stack_template(order: int) -> tuple[ComplexArray, NDArray[np.int64]]:
    """Angle parts and alpha-coefficient codes of all eta multi-indices of one order.

    Code 0: coefficient alpha (no alpha index), 1: Re alpha once (1), 2: Im alpha once (j),
    3: two or more alpha indices (0).
    """
    shape = (4,) * order
    omega = np.zeros((*shape, NB, NB), dtype=np.complex128)
    code = np.zeros(shape, dtype=np.int64)
    for index in itertools.product(range(4), repeat=order):
        angles = tuple(sorted(i for i in index if i < 2))
        alphas = [i for i in index if i >= 2]
        code[index] = 0 if not alphas else (1 if alphas == [2] else 2 if alphas == [3] else 3)
        omega[index] = _OMEGA[angles]
    return omega, code


_TEMPLATES = {order: _stack_template(order) for order in (1, 2, 3)}


def _coefficient_stacks(alpha: complex) -> tuple[ComplexArray, ComplexArray, ComplexArray]:
    """K1 (4, 10, 10), K2 (4, 4, 10, 10), K3 (4, 4, 4, 10, 10) for mu = alpha Omega."""
    factors = np.array([alpha, 1.0, 1j, 0.0], dtype=np.complex128)
    out = []
    for order in (1, 2, 3):
        omega, code = _TEMPLATES[order]
        out.append(omega * factors[code][..., None, None])
    return out[0], out[1], out[2]


@dataclass(frozen=True)
class McrbGradient:
    """tr(MCRB_phi) and its total gradient (eta0 moves with the design).

    value : tr(MCRB_phi), rad^2. grad_psi : complex (R,), grad_rx : complex Hermitian (N, N),
    both with df = Re sum conj(grad) d(.). A, B : (4, 4) at eta0.
    """

    value: float
    grad_psi: ComplexArray
    grad_rx: ComplexArray
    A: FloatArray
    B: FloatArray


def mcrb_gradient(
    realization: Realization,
    psi: ComplexArray,
    Rx: ComplexArray,
    phi0: FloatArray,
    alpha0: complex,
    *,
    positions_m: FloatArray | None = None,
    M: ComplexArray | None = None,
    echo: tuple[ComplexArray, ComplexArray] | None = None,
    H_target: ComplexArray | None = None,
) -> McrbGradient:
    """tr(MCRB_phi) at eta0 = (phi0, alpha0) and its exact gradient in psi and Rx.

    phi0, alpha0 must be the pseudo-true parameter of (psi, Rx) (a stationary point of L);
    the gradient accounts for its motion through the implicit function theorem.
    ``M = model_matrix(H_BR, psi)``, ``echo = echo_factors(realization, psi)`` and
    ``H_target = H_BR[:, working] diag(a_W(phi))`` may be passed if already known.
    """
    r = realization
    pos = r.ris_positions_m if positions_m is None else positions_m
    T, sigma2 = r.T, r.noise_sensing_w
    c = 2.0 * T / sigma2
    basis = steering_basis(phi0, pos, r.wavelength)  # (R, 10)
    if M is None:
        M = model_matrix(r.H_BR, psi)
    V = M @ basis  # (N, 10)
    gW, gF = echo_factors(r, psi) if echo is None else echo
    Gbar = r.alpha * np.outer(gW, gW.conj()) + r.alpha_scatter * np.outer(gF, gF.conj())
    C = Gbar @ Rx
    VH = V.conj().T
    P, Q, S = VH @ V, VH @ (Rx @ V), VH @ (C @ V)
    K1, K2, K3 = _coefficient_stacks(alpha0)
    K_mu = alpha0 * _OMEGA[()]

    # Every inner product tr(X^H P Y Q) is formed from P Y Q (Y one of the four K1) or from
    # Z = Q X^H P (X = K_mu or one of the K1) as sum_ab Y_ab Z_ba: a handful of 10 x 10
    # products instead of one per pair of stacked coefficient matrices.
    PK1Q = P @ K1 @ Q  # (4, 10, 10)
    Z1 = Q @ np.conj(np.swapaxes(K1, -1, -2)) @ P  # (4, 10, 10): Q K1_i^H P
    Z_mu = Q @ K_mu.conj().T @ P
    residual = S.conj() - Z_mu.T  # tr(K S^H) - tr(K_mu^H P K Q) = sum_ab K_ab residual_ab

    B = c * np.real(np.einsum("iab,jab->ij", K1.conj(), PK1Q))  # Re<d_i, d_j>
    A = -B + c * np.real(np.einsum("ijab,ab->ij", K2, residual))
    B = 0.5 * (B + B.T)
    A = 0.5 * (A + A.T)

    s = _equilibrate(A)
    A_s_inv = np.linalg.inv(A * np.outer(s, s))
    A_inv = A_s_inv * np.outer(s, s)
    mcrb = A_inv @ B @ A_inv
    Pi = np.diag([1.0, 1.0, 0.0, 0.0])
    value = float(np.trace(mcrb[:2, :2]))
    G_B = A_inv @ Pi @ A_inv
    G_A = -(A_inv @ Pi @ mcrb + mcrb @ Pi @ A_inv)

    # grad_eta f through dA/deta and dB/deta (third derivatives of the model).
    dB = c * np.real(
        np.einsum("ikab,jab->kij", K2.conj(), PK1Q)  # [k, i, j]: <d_ik, d_j>
        + np.einsum("jkab,iba->kij", K2, Z1)  # <d_i, d_jk>
    )
    cross = np.einsum("ijab,kba->kij", K2, Z1)  # [k, i, j]: <d_k, d_ij>
    data_mu3 = np.einsum("ijkab,ab->kij", K3, residual)  # data term - <mu, d_ijk>
    dA = c * np.real(data_mu3 - cross) - dB
    grad_eta = np.einsum("ij,kij->k", G_A, dA) + np.einsum("ij,kij->k", G_B, dB)
    lam = A_inv @ grad_eta / sigma2

    # Gradient of l = sum w_ij Re tr(K_i^H P K_j Q) + Re tr(K_S S^H) - Re tr(K_mu^H P K_S Q).
    w = c * (G_B - G_A)
    K_S = c * np.einsum("ij,ijab->ab", G_A, K2) - 2.0 * T * np.einsum("i,iab->ab", lam, K1)
    # Re tr(X^H P Y Q): Gamma_P = X Q^H Y^H, Gamma_Q = Y^H P^H X.
    QH, PH = Q.conj().T, P.conj().T
    K1H = np.conj(np.swapaxes(K1, -1, -2))
    weighted_H = np.tensordot(w, K1H, axes=(1, 0))  # sum_j w_ij K_j^H, (4, 10, 10)
    weighted = np.tensordot(w, K1, axes=(0, 0))  # sum_i w_ij K_i, indexed by j
    gamma_P = np.sum(K1 @ QH @ weighted_H, axis=0) - K_mu @ QH @ K_S.conj().T
    gamma_Q = np.sum(K1H @ PH @ weighted, axis=0) - K_S.conj().T @ PH @ K_mu
    gamma_S = K_S

    # P = V^H V, Q = V^H Rx V, S = V^H C V (C = Gbar Rx) back to V, Rx, Gbar.
    gP = gamma_P + gamma_P.conj().T
    gQ = gamma_Q + gamma_Q.conj().T
    gamma_V = V @ gP + Rx @ V @ gQ + C @ V @ gamma_S.conj().T + C.conj().T @ V @ gamma_S
    gamma_C = V @ gamma_S @ VH
    gamma_rx = V @ gamma_Q @ VH + Gbar.conj().T @ gamma_C
    gamma_G = gamma_C @ Rx
    gamma_gW = np.conj(r.alpha) * gamma_G @ gW + r.alpha * gamma_G.conj().T @ gW

    # V = H_BR diag(conj psi) basis; gW = H_BR,W (conj(psi_W) o a_W(phi_target)).
    HG = r.H_BR.conj().T @ gamma_V  # (R, 10)
    grad_psi = np.sum(np.conj(HG) * basis, axis=1)
    # d gW = H_BR,W diag(a_W) d conj(psi_W): conj(H_BR,W^H gamma) o a_W = conj(H_target^H gamma)
    work = r.working_idx
    if H_target is None:
        H_target = r.H_BR[:, work] * r.steering_target[work][None, :]
    grad_psi[work] += np.conj(gamma_gW) @ H_target
    return McrbGradient(
        value=value,
        grad_psi=grad_psi,
        grad_rx=0.5 * (gamma_rx + gamma_rx.conj().T),
        A=A,
        B=B,
    )
