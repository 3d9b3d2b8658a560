import numpy as np
import pytest

from frisac import Realization, Scenario, draw_realization
from frisac.errors import FrisacInputError


def test_same_seed_gives_bit_identical_realisation() -> None:
    s = Scenario.default()
    a = draw_realization(s, np.random.default_rng(42)).to_dict()
    b = draw_realization(s, np.random.default_rng(42)).to_dict()
    c = draw_realization(s, np.random.default_rng(43)).to_dict()
    for key in a:
        assert np.asarray(a[key]).tobytes() == np.asarray(b[key]).tobytes(), key
    assert not np.array_equal(a["H_BR"], c["H_BR"])


def test_realisation_carries_model_constants() -> None:
    s = Scenario.default().replace(F=10, K=3)
    r = draw_realization(s, np.random.default_rng(0))
    assert (r.N_t, r.R, r.K, r.F, r.W) == (32, 150, 3, 10, 140)
    assert r.H_BR.shape == (32, 150) and r.h.shape == (150, 3)
    assert r.noise_comm_w.shape == (3,)
    assert r.T == 256 and r.sinr_min == pytest.approx(10.0)
    np.testing.assert_allclose(np.rad2deg(r.phi_target), [-9.09, 36.87], atol=0.01)
    assert r.alpha == pytest.approx(1.3472257533725249e-05, rel=1e-12)
    assert not r.H_BR.flags.writeable


def test_without_faults_keeps_channels() -> None:
    r = draw_realization(Scenario.default().replace(R_y=4, R_z=4, F=5), np.random.default_rng(1))
    clean = r.without_faults()
    assert clean.F == 0 and clean.W == 16
    np.testing.assert_array_equal(clean.H_BR, r.H_BR)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("H_BR", np.zeros((8, 15), complex), r"H_BR: shape \(8, 15\); expected \(8, 16\)"),
        ("h", np.zeros((15, 2), complex), r"h: shape \(15, 2\); expected \(16, 2\)"),
        ("fault_idx", np.array([3, 1, 2, 0]), r"fault_idx: expected distinct indices sorted"),
        ("fault_idx", np.array([0, 2, 7, 16]), r"fault_idx: values from 0 to 16"),
        ("fault_idx", np.array([0.5, 2, 7, 9]), r"fault_idx: non-integer values"),
        ("fault_coef", np.full(4, 2.0 + 0j), r"fault_coef: largest amplitude 2"),
        ("phi_target", np.array([1j, 0.0]), r"phi_target: dtype complex128; expected real"),
        ("phi_target", np.array([0.1, 0.2, 0.3]), r"phi_target: shape \(3,\); expected \(2,\)"),
        ("noise_sensing_w", -1.0, r"noise_sensing_w=-1.0: expected a positive number"),
        ("T", 0, r"T=0: expected an integer >= 1"),
        ("wavelength", np.nan, r"wavelength: contains NaN"),
        ("noise_comm_w", np.ones(3), r"noise_comm_w: shape \(3,\); expected \(2,\)"),
        ("H_BR", np.array(["a"] * 128).reshape(8, 16), r"H_BR: dtype <U1 is not numeric"),
    ],
)
def test_bad_fields_are_rejected_with_one_line(small_realization, key, value, message) -> None:
    values = small_realization.to_dict()
    values[key] = value
    with pytest.raises(FrisacInputError, match=message) as info:
        Realization(**values)
    assert "\n" not in str(info.value)
