"""`frisac evaluate`, end to end."""

import json
import shutil

import numpy as np
import pytest

from frisac.cli import main
from support import REFERENCE_DIR

CASE = REFERENCE_DIR / "p3_small_heuristic"
JSON_KEYS = {
    "trace_mcrb_phi",
    "mcrb_phi",
    "mcrb",
    "eta0",
    "phi_true",
    "bias_phi",
    "mse_bound_phi",
    "crb_perfect_trace_phi",
    "sinr",
    "sinr_db",
    "power_w",
}


def test_evaluate_json_has_the_documented_keys(capsys) -> None:
    assert (
        main(["evaluate", str(CASE / "realisation.npz"), str(CASE / "design.npz"), "--json"]) == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out.keys() >= JSON_KEYS
    expected = json.loads((CASE / "expected.json").read_text())
    assert out["trace_mcrb_phi"] == pytest.approx(expected["trace_mcrb_phi"], rel=1e-5)
    assert np.array(out["mcrb"]).shape == (4, 4) and np.array(out["mcrb_phi"]).shape == (2, 2)
    assert len(out["eta0"]) == 4 and len(out["sinr"]) == 2


def test_evaluate_table_is_readable(capsys) -> None:
    assert main(["evaluate", str(CASE / "realisation.npz"), str(CASE / "design.npz")]) == 0
    out = capsys.readouterr().out
    assert "tr(MCRB_phi)" in out and "rad^2" in out and "SINR user 1" in out and "dB" in out


def test_evaluate_mat_files_give_the_same_numbers(tmp_path, capsys) -> None:
    from frisac import load_design, load_realization, save_design, save_realization

    save_realization(tmp_path / "r.mat", load_realization(CASE / "realisation.npz"))
    save_design(tmp_path / "d.mat", load_design(CASE / "design.npz"))
    main(["evaluate", str(CASE / "realisation.npz"), str(CASE / "design.npz"), "--json"])
    a = json.loads(capsys.readouterr().out)
    main(["evaluate", str(tmp_path / "r.mat"), str(tmp_path / "d.mat"), "--json"])
    b = json.loads(capsys.readouterr().out)
    assert a["trace_mcrb_phi"] == b["trace_mcrb_phi"] and a["sinr"] == b["sinr"]


def test_bad_inputs_exit_2_with_one_line(tmp_path, capsys) -> None:
    big = REFERENCE_DIR / "p1_default_heuristic"
    (tmp_path / "junk.npz").write_bytes(b"junk")
    shutil.copy(CASE / "design.npz", tmp_path / "design.npz")
    cases = [
        ([str(big / "realisation.npz"), str(CASE / "design.npz")], "design W has shape (8, 2)"),
        ([str(CASE / "design.npz"), str(CASE / "design.npz")], "missing key 'H_BR'"),
        ([str(tmp_path / "junk.npz"), str(CASE / "design.npz")], "cannot be read as .npz"),
        ([str(CASE / "realisation.npz"), str(tmp_path / "none.npz")], "no such file"),
        ([str(CASE / "realisation.npz")], "the following arguments are required: design"),
    ]
    for argv, message in cases:
        assert main(["evaluate", *argv]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1 and "Traceback" not in err
