"""Sliding-window UCB (Garivier & Moulines 2011, "On upper-confidence bound policies
for switching bandit problems", ALT).

Only the last ``window`` plays count: with ``N_i`` and ``S_i`` the plays of arm
``i`` and their reward sum inside the window, play

    argmax_i  S_i / N_i + sqrt(xi * ln min(t, window) / N_i)

(the paper's index with reward bound B = 1); an arm with no play inside the
window gets an infinite index. The paper suggests ``window = 2 sqrt(T ln T / Y)``
for ``Y`` breakpoints in ``T`` steps and uses ``xi = 0.6``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sparft.bandits._base import UNIT_REWARDS, Hyperparameters, check_range, hp
from sparft.bandits._index import IndexPolicy
from sparft.bandits._registry import register

__all__ = ["SlidingWindowUCB", "SlidingWindowUCBParams"]


@dataclass(frozen=True)
class SlidingWindowUCBParams(Hyperparameters):
    window: int = hp(1000, "number of most recent plays the statistics use",
                     low=50, high=5000, log=True)
    xi: float = hp(0.6, "exploration constant xi in sqrt(xi * ln min(t, window) / N)",
                   low=0.05, high=2.0, log=True)

    def validate(self) -> None:
        check_range("window", self.window, low=1)
        check_range("xi", self.xi, low=0.0)


def _index(sums: np.ndarray, counts: np.ndarray, log_t: float, xi: float) -> np.ndarray:
    played = counts > 0
    safe = np.where(played, counts, 1)
    index = sums / safe + np.sqrt(xi * log_t / safe)
    return np.where(played, index, np.inf)


@register("sliding_window_ucb")
class SlidingWindowUCB(IndexPolicy):
    """Sliding-window UCB (Garivier & Moulines 2011) for switching rewards in [0, 1]."""

    Params = SlidingWindowUCBParams
    reward_range = UNIT_REWARDS
    _state_fields = (*IndexPolicy._state_fields, "_win_n", "_win_sums", "_hist_slot",
                     "_hist_reward")

    def _reset_index_stats(self) -> None:
        self._win_n = np.zeros(self.n_arms, dtype=np.int64)
        self._win_sums = np.zeros(self.n_arms)
        self._hist_slot = np.zeros(self.params.window, dtype=np.int64)
        self._hist_reward = np.zeros(self.params.window)

    def _index(self) -> np.ndarray:
        log_t = math.log(min(self.t, self.params.window))
        return _index(self._win_sums, self._win_n, log_t, self.params.xi)

    def _record(self, slot: int, reward: float, n: int) -> None:
        pos = (self.t - 1) % self.params.window
        if self.t > self.params.window:  # the play at pos leaves the window
            old = self._hist_slot[pos]
            self._win_n[old] -= 1
            self._win_sums[old] -= self._hist_reward[pos]
            if self._win_n[old] == 0:
                self._win_sums[old] = 0.0  # drop rounding left by add-then-subtract
        self._hist_slot[pos] = slot
        self._hist_reward[pos] = reward
        self._win_n[slot] += 1
        self._win_sums[slot] += reward

    def _slot_values(self) -> np.ndarray:
        """Means over the window (0 for arms without a play in it)."""
        return self._win_sums / np.maximum(self._win_n, 1)
