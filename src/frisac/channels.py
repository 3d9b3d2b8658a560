"""Channels of one Monte-Carlo realisation (MODEL.md section 3) and radar gains (section 6).

Path loss PL(d) = K0 (d / d0)^(-mu); Rician fading
H = sqrt(PL) (sqrt(Kf / (1 + Kf)) H_LoS + sqrt(1 / (1 + Kf)) H_NLoS), H_NLoS i.i.d. CN(0, 1).

Shapes: ``H_BR`` is (N_t, R), the paper's H_BR (the BS-to-RIS propagation matrix is
H_BR^H); ``h`` is (R, K) and column k is the paper's h_k (the RIS-to-UE-k row is h_k^H).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from frisac._types import ComplexArray, FloatArray

__all__ = [
    "circular_normal",
    "draw_ue_positions",
    "los_bs_ris",
    "los_ris_ue",
    "path_loss",
    "radar_coefficient",
    "rician",
]


def path_loss(
    distance_m: float | FloatArray,
    *,
    ref_gain: float,
    ref_distance_m: float,
    exponent: float,
) -> float | FloatArray:
    """Large-scale power gain PL(d) = K0 (d / d0)^(-mu), linear."""
    out = ref_gain * (np.asarray(distance_m, dtype=float) / ref_distance_m) ** (-exponent)
    return float(out) if out.ndim == 0 else out


def circular_normal(rng: np.random.Generator, shape: tuple[int, ...]) -> ComplexArray:
    """i.i.d. CN(0, 1) samples: (N(0,1) + j N(0,1)) / sqrt(2), real parts drawn first."""
    real = rng.standard_normal(shape)
    imag = rng.standard_normal(shape)
    return (real + 1j * imag) / np.sqrt(2.0)


def los_bs_ris(
    bs_positions_m: FloatArray,
    ris_positions_m: FloatArray,
    u_bs_to_ris: FloatArray,
    u_ris_to_bs: FloatArray,
    wavelength_m: float,
) -> ComplexArray:
    """LoS part of H_BR, shape (N_t, R).

    MODEL.md section 3: (H_BR^H)_{r,n} = exp(+j kappa (u_RB . p_r + u_BR . q_n)), so
    (H_BR)_{n,r} = exp(-j kappa (u_RB . p_r + u_BR . q_n)).
    """
    kappa = 2.0 * np.pi / wavelength_m
    phase_bs = bs_positions_m @ u_bs_to_ris  # (N_t,)
    phase_ris = ris_positions_m @ u_ris_to_bs  # (R,)
    return np.exp(-1j * kappa * (phase_bs[:, None] + phase_ris[None, :]))


def los_ris_ue(
    ris_positions_m: FloatArray, u_ris_to_ue: FloatArray, wavelength_m: float
) -> ComplexArray:
    """LoS part of h, shape (R, K): (h_k^H)_r = exp(+j kappa u_RU_k . p_r), i.e. h_k = a(phi_RU_k).

    Parameters
    ----------
    u_ris_to_ue : float ndarray, shape (K, 3), unit directions RIS -> UE k.
    """
    kappa = 2.0 * np.pi / wavelength_m
    return np.exp(-1j * kappa * (ris_positions_m @ u_ris_to_ue.T))


def rician(
    rng: np.random.Generator, los: ComplexArray, *, k_factor: float, gain: float | FloatArray
) -> ComplexArray:
    """Rician channel sqrt(PL) (sqrt(K/(1+K)) LoS + sqrt(1/(1+K)) NLoS), NLoS ~ CN(0, 1).

    ``gain`` (the path loss PL) broadcasts against ``los`` (per column for per-user losses).
    """
    nlos = circular_normal(rng, los.shape)
    mix = np.sqrt(k_factor / (1.0 + k_factor)) * los + np.sqrt(1.0 / (1.0 + k_factor)) * nlos
    return np.sqrt(gain) * mix


def draw_ue_positions(
    rng: np.random.Generator, K: int, *, center_m: ArrayLike, radius_m: float
) -> FloatArray:
    """K users uniform over a horizontal disc, at the disc's height.

    radius = r_max sqrt(U), angle = 2 pi U' (MODEL.md section 3); all K radii are drawn
    before the K angles.

    Returns
    -------
    positions : float ndarray, shape (K, 3), metres.
    """
    center = np.asarray(center_m, dtype=float)
    radius = radius_m * np.sqrt(rng.uniform(0.0, 1.0, size=K))
    angle = 2.0 * np.pi * rng.uniform(0.0, 1.0, size=K)
    positions = np.tile(center, (K, 1))
    positions[:, 0] += radius * np.cos(angle)
    positions[:, 1] += radius * np.sin(angle)
    return positions


def radar_coefficient(
    *,
    N_t: int,
    N_r: int,
    wavelength_m: float,
    rcs_m2: float,
    distance_m: float,
    phase_rad: float = 0.0,
) -> complex:
    """Radar coefficient alpha with |alpha|^2 = N_t N_r lambda^2 sigma / ((4 pi)^3 d^4).

    Paper eq. (6) text, with (4 pi)^3 where the extraction shows "4 pi^3"; d is the RIS-point
    distance (the BS-RIS leg is already in H_BR), MODEL.md section 6.
    """
    power = N_t * N_r * wavelength_m**2 * rcs_m2 / ((4.0 * np.pi) ** 3 * distance_m**4)
    return complex(np.sqrt(power) * np.exp(1j * phase_rad))
