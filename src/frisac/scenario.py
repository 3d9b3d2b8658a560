"""The scenario: every parameter of a study, with the paper's Table I as defaults.

A :class:`Scenario` is a frozen dataclass. Values in dB/dBm are stored as given (they are
what users type) and exposed in SI through properties (``p_max_w``, ``noise_sensing_w``,
``sinr_min``...). Keys use the paper's symbols where it has one (``N_t``, ``R_y``, ``F``,
``K``, ``T``) and a unit suffix otherwise.

Defaults follow the paper's Table I and MODEL.md's pinned extras (T = 256, the scatterer
at (25, 30, 1) m with 1 dBsm, the UE disc, positions of BS, RIS and target).

    >>> Scenario.default().replace(F=60).F
    60
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from frisac.errors import FrisacInputError
from frisac.units import db_to_linear, dbm_to_watt, wavelength_m

__all__ = ["FIELD_DOCS", "Scenario", "parse_assignment"]

Vec3 = tuple[float, float, float]

# field name -> (unit shown to users, description)
FIELD_DOCS: dict[str, tuple[str, str]] = {
    "N_t": ("", "BS transmit antennas (ULA along x)"),
    "N_r": ("", "BS receive antennas (enters the radar gain only)"),
    "R_y": ("", "RIS elements along y"),
    "R_z": ("", "RIS elements along z"),
    "F": ("", "faulty RIS elements"),
    "K": ("", "communication users"),
    "T": ("", "sensing snapshots per coherent block"),
    "f_c_hz": ("Hz", "carrier frequency"),
    "p_max_dbm": ("dBm", "maximum transmit power"),
    "sinr_min_db": ("dB", "SINR threshold gamma_th"),
    "noise_sensing_dbm": ("dBm", "sensing noise power sigma_s^2"),
    "noise_comm_dbm": ("dBm", "communication noise power sigma_c^2 (every user)"),
    "rcs_target_dbsm": ("dBsm", "target radar cross section"),
    "rcs_scatter_dbsm": ("dBsm", "scatterer radar cross section"),
    "alpha_phase_rad": ("rad", "phase of the target coefficient alpha"),
    "alpha_scatter_phase_rad": ("rad", "phase of the scatterer coefficient alpha'"),
    "d_x_wavelengths": ("lambda", "BS antenna spacing"),
    "d_y_wavelengths": ("lambda", "RIS element spacing along y"),
    "d_z_wavelengths": ("lambda", "RIS element spacing along z"),
    "bs_position_m": ("m", "BS array centre"),
    "ris_position_m": ("m", "RIS centre"),
    "target_position_m": ("m", "target position"),
    "scatter_position_m": ("m", "scatterer position"),
    "ue_center_m": ("m", "centre of the disc of users (users at its height)"),
    "ue_radius_m": ("m", "radius of the disc of users"),
    "pathloss_ref_db": ("dB", "path loss K0 at the reference distance"),
    "pathloss_ref_distance_m": ("m", "reference distance d0"),
    "pathloss_exponent_bs_ris": ("", "path-loss exponent mu, BS-RIS"),
    "pathloss_exponent_ris_ue": ("", "path-loss exponent mu, RIS-UE"),
    "rician_factor_bs_ris": ("", "Rician K-factor (linear), BS-RIS"),
    "rician_factor_ris_ue": ("", "Rician K-factor (linear), RIS-UE"),
}

_INT_FIELDS = frozenset({"N_t", "N_r", "R_y", "R_z", "F", "K", "T"})
_VEC_FIELDS = frozenset(
    {
        "bs_position_m",
        "ris_position_m",
        "target_position_m",
        "scatter_position_m",
        "ue_center_m",
    }
)


@dataclass(frozen=True)
class Scenario:
    """All parameters of the faulty-RIS ISAC system. Defaults: paper Table I + MODEL.md."""

    N_t: int = 32
    N_r: int = 32
    R_y: int = 15
    R_z: int = 10
    F: int = 40
    K: int = 4
    T: int = 256
    f_c_hz: float = 28e9
    p_max_dbm: float = 33.0
    sinr_min_db: float = 10.0
    noise_sensing_dbm: float = -110.0
    noise_comm_dbm: float = -110.0
    rcs_target_dbsm: float = 1.0
    rcs_scatter_dbsm: float = 1.0
    alpha_phase_rad: float = 0.0
    alpha_scatter_phase_rad: float = 0.0
    d_x_wavelengths: float = 0.5
    d_y_wavelengths: float = 0.5
    d_z_wavelengths: float = 0.5
    bs_position_m: Vec3 = (15.0, 0.0, 10.0)
    ris_position_m: Vec3 = (0.0, 40.0, 5.0)
    target_position_m: Vec3 = (20.0, 55.0, 1.0)
    scatter_position_m: Vec3 = (25.0, 30.0, 1.0)
    ue_center_m: Vec3 = (15.0, 40.0, 1.0)
    ue_radius_m: float = 8.0
    pathloss_ref_db: float = -30.0
    pathloss_ref_distance_m: float = 1.0
    pathloss_exponent_bs_ris: float = 2.0
    pathloss_exponent_ris_ue: float = 2.2
    rician_factor_bs_ris: float = 10.0
    rician_factor_ris_ue: float = 1.0

    def __post_init__(self) -> None:
        for f in fields(self):
            object.__setattr__(self, f.name, _coerce(f.name, getattr(self, f.name)))
        _validate(self)

    # ----------------------------------------------------------------- construction
    @classmethod
    def default(cls) -> Scenario:
        """The paper's Table I with MODEL.md's pinned extras."""
        return cls()

    def replace(self, **changes: Any) -> Scenario:
        """A copy with some fields changed; unknown names are rejected with the valid list."""
        _check_keys(changes)
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], *, source: str = "config") -> Scenario:
        """Build from a mapping of field names to values (e.g. a parsed TOML file)."""
        _check_keys(values, source=source)
        return cls(**dict(values))

    @classmethod
    def from_toml(cls, path: str | Path) -> Scenario:
        """Load a scenario from a TOML file of ``key = value`` lines (dB/dBm as in the keys)."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise FrisacInputError(
                f"config file {str(path)!r}: cannot be read ({exc.strerror or exc})"
            ) from None
        except UnicodeDecodeError:
            raise FrisacInputError(f"config file {str(path)!r}: not UTF-8 text") from None
        try:
            values = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise FrisacInputError(f"config file {str(path)!r}: invalid TOML ({exc})") from None
        return cls.from_mapping(values, source=f"config file {str(path)!r}")

    def with_assignments(self, assignments: Iterable[str]) -> Scenario:
        """Apply CLI overrides of the form ``KEY=VALUE`` (VALUE in TOML syntax)."""
        changes: dict[str, Any] = {}
        for text in assignments:
            key, value = parse_assignment(text)
            changes[key] = value
        return self.replace(**changes) if changes else self

    def to_mapping(self) -> dict[str, Any]:
        """Field name -> value (positions as lists), suitable for TOML or JSON."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    # ----------------------------------------------------------------- SI views
    @property
    def R(self) -> int:
        """Number of RIS elements R = R_y R_z."""
        return self.R_y * self.R_z

    @property
    def W(self) -> int:
        """Number of working RIS elements W = R - F."""
        return self.R - self.F

    @property
    def wavelength_m(self) -> float:
        return wavelength_m(self.f_c_hz)

    @property
    def d_x_m(self) -> float:
        return self.d_x_wavelengths * self.wavelength_m

    @property
    def d_y_m(self) -> float:
        return self.d_y_wavelengths * self.wavelength_m

    @property
    def d_z_m(self) -> float:
        return self.d_z_wavelengths * self.wavelength_m

    @property
    def p_max_w(self) -> float:
        return dbm_to_watt(self.p_max_dbm)

    @property
    def sinr_min(self) -> float:
        """SINR threshold gamma_th, linear."""
        return db_to_linear(self.sinr_min_db)

    @property
    def noise_sensing_w(self) -> float:
        return dbm_to_watt(self.noise_sensing_dbm)

    @property
    def noise_comm_w(self) -> float:
        return dbm_to_watt(self.noise_comm_dbm)

    @property
    def rcs_target_m2(self) -> float:
        return db_to_linear(self.rcs_target_dbsm)

    @property
    def rcs_scatter_m2(self) -> float:
        return db_to_linear(self.rcs_scatter_dbsm)

    @property
    def pathloss_ref(self) -> float:
        """K0, linear."""
        return db_to_linear(self.pathloss_ref_db)

    def describe(self) -> str:
        """A readable table of every field with its unit and meaning."""
        rows = []
        for name, (unit, doc) in FIELD_DOCS.items():
            value = getattr(self, name)
            text = (
                "(" + ", ".join(f"{v:g}" for v in value) + ")"
                if isinstance(value, tuple)
                else f"{value:g}"
                if isinstance(value, float)
                else str(value)
            )
            rows.append(f"{name:<26} {text:>22} {unit:<7} {doc}")
        derived = [
            f"{'R':<26} {self.R:>22} {'':<7} RIS elements R_y R_z (derived)",
            f"{'W':<26} {self.W:>22} {'':<7} working RIS elements R - F (derived)",
            f"{'wavelength_m':<26} {self.wavelength_m:>22.6g} {'m':<7} c / f_c (derived)",
            f"{'p_max_w':<26} {self.p_max_w:>22.6g} {'W':<7} (derived)",
        ]
        return "\n".join(rows + derived)


# --------------------------------------------------------------------------- helpers
def _valid_names() -> list[str]:
    return [f.name for f in fields(Scenario)]


def _check_keys(values: Mapping[str, Any], *, source: str = "scenario") -> None:
    valid = _valid_names()
    for key in values:
        if key not in valid:
            raise FrisacInputError(
                f"{source}: unknown key {key!r}; valid keys are: {', '.join(valid)}"
            )


def _coerce(name: str, value: Any) -> Any:
    if name in _INT_FIELDS:
        if isinstance(value, bool) or not isinstance(value, int):
            raise FrisacInputError(f"{name}={value!r}: expected an integer")
        return int(value)
    if name in _VEC_FIELDS:
        if (
            not isinstance(value, (list, tuple))
            or len(value) != 3
            or not all(_is_number(v) for v in value)
        ):
            raise FrisacInputError(f"{name}={value!r}: expected 3 numbers [x, y, z] in metres")
        vec = tuple(float(v) for v in value)
        if not all(math.isfinite(v) for v in vec):
            raise FrisacInputError(f"{name}={value!r}: expected finite coordinates")
        return vec
    if not _is_number(value):
        raise FrisacInputError(f"{name}={value!r}: expected a number")
    number = float(value)
    if not math.isfinite(number):
        raise FrisacInputError(f"{name}={value!r}: expected a finite number")
    return number


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise FrisacInputError(message)


def _validate(s: Scenario) -> None:
    for name in ("N_t", "N_r", "R_y", "R_z", "K", "T"):
        _require(getattr(s, name) >= 1, f"{name}={getattr(s, name)}: expected an integer >= 1")
    _require(s.F >= 0, f"F={s.F}: expected an integer >= 0")
    _require(s.F <= s.R, f"F={s.F} exceeds R={s.R} RIS elements (R_y={s.R_y} x R_z={s.R_z})")
    _require(s.f_c_hz > 0, f"f_c_hz={s.f_c_hz}: expected a positive frequency in Hz")
    for name in ("d_x_wavelengths", "d_y_wavelengths", "d_z_wavelengths"):
        value = getattr(s, name)
        _require(value > 0, f"{name}={value}: expected a positive spacing in wavelengths")
    _require(s.ue_radius_m >= 0, f"ue_radius_m={s.ue_radius_m}: expected a distance >= 0 m")
    _require(
        s.pathloss_ref_distance_m > 0,
        f"pathloss_ref_distance_m={s.pathloss_ref_distance_m}: expected a positive distance in m",
    )
    for name in ("pathloss_exponent_bs_ris", "pathloss_exponent_ris_ue"):
        value = getattr(s, name)
        _require(value > 0, f"{name}={value}: expected a positive path-loss exponent")
    for name in ("rician_factor_bs_ris", "rician_factor_ris_ue"):
        value = getattr(s, name)
        _require(value >= 0, f"{name}={value}: expected a linear K-factor >= 0")
    for name in ("bs_position_m", "target_position_m", "scatter_position_m"):
        distance = math.dist(getattr(s, name), s.ris_position_m)
        _require(
            distance > 0,
            f"{name}={list(getattr(s, name))}: coincides with the RIS centre "
            f"{list(s.ris_position_m)}; expected a point away from the RIS",
        )
    dz = s.ris_position_m[2] - s.ue_center_m[2]
    dh = math.dist(s.ris_position_m[:2], s.ue_center_m[:2])
    _require(
        math.hypot(dz, max(0.0, dh - s.ue_radius_m)) > 0,
        f"ue_center_m={list(s.ue_center_m)}, ue_radius_m={s.ue_radius_m}: the disc of users "
        "contains the RIS centre; expected users away from the RIS",
    )


def parse_assignment(text: str) -> tuple[str, Any]:
    """Parse ``KEY=VALUE`` where VALUE is a TOML value (``F=60``, ``bs_position_m=[1,2,3]``).

    A bare word that is not valid TOML is kept as a string, so that the type check of the
    field names the problem (``F=abc`` -> "F='abc': expected an integer").
    """
    if "=" not in text:
        raise FrisacInputError(f"--set {text!r}: expected KEY=VALUE, e.g. --set F=60")
    key, raw = (part.strip() for part in text.split("=", 1))
    if not key:
        raise FrisacInputError(f"--set {text!r}: missing KEY before '='")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key, value
