"""UCB1 (Auer, Cesa-Bianchi & Fischer 2002, "Finite-time analysis of the multiarmed
bandit problem", Machine Learning 47).

After playing each arm once, play

    argmax_i  mean_i + c * sqrt(ln t / n_i)

where ``t`` is the number of updates so far and ``n_i`` the plays of arm ``i``.
With ``c = sqrt(2)`` this is the paper's index, whose expected regret is
``O(sum_i ln T / gap_i)`` for rewards in [0, 1].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sparft.bandits._base import UNIT_REWARDS, Hyperparameters, check_range, hp
from sparft.bandits._index import IndexPolicy
from sparft.bandits._registry import register

__all__ = ["UCB1", "UCB1Params"]


@dataclass(frozen=True)
class UCB1Params(Hyperparameters):
    c: float = hp(math.sqrt(2.0), "exploration constant c in mean + c*sqrt(ln t / n)",
                  low=0.05, high=4.0, log=True)

    def validate(self) -> None:
        check_range("c", self.c, low=0.0)


@register("ucb1")
class UCB1(IndexPolicy):
    """UCB1 (Auer et al. 2002): sample mean plus c*sqrt(ln t / n); rewards in [0, 1]."""

    Params = UCB1Params
    reward_range = UNIT_REWARDS
    _state_fields = (*IndexPolicy._state_fields, "_sums")

    def _reset_index_stats(self) -> None:
        self._sums = [0.0] * self.n_arms

    def _after_load(self) -> None:
        super()._after_load()
        # Kept per slot so that each select is two array operations and an argmax.
        self._mean = np.array([s / n if n else 0.0 for s, n in zip(self._sums, self._n)])
        self._inv_sqrt_n = np.array([1.0 / math.sqrt(n) if n else 0.0 for n in self._n])
        self._c = self.params.c

    def _index(self) -> np.ndarray:
        idx = self._inv_sqrt_n * (self._c * math.sqrt(math.log(self.t)))
        idx += self._mean
        return idx

    def _record(self, slot: int, reward: float, n: int) -> None:
        s = self._sums[slot] + reward
        self._sums[slot] = s
        self._mean[slot] = s / n
        self._inv_sqrt_n[slot] = 1.0 / math.sqrt(n)

    def _slot_values(self) -> np.ndarray:
        return self._mean.copy()
