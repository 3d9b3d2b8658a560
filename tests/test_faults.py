import numpy as np
from scipy import stats

from frisac.faults import assumed_coefficients, draw_faults, true_coefficients


def test_faults_are_distinct_sorted_and_in_range() -> None:
    rng = np.random.default_rng(1)
    for F in (0, 1, 40, 150):
        f = draw_faults(rng, 150, F)
        assert f.idx.shape == (F,) and len(set(f.idx.tolist())) == F
        assert np.all(np.diff(f.idx) > 0)
        assert F == 0 or (f.idx.min() >= 0 and f.idx.max() < 150)
        assert np.all(np.abs(f.coef) < 1)
        assert f.working_idx.size == 150 - F
        assert not set(f.working_idx.tolist()) & set(f.idx.tolist())


def test_fault_distributions_over_many_draws() -> None:
    """20000 draws of F = 40 of R = 150: element frequencies, amplitude and phase moments."""
    rng = np.random.default_rng(2)
    n, R, F = 20000, 150, 40
    counts = np.zeros(R)
    beta, theta = [], []
    for _ in range(n):
        f = draw_faults(rng, R, F)
        counts[f.idx] += 1
        beta.append(np.abs(f.coef))
        theta.append(np.mod(np.angle(f.coef), 2 * np.pi))
    p = F / R
    sigma = np.sqrt(n * p * (1 - p))  # binomial std of one element's count: 62.5
    assert np.max(np.abs(counts - n * p)) < 5 * sigma
    beta_all, theta_all = np.concatenate(beta), np.concatenate(theta)
    assert abs(np.mean(beta_all < 0.25) - 0.25) < 5 * np.sqrt(0.25 * 0.75 / beta_all.size)
    assert abs(np.mean(beta_all) - 0.5) < 5 * np.sqrt(1 / 12 / beta_all.size)
    assert abs(np.mean(theta_all) - np.pi) < 5 * np.pi / np.sqrt(3 * theta_all.size)
    # Whole distributions: Kolmogorov-Smirnov against U(0, 1) and U(0, 2 pi) on the
    # 800000 pooled values. The KS distance of a correct sampler is ~0.9 / sqrt(800000) =
    # 1e-3; p > 1e-3 rejects a true uniform once in a thousand seeds (this seed is fixed).
    # A phase drawn on [0, pi) or amplitudes drawn as sqrt(U) give distances of 0.5 and
    # 0.25, i.e. p ~ 0.
    assert stats.kstest(beta_all, "uniform", args=(0.0, 1.0)).pvalue > 1e-3
    assert stats.kstest(theta_all, "uniform", args=(0.0, 2 * np.pi)).pvalue > 1e-3


def test_fault_phases_cover_the_whole_circle() -> None:
    """theta ~ U(0, 2 pi) (MODEL.md section 4): every quarter of the circle gets 1/4 of the
    phases. 2000 draws of F = 40 give 80000 phases; binomial standard deviation of a quarter's
    share 0.0015, tolerance 0.01 (6 sigma). Fails for phases confined to a half circle."""
    rng = np.random.default_rng(4)
    theta = np.concatenate([np.angle(draw_faults(rng, 150, 40).coef) for _ in range(2000)])
    quarter = np.floor(np.mod(theta, 2 * np.pi) / (np.pi / 2)).astype(int)
    shares = np.bincount(quarter, minlength=4) / theta.size
    np.testing.assert_allclose(shares, 0.25, atol=0.01)


def test_true_and_assumed_coefficients() -> None:
    rng = np.random.default_rng(3)
    f = draw_faults(rng, 20, 6)
    psi = np.exp(1j * rng.uniform(0, 2 * np.pi, 20))
    assumed = assumed_coefficients(psi)
    np.testing.assert_array_equal(assumed, psi)
    np.testing.assert_allclose(np.abs(assumed), 1.0, atol=1e-15)
    true = true_coefficients(psi, f.idx, f.coef)
    np.testing.assert_array_equal(true[f.working_idx], psi[f.working_idx])
    np.testing.assert_array_equal(true[f.idx], f.coef)
    assert not np.shares_memory(true, psi)
