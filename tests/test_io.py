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
        (lambda v: v.update(R_y=np.array(4.0 + 1j)), r"R_y: dtype complex128; expected integers"),
        (lambda v: v.update(T=np.array(2.5)), r"T: non-integer values"),
    ],
)
def test_bad_npz_rejected_with_one_line(tmp_path, small_realization, mutate, message) -> None:
    values = small_realization.to_dict()
    mutate(values)
    _write_npz(tmp_path / "bad.npz", values)
    with pytest.raises(FrisacInputError, match=message) as info:
        load_realization(tmp_path / "bad.npz")
    assert "bad.npz" in str(info.value) and "\n" not in str(info.value)


def test_unreadable_files(tmp_path) -> None:
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    with pytest.raises(FrisacInputError, match=r"cannot be read as \.npz"):
        load_realization(tmp_path / "junk.npz")
    (tmp_path / "junk.mat").write_bytes(b"\x00" * 10)
    with pytest.raises(FrisacInputError, match=r"cannot be read as \.mat"):
        load_design(tmp_path / "junk.mat")
    with pytest.raises(FrisacInputError, match=r"no such file"):
        load_realization(tmp_path / "absent.npz")
    with pytest.raises(FrisacInputError, match=r"unknown extension '\.txt'"):
        load_realization(tmp_path / "r.txt")
    np.savez(tmp_path / "obj.npz", H_BR=np.array([object()], dtype=object))
    with pytest.raises(FrisacInputError, match=r"Python objects"):
        load_realization(tmp_path / "obj.npz")


def test_bad_design_files(tmp_path) -> None:
    good = {"W": np.ones((4, 2)), "Rs": np.eye(4), "psi": np.ones(6)}
    cases = [
        ({**good, "psi": 2 * np.ones(6)}, r"psi: \|psi\[0\]\| = 2; expected unit-modulus"),
        ({**good, "Rs": np.eye(3)}, r"Rs: shape \(3, 3\); expected \(4, 4\)"),
        ({**good, "Rs": -np.eye(4)}, r"Rs: smallest eigenvalue -1 W; expected positive"),
        ({**good, "Rs": np.triu(np.ones((4, 4)))}, r"Rs: not Hermitian"),
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
