"""Softmax (Boltzmann) exploration over value estimates (Sutton & Barto 2018,
section 2.8; the TD(0) estimate with a constant step size is the one used by
Self-Evolving Curriculum, Chen et al. 2025, arXiv 2505.14970).

    P(arm = i) = exp(Q_i / temperature) / sum_j exp(Q_j / temperature)

``Q_i`` is the sample mean of arm ``i`` (``step_size`` None) or the exponential
moving average ``Q_i <- Q_i + step_size * (r - Q_i)`` (TD(0)); arms never played
hold ``initial_value``. The maximum is subtracted before ``exp`` so any finite
value is safe. Each ``select`` reads one uniform (inverse CDF). Rewards: any
real number with ``|r| <= 1e12`` (``REAL_REWARDS``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sparft.bandits._base import REAL_REWARDS, Bandit, Hyperparameters, check_range, hp
from sparft.bandits._registry import register

__all__ = ["Softmax", "SoftmaxParams"]


@dataclass(frozen=True)
class SoftmaxParams(Hyperparameters):
    temperature: float = hp(0.1, "Boltzmann temperature; lower is greedier",
                            low=0.01, high=1.0, log=True)
    step_size: float | None = hp(None, "TD(0) step size alpha of Q <- Q + alpha*(r - Q); "
                                 "None = sample mean", low=0.01, high=1.0, log=True)
    initial_value: float = hp(0.0, "value of an arm never played", low=0.0, high=1.0)

    def validate(self) -> None:
        check_range("temperature", self.temperature, low=0.0, low_open=True)
        check_range("step_size", self.step_size, 0.0, 1.0, low_open=True)
        check_range("initial_value", self.initial_value, *REAL_REWARDS)


@register("softmax")
class Softmax(Bandit):
    """Boltzmann exploration over sample means or TD(0) averages (as in SEC)."""

    Params = SoftmaxParams
    reward_range = REAL_REWARDS
    has_probabilities = True
    _state_fields = ("_n", "_q")

    def _reset_stats(self) -> None:
        self._n = np.zeros(self.n_arms, dtype=np.int64)
        self._q = np.full(self.n_arms, self.params.initial_value)

    def _weights(self) -> np.ndarray:
        # exp((Q - max Q) / T) lies in (0, 1] and the largest is exactly 1.
        return np.exp((self._q - self._q.max()) / self.params.temperature)

    def select(self) -> int:
        u = self.rng.random()
        cum = np.cumsum(self._weights())
        return min(int(np.searchsorted(cum, u * cum[-1], side="right")), self.n_arms - 1)

    def update(self, arm: int, reward: float) -> None:
        arm, reward = self._check(arm, reward)
        self._n[arm] += 1
        alpha = self.params.step_size
        step = 1.0 / self._n[arm] if alpha is None else alpha
        # Q + step * (r - Q) as a convex combination, so it never leaves the reward range.
        self._q[arm] = (1.0 - step) * self._q[arm] + step * reward
        self.t += 1

    def probabilities(self) -> np.ndarray:
        w = self._weights()
        return w / w.sum()

    def values(self) -> np.ndarray:
        """The estimates Q (sample means or TD(0) averages)."""
        return self._q.copy()
