"""``dump``: DUMP's UCB over arms on expected |advantage| (Wang et al. 2025, arXiv 2504.09710).

DUMP scores each data distribution (here: each arm) ``j`` by the mean absolute
GRPO advantage of its most recent rollouts -- a proxy for how much the policy can
still learn from it (all-solved and all-failed groups have zero advantage) --
plus a UCB exploration bonus, and samples the batch from a softmax over scores::

    score_j = mean(|A| over the last W rollouts of j) + c * sqrt(2 ln(N + 1) / (n_j + 1))
    p_j     = softmax(score_j / tau)

with ``n_j`` the rollouts drawn from ``j`` so far, ``N = sum_j n_j``, window
``W = 300``, ``c = 1`` and temperature ``tau = 0.1``, as in the authors'
released scheduler. Every batch slot draws its arm from ``p`` (mixed batches).
An arm never tried has an empty window (mean 0) and the largest bonus.

Why not a registered bandit plus the ``abs_advantage`` signal: DUMP samples a
softmax of UCB indices whose mean is windowed while the counts are not, which
none of the bandits in :mod:`sparft.bandits` does (their UCBs pick the argmax).
Choice: a "sample" is one rollout (so a group of G rollouts adds G values), as
in the released code.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sparft.curricula.outcome import StepOutcome
from sparft.curricula.strategies._common import arm_slices, sample_slots, softmax
from sparft.curricula.teachers import Teacher, hp, register


@dataclass(frozen=True)
class DUMPParams:
    window: int = hp(300, "rollouts per arm in the |advantage| window", low=50, high=2000, log=True)
    temperature: float = hp(0.1, "softmax temperature over UCB scores", low=0.01, high=1.0, log=True)
    exploration: float = hp(1.0, "weight c of the UCB bonus", low=0.0, high=2.0)

    def __post_init__(self) -> None:
        if int(self.window) != self.window or self.window < 1:
            raise ValueError(f"window must be a positive integer, got {self.window!r}")
        if not self.temperature > 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature}")
        if not self.exploration >= 0:
            raise ValueError(f"exploration must be >= 0, got {self.exploration}")


@register("dump")
class DUMP(Teacher):
    """DUMP: softmax over UCB scores of each arm's windowed mean |advantage|."""

    Params = DUMPParams
    action_mode = "arms"

    def __init__(self, arms, params=None, seed=None, **kw) -> None:
        super().__init__(arms, params, seed, **kw)
        w = int(self.params.window)
        self.windows: list[deque[float]] = [deque(maxlen=w) for _ in range(self.n_arms)]
        self.counts = np.zeros(self.n_arms, dtype=np.int64)

    def scores(self) -> np.ndarray:
        means = np.array([np.mean(w) if w else 0.0 for w in self.windows])
        total = self.counts.sum()
        bonus = np.sqrt(2.0 * np.log(total + 1.0) / (self.counts + 1.0))
        return means + self.params.exploration * bonus

    def probabilities(self) -> np.ndarray:
        return softmax(self.scores(), self.params.temperature)

    def act(self, obs: Any = None, info: Mapping[str, Any] | None = None) -> np.ndarray:
        return sample_slots(self.probabilities(), self.batch_size(info), self.rng)

    def observe(self, outcome: StepOutcome) -> None:
        super().observe(outcome)
        abs_adv = np.abs(outcome.advantages)
        for k, rows in enumerate(arm_slices(outcome.arms, self.n_arms)):
            if rows.size:
                values = abs_adv[rows].ravel()
                self.windows[k].extend(values.tolist())
                self.counts[k] += values.size

    def _get_state(self) -> dict[str, Any]:
        return {"windows": [list(w) for w in self.windows], "counts": self.counts.tolist()}

    def _set_state(self, state: Mapping[str, Any]) -> None:
        w = int(self.params.window)
        self.windows = [deque(map(float, v), maxlen=w) for v in state["windows"]]
        self.counts = np.asarray(state["counts"], dtype=np.int64)
