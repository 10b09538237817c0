"""Uniform random arm: the no-curriculum baseline.

Each ``select`` plays arm ``floor(u * K)`` for a fresh uniform ``u``; rewards
only feed the per-arm sample means that ``values()`` reports. Rewards: any
real number with ``|r| <= 1e12`` (``REAL_REWARDS``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sparft.bandits._base import REAL_REWARDS, Bandit, Hyperparameters
from sparft.bandits._registry import register
from sparft.bandits.vector import VectorBandit

__all__ = ["Uniform", "UniformParams", "UniformVector"]


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

    def _select_layout(self):
        return (("uniform", 1),)

    def _reset_stats(self) -> None:
        self._n = np.zeros(self.n_arms, dtype=np.int64)
        self._sums = np.zeros(self.n_arms)

    def select(self) -> int:
        u = self._draws.take()[0]
        # u < 1, but u * K can round up to K for large K.
        return min(int(u * self.n_arms), self.n_arms - 1)

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


class UniformVector(VectorBandit):
    Scalar = Uniform
    _state_fields = ("_n", "_sums")

    def _select_layout(self):
        return (("uniform", 1),)

    def _reset_stats(self) -> None:
        self._n = np.zeros((self.n_runs, self.n_arms), dtype=np.int64)
        self._sums = np.zeros((self.n_runs, self.n_arms))

    def select(self) -> np.ndarray:
        u = self._draws.take()[:, 0]
        return np.minimum((u * self.n_arms).astype(np.intp), self.n_arms - 1)

    def update(self, arms, rewards) -> None:
        arms, rewards = self._check(arms, rewards)
        self._n[self._rows, arms] += 1
        self._sums[self._rows, arms] += rewards
        self.t += 1

    def probabilities(self) -> np.ndarray:
        return np.full((self.n_runs, self.n_arms), 1.0 / self.n_arms)

    def values(self) -> np.ndarray:
        return self._sums / np.maximum(self._n, 1)


Uniform.Vector = UniformVector
