"""Speed of the exact metrics at the Table I size, side by side with brute force.

Prints the median wall time of
  1. tr(MCRB_phi) given eta0 (analytic derivatives, 6 x 6 Gram matrices),
  2. the whole evaluation (pseudo-true search + A, B, MCRB + CRB + SINR),
and of the brute-force counterparts that build the model explicitly as N_t T vectors
(mu(eta) = vec(alpha g g^H X)) and differentiate it numerically (central differences for
first derivatives, second differences for the Hessian blocks), plus the ratios.

Run:  .venv/bin/python benchmarks/bench_metrics.py [--repeats N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from frisac import load_design, load_realization
from frisac.design import Design
from frisac.geometry import steering_vector
from frisac.metrics import evaluate
from frisac.metrics.estimator import transmit_signal
from frisac.metrics.sensing import (
    bounds_at,
    mcrb_from_blocks,
    model_matrix,
    pseudo_true,
    true_echo_matrix,
)
from frisac.realization import Realization

CASE = Path(__file__).resolve().parents[1] / "tests/data/reference_cases/p1_default_heuristic"


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


class BruteForce:
    """Explicit N_t T model vectors and numerical derivatives (the slow, obvious way)."""

    def __init__(self, r: Realization, d: Design) -> None:
        self.r = r
        self.M = model_matrix(r.H_BR, np.asarray(d.psi))
        self.X = transmit_signal(d.Rx, r.T, np.random.default_rng(0))
        self.y = (true_echo_matrix(r, np.asarray(d.psi)) @ self.X).ravel()
        self.pos = r.ris_positions_m

    def mu(self, eta: np.ndarray) -> np.ndarray:
        g = self.M @ steering_vector(eta[:2], self.pos, self.r.wavelength)
        return (complex(eta[2], eta[3]) * np.outer(g, g.conj()) @ self.X).ravel()

    def steps(self, eta: np.ndarray) -> np.ndarray:
        scale = abs(complex(eta[2], eta[3]))
        return np.array([1e-5, 1e-5, 1e-5 * scale, 1e-5 * scale])

    def bounds(self, eta: np.ndarray) -> np.ndarray:
        h = self.steps(eta)
        basis = np.eye(4) * h
        d1 = [
            (self.mu(eta + e) - self.mu(eta - e)) / (2 * hi) for e, hi in zip(basis, h, strict=True)
        ]
        d2 = np.empty((4, 4), dtype=object)
        for i in range(4):
            for j in range(4):
                ei, ej = basis[i], basis[j]
                d2[i, j] = (
                    self.mu(eta + ei + ej)
                    - self.mu(eta + ei - ej)
                    - self.mu(eta - ei + ej)
                    + self.mu(eta - ei - ej)
                ) / (4 * h[i] * h[j])
        eps = self.y - self.mu(eta)
        noise = self.r.noise_sensing_w
        B = np.array([[2 / noise * np.real(np.vdot(a, b)) for b in d1] for a in d1])
        A = np.array(
            [[2 / noise * np.real(np.vdot(eps, d2[i, j])) for j in range(4)] for i in range(4)]
        )
        return mcrb_from_blocks(A - B, B)

    def cost(self, phi: np.ndarray) -> float:
        g = self.M @ steering_vector(phi, self.pos, self.r.wavelength)
        model = (np.outer(g, g.conj()) @ self.X).ravel()
        alpha = np.vdot(model, self.y) / np.vdot(model, model)
        return float(np.linalg.norm(self.y - alpha * model) ** 2)

    def evaluate(self) -> np.ndarray:
        half, step = np.deg2rad(15.0), np.deg2rad(0.5)
        grid_e = np.arange(-half, half + step / 2, step) + self.r.phi_target[0]
        grid_a = np.arange(-half, half + step / 2, step) + self.r.phi_target[1]
        costs = np.array([[self.cost(np.array([e, a])) for a in grid_a] for e in grid_e])
        i, j = np.unravel_index(np.argmin(costs), costs.shape)
        res = minimize(
            self.cost,
            np.array([grid_e[i], grid_a[j]]),
            method="Nelder-Mead",
            options={"xatol": 1e-10, "fatol": 0.0},
        )
        g = self.M @ steering_vector(res.x, self.pos, self.r.wavelength)
        model = (np.outer(g, g.conj()) @ self.X).ravel()
        alpha = np.vdot(model, self.y) / np.vdot(model, model)
        return self.bounds(np.array([*res.x, alpha.real, alpha.imag]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    r = load_realization(CASE / "realisation.npz")
    d = load_design(CASE / "design.npz")
    print(f"Table I realisation: N_t={r.N_t}, R={r.R}, F={r.F}, K={r.K}, T={r.T}")
    eta = pseudo_true(r, d)
    brute = BruteForce(r, d)

    t_bounds = median_seconds(lambda: bounds_at(r, d, eta.phi_rad, eta.alpha), args.repeats)
    t_eval = median_seconds(lambda: evaluate(r, d), args.repeats)
    t_brute_bounds = median_seconds(lambda: brute.bounds(eta.eta), max(3, args.repeats // 10))
    t_brute_eval = median_seconds(brute.evaluate, 3)

    exact = bounds_at(r, d, eta.phi_rad, eta.alpha).trace_mcrb_phi
    approx = float(np.trace(brute.bounds(eta.eta)[:2, :2]))
    full = float(np.trace(brute.evaluate()[:2, :2]))
    print(
        f"tr(MCRB_phi): analytic {exact:.10e}, brute force at eta0 {approx:.10e}, "
        f"brute force with its own search {full:.10e}"
    )
    print()
    print(f"{'':36}{'frisac':>12}{'brute force':>14}{'ratio':>10}{'target':>10}")
    print(
        f"{'tr(MCRB_phi) given eta0':36}{t_bounds * 1e3:10.3f} ms{t_brute_bounds * 1e3:12.1f} ms"
        f"{t_brute_bounds / t_bounds:9.0f}x{'<= 2 ms':>10}"
    )
    print(
        f"{'whole evaluation (with eta0 search)':36}{t_eval * 1e3:10.3f} ms"
        f"{t_brute_eval * 1e3:12.1f} ms{t_brute_eval / t_eval:9.0f}x{'<= 30 ms':>10}"
    )
    print(f"(medians over {args.repeats} runs for frisac; brute force fewer runs)")


if __name__ == "__main__":
    main()
