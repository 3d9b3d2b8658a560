"""The paper's algorithm (Section V, Algorithms 1-3): BCD with MM, SDR, SCA and a rank penalty.

Reading of the ambiguous steps (documented in docs/algorithm.md):

* Frozen linearisation. Inside each block the pseudo-true parameter eta0 and the assumed
  model (g and its derivatives) are held at the current design, so A and B are linear in
  Rx (block 1) or affine in V~ (block 2, where only the working part of the true echo moves,
  eq. 44). This keeps every sub-problem a convex SDP.
* Auxiliary variables. Before each block the other block's auxiliary matrix is set to its
  optimal value at the current design: D~ = Z^-1 before block 1, C~ = U before block 2
  (each is the minimiser of (33a) given the design), so each sub-problem is feasible at the
  current point.
* Safeguard. A block's output is accepted only if the EXACT relaxed objective (33a),
  recomputed with a fresh eta0, decreases and the design is feasible; otherwise the step is
  halved (convex combination of the lifted W_k, Rs in block 1; geodesic interpolation of the
  working phases in block 2) up to six times, then the block is skipped. This makes the
  tracked objective non-increasing, as the paper's convergence argument (Sec. V-C) assumes.
* Units. The penalty of Algorithm 2 multiplies ||V~||_* - ||V~||_2 while the objective is
  ||D~||_F^2 normalised by its value at the current design (D~ is ~1e-3 rad^2 in radians,
  so the paper's rho schedule 0.1..10000 would otherwise freeze the phases).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from frisac._types import ComplexArray, FloatArray
from frisac.design import Design
from frisac.metrics import Evaluation, evaluate
from frisac.optimize.blocks import (
    linearise,
    relaxed_parts,
    ris_maps,
    rx_maps,
    sinr_lift_matrices,
)
from frisac.optimize.result import IterationRecord, OptimizeResult
from frisac.optimize.sdp import DEFAULT_SOLVERS, SdpRunner, beamforming_dual, ris_dual
from frisac.optimize.transmit import (
    feasible_transmit,
    polish_feasibility,
    rank_one_recovery,
    true_channels,
)
from frisac.realization import Realization

__all__ = ["PaperOptions", "paper_bcd"]

Progress = Callable[[int, int, float], None]


@dataclass(frozen=True)
class PaperOptions:
    """Settings of the paper's algorithm (defaults: paper Sec. VI, Table I)."""

    max_iterations: int = 20
    tolerance: float = 1e-5
    mm_max_iterations: int = 10
    rho_start: float = 0.1
    rho_factor: float = 5.0
    rho_max: float = 1e4
    backtracking_steps: int = 6
    solvers: tuple[str, ...] = DEFAULT_SOLVERS


def _relaxed(ev: Evaluation) -> float:
    try:
        return relaxed_parts(ev.sensing.A, ev.sensing.B).value
    except np.linalg.LinAlgError:
        return float("inf")


def _min_sinr_db(ev: Evaluation) -> float:
    return float(np.min(ev.comm.sinr_db))


def _bbb_linearisation(B: FloatArray) -> FloatArray:
    """Weights c with tr(B') = sum c_pq B_pq, the MM minorant of tr(B_ap B_aa^-1 B_pa), eq. 36.

    f(X, Y) = tr(X Y^-1 X^T) (X = B_phialpha, Y = B_alphaalpha) is jointly convex; its tangent
    at (X0, Y0) is 2 tr(X0 Y0^-1 X^T) - tr(Y0^-1 X0^T X0 Y0^-1 Y).
    """
    X0, Y0_inv = B[:2, 2:], np.linalg.inv(B[2:, 2:])
    c = np.zeros((4, 4))
    c[:2, 2:] = 2.0 * X0 @ Y0_inv
    c[2:, 2:] = -Y0_inv @ X0.T @ X0 @ Y0_inv
    return c


class _PaperRun:
    """State of one run: the realisation, the SDPs (built once) and the bookkeeping."""

    def __init__(self, realization: Realization, options: PaperOptions) -> None:
        r = realization
        self.r = r
        self.options = options
        self.runner = SdpRunner(options.solvers)
        self.history: list[IterationRecord] = []
        self.start = time.perf_counter()

    # -------------------------------------------------------------- bookkeeping
    def record(
        self, iteration: int, block: str, ev: Evaluation, accepted: bool, note: str = ""
    ) -> None:
        self.history.append(
            IterationRecord(
                iteration=iteration,
                block=block,
                relaxed_objective=_relaxed(ev),
                trace_mcrb_phi=ev.trace_mcrb_phi,
                min_sinr_db=_min_sinr_db(ev),
                seconds=time.perf_counter() - self.start,
                accepted=accepted,
                note=note,
            )
        )

    def sinr_matrices(self, psi: ComplexArray) -> ComplexArray:
        """H_k = hbar_k^H hbar_k P_max / sigma_k^2 (scaled SINR constraint, right side 1)."""
        r = self.r
        hbar = true_channels(r, psi)
        scale = (r.p_max_w / r.noise_comm_w)[:, None, None]
        return np.einsum("kn,km->knm", hbar.conj(), hbar) * scale

    def lifted_design(
        self, psi: ComplexArray, W_lifted: ComplexArray, Rs_lifted: ComplexArray
    ) -> Design:
        W, Rs = rank_one_recovery(true_channels(self.r, psi), W_lifted, Rs_lifted)
        return polish_feasibility(self.r, Design(W=W, Rs=Rs, psi=psi))

    # -------------------------------------------------------------- initialisation
    def initialise(self, psi: ComplexArray) -> tuple[str, Design | None]:
        """Sec. V-E: solve P1.2 with the objective tr(D~ D~) for W, Rs (psi given)."""
        r = self.r
        reference = feasible_transmit(r, psi)
        if reference is None:  # zero forcing cannot meet the SINRs: linearise around isotropic
            reference = Design(
                W=np.zeros((r.N_t, r.K)), Rs=np.eye(r.N_t) * r.p_max_w / r.N_t, psi=psi
            )
        lin = linearise(r, reference)
        Am, Bm = rx_maps(lin, r)
        d0 = float(np.sum(np.linalg.inv(lin.A_scaled)[:2, :2] ** 2))
        outcome, lifted = beamforming_dual(
            self.runner, Am=Am, Bm=Bm, H=self.sinr_matrices(psi), sinr_min=r.sinr_min, d0=d0
        )
        if outcome.status == "infeasible":
            return "infeasible", None
        zero_forcing = reference if reference.W.any() else None
        if lifted is None:
            # Every solver of the chain failed: start from the feasible zero-forcing design
            # (our choice; the paper assumes its SDP solves) rather than give up.
            if zero_forcing is None:
                return "failed", None
            return "zero-forcing start: initial SDP failed", zero_forcing
        W_l, Rs_l = lifted
        design = self.lifted_design(psi, W_l * r.p_max_w, Rs_l * r.p_max_w)
        if zero_forcing is not None and not evaluate(r, design).feasible:
            # An inaccurate solution whose rank-one recovery misses the constraints even
            # after power control: same fallback, so the BCD starts feasible.
            return "zero-forcing start: initial SDP solution infeasible", zero_forcing
        return "ok", design

    # -------------------------------------------------------------- block 1
    def beamforming_block(self, current: Design, ev: Evaluation) -> tuple[Design, Evaluation, bool]:
        """Algorithm 1: MM steps of (P1.3-SDP) with D~ fixed, then Prop. 1 and the safeguard."""
        r, opt = self.r, self.options
        lin = linearise(r, current, eta=None)
        Am, Bm = rx_maps(lin, r)
        H = self.sinr_matrices(current.psi)
        D = np.linalg.inv(lin.A_scaled)[:2, :2]
        B_point = lin.B_scaled
        lifted = None
        previous = np.inf
        for _ in range(opt.mm_max_iterations):
            G = np.einsum("pq,pqab->ab", _bbb_linearisation(B_point), Bm)
            _, solution = beamforming_dual(
                self.runner, Am=Am, Bm=Bm, H=H, sinr_min=r.sinr_min, G=G, D=D
            )
            if solution is None:
                break
            W_l, Rs_l = solution
            lifted = solution
            Rx = W_l.sum(axis=0) + Rs_l
            A_new = np.real(np.einsum("pqab,ba->pq", Am, Rx))
            B_new = np.real(np.einsum("pqab,ba->pq", Bm, Rx))
            try:
                u = relaxed_parts(A_new, B_new).u
            except np.linalg.LinAlgError:
                break
            value = float(np.trace(u) - np.sum(_bbb_linearisation(B_point) * B_new))  # (37a)
            B_point = B_new
            if np.isfinite(previous) and previous - value <= opt.tolerance * abs(previous):
                break
            previous = value
        if lifted is None:
            return current, ev, False
        P = r.p_max_w
        W_cur = np.einsum("nk,mk->knm", current.W, current.W.conj())
        target = _relaxed(ev)
        for step in range(opt.backtracking_steps + 1):
            t = 0.5**step
            W_t = (1 - t) * W_cur + t * lifted[0] * P
            Rs_t = (1 - t) * np.asarray(current.Rs) + t * lifted[1] * P
            candidate = self.lifted_design(current.psi, W_t, Rs_t)
            cand_ev = evaluate(r, candidate)
            if cand_ev.feasible and _relaxed(cand_ev) < target:
                return candidate, cand_ev, True
        return current, ev, False

    # -------------------------------------------------------------- block 2
    def ris_block(self, current: Design, ev: Evaluation) -> tuple[Design, Evaluation, bool]:
        """Algorithm 2: SCA steps of (P1.7) with rho increasing, then rank-one extraction."""
        r, opt = self.r, self.options
        if r.W == 0:
            return current, ev, False
        lin = linearise(r, current)
        Phi, a0, v_tilde = ris_maps(lin, r, current)
        Q, _ = sinr_lift_matrices(r, current)
        Q = Q / (r.sinr_min * r.noise_comm_w)[:, None, None]
        A_s, B_s = lin.A_scaled, lin.B_scaled
        C = np.asarray(relaxed_parts(A_s, B_s).u, dtype=float)
        d0 = float(np.sum(np.linalg.inv(A_s)[:2, :2] ** 2))
        n = v_tilde.size
        V_prev = np.outer(v_tilde, v_tilde.conj())
        rho = opt.rho_start
        previous = np.inf
        solved = False
        while rho <= opt.rho_max * (1 + 1e-12):
            _, U = np.linalg.eigh(0.5 * (V_prev + V_prev.conj().T))
            u = U[:, -1]
            _, V = ris_dual(
                self.runner,
                Phi=Phi,
                a0=a0,
                B=B_s,
                C=C,
                Q=Q,
                penalty=rho * np.outer(u, u.conj()),
                d0=d0,
            )
            if V is None:
                break
            solved = True
            V_prev = V
            A_v = a0 + np.real(np.einsum("pqab,ba->pq", Phi, V))
            try:
                d_norm = float(np.sum(np.linalg.inv(A_v)[:2, :2] ** 2)) / d0
            except np.linalg.LinAlgError:
                break
            eig = np.linalg.eigvalsh(0.5 * (V + V.conj().T))
            value = d_norm + rho * (n - eig[-1])  # (48a) at the SCA solution
            if np.isfinite(previous) and abs(previous - value) <= opt.tolerance * abs(previous):
                break
            previous = value
            rho *= opt.rho_factor
        if not solved:
            return current, ev, False
        _, U = np.linalg.eigh(0.5 * (V_prev + V_prev.conj().T))
        x = U[:, -1]
        if abs(x[-1]) == 0:
            return current, ev, False
        x = x / x[-1]
        new_phases = np.angle(np.conj(x[:-1]))
        work = r.working_idx
        old_phases = np.angle(np.asarray(current.psi)[work])
        delta = np.angle(np.exp(1j * (new_phases - old_phases)))
        target = _relaxed(ev)
        for step in range(opt.backtracking_steps + 1):
            t = 0.5**step
            psi = np.array(current.psi)
            psi[work] = np.exp(1j * (old_phases + t * delta))
            candidate = polish_feasibility(r, Design(W=current.W, Rs=current.Rs, psi=psi))
            cand_ev = evaluate(r, candidate)
            if cand_ev.feasible and _relaxed(cand_ev) < target:
                return candidate, cand_ev, True
        return current, ev, False


def paper_bcd(
    realization: Realization,
    psi_init: ComplexArray,
    *,
    options: PaperOptions | None = None,
    scheme: str = "proposed",
    progress: Progress | None = None,
) -> OptimizeResult:
    """Run Algorithm 3 from the commanded phases ``psi_init`` (all R elements).

    Initialisation (Sec. V-E): W and Rs from P1.2 with objective tr(D~ D~) at psi_init. Then
    alternate block 1 (Algorithm 1) and block 2 (Algorithm 2) until the relative decrease
    of the relaxed objective (33a) is below ``tolerance`` or ``max_iterations`` is reached.
    The history records (33a) and the exact tr(MCRB_phi) after every block.
    """
    opt = options or PaperOptions()
    r = realization
    run = _PaperRun(r, opt)
    psi0 = np.exp(1j * np.angle(np.asarray(psi_init, dtype=np.complex128)))

    def finish(status: str, design: Design | None, iterations: int, message: str) -> OptimizeResult:
        ev = evaluate(r, design) if design is not None else None
        if status in ("converged", "max_iterations") and any(
            o.status == "inaccurate" for o in run.runner.outcomes
        ):
            message = (message + "; " if message else "") + "some SDPs solved inaccurately"
        reasons = run.runner.failure_reasons()
        if reasons:
            message = (
                (message + "; " if message else "") + "solver failures: " + " | ".join(reasons[:3])
            )
        if design is not None and ev is not None and not ev.feasible:
            status, message = "failed", "final design violates the constraints"
        return OptimizeResult(
            scheme=scheme,
            method="paper",
            status=status,
            design=design,
            evaluation=ev,
            history=tuple(run.history),
            solver=",".join(sorted({o.solver for o in run.runner.outcomes if o.solver})),
            n_sdps=run.runner.count,
            solver_statuses=run.runner.statuses(),
            seconds=time.perf_counter() - run.start,
            iterations=iterations,
            message=message,
        )

    state, design = run.initialise(psi0)
    start_note = state if state.startswith("zero-forcing") else ""
    if design is None:
        message = (
            "SINR targets cannot be met within P_max"
            if state == "infeasible"
            else ("initial SDP failed")
        )
        return finish(state, None, 0, message)
    ev = evaluate(r, design)
    if not ev.feasible:
        return finish("failed", design, 0, "initial design infeasible after rank-one recovery")
    run.record(0, "init", ev, True)
    value = _relaxed(ev)
    status = "max_iterations"
    iteration = 0
    for iteration in range(1, opt.max_iterations + 1):
        design, ev, ok1 = run.beamforming_block(design, ev)
        run.record(iteration, "W,Rs,C", ev, ok1)
        design, ev, ok2 = run.ris_block(design, ev)
        run.record(iteration, "v_W,D", ev, ok2)
        new_value = _relaxed(ev)
        if progress is not None:
            progress(iteration, opt.max_iterations, ev.trace_mcrb_phi)
        if (value - new_value) <= opt.tolerance * abs(value) or not (ok1 or ok2):
            status = "converged"
            break
        value = new_value
    return finish(status, design, iteration, start_note)
