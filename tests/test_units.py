import numpy as np
import pytest

from frisac import units


def test_dbm_and_db_conversions_known_values() -> None:
    assert units.dbm_to_watt(30.0) == pytest.approx(1.0, rel=1e-15)
    assert units.dbm_to_watt(33.0) == pytest.approx(1.9952623149688795, rel=1e-15)
    assert units.dbm_to_watt(-110.0) == pytest.approx(1e-14, rel=1e-14)
    assert units.db_to_linear(10.0) == pytest.approx(10.0, rel=1e-15)
    assert units.db_to_linear(-30.0) == pytest.approx(1e-3, rel=1e-15)


def test_conversions_invert_each_other_and_broadcast() -> None:
    x = np.linspace(-120.0, 40.0, 17)
    np.testing.assert_allclose(units.watt_to_dbm(units.dbm_to_watt(x)), x, rtol=0, atol=1e-12)
    np.testing.assert_allclose(units.linear_to_db(units.db_to_linear(x)), x, rtol=0, atol=1e-12)


def test_wavelength_uses_pinned_speed_of_light() -> None:
    # MODEL.md section 1: c = 3e8 m/s, f_c = 28 GHz.
    assert units.wavelength_m(28e9) == pytest.approx(3e8 / 28e9, rel=1e-15)
