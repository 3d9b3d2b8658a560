"""The paper's algorithm on reduced sizes (N_t = 8, R = 4 x 4, K = 2): runs in seconds."""

import itertools

import numpy as np
import pytest

from frisac import Realization, Scenario, draw_realization
from frisac.metrics import evaluate
from frisac.metrics.sinr import sinr
from frisac.optimize import PaperOptions, SchemeOptions, run_schemes
from frisac.optimize.blocks import relaxed_parts
from frisac.optimize.transmit import rank_one_recovery, true_channels
from support import assert_feasible

pytestmark = pytest.mark.filterwarnings("ignore:Solution may be inaccurate:UserWarning")

FAST = PaperOptions(max_iterations=3, mm_max_iterations=3)


def _small(seed: int, **changes) -> Realization:
    values = {"N_t": 8, "N_r": 8, "R_y": 4, "R_z": 4, "F": 4, "K": 2}
    values.update(noise_sensing_dbm=-170.0)  # small arrays: keep the bound in its valid regime
    values.update(changes)
    return draw_realization(Scenario.default().replace(**values), np.random.default_rng(seed))


@pytest.fixture(scope="module")
def paper_results():
    r = _small(1)
    results = run_schemes(
        r,
        ["perfect", "naive", "proposed", "random"],
        options=SchemeOptions(method="paper", paper=FAST),
        rng=np.random.default_rng(0),
    )
    return r, results


def test_perfect_and_proposed_are_feasible(paper_results) -> None:
    r, results = paper_results
    assert results["perfect"].status in ("converged", "max_iterations")
    assert_feasible(r.without_faults(), results["perfect"].design)
    assert results["proposed"].status in ("converged", "max_iterations")
    assert_feasible(r, results["proposed"].design)
    assert results["proposed"].n_sdps > 0 and results["proposed"].solver


def test_tracked_objective_is_non_increasing_and_bounds_the_mcrb(paper_results) -> None:
    _, results = paper_results
    for name in ("perfect", "proposed"):
        values = [h.relaxed_objective for h in results[name].history]
        assert all(b <= a * (1 + 1e-12) for a, b in itertools.pairwise(values)), values
        for h in results[name].history:  # (33a) >= tr(MCRB_phi), eq. (32)
            assert h.relaxed_objective >= h.trace_mcrb_phi * (1 - 1e-9)


def test_naive_and_random_reuse_the_designs(paper_results) -> None:
    r, results = paper_results
    perfect, naive = results["perfect"], results["naive"]
    np.testing.assert_array_equal(naive.design.psi, perfect.design.psi)
    np.testing.assert_array_equal(results["random"].design.W, results["proposed"].design.W)
    work = r.working_idx
    assert not np.allclose(results["random"].design.psi[work], results["proposed"].design.psi[work])
    # naive is evaluated on the FAULTY RIS, perfect on the fault-free one
    assert naive.trace_mcrb_phi == pytest.approx(evaluate(r, perfect.design).trace_mcrb_phi)


def test_relaxed_objective_upper_bounds_mcrb_on_random_designs() -> None:
    from support import design_for

    r = _small(5)
    for seed in range(5):
        ev = evaluate(r, design_for(r, seed)).sensing
        parts = relaxed_parts(ev.A, ev.B)
        mcrb_trace = np.trace(parts.z_inv @ parts.numerator @ parts.z_inv)
        assert mcrb_trace == pytest.approx(ev.trace_mcrb_phi_rad2, rel=1e-9)  # eq. (26)
        assert parts.value >= ev.trace_mcrb_phi_rad2


def test_rank_one_recovery_keeps_rx_and_sinr() -> None:
    """Proposition 1: rank-one w_k with the same Rx and SINRs as high-rank W_k."""
    r = _small(7)
    rng = np.random.default_rng(1)
    psi = np.exp(1j * rng.uniform(0, 2 * np.pi, r.R))
    hbar = true_channels(r, psi)
    lifted = []
    for _ in range(r.K):
        L = rng.standard_normal((r.N_t, 3)) + 1j * rng.standard_normal((r.N_t, 3))
        lifted.append(1e-2 * L @ L.conj().T)
    W_l = np.stack(lifted)
    Ls = rng.standard_normal((r.N_t, 4)) + 1j * rng.standard_normal((r.N_t, 4))
    Rs_l = 1e-2 * Ls @ Ls.conj().T
    W, Rs = rank_one_recovery(hbar, W_l, Rs_l)
    np.testing.assert_allclose(W @ W.conj().T + Rs, W_l.sum(0) + Rs_l, atol=1e-14)
    assert np.linalg.eigvalsh(Rs).min() > -1e-15
    Rx = W_l.sum(0) + Rs_l
    for k in range(r.K):
        own = np.real(hbar[k] @ W_l[k] @ hbar[k].conj())
        lifted_sinr = own / (np.real(hbar[k] @ Rx @ hbar[k].conj()) - own + r.noise_comm_w[k])
        assert sinr(hbar, W, Rs, r.noise_comm_w)[k] == pytest.approx(lifted_sinr, rel=1e-10)


def test_without_faults_proposed_equals_perfect() -> None:
    """F = 0: MCRB == CRB, and the proposed design (started from perfect) matches it."""
    r = _small(3, F=0)
    results = run_schemes(
        r, ["perfect", "proposed"], options=SchemeOptions(method="paper", paper=FAST)
    )
    perfect, proposed = results["perfect"], results["proposed"]
    ev = proposed.evaluation.sensing
    assert ev.trace_mcrb_phi_rad2 == pytest.approx(ev.crb_perfect_trace_rad2, rel=1e-8)
    # Same channels, same start phases; W and Rs are re-initialised (Sec. V-E), so the two
    # runs agree to the accuracy of the relaxation, not bit for bit.
    assert proposed.trace_mcrb_phi == pytest.approx(perfect.trace_mcrb_phi, rel=0.05)


@pytest.mark.parametrize("method", ["paper", "direct"])
def test_unreachable_sinr_is_reported_as_infeasible(method: str) -> None:
    r = _small(2, sinr_min_db=80.0)
    results = run_schemes(
        r, ["perfect", "proposed"], options=SchemeOptions(method=method, paper=FAST)
    )
    for name in ("perfect", "proposed"):
        assert results[name].status == "infeasible", results[name].message
        assert results[name].design is None and not results[name].feasible


def test_polish_leaves_hopeless_designs_unchanged() -> None:
    """Beams that cannot reach the SINR targets (Yates' iteration diverges) stay as they were."""
    from frisac import Design
    from frisac.optimize.transmit import polish_feasibility

    r = _small(9, sinr_min_db=60.0)
    rng = np.random.default_rng(0)
    W = 1e-3 * (rng.standard_normal((r.N_t, r.K)) + 1j * rng.standard_normal((r.N_t, r.K)))
    W[:, 1] = W[:, 0]  # two users on the same beam: interference-limited, never 60 dB
    d = Design(W=W, Rs=np.eye(r.N_t) * 1e-3, psi=np.ones(r.R))
    polished = polish_feasibility(r, d)
    assert polished is d
    # a slightly short design is lifted exactly onto the targets
    ok = _small(9)
    hbar = true_channels(ok, np.ones(ok.R))
    pinv = np.linalg.pinv(hbar)
    W = pinv / np.linalg.norm(pinv, axis=0) * 1e-6
    nudged = polish_feasibility(ok, Design(W=W, Rs=np.zeros((ok.N_t, ok.N_t)), psi=np.ones(ok.R)))
    sinrs = sinr(hbar, nudged.W, nudged.Rs, ok.noise_comm_w)
    np.testing.assert_allclose(sinrs, ok.sinr_min * (1 + 1e-9), rtol=1e-9)


def test_solver_failures_are_recorded_and_the_run_starts_feasible(monkeypatch) -> None:
    """Every solver of the chain failing is an outcome: a feasible design, reasons recorded."""
    import cvxpy as cp

    from frisac.optimize import sdp

    def broken(problem, settings):
        raise cp.error.SolverError("simulated breakdown")

    monkeypatch.setattr(sdp, "_solve_sdpa_isolated", broken)
    r = _small(1)
    options = PaperOptions(max_iterations=1, mm_max_iterations=1, solvers=("SDPA",))
    result = run_schemes(r, ["perfect"], options=SchemeOptions(method="paper", paper=options))[
        "perfect"
    ]
    assert result.design is not None
    assert_feasible(r.without_faults(), result.design)  # the zero-forcing start
    assert "zero-forcing start: initial SDP failed" in result.message
    assert "SDPA: simulated breakdown" in result.message
    assert result.solver_statuses == {"SDPA:failed": result.n_sdps}


def test_runner_counts_failed_attempts_before_the_fallback(monkeypatch) -> None:
    import cvxpy as cp

    from frisac.optimize import sdp

    def broken(problem, settings):
        raise cp.error.SolverError("simulated breakdown")

    monkeypatch.setattr(sdp, "_solve_sdpa_isolated", broken)
    runner = sdp.SdpRunner(solvers=("SDPA", "CLARABEL"))
    X = cp.Variable((2, 2), symmetric=True)
    problem = cp.Problem(cp.Minimize(cp.trace(np.diag([1.0, 2.0]) @ X)), [X >> 0, cp.trace(X) == 1])
    outcome = runner.solve(problem)
    assert outcome.solver == "CLARABEL" and outcome.usable
    assert outcome.failed_attempts == ("SDPA: simulated breakdown",)
    assert runner.statuses() == {"SDPA:failed": 1, "CLARABEL:optimal": 1}
    assert problem.value == pytest.approx(1.0, rel=1e-6)
