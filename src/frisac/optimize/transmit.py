"""Transmit-side helpers: rank-one recovery (Prop. 1), feasible starts, feasibility polish.

SINR constraint of user k in the lifted form (paper eq. 35):
(1 + 1/gamma) hbar_k W_k hbar_k^H - hbar_k Rx hbar_k^H >= sigma_k^2, Rx = sum_k W_k + Rs.
"""

from __future__ import annotations

import numpy as np

from frisac._types import ComplexArray
from frisac.design import Design
from frisac.faults import true_coefficients
from frisac.metrics.sinr import cascaded_channels, sinr
from frisac.realization import Realization

__all__ = [
    "cophase_psi",
    "feasible_transmit",
    "polish_feasibility",
    "project_psd",
    "rank_one_recovery",
    "true_channels",
]


SINR_MARGIN = 1e-9
"""Relative margin above gamma_th that feasible starts and the polish aim for."""


def project_psd(M: ComplexArray) -> ComplexArray:
    """Nearest Hermitian PSD matrix (eigenvalues clipped at zero)."""
    H = 0.5 * (M + M.conj().T)
    w, U = np.linalg.eigh(H)
    return (U * np.maximum(w, 0.0)) @ U.conj().T


def true_channels(realization: Realization, psi: ComplexArray) -> ComplexArray:
    """hbar (K, N_t) of the faulty RIS commanded with psi (eq. 9)."""
    r = realization
    return cascaded_channels(r.H_BR, r.h, true_coefficients(psi, r.fault_idx, r.fault_coef))


def rank_one_recovery(
    hbar: ComplexArray, W_lifted: ComplexArray, Rs_lifted: ComplexArray
) -> tuple[ComplexArray, ComplexArray]:
    """Proposition 1 (eqs. 38-39): rank-one w_k with the same Rx and the same SINRs.

    w_k = (hbar_k W^_k hbar_k^H)^(-1/2) W^_k hbar_k^H;  Rs = Rs^ + sum W^_k - sum w_k w_k^H.

    Parameters
    ----------
    hbar : (K, N_t). W_lifted : (K, N_t, N_t) PSD. Rs_lifted : (N_t, N_t) PSD.
    """
    K, N_t = hbar.shape
    W = np.zeros((N_t, K), dtype=np.complex128)
    for k in range(K):
        Wk = 0.5 * (W_lifted[k] + W_lifted[k].conj().T)
        gain = float(np.real(hbar[k] @ Wk @ hbar[k].conj()))
        if gain > 0:
            W[:, k] = Wk @ hbar[k].conj() / np.sqrt(gain)
    Rs = Rs_lifted + W_lifted.sum(axis=0) - W @ W.conj().T
    return W, project_psd(Rs)


def cophase_psi(realization: Realization) -> ComplexArray:
    """RIS phases that co-phase the dominant BS-RIS mode with the target steering vector.

    g(phi) = H_BR diag(psi)^H a(phi); with H_BR ~ s u v^H (dominant singular triplet) the
    choice psi_r = exp(j arg(conj(v_r) a_r)) maximises |v^H (conj(psi) o a)|, the beam gain
    toward the target. Used to start the perfect-RIS scheme.
    """
    r = realization
    _, _, vh = np.linalg.svd(r.H_BR, full_matrices=False)
    v = vh[0].conj()
    a = r.steering_target
    return np.exp(1j * np.angle(np.conj(v) * a))


def feasible_transmit(
    realization: Realization, psi: ComplexArray, *, sensing_direction: ComplexArray | None = None
) -> Design | None:
    """A feasible (W, Rs) for psi: zero-forcing beams at the SINR threshold, rest to sensing.

    The beams are the columns of the pseudo-inverse of hbar scaled to SINR = gamma (1 + 1e-9)
    with no interference; the remaining power goes to Rs inside the null space of every
    hbar_k (so it causes no sensing interference), along ``sensing_direction`` projected on
    that null space if given, isotropically otherwise. Returns None if zero forcing needs
    more than P_max (the SINR targets may still be feasible with other beams).
    """
    r = realization
    hbar = true_channels(r, psi)
    pinv = np.linalg.pinv(hbar)  # N_t x K, hbar @ pinv = I
    gains = 1.0 / np.sum(np.abs(pinv) ** 2, axis=0)  # |hbar_k u_k|^2 for unit-norm u_k
    powers = r.sinr_min * (1 + SINR_MARGIN) * r.noise_comm_w / gains
    if powers.sum() > r.p_max_w:
        return None
    W = pinv / np.linalg.norm(pinv, axis=0) * np.sqrt(powers)
    remaining = r.p_max_w - powers.sum()
    null = np.eye(r.N_t) - pinv @ hbar  # projector onto the users' null space
    if sensing_direction is not None:
        x = null @ sensing_direction
        Rs = np.outer(x, x.conj()) if np.linalg.norm(x) > 0 else null
    else:
        Rs = null
    Rs = 0.5 * (Rs + Rs.conj().T)
    trace = float(np.real(np.trace(Rs)))
    Rs = Rs * (remaining / trace) if trace > 0 else np.zeros_like(Rs)
    return Design(W=W, Rs=project_psd(Rs), psi=psi)


def polish_feasibility(realization: Realization, design: Design) -> Design:
    """Nudge a nearly feasible design onto the constraints without changing its character.

    Keeps every beam direction and Rs's shape. Raises beam powers to the smallest values
    above the current ones that meet SINR_k >= gamma (1 + 1e-9) (Yates' iteration
    p_k <- max(p_k, gamma (sum_i F_ki p_i + b_k))), then scales Rs down if the total
    exceeds P_max. Solver round-off (SINR short by ~1e-7) is fixed;
    a design that is far from feasible is returned unchanged (the caller reports it).
    """
    r = realization
    hbar = true_channels(r, np.asarray(design.psi))
    W, Rs = np.array(design.W), np.array(design.Rs)
    target = r.sinr_min * (1 + SINR_MARGIN)
    current = sinr(hbar, W, Rs, r.noise_comm_w)
    power = float(np.real(np.vdot(W, W) + np.trace(Rs)))
    if np.all(current >= target) and power <= r.p_max_w:
        return design
    norms = np.linalg.norm(W, axis=0)
    if np.any(norms == 0):
        return design
    U = W / norms
    G = np.abs(hbar @ U) ** 2  # G[k, i] = |hbar_k u_i|^2
    own = np.diag(G).copy()
    F = (G - np.diag(own)) / own[:, None]
    b = (np.real(np.einsum("kn,nm,km->k", hbar, Rs, hbar.conj())) + r.noise_comm_w) / own
    # Yates' standard interference iteration from the current powers: the smallest
    # powers >= current that meet every target (monotone, converges if feasible).
    p = norms**2
    converged = False
    for _ in range(200):
        with np.errstate(over="ignore", invalid="ignore"):
            p_next = np.maximum(p, target * (F @ p + b))
        if not np.all(np.isfinite(p_next)):
            break  # the targets are out of reach for these beam directions
        if np.allclose(p_next, p, rtol=1e-15, atol=0):
            converged = True
            break
        p = p_next
    if not converged or np.any(p < target * (F @ p + b) * (1 - 1e-12)):
        return design
    W_new = U * np.sqrt(p)
    excess = float(p.sum() + np.real(np.trace(Rs)) - r.p_max_w)
    if excess > 0:
        trace_rs = float(np.real(np.trace(Rs)))
        if trace_rs < excess:
            return design
        Rs = Rs * (1.0 - excess / trace_rs)
        # Less sensing power only lowers interference, so the SINRs stay above target.
    return Design(W=W_new, Rs=project_psd(Rs), psi=design.psi)
