"""``adarft``: AdaRFT's adaptive target difficulty (Shi et al. 2025, arXiv 2504.05520).

AdaRFT keeps a target difficulty ``T`` and, after every update, moves it with
the batch's mean reward ``R``::

    T <- clip(T + eta * tanh(alpha * (R - beta)), d_min, d_max)

then trains on the B examples whose difficulty ``d_i`` is nearest ``T``
(smallest ``|d_i - T|``). ``beta`` is the reward the curriculum aims for (0.5:
half the rollouts right); while ``R > beta`` the target rises, below it falls.

Difficulty here is the ArmSet's per-example difficulty in ``[0, 1]`` (1 = hardest),
so the paper's 0-100 scale is divided by 100: its ``eta = 50`` becomes ``0.5``.
Choices where the paper leaves room: ``T`` starts at the easiest end
(``target_init = 0``); ``d_min``/``d_max`` default to the pool's smallest and
largest difficulty; ties in ``|d_i - T|`` are broken at random (the teacher's
generator); ``R`` is the mean of all B x G rollout rewards (the ``solve_rate``
signal of the whole batch).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sparft.curricula import signals
from sparft.curricula.outcome import StepOutcome
from sparft.curricula.teachers import Teacher, hp, register


@dataclass(frozen=True)
class AdaRFTParams:
    eta: float = hp(0.5, "step size of the target (paper: 50 on a 0-100 scale)", low=0.01, high=1.0, log=True)
    alpha: float = hp(2.0, "sensitivity of tanh to the reward gap", low=0.5, high=10.0, log=True)
    beta: float = hp(0.5, "target mean reward: above it the target difficulty rises", low=0.2, high=0.8)
    target_init: float = hp(0.0, "initial target difficulty in [0, 1]")
    d_min: float | None = hp(None, "lowest target (None: the pool's easiest example)")
    d_max: float | None = hp(None, "highest target (None: the pool's hardest example)")

    def __post_init__(self) -> None:
        if not self.eta > 0:
            raise ValueError(f"eta must be > 0, got {self.eta}")
        if not self.alpha > 0:
            raise ValueError(f"alpha must be > 0, got {self.alpha}")
        if not 0.0 <= self.beta <= 1.0:
            raise ValueError(f"beta must be in [0, 1], got {self.beta}")
        for name in ("target_init", "d_min", "d_max"):
            v = getattr(self, name)
            if v is not None and not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {v}")
        if self.d_min is not None and self.d_max is not None and self.d_min > self.d_max:
            raise ValueError(f"d_min ({self.d_min}) must not exceed d_max ({self.d_max})")


@register("adarft")
class AdaRFT(Teacher):
    """AdaRFT: train on the examples nearest a target difficulty that follows the reward."""

    Params = AdaRFTParams
    action_mode = "examples"

    def __init__(self, arms, params=None, seed=None, **kw) -> None:
        super().__init__(arms, params, seed, **kw)
        self.difficulty = np.array([arms.difficulty[i] for i in arms.ids], dtype=np.float64)
        p = self.params
        self.d_min = float(self.difficulty.min()) if p.d_min is None else float(p.d_min)
        self.d_max = float(self.difficulty.max()) if p.d_max is None else float(p.d_max)
        self.target = float(np.clip(p.target_init, self.d_min, self.d_max))
        self.last_reward: float | None = None

    def act(self, obs: Any = None, info: Mapping[str, Any] | None = None) -> np.ndarray:
        b = min(self.batch_size(info), len(self.difficulty))
        # Random order first, then a stable sort: ties in distance are broken at random.
        perm = self.rng.permutation(len(self.difficulty))
        dist = np.abs(self.difficulty[perm] - self.target)
        chosen = perm[np.argsort(dist, kind="stable")[:b]]
        if b < self.batch_size(info):  # a pool smaller than a batch: repeat it
            chosen = np.resize(chosen, self.batch_size(info))
        return chosen.astype(np.int64)

    def observe(self, outcome: StepOutcome) -> None:
        super().observe(outcome)
        p = self.params
        reward = float(signals.batch_value("solve_rate", outcome))
        self.last_reward = reward
        step = p.eta * math.tanh(p.alpha * (reward - p.beta))
        self.target = float(np.clip(self.target + step, self.d_min, self.d_max))

    def _get_state(self) -> dict[str, Any]:
        return {"target": self.target, "last_reward": self.last_reward}

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self.target = float(state["target"])
        self.last_reward = state.get("last_reward")
