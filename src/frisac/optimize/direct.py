"""frisac's direct method: minimise the EXACT tr(MCRB_phi) (or CRB) under the constraints.

Problem (P1), MODEL.md section 7: minimise tr(MCRB_phi) over W, Rs and the working phases
subject to SINR_k >= gamma_th, tr(Rx) <= P_max, Rs PSD, |psi_w| = 1.

Technique.
* Variables: working phases theta (psi_w = exp(j theta_w): the complex circle manifold in
  its angle chart), beams W (N_t x K) and a square root L of Rs (Rs = L L^H, PSD by
  construction).
* Power: the bound scales as 1 / power and every SINR grows with power, so the optimum uses
  all of it; the transmit quantities are normalised to tr(Rx) = P_max exactly
  (W_eff = c W, Rs_eff = c^2 L L^H, c^2 = P_max / (||W||^2 + ||L||^2)).
* SINR: a logarithmic barrier -mu sum_k log(SINR_k / gamma - 1), driven to zero in stages
  (mu = 1e-2 ... 1e-6), so every iterate is strictly feasible.
* Objective: log tr(MCRB_phi) (scale-free), with the exact gradient of
  :mod:`frisac.optimize.gradient` (the pseudo-true parameter's motion included through the
  implicit function theorem) and analytic SINR gradients; minimised by L-BFGS with a
  backtracking line search that rejects infeasible points.
* eta0 is tracked by Newton steps from its previous value at every trial point and
  confirmed by the global search of MODEL.md at the end of each stage; the returned design
  is evaluated by the exact metrics and is never worse than the start.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from functools import partial
from typing import cast

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from frisac._processes import exit_with_parent
from frisac._types import ComplexArray, FloatArray
from frisac.design import Design
from frisac.errors import FrisacInputError
from frisac.metrics import Evaluation, evaluate
from frisac.metrics.sensing import (
    PseudoTrue,
    SensingBounds,
    echo_factors,
    model_matrix,
    pseudo_true,
    track_pseudo_true,
)
from frisac.optimize.gradient import mcrb_gradient
from frisac.optimize.result import IterationRecord, OptimizeResult
from frisac.optimize.transmit import (
    feasible_transmit,
    polish_feasibility,
    true_channels,
)
from frisac.realization import Realization

__all__ = ["DirectOptions", "direct_optimize"]

Progress = Callable[[int, int, float], None]


@dataclass(frozen=True)
class DirectOptions:
    """Settings of the direct method."""

    barrier_weights: tuple[float, ...] = (1e-2, 1e-3, 1e-4, 1e-5, 1e-6)
    max_iterations: int = 400
    """L-BFGS iterations per barrier stage."""
    tolerance: float = 1e-8
    """Stop a stage when the objective changes by less than this (absolute, log scale)."""
    memory: int = 15
    start_margin: float = 0.05
    """The start is made strictly feasible with SINR_k >= gamma (1 + start_margin)."""
    verify_every: int = 25
    """Accepted L-BFGS steps between global confirmations of eta0."""
    starts: int = 4
    """Starts descended from in the first round (the best ones by the exact bound)."""
    restarts: int = 2
    """Starts descended from in each later round."""
    rounds: int = 4
    """At most this many rounds; a round restarts from the best design of the previous one."""
    round_rtol: float = 1e-3
    """A round's design is kept only if it lowers the bound by this relative margin; the
    method stops at the first round that does not (its design is discarded)."""
    require_valid_bound: bool = True
    """Reject designs that leave the regime where the MCRB describes the estimator
    (SensingResult.bound_valid), when the start is inside it. Turning this off lets the
    optimiser starve the fitted echo to shrink tr(MCRB) toward zero (for research only)."""
    workers: int = 1
    """Processes that run the descents of a round (of all lineages) side by side; 1: all in
    this process. The design does not depend on it. Worth it for one large problem on an
    idle machine (each descent of a 32 x 32 RIS takes seconds); the worker processes start
    once per Python process (~2 s, they import frisac) and are reused. In a sweep whose
    workers already fill the cores, leave it at 1."""

    def __post_init__(self) -> None:
        if isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 1:
            raise FrisacInputError(f"direct.workers: {self.workers!r}; expected an integer >= 1")


REUSE_TRIAL_ETA = True
"""Reuse the line search's eta0 refinement for the accepted point's gradient (a switch for
the test that shows the reuse changes no number)."""


def _join(theta: FloatArray, W: ComplexArray, L: ComplexArray) -> FloatArray:
    """The real vector [theta, Re W, Im W, Re L, Im L]."""
    return np.concatenate([theta, W.real.ravel(), W.imag.ravel(), L.real.ravel(), L.imag.ravel()])


class _Problem:
    """Maps the real vector x = [theta_W, Re W, Im W, Re L, Im L] to objective and gradient."""

    def __init__(self, realization: Realization, start: Design) -> None:
        r = realization
        self.r = r
        self.work = r.working_idx
        self.psi_fixed = np.array(start.psi)
        self.N, self.K = r.N_t, r.K
        w, vectors = np.linalg.eigh(np.asarray(start.Rs))
        self.L0 = vectors * np.sqrt(np.maximum(w, 0.0))
        self.rank = self.L0.shape[1]
        # hbar_k = sum_r psi_r conj(h_rk) conj(H_BR[:, r]): the working part is one product
        # conj(H_BR,W) (psi_W o conj(h_W)), shape (N, K).
        work = self.work
        self.H_work = r.H_BR[:, work]  # (N, W)
        self.H_work_conj = np.conj(self.H_work)
        self.h_work = r.h[work]  # (W, K)
        self.h_work_conj = np.conj(self.h_work)
        psi_f = np.array(start.psi)
        psi_f[self.work] = 0.0
        self.hbar_fixed = true_channels(r, psi_f)  # contribution of the faulty elements
        self.positions = r.ris_positions_m
        # Echo factors (eqs. 12-13): gW = (H_BR,W diag(a_W(phi))) conj(psi_W); gF is fixed.
        self.H_target = self.H_work * r.steering_target[work][None, :]
        self.gF = echo_factors(r, self.psi_fixed)[1]
        self.phi0 = pseudo_true(r, start).phi_rad
        self.mu = 0.0
        self.evaluations = 0
        # eta0 tracked at the last line-search trial: (x, phi0 it started from, eta, bounds).
        # The accepted trial is evaluated again with the gradient from the same phi0, so the
        # tracking (deterministic) is reused instead of repeated.
        self._trial_eta: tuple[FloatArray, FloatArray, PseudoTrue, SensingBounds] | None = None

    # -------------------------------------------------------------- packing
    def pack(self, design: Design) -> FloatArray:
        theta = np.angle(np.asarray(design.psi)[self.work])
        w, U = np.linalg.eigh(np.asarray(design.Rs))
        L = U * np.sqrt(np.maximum(w, 0.0))
        W = np.asarray(design.W)
        return np.concatenate(
            [theta, W.real.ravel(), W.imag.ravel(), L.real.ravel(), L.imag.ravel()]
        )

    def unpack(self, x: FloatArray) -> tuple[ComplexArray, ComplexArray, ComplexArray]:
        nw, nW, nL = self.work.size, self.N * self.K, self.N * self.rank
        theta = x[:nw]
        W = (x[nw : nw + nW] + 1j * x[nw + nW : nw + 2 * nW]).reshape(self.N, self.K)
        o = nw + 2 * nW
        L = (x[o : o + nL] + 1j * x[o + nL : o + 2 * nL]).reshape(self.N, self.rank)
        psi = self.psi_fixed.copy()
        psi[self.work] = np.exp(1j * theta)
        return psi, W, L

    def design(self, x: FloatArray) -> Design:
        psi, W, L = self.unpack(x)
        scale2 = self.r.p_max_w / (np.real(np.vdot(W, W)) + np.real(np.vdot(L, L)))
        Rs = scale2 * (L @ L.conj().T)
        return Design(W=np.sqrt(scale2) * W, Rs=0.5 * (Rs + Rs.conj().T), psi=psi)

    # -------------------------------------------------------------- objective
    def sinr_terms(self, psi: ComplexArray, W: ComplexArray, L: ComplexArray) -> tuple:
        r = self.r
        hbar = self.hbar_fixed + (self.H_work_conj @ (psi[self.work][:, None] * self.h_work_conj)).T
        Z = hbar @ W  # Z[k, i] = hbar_k w_i
        HL = hbar @ L  # (K, rank)
        n = np.real(np.vdot(W, W)) + np.real(np.vdot(L, L))
        a = np.abs(np.diag(Z)) ** 2
        b = np.sum(np.abs(Z) ** 2, axis=1) - a + np.sum(np.abs(HL) ** 2, axis=1)
        noise = r.noise_comm_w * n / r.p_max_w
        sinr = a / (b + noise)
        return hbar, Z, HL, n, a, b, noise, sinr

    def value_and_gradient(
        self, x: FloatArray, *, need_gradient: bool = True
    ) -> tuple[float, FloatArray | None, float]:
        """(Phi(x), grad Phi(x), tr(MCRB_phi)); Phi = +inf outside the feasible set."""
        r = self.r
        self.evaluations += 1
        psi, W, L = self.unpack(x)
        hbar, Z, HL, n, a, b, noise, sinr = self.sinr_terms(psi, W, L)
        slack = sinr / r.sinr_min - 1.0
        if np.any(slack <= 0) or not np.isfinite(n) or n <= 0:
            return np.inf, None, np.inf
        P = r.p_max_w
        X = W @ W.conj().T + L @ L.conj().T
        Rx = (P / n) * X
        M = model_matrix(r.H_BR, psi)
        gW = self.H_target @ np.conj(psi[self.work])
        Gbar = r.alpha * np.outer(gW, gW.conj()) + r.alpha_scatter * np.outer(
            self.gF, self.gF.conj()
        )
        C = Gbar @ Rx
        cached = self._trial_eta
        if (
            REUSE_TRIAL_ETA
            and cached is not None
            and np.array_equal(cached[0], x)
            and np.array_equal(cached[1], self.phi0)
        ):
            eta, bounds = cached[2], cached[3]
        else:
            eta, bounds = track_pseudo_true(r, psi, Rx, self.phi0, C=C, M=M)
        if not need_gradient:  # line-search trials: eta0 and the bound alone
            self._trial_eta = (x.copy(), np.array(self.phi0), eta, bounds)
            bound = bounds.trace_mcrb_phi
            if not (np.isfinite(bound) and bound > 0):
                return np.inf, None, np.inf
            return float(np.log(bound) - self.mu * np.sum(np.log(slack))), None, bound
        self._trial_eta = None
        try:
            g = mcrb_gradient(
                r,
                psi,
                Rx,
                eta.phi_rad,
                eta.alpha,
                positions_m=self.positions,
                M=M,
                echo=(gW, self.gF),
                H_target=self.H_target,
            )
        except np.linalg.LinAlgError:
            return np.inf, None, np.inf
        if not (np.isfinite(g.value) and g.value > 0):
            return np.inf, None, np.inf
        value = float(np.log(g.value) - self.mu * np.sum(np.log(slack)))
        # ---- log F through Rx = (P / n) (W W^H + L L^H) and psi.
        Gam = g.grad_rx / g.value
        trGX = float(np.real(np.sum(np.conj(Gam) * X)))
        gW = (P / n) * 2 * Gam @ W - (P / n**2) * trGX * 2 * W
        gL = (P / n) * 2 * Gam @ L - (P / n**2) * trGX * 2 * L
        g_psi = g.grad_psi / g.value
        # ---- barrier: d(-mu sum log s_k), s_k = SINR_k / gamma - 1.
        if self.mu > 0:
            den = b + noise
            coef = -self.mu / (slack * r.sinr_min)  # d Phi / d SINR_k
            da = coef / den  # d Phi / d a_k
            db = -coef * a / den**2  # d Phi / d b_k
            dn = np.sum(db * r.noise_comm_w / P)  # through noise = sigma^2 n / P
            # a_k = |Z_kk|^2, b_k = sum_{i != k} |Z_ki|^2 + ||HL_k||^2, n = ||W||^2 + ||L||^2
            weight = np.tile(db[:, None], (1, self.K))
            weight[np.arange(self.K), np.arange(self.K)] = da
            # d/dW_i of sum_k weight_ki |hbar_k w_i|^2 = 2 sum_k weight_ki hbar_k^H Z_ki
            gW = gW + 2 * hbar.conj().T @ (weight * Z) + 2 * dn * W
            gL = gL + 2 * hbar.conj().T @ (db[:, None] * HL) + 2 * dn * L
            # psi: d|z|^2 = 2 Re(conj(z) dz), dz_ki = sum_r dpsi_r (U_k W)_{r,i} with rows
            # U_k[r] = conj(h_rk) conj(H_BR[:, r]) of hbar_k = sum_r psi_r U_k[r]:
            # sum_{k,i} weight_ki Z_ki conj(U_k W)_{r,i} + sum_{k,j} db_k HL_kj conj(U_k L)_{r,j}
            # = sum_{k,n} conj(U_krn) V_kn with V = (weight o Z) W^H + diag(db) HL L^H,
            # = sum_k h_rk (V H_BR,W)_kr, without forming U_k W or U_k L.
            V = (weight * Z) @ W.conj().T + (db[:, None] * HL) @ L.conj().T  # (K, N)
            g_psi_w = 2 * np.sum(self.h_work * (V @ self.H_work).T, axis=1)
            g_psi = g_psi.copy()
            g_psi[self.work] += g_psi_w
        psi_w = psi[self.work]
        g_theta = -np.imag(np.conj(g_psi[self.work]) * psi_w)
        grad = np.concatenate(
            [g_theta, gW.real.ravel(), gW.imag.ravel(), gL.real.ravel(), gL.imag.ravel()]
        )
        self.phi0 = eta.phi_rad
        return value, grad, g.value


def _lbfgs(
    problem: _Problem,
    x: FloatArray,
    options: DirectOptions,
    verify: Callable[[FloatArray], bool],
) -> tuple[FloatArray, int]:
    """Minimise problem's objective from a feasible x by L-BFGS with Armijo backtracking.

    Every ``options.verify_every`` accepted steps, ``verify(x)`` confirms that the tracked
    eta0 is still the global pseudo-true parameter; if not, the run returns the last
    verified point (the objective jumps where another peak of the cost becomes global).
    """
    f, g, _ = problem.value_and_gradient(x)
    if g is None:
        return x, 0
    verified = x.copy()
    s_list: list[FloatArray] = []
    y_list: list[FloatArray] = []
    rho_list: list[float] = []  # 1 / (y^T s) of each pair
    iteration = 0
    for iteration in range(1, options.max_iterations + 1):
        q = g.copy()
        history = []
        for s, y, rho in zip(reversed(s_list), reversed(y_list), reversed(rho_list), strict=True):
            alpha = rho * float(s @ q)
            q -= alpha * y
            history.append((rho, alpha, s, y))
        if s_list:
            q *= float(s_list[-1] @ y_list[-1]) / float(y_list[-1] @ y_list[-1])
        else:
            q *= 1e-3 / max(float(np.linalg.norm(g)), 1e-300)
        for rho, alpha, s, y in reversed(history):
            beta = rho * float(y @ q)
            q += (alpha - beta) * s
        direction = -q
        slope = float(g @ direction)
        if slope >= 0:
            direction, slope = -g, -float(g @ g)
            s_list.clear()
            y_list.clear()
            rho_list.clear()
        step = 1.0
        accepted = False
        g_new = None
        for _ in range(40):
            x_new = x + step * direction
            f_new, _, _ = problem.value_and_gradient(x_new, need_gradient=False)
            if f_new <= f + 1e-4 * step * slope:
                f_new, g_new, _ = problem.value_and_gradient(x_new)
                accepted = g_new is not None
                break
            step *= 0.5
        if not accepted or g_new is None:
            break
        s_vec, y_vec = x_new - x, g_new - g
        curvature = float(s_vec @ y_vec)
        if curvature > 1e-12 * float(np.linalg.norm(s_vec) * np.linalg.norm(y_vec)):
            s_list.append(s_vec)
            y_list.append(y_vec)
            rho_list.append(1.0 / curvature)
            if len(s_list) > options.memory:
                s_list.pop(0)
                y_list.pop(0)
                rho_list.pop(0)
        converged = abs(f - f_new) <= options.tolerance * max(1.0, abs(f))
        x, f, g = x_new, f_new, g_new
        if iteration % options.verify_every == 0 or converged:
            if not verify(x):
                return verified, iteration
            verified = x.copy()
        if converged:
            break
    return (x if verify(x) else verified), iteration


def _feasible_start(realization: Realization, design: Design, margin: float) -> Design | None:
    """Make ``design`` strictly feasible (SINR >= gamma (1 + margin)) by beam power control."""
    r = realization
    boosted = Realization(**{**r.to_dict(), "sinr_min": r.sinr_min * (1 + margin)})
    polished = polish_feasibility(boosted, design)
    ev = evaluate(boosted, polished)
    return polished if ev.comm.feasible else None


def _start_candidates(
    r: Realization, psi: ComplexArray, design: Design | None, margin: float
) -> list[tuple[Evaluation, Design]]:
    """Strictly feasible starts at the phases ``psi``, evaluated (unsorted).

    (a) ``design``'s own W and Rs, (b) zero-forcing beams for these channels with
    ``design``'s Rs, (c) zero-forcing beams with the remaining power steered toward the
    target; (a) and (b) only if ``design`` is given. Each is made strictly feasible
    (SINR_k >= gamma (1 + margin)) by beam power control; those that cannot be are dropped.
    """
    hint = r.H_BR @ (np.conj(psi) * r.steering_target)
    zf = feasible_transmit(r, psi, sensing_direction=hint)
    candidates = []
    if design is not None:
        candidates.append(Design(W=design.W, Rs=design.Rs, psi=psi))
        if zf is not None:
            candidates.append(Design(W=zf.W, Rs=design.Rs, psi=psi))
    if zf is not None:
        candidates.append(zf)
    starts = []
    for candidate in candidates:
        feasible = _feasible_start(r, candidate, margin)
        if feasible is not None:
            starts.append((evaluate(r, feasible), feasible))
    return starts


def direct_optimize(
    realization: Realization,
    psi_init: ComplexArray,
    *,
    start: Design | None = None,
    extra_phases: Sequence[ComplexArray] = (),
    scheme: str = "proposed",
    options: DirectOptions | None = None,
    progress: Progress | None = None,
) -> OptimizeResult:
    """Minimise the exact tr(MCRB_phi) from the phases ``psi_init`` (and ``start`` if given).

    Lineages of rounds. The first lineage starts at ``psi_init`` (and ``start``), one more
    lineage at each of ``extra_phases`` (the proposed scheme passes the paper's initial
    phases, Sec. V-E). In a lineage, each round descends from the best ``options.starts``
    of the starts of :func:`_start_candidates` (at the lineage's phases in the first round,
    at its best design so far afterwards) and keeps the best verified design; a new round
    starts from that design while a round improves on the previous one (at most
    ``options.rounds``). Lineages run independently to the end, because a poor first round
    can lead to the better basin (Table I seed 5 of bench_optimize.py: 2.8e-6 from the
    paper's phases vs 2.5e-5 from the perfect design's). The best design of all wins.
    ``start`` itself, if feasible here, is the incumbent from the outset, so the result is
    never worse than it. Consequence: the perfect scheme ends on a round whose starts did
    not improve its design; with no faults, the proposed scheme (started from the perfect
    design, plus the perfect scheme's own initial phases) rebuilds exactly those starts and
    returns the perfect design (MCRB == CRB).
    """
    opt = options or DirectOptions()
    r = realization
    t0 = time.perf_counter()
    rank = partial(_rank, require_valid=opt.require_valid_bound)

    for name, phases in [("psi_init", psi_init)] + [
        (f"extra_phases[{i}]", extra) for i, extra in enumerate(extra_phases)
    ]:
        if np.shape(phases) != (r.R,):
            raise FrisacInputError(
                f"{name}: shape {np.shape(phases)}; expected ({r.R},), one phase per RIS element"
            )
    psi0 = np.asarray(psi_init, dtype=np.complex128)
    if not np.allclose(np.abs(psi0), 1.0, rtol=0.0, atol=1e-12):
        psi0 = np.exp(1j * np.angle(psi0))  # unit modulus; left bit-exact when it already is
    lineages = [_start_candidates(r, psi0, start, opt.start_margin)]
    lineages += [
        _start_candidates(r, np.asarray(psi_extra), None, opt.start_margin)
        for psi_extra in extra_phases
    ]
    incumbent: tuple[Design, Evaluation] | None = None
    if start is not None:
        given = Design(W=start.W, Rs=start.Rs, psi=psi0)
        given_eval = evaluate(r, given)
        if given_eval.feasible:
            incumbent = (given, given_eval)
    if not any(lineages) and incumbent is None:
        return OptimizeResult(
            scheme=scheme,
            method="direct",
            status="infeasible",
            design=None,
            evaluation=None,
            seconds=time.perf_counter() - t0,
            message="no strictly feasible start: the SINR targets look unreachable within P_max",
        )
    if incumbent is None:
        first = min((pair for starts in lineages for pair in starts), key=lambda p: rank(p[0]))
        incumbent = (first[1], first[0])
    initial_eval = incumbent[1]
    history: list[IterationRecord] = [_record(0, "start", initial_eval, t0)]
    iterations = 0
    stages_done = 0
    n_starts = [max(1, opt.starts)] + [max(1, opt.restarts)] * (max(1, opt.rounds) - 1)
    stages_max = len(lineages) * sum(n_starts) * len(opt.barrier_weights)

    def on_stage(value: float) -> None:
        nonlocal stages_done
        stages_done += 1
        if progress is not None:
            progress(stages_done, stages_max, value)

    # Lineages are independent: their rounds advance side by side (round k of every lineage
    # still running forms one batch of descents, spread over the workers if any), and their
    # records are joined in lineage order at the end, numbered as if run one after another.
    states = []
    for lineage, starts in enumerate(lineages):
        if not starts:
            continue
        # Lineage 0 competes with the given start; an extra lineage with its own best start.
        if lineage == 0:
            states.append(_Lineage(lineage, starts, incumbent, []))
        else:
            ev0, design0 = min(starts, key=lambda pair: rank(pair[0]))
            record = _record(0, f"lineage {lineage}, start", ev0, t0)
            states.append(_Lineage(lineage, starts, (design0, ev0), [record]))
    for round_index in range(1, max(1, opt.rounds) + 1):
        running = [state for state in states if not state.done]
        if not running:
            break
        batch = []
        for state in running:
            state.starts.sort(key=lambda pair: rank(pair[0]))
            batch.append(state.starts[: n_starts[round_index - 1]])
        all_runs = _descend_all(r, [s for chosen in batch for s in chosen], opt, t0, on_stage)
        for state, chosen in zip(running, batch, strict=True):
            runs, all_runs = all_runs[: len(chosen)], all_runs[len(chosen) :]
            iterations += sum(run[3] for run in runs)
            design, evaluation, run_history, _ = min(runs, key=lambda run: rank(run[1]))
            if not _improves(rank(evaluation), rank(state.current[1]), rtol=opt.round_rtol):
                state.done = True
                continue
            state.current = (design, evaluation)
            label = "" if state.index == 0 else f"lineage {state.index}, "
            state.records.extend(
                replace(h, block=f"{label}round {round_index}, {h.block}") for h in run_history
            )
            state.starts = (
                _start_candidates(r, design.psi, design, opt.start_margin)
                if round_index < opt.rounds
                else []
            )
            state.done = not state.starts
    best_overall = incumbent
    for state in states:
        history.extend(state.records)
        if _improves(rank(state.current[1]), rank(best_overall[1])):
            best_overall = state.current
    history = [replace(h, iteration=i) for i, h in enumerate(history)]
    best, best_eval = best_overall
    if progress is not None:
        progress(stages_max, stages_max, best_eval.trace_mcrb_phi)
    message = (
        ""
        if _improves(rank(best_eval), rank(initial_eval))
        else "kept the start: no better design found"
    )
    return OptimizeResult(
        scheme=scheme,
        method="direct",
        status="converged",
        design=best,
        evaluation=best_eval,
        history=tuple(history),
        seconds=time.perf_counter() - t0,
        iterations=iterations,
        message=message,
        solver="L-BFGS",
    )


@dataclass
class _Lineage:
    """A lineage of rounds of :func:`direct_optimize`: its starts, best design, records."""

    index: int
    starts: list[tuple[Evaluation, Design]]
    current: tuple[Design, Evaluation]
    records: list[IterationRecord]
    done: bool = False


def _rank(ev: Evaluation, *, require_valid: bool) -> tuple[bool, float]:
    """Designs where the bound is meaningful first (if required), then the lowest bound."""
    return require_valid and not ev.sensing.bound_valid, _score(ev)


Descent = tuple[Design, Evaluation, list[IterationRecord], int]


def _descend_all(
    r: Realization,
    starts: Sequence[tuple[Evaluation, Design]],
    opt: DirectOptions,
    t0: float,
    on_stage: Callable[[float], None],
) -> list[Descent]:
    """:func:`_descend` from each start, in order; in ``opt.workers`` processes if > 1.

    Each descent depends only on its inputs, so the list is the same either way (the
    workers use the BLAS thread counts of this process, so even the rounding agrees). With
    workers, a descent's progress is reported once it and the descents before it are done.
    If anything goes wrong (a worker dies, an error, Ctrl-C), the pool is discarded with
    its running descents, and the next call starts a new one.
    """
    rank = partial(_rank, require_valid=opt.require_valid_bound)
    # A daemonic process (a Dask worker, say) may not have children: one process then.
    if opt.workers == 1 or len(starts) == 1 or multiprocessing.current_process().daemon:
        return [_descend(r, design, ev, opt, rank, t0, on_stage) for ev, design in starts]
    blas_threads = _blas_threads()
    pool = _worker_pool(opt.workers)
    futures = [
        pool.submit(_descend_in_worker, r, design, ev, opt, t0, blas_threads)
        for ev, design in starts
    ]
    runs = []
    try:
        for future in futures:
            *run, stage_values = future.result()
            for value in stage_values:
                on_stage(value)
            runs.append(cast(Descent, tuple(run)))
    except BaseException:
        _discard_pool(opt.workers)
        raise
    return runs


def _descend_in_worker(
    r: Realization,
    initial: Design,
    start_eval: Evaluation,
    opt: DirectOptions,
    t0: float,
    blas_threads: dict[str, int],
) -> tuple[Design, Evaluation, list[IterationRecord], int, list[float]]:
    """:func:`_descend` in a worker process; also returns the values reported per stage.

    ``t0`` is this caller's time.perf_counter() origin: on Linux and macOS that clock is
    system-wide, so the records' elapsed times stay comparable across processes.
    """
    values: list[float] = []
    rank = partial(_rank, require_valid=opt.require_valid_bound)
    with threadpool_limits(limits=blas_threads):
        run = _descend(r, initial, start_eval, opt, rank, t0, values.append)
    return (*run, values)


def _blas_threads() -> dict[str, int]:
    """The thread count of each BLAS library of this process, by library prefix."""
    return {
        info["prefix"]: info["num_threads"]
        for info in threadpool_info()
        if info["user_api"] == "blas"
    }


_POOLS: dict[int, ProcessPoolExecutor] = {}


def _worker_pool(workers: int) -> ProcessPoolExecutor:
    """A process pool of ``workers`` spawned processes, made once and reused (shut down at
    exit; each worker also ends itself if this process dies)."""
    pool = _POOLS.get(workers)
    if pool is None:
        pool = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=exit_with_parent,
            initargs=(os.getpid(),),
        )
        _POOLS[workers] = pool
    return pool


def _discard_pool(workers: int) -> None:
    """Stop the pool of ``workers`` processes now, running descents included."""
    pool = _POOLS.pop(workers, None)
    if pool is None:
        return
    # ProcessPoolExecutor has no public way to stop running tasks before Python 3.14
    # (terminate_workers); without this, Ctrl-C would wait for the descents to finish.
    processes = getattr(pool, "_processes", None) or {}
    for process in list(processes.values()):
        process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)


@atexit.register
def _shutdown_pools() -> None:
    """Shut every pool down at exit (normally idle: a call waits for its descents)."""
    for pool in _POOLS.values():
        pool.shutdown(cancel_futures=True)
    _POOLS.clear()


def _record(iteration: int, block: str, ev: Evaluation, t0: float) -> IterationRecord:
    return IterationRecord(
        iteration,
        block,
        np.nan,
        ev.trace_mcrb_phi,
        float(np.min(ev.comm.sinr_db)),
        time.perf_counter() - t0,
    )


def _descend(
    r: Realization,
    initial: Design,
    start_eval: Evaluation,
    opt: DirectOptions,
    rank: Callable[[Evaluation], tuple[bool, float]],
    t0: float,
    on_stage: Callable[[float], None],
) -> tuple[Design, Evaluation, list[IterationRecord], int]:
    """Barrier stages of L-BFGS from one start; returns the best verified design.

    The history holds one record per barrier stage, numbered 1, 2, ... (the caller
    renumbers the records it keeps).
    """
    best_eval, best = start_eval, initial
    history: list[IterationRecord] = []
    problem = _Problem(r, initial)
    x = problem.pack(initial)

    def verify(point: FloatArray) -> bool:
        """Is the tracked eta0 the global one and is the bound still meaningful there?

        Keeps the best exact design seen, ranked by ``rank``. Once a design inside the
        regime where the MCRB describes the estimator (SensingResult.bound_valid: fit SNR,
        competing peak) is known, the trajectory may not leave that regime: tr(MCRB) can be
        driven toward zero outside it by starving the fitted echo, which no estimator
        would follow (docs/algorithm.md).
        """
        nonlocal best, best_eval
        design = polish_feasibility(r, problem.design(point))
        ev = evaluate(r, design)
        global_phi = ev.sensing.eta0[:2]
        same = bool(np.max(np.abs(global_phi - problem.phi0)) < 1e-7)
        if same and ev.feasible and _improves(rank(ev), rank(best_eval)):
            best, best_eval = design, ev
        problem.phi0 = global_phi
        leaving = opt.require_valid_bound and best_eval.sensing.bound_valid
        return same and (ev.sensing.bound_valid or not leaving)

    iterations = 0
    for stage, mu in enumerate(opt.barrier_weights, start=1):
        problem.mu = mu
        x, its = _lbfgs(problem, x, opt, verify)
        iterations += its
        history.append(_record(stage, f"mu={mu:g}", best_eval, t0))
        on_stage(best_eval.trace_mcrb_phi)
    return best, best_eval, history, iterations


IMPROVEMENT_RTOL = 1e-9
"""A design replaces the best one only if its bound is lower by this relative margin: far
above the round-off of an evaluation (~1e-15 relative), far below any meaningful gain."""


def _improves(
    new: tuple[bool, float], old: tuple[bool, float], *, rtol: float = IMPROVEMENT_RTOL
) -> bool:
    """Is ``new`` better than ``old`` (ranked by validity, then by the bound, by ``rtol``)?"""
    if new[0] != old[0]:
        return new[0] < old[0]
    return new[1] < old[1] * (1.0 - rtol)


def _score(ev: Evaluation) -> float:
    value = ev.trace_mcrb_phi
    return value if np.isfinite(value) else np.inf
