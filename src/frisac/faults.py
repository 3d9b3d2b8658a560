"""Faulty RIS elements (MODEL.md section 4, paper Sec. II-B).

Drawing is separate from applying: :func:`draw_faults` turns a random generator into a
:class:`Faults` record; :func:`true_coefficients` and :func:`assumed_coefficients` are pure
functions of it.

Notation. The code works with reflection coefficients ``psi`` in C^R (Theta = diag(psi));
the paper's v is conj(psi). A design commands a full unit-modulus psi. The TRUE vector
equals psi on working elements and the fault coefficients beta_f exp(j theta_f) on faulty
ones; the ASSUMED (perfect-RIS) vector used by the sensing receiver is psi itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from frisac._types import ComplexArray

__all__ = [
    "Faults",
    "assumed_coefficients",
    "draw_faults",
    "true_coefficients",
    "working_indices",
]

IntArray = NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class Faults:
    """The faulty elements of one realisation.

    Attributes
    ----------
    idx : int ndarray, shape (F,), sorted ascending, distinct, in [0, R).
    coef : complex ndarray, shape (F,), reflection coefficient of element idx[i], |coef| <= 1.
    R : total number of RIS elements.
    """

    idx: IntArray
    coef: ComplexArray
    R: int

    @property
    def F(self) -> int:
        return int(self.idx.size)

    @property
    def working_idx(self) -> IntArray:
        """Indices of the working elements, shape (R - F,), ascending."""
        return working_indices(self.R, self.idx)


def draw_faults(rng: np.random.Generator, R: int, F: int) -> Faults:
    """Uniformly random F-subset of the R elements, with beta ~ U(0,1), theta ~ U(0, 2 pi).

    The subset is drawn first, then the F amplitudes, then the F phases, paired with the
    indices sorted ascending.
    """
    if not 0 <= F <= R:
        raise ValueError(f"F={F} must lie in [0, R={R}]")
    idx = np.sort(rng.choice(R, size=F, replace=False)).astype(np.int64)
    beta = rng.uniform(0.0, 1.0, size=F)
    theta = rng.uniform(0.0, 2.0 * np.pi, size=F)
    return Faults(idx=idx, coef=beta * np.exp(1j * theta), R=R)


def working_indices(R: int, fault_idx: NDArray[np.integer]) -> IntArray:
    """Indices of the working elements: [0, R) minus the faulty set, ascending."""
    mask = np.ones(R, dtype=bool)
    mask[np.asarray(fault_idx, dtype=np.int64)] = False
    return np.flatnonzero(mask).astype(np.int64)


def true_coefficients(
    psi: ComplexArray, fault_idx: NDArray[np.integer], fault_coef: ComplexArray
) -> ComplexArray:
    """Coefficients the RIS actually applies: psi on working elements, faults elsewhere.

    Parameters
    ----------
    psi : complex ndarray, shape (R,), commanded coefficients.
    fault_idx : int ndarray, shape (F,).
    fault_coef : complex ndarray, shape (F,).

    Returns
    -------
    psi_true : complex ndarray, shape (R,).
    """
    psi_true = np.array(psi, dtype=np.complex128, copy=True)
    psi_true[np.asarray(fault_idx, dtype=np.int64)] = fault_coef
    return psi_true


def assumed_coefficients(psi: ComplexArray) -> ComplexArray:
    """Coefficients the perfect-RIS model assumes: what was commanded (MODEL.md section 4)."""
    return np.array(psi, dtype=np.complex128, copy=True)
