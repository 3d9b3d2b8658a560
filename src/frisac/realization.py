"""One Monte-Carlo realisation: channels, faults, radar coefficients and system constants.

A :class:`Realization` holds exactly the exchange keys of MODEL.md section 8, so that a
design evaluated on it gives the same numbers wherever it is evaluated. It is drawn from
a scenario and an explicit ``numpy.random.Generator`` by :func:`draw_realization`: the
same seed gives a bit-identical realisation.

Order of random draws inside :func:`draw_realization` (frisac's own, not pinned by
MODEL.md): UE radii, UE angles, H_BR NLoS (real then imaginary parts), h NLoS (real then
imaginary), fault subset, fault amplitudes, fault phases.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from frisac import geometry
from frisac._checks import complex_array, int_array, int_scalar, readonly, real_array
from frisac._types import ComplexArray, FloatArray
from frisac.channels import (
    draw_ue_positions,
    los_bs_ris,
    los_ris_ue,
    path_loss,
    radar_coefficient,
    rician,
)
from frisac.errors import FrisacInputError
from frisac.faults import Faults, draw_faults, working_indices
from frisac.scenario import Scenario

__all__ = ["REALIZATION_KEYS", "Realization", "draw_realization"]


REALIZATION_KEYS: tuple[str, ...] = (
    "H_BR",
    "h",
    "fault_idx",
    "fault_coef",
    "alpha",
    "alpha_scatter",
    "phi_target",
    "phi_scatter",
    "wavelength",
    "d_y",
    "d_z",
    "R_y",
    "R_z",
    "T",
    "noise_sensing_w",
    "noise_comm_w",
    "p_max_w",
    "sinr_min",
)
"""Exchange keys of a realisation file, MODEL.md section 8 (same names as the fields)."""


@dataclass(frozen=True, eq=False)
class Realization:
    """Everything MODEL.md sections 5-6 need to evaluate a design.

    Attributes (shapes with N_t BS antennas, R = R_y R_z RIS elements, K users, F faults)
    ----------
    H_BR : complex (N_t, R). BS-RIS channel; the BS-to-RIS propagation matrix is H_BR^H.
    h : complex (R, K). Column k is h_k; the RIS-to-UE-k row is h_k^H.
    fault_idx : int (F,), sorted ascending, distinct, in [0, R).
    fault_coef : complex (F,), |.| <= 1, paired with fault_idx.
    alpha, alpha_scatter : complex scalars, radar coefficients of target and scatterer.
    phi_target, phi_scatter : float (2,), [phi_e, phi_a] seen from the RIS, radians.
    wavelength, d_y, d_z : metres.
    R_y, R_z, T : ints (RIS rows/columns, sensing snapshots).
    noise_sensing_w : sigma_s^2 in W. noise_comm_w : float (K,), sigma_k^2 in W.
    p_max_w : W. sinr_min : gamma_th, linear.
    """

    H_BR: ComplexArray
    h: ComplexArray
    fault_idx: NDArray[np.int64]
    fault_coef: ComplexArray
    alpha: complex
    alpha_scatter: complex
    phi_target: FloatArray
    phi_scatter: FloatArray
    wavelength: float
    d_y: float
    d_z: float
    R_y: int
    R_z: int
    T: int
    noise_sensing_w: float
    noise_comm_w: FloatArray
    p_max_w: float
    sinr_min: float

    def __post_init__(self) -> None:
        setv = object.__setattr__
        R_y = int_scalar("R_y", self.R_y)
        R_z = int_scalar("R_z", self.R_z)
        if R_y < 1 or R_z < 1:
            raise FrisacInputError(f"R_y={R_y}, R_z={R_z}: expected integers >= 1")
        R = R_y * R_z
        H_BR = np.asarray(self.H_BR)
        if H_BR.ndim != 2:
            raise FrisacInputError(f"H_BR: shape {H_BR.shape}; expected 2-D (N_t, R)")
        N_t = H_BR.shape[0]
        setv(self, "R_y", R_y)
        setv(self, "R_z", R_z)
        setv(self, "H_BR", complex_array("H_BR", H_BR, (N_t, R), f"(N_t, R_y*R_z) = ({N_t}, {R})"))
        h = np.asarray(self.h)
        if h.ndim != 2:
            raise FrisacInputError(f"h: shape {h.shape}; expected 2-D (R, K) with R = {R}")
        K = h.shape[1]
        setv(self, "h", complex_array("h", h, (R, K), f"(R, K) with R = {R}"))
        if N_t < 1 or K < 1:
            raise FrisacInputError(f"H_BR/h: N_t={N_t}, K={K}; expected at least one of each")
        idx = np.asarray(self.fault_idx)
        F = idx.size
        idx = int_array("fault_idx", idx.reshape(-1) if idx.ndim <= 1 else idx, (F,))
        if F and (idx.min() < 0 or idx.max() >= R):
            raise FrisacInputError(
                f"fault_idx: values from {idx.min()} to {idx.max()}; expected indices in [0, {R})"
            )
        if F > 1 and not np.all(np.diff(idx) > 0):
            raise FrisacInputError("fault_idx: expected distinct indices sorted ascending")
        setv(self, "fault_idx", idx)
        coef = complex_array("fault_coef", self.fault_coef, (F,), "(F,) paired with fault_idx")
        if F and np.max(np.abs(coef)) > 1.0 + 1e-12:
            raise FrisacInputError(
                f"fault_coef: largest amplitude {np.max(np.abs(coef)):.6g}; "
                "expected |coefficient| <= 1 (a passive element)"
            )
        setv(self, "fault_coef", coef)
        for name in ("alpha", "alpha_scatter"):
            setv(self, name, complex(complex_array(name, getattr(self, name), ())))
        for name in ("phi_target", "phi_scatter"):
            phi = real_array(name, getattr(self, name), (2,), "[phi_e, phi_a] in rad")
            if abs(phi[0]) > np.pi / 2:
                raise FrisacInputError(f"{name}: phi_e={phi[0]:.6g} rad; expected |phi_e| <= pi/2")
            setv(self, name, phi)
        for name in ("wavelength", "d_y", "d_z", "noise_sensing_w", "p_max_w", "sinr_min"):
            value = float(real_array(name, getattr(self, name), ()))
            if not value > 0:
                raise FrisacInputError(f"{name}={value}: expected a positive number")
            setv(self, name, value)
        T = int_scalar("T", self.T)
        if T < 1:
            raise FrisacInputError(f"T={T}: expected an integer >= 1")
        setv(self, "T", T)
        noise = real_array("noise_comm_w", self.noise_comm_w, (K,), f"(K,) with K = {K}")
        if np.any(noise <= 0):
            raise FrisacInputError("noise_comm_w: expected positive noise powers in W")
        setv(self, "noise_comm_w", noise)
        for name in ("H_BR", "h", "fault_idx", "fault_coef", "phi_target", "phi_scatter"):
            readonly(getattr(self, name))
        readonly(self.noise_comm_w)

    # ----------------------------------------------------------------- derived sizes
    @property
    def N_t(self) -> int:
        return int(self.H_BR.shape[0])

    @property
    def R(self) -> int:
        return self.R_y * self.R_z

    @property
    def K(self) -> int:
        return int(self.h.shape[1])

    @property
    def F(self) -> int:
        return int(self.fault_idx.size)

    @property
    def W(self) -> int:
        return self.R - self.F

    # Derived arrays are computed once per realisation (optimisers ask for them thousands
    # of times) and returned read-only, so the cache cannot be altered by a caller.
    @cached_property
    def working_idx(self) -> NDArray[np.int64]:
        """Working element indices, shape (W,), ascending."""
        return readonly(working_indices(self.R, self.fault_idx))

    @property
    def faults(self) -> Faults:
        return Faults(idx=self.fault_idx, coef=self.fault_coef, R=self.R)

    @cached_property
    def ris_positions_m(self) -> FloatArray:
        """Element positions relative to element 0, shape (R, 3)."""
        return readonly(geometry.ris_positions(self.R_y, self.R_z, self.d_y, self.d_z))

    @cached_property
    def steering_target(self) -> ComplexArray:
        """a(phi_target), shape (R,): the RIS steering vector toward the target (eq. 8)."""
        return readonly(
            geometry.steering_vector(self.phi_target, self.ris_positions_m, self.wavelength)
        )

    @cached_property
    def steering_scatter(self) -> ComplexArray:
        """a(phi'), shape (R,): the RIS steering vector toward the scatterer (eq. 8)."""
        return readonly(
            geometry.steering_vector(self.phi_scatter, self.ris_positions_m, self.wavelength)
        )

    def to_dict(self) -> dict[str, Any]:
        """Exchange-key dictionary (numpy values), MODEL.md section 8."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                out[f.name] = np.array(value)
            elif isinstance(value, complex):
                out[f.name] = np.complex128(value)
            elif isinstance(value, int):
                out[f.name] = np.int64(value)
            else:
                out[f.name] = np.float64(value)
        return out

    def without_faults(self) -> Realization:
        """The same channels with a fault-free RIS (F = 0), used by the perfect-RIS scheme."""
        values = self.to_dict()
        values["fault_idx"] = np.zeros(0, dtype=np.int64)
        values["fault_coef"] = np.zeros(0, dtype=np.complex128)
        return Realization(**values)


def draw_realization(scenario: Scenario, rng: np.random.Generator) -> Realization:
    """Draw one realisation of ``scenario`` (MODEL.md sections 1-4, 6).

    Same generator state, bit-identical result. See the module docstring for the draw order.
    """
    s = scenario
    lam = s.wavelength_m
    bs_q = geometry.ula_positions(s.N_t, s.d_x_m)
    ris_p = geometry.ris_positions(s.R_y, s.R_z, s.d_y_m, s.d_z_m)
    pl = {"ref_gain": s.pathloss_ref, "ref_distance_m": s.pathloss_ref_distance_m}

    ue = draw_ue_positions(rng, s.K, center_m=s.ue_center_m, radius_m=s.ue_radius_m)

    # BS-RIS: LoS between array centres, Rician K = 10, mu = 2 by default.
    u_br = geometry.unit_direction(s.bs_position_m, s.ris_position_m)
    d_br = float(np.linalg.norm(np.subtract(s.ris_position_m, s.bs_position_m)))
    H_los = los_bs_ris(bs_q, ris_p, u_br, -u_br, lam)
    gain_br = path_loss(d_br, exponent=s.pathloss_exponent_bs_ris, **pl)
    H_BR = rician(rng, H_los, k_factor=s.rician_factor_bs_ris, gain=gain_br)

    # RIS-UE: Rician K = 1, mu = 2.2 by default, per-user distance.
    u_ru = np.stack([geometry.unit_direction(s.ris_position_m, p) for p in ue])
    d_ru = np.linalg.norm(ue - np.asarray(s.ris_position_m), axis=1)
    h_los = los_ris_ue(ris_p, u_ru, lam)
    gain_ru = path_loss(d_ru, exponent=s.pathloss_exponent_ris_ue, **pl)
    h = rician(rng, h_los, k_factor=s.rician_factor_ris_ue, gain=gain_ru)

    faults = draw_faults(rng, s.R, s.F)

    d_target = float(np.linalg.norm(np.subtract(s.target_position_m, s.ris_position_m)))
    d_scatter = float(np.linalg.norm(np.subtract(s.scatter_position_m, s.ris_position_m)))
    alpha = radar_coefficient(
        N_t=s.N_t,
        N_r=s.N_r,
        wavelength_m=lam,
        rcs_m2=s.rcs_target_m2,
        distance_m=d_target,
        phase_rad=s.alpha_phase_rad,
    )
    alpha_scatter = radar_coefficient(
        N_t=s.N_t,
        N_r=s.N_r,
        wavelength_m=lam,
        rcs_m2=s.rcs_scatter_m2,
        distance_m=d_scatter,
        phase_rad=s.alpha_scatter_phase_rad,
    )
    phi_target = geometry.angles_from_direction(
        geometry.unit_direction(s.ris_position_m, s.target_position_m)
    )
    phi_scatter = geometry.angles_from_direction(
        geometry.unit_direction(s.ris_position_m, s.scatter_position_m)
    )
    return Realization(
        H_BR=H_BR,
        h=h,
        fault_idx=faults.idx,
        fault_coef=faults.coef,
        alpha=alpha,
        alpha_scatter=alpha_scatter,
        phi_target=phi_target,
        phi_scatter=phi_scatter,
        wavelength=lam,
        d_y=s.d_y_m,
        d_z=s.d_z_m,
        R_y=s.R_y,
        R_z=s.R_z,
        T=s.T,
        noise_sensing_w=s.noise_sensing_w,
        noise_comm_w=np.full(s.K, s.noise_comm_w),
        p_max_w=s.p_max_w,
        sinr_min=s.sinr_min,
    )
