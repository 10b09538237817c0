"""Beta-Bernoulli Thompson sampling (Thompson 1933; for rewards in [0, 1] by the
Bernoulli trick of Agrawal & Goyal 2012, "Analysis of Thompson sampling for the
multi-armed bandit problem", COLT), with an optional discount for switching
rewards (Raj & Kalyani 2017, "Taming non-stationary bandits: a Bayesian approach").

Each arm has a Beta(alpha_i, beta_i) posterior, ``alpha_i = alpha_prior + S_i``,
``beta_i = beta_prior + F_i``. ``select`` draws ``theta_i ~ Beta(alpha_i, beta_i)``
for every arm (numpy's ``Generator.beta``) and plays the largest, ties (possible
only when tiny shapes round draws to exactly 0 or 1) broken uniformly at random.
``update(i, r)`` turns ``r`` into a success ``x ~ Bernoulli(r)`` and, with
discount ``g`` (1 = stationary),

    S <- g * S + x * 1[arm = i],    F <- g * F + (1 - x) * 1[arm = i].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sparft.bandits._base import UNIT_REWARDS, Bandit, Hyperparameters, check_range, hp
from sparft.bandits._registry import register

__all__ = ["ThompsonBeta", "ThompsonBetaParams"]


@dataclass(frozen=True)
class ThompsonBetaParams(Hyperparameters):
    alpha_prior: float = hp(1.0, "prior successes alpha of Beta(alpha, beta)",
                            low=0.1, high=10.0, log=True)
    beta_prior: float = hp(1.0, "prior failures beta of Beta(alpha, beta)",
                           low=0.1, high=10.0, log=True)
    discount: float = hp(1.0, "discount of past successes/failures per step; 1 = stationary",
                         low=0.9, high=1.0)

    def validate(self) -> None:
        check_range("alpha_prior", self.alpha_prior, low=1e-3)
        check_range("beta_prior", self.beta_prior, low=1e-3)
        check_range("discount", self.discount, 0.0, 1.0, low_open=True)


@register("thompson_beta")
class ThompsonBeta(Bandit):
    """Beta-Bernoulli Thompson sampling, Bernoulli trick for [0, 1] rewards; optional discount."""

    Params = ThompsonBetaParams
    reward_range = UNIT_REWARDS
    _state_fields = ("_s", "_f")

    def _reset_stats(self) -> None:
        self._s = np.zeros(self.n_arms)
        self._f = np.zeros(self.n_arms)
        self._after_load()

    def _after_load(self) -> None:
        self._alpha = self.params.alpha_prior + self._s
        self._beta = self.params.beta_prior + self._f

    def select(self) -> int:
        theta = self.rng.beta(self._alpha, self._beta)
        arm = int(theta.argmax())
        if theta[arm] == 0.0 or theta[arm] == 1.0:  # tiny shapes: draws rounded, maybe tied
            arm = int(self.rng.choice(np.flatnonzero(theta == theta[arm])))
        return arm

    def update(self, arm: int, reward: float) -> None:
        arm, reward = self._check(arm, reward)
        success = self.rng.random() < reward  # the Bernoulli trick; exact for 0/1 rewards
        g = self.params.discount
        self.t += 1
        if g < 1.0:
            self._s *= g
            self._f *= g
        if success:
            self._s[arm] += 1.0
        else:
            self._f[arm] += 1.0
        if g < 1.0:
            self._after_load()
        elif success:  # stationary: only the played arm's posterior moved
            self._alpha[arm] = self.params.alpha_prior + self._s[arm]
        else:
            self._beta[arm] = self.params.beta_prior + self._f[arm]

    def values(self) -> np.ndarray:
        """Posterior means alpha / (alpha + beta)."""
        return self._alpha / (self._alpha + self._beta)
