"""The hand-derived duals solve the paper's sub-problems: strong duality, primal feasibility.

Each dual (solved by SDPA) is compared with the PRIMAL sub-problem written directly in
CVXPY and solved by Clarabel on a tiny instance (N_t = 3, R = 2 x 2, K = 1): equal optimal
values, and the primal point recovered from the dual's multipliers is feasible and
attains that value.
"""

import cvxpy as cp
import numpy as np
import pytest

from frisac import Scenario, draw_realization
from frisac.optimize.blocks import linearise, relaxed_parts, ris_maps, rx_maps, sinr_lift_matrices
from frisac.optimize.sdp import SdpRunner, beamforming_dual, ris_dual
from frisac.optimize.transmit import cophase_psi, feasible_transmit, true_channels

TOL = 1e-5  # interior-point accuracy of both solvers on O(1) data

pytestmark = pytest.mark.filterwarnings("ignore:Solution may be inaccurate:UserWarning")


@pytest.fixture(scope="module")
def tiny():
    s = Scenario.default().replace(N_t=3, N_r=3, R_y=2, R_z=2, F=1, K=1, noise_sensing_dbm=-150.0)
    r = draw_realization(s, np.random.default_rng(4))
    d = feasible_transmit(r, cophase_psi(r))
    assert d is not None
    return r, d


def _real_trace(M: np.ndarray, X: cp.Expression) -> cp.Expression:
    return cp.real(cp.trace(M @ X))


def _lmi_b(C, A, B):
    """(37b)/(45b): [[C - B_pp, A_pa + B_pa], [., B_aa]] from 4 x 4 nested lists / arrays."""
    return cp.bmat(
        [
            [C[0, 0] - B[0][0], C[0, 1] - B[0][1], A[0][2] + B[0][2], A[0][3] + B[0][3]],
            [C[1, 0] - B[1][0], C[1, 1] - B[1][1], A[1][2] + B[1][2], A[1][3] + B[1][3]],
            [A[2][0] + B[2][0], A[2][1] + B[2][1], B[2][2], B[2][3]],
            [A[3][0] + B[3][0], A[3][1] + B[3][1], B[3][2], B[3][3]],
        ]
    )


def _lmi_c(D, A):
    """(37c)/(45c): -[[D, I, 0], [I, A_pp, A_pa], [0, A_ap, A_aa]]."""
    return -cp.bmat(
        [
            [D[0, 0], D[0, 1], 1, 0, 0, 0],
            [D[1, 0], D[1, 1], 0, 1, 0, 0],
            [1, 0, A[0][0], A[0][1], A[0][2], A[0][3]],
            [0, 1, A[1][0], A[1][1], A[1][2], A[1][3]],
            [0, 0, A[2][0], A[2][1], A[2][2], A[2][3]],
            [0, 0, A[3][0], A[3][1], A[3][2], A[3][3]],
        ]
    )


def _primal_beamforming(r, Am, Bm, H, G, D):
    N, K = r.N_t, r.K
    Wk = [cp.Variable((N, N), hermitian=True) for _ in range(K)]
    Rs = cp.Variable((N, N), hermitian=True)
    C = cp.Variable((2, 2), symmetric=True)
    Rx = sum(Wk) + Rs
    A = [[_real_trace(Am[p, q], Rx) for q in range(4)] for p in range(4)]
    B = [[_real_trace(Bm[p, q], Rx) for q in range(4)] for p in range(4)]
    Mb = _lmi_b(C, A, B)
    Mc = _lmi_c(D, A)
    cons = [(Mb + Mb.T) / 2 >> 0, (Mc + Mc.T) / 2 >> 0, cp.real(cp.trace(Rx)) <= 1, Rs >> 0]
    for k in range(K):
        cons += [
            Wk[k] >> 0,
            (1 + 1 / r.sinr_min) * _real_trace(H[k], Wk[k]) - _real_trace(H[k], Rx) >= 1,
        ]
    prob = cp.Problem(cp.Minimize(cp.trace(C) - _real_trace(G, Rx)), cons)
    prob.solve(solver="CLARABEL")
    return prob


def test_beamforming_dual_matches_primal(tiny) -> None:
    r, d = tiny
    lin = linearise(r, d)
    Am, Bm = rx_maps(lin, r)
    hbar = true_channels(r, d.psi)
    H = np.einsum("kn,km->knm", hbar.conj(), hbar) * (r.p_max_w / r.noise_comm_w)[:, None, None]
    B0 = lin.B_scaled
    X0, Y0i = B0[:2, 2:], np.linalg.inv(B0[2:, 2:])
    c = np.zeros((4, 4))
    c[:2, 2:] = 2 * X0 @ Y0i
    c[2:, 2:] = -Y0i @ X0.T @ X0 @ Y0i
    G = np.einsum("pq,pqab->ab", c, Bm)
    D = np.linalg.inv(lin.A_scaled)[:2, :2]
    runner = SdpRunner()
    outcome, lifted = beamforming_dual(runner, Am=Am, Bm=Bm, H=H, sinr_min=r.sinr_min, G=G, D=D)
    assert outcome.usable and lifted is not None
    assert outcome.solver == "SDPA"  # the first solver of the chain, not a fallback
    primal = _primal_beamforming(r, Am, Bm, H, G, D)
    assert primal.status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE)
    W_l, Rs_l = lifted
    Rx = W_l.sum(0) + Rs_l
    A_v = np.real(np.einsum("pqab,ba->pq", Am, Rx))
    B_v = np.real(np.einsum("pqab,ba->pq", Bm, Rx))
    value = np.trace(relaxed_parts(A_v, B_v).u) - np.real(np.trace(G @ Rx))
    assert value == pytest.approx(primal.value, rel=TOL, abs=TOL)
    # Feasibility of the recovered primal point.
    assert np.trace(Rx).real <= 1 + TOL
    assert np.linalg.eigvalsh(0.5 * (Rs_l + Rs_l.conj().T)).min() > -TOL
    zinv = np.linalg.inv(A_v)[:2, :2]
    assert np.linalg.eigvalsh(zinv - D).min() > -TOL * np.abs(D).max()  # D <= Z^-1 (37c)
    sinr_slack = (1 + 1 / r.sinr_min) * np.real(np.trace(H[0] @ W_l[0])) - np.real(
        np.trace(H[0] @ Rx)
    )
    assert sinr_slack >= 1 - TOL


def test_init_dual_matches_primal(tiny) -> None:
    r, d = tiny
    lin = linearise(r, d)
    Am, Bm = rx_maps(lin, r)
    hbar = true_channels(r, d.psi)
    H = np.einsum("kn,km->knm", hbar.conj(), hbar) * (r.p_max_w / r.noise_comm_w)[:, None, None]
    d0 = float(np.sum(np.linalg.inv(lin.A_scaled)[:2, :2] ** 2))
    outcome, lifted = beamforming_dual(SdpRunner(), Am=Am, Bm=Bm, H=H, sinr_min=r.sinr_min, d0=d0)
    assert outcome.usable and lifted is not None
    W_l, Rs_l = lifted
    Rx = W_l.sum(0) + Rs_l
    A_v = np.real(np.einsum("pqab,ba->pq", Am, Rx))
    dual_primal_value = np.sum(np.linalg.inv(A_v)[:2, :2] ** 2) / d0  # D = Z^-1 is optimal
    # Primal: min ||D||^2 / d0 s.t. D <= Z^-1(Rx) (as the 6 x 6 LMI), power, SINR.
    N = r.N_t
    Wv = cp.Variable((N, N), hermitian=True)
    Rs = cp.Variable((N, N), hermitian=True)
    Dv = cp.Variable((2, 2), symmetric=True)
    Rxv = Wv + Rs
    A = [[_real_trace(Am[p, q], Rxv) for q in range(4)] for p in range(4)]
    Mc = _lmi_c(Dv, A)
    prob = cp.Problem(
        cp.Minimize(cp.sum_squares(Dv) / d0),
        [
            (Mc + Mc.T) / 2 >> 0,
            Wv >> 0,
            Rs >> 0,
            cp.real(cp.trace(Rxv)) <= 1,
            (1 + 1 / r.sinr_min) * _real_trace(H[0], Wv) - _real_trace(H[0], Rxv) >= 1,
        ],
    )
    prob.solve(solver="CLARABEL")
    assert dual_primal_value == pytest.approx(prob.value, rel=1e-4)


def test_ris_dual_matches_primal(tiny) -> None:
    r, d = tiny
    lin = linearise(r, d)
    Phi, a0, v = ris_maps(lin, r, d)
    # At the current point the affine map reproduces the exact (scaled) A.
    A_at_v = a0 + np.real(np.einsum("pqab,ba->pq", Phi, np.outer(v, v.conj())))
    np.testing.assert_allclose(A_at_v, lin.A_scaled, rtol=1e-9, atol=1e-12)
    Q, G = sinr_lift_matrices(r, d)
    np.testing.assert_allclose(v.conj() @ G[0], true_channels(r, d.psi)[0], rtol=1e-12)
    Q = Q / (r.sinr_min * r.noise_comm_w)[:, None, None]
    B, C = lin.B_scaled, relaxed_parts(lin.A_scaled, lin.B_scaled).u
    d0 = float(np.sum(np.linalg.inv(lin.A_scaled)[:2, :2] ** 2))
    u = v / np.linalg.norm(v)
    penalty = 0.5 * np.outer(u, u.conj())
    outcome, V = ris_dual(SdpRunner(), Phi=Phi, a0=a0, B=B, C=C, Q=Q, penalty=penalty, d0=d0)
    assert outcome.usable and V is not None
    assert outcome.solver == "SDPA"
    n = v.size
    Vv = cp.Variable((n, n), hermitian=True)
    Dv = cp.Variable((2, 2), symmetric=True)
    A = [[a0[p, q] + _real_trace(Phi[p, q], Vv) for q in range(4)] for p in range(4)]
    Mb = _lmi_b(C, A, B)
    Mc = _lmi_c(Dv, A)
    prob = cp.Problem(
        cp.Minimize(cp.sum_squares(Dv) / d0 - _real_trace(penalty, Vv)),
        [
            (Mb + Mb.T) / 2 >> 0,
            (Mc + Mc.T) / 2 >> 0,
            Vv >> 0,
            cp.real(cp.diag(Vv)) == 1,
            _real_trace(Q[0], Vv) >= 1,
        ],
    )
    prob.solve(solver="CLARABEL")
    assert prob.status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE)
    A_v = a0 + np.real(np.einsum("pqab,ba->pq", Phi, V))
    value = np.sum(np.linalg.inv(A_v)[:2, :2] ** 2) / d0 - np.real(np.trace(penalty @ V))
    assert value == pytest.approx(prob.value, rel=1e-4, abs=1e-6)
    np.testing.assert_allclose(np.real(np.diag(V)), 1.0, atol=1e-5)
    assert np.linalg.eigvalsh(0.5 * (V + V.conj().T)).min() > -1e-6


def _tiny_sdp() -> cp.Problem:
    X = cp.Variable((2, 2), symmetric=True)
    return cp.Problem(cp.Minimize(cp.trace(np.diag([1.0, 2.0]) @ X)), [X >> 0, cp.trace(X) == 1])


def test_sdpa_runs_in_a_child_process(monkeypatch) -> None:
    """SDPA leaks memory per solve, so each solve runs in a short-lived child process."""
    import multiprocessing

    from frisac.optimize import sdp

    started = []
    context = multiprocessing.get_context("fork")  # a singleton: sdp gets this object
    real_process = context.Process

    def recording_process(*args, **kwargs):
        started.append(kwargs.get("target"))
        return real_process(*args, **kwargs)

    monkeypatch.setattr(context, "Process", recording_process)
    for _ in range(3):
        problem = _tiny_sdp()
        outcome = SdpRunner(solvers=("SDPA",)).solve(problem)
        assert outcome.usable and outcome.solver == "SDPA"
        assert problem.value == pytest.approx(1.0, rel=1e-5)
    assert started == [sdp._sdpa_child] * 3
    assert sdp._sdpa_isolation
    assert multiprocessing.active_children() == []  # every child was joined


def test_sdpa_child_failure_is_a_solver_failure(monkeypatch) -> None:
    from frisac.optimize import sdp

    def broken(payload, settings):
        raise cp.error.SolverError("boom")

    monkeypatch.setattr(sdp, "_sdpa_solve_via_data", broken)
    runner = SdpRunner(solvers=("SDPA",))
    assert runner.solve(_tiny_sdp()).status == "failed"
    outcome = SdpRunner(solvers=("SDPA", "CLARABEL")).solve(_tiny_sdp())
    assert outcome.solver == "CLARABEL" and outcome.usable  # fell through to the next solver


def test_sdpa_child_reraises_unexpected_errors(monkeypatch) -> None:
    """A bug in the child is raised in the parent, as it would be in-process."""
    from frisac.optimize import sdp

    def buggy(payload, settings):
        raise KeyError("a bug, not a solver failure")

    monkeypatch.setattr(sdp, "_sdpa_solve_via_data", buggy)
    with pytest.raises(KeyError, match="a bug"):
        SdpRunner(solvers=("SDPA", "CLARABEL")).solve(_tiny_sdp())


def test_sdpa_child_that_dies_is_a_solver_failure(monkeypatch) -> None:
    import os

    from frisac.optimize import sdp

    def crash(payload, settings):
        os._exit(3)  # as a segfault of the native solver would end the child

    monkeypatch.setattr(sdp, "_sdpa_solve_via_data", crash)
    problem = _tiny_sdp()
    with pytest.raises(cp.error.SolverError, match="died"):
        sdp._solve_sdpa_isolated(problem, {})


def test_interrupted_solve_kills_its_child(monkeypatch) -> None:
    """Ctrl-C or SIGTERM during a solve: the child is killed, not waited for."""
    import multiprocessing
    import signal
    import time

    from frisac.optimize import sdp

    def slow(payload, settings):
        time.sleep(60)

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    monkeypatch.setattr(sdp, "_sdpa_solve_via_data", slow)
    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.5)
    start = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            sdp._solve_sdpa_isolated(_tiny_sdp(), {})
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - start < 10
    assert multiprocessing.active_children() == []
