"""Shape, dtype and value checks shared by realisations, designs and file loaders.

Each check raises :class:`frisac.errors.FrisacInputError` with one line naming the field,
what was found and what was expected.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from frisac.errors import FrisacInputError

__all__ = ["complex_array", "int_array", "int_scalar", "readonly", "real_array"]


def _shape_text(shape: tuple[int, ...]) -> str:
    return "scalar ()" if shape == () else str(shape)


def _as_numeric(name: str, value: Any) -> NDArray[Any]:
    arr = np.asarray(value)
    if arr.dtype.kind not in "biufc":
        raise FrisacInputError(f"{name}: dtype {arr.dtype} is not numeric")
    return arr


def _check_shape(name: str, arr: NDArray[Any], shape: tuple[int, ...], meaning: str) -> None:
    if arr.shape != shape:
        suffix = f" = {meaning}" if meaning else ""
        raise FrisacInputError(
            f"{name}: shape {_shape_text(arr.shape)}; expected {_shape_text(shape)}{suffix}"
        )


def complex_array(
    name: str, value: Any, shape: tuple[int, ...], meaning: str = ""
) -> NDArray[np.complex128]:
    """A finite complex128 copy of ``value`` with exactly ``shape`` (real input is accepted)."""
    arr = _as_numeric(name, value)
    if arr.dtype.kind == "b":
        raise FrisacInputError(f"{name}: dtype bool; expected complex numbers")
    _check_shape(name, arr, shape, meaning)
    out = np.array(arr, dtype=np.complex128, copy=True)
    if not np.all(np.isfinite(out)):
        raise FrisacInputError(f"{name}: contains NaN or infinite entries; expected finite values")
    return out


def real_array(
    name: str, value: Any, shape: tuple[int, ...], meaning: str = ""
) -> NDArray[np.float64]:
    """A finite float64 copy of ``value`` with exactly ``shape``; complex input is rejected."""
    arr = _as_numeric(name, value)
    if arr.dtype.kind in "bc":
        raise FrisacInputError(f"{name}: dtype {arr.dtype}; expected real numbers")
    _check_shape(name, arr, shape, meaning)
    out = np.array(arr, dtype=np.float64, copy=True)
    if not np.all(np.isfinite(out)):
        raise FrisacInputError(f"{name}: contains NaN or infinite entries; expected finite values")
    return out


def int_array(
    name: str, value: Any, shape: tuple[int, ...], meaning: str = ""
) -> NDArray[np.int64]:
    """An int64 copy of ``value``; integral floats (MATLAB's default class) are accepted."""
    arr = _as_numeric(name, value)
    if arr.dtype.kind in "bc":
        raise FrisacInputError(f"{name}: dtype {arr.dtype}; expected integers")
    _check_shape(name, arr, shape, meaning)
    if arr.dtype.kind == "f" and not (np.all(np.isfinite(arr)) and np.all(arr == np.round(arr))):
        raise FrisacInputError(f"{name}: non-integer values; expected integers")
    return np.array(arr, dtype=np.int64, copy=True)


def int_scalar(name: str, value: Any) -> int:
    """A Python int from a scalar (or 1-element) integer value."""
    return int(int_array(name, value, ()))


def readonly(arr: NDArray[Any]) -> NDArray[Any]:
    """Mark an array read-only (frozen dataclasses should not be mutated through arrays)."""
    arr.setflags(write=False)
    return arr
