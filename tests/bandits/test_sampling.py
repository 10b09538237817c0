"""The samplers and solvers inside the algorithms, against exact answers.

The probability that Thompson sampling (Beta and Gaussian) prefers one arm over
another is compared with the exact integral, at shapes below 1, near 1, and
large; KL-UCB's Newton solver is compared with a 200-step bisection.
"""

import numpy as np
import pytest
from scipy import integrate, stats

from sparft import bandits
from sparft.bandits._kl_ucb import kl_bernoulli, kl_ucb_index


def prefer_first(name, counts, n, **params):
    """Fraction of ``n`` selections of arm 0 when arm i has had counts[i] = (successes,
    failures); ``select`` leaves the statistics alone, so each is a fresh posterior draw."""
    b = bandits.make(name, 2, seed=4, **params)
    for arm, (succ, fail) in enumerate(counts):
        for reward, k in ((1.0, succ), (0.0, fail)):
            for _ in range(k):
                b.update(arm, reward)
    return np.mean([b.select() == 0 for _ in range(n)])


@pytest.mark.parametrize("prior, counts", [
    ((1.0, 1.0), [(0, 0), (0, 0)]),      # symmetric: 1/2
    ((1.0, 1.0), [(0, 0), (1, 0)]),      # Beta(1,1) vs Beta(2,1)
    ((1.0, 1.0), [(4, 2), (2, 4)]),
    ((0.3, 0.5), [(0, 0), (0, 1)]),      # shapes below 1: the boosted path
    ((0.5, 0.5), [(1, 0), (0, 0)]),
    ((1.0, 1.0), [(30, 70), (38, 62)]),  # large shapes, close means
])
def test_beta_thompson_prefers_arms_with_the_exact_probability(prior, counts):
    a0, b0 = prior
    (s0, f0), (s1, f1) = counts
    first, second = stats.beta(a0 + s0, b0 + f0), stats.beta(a0 + s1, b0 + f1)
    exact, _ = integrate.quad(lambda x: first.pdf(x) * second.cdf(x), 0, 1, limit=200)
    n = 40000
    got = prefer_first("thompson_beta", counts, n, alpha_prior=a0, beta_prior=b0)
    sd = np.sqrt(exact * (1 - exact) / n)
    assert abs(got - exact) < 4.5 * sd + 1e-4, (got, exact)


def test_gaussian_thompson_prefers_arms_with_the_exact_probability():
    counts = [(3, 1), (2, 3)]  # arm 0: 4 plays, sum 3; arm 1: 5 plays, sum 2
    sigma, n0 = 0.8, 1.0
    mean = [3 / (n0 + 4), 2 / (n0 + 5)]
    var = [sigma**2 / (n0 + 4), sigma**2 / (n0 + 5)]
    exact = stats.norm.cdf((mean[0] - mean[1]) / np.sqrt(sum(var)))
    n = 40000
    got = prefer_first("thompson_gaussian", counts, n, sigma=sigma)
    sd = np.sqrt(exact * (1 - exact) / n)
    assert abs(got - exact) < 4.5 * sd, (got, exact)


def test_bernoulli_trick_turns_a_reward_into_a_success_with_that_probability():
    n = 20000
    b = bandits.make("thompson_beta", 2, seed=1)
    for _ in range(n):
        b.update(0, 0.3)
    successes = b.values()[0] * (n + 2) - 1  # posterior mean (1 + S) / (2 + n)
    assert abs(successes / n - 0.3) < 4.5 * np.sqrt(0.21 / n)


def test_kl_ucb_index_matches_bisection():
    rng = np.random.default_rng(0)
    m = 20000
    mean = rng.random(m)
    mean[:500], mean[500:1000], mean[1000:1500] = 0.0, 1.0, 1e-6
    n = np.floor(np.exp(rng.uniform(0, np.log(1e5), m))) + 1
    log_term = np.log(n * np.exp(rng.uniform(0, 6, m)))
    lo, hi = mean.copy(), np.ones(m)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        above = n * kl_bernoulli(mean, mid) > log_term
        hi, lo = np.where(above, mid, hi), np.where(above, lo, mid)
    got = kl_ucb_index(mean, n, log_term)
    assert np.max(np.abs(got - hi)) < 1e-9
    assert np.all(got >= lo - 1e-12)  # never below the root: a valid upper bound
    assert np.all((got >= mean) & (got <= 1.0))
