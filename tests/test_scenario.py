import math

import pytest
import tomli_w

from frisac import Scenario
from frisac.errors import FrisacInputError
from frisac.scenario import parse_assignment


def test_defaults_are_table_one_and_model_extras() -> None:
    s = Scenario.default()
    assert (s.N_t, s.N_r, s.R_y, s.R_z, s.F, s.K, s.T) == (32, 32, 15, 10, 40, 4, 256)
    assert s.R == 150 and s.W == 110
    assert s.f_c_hz == 28e9
    assert s.p_max_w == pytest.approx(10 ** (3.3 - 3), rel=1e-14)
    assert s.sinr_min == pytest.approx(10.0, rel=1e-14)
    assert s.noise_sensing_w == pytest.approx(1e-14, rel=1e-14)
    assert s.noise_comm_w == pytest.approx(1e-14, rel=1e-14)
    assert s.rcs_target_m2 == pytest.approx(10**0.1, rel=1e-14)
    assert s.bs_position_m == (15.0, 0.0, 10.0)
    assert s.ris_position_m == (0.0, 40.0, 5.0)
    assert s.target_position_m == (20.0, 55.0, 1.0)
    assert s.scatter_position_m == (25.0, 30.0, 1.0)
    assert s.ue_center_m == (15.0, 40.0, 1.0) and s.ue_radius_m == 8.0
    assert s.d_y_m == pytest.approx(s.wavelength_m / 2, rel=1e-15)


def test_replace_changes_one_field_and_keeps_the_rest() -> None:
    s = Scenario.default().replace(F=60)
    assert s.F == 60 and s.K == 4
    with pytest.raises(FrisacInputError, match=r"unknown key 'Fx'.*valid keys are: N_t"):
        Scenario.default().replace(Fx=1)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"F": 200}, r"F=200 exceeds R=150 RIS elements"),
        ({"K": 0}, r"K=0: expected an integer >= 1"),
        ({"F": 2.5}, r"F=2.5: expected an integer"),
        ({"F": True}, r"F=True: expected an integer"),
        ({"p_max_dbm": "high"}, r"p_max_dbm='high': expected a number"),
        ({"p_max_dbm": math.nan}, r"p_max_dbm=nan: expected a finite number"),
        ({"ue_radius_m": -1.0}, r"ue_radius_m=-1.0: expected a distance >= 0 m"),
        ({"pathloss_ref_distance_m": -1.0}, r"pathloss_ref_distance_m=-1.0"),
        ({"d_z_wavelengths": 0.0}, r"d_z_wavelengths=0.0: expected a positive spacing"),
        ({"target_position_m": (0, 40, 5)}, r"target_position_m=.*coincides with the RIS"),
        ({"bs_position_m": (1, 2)}, r"bs_position_m=\(1, 2\): expected 3 numbers"),
        ({"ue_center_m": (0.0, 40.0, 5.0)}, r"disc of users contains the RIS"),
        ({"f_c_hz": -1.0}, r"f_c_hz=-1.0: expected a positive frequency"),
    ],
)
def test_bad_values_name_field_value_and_expectation(changes: dict, message: str) -> None:
    with pytest.raises(FrisacInputError, match=message):
        Scenario.default().replace(**changes)


def test_toml_round_trip_and_unknown_key(tmp_path) -> None:
    s = Scenario.default().replace(F=12, target_position_m=(21.0, 50.0, 2.0))
    path = tmp_path / "s.toml"
    path.write_text(tomli_w.dumps(s.to_mapping()))
    assert Scenario.from_toml(path) == s
    path.write_text("F = 3\nbogus = 1\n")
    with pytest.raises(FrisacInputError, match=r"unknown key 'bogus'"):
        Scenario.from_toml(path)
    path.write_text("F = = 3\n")
    with pytest.raises(FrisacInputError, match=r"invalid TOML"):
        Scenario.from_toml(path)
    with pytest.raises(FrisacInputError, match=r"cannot be read"):
        Scenario.from_toml(tmp_path / "missing.toml")


def test_cli_style_assignments_parse_toml_values() -> None:
    assert parse_assignment("F=60") == ("F", 60)
    assert parse_assignment("target_position_m=[1, 2, 3]") == ("target_position_m", [1, 2, 3])
    assert parse_assignment("F=abc") == ("F", "abc")
    s = Scenario.default().with_assignments(["F=60", "p_max_dbm=30"])
    assert (s.F, s.p_max_dbm) == (60, 30.0)
    with pytest.raises(FrisacInputError, match=r"expected KEY=VALUE"):
        parse_assignment("F60")


def test_describe_lists_every_field_with_units() -> None:
    text = Scenario.default().describe()
    assert "p_max_dbm" in text and "dBm" in text and "N_t" in text
    assert len(text.splitlines()) == len(Scenario.default().to_mapping()) + 4
