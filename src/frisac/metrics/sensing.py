"""Sensing metrics: true echo, assumed model, pseudo-true parameter, A, B, MCRB, CRB.

Everything follows MODEL.md section 6 (paper eqs. 6, 12-13, 20, 22-24).

Model. With psi the commanded (= assumed) RIS coefficients, the assumed echo is
``alpha * g(phi) g(phi)^H`` with ``g(phi) = H_BR diag(psi)^H a(phi)`` (an N_t-vector), and
the true echo is ``Gbar = alpha gW gW^H + alpha' gF gF^H`` (eqs. 12-13) with
``gW = H_BR,W diag(psi_W)^H a_W(phi)`` and ``gF = H_BR,F diag(psi_F,true)^H a_F(phi')``.

Data. Every quantity depends on the transmitted signal X only through ``Rx = X X^H / T``
and on the observation only through the cross matrix ``C = Y X^H / T``; for the expected
(noise-free) observation ``C = Gbar Rx``. With the weighted inner product
``<M1, M2> = T tr(M1^H M2 Rx)`` the least-squares cost of eta = [phi_e, phi_a, Re a, Im a] is

    L(eta) = ||Y||^2 - 2 T Re(conj(alpha) g^H C g) + T |alpha|^2 |g|^2 g^H Rx g,

minimised in closed form over alpha by ``alpha(phi) = g^H C g / (|g|^2 g^H Rx g)``.

Low-rank evaluation. Omega = g g^H is rank one, so every derivative of the model is a
sum of outer products of the six vectors V = [g, g_e, g_a, g_ee, g_ea, g_aa] (g_i and g_ij
are g with a replaced by its derivatives). A matrix written ``V K V^H`` (K a 6 x 6
coefficient matrix) has ``<V K1 V^H, V K2 V^H> = T tr(K1^H P K2 Q)`` with ``P = V^H V`` and
``Q = V^H Rx V``, and ``T tr(V K V^H C^H) = T tr(K S^H)`` with ``S = V^H C V``. So A and B
need three 6 x 6 Gram matrices and never an N_t T vector.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from frisac._types import ComplexArray, FloatArray
from frisac.design import Design, check_compatible
from frisac.geometry import steering_basis, steering_vector
from frisac.realization import Realization

__all__ = [
    "PseudoTrue",
    "SensingBounds",
    "SensingResult",
    "bounds_at",
    "condition_number",
    "crb_perfect",
    "echo_factors",
    "equilibrated_eigenvalues",
    "evaluate_sensing",
    "fisher_and_a",
    "grid_model_vectors",
    "least_squares_derivatives",
    "least_squares_from_grams",
    "mcrb_from_blocks",
    "model_derivatives",
    "model_matrix",
    "model_vectors",
    "pseudo_true",
    "refine_pseudo_true",
    "search_grid",
    "track_pseudo_true",
    "transmit_bounds",
    "true_echo_matrix",
]


WINDOW_DEG = 15.0
"""Half-width of the pseudo-true search window around the true angles (MODEL.md)."""
GRID_STEP_DEG = 0.5
"""Grid step of the global search; MODEL.md asks for no coarser than 0.5 deg."""
NEWTON_STEP_TOL_RAD = 1e-13
"""Refinement stops when a Newton step is shorter than this (far below the 1e-9 rad asked)."""
MAX_NEWTON_ITERATIONS = 60
"""Refinement iterations per grid candidate before it gives up (and reports non-convergence)."""
CONVERGED_STEP_RAD = 1e-10
"""eta0 counts as converged if, at the last refinement iterate, the Newton step on the
coordinates free to move is shorter than this (:func:`_stationarity_step`): the gradient of
the concentrated cost is negligible and eta0 is known well within the 1e-9 rad MODEL.md
asks. A step cut short by the line search, a line search that fails or a refinement stopped
by ill-conditioning is not convergence."""
QUADRATIC_REGION_RAD = 1e-3
"""Newton steps shorter than this are taken without line search."""
MIN_FIT_SNR_DB = 20.0
"""Fit SNR below which the asymptotic bound is not trusted (the estimator has no grip)."""
MIN_AMBIGUITY_MARGIN = 5.0
"""Competing-peak margin (in noise standard deviations) below which outliers are likely."""
N_CANDIDATES = 3
"""Grid local maxima considered for refinement (guards against near-ties)."""
CANDIDATE_RATIO = 0.5
"""A grid peak is refined only if its J is at least this fraction of the best refined J.

At a 0.5 deg grid the main lobe (several degrees wide) is sampled densely enough that
refinement changes a peak's J by a few percent, far less than a factor of two."""

# ------------------------------------------------------------------ basis coefficients
# Index of each vector in V = [g, g_e, g_a, g_ee, g_ea, g_aa].
_G, _GE, _GA, _GEE, _GEA, _GAA = range(6)


def _unit(a: int, b: int) -> ComplexArray:
    k = np.zeros((6, 6), dtype=np.complex128)
    k[a, b] += 1.0
    return k


_K_OMEGA = _unit(_G, _G)  # Omega = g g^H
_K_D1 = np.stack(
    [
        _unit(_GE, _G) + _unit(_G, _GE),  # d Omega / d phi_e
        _unit(_GA, _G) + _unit(_G, _GA),  # d Omega / d phi_a
    ]
)
_K_D2 = np.stack(
    [
        np.stack(
            [
                _unit(_GEE, _G) + 2 * _unit(_GE, _GE) + _unit(_G, _GEE),
                _unit(_GEA, _G) + _unit(_GE, _GA) + _unit(_GA, _GE) + _unit(_G, _GEA),
            ]
        ),
        np.stack(
            [
                _unit(_GEA, _G) + _unit(_GE, _GA) + _unit(_GA, _GE) + _unit(_G, _GEA),
                _unit(_GAA, _G) + 2 * _unit(_GA, _GA) + _unit(_G, _GAA),
            ]
        ),
    ]
)


def _first_derivative_coefficients(alpha: complex) -> ComplexArray:
    """K matrices of d mu / d eta_i, shape (4, 6, 6) (MODEL.md section 6).

    d_phi_i = alpha dOmega/dphi_i, d_Re = Omega, d_Im = j Omega.
    """
    return alpha * _K1_ALPHA + _K1_FIXED


def _second_derivative_coefficients(alpha: complex) -> ComplexArray:
    """K matrices of d^2 mu / d eta_i d eta_j, shape (4, 4, 6, 6).

    d_phi_i phi_j = alpha d^2 Omega / dphi_i dphi_j, d_phi_i Re = dOmega/dphi_i,
    d_phi_i Im = j dOmega/dphi_i, d_alpha alpha = 0.
    """
    return alpha * _K2_ALPHA + _K2_FIXED


def _split_coefficients() -> tuple[ComplexArray, ...]:
    """The coefficient stacks as alpha * (part with alpha) + (part without), built once."""
    zero = np.zeros((6, 6), dtype=np.complex128)
    k1_alpha = np.stack([_K_D1[0], _K_D1[1], zero, zero])
    k1_fixed = np.stack([zero, zero, _K_OMEGA, 1j * _K_OMEGA])
    k2_alpha = np.zeros((4, 4, 6, 6), dtype=np.complex128)
    k2_alpha[:2, :2] = _K_D2
    k2_fixed = np.zeros((4, 4, 6, 6), dtype=np.complex128)
    for i in range(2):
        k2_fixed[i, 2] = k2_fixed[2, i] = _K_D1[i]
        k2_fixed[i, 3] = k2_fixed[3, i] = 1j * _K_D1[i]
    return k1_alpha, k1_fixed, k2_alpha, k2_fixed


_K1_ALPHA, _K1_FIXED, _K2_ALPHA, _K2_FIXED = _split_coefficients()


# ------------------------------------------------------------------ model and echo
def model_matrix(H_BR: ComplexArray, psi_assumed: ComplexArray) -> ComplexArray:
    """M = H_BR diag(psi)^H, shape (N_t, R), so that g(phi) = M a(phi) (eq. 6)."""
    return H_BR * np.conj(psi_assumed)[None, :]


def model_vectors(
    M: ComplexArray, phi: FloatArray, positions_m: FloatArray, wavelength_m: float
) -> ComplexArray:
    """V = [g, g_e, g_a, g_ee, g_ea, g_aa] at phi, shape (N_t, 6).

    g = M a(phi), g_i = M da/dphi_i, g_ij = M d^2a/dphi_i dphi_j (eqs. 52-61 in vector form).
    """
    return M @ steering_basis(phi, positions_m, wavelength_m, order=2)


def echo_factors(realization: Realization, psi: ComplexArray) -> tuple[ComplexArray, ComplexArray]:
    """Factors of the true echo, Gbar = alpha gW gW^H + alpha' gF gF^H (eqs. 12-13).

    gW = H_BR,W diag(psi_W)^H a_W(phi) toward the target through the working elements;
    gF = H_BR,F diag(psi_F,true)^H a_F(phi') toward the scatterer through the faulty ones.

    Returns
    -------
    gW, gF : complex ndarrays, shape (N_t,) each (zero vectors if W = 0 or F = 0).
    """
    r = realization
    work, bad = r.working_idx, r.fault_idx
    a_target, a_scatter = r.steering_target, r.steering_scatter
    gW = r.H_BR[:, work] @ (np.conj(psi[work]) * a_target[work])
    gF = r.H_BR[:, bad] @ (np.conj(r.fault_coef) * a_scatter[bad])
    return gW, gF


def true_echo_matrix(realization: Realization, psi: ComplexArray) -> ComplexArray:
    """Gbar, shape (N_t, N_t), the true cascaded sensing channel (eqs. 12-13)."""
    gW, gF = echo_factors(realization, psi)
    return realization.alpha * np.outer(gW, gW.conj()) + realization.alpha_scatter * np.outer(
        gF, gF.conj()
    )


def grid_model_vectors(
    M: ComplexArray,
    *,
    R_y: int,
    R_z: int,
    d_y_m: float,
    d_z_m: float,
    wavelength_m: float,
    phi_e: FloatArray,
    phi_a: FloatArray,
) -> ComplexArray:
    """g(phi) = M a(phi) on a rectangular angle grid, shape (N_t, n_e, n_a).

    Uses the separability of eq. (8) over the planar array (element r = r_y + R_y r_z):
    first contract over r_z with exp(-j kappa d_z r_z sin phi_e), then over r_y with
    exp(-j kappa d_y r_y cos phi_e sin phi_a); cost N_t R n_e + N_t R_y n_e n_a.
    """
    kappa = 2.0 * np.pi / wavelength_m
    N_t = M.shape[0]
    M3 = M.reshape(N_t, R_z, R_y)
    r_z = np.arange(R_z)
    a_z = np.exp(-1j * kappa * d_z_m * np.sin(phi_e)[:, None] * r_z[None, :])  # (n_e, R_z)
    # partial[e, n, y] = sum_z a_z[e, z] M3[n, z, y], as one matrix product
    partial = (a_z @ M3.transpose(1, 0, 2).reshape(R_z, N_t * R_y)).reshape(-1, N_t, R_y)
    u_y = np.cos(phi_e)[:, None] * np.sin(phi_a)[None, :]  # (n_e, n_a)
    # a_y[e, y, a] = step[e, a]^y by running products (one complex exp per grid point instead
    # of R_y; relative error ~R_y eps, far below what the grid search resolves).
    step = np.exp(-1j * kappa * d_y_m * u_y)  # (n_e, n_a)
    a_y = np.empty((u_y.shape[0], R_y, u_y.shape[1]), dtype=np.complex128)  # (n_e, R_y, n_a)
    a_y[:, 0] = 1.0
    if R_y > 1:
        repeated = np.broadcast_to(step[:, None, :], (u_y.shape[0], R_y - 1, u_y.shape[1]))
        np.cumprod(repeated, axis=1, out=a_y[:, 1:])
    g = partial @ a_y  # (n_e, N_t, n_a)
    return np.transpose(g, (1, 0, 2))


def model_derivatives(V: ComplexArray, alpha: complex) -> tuple[ComplexArray, ComplexArray]:
    """Explicit N_t x N_t derivative matrices of the model alpha g g^H (for checks and plots).

    Returns
    -------
    d1 : complex (4, N_t, N_t), d mu / d eta_i.
    d2 : complex (4, 4, N_t, N_t), d^2 mu / d eta_i d eta_j.
    """
    VH = V.conj().T
    d1 = V @ _first_derivative_coefficients(alpha) @ VH
    d2 = V @ _second_derivative_coefficients(alpha) @ VH
    return d1, d2


# ------------------------------------------------------------------ A, B, gradient
def _gram(V: ComplexArray, Rx: ComplexArray, C: ComplexArray) -> tuple[ComplexArray, ...]:
    VH = V.conj().T
    return VH @ V, VH @ (Rx @ V), VH @ (C @ V)


def _gram_matrix(K: ComplexArray, P: ComplexArray, Q: ComplexArray) -> ComplexArray:
    """tr(K_i^H P K_j Q) for all pairs of a stack K (n, 6, 6), shape (n, n)."""
    return np.einsum("iab,jab->ij", K.conj(), P @ K @ Q)


def least_squares_derivatives(
    V: ComplexArray,
    alpha: complex,
    Rx: ComplexArray,
    C: ComplexArray,
    T: int,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Gradient and Hessian of L(eta) and the matrix B, at eta = (phi, alpha).

    Parameters
    ----------
    V : complex (N_t, 6), model vectors at phi (:func:`model_vectors`).
    alpha : model coefficient at which to evaluate.
    Rx : complex (N_t, N_t), X X^H / T. C : complex (N_t, N_t), Y X^H / T (Gbar Rx if noise-free).

    Returns
    -------
    grad : float (4,), dL/deta_i = -2 Re[T tr(d_i C^H) - <mu, d_i>].
    hess : float (4, 4), 2 Re<d_i, d_j> - 2 Re[T tr(d_ij C^H) - <mu, d_ij>].
    gram : float (4, 4), Re<d_i, d_j> (B = 2 gram / sigma_s^2, eq. 24).
    """
    P, Q, S = _gram(V, Rx, C)
    return least_squares_from_grams(P, Q, S, alpha, T)


def least_squares_from_grams(
    P: ComplexArray, Q: ComplexArray, S: ComplexArray, alpha: complex, T: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """:func:`least_squares_derivatives` from the Gram matrices P = V^H V, Q = V^H Rx V and
    S = V^H C V (each (6, 6)) instead of V."""
    K1 = _first_derivative_coefficients(alpha)
    K2 = _second_derivative_coefficients(alpha)
    # <V K1 V^H, V K2 V^H> = T tr(K1^H P K2 Q) and T tr(V K V^H C^H) = T tr(K S^H) = T sum_ab
    # K_ab conj(S_ab); with mu = alpha g g^H (K_mu = alpha e_0 e_0^T),
    # tr(K_mu^H P K Q) = sum_ab K_ab (Q K_mu^H P)_ba, so both residual terms are one
    # contraction with S^* - (Q K_mu^H P)^T.
    Z_mu = np.conj(alpha) * np.outer(Q[:, 0], P[0, :])  # Q K_mu^H P
    residual = S.conj() - Z_mu.T
    gram = T * np.real(_gram_matrix(K1, P, Q))
    residual_1 = T * np.einsum("iab,ab->i", K1, residual)
    residual_2 = T * np.einsum("ijab,ab->ij", K2, residual)
    grad = -2.0 * np.real(residual_1)
    hess = 2.0 * gram - 2.0 * np.real(residual_2)
    return grad, 0.5 * (hess + hess.T), 0.5 * (gram + gram.T)


def fisher_and_a(
    V: ComplexArray, alpha: complex, Rx: ComplexArray, C: ComplexArray, T: int, noise_w: float
) -> tuple[FloatArray, FloatArray]:
    """(A, B) of eqs. (23)-(24) at eta = (phi, alpha), both (4, 4).

    B_ij = (2 / sigma_s^2) Re<d_i, d_j>; A_ij = (2 / sigma_s^2) Re<E, d_ij> - B_ij.
    Since the Hessian of L is 2 Re<d_i,d_j> - 2 Re<E, d_ij>, A = -Hess(L) / sigma_s^2.
    """
    _, hess, gram = least_squares_derivatives(V, alpha, Rx, C, T)
    return -hess / noise_w, 2.0 * gram / noise_w


def _equilibrate(A: FloatArray) -> FloatArray:
    """Diagonal scaling s with s_i = 1 / sqrt(|A_ii|) (alpha entries are ~1e10 x larger)."""
    d = np.abs(np.diag(A))
    return 1.0 / np.sqrt(np.where(d > 0, d, 1.0))


def _condition(M: FloatArray) -> float:
    """2-norm condition number; from the eigenvalues when M is symmetric (A and B always
    are: they are symmetrised where formed), which is several times cheaper than the SVD."""
    if not np.all(np.isfinite(M)):
        return np.inf
    if not np.array_equal(M, M.T):
        return float(np.linalg.cond(M))
    magnitudes = np.abs(np.linalg.eigvalsh(M))
    smallest = float(magnitudes.min())
    return float(magnitudes.max()) / smallest if smallest > 0 else np.inf


def mcrb_from_blocks(A: FloatArray, B: FloatArray) -> FloatArray:
    """MCRB = A^-1 B A^-1 (eq. 22), computed on the equilibrated matrices.

    With s = diag(_equilibrate(A)): A^-1 B A^-1 = S (S A S)^-1 (S B S) (S A S)^-1 S.
    A singular A (no information, e.g. zero transmit power) gives a matrix of NaN.
    """
    s = _equilibrate(A)
    A_s = A * np.outer(s, s)
    B_s = B * np.outer(s, s)
    if not np.all(np.isfinite(A_s)) or _condition(A_s) > 1e15:
        return np.full_like(A, np.nan)
    X = np.linalg.solve(A_s, B_s)
    M = np.linalg.solve(A_s, X.T).T
    M = 0.5 * (M + M.T)
    return M * np.outer(s, s)


def _crb_from_fisher(B: FloatArray) -> FloatArray:
    s = _equilibrate(B)
    if _condition(B * np.outer(s, s)) > 1e15:
        return np.full_like(B, np.nan)
    inv = np.linalg.inv(B * np.outer(s, s))
    return 0.5 * (inv + inv.T) * np.outer(s, s)


def equilibrated_eigenvalues(M: FloatArray) -> FloatArray:
    """Eigenvalues (ascending) of S M S, S = diag(1 / sqrt|M_ii|), for a symmetric (n, n) M.

    S M S is congruent to M, so it has the same numbers of negative, zero and positive
    eigenvalues (Sylvester's law of inertia): their signs answer definiteness questions
    about M, while the equilibration removes the ~1e10 spread between the angle and the
    alpha entries. A matrix with NaN or infinite entries gives NaN eigenvalues.
    """
    M = np.asarray(M, dtype=float)
    if not np.all(np.isfinite(M)):
        return np.full(M.shape[0], np.nan)
    s = _equilibrate(M)
    return np.asarray(np.linalg.eigvalsh(M * np.outer(s, s)), dtype=float)


def condition_number(eigenvalues: FloatArray) -> float:
    """max |lambda| / min |lambda| of a symmetric matrix's eigenvalues; inf if singular or NaN."""
    magnitude = np.abs(np.asarray(eigenvalues, dtype=float))
    if magnitude.size == 0 or not np.all(np.isfinite(magnitude)) or not magnitude.min() > 0:
        return float("inf")
    return float(magnitude.max() / magnitude.min())


# ------------------------------------------------------------------ pseudo-true search
@dataclass(frozen=True)
class PseudoTrue:
    """The pseudo-true parameter eta0 (eq. 20) and how it was found.

    Attributes
    ----------
    phi_rad : float (2,), [phi_e, phi_a] minimising the KL divergence within the window.
    alpha : complex, closed-form best coefficient at phi_rad.
    newton_iterations : refinement steps of the winning candidate.
    last_step_rad : length of the last Newton step (convergence indicator).
    on_window_boundary : True if the minimiser sits on the +-15 deg window edge (then the
        gradient need not vanish and the MCRB formula does not apply).
    converged : True if the refinement of the winning candidate ended with a full step below
        CONVERGED_STEP_RAD (gradient of the concentrated cost negligible); False if it ran
        out of iterations, its line search failed or the alpha block was ill-conditioned.
    fit_energy : T J(phi0), the echo energy the fitted model captures; with the noise
        power it gives the fit SNR.
    competitors : ((phi_rad, T J), ...) of the other local maxima of J in the window: peaks
        the estimator can jump to at finite SNR.
    """

    phi_rad: FloatArray
    alpha: complex
    newton_iterations: int
    last_step_rad: float
    on_window_boundary: bool
    converged: bool
    fit_energy: float = float("nan")
    competitors: tuple[tuple[FloatArray, float], ...] = ()

    @property
    def eta(self) -> FloatArray:
        """[phi_e, phi_a, Re alpha, Im alpha]."""
        return np.array([*self.phi_rad, self.alpha.real, self.alpha.imag])


@dataclass(frozen=True)
class _SearchData:
    M: ComplexArray
    positions_m: FloatArray
    wavelength_m: float
    Rx: ComplexArray
    C: ComplexArray
    T: int


def _search_data(
    r: Realization, psi: ComplexArray, Rx: ComplexArray, C: ComplexArray | None
) -> _SearchData:
    """Search inputs for a design; C defaults to the noise-free Gbar Rx."""
    if C is None:
        C = true_echo_matrix(r, psi) @ Rx
    return _SearchData(
        M=model_matrix(r.H_BR, psi),
        positions_m=r.ris_positions_m,
        wavelength_m=r.wavelength,
        Rx=Rx,
        C=C,
        T=r.T,
    )


def _concentrated(data: _SearchData, phi: FloatArray) -> float:
    """J(phi) = |g^H C g|^2 / (|g|^2 g^H Rx g), to maximise: L(phi) = ||Y||^2 - T J(phi)."""
    g = data.M @ steering_vector(phi, data.positions_m, data.wavelength_m)
    num = np.vdot(g, data.C @ g)
    den = np.real(np.vdot(g, g)) * np.real(np.vdot(g, data.Rx @ g))
    return float(abs(num) ** 2 / den) if den > 0 else 0.0


def _vectors(data: _SearchData, phi: FloatArray) -> ComplexArray:
    return model_vectors(data.M, phi, data.positions_m, data.wavelength_m)


def _best_alpha(V: ComplexArray, Rx: ComplexArray, C: ComplexArray) -> complex:
    g = V[:, 0]
    den = np.real(np.vdot(g, g)) * np.real(np.vdot(g, Rx @ g))
    return complex(np.vdot(g, C @ g) / den) if den > 0 else 0j


def search_grid(
    lower: FloatArray, upper: FloatArray, step_rad: float = float(np.deg2rad(GRID_STEP_DEG))
) -> tuple[FloatArray, FloatArray]:
    """Axes of the global pseudo-true search grid over the box [lower, upper] (radians).

    Each axis runs from lower[i] to upper[i] inclusive with equal spacing no larger than
    ``step_rad`` (the fewest points that achieve it). Default step: GRID_STEP_DEG.

    Returns
    -------
    phi_e : float (n_e,), phi_a : float (n_a,), radians.
    """
    axes = []
    for lo, hi in zip(lower, upper, strict=True):
        n = int(np.ceil((hi - lo) / step_rad - 1e-9)) + 1
        axes.append(np.linspace(lo, hi, n))
    return axes[0], axes[1]


def _grid_candidates(
    data: _SearchData,
    *,
    R_y: int,
    R_z: int,
    d_y_m: float,
    d_z_m: float,
    lower: FloatArray,
    upper: FloatArray,
    step_rad: float,
) -> list[tuple[FloatArray, float]]:
    """Grid local maxima of J with their values, best first (at most N_CANDIDATES)."""
    phi_e, phi_a = search_grid(lower, upper, step_rad)
    n_e, n_a = phi_e.size, phi_a.size
    G = grid_model_vectors(
        data.M,
        R_y=R_y,
        R_z=R_z,
        d_y_m=d_y_m,
        d_z_m=d_z_m,
        wavelength_m=data.wavelength_m,
        phi_e=phi_e,
        phi_a=phi_a,
    ).reshape(data.M.shape[0], -1)
    num = np.einsum("nk,nk->k", G.conj(), data.C @ G)
    norm = np.einsum("nk,nk->k", G.conj(), G).real
    power = np.einsum("nk,nk->k", G.conj(), data.Rx @ G).real
    with np.errstate(divide="ignore", invalid="ignore"):
        J = np.where(norm * power > 0, np.abs(num) ** 2 / (norm * power), 0.0)
    J = J.reshape(n_e, n_a)
    padded = np.pad(J, 1, constant_values=-np.inf)
    is_peak = np.ones_like(J, dtype=bool)
    for de in (-1, 0, 1):
        for da in (-1, 0, 1):
            if de or da:
                shifted = padded[1 + de : 1 + de + n_e, 1 + da : 1 + da + n_a]
                is_peak &= shifted <= J
    flat = np.flatnonzero(is_peak.ravel())
    order = flat[np.argsort(-J.ravel()[flat])][:N_CANDIDATES]
    if order.size == 0:
        order = np.array([int(np.argmax(J))])
    return [(np.array([phi_e[i // n_a], phi_a[i % n_a]]), float(J.ravel()[i])) for i in order]


@dataclass(frozen=True)
class _Refined:
    """Outcome of :func:`_refine`: the point, J there, iterations, last step, convergence."""

    phi: FloatArray
    J: float
    iterations: int
    last_step: float
    converged: bool


def _stationarity_step(
    phi: FloatArray,
    g_phi: FloatArray,
    h_conc: FloatArray,
    lower: FloatArray,
    upper: FloatArray,
) -> float:
    """Length (rad) of the Newton step on the coordinates free to move: ~0 at a KKT point.

    g_phi (2,) and h_conc (2, 2) are the gradient and concentrated Hessian of the cost L at
    phi. A coordinate on a window edge whose descent direction -g points out of the window
    is held; the others take the Newton step of L restricted to them (a diagonally scaled
    gradient step where that Hessian is not positive definite).
    """
    held = ((phi <= lower) & (g_phi > 0)) | ((phi >= upper) & (g_phi < 0))
    free = ~held
    if not np.any(free):
        return 0.0
    h = h_conc[np.ix_(free, free)]
    g = g_phi[free]
    if np.all(np.linalg.eigvalsh(h) > 0):
        return float(np.linalg.norm(np.linalg.solve(h, g)))
    return float(np.linalg.norm(g / (np.abs(np.diag(h)) + 1e-300)))


def _refine(
    data: _SearchData,
    start: FloatArray,
    lower: FloatArray,
    upper: FloatArray,
    max_iter: int = MAX_NEWTON_ITERATIONS,
    step_tol: float = NEWTON_STEP_TOL_RAD,
) -> _Refined:
    """Projected Newton on the concentrated cost, with backtracking.

    ``converged`` is True if, at the last iterate examined, the step of
    :func:`_stationarity_step` was below CONVERGED_STEP_RAD; it is False after max_iter
    iterations still moving, a failed line search, or a break on an ill-conditioned alpha
    block.
    """
    phi = np.clip(start, lower, upper)
    J: float | None = None  # J(phi), computed only when a line search needs it
    last_step = np.inf
    stationarity = np.inf  # _stationarity_step at the last iterate examined
    iteration = 0
    while iteration < max_iter:
        iteration += 1
        V = _vectors(data, phi)
        alpha = _best_alpha(V, data.Rx, data.C)
        grad, hess, _ = least_squares_derivatives(V, alpha, data.Rx, data.C, data.T)
        # Concentrated Hessian: Schur complement of the alpha block (alpha is at its optimum).
        h_pp, h_pa, h_aa = hess[:2, :2], hess[:2, 2:], hess[2:, 2:]
        if not np.all(np.isfinite(hess)) or _condition(h_aa) > 1e15:
            stationarity = np.inf  # no signal toward the model (e.g. zero power)
            break
        h_conc = h_pp - h_pa @ np.linalg.solve(h_aa, h_pa.T)
        g_phi = grad[:2]
        newton = bool(np.all(np.linalg.eigvalsh(h_conc) > 0))
        if newton:
            direction = -np.linalg.solve(h_conc, g_phi)
        else:  # not yet in the basin: scaled gradient step
            scale = np.sqrt(np.abs(np.diag(h_conc))) + 1e-300
            direction = -g_phi / scale**2
        stationarity = _stationarity_step(phi, g_phi, h_conc, lower, upper)
        if newton and np.linalg.norm(direction) < QUADRATIC_REGION_RAD:
            # Inside the quadratic region J changes by less than its rounding error near the
            # optimum, so a line search would stall; the Newton step converges quadratically.
            trial = np.clip(phi + direction, lower, upper)
            J = None
        else:
            if J is None:
                J = _concentrated(data, phi)
            t = 1.0
            for _ in range(40):
                trial = np.clip(phi + t * direction, lower, upper)
                J_trial = _concentrated(data, trial)
                if J_trial >= J:
                    break
                t *= 0.5
            else:
                break
            J = J_trial
        last_step = float(np.linalg.norm(trial - phi))
        phi = trial
        if last_step < step_tol:
            break
    return _Refined(
        phi=phi,
        J=_concentrated(data, phi) if J is None else J,
        iterations=iteration,
        last_step=last_step,
        converged=bool(stationarity < CONVERGED_STEP_RAD),
    )


def pseudo_true(
    realization: Realization,
    design: Design,
    *,
    C: ComplexArray | None = None,
    window_deg: float = WINDOW_DEG,
    grid_step_deg: float = GRID_STEP_DEG,
    max_newton_iterations: int = MAX_NEWTON_ITERATIONS,
) -> PseudoTrue:
    """Pseudo-true parameter eta0 = argmin_eta ||Gbar - alpha Omega(phi)||^2 (eq. 20).

    Global grid search over phi within +-window_deg of the true angles (alpha in closed
    form at every grid point), then projected Newton refinement of the best grid peaks
    until the step is below 1e-13 rad (at most ``max_newton_iterations`` steps each; the
    result says whether it converged). Passing ``C = Y X^H / T`` instead of the default
    ``Gbar Rx`` turns this into the misspecified maximum-likelihood estimator.
    """
    r = realization
    Rx = design.Rx
    data = _search_data(r, np.asarray(design.psi), Rx, C)
    C = data.C
    lower, upper = _window(r, window_deg)
    starts = _grid_candidates(
        data,
        R_y=r.R_y,
        R_z=r.R_z,
        d_y_m=r.d_y,
        d_z_m=r.d_z,
        lower=lower,
        upper=upper,
        step_rad=np.deg2rad(grid_step_deg),
    )
    best: _Refined | None = None
    peaks: list[tuple[FloatArray, float]] = []  # (location, J) of every distinct peak seen
    for start, J_grid in starts:
        if best is not None and J_grid < CANDIDATE_RATIO * best.J:
            peaks.append((start, J_grid))  # a peak this far below cannot win: keep grid value
            continue
        candidate = _refine(data, start, lower, upper, max_iter=max_newton_iterations)
        peaks.append((candidate.phi, candidate.J))
        if best is None or candidate.J > best.J:
            best = candidate
    assert best is not None
    phi, J_best = best.phi, best.J
    others = tuple(
        (where, float(r.T * J)) for where, J in peaks if np.max(np.abs(where - phi)) > 1e-6
    )
    V = _vectors(data, phi)
    on_boundary = bool(
        np.any(np.isclose(phi, lower, atol=1e-12) | np.isclose(phi, upper, atol=1e-12))
    )
    return PseudoTrue(
        phi_rad=phi,
        alpha=_best_alpha(V, Rx, C),
        newton_iterations=best.iterations,
        last_step_rad=best.last_step,
        on_window_boundary=on_boundary,
        converged=best.converged,
        fit_energy=float(r.T * J_best),
        competitors=others,
    )


def _window(r: Realization, window_deg: float) -> tuple[FloatArray, FloatArray]:
    """The search window: +-window_deg around the true angles, elevation within +-90 deg."""
    half = np.deg2rad(window_deg)
    lower = np.maximum(r.phi_target - half, [-np.pi / 2, -np.inf])
    upper = np.minimum(r.phi_target + half, [np.pi / 2, np.inf])
    return lower, upper


def refine_pseudo_true(
    realization: Realization,
    psi: ComplexArray,
    Rx: ComplexArray,
    phi_start: FloatArray,
    *,
    C: ComplexArray | None = None,
    window_deg: float = WINDOW_DEG,
    step_tol_rad: float = NEWTON_STEP_TOL_RAD,
    max_newton_iterations: int = MAX_NEWTON_ITERATIONS,
) -> PseudoTrue:
    """Local (Newton) refinement of eta0 from ``phi_start``, without the global grid search.

    For optimisers that move the design in small steps and track eta0 continuously; a
    global search (:func:`pseudo_true`) should confirm the result at the end.
    """
    r = realization
    data = _search_data(r, psi, Rx, C)
    C = data.C
    lower, upper = _window(r, window_deg)
    refined = _refine(
        data,
        np.asarray(phi_start, dtype=float),
        lower,
        upper,
        max_iter=max_newton_iterations,
        step_tol=step_tol_rad,
    )
    phi = refined.phi
    V = _vectors(data, phi)
    at_edge = np.isclose(phi, lower, atol=1e-12) | np.isclose(phi, upper, atol=1e-12)
    return PseudoTrue(
        phi_rad=phi,
        alpha=_best_alpha(V, Rx, C),
        newton_iterations=refined.iterations,
        last_step_rad=refined.last_step,
        on_window_boundary=bool(np.any(at_edge)),
        converged=refined.converged,
    )


# ------------------------------------------------------------------ bounds
@dataclass(frozen=True)
class SensingBounds:
    """A, B and the bounds they give at one parameter point."""

    A: FloatArray
    B: FloatArray
    mcrb: FloatArray
    gradient: FloatArray

    @property
    def mcrb_phi(self) -> FloatArray:
        return self.mcrb[:2, :2]

    @property
    def trace_mcrb_phi(self) -> float:
        return float(np.trace(self.mcrb[:2, :2]))


def bounds_at(
    realization: Realization,
    design: Design,
    phi: FloatArray,
    alpha: complex,
    *,
    C: ComplexArray | None = None,
) -> SensingBounds:
    """A, B (eqs. 23-24) and MCRB (eq. 22) at eta = (phi, alpha), normally eta0."""
    return transmit_bounds(realization, np.asarray(design.psi), design.Rx, phi, alpha, C=C)


def transmit_bounds(
    realization: Realization,
    psi: ComplexArray,
    Rx: ComplexArray,
    phi: FloatArray,
    alpha: complex,
    *,
    C: ComplexArray | None = None,
) -> SensingBounds:
    """:func:`bounds_at` for commanded phases psi (R,) and transmit covariance Rx (N_t, N_t)."""
    r = realization
    if C is None:
        C = true_echo_matrix(r, psi) @ Rx
    V = model_vectors(model_matrix(r.H_BR, psi), phi, r.ris_positions_m, r.wavelength)
    grad, hess, gram = least_squares_derivatives(V, alpha, Rx, C, r.T)
    A = -hess / r.noise_sensing_w
    B = 2.0 * gram / r.noise_sensing_w
    return SensingBounds(A=A, B=B, mcrb=mcrb_from_blocks(A, B), gradient=grad)


def track_pseudo_true(
    realization: Realization,
    psi: ComplexArray,
    Rx: ComplexArray,
    phi_start: FloatArray,
    *,
    C: ComplexArray | None = None,
    M: ComplexArray | None = None,
    max_newton_iterations: int = MAX_NEWTON_ITERATIONS,
) -> tuple[PseudoTrue, SensingBounds]:
    """:func:`refine_pseudo_true` from ``phi_start`` and :func:`transmit_bounds` at its result,
    sharing the model vectors: the tracking step of optimisers that move the design slowly.

    Fast path: while the concentrated Hessian is positive definite, the Newton step is shorter
    than QUADRATIC_REGION_RAD and the iterate stays strictly inside the window, take pure
    Newton steps (what :func:`_refine` does there too). When the next step would be shorter
    than NEWTON_STEP_TOL_RAD, stop at the point where it was computed and return A, B and
    the MCRB from the Gram matrices already formed there. The point differs from
    refine_pseudo_true's (which takes that last step and then forms the model vectors twice
    more, for alpha and for the bounds) by less than NEWTON_STEP_TOL_RAD = 1e-13 rad.
    Anything else (a longer step, an indefinite Hessian, the window edge, an ill-conditioned
    alpha block, no signal) hands over to refine_pseudo_true and transmit_bounds from
    ``phi_start``, so such cases give exactly their results.

    ``M = model_matrix(H_BR, psi)`` and ``C = Gbar Rx`` may be passed if already known.
    """
    r = realization
    if M is None:
        M = model_matrix(r.H_BR, psi)
    if C is None:
        C = true_echo_matrix(r, psi) @ Rx
    lower, upper = _window(r, WINDOW_DEG)
    phi = np.array(phi_start, dtype=float)  # a copy: the result must not alias the input
    for iteration in range(1, max_newton_iterations + 1):
        if not (np.all(phi > lower) and np.all(phi < upper)):
            break
        V = model_vectors(M, phi, r.ris_positions_m, r.wavelength)
        P, Q, S = _gram(V, Rx, C)
        den = P[0, 0].real * Q[0, 0].real
        if not den > 0:
            break
        alpha = complex(S[0, 0] / den)  # _best_alpha: g^H C g / (|g|^2 g^H Rx g)
        grad, hess, gram = least_squares_from_grams(P, Q, S, alpha, r.T)
        h_pp, h_pa, h_aa = hess[:2, :2], hess[:2, 2:], hess[2:, 2:]
        if not np.all(np.isfinite(hess)) or _condition(h_aa) > 1e15:
            break
        h_conc = h_pp - h_pa @ np.linalg.solve(h_aa, h_pa.T)
        det = h_conc[0, 0] * h_conc[1, 1] - h_conc[0, 1] * h_conc[1, 0]
        if not (h_conc[0, 0] > 0 and det > 0):
            break
        direction = -np.linalg.solve(h_conc, grad[:2])
        step = float(np.linalg.norm(direction))
        if step < NEWTON_STEP_TOL_RAD:
            A = -hess / r.noise_sensing_w
            B = 2.0 * gram / r.noise_sensing_w
            eta = PseudoTrue(
                phi_rad=phi,
                alpha=alpha,
                newton_iterations=iteration,
                last_step_rad=step,
                on_window_boundary=False,
                converged=True,
            )
            return eta, SensingBounds(A=A, B=B, mcrb=mcrb_from_blocks(A, B), gradient=grad)
        if not step < QUADRATIC_REGION_RAD:
            break
        phi = phi + direction
    eta = refine_pseudo_true(
        r, psi, Rx, phi_start, C=C, max_newton_iterations=max_newton_iterations
    )
    return eta, transmit_bounds(r, psi, Rx, eta.phi_rad, eta.alpha, C=C)


def crb_perfect(realization: Realization, design: Design) -> FloatArray:
    """CRB = B^-1 (4 x 4) of the fault-free RIS at the true parameter (phi, alpha).

    With every element working, Gbar = alpha g(phi) g(phi)^H exactly, eta0 is the truth,
    E = 0 and A = -B, so MCRB = CRB = B^-1.
    """
    r = realization
    psi = np.asarray(design.psi)
    V = model_vectors(model_matrix(r.H_BR, psi), r.phi_target, r.ris_positions_m, r.wavelength)
    P, Q, _ = _gram(V, design.Rx, np.zeros_like(design.Rx))
    K1 = _first_derivative_coefficients(r.alpha)
    gram = r.T * np.real(_gram_matrix(K1, P, Q))
    B = 2.0 * (0.5 * (gram + gram.T)) / r.noise_sensing_w
    return _crb_from_fisher(B)


@dataclass(frozen=True)
class SensingResult:
    """Every sensing number of one design on one realisation (angles in rad, bounds in rad^2).

    Attributes
    ----------
    trace_mcrb_phi_rad2 : tr(MCRB_phi), the sensing metric.
    mcrb_phi_rad2 : (2, 2). mcrb : (4, 4), order [phi_e, phi_a, Re alpha, Im alpha].
    eta0 : (4,), pseudo-true parameter. phi_true_rad : (2,). bias_phi_rad : phi0 - phi.
    mse_bound_phi_rad2 : MCRB_phi + bias bias^T, the MSE bound about the true angles.
    crb_perfect_phi_rad2 : (2, 2), CRB of the fault-free RIS at the truth;
    crb_perfect_trace_rad2 its trace.
    A, B : (4, 4). gradient_at_eta0 : dL/deta at eta0 (should vanish).
    cond_A, cond_B : condition numbers of the equilibrated A and B (inf if singular).
    a_negative_definite : all eigenvalues of A < 0 (an indefinite or singular A: False).
    newton_iterations, on_window_boundary : from the pseudo-true search.
    eta0_converged : the refinement of eta0 converged (:attr:`PseudoTrue.converged`).
    fit_snr_db : 10 log10(T J(phi0) / sigma_s^2), SNR of the echo the fitted model captures.
    ambiguity_margin : T (J1 - J2) / sqrt(sigma_s^2 T J1), how many noise standard deviations
        the pseudo-true peak J1 stands above the best competing peak J2 of the cost.
        The MCRB is an asymptotic (high-SNR, no-outlier) bound: see :attr:`bound_valid`.
    """

    trace_mcrb_phi_rad2: float
    mcrb_phi_rad2: FloatArray
    mcrb: FloatArray
    eta0: FloatArray
    phi_true_rad: FloatArray
    bias_phi_rad: FloatArray
    mse_bound_phi_rad2: FloatArray
    crb_perfect_phi_rad2: FloatArray
    crb_perfect_trace_rad2: float
    A: FloatArray
    B: FloatArray
    gradient_at_eta0: FloatArray
    cond_A: float
    cond_B: float
    a_negative_definite: bool
    newton_iterations: int
    on_window_boundary: bool
    eta0_converged: bool
    fit_snr_db: float = float("nan")
    ambiguity_margin: float = float("nan")

    @property
    def alpha0(self) -> complex:
        return complex(self.eta0[2], self.eta0[3])

    @property
    def bound_valid(self) -> bool:
        """Is the design in the regime where the (M)CRB predicts the estimator's spread?

        Requires eta0 converged, A negative definite, eta0 inside the window, a fit SNR of at
        least MIN_FIT_SNR_DB and a competing peak at least MIN_AMBIGUITY_MARGIN noise standard
        deviations lower (outliers would otherwise dominate the error: see
        docs/algorithm.md for the Monte-Carlo evidence).
        """
        return bool(
            self.eta0_converged
            and self.a_negative_definite
            and not self.on_window_boundary
            and self.fit_snr_db >= MIN_FIT_SNR_DB
            and self.ambiguity_margin >= MIN_AMBIGUITY_MARGIN
        )


def ambiguity_margin(realization: Realization, design: Design, eta: PseudoTrue) -> float:
    """How many noise standard deviations the pseudo-true peak stands above its competitors.

    The least-squares estimator picks the peak of J_noisy(phi). For two peaks with model
    signals u_i = vec(g_i g_i^H X) / ||.|| and noise-free echo s = vec(Gbar X), J_i T is
    |<u_i, s>|^2 and noise changes the difference J_1 T - J_2 T by 2 Re<n, P_1 s - P_2 s>,
    of standard deviation sigma sqrt(2) ||P_1 s - P_2 s||. The margin is the smallest
    (J_1 - J_2) T / (sigma sqrt(2) ||P_1 s - P_2 s||) over the competitors (inf if none).
    Nearly collinear model signals (common when H_BR is dominated by its LoS part) give
    a large margin even for peaks of almost equal height: the noise moves both alike.
    """
    r = realization
    if not eta.competitors:
        return float("inf")
    if not eta.fit_energy > 0:
        return 0.0  # nothing captured: no margin at all
    psi = np.asarray(design.psi)
    M = model_matrix(r.H_BR, psi)
    Rx = design.Rx
    C = true_echo_matrix(r, psi) @ Rx
    pos = r.ris_positions_m

    def projection(phi: FloatArray) -> tuple[complex, float, ComplexArray]:
        g = M @ steering_vector(phi, pos, r.wavelength)
        norm2 = r.T * float(np.real(np.vdot(g, g)) * np.real(np.vdot(g, Rx @ g)))
        c = r.T * complex(np.vdot(g, C @ g)) / np.sqrt(norm2) if norm2 > 0 else 0j  # <u, s>
        return c, norm2, g

    c1, n1, g1 = projection(eta.phi_rad)
    margin = float("inf")
    for phi2, energy2 in eta.competitors:
        c2, n2, g2 = projection(phi2)
        # <u1, u2> = T (g1^H g2)(g2^H Rx g1) / sqrt(n1 n2)
        if not n2 > 0:
            continue
        overlap = r.T * complex(np.vdot(g1, g2) * np.vdot(g2, Rx @ g1)) / np.sqrt(n1 * n2)
        diff2 = abs(c1) ** 2 + abs(c2) ** 2 - 2 * np.real(np.conj(c1) * c2 * overlap)
        spread = np.sqrt(2 * r.noise_sensing_w * max(diff2, 0.0))
        gap = eta.fit_energy - energy2
        margin = min(margin, float(gap / spread) if spread > 0 else float("inf"))
    return margin


def evaluate_sensing(
    realization: Realization,
    design: Design,
    *,
    max_newton_iterations: int = MAX_NEWTON_ITERATIONS,
) -> SensingResult:
    """Pseudo-true search, A, B, MCRB, MSE bound and the perfect-RIS CRB for one design.

    ``max_newton_iterations`` bounds the refinement of eta0 (for tests of the convergence
    report; the default converges in a handful of steps).
    """
    check_compatible(realization, design)
    eta = pseudo_true(realization, design, max_newton_iterations=max_newton_iterations)
    bounds = bounds_at(realization, design, eta.phi_rad, eta.alpha)
    bias = eta.phi_rad - realization.phi_target
    crb = crb_perfect(realization, design)
    eig = equilibrated_eigenvalues(bounds.A)
    noise = realization.noise_sensing_w
    fit = eta.fit_energy
    with np.errstate(divide="ignore", invalid="ignore"):
        fit_snr_db = float(10 * np.log10(fit / noise)) if fit > 0 else -np.inf
    margin = ambiguity_margin(realization, design, eta)
    return SensingResult(
        trace_mcrb_phi_rad2=bounds.trace_mcrb_phi,
        mcrb_phi_rad2=bounds.mcrb_phi.copy(),
        mcrb=bounds.mcrb,
        eta0=eta.eta,
        phi_true_rad=np.array(realization.phi_target),
        bias_phi_rad=bias,
        mse_bound_phi_rad2=bounds.mcrb_phi + np.outer(bias, bias),
        crb_perfect_phi_rad2=crb[:2, :2].copy(),
        crb_perfect_trace_rad2=float(np.trace(crb[:2, :2])),
        A=bounds.A,
        B=bounds.B,
        gradient_at_eta0=bounds.gradient,
        cond_A=condition_number(eig),
        cond_B=condition_number(equilibrated_eigenvalues(bounds.B)),
        a_negative_definite=bool(np.all(eig < 0)),
        newton_iterations=eta.newton_iterations,
        on_window_boundary=eta.on_window_boundary,
        eta0_converged=eta.converged,
        fit_snr_db=fit_snr_db,
        ambiguity_margin=float(margin),
    )
