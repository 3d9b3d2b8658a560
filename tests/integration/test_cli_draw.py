"""`frisac draw` and `frisac scenario show`, end to end."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from frisac import load_realization
from frisac.cli import main

FRISAC = [sys.executable, "-m", "frisac.cli"]


def test_draw_writes_a_loadable_realisation_via_console(tmp_path: Path) -> None:
    out = tmp_path / "r.npz"
    proc = subprocess.run(
        [*FRISAC, "draw", "--seed", "5", "--set", "F=60", "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    r = load_realization(out)
    assert r.F == 60 and r.R == 150
    again = tmp_path / "again.mat"
    assert main(["draw", "--seed", "5", "--set", "F=60", "--out", str(again)]) == 0
    np.testing.assert_array_equal(load_realization(again).H_BR, r.H_BR)


def test_config_file_then_set_overrides(tmp_path: Path, capsys) -> None:
    cfg = tmp_path / "s.toml"
    cfg.write_text("F = 10\nK = 2\n")
    assert main(["scenario", "show", "--config", str(cfg), "--set", "K=3"]) == 0
    text = capsys.readouterr().out
    assert "F " in text and " 10 " in text and " 3 " in text and "dBm" in text


BAD_CASES = [
    (["--set", "bogus=1"], "unknown key 'bogus'"),
    (["--set", "F=1.5"], "F=1.5: expected an integer"),
    (["--set", "F=151"], "F=151 exceeds R=150"),
    (["--set", "K=0"], "K=0: expected an integer >= 1"),
    (["--set", "ue_radius_m=-2"], "ue_radius_m=-2.0: expected a distance >= 0 m"),
    (["--set", "p_max_dbm=nan"], "p_max_dbm=nan: expected a finite number"),
    (["--set", "target_position_m=[0,40,5]"], "coincides with the RIS centre"),
    (["--set", "d_y_wavelengths=0"], "d_y_wavelengths=0.0: expected a positive spacing"),
    (["--set", "F"], "expected KEY=VALUE"),
    (["--config", "missing.toml"], "cannot be read"),
    (["--seed", "-3"], "expected an integer >= 0"),
]


@pytest.mark.parametrize(("extra", "message"), BAD_CASES)
def test_bad_input_exit_2_one_line_nothing_written(tmp_path, capsys, extra, message) -> None:
    os.chdir(tmp_path)
    argv = ["draw", "--seed", "1", "--out", "r.npz", *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert os.listdir(tmp_path) == []


def test_bad_output_paths(tmp_path, capsys) -> None:
    assert main(["draw", "--seed", "1", "--out", str(tmp_path / "no" / "r.npz")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["draw", "--seed", "1", "--out", str(tmp_path / "r.csv")]) == 2
    assert "expected a .npz or .mat" in capsys.readouterr().err


def test_console_bad_input_has_no_traceback(tmp_path: Path) -> None:
    proc = subprocess.run(
        [*FRISAC, "draw", "--seed", "1", "--set", "F=999", "--out", str(tmp_path / "r.npz")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    expected = "frisac: error: F=999 exceeds R=150 RIS elements (R_y=15 x R_z=10)"
    assert proc.stderr.strip() == expected
    assert not (tmp_path / "r.npz").exists()


@pytest.mark.parametrize("name", ["somedir.npz", "somedir.mat"])
def test_out_is_an_existing_folder_exit_2_one_line(tmp_path: Path, name: str) -> None:
    """`frisac draw --out X` with X an existing folder: no IsADirectoryError traceback."""
    target = tmp_path / name
    target.mkdir()
    proc = subprocess.run(
        [*FRISAC, "draw", "--seed", "1", "--set", "R_y=4", "--set", "R_z=4", "--set", "F=2"]
        + ["--out", str(target)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"frisac: error: output {str(target)!r}: is a folder")
    assert proc.stdout == ""
    assert os.listdir(tmp_path) == [name] and os.listdir(target) == []  # no temporary file


def test_refused_write_exit_2_one_line(tmp_path: Path, capsys, monkeypatch) -> None:
    """An OSError at the rename (e.g. a folder created meanwhile) reaches the CLI as one line."""

    def refuse(*args, **kwargs):
        raise IsADirectoryError(21, "Is a directory")

    monkeypatch.setattr("frisac.io.os.replace", refuse)
    out = tmp_path / "r.npz"
    argv = ["draw", "--seed", "1", "--set", "R_y=4", "--set", "R_z=4", "--set", "F=2"]
    assert main([*argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == f"frisac: error: output {str(out)!r}: cannot be written (Is a directory)\n"
    assert os.listdir(tmp_path) == []
