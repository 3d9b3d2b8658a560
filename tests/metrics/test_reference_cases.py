"""Regression against the three reference cases computed by an independent implementation.

Tolerances from tests/data/reference_cases/README.md: tr(MCRB_phi) to 1e-5 relative (the
reference used Richardson-extrapolated finite differences, ~1e-10), eta0 to 1e-9 rad, SINR
to 1e-10 relative.
"""

import json

import numpy as np
import pytest

from frisac import load_design, load_realization
from frisac.metrics import evaluate
from support import REFERENCE_CASES, REFERENCE_DIR


@pytest.fixture(params=REFERENCE_CASES)
def case(request):
    folder = REFERENCE_DIR / request.param
    expected = json.loads((folder / "expected.json").read_text())
    r = load_realization(folder / "realisation.npz")
    d = load_design(folder / "design.npz")
    return r, d, expected


def test_reference_metrics_agree(case) -> None:
    r, d, exp = case
    ev = evaluate(r, d).to_json()
    assert ev["trace_mcrb_phi"] == pytest.approx(exp["trace_mcrb_phi"], rel=1e-5)
    np.testing.assert_allclose(ev["eta0"][:2], exp["eta0"][:2], rtol=0, atol=1e-9)
    alpha0 = complex(*ev["eta0"][2:])
    assert abs(alpha0 - complex(*exp["eta0"][2:])) <= 1e-7 * abs(alpha0)
    np.testing.assert_allclose(ev["sinr"], exp["sinr"], rtol=1e-10)
    assert ev["power_w"] == pytest.approx(exp["power_w"], rel=1e-12)
    np.testing.assert_allclose(ev["phi_true"], exp["phi_true"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(ev["bias_phi"], exp["bias_phi"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(ev["mcrb_phi"], exp["mcrb_phi"], rtol=1e-5)
    np.testing.assert_allclose(ev["mse_bound_phi"], exp["mse_bound_phi"], rtol=1e-5)
    assert ev["crb_perfect_trace_phi"] == pytest.approx(exp["crb_perfect_trace_phi"], rel=1e-6)
    for key in ("A", "B"):
        got, want = np.array(ev[key]), np.array(exp[key])
        scale = np.sqrt(np.outer(np.abs(np.diag(want)), np.abs(np.diag(want))))
        np.testing.assert_allclose(got / scale, want / scale, rtol=0, atol=1e-8, err_msg=key)
    # MCRB block against the reference, entry by entry relative to the diagonal scale.
    got, want = np.array(ev["mcrb"]), np.array(exp["mcrb"])
    scale = np.sqrt(np.outer(np.diag(want), np.diag(want)))
    np.testing.assert_allclose(got / scale, want / scale, rtol=0, atol=1e-5)
