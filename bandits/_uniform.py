"""Uniform random arm: the no-curriculum baseline.

Each ``select`` plays an arm drawn uniformly at random; rewards only feed the
per-arm sample means that ``values()`` reports. Rewards: any real number with
``|r| <= 1e12`` (``REAL_REWARDS``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sparft.bandits._base import REAL_REWARDS, Bandit, Hyperparameters
from sparft.bandits._registry import register

__all__ = ["Uniform", "UniformParams"]


@dataclass(frozen=True)
class UniformParams(Hyperparameters):
    """No hyperparameters."""


@register("uniform")
class Uniform(Bandit):
    """Uniform random arm, the no-curriculum baseline; any real reward."""

    Params = UniformParams
    reward_range = REAL_REWARDS
    has_probabilities = True
    _state_fields = ("_n", "_sums")

    def _reset_stats(self) -> None:
        self._n = np.zeros(self.n_arms, dtype=np.int64)
        self._sums = np.zeros(self.n_arms)

    def select(self) -> int:
        return int(self.rng.integers(self.n_arms))

    def update(self, arm: int, reward: float) -> None:
        arm, reward = self._check(arm, reward)
        self._n[arm] += 1
        self._sums[arm] += reward
        self.t += 1

    def probabilities(self) -> np.ndarray:
        return np.full(self.n_arms, 1.0 / self.n_arms)

    def values(self) -> np.ndarray:
        """Sample mean reward of each arm (0 for arms never played)."""
        return self._sums / np.maximum(self._n, 1)
