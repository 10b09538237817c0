"""Index policies (the UCB family): play the arm with the largest index.

Shared by ``ucb1``, ``kl_ucb``, ``discounted_ucb`` and ``sliding_window_ucb``.
An arm never played is played first. Ties are broken by a random priority
order of the arms, drawn once per ``reset`` from the run's spare stream; the
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
from sparft.bandits.vector import VectorBandit

__all__ = ["IndexPolicy", "IndexPolicyVector"]


class IndexPolicy(Bandit):
    """Base of the per-object index policies (see the module docstring)."""

    _state_fields = ("_perm", "_n")

    def _reset_stats(self) -> None:
        # Python lists: per-step scalar access on them is faster than on numpy arrays.
        self._perm = [int(a) for a in self._spare.permutation(self.n_arms)]
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


class IndexPolicyVector(VectorBandit):
    """Base of the vectorised index policies; slot ``s`` of run ``r`` is arm ``_perm[r, s]``."""

    _state_fields = ("_perm", "_n")

    def _reset_stats(self) -> None:
        self._perm = np.stack([self._spare(r).permutation(self.n_arms)
                               for r in range(self.n_runs)]).astype(np.intp)
        self._n = np.zeros((self.n_runs, self.n_arms), dtype=np.int64)
        self._reset_index_stats()
        self._after_load()

    def _after_load(self) -> None:
        self._slot = np.empty_like(self._perm)
        self._slot[self._rows[:, None], self._perm] = np.arange(self.n_arms)
        self._untried = int(np.count_nonzero(self._n == 0))

    def _reset_index_stats(self) -> None:
        raise NotImplementedError

    def _index(self) -> np.ndarray:
        raise NotImplementedError

    def _record(self, slot: np.ndarray, rewards: np.ndarray, n: np.ndarray) -> None:
        raise NotImplementedError

    def _slot_values(self) -> np.ndarray:
        raise NotImplementedError

    def select(self) -> np.ndarray:
        if self._untried:
            untried = self._n == 0
            first = untried.argmax(axis=1)
            has = untried.any(axis=1)
            # _index() is only valid for runs that played every arm, as in the
            # per-object form; other runs take their first untried slot.
            slot = first if has.all() else np.where(has, first, self._index().argmax(axis=1))
        else:
            slot = self._index().argmax(axis=1)
        return self._perm[self._rows, slot]

    def update(self, arms, rewards) -> None:
        arms, rewards = self._check(arms, rewards)
        slot = self._slot[self._rows, arms]
        n = self._n[self._rows, slot] + 1
        self._n[self._rows, slot] = n
        if self._untried:
            self._untried -= int(np.count_nonzero(n == 1))
        self.t += 1
        self._record(slot, rewards, n)

    def values(self) -> np.ndarray:
        out = np.empty((self.n_runs, self.n_arms))
        out[self._rows[:, None], self._perm] = self._slot_values()
        return out

    def counts(self) -> np.ndarray:
        out = np.empty((self.n_runs, self.n_arms), dtype=np.int64)
        out[self._rows[:, None], self._perm] = self._n
        return out
