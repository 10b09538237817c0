"""Turning an action into the batch: which examples each batch slot trains on.

Used by :class:`~sparft.envs.CurriculumEnv` (and so by every driver built on it).

Rule: the slots given to an arm take its examples in the order of uniform random
keys, so each example appears at most once per batch; only when an arm has fewer
examples than slots does it repeat (every example once before any repeats).
"""

from __future__ import annotations

import numpy as np

__all__ = ["ArmTable", "ACTION_MODES"]

ACTION_MODES = ("arm", "arms", "examples")
_PAD = 2.0  # larger than any uniform key: padding sorts last


class ArmTable:
    """Per-arm item indices of an ArmSet, padded to a rectangle, for vectorised drawing."""

    def __init__(self, sizes: np.ndarray) -> None:
        self.sizes = np.asarray(sizes, dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)[:-1]]).astype(np.int64)
        self.n_arms = len(self.sizes)
        self.n_items = int(self.sizes.sum())
        self.max_size = int(self.sizes.max())
        pos = np.arange(self.max_size)
        self.valid = pos[None, :] < self.sizes[:, None]  # (K, max_size)
        self.items = np.where(self.valid, self.offsets[:, None] + pos, 0)
        self.item_arm = np.repeat(np.arange(self.n_arms), self.sizes)

    def draw_arm(self, arm: np.ndarray, keys: np.ndarray, batch_size: int) -> np.ndarray:
        """Items ``(..., B)`` for one arm per environment; ``keys``: ``(..., max_size)``."""
        arm = np.asarray(arm, dtype=np.int64)
        if arm.ndim == 0:  # one environment: the same result without the padding
            n = int(self.sizes[arm])
            order = np.argsort(keys[:n], kind="stable")
            pos = order[:batch_size] if n >= batch_size else order[np.arange(batch_size) % n]
            return self.offsets[arm] + pos
        masked = np.where(self.valid[arm], keys, _PAD)
        order = np.argsort(masked, axis=-1, kind="stable")
        slot = np.arange(batch_size) % self.sizes[arm][..., None]
        pos = np.take_along_axis(order, slot, axis=-1)
        return self.offsets[arm][..., None] + pos

    def draw_arms(self, slot_arms: np.ndarray, keys: np.ndarray) -> np.ndarray:
        """Items ``(..., B)`` for the arm of each slot; ``keys``: ``(..., N)``, one per example."""
        slot_arms = np.asarray(slot_arms, dtype=np.int64)
        b = slot_arms.shape[-1]
        # rank of each slot among the earlier slots of the same arm
        same = slot_arms[..., :, None] == slot_arms[..., None, :]
        rank = (same & np.tri(b, k=-1, dtype=bool)).sum(axis=-1)
        item_keys = _gather_last(keys, self.items[slot_arms])
        masked = np.where(self.valid[slot_arms], item_keys, _PAD)
        order = np.argsort(masked, axis=-1, kind="stable")
        slot = (rank % self.sizes[slot_arms])[..., None]
        pos = np.take_along_axis(order, slot, axis=-1)[..., 0]
        return self.offsets[slot_arms] + pos


def _gather_last(keys: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``keys[..., index]`` with ``index`` of shape ``(..., B, S)`` and ``keys`` ``(..., N)``."""
    flat = keys.reshape(-1, keys.shape[-1])
    idx = index.reshape(flat.shape[0], -1)
    return np.take_along_axis(flat, idx, axis=-1).reshape(index.shape)
