"""Exchange files: realisations and designs as NumPy ``.npz`` or MATLAB ``.mat``.

Both formats carry exactly the keys of MODEL.md section 8 (complex arrays as complex128,
integers as int64, scalars as 0-d arrays in ``.npz`` and 1 x 1 in ``.mat``). Indices in
``fault_idx`` are 0-based in both formats (a MATLAB user adds 1 before indexing).

Every write is atomic: the file is written beside its target under a temporary name and
renamed into place, so an interrupted write never leaves a half-written file; a write the
operating system refuses (target is a folder, no permission, disk full) is reported as one
:class:`FrisacInputError` line naming the path. Every read checks keys, shapes and dtypes
and reports the first problem in one line. ``.npz`` files must carry the dtypes of MODEL.md
section 8 exactly (complex keys complex128, integer keys an integer dtype, real keys float64
or integers); ``.mat`` files may hold integer keys as integral doubles and complex keys as
real arrays, as MATLAB saves them.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np
import scipy.io
from scipy.io.matlab import MatReadError

from frisac.design import DESIGN_KEYS, Design
from frisac.errors import FrisacInputError
from frisac.realization import REALIZATION_KEYS, Realization

__all__ = [
    "atomic_write",
    "load_design",
    "load_realization",
    "save_design",
    "save_realization",
    "write_json_atomic",
    "write_text_atomic",
]

_FORMATS = (".npz", ".mat")

# Expected number of dimensions per key, used to undo MATLAB's 2-D storage.
_NDIM = {
    "H_BR": 2,
    "h": 2,
    "fault_idx": 1,
    "fault_coef": 1,
    "alpha": 0,
    "alpha_scatter": 0,
    "phi_target": 1,
    "phi_scatter": 1,
    "wavelength": 0,
    "d_y": 0,
    "d_z": 0,
    "R_y": 0,
    "R_z": 0,
    "T": 0,
    "noise_sensing_w": 0,
    "noise_comm_w": 1,
    "p_max_w": 0,
    "sinr_min": 0,
    "W": 2,
    "Rs": 2,
    "psi": 1,
}

# Keys that MODEL.md section 8 stores as complex128 and as integers; every other key is real.
_COMPLEX_KEYS = frozenset({"H_BR", "h", "fault_coef", "alpha", "alpha_scatter", "W", "Rs", "psi"})
_INTEGER_KEYS = frozenset({"fault_idx", "R_y", "R_z", "T"})


# --------------------------------------------------------------------------- writing
def _write_error(path: Path, exc: OSError) -> FrisacInputError:
    """One line naming the output path and the operating system's reason."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    return FrisacInputError(f"output {str(path)!r}: cannot be written ({reason})")


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on success rename it onto ``path``.

    On any exception the temporary file is removed and ``path`` is left untouched. An
    OSError on the way (``path`` is a folder, no permission, disk full, also one raised
    while the caller writes into the handle) becomes a one-line FrisacInputError naming
    ``path``; other exceptions propagate unchanged.
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise FrisacInputError(f"output {str(path)!r}: folder {str(directory)!r} does not exist")
    if path.is_dir():
        raise FrisacInputError(f"output {str(path)!r}: is a folder; expected a file name")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise FrisacInputError(
            f"output {str(path)!r}: cannot write in {str(directory)!r} ({exc.strerror or exc})"
        ) from None
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        if isinstance(exc, OSError):
            raise _write_error(path, exc) from None
        raise


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write a text file atomically (UTF-8)."""
    with atomic_write(path, "w") as handle:
        handle.write(text)


def write_json_atomic(path: str | Path, payload: Any) -> None:
    """Write JSON atomically, pretty-printed."""
    write_text_atomic(path, json.dumps(payload, indent=2) + "\n")


def _suffix(path: Path, what: str) -> str:
    suffix = path.suffix.lower()
    if suffix not in _FORMATS:
        raise FrisacInputError(
            f"{what} {str(path)!r}: unknown extension {suffix or '(none)'!r}; expected .npz or .mat"
        )
    return suffix


def _save(path: str | Path, values: Mapping[str, Any], what: str) -> None:
    path = Path(path)
    suffix = _suffix(path, what)
    with atomic_write(path) as handle:
        if suffix == ".npz":
            np.savez(handle, **values)
        else:
            scipy.io.savemat(handle, dict(values), oned_as="column")


def save_realization(path: str | Path, realization: Realization) -> None:
    """Write a realisation as ``.npz`` or ``.mat`` (by extension), atomically."""
    _save(path, realization.to_dict(), "realisation file")


def save_design(path: str | Path, design: Design) -> None:
    """Write a design as ``.npz`` or ``.mat`` (by extension), atomically."""
    _save(path, design.to_dict(), "design file")


# --------------------------------------------------------------------------- reading
def _read_raw(path: Path, what: str) -> dict[str, Any]:
    suffix = _suffix(path, what)
    if not path.exists():
        raise FrisacInputError(f"{what} {str(path)!r}: no such file")
    if path.is_dir():
        raise FrisacInputError(f"{what} {str(path)!r}: is a folder; expected a file")
    try:
        if suffix == ".npz":
            if not zipfile.is_zipfile(path):
                raise FrisacInputError(
                    f"{what} {str(path)!r}: cannot be read as .npz (not a valid .npz/zip file)"
                )
            with np.load(path, allow_pickle=False) as data:
                return {key: data[key] for key in data.files}
        try:
            raw = scipy.io.loadmat(path, squeeze_me=False, mat_dtype=False)
        except NotImplementedError:
            raise FrisacInputError(
                f"{what} {str(path)!r}: MATLAB v7.3 (HDF5) files are not supported; "
                "save with `save(..., '-v7')`"
            ) from None
        return {key: value for key, value in raw.items() if not key.startswith("__")}
    except FrisacInputError:
        raise
    except (
        OSError,
        ValueError,
        zipfile.BadZipFile,
        EOFError,
        TypeError,
        KeyError,
        IndexError,
        MatReadError,
    ) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if isinstance(exc, zipfile.BadZipFile):
            reason = f"not a valid .npz/zip file: {reason}"
        elif "allow_pickle" in reason or "Object arrays" in reason:
            reason = "contains Python objects (pickled arrays are not accepted)"
        raise FrisacInputError(
            f"{what} {str(path)!r}: cannot be read as {suffix} ({reason})"
        ) from None


def _squeeze_mat(key: str, value: Any) -> Any:
    """Undo MATLAB's 2-D storage: 1 x 1 -> scalar, 1 x n / n x 1 -> vector."""
    arr = np.asarray(value)
    ndim = _NDIM.get(key)
    if arr.dtype.kind in "OUSV":
        return arr
    if ndim == 0 and arr.size == 1:
        return arr.reshape(())
    if ndim == 1 and arr.ndim == 2 and 1 in arr.shape:
        return arr.reshape(-1)
    if ndim == 1 and arr.ndim == 2 and arr.size == 0:
        return arr.reshape(0)
    return arr


def _expected_npz_dtype(key: str, dtype: np.dtype[Any]) -> str | None:
    """What MODEL.md section 8 expects for ``key`` if ``dtype`` does not conform, else None.

    Non-numeric dtypes pass here: the field's own check names them ("is not numeric").
    """
    if dtype.kind not in "biufc":
        return None
    if key in _COMPLEX_KEYS:
        return None if dtype == np.complex128 else "complex128"
    if key in _INTEGER_KEYS:
        return None if dtype.kind in "iu" else "an integer dtype (int64)"
    return None if dtype == np.float64 or dtype.kind in "iu" else "float64"


def _check_npz_dtypes(path: Path, what: str, values: Mapping[str, Any]) -> None:
    """Reject a ``.npz`` key whose dtype differs from MODEL.md section 8 (one line)."""
    for key, value in values.items():
        dtype = np.asarray(value).dtype
        expected = _expected_npz_dtype(key, dtype)
        if expected is not None:
            raise FrisacInputError(
                f"{what} {str(path)!r}: {key}: dtype {dtype}; expected {expected} "
                "(MODEL.md section 8)"
            )


def _collect(path: str | Path, keys: tuple[str, ...], what: str) -> tuple[Path, dict[str, Any]]:
    path = Path(path)
    raw = _read_raw(path, what)
    missing = [key for key in keys if key not in raw]
    if missing:
        raise FrisacInputError(
            f"{what} {str(path)!r}: missing key {missing[0]!r} (expected keys: {', '.join(keys)})"
        )
    values = {key: raw[key] for key in keys}
    if path.suffix.lower() == ".mat":
        values = {key: _squeeze_mat(key, value) for key, value in values.items()}
    else:
        _check_npz_dtypes(path, what, values)
    for key, value in values.items():
        arr = np.asarray(value)
        if arr.ndim != _NDIM[key]:
            raise FrisacInputError(
                f"{what} {str(path)!r}: {key} has {arr.ndim} dimension(s) {arr.shape}; "
                f"expected {_NDIM[key]}"
            )
    return path, values


def _construct(path: Path, what: str, build: Callable[..., Any], values: dict[str, Any]) -> Any:
    try:
        return build(**values)
    except FrisacInputError as exc:
        raise FrisacInputError(f"{what} {str(path)!r}: {exc}") from None


def load_realization(path: str | Path) -> Realization:
    """Read and validate a realisation file (``.npz`` or ``.mat``)."""
    what = "realisation file"
    p, values = _collect(path, REALIZATION_KEYS, what)
    return _construct(p, what, Realization, values)


def load_design(path: str | Path) -> Design:
    """Read and validate a design file (``.npz`` or ``.mat``)."""
    what = "design file"
    p, values = _collect(path, DESIGN_KEYS, what)
    return _construct(p, what, Design, values)
