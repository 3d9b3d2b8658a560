"""Unit conversions and physical constants (MODEL.md section 1).

SI units everywhere inside frisac (metres, watts, radians, linear ratios). dB and dBm
appear only at the edges (config files, CLI flags, plots) and are converted here, once.
Every function accepts a Python float (and returns one) or an array (and returns one).
"""

from __future__ import annotations

from typing import overload

import numpy as np

from frisac._types import FloatArray

__all__ = [
    "SPEED_OF_LIGHT_M_S",
    "db_to_linear",
    "dbm_to_watt",
    "linear_to_db",
    "watt_to_dbm",
    "wavelength_m",
]

SPEED_OF_LIGHT_M_S = 3e8
"""c, pinned to 3e8 m/s by MODEL.md section 1 (not 299 792 458)."""


def _out(value: FloatArray) -> float | FloatArray:
    return float(value) if value.ndim == 0 else value


@overload
def db_to_linear(value_db: float) -> float: ...
@overload
def db_to_linear(value_db: FloatArray) -> FloatArray: ...
def db_to_linear(value_db: float | FloatArray) -> float | FloatArray:
    """Power ratio in dB to linear: 10^(x/10)."""
    return _out(np.power(10.0, np.asarray(value_db, dtype=float) / 10.0))


@overload
def linear_to_db(value: float) -> float: ...
@overload
def linear_to_db(value: FloatArray) -> FloatArray: ...
def linear_to_db(value: float | FloatArray) -> float | FloatArray:
    """Linear power ratio to dB: 10 log10(x)."""
    return _out(10.0 * np.log10(np.asarray(value, dtype=float)))


@overload
def dbm_to_watt(value_dbm: float) -> float: ...
@overload
def dbm_to_watt(value_dbm: FloatArray) -> FloatArray: ...
def dbm_to_watt(value_dbm: float | FloatArray) -> float | FloatArray:
    """Power in dBm to watts: 10^((x - 30)/10)."""
    return _out(np.power(10.0, (np.asarray(value_dbm, dtype=float) - 30.0) / 10.0))


@overload
def watt_to_dbm(value_w: float) -> float: ...
@overload
def watt_to_dbm(value_w: FloatArray) -> FloatArray: ...
def watt_to_dbm(value_w: float | FloatArray) -> float | FloatArray:
    """Power in watts to dBm: 10 log10(x) + 30."""
    return _out(10.0 * np.log10(np.asarray(value_w, dtype=float)) + 30.0)


def wavelength_m(f_c_hz: float) -> float:
    """Carrier wavelength lambda = c / f_c, in metres."""
    return SPEED_OF_LIGHT_M_S / float(f_c_hz)
