"""Communication metrics: true cascaded channels, SINR and transmit power (MODEL.md section 5).

hbar_k = h_k^H diag(psi_true) H_BR^H (paper eq. 9), a 1 x N_t row;
SINR_k = |hbar_k w_k|^2 / (sum_{i != k} |hbar_k w_i|^2 + hbar_k Rs hbar_k^H + sigma_k^2) (eq. 15).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from frisac._types import ComplexArray, FloatArray
from frisac.design import Design, check_compatible
from frisac.faults import true_coefficients
from frisac.realization import Realization

__all__ = ["CommResult", "cascaded_channels", "evaluate_comm", "sinr", "transmit_power"]


def cascaded_channels(H_BR: ComplexArray, h: ComplexArray, psi_true: ComplexArray) -> ComplexArray:
    """Rows hbar_k = h_k^H diag(psi_true) H_BR^H (eq. 9), shape (K, N_t).

    Parameters
    ----------
    H_BR : complex (N_t, R). h : complex (R, K). psi_true : complex (R,), the coefficients
    the RIS actually applies (faults included).
    """
    return (h.conj().T * psi_true[None, :]) @ H_BR.conj().T


def sinr(hbar: ComplexArray, W: ComplexArray, Rs: ComplexArray, noise_w: FloatArray) -> FloatArray:
    """SINR_k of eq. (15), linear, shape (K,).

    Parameters
    ----------
    hbar : complex (K, N_t). W : complex (N_t, K). Rs : complex (N_t, N_t). noise_w : (K,) W.
    """
    gains = np.abs(hbar @ W) ** 2  # gains[k, i] = |hbar_k w_i|^2
    desired = np.diag(gains)
    interference = gains.sum(axis=1) - desired
    sensing = np.real(np.einsum("kn,nm,km->k", hbar, Rs, hbar.conj()))  # hbar_k Rs hbar_k^H
    return desired / (interference + sensing + noise_w)


def transmit_power(W: ComplexArray, Rs: ComplexArray) -> float:
    """tr(W W^H) + tr(Rs) in watts (eq. 4)."""
    return float(np.real(np.vdot(W, W)) + np.real(np.trace(Rs)))


@dataclass(frozen=True)
class CommResult:
    """Communication numbers of one design on one realisation.

    sinr : float (K,), linear. sinr_db : float (K,). power_w : transmit power in W.
    sinr_ok : every SINR_k >= gamma_th within ``rtol``. power_ok : power <= P_max within ``rtol``.
    """

    sinr: FloatArray
    sinr_db: FloatArray
    power_w: float
    sinr_ok: bool
    power_ok: bool

    @property
    def feasible(self) -> bool:
        return self.sinr_ok and self.power_ok


FEASIBILITY_RTOL = 1e-6
"""Relative slack allowed on SINR >= gamma_th and power <= P_max (issue 4: 1e-6)."""


def evaluate_comm(
    realization: Realization, design: Design, *, rtol: float = FEASIBILITY_RTOL
) -> CommResult:
    """SINRs on the faulty RIS (true coefficients) and transmit power of a design."""
    check_compatible(realization, design)
    r = realization
    psi_true = true_coefficients(design.psi, r.fault_idx, r.fault_coef)
    values = sinr(cascaded_channels(r.H_BR, r.h, psi_true), design.W, design.Rs, r.noise_comm_w)
    power = transmit_power(design.W, design.Rs)
    return CommResult(
        sinr=values,
        sinr_db=10.0 * np.log10(np.maximum(values, 1e-300)),
        power_w=power,
        sinr_ok=bool(np.all(values >= r.sinr_min * (1.0 - rtol))),
        power_ok=bool(power <= r.p_max_w * (1.0 + rtol)),
    )
