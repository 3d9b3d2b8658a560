"""RIS beampattern: power the RIS radiates toward a direction (the quantity of paper Fig. 4).

P(phi) = E|a(phi)^H diag(psi) H_BR^H x|^2 = g(phi)^H Rx g(phi), g(phi) = H_BR diag(psi)^H a(phi),
in watts (per unit far-field gain), with psi the TRUE coefficients (what the faulty RIS
does) or the ASSUMED ones (what the perfect-RIS model believes).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray

from frisac._types import FloatArray
from frisac.design import Design, check_compatible
from frisac.faults import true_coefficients
from frisac.geometry import steering_vector
from frisac.metrics.sensing import grid_model_vectors, model_matrix
from frisac.realization import Realization

__all__ = ["beampattern", "beampattern_grid"]

Which = Literal["true", "assumed"]


def _coefficients(realization: Realization, design: Design, which: Which) -> NDArray[np.complex128]:
    if which == "true":
        return true_coefficients(design.psi, realization.fault_idx, realization.fault_coef)
    if which == "assumed":
        return np.array(design.psi)
    raise ValueError(f"which={which!r}: expected 'true' or 'assumed'")


def beampattern_grid(
    realization: Realization,
    design: Design,
    phi_e_rad: FloatArray,
    phi_a_rad: FloatArray,
    *,
    which: Which = "true",
) -> FloatArray:
    """P(phi_e, phi_a) in W on a rectangular grid, shape (len(phi_e), len(phi_a))."""
    check_compatible(realization, design)
    r = realization
    M = model_matrix(r.H_BR, _coefficients(r, design, which))
    G = grid_model_vectors(
        M,
        R_y=r.R_y,
        R_z=r.R_z,
        d_y_m=r.d_y,
        d_z_m=r.d_z,
        wavelength_m=r.wavelength,
        phi_e=np.asarray(phi_e_rad, dtype=float),
        phi_a=np.asarray(phi_a_rad, dtype=float),
    )  # (N_t, n_e, n_a)
    Rx = design.Rx
    return np.real(np.einsum("nea,nm,mea->ea", G.conj(), Rx, G))


def beampattern(
    realization: Realization, design: Design, phi_rad: FloatArray, *, which: Which = "true"
) -> FloatArray:
    """P(phi) in W at arbitrary directions phi of shape (..., 2); returns shape (...)."""
    check_compatible(realization, design)
    r = realization
    M = model_matrix(r.H_BR, _coefficients(r, design, which))
    a = steering_vector(np.asarray(phi_rad, dtype=float), r.ris_positions_m, r.wavelength)
    g = a @ M.T  # (..., N_t)
    return np.real(np.einsum("...n,nm,...m->...", g.conj(), design.Rx, g))
