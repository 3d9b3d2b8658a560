"""The paper's semidefinite sub-problems, written in the form that solves fastest.

Formulation. Interior-point SDP solvers cost O(m^2 n^2 + m n^3) per iteration, m the number
of scalar variables and n the matrix size. Written in primal form, the RIS step (P1.7) has
m = (W + 1)^2 = 12 321 real unknowns at the Table I size and takes minutes to hours; its
Lagrange dual has m = W + 1 + 36 (one multiplier per unit-diagonal constraint, the entries
of the two small LMI multipliers and one per SINR constraint) and a single
(W + 1) x (W + 1) LMI, which SDPA solves in seconds. The same holds for the beamforming
step (P1.3): its dual has ~33 scalar unknowns and K + 1 LMIs of size N_t. Each class below
builds the DUAL with the data as constants and recovers the primal variables from the
dual values of its LMIs (strong duality holds: the primal problems are strictly feasible).
CVXPY parameters (DPP) were measured and rejected here: with ~16 n^2 complex parameter
entries multiplying variables, DPP compilation took ~25 s per problem at the Table I size,
against ~1 s to compile the same problem with constant data.

The duals are derived in docs/algorithm.md. Every quantity is in the scaled units of
:mod:`frisac.optimize.blocks` (alpha coordinates by |alpha0|, A and B by beta, Rx by P_max,
SINR constraints by sigma_k^2).

Solvers. SDPA (primal-dual interior point, `sdpa-python`) is the default; SCS is the
fallback when SDPA reports an error. Measured on this machine at the Table I size, the
beamforming dual took 1.9 s with SDPA, 238 s with Clarabel (inaccurate) and 398 s with
SCS (inaccurate); see docs/benchmarks.md.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import cvxpy as cp
import cvxpy.settings as s
import numpy as np
from numpy.typing import NDArray

from frisac._types import ComplexArray, FloatArray

__all__ = ["SdpOutcome", "SdpRunner", "beamforming_dual", "ris_dual"]


DEFAULT_SOLVERS = ("SDPA", "SDPA-relaxed", "SCS")
"""Solver chain: SDPA; SDPA with looser tolerances if it breaks down; SCS (time-limited).
Clarabel is not in the chain: at the Table I size it is slow and inaccurate (238 s for the
beamforming dual) and, as a fallback of the RIS step, it grew a benchmark process to 24 GB
before the OOM killer stopped it (measured here); pass ``solvers`` to use it anyway."""
SOLVER_SETTINGS: dict[str, tuple[str, dict[str, object]]] = {
    "SDPA": ("SDPA", {"epsilonStar": 1e-7, "epsilonDash": 1e-7, "maxIteration": 200}),
    "SDPA-relaxed": ("SDPA", {"epsilonStar": 1e-5, "epsilonDash": 1e-5, "maxIteration": 300}),
    "SCS": ("SCS", {"eps": 1e-6, "max_iters": 100_000, "time_limit_secs": 60.0}),
    "CLARABEL": ("CLARABEL", {"time_limit": 60.0}),
}


@contextlib.contextmanager
def _quiet_native_output() -> Iterator[None]:
    """Silence text that native solvers write straight to file descriptors 1 and 2."""
    saved = [os.dup(1), os.dup(2)]
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)


@dataclass(frozen=True)
class SdpOutcome:
    """Normalised outcome of one SDP: 'optimal', 'inaccurate', 'infeasible' or 'failed'.

    ``infeasible`` means the PRIMAL (the paper's sub-problem) has no solution, detected as
    an unbounded dual.
    """

    status: str
    solver: str
    seconds: float
    failed_attempts: tuple[str, ...] = ()
    """'solver: reason' of every solver of the chain that failed on this SDP (all of them
    if ``status`` is 'failed', else those tried before ``solver``)."""

    @property
    def usable(self) -> bool:
        return self.status in ("optimal", "inaccurate")


@dataclass
class SdpRunner:
    """Solves CVXPY problems with a solver order and keeps count of what happened."""

    solvers: Sequence[str] = DEFAULT_SOLVERS
    outcomes: list[SdpOutcome] = field(default_factory=list)

    def solve(self, problem: cp.Problem) -> SdpOutcome:
        outcome = SdpOutcome("failed", "", 0.0)
        failures: list[str] = []
        for solver in self.solvers:
            name, settings = SOLVER_SETTINGS.get(solver, (solver, {}))
            start = time.perf_counter()
            try:
                # An inaccurate solution is counted in the statuses, not printed as a warning.
                with warnings.catch_warnings():
                    warnings.filterwarnings("ignore", message="Solution may be inaccurate")
                    if name == "SDPA":
                        _solve_sdpa_isolated(problem, settings)
                    else:
                        with _quiet_native_output():
                            problem.solve(solver=name, **settings)
                status = _normalise(problem.status)
                reason = f"status {problem.status}"
            except (cp.error.SolverError, ValueError, ArithmeticError) as exc:
                status = "failed"
                reason = (str(exc).splitlines() or [type(exc).__name__])[0]
            if status == "failed":
                failures.append(f"{solver}: {reason}")
            outcome = SdpOutcome(
                status, solver, time.perf_counter() - start, failed_attempts=tuple(failures)
            )
            if status != "failed":
                break
        self.outcomes.append(outcome)
        return outcome

    @property
    def count(self) -> int:
        return len(self.outcomes)

    def statuses(self) -> dict[str, int]:
        """How many SDPs ended with each 'solver:status', plus 'solver:failed' for every
        attempt that failed before a later solver of the chain took over."""
        out: dict[str, int] = {}
        for o in self.outcomes:
            keys = [f"{a.split(':', 1)[0]}:failed" for a in o.failed_attempts]
            if o.status != "failed":  # a failed last attempt is already among failed_attempts
                keys.append(f"{o.solver or 'none'}:{o.status}")
            for key in keys:
                out[key] = out.get(key, 0) + 1
        return out

    def failure_reasons(self) -> list[str]:
        """Distinct 'solver: reason' lines of the failed attempts, first seen first."""
        seen: dict[str, None] = {}
        for o in self.outcomes:
            seen.update(dict.fromkeys(o.failed_attempts))
        return list(seen)


# ------------------------------------------------------------------ SDPA in a child process
_sdpa_isolation = True
"""sdpa-python leaks memory on every solve (measured here: ~2.3 MB per solve of a 40 x 40
LMI, and a BCD run at the Table I size grew to 12-17 GB before the OOM killer stopped it).
Each SDPA solve therefore runs in a short-lived forked child process; CVXPY's compilation
and the unpacking of the solution stay in the calling process. Forking a ~0.5 GB process
costs milliseconds (copy-on-write) against seconds per solve. Fork, not spawn: the child
needs only the data, and spawn would re-run the caller's ``__main__``."""


def _sdpa_solve_via_data(payload: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    from cvxpy.reductions.solvers.conic_solvers.sdpa_conif import SDPA

    # sdpap's residual check warns about scipy's eigs on tiny blocks; not our concern.
    with _quiet_native_output(), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        solution: dict[str, Any] = SDPA().solve_via_data(payload, False, False, dict(settings))
    return solution


def _die_with_parent() -> None:  # pragma: no cover - runs in the child process
    """Linux: have the kernel kill this child when the process that forked it dies."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def _sdpa_child(
    receiver: Connection, sender: Connection, payload: dict[str, Any], settings: dict[str, Any]
) -> None:  # pragma: no cover - runs in the child process
    # The parent handles SIGINT/SIGTERM and kills this child; inherited handlers (the CLI
    # turns SIGTERM into KeyboardInterrupt) must not run here.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    receiver.close()  # else a parent that stops reading would leave send() blocked forever
    try:
        result: tuple[str, Any] = ("ok", _sdpa_solve_via_data(payload, settings))
    except Exception as exc:  # re-raised in the parent, like an in-process solve
        result = ("error", exc)
    try:
        sender.send(result)
    except Exception:  # an exception that does not pickle
        sender.send(("error", cp.error.SolverError(repr(result[1]))))
    finally:
        sender.close()


def _solve_in_child(payload: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any] | None:
    """Solve in a forked child; None if no child could be started for this solve."""
    global _sdpa_isolation
    if multiprocessing.current_process().daemon:
        _sdpa_isolation = False  # daemonic processes may not have children
        return None
    context = multiprocessing.get_context("fork")
    try:
        receiver, sender = context.Pipe(duplex=False)
    except OSError:  # out of file descriptors: in-process for this one solve
        return None
    child = context.Process(
        target=_sdpa_child, args=(receiver, sender, payload, settings), daemon=True
    )
    try:
        child.start()
    except OSError:  # fork failed (memory, process limit): in-process for this one solve
        receiver.close()
        sender.close()
        return None
    sender.close()
    try:
        kind, value = receiver.recv()
    except EOFError as exc:
        child.join()
        raise cp.error.SolverError(f"the SDPA child process died (exit {child.exitcode})") from exc
    except BaseException:  # interrupted (Ctrl-C, SIGTERM, timeout): stop the solve now
        child.kill()
        raise
    finally:
        receiver.close()
        child.join()
    if kind != "ok":
        raise value
    solution: dict[str, Any] = value
    return solution


def _solve_sdpa_isolated(problem: cp.Problem, settings: dict[str, Any]) -> None:
    """problem.solve(solver=SDPA) with the solver itself running in a forked child process.

    Falls back to solving in-process where child processes cannot be started (inside a
    daemonic worker process, for example). A child that dies during a solve (a crash of the
    native solver) is reported as a solver error, so the runner moves on to its next solver.
    """
    data, chain, inverse = problem.get_problem_data(cp.SDPA)
    payload = {key: data[key] for key in (s.A, s.B, s.C, s.DIMS)}
    solution = _solve_in_child(payload, settings) if _sdpa_isolation else None
    if solution is None:
        solution = _sdpa_solve_via_data(payload, settings)
    problem.unpack_results(solution, chain, inverse)


def _normalise(status: str | None) -> str:
    # Our problems are the duals: an unbounded dual certifies an infeasible primal.
    if status == cp.OPTIMAL:
        return "optimal"
    if status == cp.OPTIMAL_INACCURATE:
        return "inaccurate"
    if status in (cp.UNBOUNDED, cp.UNBOUNDED_INACCURATE):
        return "infeasible"
    return "failed"


def _herm_expr(expr: cp.Expression) -> cp.Expression:
    return (expr + expr.H) / 2


def _adjoint(maps: ComplexArray, z: cp.Expression, n: int) -> cp.Expression:
    """sum_p z_p M_p as an n x n expression, maps holding vec(M_p) (C order) in its rows."""
    return cp.reshape(maps.T @ z, (n, n), order="C")


def _epigraph(t: cp.Variable, Z11: cp.Expression, sqrt_d0: float) -> cp.Expression:
    """[[t, (sqrt(d0)/2) z^T], [(sqrt(d0)/2) z, I]] >= 0  <=>  t >= (d0/4) ||Z11||_F^2."""
    z = cp.reshape(cp.vec(Z11, order="C"), (4, 1), order="C")
    return cp.bmat(
        [
            [cp.reshape(t, (1, 1), order="C"), (sqrt_d0 / 2) * z.T],
            [(sqrt_d0 / 2) * z, np.eye(4)],
        ]
    )


def beamforming_dual(
    runner: SdpRunner,
    *,
    Am: ComplexArray,
    Bm: ComplexArray,
    H: ComplexArray,
    sinr_min: float,
    G: ComplexArray | None = None,
    D: NDArray[np.floating[Any]] | None = None,
    d0: float | None = None,
) -> tuple[SdpOutcome, tuple[ComplexArray, ComplexArray] | None]:
    """Dual of the beamforming sub-problems: one MM step (P1.3-SDP) or the initial problem.

    Primal, MM step (G and D given; Algorithm 1, eq. 37):
        min tr(C~) - tr(G Rx)  over  W_k >= 0, Rs >= 0, C~ symmetric
        s.t. M_b(Rx, C~) >= 0 (37b), M_c(Rx; D~) >= 0 (37c), tr(Rx) <= 1,
             (1 + 1/gamma) tr(H_k W_k) - tr(H_k Rx) >= 1 (35).
    Primal, initial problem (d0 given; Sec. V-E): min ||D~||_F^2 / d0 over W_k, Rs, D~ with
    (37c) for a free D~, power and SINR ((37b) only bounds C~, which is free and costless).

    Dual of the MM step: max tr(Z_c11 D~) + 2 tr(Z_c12) - mu + sum_k lambda_k
        s.t. Z_b >= 0, [Z_b]_11 = I, Z_c >= 0, mu >= 0, lambda >= 0,
             Psi = -G - L_b*(Z_b) - L_c*(Z_c) + mu I + sum_k lambda_k H_k >= 0,
             Psi - lambda_k (1 + 1/gamma) H_k >= 0,
    with L_b, L_c the Rx-linear parts of M_b and M_c. Rs and W_k are the multipliers of
    the last two LMIs. In the initial problem G and Z_b are absent and tr(Z_c11 D~) becomes
    -(d0 / 4) ||Z_c11||_F^2 (the minimum over D~).

    Am, Bm : scaled maps (4, 4, N, N); H : (K, N, N), hbar_k^H hbar_k P_max / sigma_k^2.
    Returns the outcome and, if usable, (W_lifted (K, N, N), Rs_lifted (N, N)) scaled by 1/P_max.
    """
    K, N = H.shape[0], H.shape[1]
    Z_c = cp.Variable((6, 6), symmetric=True)
    mu = cp.Variable(nonneg=True)
    lam = cp.Variable(K, nonneg=True)
    Hh = 0.5 * (H + np.conj(np.swapaxes(H, -1, -2)))
    # L_c(Rx) = -A(Rx) in rows/columns 2..5 of M_c, so -L_c*(Z_c) = sum_pq Z_pq A_pq.
    psi = mu * np.eye(N) + _adjoint(Am.reshape(16, N * N), cp.vec(Z_c[2:, 2:], order="C"), N)
    psi = psi + sum(lam[k] * Hh[k] for k in range(K))
    constraints: list[cp.Constraint] = [Z_c >> 0]
    objective = mu - cp.sum(lam) - 2 * cp.trace(Z_c[:2, 2:4])
    if G is not None:
        assert D is not None
        maps_b = np.empty_like(Bm)
        maps_b[:2, :2] = -Bm[:2, :2]
        maps_b[2:, 2:] = Bm[2:, 2:]
        maps_b[:2, 2:] = Am[:2, 2:] + Bm[:2, 2:]
        maps_b[2:, :2] = Am[2:, :2] + Bm[2:, :2]
        Z_b = cp.Variable((4, 4), symmetric=True)
        psi = (
            psi
            - 0.5 * (G + G.conj().T)
            - _adjoint(maps_b.reshape(16, N * N), cp.vec(Z_b, order="C"), N)
        )
        constraints += [Z_b >> 0, Z_b[:2, :2] == np.eye(2)]
        objective = objective - cp.sum(cp.multiply(Z_c[:2, :2], 0.5 * (D + D.T)))
    else:
        assert d0 is not None
        t = cp.Variable()
        constraints.append(_epigraph(t, Z_c[:2, :2], float(np.sqrt(d0))) >> 0)
        objective = objective + t
    psi = _herm_expr(psi)
    rs_constraint = psi >> 0
    w_constraints = [_herm_expr(psi - lam[k] * (1 + 1 / sinr_min) * Hh[k]) >> 0 for k in range(K)]
    constraints += [rs_constraint, *w_constraints]
    outcome = runner.solve(cp.Problem(cp.Minimize(objective), constraints))
    if not outcome.usable:
        return outcome, None
    W = np.stack([np.asarray(c.dual_value) for c in w_constraints])
    return outcome, (W, np.asarray(rs_constraint.dual_value))


def ris_dual(
    runner: SdpRunner,
    *,
    Phi: ComplexArray,
    a0: FloatArray,
    B: FloatArray,
    C: FloatArray,
    Q: ComplexArray,
    penalty: NDArray[Any],
    d0: float,
) -> tuple[SdpOutcome, ComplexArray | None]:
    """Dual of one SCA step of the RIS sub-problem (P1.7, Algorithm 2).

    Primal: min ||D~||_F^2 / d0 - tr(P_rho V~)  over V~ >= 0 (n x n), D~ symmetric
        s.t. M_b(V~) >= 0 (45b), M_c(V~, D~) >= 0 (45c), tr(Q_k V~) >= 1 (45d), diag(V~) = 1
    with P_rho = rho u u^H the linearised spectral-norm penalty (eqs. 47-50; the nuclear norm
    equals tr(V~) = n on the feasible set and is a constant).
    Dual: max sum_i y_i + sum_k lambda_k - tr(Z_b M_b0) - tr(Z_c M_c0) - (d0/4) ||Z_c11||^2
        s.t. Z_b >= 0, Z_c >= 0, lambda >= 0,
             Xi = -P_rho - L_b*(Z_b) - L_c*(Z_c) - sum_k lambda_k Q_k - diag(y) >= 0;
    V~ is the multiplier of Xi >= 0.

    Phi (4, 4, n, n), a0 (4, 4), B (4, 4), C (2, 2): scaled; Q (K, n, n) scaled to right side 1.
    """
    K, n = Q.shape[0], Q.shape[1]
    maps_b = np.zeros_like(Phi)
    maps_b[:2, 2:] = Phi[:2, 2:]
    maps_b[2:, :2] = Phi[2:, :2]
    maps_c = np.zeros_like(Phi)  # L_c(V~) = -Phi(V~) in rows/columns 2..5 of M_c
    maps_c[:2, :] = -Phi[:2, :]
    maps_c[2:, :2] = -Phi[2:, :2]
    M_b0 = np.zeros((4, 4))
    M_b0[:2, :2] = C - B[:2, :2]
    M_b0[:2, 2:] = a0[:2, 2:] + B[:2, 2:]
    M_b0[2:, :2] = M_b0[:2, 2:].T
    M_b0[2:, 2:] = B[2:, 2:]
    M_c0 = np.zeros((6, 6))
    M_c0[:2, 2:4] = -np.eye(2)
    M_c0[2:4, :2] = -np.eye(2)
    M_c0[2:, 2:] = -a0
    M_c0[4:, 4:] = B[2:, 2:]  # -A_aa = B_aa, independent of V~
    Qh = 0.5 * (Q + np.conj(np.swapaxes(Q, -1, -2)))
    Z_b = cp.Variable((4, 4), symmetric=True)
    Z_c = cp.Variable((6, 6), symmetric=True)
    lam = cp.Variable(K, nonneg=True)
    y = cp.Variable(n)
    t = cp.Variable()
    xi = (
        -0.5 * (penalty + penalty.conj().T)
        - _adjoint(maps_b.reshape(16, n * n), cp.vec(Z_b, order="C"), n)
        - _adjoint(maps_c.reshape(16, n * n), cp.vec(Z_c[2:, 2:], order="C"), n)
        - sum(lam[k] * Qh[k] for k in range(K))
        - cp.diag(y)
    )
    v_constraint = _herm_expr(xi) >> 0
    objective = (
        -cp.sum(y)
        - cp.sum(lam)
        + cp.sum(cp.multiply(Z_b, 0.5 * (M_b0 + M_b0.T)))
        + cp.sum(cp.multiply(Z_c, 0.5 * (M_c0 + M_c0.T)))
        + t
    )
    constraints = [
        Z_b >> 0,
        Z_c >> 0,
        v_constraint,
        _epigraph(t, Z_c[:2, :2], float(np.sqrt(d0))) >> 0,
    ]
    outcome = runner.solve(cp.Problem(cp.Minimize(objective), constraints))
    if not outcome.usable:
        return outcome, None
    return outcome, np.asarray(v_constraint.dual_value)
