"""A design: transmit beamformers W, sensing covariance Rs and commanded RIS coefficients psi.

Exchange keys (MODEL.md section 8): ``W`` (N_t, K), ``Rs`` (N_t, N_t), ``psi`` (R,) commanded
unit-modulus coefficients (all R elements, faulty ones included).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from frisac._checks import complex_array, readonly
from frisac._types import ComplexArray
from frisac.errors import FrisacInputError

if TYPE_CHECKING:
    from frisac.realization import Realization

__all__ = ["DESIGN_KEYS", "Design", "check_compatible", "random_design"]


DESIGN_KEYS: tuple[str, ...] = ("W", "Rs", "psi")

PSI_MODULUS_TOL = 1e-6
"""|psi_r| must be 1 within this (relative to 1): designs come from solvers and files."""
RS_HERMITIAN_RTOL = 1e-8
"""||Rs - Rs^H|| / ||Rs|| allowed before Rs is rejected as non-Hermitian."""
RS_PSD_RTOL = 1e-8
"""Most negative eigenvalue of Rs allowed, relative to its largest."""


@dataclass(frozen=True, eq=False)
class Design:
    """Transmit design (W, Rs) and commanded RIS coefficients psi.

    Attributes
    ----------
    W : complex ndarray, shape (N_t, K). Column k is w_k.
    Rs : complex ndarray, shape (N_t, N_t), Hermitian PSD (stored exactly Hermitian).
    psi : complex ndarray, shape (R,), |psi_r| = 1.
    """

    W: NDArray[Any]
    Rs: NDArray[Any]
    psi: NDArray[Any]

    def __post_init__(self) -> None:
        W = np.asarray(self.W)
        if W.ndim != 2:
            raise FrisacInputError(f"W: shape {W.shape}; expected 2-D (N_t, K)")
        N_t = W.shape[0]
        W = complex_array("W", W, W.shape)
        Rs = complex_array("Rs", self.Rs, (N_t, N_t), f"(N_t, N_t) with N_t = {N_t} from W")
        scale = max(float(np.linalg.norm(Rs)), np.finfo(float).tiny)
        asym = float(np.linalg.norm(Rs - Rs.conj().T)) / scale
        if asym > RS_HERMITIAN_RTOL:
            raise FrisacInputError(
                f"Rs: not Hermitian (||Rs - Rs^H|| / ||Rs|| = {asym:.3g}); "
                "expected a Hermitian covariance"
            )
        Rs = 0.5 * (Rs + Rs.conj().T)
        eig = np.linalg.eigvalsh(Rs) if N_t else np.zeros(1)
        if eig.min() < -RS_PSD_RTOL * max(eig.max(), 0.0) - 1e-300:
            raise FrisacInputError(
                f"Rs: smallest eigenvalue {eig.min():.3g} W; expected positive semi-definite"
            )
        psi = np.asarray(self.psi)
        psi = complex_array("psi", psi, (psi.size,) if psi.ndim <= 1 else psi.shape, "(R,)")
        if psi.ndim != 1:
            raise FrisacInputError(f"psi: shape {psi.shape}; expected 1-D (R,)")
        if psi.size and np.max(np.abs(np.abs(psi) - 1.0)) > PSI_MODULUS_TOL:
            worst = int(np.argmax(np.abs(np.abs(psi) - 1.0)))
            raise FrisacInputError(
                f"psi: |psi[{worst}]| = {abs(psi[worst]):.9g}; "
                "expected unit-modulus commanded coefficients"
            )
        object.__setattr__(self, "W", readonly(W))
        object.__setattr__(self, "Rs", readonly(Rs))
        object.__setattr__(self, "psi", readonly(psi))

    @property
    def N_t(self) -> int:
        return int(self.W.shape[0])

    @property
    def K(self) -> int:
        return int(self.W.shape[1])

    @property
    def R(self) -> int:
        return int(self.psi.size)

    @property
    def Rx(self) -> ComplexArray:
        """Transmit covariance Rx = W W^H + Rs (paper eq. 2), shape (N_t, N_t)."""
        return self.W @ self.W.conj().T + self.Rs

    @property
    def power_w(self) -> float:
        """Transmit power tr(W W^H) + tr(Rs) in watts (paper eq. 4)."""
        return float(np.real(np.vdot(self.W, self.W)) + np.real(np.trace(self.Rs)))

    def to_dict(self) -> dict[str, Any]:
        return {"W": np.array(self.W), "Rs": np.array(self.Rs), "psi": np.array(self.psi)}


def check_compatible(realization: Realization, design: Design) -> None:
    """Raise if the design's shapes do not fit the realisation (N_t, K, R)."""
    r = realization
    expected = {
        "W": (r.N_t, r.K),
        "Rs": (r.N_t, r.N_t),
        "psi": (r.R,),
    }
    for name, shape in expected.items():
        got = getattr(design, name).shape
        if got != shape:
            raise FrisacInputError(
                f"design {name} has shape {got} but the realisation has N_t={r.N_t}, K={r.K}, "
                f"R={r.R}: expected {shape}"
            )


def random_design(
    rng: np.random.Generator,
    *,
    N_t: int,
    K: int,
    R: int,
    power_w: float,
    sensing_rank: int | None = None,
) -> Design:
    """A random design (not optimised) with total power ``power_w``: for tests and baselines.

    W has i.i.d. CN(0, 1) entries, Rs = L L^H with L an N_t x rank CN(0, 1) matrix (full rank
    by default), both scaled so that tr(W W^H) = tr(Rs) = power_w / 2; psi has i.i.d.
    uniform phases.
    """
    rank = N_t if sensing_rank is None else sensing_rank
    W = rng.standard_normal((N_t, K)) + 1j * rng.standard_normal((N_t, K))
    L = rng.standard_normal((N_t, rank)) + 1j * rng.standard_normal((N_t, rank))
    Rs = L @ L.conj().T
    W *= np.sqrt(0.5 * power_w / np.real(np.vdot(W, W)))
    Rs *= 0.5 * power_w / np.real(np.trace(Rs))
    psi = np.exp(1j * rng.uniform(0.0, 2.0 * np.pi, R))
    return Design(W=W, Rs=Rs, psi=psi)
