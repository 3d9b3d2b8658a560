"""frisac's direct method: exact gradients, feasibility, never worse than the start."""

import itertools

import numpy as np
import pytest

from frisac import Design, FrisacInputError, Realization, Scenario, draw_realization
from frisac.geometry import steering_basis
from frisac.metrics.sensing import bounds_at, pseudo_true
from frisac.optimize import PaperOptions, SchemeOptions, run_schemes
from frisac.optimize.direct import DirectOptions, _feasible_start, _Problem, direct_optimize
from frisac.optimize.gradient import mcrb_gradient
from frisac.optimize.transmit import cophase_psi, feasible_transmit
from support import assert_feasible, design_for

pytestmark = pytest.mark.filterwarnings("ignore:Solution may be inaccurate:UserWarning")


def _small(seed: int, **changes) -> Realization:
    values = {"N_t": 6, "N_r": 6, "R_y": 5, "R_z": 3, "F": 3, "K": 2}
    values.update(noise_sensing_dbm=-170.0)  # small arrays: keep the bound in its valid regime
    values.update(changes)
    return draw_realization(Scenario.default().replace(**values), np.random.default_rng(seed))


def _exact(r: Realization, psi: np.ndarray, Rx: np.ndarray) -> float:
    d = Design(W=np.zeros((r.N_t, r.K)), Rs=Rx, psi=psi)
    eta = pseudo_true(r, d)  # global search: the objective as evaluated everywhere
    return bounds_at(r, d, eta.phi_rad, eta.alpha).trace_mcrb_phi


def _fd_errors(f, exact: float, steps: np.ndarray) -> np.ndarray:
    return np.array([abs((f(h) - f(-h)) / (2 * h) - exact) / abs(exact) for h in steps])


def test_third_derivative_basis_matches_finite_differences() -> None:
    from frisac.geometry import steering_derivatives

    r = _small(1)
    phi = np.array([0.1, 0.4])
    basis = steering_basis(phi, r.ris_positions_m, r.wavelength)
    h = 1e-6  # central differences of the analytic second derivatives: error ~ h^2 |a''''|
    for (i, j, k), col in (((0, 0, 0), 6), ((0, 0, 1), 7), ((0, 1, 1), 8), ((1, 1, 1), 9)):
        e = np.zeros(2)
        e[k] = h
        plus = steering_derivatives(phi + e, r.ris_positions_m, r.wavelength)[2][i, j]
        minus = steering_derivatives(phi - e, r.ris_positions_m, r.wavelength)[2][i, j]
        np.testing.assert_allclose((plus - minus) / (2 * h), basis[:, col], rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("seed", [1, 2])
def test_exact_gradient_matches_finite_differences(seed: int) -> None:
    """Total derivative of tr(MCRB_phi), eta0 re-solved at every perturbed design."""
    r = _small(seed)
    d = design_for(r, seed)
    psi, Rx = np.array(d.psi), d.Rx
    eta = pseudo_true(r, d)
    g = mcrb_gradient(r, psi, Rx, eta.phi_rad, eta.alpha)
    assert g.value == pytest.approx(_exact(r, psi, Rx), rel=1e-10)
    rng = np.random.default_rng(seed)
    H = rng.standard_normal(Rx.shape) + 1j * rng.standard_normal(Rx.shape)
    H = 0.05 * (H + H.conj().T)
    slope = float(np.real(np.sum(np.conj(g.grad_rx) * H)))
    errors = _fd_errors(lambda h: _exact(r, psi, Rx + h * H), slope, np.logspace(-3, -6, 4))
    assert errors.min() < 1e-6, errors
    direction = np.zeros(r.R)
    direction[r.working_idx] = rng.standard_normal(r.W)
    slope = float(np.sum(-np.imag(psi * np.conj(g.grad_psi)) * direction))
    errors = _fd_errors(
        lambda h: _exact(r, psi * np.exp(1j * h * direction), Rx), slope, np.logspace(-3, -6, 4)
    )
    assert errors.min() < 1e-6, errors

    # The implicit motion of eta0 matters: the frozen-eta0 derivative is different.
    def at_frozen_eta(h: float) -> float:
        moved = Design(W=d.W, Rs=d.Rs + h * H, psi=psi)
        return bounds_at(r, moved, eta.phi_rad, eta.alpha).trace_mcrb_phi

    frozen = (at_frozen_eta(1e-6) - at_frozen_eta(-1e-6)) / 2e-6
    total = float(np.real(np.sum(np.conj(g.grad_rx) * H)))
    assert abs(frozen - total) > 1e-3 * abs(total)


@pytest.mark.parametrize("mu", [0.0, 1e-2])
def test_optimiser_objective_gradient(mu: float) -> None:
    """log tr(MCRB) + SINR barrier in the real parameterisation [theta, W, L]."""
    r = _small(3)
    start = _feasible_start(r, feasible_transmit(r, cophase_psi(r)), 0.05)
    problem = _Problem(r, start)
    problem.mu = mu
    rng = np.random.default_rng(0)
    x = problem.pack(start)
    x = x + 1e-3 * np.abs(x).mean() * rng.standard_normal(x.size)
    _, grad, _ = problem.value_and_gradient(x)
    for _ in range(3):
        v = rng.standard_normal(x.size)
        exact = float(grad @ v)

        def f(h, v=v):
            return problem.value_and_gradient(x + h * v, need_gradient=False)[0]

        errors = _fd_errors(f, exact, np.logspace(-5, -8, 4))
        assert errors.min() < 1e-5, errors


@pytest.fixture(scope="module")
def direct_small():
    r = _small(4)
    results = run_schemes(r, ["perfect", "proposed"], options=SchemeOptions(method="direct"))
    return r, results


def test_direct_designs_are_feasible_and_no_worse_than_start(direct_small) -> None:
    r, results = direct_small
    assert_feasible(r.without_faults(), results["perfect"].design)
    assert_feasible(r, results["proposed"].design)
    for name in ("perfect", "proposed"):
        history = results[name].history
        assert history[0].block == "start"
        assert results[name].trace_mcrb_phi <= history[0].trace_mcrb_phi
        assert results[name].status == "converged"


def test_direct_is_at_least_as_good_as_the_paper_on_small_cases(direct_small) -> None:
    """Same realisation, same starting phases: the exact objective is no worse than the
    paper's (which minimises a relaxed upper bound of it)."""
    r, direct = direct_small
    paper = run_schemes(
        r,
        ["perfect", "proposed"],
        options=SchemeOptions(method="paper", paper=PaperOptions(max_iterations=3)),
    )
    assert direct["perfect"].trace_mcrb_phi <= 1.01 * paper["perfect"].trace_mcrb_phi
    assert direct["proposed"].trace_mcrb_phi <= 1.01 * paper["proposed"].trace_mcrb_phi


def test_direct_returns_the_start_when_nothing_helps() -> None:
    r = _small(6)
    start = _feasible_start(r, feasible_transmit(r, cophase_psi(r)), 0.05)
    result = direct_optimize(
        r, start.psi, start=start, options=DirectOptions(barrier_weights=(1e-2,), max_iterations=0)
    )
    assert result.design is not None and result.trace_mcrb_phi == pytest.approx(
        result.history[0].trace_mcrb_phi
    )
    assert "kept the start" in result.message


def test_reusing_the_trial_refinement_changes_no_number(monkeypatch) -> None:
    import frisac.optimize.direct as direct

    r = _small(3)
    options = DirectOptions(barrier_weights=(1e-3,), max_iterations=40, starts=1, rounds=1)
    calls = []
    track = direct.track_pseudo_true
    monkeypatch.setattr(
        direct, "track_pseudo_true", lambda *a, **k: calls.append(1) or track(*a, **k)
    )
    reused = direct_optimize(r, cophase_psi(r), options=options)
    n_reused = len(calls)
    monkeypatch.setattr(direct, "REUSE_TRIAL_ETA", False)
    fresh = direct_optimize(r, cophase_psi(r), options=options)
    assert reused.design is not None and fresh.design is not None
    assert reused.iterations == fresh.iterations > 0
    assert np.array_equal(reused.design.psi, fresh.design.psi)
    assert np.array_equal(reused.design.W, fresh.design.W)
    assert reused.trace_mcrb_phi == fresh.trace_mcrb_phi
    assert n_reused < len(calls) - n_reused  # fewer refinements with the reuse


def test_phase_vectors_of_the_wrong_length_are_refused() -> None:
    r = _small(6)
    psi = cophase_psi(r)
    with pytest.raises(FrisacInputError, match=r"^psi_init: shape \(14,\); expected \(15,\)"):
        direct_optimize(r, psi[:-1])
    with pytest.raises(FrisacInputError, match=r"^extra_phases\[1\]: shape \(15, 1\)"):
        direct_optimize(r, psi, extra_phases=(psi, psi[:, None]))


def test_without_faults_direct_proposed_returns_the_perfect_design() -> None:
    """F = 0: the proposed scheme rebuilds the perfect scheme's last (non-improving) round
    from the perfect design, so it returns that design: MCRB == CRB == the UB's bound."""
    r = _small(5, F=0)
    results = run_schemes(r, ["perfect", "proposed"], options=SchemeOptions(method="direct"))
    perfect, proposed = results["perfect"], results["proposed"]
    assert len(perfect.history) < 1 + DirectOptions().rounds * len(
        DirectOptions().barrier_weights
    ), "the perfect scheme hit the round cap: the equality is not guaranteed"
    np.testing.assert_array_equal(proposed.design.psi, perfect.design.psi)
    ev = proposed.evaluation.sensing
    assert ev.trace_mcrb_phi_rad2 == pytest.approx(ev.crb_perfect_trace_rad2, rel=1e-8)
    assert proposed.trace_mcrb_phi == pytest.approx(perfect.trace_mcrb_phi, rel=1e-9)


def _lineages(history) -> list[list]:
    """Split a direct-method history into its lineages: each begins with a start record."""
    groups: list[list] = []
    for record in history:
        if record.block.endswith("start"):
            groups.append([])
        groups[-1].append(record)
    return groups


def test_rounds_only_keep_real_improvements(direct_small) -> None:
    """In every lineage, every kept round lowers the bound by at least round_rtol (records
    are per barrier stage), and the proposed scheme also descends from the paper's phases."""
    _, results = direct_small
    options = DirectOptions()
    stages = len(options.barrier_weights)
    assert len(_lineages(results["perfect"].history)) == 1
    assert [g[0].block for g in _lineages(results["proposed"].history)] == [
        "start",
        "lineage 1, start",
    ]
    for name in ("perfect", "proposed"):
        for group in _lineages(results[name].history):
            ends = [group[0].trace_mcrb_phi] + [h.trace_mcrb_phi for h in group[stages::stages]]
            assert (len(group) - 1) % stages == 0
            for before, after in itertools.pairwise(ends):
                assert after < before * (1 - options.round_rtol)
    proposed = results["proposed"]
    assert proposed.trace_mcrb_phi == min(h.trace_mcrb_phi for h in proposed.history)


@pytest.fixture
def worker_pools():
    """Shut the direct method's worker processes down after the test (other tests check
    that no child process outlives them)."""
    import frisac.optimize.direct as direct

    yield direct._POOLS
    direct._shutdown_pools()


def test_worker_processes_change_no_number(worker_pools) -> None:
    """Descents of a round (two lineages side by side) in two worker processes: the same
    design, history and progress as in one process."""
    r = _small(5)
    light = {"barrier_weights": (1e-3, 1e-5), "max_iterations": 60, "starts": 2, "rounds": 2}
    reports: dict[int, list[tuple[int, int]]] = {1: [], 2: []}
    results = {}
    other_phases = np.exp(1j * np.random.default_rng(0).uniform(0, 2 * np.pi, r.R))
    for workers in (1, 2):
        results[workers] = direct_optimize(
            r,
            cophase_psi(r),
            extra_phases=[other_phases],
            options=DirectOptions(**light, workers=workers),
            progress=lambda done, total, _, w=workers: reports[w].append((done, total)),
        )
    assert 2 in worker_pools  # the two-worker run did use worker processes
    serial, parallel = results[1], results[2]
    assert serial.design is not None and parallel.design is not None
    assert serial.iterations == parallel.iterations > 0
    assert np.array_equal(serial.design.psi, parallel.design.psi)
    assert np.array_equal(serial.design.W, parallel.design.W)
    assert np.array_equal(serial.design.Rs, parallel.design.Rs)
    assert [h.block for h in serial.history] == [h.block for h in parallel.history]
    assert any(h.block.startswith("lineage 1") for h in serial.history)
    assert [h.iteration for h in parallel.history] == list(range(len(parallel.history)))
    assert reports[1] == reports[2] and reports[1][-1][0] == reports[1][-1][1]


def test_interrupted_run_discards_its_worker_pool(worker_pools) -> None:
    """Ctrl-C (here: from the progress callback) while descents run in workers stops the
    workers and drops the pool; the next call starts a new pool and works."""
    r = _small(5)
    options = DirectOptions(
        barrier_weights=(1e-3,), max_iterations=30, starts=2, rounds=1, workers=2
    )
    # two lineages: at least two descents in the first batch, so the workers are used
    other_phases = [np.exp(1j * np.random.default_rng(0).uniform(0, 2 * np.pi, r.R))]
    seen: list[int] = []

    def interrupt(done: int, total: int, value: float) -> None:
        seen.extend(worker_pools)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        direct_optimize(
            r, cophase_psi(r), extra_phases=other_phases, options=options, progress=interrupt
        )
    assert seen == [2] and 2 not in worker_pools
    result = direct_optimize(r, cophase_psi(r), extra_phases=other_phases, options=options)
    assert result.design is not None and 2 in worker_pools


def test_daemonic_process_descends_in_process(worker_pools, monkeypatch) -> None:
    """A daemonic process may not have children: workers > 1 then runs in-process."""
    import multiprocessing
    import types

    r = _small(5)
    options = DirectOptions(
        barrier_weights=(1e-3,), max_iterations=30, starts=2, rounds=1, workers=2
    )
    other_phases = [np.exp(1j * np.random.default_rng(0).uniform(0, 2 * np.pi, r.R))]
    monkeypatch.setattr(
        multiprocessing, "current_process", lambda: types.SimpleNamespace(daemon=True)
    )
    result = direct_optimize(r, cophase_psi(r), extra_phases=other_phases, options=options)
    assert result.design is not None and 2 not in worker_pools


def test_discarded_pool_stops_running_tasks(worker_pools) -> None:
    import time

    import frisac.optimize.direct as direct

    pool = direct._worker_pool(2)
    running = pool.submit(time.sleep, 60)
    while not running.running():
        time.sleep(0.01)
    processes = list(pool._processes.values())
    assert processes
    direct._discard_pool(2)
    for process in processes:
        process.join(timeout=10)
        assert not process.is_alive()
    assert 2 not in worker_pools


@pytest.mark.parametrize("workers", [0, -1, 1.5, True])
def test_worker_count_must_be_a_positive_integer(workers) -> None:
    with pytest.raises(FrisacInputError, match=r"direct\.workers: .*expected an integer >= 1"):
        DirectOptions(workers=workers)
