import errno
import os

import numpy as np
import pytest
import scipy.io

from frisac import (
    Design,
    draw_realization,
    load_design,
    load_realization,
    save_design,
    save_realization,
)
from frisac.errors import FrisacInputError
from frisac.io import atomic_write

# MODEL.md section 8, copied by hand so that a change to the code's key list is caught.
MODEL_KEYS = [
    *("H_BR", "h", "fault_idx", "fault_coef", "alpha", "alpha_scatter", "phi_target"),
    *("phi_scatter", "wavelength", "d_y", "d_z", "R_y", "R_z", "T", "noise_sensing_w"),
    *("noise_comm_w", "p_max_w", "sinr_min"),
]


def _design_for(r) -> Design:
    rng = np.random.default_rng(0)
    W = rng.standard_normal((r.N_t, r.K)) + 1j * rng.standard_normal((r.N_t, r.K))
    L = rng.standard_normal((r.N_t, 3)) + 1j * rng.standard_normal((r.N_t, 3))
    return Design(W=W, Rs=L @ L.conj().T, psi=np.exp(1j * rng.uniform(0, 6, r.R)))


def _assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert np.asarray(a[key]).dtype == np.asarray(b[key]).dtype, key
        assert np.asarray(a[key]).shape == np.asarray(b[key]).shape, key
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


@pytest.mark.parametrize("suffix", [".npz", ".mat"])
@pytest.mark.parametrize("F", [0, 4])
def test_round_trip_is_lossless(tmp_path, small_scenario, suffix, F) -> None:
    r = draw_realization(small_scenario.replace(F=F), np.random.default_rng(3))
    save_realization(tmp_path / f"r{suffix}", r)
    _assert_same(load_realization(tmp_path / f"r{suffix}").to_dict(), r.to_dict())
    d = _design_for(r)
    save_design(tmp_path / f"d{suffix}", d)
    _assert_same(load_design(tmp_path / f"d{suffix}").to_dict(), d.to_dict())


def test_npz_has_exactly_the_exchange_keys(tmp_path, small_realization) -> None:
    save_realization(tmp_path / "r.npz", small_realization)
    with np.load(tmp_path / "r.npz") as data:
        assert sorted(data.files) == sorted(MODEL_KEYS)
        assert data["H_BR"].dtype == np.complex128 and data["fault_idx"].dtype == np.int64
        assert data["alpha"].shape == () and data["R_y"].dtype == np.int64


def test_mat_written_by_matlab_style_doubles_is_accepted(tmp_path, small_realization) -> None:
    values = small_realization.to_dict()
    values["fault_idx"] = values["fault_idx"].astype(float).reshape(1, -1)  # MATLAB double row
    values["R_y"] = float(values["R_y"])
    scipy.io.savemat(tmp_path / "m.mat", values)
    r = load_realization(tmp_path / "m.mat")
    np.testing.assert_array_equal(r.fault_idx, small_realization.fault_idx)


def _write_npz(path, values) -> None:
    np.savez(path, **values)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda v: v.pop("H_BR"), r"missing key 'H_BR' \(expected keys: H_BR, h,"),
        (lambda v: v.update(H_BR=v["H_BR"][:, :-1]), r"H_BR: shape \(8, 15\); expected \(8, 16\)"),
        (lambda v: v.update(h=v["h"][None]), r"h has 3 dimension\(s\)"),
        (lambda v: v.update(alpha=np.array("x")), r"alpha: dtype <U1 is not numeric"),
        (lambda v: v.update(R_y=np.array(4.0 + 1j)), r"R_y: dtype complex128; expected an int"),
        # MODEL.md section 8 dtypes: .npz files must carry them exactly.
        (lambda v: v.update(T=np.array(2.5)), r"T: dtype float64; expected an integer dtype"),
        (lambda v: v.update(T=np.array(256.0)), r"T: dtype float64; expected an integer dtype"),
        (
            lambda v: v.update(fault_idx=v["fault_idx"].astype(float)),
            r"fault_idx: dtype float64; expected an integer dtype \(int64\)",
        ),
        (
            lambda v: v.update(H_BR=v["H_BR"].real.copy()),
            r"H_BR: dtype float64; expected complex128 \(MODEL.md section 8\)",
        ),
        (
            lambda v: v.update(H_BR=v["H_BR"].astype(np.complex64)),
            r"H_BR: dtype complex64; expected complex128",
        ),
        (lambda v: v.update(alpha=np.array(1e-5)), r"alpha: dtype float64; expected complex128"),
        (
            lambda v: v.update(phi_target=v["phi_target"].astype(np.float32)),
            r"phi_target: dtype float32; expected float64",
        ),
        (lambda v: v.update(R_z=np.array(True)), r"R_z: dtype bool; expected an integer dtype"),
    ],
)
def test_bad_npz_rejected_with_one_line(tmp_path, small_realization, mutate, message) -> None:
    values = small_realization.to_dict()
    mutate(values)
    _write_npz(tmp_path / "bad.npz", values)
    with pytest.raises(FrisacInputError, match=message) as info:
        load_realization(tmp_path / "bad.npz")
    assert "bad.npz" in str(info.value) and "\n" not in str(info.value)


def test_npz_integer_keys_may_use_any_integer_dtype(tmp_path, small_realization) -> None:
    values = small_realization.to_dict()
    values["fault_idx"] = values["fault_idx"].astype(np.int32)
    values["T"] = np.uint16(values["T"])
    _write_npz(tmp_path / "r.npz", values)
    r = load_realization(tmp_path / "r.npz")
    np.testing.assert_array_equal(r.fault_idx, small_realization.fault_idx)
    assert r.T == small_realization.T and r.fault_idx.dtype == np.int64


def test_design_npz_dtypes_are_checked(tmp_path, small_realization) -> None:
    d = _design_for(small_realization).to_dict()
    for key, value, found in [
        ("W", d["W"].real.copy(), "float64"),
        ("Rs", d["Rs"].astype(np.complex64), "complex64"),
        ("psi", np.ones(small_realization.R), "float64"),
    ]:
        np.savez(tmp_path / "d.npz", **{**d, key: value})
        with pytest.raises(FrisacInputError, match=rf"{key}: dtype {found}; expected complex128"):
            load_design(tmp_path / "d.npz")


def test_mat_keeps_matlab_conventions(tmp_path, small_realization) -> None:
    """MATLAB saves integers as double and drops a zero imaginary part: both are accepted."""
    values = small_realization.to_dict()
    real_channel = values["H_BR"].real.copy()
    values.update(
        H_BR=real_channel,  # complex key stored as a real double array
        alpha=np.float64(values["alpha"].real),
        fault_idx=values["fault_idx"].astype(float),
        T=float(values["T"]),
        R_z=float(values["R_z"]),
    )
    scipy.io.savemat(tmp_path / "m.mat", values)
    r = load_realization(tmp_path / "m.mat")
    assert r.H_BR.dtype == np.complex128 and r.fault_idx.dtype == np.int64
    np.testing.assert_array_equal(r.H_BR, real_channel)
    np.testing.assert_array_equal(r.fault_idx, small_realization.fault_idx)
    assert (r.T, r.R_z) == (small_realization.T, small_realization.R_z)
    values["T"] = 2.5  # a non-integral double is still not an integer
    scipy.io.savemat(tmp_path / "m.mat", values)
    with pytest.raises(FrisacInputError, match=r"T: non-integer values"):
        load_realization(tmp_path / "m.mat")


@pytest.mark.parametrize(
    "content",
    [b"not a zip file", b"PK\x03\x04 truncated", b"\x93NUMPY a .npy header"],
    ids=["text", "truncated-zip", "npy-renamed"],
)
def test_corrupt_npz_is_reported_as_not_a_zip_file(tmp_path, content) -> None:
    (tmp_path / "junk.npz").write_bytes(content)
    with pytest.raises(FrisacInputError) as info:
        load_realization(tmp_path / "junk.npz")
    message = str(info.value)
    assert message.endswith("cannot be read as .npz (not a valid .npz/zip file)"), message
    assert "junk.npz" in message and "pickle" not in message and "objects" not in message


def test_unreadable_files(tmp_path) -> None:
    (tmp_path / "junk.mat").write_bytes(b"\x00" * 10)
    with pytest.raises(FrisacInputError, match=r"cannot be read as \.mat"):
        load_design(tmp_path / "junk.mat")
    with pytest.raises(FrisacInputError, match=r"no such file"):
        load_realization(tmp_path / "absent.npz")
    with pytest.raises(FrisacInputError, match=r"unknown extension '\.txt'"):
        load_realization(tmp_path / "r.txt")
    np.savez(tmp_path / "obj.npz", H_BR=np.array([object()], dtype=object))
    with pytest.raises(FrisacInputError, match=r"\(contains Python objects \(pickled arrays"):
        load_realization(tmp_path / "obj.npz")


def test_bad_design_files(tmp_path) -> None:
    good = {
        "W": np.ones((4, 2), complex),
        "Rs": np.eye(4, dtype=complex),
        "psi": np.ones(6, complex),
    }
    cases = [
        ({**good, "psi": 2 * np.ones(6, complex)}, r"psi: \|psi\[0\]\| = 2; expected unit-mod"),
        ({**good, "Rs": np.eye(3, dtype=complex)}, r"Rs: shape \(3, 3\); expected \(4, 4\)"),
        ({**good, "Rs": -np.eye(4, dtype=complex)}, r"Rs: smallest eigenvalue -1 W; expected pos"),
        ({**good, "Rs": np.triu(np.ones((4, 4), complex))}, r"Rs: not Hermitian"),
        ({k: v for k, v in good.items() if k != "W"}, r"missing key 'W'"),
    ]
    for values, message in cases:
        np.savez(tmp_path / "d.npz", **values)
        with pytest.raises(FrisacInputError, match=message):
            load_design(tmp_path / "d.npz")


def test_atomic_write_leaves_nothing_on_failure(tmp_path) -> None:
    target = tmp_path / "out.npz"
    with pytest.raises(RuntimeError), atomic_write(target) as handle:
        handle.write(b"partial")
        raise RuntimeError("interrupted")
    assert os.listdir(tmp_path) == []
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_write(target) as handle:
        handle.write(b"new")
        raise RuntimeError("interrupted")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out.npz"]


def _only(folder) -> list[str]:
    return sorted(os.listdir(folder))


def test_atomic_write_onto_a_folder_is_one_line(tmp_path, small_realization) -> None:
    (tmp_path / "taken.npz").mkdir()
    with pytest.raises(FrisacInputError, match=r"'.*taken\.npz': is a folder; expected a file"):
        save_realization(tmp_path / "taken.npz", small_realization)
    assert _only(tmp_path) == ["taken.npz"] and os.listdir(tmp_path / "taken.npz") == []


@pytest.mark.parametrize(
    ("where", "error"),
    [
        ("replace", IsADirectoryError(errno.EISDIR, "Is a directory")),
        ("replace", PermissionError(errno.EACCES, "Permission denied")),
        ("fsync", OSError(errno.ENOSPC, "No space left on device")),
    ],
)
def test_operating_system_refusal_becomes_one_line(
    tmp_path, monkeypatch, small_realization, where, error
) -> None:
    """An OSError while writing or renaming names the path; no temporary file is left and an
    existing target keeps its old content."""
    target = tmp_path / "r.npz"
    target.write_bytes(b"old")

    def refuse(*args, **kwargs):
        raise error

    monkeypatch.setattr(f"frisac.io.os.{where}", refuse)
    with pytest.raises(FrisacInputError) as info:
        save_realization(target, small_realization)
    message = str(info.value)
    assert message == f"output {str(target)!r}: cannot be written ({error.strerror})"
    assert "\n" not in message
    assert _only(tmp_path) == ["r.npz"] and target.read_bytes() == b"old"


def test_unwritable_folder_is_one_line(tmp_path, monkeypatch, small_realization) -> None:
    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr("frisac.io.tempfile.mkstemp", refuse)
    with pytest.raises(FrisacInputError, match=r"cannot write in .*\(Permission denied\)$"):
        save_realization(tmp_path / "r.npz", small_realization)
    assert _only(tmp_path) == []
