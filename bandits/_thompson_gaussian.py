"""Gaussian Thompson sampling (Agrawal & Goyal 2013, "Further optimal regret bounds for
Thompson sampling", AISTATS), the family SPaRFT uses, with an optional discount for
switching rewards.

Each arm's mean has the posterior

    N( (n0 * m0 + S_i) / (n0 + N_i),  sigma^2 / (n0 + N_i) )

with ``N_i`` plays and ``S_i`` their reward sum, prior mean ``m0`` worth ``n0``
pseudo-plays; ``n0 = 1, m0 = 0, sigma = 1`` is the paper's algorithm (posterior
``N(S_i / (N_i + 1), 1 / (N_i + 1))``). The variance shrinks with every play.
``select`` draws one value per arm from its posterior and plays the largest.
With discount ``g < 1``, ``N <- g N + 1[arm = i]`` and ``S <- g S + r 1[arm = i]``,
so old rewards fade and the variance grows back for arms left alone.

Rewards: any real number with ``|r| <= 1e12`` (``REAL_REWARDS``); a strategy
that favours low solve rates, as SPaRFT does, passes negated solve rates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sparft.bandits._base import REAL_REWARDS, Bandit, Hyperparameters, check_range, hp
from sparft.bandits._registry import register

__all__ = ["ThompsonGaussian", "ThompsonGaussianParams"]


@dataclass(frozen=True)
class ThompsonGaussianParams(Hyperparameters):
    sigma: float = hp(1.0, "reward noise scale: posterior sd is sigma / sqrt(n0 + plays)",
                      low=0.05, high=2.0, log=True)
    prior_mean: float = hp(0.0, "prior mean m0 of every arm", low=-1.0, high=1.0)
    prior_count: float = hp(1.0, "weight n0 of the prior, in pseudo-plays",
                            low=0.1, high=10.0, log=True)
    discount: float = hp(1.0, "discount of past plays per step; 1 = stationary",
                         low=0.9, high=1.0)

    def validate(self) -> None:
        check_range("sigma", self.sigma, low=0.0, low_open=True)
        check_range("prior_mean", self.prior_mean, *REAL_REWARDS)
        check_range("prior_count", self.prior_count, low=1e-6)
        check_range("discount", self.discount, 0.0, 1.0, low_open=True)


def _posterior(p: ThompsonGaussianParams, counts, sums):
    weight = p.prior_count + counts
    return (p.prior_count * p.prior_mean + sums) / weight, p.sigma / np.sqrt(weight)


@register("thompson_gaussian")
class ThompsonGaussian(Bandit):
    """Gaussian Thompson sampling, posterior variance sigma^2/(n0 + plays); optional discount."""

    Params = ThompsonGaussianParams
    reward_range = REAL_REWARDS
    _state_fields = ("_counts", "_sums")

    def _reset_stats(self) -> None:
        self._counts = np.zeros(self.n_arms)
        self._sums = np.zeros(self.n_arms)
        self._after_load()

    def _after_load(self) -> None:
        self._mean, self._sd = _posterior(self.params, self._counts, self._sums)

    def select(self) -> int:
        theta = self._sd * self.rng.standard_normal(self.n_arms)
        theta += self._mean
        return int(theta.argmax())

    def update(self, arm: int, reward: float) -> None:
        arm, reward = self._check(arm, reward)
        p = self.params
        self.t += 1
        if p.discount < 1.0:
            self._counts *= p.discount
            self._sums *= p.discount
            self._counts[arm] += 1.0
            self._sums[arm] += reward
            self._after_load()
            return
        n = self._counts[arm] + 1.0
        s = self._sums[arm] + reward
        self._counts[arm] = n
        self._sums[arm] = s
        # The arm's posterior alone, by the same formulas as _posterior.
        weight = p.prior_count + n
        self._mean[arm] = (p.prior_count * p.prior_mean + s) / weight
        self._sd[arm] = p.sigma / math.sqrt(weight)

    def values(self) -> np.ndarray:
        """Posterior means."""
        return self._mean.copy()
