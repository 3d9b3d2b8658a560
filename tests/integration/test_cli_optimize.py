"""`frisac optimize`, end to end: the written design evaluates to the printed numbers."""

import json

import numpy as np
import pytest

from frisac import Scenario, draw_realization, save_realization
from frisac.cli import main

pytestmark = pytest.mark.filterwarnings("ignore:Solution may be inaccurate:UserWarning")


@pytest.fixture(scope="module")
def realisation_file(tmp_path_factory):
    s = Scenario.default().replace(N_t=6, N_r=6, R_y=4, R_z=3, F=2, K=2, noise_sensing_dbm=-170.0)
    path = tmp_path_factory.mktemp("opt") / "r.npz"
    save_realization(path, draw_realization(s, np.random.default_rng(3)))
    return path


@pytest.mark.parametrize(
    ("scheme", "method", "extra"),
    [
        ("proposed", "direct", []),
        ("perfect", "paper", ["--max-iterations", "2"]),
        ("random", "direct", ["--seed", "4"]),
    ],
)
def test_optimize_writes_a_design_that_evaluates_the_same(
    realisation_file, tmp_path, capsys, scheme, method, extra
) -> None:
    out = tmp_path / "d.npz"
    argv = ["optimize", str(realisation_file), "--scheme", scheme, "--method", method]
    assert main([*argv, "--out", str(out), "--json", "--quiet", *extra]) == 0
    result = json.loads(capsys.readouterr().out)
    keys = {"scheme", "method", "status", "trace_mcrb_phi", "sinr", "power_w", "feasible"}
    assert keys | {"iterations", "seconds"} <= result.keys()
    assert result["scheme"] == scheme and result["method"] == method
    assert main(["evaluate", str(realisation_file), str(out), "--json"]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    # perfect is judged on the fault-free RIS: its bound is evaluate's CRB of that design
    key = "crb_perfect_trace_phi" if scheme == "perfect" else "trace_mcrb_phi"
    assert evaluated[key] == pytest.approx(result["trace_mcrb_phi"], rel=1e-9)
    if scheme != "perfect":
        np.testing.assert_allclose(evaluated["sinr"], result["sinr"], rtol=1e-12)
    assert evaluated["power_w"] == pytest.approx(result["power_w"], rel=1e-12)


def test_convergence_plot_and_text_summary(realisation_file, tmp_path, capsys) -> None:
    png = tmp_path / "conv.png"
    argv = ["optimize", str(realisation_file), "--scheme", "proposed", "--quiet"]
    assert main([*argv, "--out", str(tmp_path / "d.mat"), "--plot-convergence", str(png)]) == 0
    out = capsys.readouterr().out
    assert "tr(MCRB_phi)" in out and "wrote" in out
    assert png.stat().st_size > 1000


def test_optimize_bad_input(realisation_file, tmp_path, capsys) -> None:
    base = ["optimize", str(realisation_file), "--scheme", "proposed", "--quiet"]
    cases = [
        ([*base, "--out", str(tmp_path / "d.txt")], "expected a .npz or .mat"),
        ([*base, "--out", str(tmp_path / "no" / "d.npz")], "does not exist"),
        ([*base, "--out", str(tmp_path / "d.npz"), "--plot-convergence", "c.jpg"], ".png"),
        ([*base, "--out", str(tmp_path / "d.npz"), "--method", "magic"], "invalid choice"),
        (
            ["optimize", str(tmp_path / "none.npz"), "--scheme", "perfect", "--out", "x.npz"],
            "no such",
        ),
    ]
    for argv, message in cases:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert message in err and err.strip().count("\n") == 0
    assert list(tmp_path.iterdir()) == []


def test_infeasible_targets_exit_1_without_a_file(tmp_path, capsys) -> None:
    s = Scenario.default().replace(N_t=6, N_r=6, R_y=3, R_z=3, F=1, K=2, sinr_min_db=80.0)
    path = tmp_path / "r.npz"
    save_realization(path, draw_realization(s, np.random.default_rng(1)))
    out = tmp_path / "d.npz"
    argv = ["optimize", str(path), "--scheme", "proposed", "--out", str(out), "--quiet"]
    assert main(argv) == 1
    assert "infeasible" in capsys.readouterr().err
    assert not out.exists()
