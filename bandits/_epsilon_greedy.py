"""Epsilon-greedy with optional decay (Sutton & Barto 2018, "Reinforcement
Learning: An Introduction", 2nd ed., section 2.2; decaying schedules as in
Auer, Cesa-Bianchi & Fischer 2002).

At step ``t`` (updates so far) explore with probability

    eps_t = max(min_epsilon, epsilon / (1 + decay * t))

by playing a uniformly random arm; otherwise play an arm with the largest
sample mean (arms never played count as ``initial_value``), ties broken
uniformly at random. Rewards: any real number with ``|r| <= 1e12`` (``REAL_REWARDS``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sparft.bandits._base import REAL_REWARDS, Bandit, Hyperparameters, check_range, hp
from sparft.bandits._registry import register

__all__ = ["EpsilonGreedy", "EpsilonGreedyParams"]


@dataclass(frozen=True)
class EpsilonGreedyParams(Hyperparameters):
    epsilon: float = hp(0.1, "probability of playing a uniformly random arm (at t = 0)",
                        low=0.01, high=0.5, log=True)
    decay: float = hp(0.0, "epsilon_t = epsilon / (1 + decay * t); 0 keeps it constant",
                      low=0.0, high=0.1)
    min_epsilon: float = hp(0.0, "floor under the decayed epsilon", low=0.0, high=0.05)
    initial_value: float = hp(0.0, "value of an arm never played (optimism if high)",
                              low=0.0, high=1.0)

    def validate(self) -> None:
        check_range("epsilon", self.epsilon, 0.0, 1.0)
        check_range("decay", self.decay, low=0.0)
        check_range("min_epsilon", self.min_epsilon, 0.0, self.epsilon)
        check_range("initial_value", self.initial_value, *REAL_REWARDS)


def _epsilon(p: EpsilonGreedyParams, t: int) -> float:
    return max(p.min_epsilon, p.epsilon / (1.0 + p.decay * t))


@register("epsilon_greedy")
class EpsilonGreedy(Bandit):
    """Epsilon-greedy on sample means, epsilon optionally decaying as epsilon/(1 + decay*t)."""

    Params = EpsilonGreedyParams
    reward_range = REAL_REWARDS
    has_probabilities = True
    _state_fields = ("_n", "_sums")

    def _reset_stats(self) -> None:
        self._n = np.zeros(self.n_arms, dtype=np.int64)
        self._sums = np.zeros(self.n_arms)
        self._after_load()

    def _after_load(self) -> None:
        self._means = np.where(self._n > 0, self._sums / np.maximum(self._n, 1),
                               self.params.initial_value)

    def select(self) -> int:
        if self.rng.random() < _epsilon(self.params, self.t):
            return int(self.rng.integers(self.n_arms))
        best = np.flatnonzero(self._means == self._means.max())
        return int(best[0]) if len(best) == 1 else int(self.rng.choice(best))

    def update(self, arm: int, reward: float) -> None:
        arm, reward = self._check(arm, reward)
        self._n[arm] += 1
        self._sums[arm] += reward
        self._means[arm] = self._sums[arm] / self._n[arm]
        self.t += 1

    def probabilities(self) -> np.ndarray:
        eps = _epsilon(self.params, self.t)
        best = self._means == self._means.max()
        return eps / self.n_arms + (1.0 - eps) * best / best.sum()

    def values(self) -> np.ndarray:
        """Sample mean of each arm (``initial_value`` for arms never played)."""
        return self._means.copy()
