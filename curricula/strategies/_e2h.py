"""``e2h``: E2H Reasoner's fixed easy-to-hard schedules (Parashar et al. 2025, arXiv 2506.06632).

The arms are ordered by mean difficulty (easiest first) and play the role of
E2H's task levels ``i = 0 .. K-1``. At update ``t`` of ``T`` each batch slot draws
a level from a schedule ``p_t(i)``, then the environment draws an example of that
arm:

* ``classic``  -- one level at a time: level ``min(floor(t K / T), K-1)``;
* ``balanced`` -- ``1/K`` each, throughout (the no-schedule control);
* ``cosine``   -- ``a_t = (1 + cos(pi t / T)) / 2`` mixes a distribution leaning
  easy, ``(K-i) / S``, with one leaning hard, ``(i+1) / S`` (``S = K(K+1)/2``):
  ``p = a_t early + (1-a_t) late``, floored at ``1/S`` and renormalised;
* ``gaussian`` -- a Gaussian bump over levels whose centre moves from the easiest
  to the hardest, ``mu_t = (t/T)^mu_exp (K-1)``, width ``sigma``, mixed with a
  uniform floor so every level keeps at least ``min_prob``:
  ``p = min_prob + (1 - K min_prob) q``.

The formulas follow the authors' released scheduler. Choices: ``T`` is the
run's budget in updates (``make(budget=...)`` or the environment's
``info["budget"]``); ``min_prob`` defaults to ``1/S = 2/(K(K+1))``, the floor the
authors' ``min_prob=True`` selects; the default schedule is ``cosine``, which
needs no tuning.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sparft.curricula.strategies._common import sample_slots
from sparft.curricula.teachers import Teacher, check_choice, hp, register

SCHEDULES = ("classic", "balanced", "cosine", "gaussian")


def schedule_probabilities(
    schedule: str, t: int, total: int, k: int, mu_exp: float = 0.5, sigma: float = 0.5,
    min_prob: float | None = None,
) -> np.ndarray:
    """``p_t(i)`` over ``k`` levels sorted easy to hard, at update ``t`` of ``total``."""
    frac = min(max(t, 0), total) / total
    levels = np.arange(k, dtype=np.float64)
    s = k * (k + 1) / 2.0
    if schedule == "classic":
        p = np.zeros(k)
        p[min(int(t * k / total), k - 1)] = 1.0
        return p
    if schedule == "balanced":
        return np.full(k, 1.0 / k)
    if schedule == "cosine":
        a = 0.5 * (1.0 + math.cos(math.pi * frac))
        p = a * (k - levels) / s + (1.0 - a) * (levels + 1.0) / s
        p = np.maximum(p, 1.0 / s)
        return p / p.sum()
    if schedule == "gaussian":
        floor = 1.0 / s if min_prob is None else float(min_prob)
        mu = frac**mu_exp * (k - 1)
        q = np.exp(-((levels - mu) ** 2) / (2.0 * sigma**2))
        q = q / q.sum()
        return floor + (1.0 - k * floor) * q
    raise ValueError(f"unknown schedule {schedule!r}; valid: {', '.join(SCHEDULES)}")


@dataclass(frozen=True)
class E2HParams:
    schedule: str = hp("cosine", "easy-to-hard schedule", choices=SCHEDULES)
    mu_exp: float = hp(0.5, "gaussian: exponent of t/T for the moving centre (<1 moves fast early)", low=0.25, high=2.0, log=True)
    sigma: float = hp(0.5, "gaussian: width of the bump, in levels", low=0.2, high=2.0, log=True)
    min_prob: float | None = hp(None, "gaussian: floor per level (None: 2/(K(K+1)))")

    def __post_init__(self) -> None:
        check_choice("schedule", self.schedule, SCHEDULES)
        if not self.mu_exp > 0:
            raise ValueError(f"mu_exp must be > 0, got {self.mu_exp}")
        if not self.sigma > 0:
            raise ValueError(f"sigma must be > 0, got {self.sigma}")
        if self.min_prob is not None and not self.min_prob >= 0.0:
            raise ValueError(f"min_prob must be >= 0, got {self.min_prob}")


@register("e2h")
class E2H(Teacher):
    """E2H Reasoner: fixed easy-to-hard schedules over arms sorted by difficulty."""

    Params = E2HParams
    action_mode = "arms"

    def __init__(self, arms, params=None, seed=None, **kw) -> None:
        super().__init__(arms, params, seed, **kw)
        mean = np.array([arms.difficulties(k).mean() for k in range(arms.n_arms)])
        # level i is arm order[i]; a stable sort keeps equal-difficulty arms in index order
        self.order = np.argsort(mean, kind="stable")
        p = self.params
        if p.min_prob is not None and arms.n_arms * p.min_prob > 1.0:
            raise ValueError(
                f"min_prob={p.min_prob} is too large for {arms.n_arms} arms: K * min_prob must be <= 1"
            )

    def probabilities(self, info: Mapping[str, Any] | None = None) -> np.ndarray:
        p = self.params
        levels = schedule_probabilities(
            p.schedule, self.steps, self.budget(info), self.n_arms, p.mu_exp, p.sigma, p.min_prob
        )
        out = np.empty(self.n_arms)
        out[self.order] = levels
        return out

    def act(self, obs: Any = None, info: Mapping[str, Any] | None = None) -> np.ndarray:
        return sample_slots(self.probabilities(info), self.batch_size(info), self.rng)
