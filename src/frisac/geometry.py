"""Array geometry, directions, angles and RIS steering vectors (MODEL.md sections 1-2).

Conventions (pinned by MODEL.md, not by the paper's garbled text):

* BS: uniform linear array along x; antenna n sits at q_n = (n d_x, 0, 0) relative to
  antenna 0.
* RIS: uniform planar array in the y-z plane; element r = r_y + R_y r_z (y fastest) sits at
  p_r = (0, r_y d_y, r_z d_z) relative to element 0.
* A unit direction u leaving the RIS has elevation phi_e = asin(u_z) and azimuth
  phi_a = atan2(u_y, u_x), so u = (cos phi_e cos phi_a, cos phi_e sin phi_a, sin phi_e).
* RIS steering vector, paper eq. (8): a(phi)_r = exp(-j kappa u(phi) . p_r).

All angles are in radians, all lengths in metres.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from frisac._types import ComplexArray, FloatArray

__all__ = [
    "angles_from_direction",
    "direction_derivatives",
    "direction_from_angles",
    "ris_element_indices",
    "ris_positions",
    "steering_basis",
    "steering_derivatives",
    "steering_vector",
    "ula_positions",
    "unit_direction",
]


def ula_positions(n_antennas: int, spacing_m: float) -> FloatArray:
    """Antenna positions of the BS uniform linear array along x, relative to antenna 0.

    Returns
    -------
    q : float ndarray, shape (n_antennas, 3), metres. q_n = (n d_x, 0, 0).
    """
    q = np.zeros((n_antennas, 3))
    q[:, 0] = np.arange(n_antennas) * spacing_m
    return q


def ris_element_indices(R_y: int, R_z: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Row/column indices (r_y, r_z) of every RIS element r = r_y + R_y r_z.

    Returns
    -------
    r_y, r_z : int ndarrays, shape (R,) with R = R_y R_z.
    """
    r = np.arange(R_y * R_z)
    return r % R_y, r // R_y


def ris_positions(R_y: int, R_z: int, d_y_m: float, d_z_m: float) -> FloatArray:
    """RIS element positions in the y-z plane, relative to element 0.

    Returns
    -------
    p : float ndarray, shape (R, 3), metres. p_r = (0, r_y d_y, r_z d_z).
    """
    r_y, r_z = ris_element_indices(R_y, R_z)
    p = np.zeros((R_y * R_z, 3))
    p[:, 1] = r_y * d_y_m
    p[:, 2] = r_z * d_z_m
    return p


def unit_direction(from_m: ArrayLike, to_m: ArrayLike) -> FloatArray:
    """Unit vector pointing from one point to another (far field: between array centres).

    Raises
    ------
    ValueError if the two points coincide.
    """
    delta = np.asarray(to_m, dtype=float) - np.asarray(from_m, dtype=float)
    norm = float(np.linalg.norm(delta))
    if norm == 0.0:
        raise ValueError(f"direction undefined: both points are at {list(np.asarray(to_m))}")
    return delta / norm


def angles_from_direction(u: ArrayLike) -> FloatArray:
    """(phi_e, phi_a) in radians of a unit direction: phi_e = asin(u_z), phi_a = atan2(u_y, u_x).

    Parameters
    ----------
    u : float array, shape (..., 3).

    Returns
    -------
    phi : float ndarray, shape (..., 2), [phi_e, phi_a] in radians.
    """
    u = np.asarray(u, dtype=float)
    phi_e = np.arcsin(np.clip(u[..., 2], -1.0, 1.0))
    phi_a = np.arctan2(u[..., 1], u[..., 0])
    return np.stack([phi_e, phi_a], axis=-1)


def direction_from_angles(phi: ArrayLike) -> FloatArray:
    """Unit direction u(phi) = (cos e cos a, cos e sin a, sin e), shape (..., 3)."""
    phi = np.asarray(phi, dtype=float)
    e, a = phi[..., 0], phi[..., 1]
    return np.stack([np.cos(e) * np.cos(a), np.cos(e) * np.sin(a), np.sin(e)], axis=-1)


def direction_derivatives(phi: ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
    """u(phi) with its first and second derivatives with respect to (phi_e, phi_a).

    Returns
    -------
    u : shape (3,)
    du : shape (2, 3), du[i] = d u / d phi_i
    d2u : shape (2, 2, 3), d2u[i, j] = d^2 u / d phi_i d phi_j
    """
    e, a = (float(x) for x in np.asarray(phi, dtype=float))
    ce, se, ca, sa = np.cos(e), np.sin(e), np.cos(a), np.sin(a)
    u = np.array([ce * ca, ce * sa, se])
    du = np.array([[-se * ca, -se * sa, ce], [-ce * sa, ce * ca, 0.0]])
    d2u = np.array(
        [
            [[-ce * ca, -ce * sa, -se], [se * sa, -se * ca, 0.0]],
            [[se * sa, -se * ca, 0.0], [-ce * ca, -ce * sa, 0.0]],
        ]
    )
    return u, du, d2u


def steering_vector(phi: ArrayLike, positions_m: FloatArray, wavelength_m: float) -> ComplexArray:
    """RIS steering vector a(phi), paper eq. (8): a_r = exp(-j kappa u(phi) . p_r).

    Parameters
    ----------
    phi : float array, shape (..., 2), [phi_e, phi_a] in radians.
    positions_m : float ndarray, shape (R, 3), element positions relative to element 0.
    wavelength_m : carrier wavelength in metres.

    Returns
    -------
    a : complex ndarray, shape (..., R), unit-modulus entries.
    """
    kappa = 2.0 * np.pi / wavelength_m
    u = direction_from_angles(phi)
    return np.exp(-1j * kappa * (u @ positions_m.T))


def steering_derivatives(
    phi: ArrayLike, positions_m: FloatArray, wavelength_m: float
) -> tuple[ComplexArray, ComplexArray, ComplexArray]:
    """a(phi) and its analytic first and second derivatives with respect to (phi_e, phi_a).

    With theta_r(phi) = kappa u(phi) . p_r and a_r = exp(-j theta_r):
    d a_r / d phi_i = -j theta_r,i a_r and
    d^2 a_r / d phi_i d phi_j = (-j theta_r,ij - theta_r,i theta_r,j) a_r
    (these are the paper's eqs. (54)-(61), written for a rather than for a a^H).

    Returns
    -------
    a : complex ndarray, shape (R,)
    da : complex ndarray, shape (2, R)
    d2a : complex ndarray, shape (2, 2, R)
    """
    kappa = 2.0 * np.pi / wavelength_m
    u, du, d2u = direction_derivatives(phi)
    theta = kappa * (positions_m @ u)  # (R,)
    theta_i = kappa * (du @ positions_m.T)  # (2, R)
    theta_ij = kappa * (d2u @ positions_m.T)  # (2, 2, R)
    a = np.exp(-1j * theta)
    da = -1j * theta_i * a
    d2a = (-1j * theta_ij - theta_i[:, None, :] * theta_i[None, :, :]) * a
    return a, da, d2a


def steering_basis(
    phi: ArrayLike, positions_m: FloatArray, wavelength_m: float, order: int = 3
) -> ComplexArray:
    """a(phi) with all its derivatives up to ``order`` (2 or 3), as the columns
    [a, a_e, a_a, a_ee, a_ea, a_aa] (+ [a_eee, a_eea, a_eaa, a_aaa] for order 3), shape
    (R, 6) or (R, 10).

    With theta = kappa u(phi) . p and a = exp(-j theta), every column is a polynomial in the
    derivatives of theta times a (eqs. 54-61 and one order more):
    a_i = -j theta_i a, a_ij = (-j theta_ij - theta_i theta_j) a,
    a_ijk = (-j theta_ijk - theta_ik theta_j - theta_i theta_jk - theta_ij theta_k
             + j theta_i theta_j theta_k) a.
    The columns are built as rows of one contiguous (n, R) array (the result is its
    transpose): the optimisers evaluate this thousands of times on large RIS.
    """
    if order not in (2, 3):
        raise ValueError(f"order: {order!r}; expected 2 or 3")
    kappa = 2.0 * np.pi / wavelength_m
    u, du, d2u = direction_derivatives(phi)
    e, a_ = (float(x) for x in np.asarray(phi, dtype=float))
    ce, se, ca, sa = np.cos(e), np.sin(e), np.cos(a_), np.sin(a_)
    rows = [u, du[0], du[1], d2u[0, 0], d2u[0, 1], d2u[1, 1]]
    if order == 3:
        rows += [
            [se * ca, se * sa, -ce],  # d3u / de de de
            [ce * sa, -ce * ca, 0.0],  # d3u / de de da
            [se * ca, se * sa, 0.0],  # d3u / de da da
            [ce * sa, -ce * ca, 0.0],  # d3u / da da da
        ]
    theta = kappa * (np.array(rows) @ positions_m.T)  # (n, R): theta and its derivatives
    n, R = theta.shape
    t, te, ta, tee, tea, taa = theta[:6]
    real = np.zeros((n, R))  # coefficient c of each column a_S = (real + j imag) a
    imag = np.zeros((n, R))
    real[0] = 1.0
    imag[1] = -te
    imag[2] = -ta
    real[3], imag[3] = -te * te, -tee
    real[4], imag[4] = -te * ta, -tea
    real[5], imag[5] = -ta * ta, -taa
    if order == 3:
        teee, teea, teaa, taaa = theta[6:]
        real[6], imag[6] = -3.0 * tee * te, te * te * te - teee
        real[7], imag[7] = -2.0 * tea * te - tee * ta, te * te * ta - teea
        real[8], imag[8] = -2.0 * tea * ta - te * taa, te * ta * ta - teaa
        real[9], imag[9] = -3.0 * taa * ta, ta * ta * ta - taaa
    return ((real + 1j * imag) * np.exp(-1j * t)).T
