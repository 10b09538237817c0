"""Small pieces shared by several strategies: epoch-wise example order, slot sampling.

Nothing here is a bandit or a signal (those live in :mod:`sparft.bandits` and
:mod:`sparft.curricula.signals`); these are the plumbing that turns a choice into
the environment's action.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np


class EpochOrder:
    """Indices of a pool in shuffled passes, like a data loader: every index once per epoch.

    ``replacement=True`` draws indices independently instead. State (the current
    permutation and the position in it) is plain lists so it round-trips through JSON.
    """

    def __init__(self, pool: np.ndarray, replacement: bool = False) -> None:
        self.pool = np.asarray(pool, dtype=np.int64)
        if self.pool.size == 0:
            raise ValueError("cannot sample from an empty pool of examples")
        self.replacement = replacement
        self.order: np.ndarray = np.empty(0, dtype=np.int64)
        self.pos = 0

    def take(self, n: int, rng: np.random.Generator) -> np.ndarray:
        if self.replacement:
            return self.pool[rng.integers(len(self.pool), size=n)]
        out = []
        while len(out) < n:
            if self.pos >= len(self.order):
                self.order = rng.permutation(self.pool)
                self.pos = 0
            k = min(n - len(out), len(self.order) - self.pos)
            out.extend(self.order[self.pos : self.pos + k].tolist())
            self.pos += k
        return np.asarray(out, dtype=np.int64)

    def state(self) -> dict[str, Any]:
        return {"order": self.order.tolist(), "pos": self.pos}

    def load(self, state: Mapping[str, Any]) -> None:
        self.order = np.asarray(state.get("order", []), dtype=np.int64)
        self.pos = int(state.get("pos", 0))


def sample_slots(probs: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` arm indices drawn i.i.d. from ``probs`` (the arms of a mixed batch)."""
    probs = np.asarray(probs, dtype=np.float64)
    probs = probs / probs.sum()
    return rng.choice(len(probs), size=n, p=probs).astype(np.int64)


def softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    """Boltzmann probabilities ``exp(s/T) / sum exp(s/T)``, max-subtracted; +inf scores share all mass."""
    scores = np.asarray(scores, dtype=np.float64)
    inf = np.isposinf(scores)
    if inf.any():
        return inf / inf.sum()
    z = (scores - scores.max()) / temperature
    e = np.exp(z)
    return e / e.sum()


def arm_slices(arms_per_example: np.ndarray, n_arms: int) -> list[np.ndarray]:
    """For each arm, the batch rows that came from it."""
    arms_per_example = np.asarray(arms_per_example, dtype=np.int64)
    return [np.flatnonzero(arms_per_example == k) for k in range(n_arms)]
