"""Index policies (the UCB family): play the arm with the largest index.

Shared by ``ucb1``, ``kl_ucb``, ``discounted_ucb`` and ``sliding_window_ucb``.
An arm never played is played first. Ties are broken by a random priority
order of the arms, drawn once per ``reset`` from the bandit's generator; the
statistics are stored in that order ("slots"), so the first maximum of the
index is the tie-break and costs nothing per step. A fresh random tie-break
each step would cost a draw and a scan per step, and exact ties after the
first K plays are rare (equal counts and equal sums), so a fixed random
order gives the same behaviour at a fraction of the cost.

Subclasses provide ``_index()`` (one value per slot, computed only once every
arm has been played), ``_record(slot, reward, n)`` and ``_slot_values()``.
"""

from __future__ import annotations

import numpy as np

from sparft.bandits._base import Bandit

__all__ = ["IndexPolicy"]


class IndexPolicy(Bandit):
    """Base of the index policies (see the module docstring)."""

    _state_fields = ("_perm", "_n")

    def _reset_stats(self) -> None:
        # Python lists: per-step scalar access on them is faster than on numpy arrays.
        self._perm = [int(a) for a in self.rng.permutation(self.n_arms)]
        self._n = [0] * self.n_arms
        self._reset_index_stats()
        self._after_load()

    def _after_load(self) -> None:
        self._slot = [0] * self.n_arms
        for s, a in enumerate(self._perm):
            self._slot[a] = s
        self._untried = self._n.count(0)

    def _reset_index_stats(self) -> None:
        raise NotImplementedError

    def _index(self) -> np.ndarray:
        raise NotImplementedError

    def _record(self, slot: int, reward: float, n: int) -> None:
        raise NotImplementedError

    def _slot_values(self) -> np.ndarray:
        raise NotImplementedError

    def select(self) -> int:
        if self._untried:
            return self._perm[self._n.index(0)]
        return self._perm[int(self._index().argmax())]

    def update(self, arm: int, reward: float) -> None:
        arm, reward = self._check(arm, reward)
        slot = self._slot[arm]
        n = self._n[slot] + 1
        self._n[slot] = n
        if n == 1:
            self._untried -= 1
        self.t += 1
        self._record(slot, reward, n)

    def values(self) -> np.ndarray:
        out = np.empty(self.n_arms)
        out[self._perm] = self._slot_values()
        return out

    def counts(self) -> np.ndarray:
        """How often each arm was played."""
        out = np.empty(self.n_arms, dtype=np.int64)
        out[self._perm] = self._n
        return out
