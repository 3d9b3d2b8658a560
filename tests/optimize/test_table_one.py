"""Optimisers at the paper's Table I size (slow: minutes). Reduced versions run by default."""

import itertools

import numpy as np
import pytest

from frisac import Scenario, draw_realization
from frisac.optimize import PaperOptions, SchemeOptions, run_schemes
from support import assert_feasible

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:Solution may be inaccurate:UserWarning"),
]


@pytest.fixture(scope="module")
def table_one():
    return draw_realization(Scenario.default(), np.random.default_rng(5))


@pytest.mark.parametrize("method", ["direct", "paper"])
def test_table_one_designs_are_feasible_and_ordered(table_one, method: str) -> None:
    options = SchemeOptions(method=method, paper=PaperOptions(max_iterations=3))
    results = run_schemes(
        table_one,
        ["perfect", "naive", "proposed", "random"],
        options=options,
        rng=np.random.default_rng(0),
    )
    assert_feasible(table_one.without_faults(), results["perfect"].design)
    assert_feasible(table_one, results["proposed"].design)
    assert results["proposed"].trace_mcrb_phi < results["random"].trace_mcrb_phi
    if method == "direct":
        assert results["proposed"].evaluation.sensing.bound_valid
    history = [h.relaxed_objective for h in results["proposed"].history]
    if method == "paper":
        assert all(b <= a * (1 + 1e-12) for a, b in itertools.pairwise(history))


def test_table_one_full_size_sweep(tmp_path) -> None:
    from frisac.experiments import ResultStore, SweepSpec, run_sweep

    spec = SweepSpec(
        scenario=Scenario.default(),
        vary_key="F",
        values=(20, 60),
        schemes=("perfect", "naive", "proposed", "random"),
        trials=2,
        root_seed=4,
    )
    outcome = run_sweep(spec, tmp_path / "s", workers=2, progress=False)
    assert outcome.computed == 4
    with ResultStore(tmp_path / "s").open(create=False) as store:
        rows = store.rows()
    assert len(rows) == 16
    assert all(r["feasible"] for r in rows if r["scheme"] in ("perfect", "proposed"))
