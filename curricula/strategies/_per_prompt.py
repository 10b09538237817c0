"""Plumbing shared by the per-prompt strategies: prompt indices, group counts, nearest-to-target picks, k-means.

The strategies published since 2025 (``mopps``, ``greso``, ``speed_rl``, ``vcrl``,
``balanced_filter``, ``cures``, ``pcl``, ``cluster_beta``, ``sparft_dynamic``) keep
statistics per prompt rather than per arm and speak the environment's ``"examples"``
action (indices into ``arms.ids``). What they share is here; each rule stays in its
own module.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sparft.curricula.arms import ArmSet
from sparft.curricula.outcome import StepOutcome

__all__ = [
    "PromptIndex", "fill", "group_successes", "kmeans", "nearest", "normalised_variance", "unique_first",
]


class PromptIndex:
    """Per-prompt arrays of an ArmSet in ``arms.ids`` order: index, arm, difficulty."""

    def __init__(self, arms: ArmSet) -> None:
        self.ids = arms.ids
        self.index = {i: j for j, i in enumerate(self.ids)}
        self.arm = np.repeat(np.arange(arms.n_arms), arms.sizes).astype(np.int64)
        self.difficulty = np.array([arms.difficulty[i] for i in self.ids], dtype=np.float64)

    def __len__(self) -> int:
        return len(self.ids)

    def of(self, example_ids: Sequence[str]) -> np.ndarray:
        """Indices into ``arms.ids`` of the outcome's example ids."""
        try:
            return np.fromiter((self.index[i] for i in example_ids), np.int64, len(example_ids))
        except KeyError as e:
            raise ValueError(f"example id {e.args[0]!r} is not in the teacher's ArmSet") from None


def group_successes(outcome: StepOutcome) -> tuple[np.ndarray, int]:
    """``(k, G)``: successes of each group (the sum of its rewards in ``[0, 1]``) and the group size."""
    return outcome.rewards.sum(axis=1), outcome.group_size


def normalised_variance(k: np.ndarray, g: int) -> np.ndarray:
    """VCRL's ``sigma^2 / sigma^2_max`` of a group with ``k`` of ``g`` rollouts right.

    ``sigma^2 = k (g - k) / (g (g - 1))`` (the unbiased variance of 0/1 rewards), largest
    at ``k = g/2``: ``g / (4 (g - 1))`` for even ``g``, ``(g + 1) / (4 g)`` for odd ``g``.
    """
    k = np.asarray(k, dtype=np.float64)
    var = k * (g - k) / (g * (g - 1))
    top = g / (4.0 * (g - 1)) if g % 2 == 0 else (g + 1) / (4.0 * g)
    return var / top


def nearest(values: np.ndarray, target: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """Positions of the ``n`` values nearest ``target`` (all of them when fewer); ties broken at random."""
    values = np.asarray(values, dtype=np.float64)
    perm = rng.permutation(len(values))
    order = np.argsort(np.abs(values[perm] - target), kind="stable")
    return perm[order[:n]]


def unique_first(items: np.ndarray) -> np.ndarray:
    """The distinct entries of ``items`` in order of first appearance."""
    items = np.asarray(items, dtype=np.int64)
    _, first = np.unique(items, return_index=True)
    return items[np.sort(first)]


def fill(chosen: np.ndarray, n: int) -> np.ndarray:
    """``chosen`` cycled to length ``n`` (a pool smaller than a batch repeats)."""
    chosen = np.asarray(chosen, dtype=np.int64)
    return chosen if len(chosen) == n else np.resize(chosen, n)


def kmeans(x: np.ndarray, k: int, rng: np.random.Generator, iters: int = 50) -> np.ndarray:
    """Lloyd's k-means with k-means++ seeding (Arthur & Vassilvitskii 2007); returns labels.

    Every one of the ``k`` clusters is non-empty (``k <= len(x)``): a cluster that empties
    is re-seeded at the point farthest from its centre.
    """
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    if not 1 <= k <= n:
        raise ValueError(f"k-means needs 1 <= k <= {n} points, got k={k}")
    centres = np.empty((k, x.shape[1]))
    centres[0] = x[rng.integers(n)]
    d2 = ((x - centres[0]) ** 2).sum(axis=1)
    for j in range(1, k):
        total = d2.sum()
        pick = rng.choice(n, p=d2 / total) if total > 0 else rng.integers(n)
        centres[j] = x[pick]
        d2 = np.minimum(d2, ((x - centres[j]) ** 2).sum(axis=1))
    labels = np.full(n, -1, dtype=np.int64)
    for _ in range(iters):
        dist = ((x[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        new = dist.argmin(axis=1)
        counts = np.bincount(new, minlength=k)
        for j in np.flatnonzero(counts == 0):  # re-seed an empty cluster
            spare = counts[new] > 1  # never empty another cluster to fill this one
            far = int(np.where(spare, dist[np.arange(n), new], -1.0).argmax())
            counts[new[far]] -= 1
            new[far] = j
            counts[j] = 1
        if np.array_equal(new, labels):
            break
        labels = new
        for j in range(k):
            centres[j] = x[labels == j].mean(axis=0)
    return labels
