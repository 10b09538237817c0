"""Discounted UCB (Garivier & Moulines 2011, "On upper-confidence bound policies for
switching bandit problems", ALT).

Statistics forget the past geometrically: with discount ``gamma``,

    N_i  <- gamma * N_i + 1[arm = i]          (discounted plays)
    S_i  <- gamma * S_i + 1[arm = i] * r      (discounted reward)
    n    <- gamma * n + 1                     (= sum_i N_i)

and the arm played maximises ``S_i / N_i + 2 * sqrt(xi * ln n / N_i)`` (the
paper's index with reward bound B = 1). An arm whose ``N_i`` has decayed to
zero gets an infinite index. The paper suggests ``gamma = 1 - sqrt(Y / T) / 4``
for ``Y`` breakpoints in ``T`` steps and uses ``xi = 0.6``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sparft.bandits._base import UNIT_REWARDS, Hyperparameters, check_range, hp
from sparft.bandits._index import IndexPolicy
from sparft.bandits._registry import register

__all__ = ["DiscountedUCB", "DiscountedUCBParams"]


@dataclass(frozen=True)
class DiscountedUCBParams(Hyperparameters):
    discount: float = hp(0.99, "discount gamma applied to past plays each step",
                         low=0.9, high=0.9999)
    xi: float = hp(0.6, "exploration constant xi in 2*sqrt(xi * ln n / N)",
                   low=0.05, high=2.0, log=True)

    def validate(self) -> None:
        check_range("discount", self.discount, 0.0, 1.0, low_open=True)
        check_range("xi", self.xi, low=0.0)


def _index(sums: np.ndarray, counts: np.ndarray, log_total: float, xi: float) -> np.ndarray:
    played = counts > 0.0
    safe = np.where(played, counts, 1.0)
    index = sums / safe + 2.0 * np.sqrt(xi * log_total / safe)
    return np.where(played, index, np.inf)


@register("discounted_ucb")
class DiscountedUCB(IndexPolicy):
    """Discounted UCB (Garivier & Moulines 2011) for switching rewards in [0, 1]."""

    Params = DiscountedUCBParams
    reward_range = UNIT_REWARDS
    _state_fields = (*IndexPolicy._state_fields, "_counts", "_sums", "_total")

    def _reset_index_stats(self) -> None:
        self._counts = np.zeros(self.n_arms)
        self._sums = np.zeros(self.n_arms)
        self._total = 0.0

    def _index(self) -> np.ndarray:
        return _index(self._sums, self._counts, math.log(self._total), self.params.xi)

    def _record(self, slot: int, reward: float, n: int) -> None:
        g = self.params.discount
        self._counts *= g
        self._sums *= g
        self._counts[slot] += 1.0
        self._sums[slot] += reward
        self._total = g * self._total + 1.0

    def _slot_values(self) -> np.ndarray:
        """Discounted means (0 where the discounted count is 0)."""
        return np.where(self._counts > 0, self._sums / np.where(self._counts > 0, self._counts, 1), 0.0)
