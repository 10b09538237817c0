"""``learnability``: sample arms by ``p(1 - p)``, the frontier of learnability.

Foster & Foerster (2025, "Learning to Reason at the Frontier of Learnability",
arXiv 2502.12272; after Tzannetos et al. 2023, ProCuRL, and Rutherford et al.
2024, SFL) train on the questions whose solve rate ``p`` makes ``p(1 - p)``
largest: a question solved by all or by none of its G rollouts has zero GRPO
advantage and teaches nothing, one solved half the time teaches most.

Here each arm keeps an estimate ``L_k`` of the mean ``p_i (1 - p_i)`` of its
examples (the ``learnability`` signal), an exponential average over the batches
that drew from it::

    L_k <- L_k + step_size * (learnability_k(batch) - L_k)

and every batch slot draws its arm with probability
``(1 - epsilon) L_k / sum_j L_j + epsilon / K``.

Choices where the paper (which rolls out every candidate question to measure
``p`` before training, at extra cost) does not fit a budget-matched teacher:
``p`` comes from the training rollouts themselves, per arm rather than per
question; an untried arm starts at the maximum, ``L = 1/4``, so each is tried
early; ``epsilon`` (default 0.05) keeps re-measuring arms whose estimate went to
zero, because an arm that is solved by none today may become learnable as the
model improves. Sampling is proportional (the issue's rule) rather than the
paper's top-k buffer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sparft.curricula import signals
from sparft.curricula.outcome import StepOutcome
from sparft.curricula.strategies._common import sample_slots
from sparft.curricula.teachers import Teacher, hp, register


@dataclass(frozen=True)
class LearnabilityParams:
    step_size: float = hp(0.5, "weight of the newest batch in each arm's p(1-p) estimate", low=0.05, high=1.0, log=True)
    epsilon: float = hp(0.05, "share of slots drawn uniformly (re-measures stale arms)", low=0.0, high=0.3)

    def __post_init__(self) -> None:
        if not 0.0 < self.step_size <= 1.0:
            raise ValueError(f"step_size must be in (0, 1], got {self.step_size}")
        if not 0.0 <= self.epsilon <= 1.0:
            raise ValueError(f"epsilon must be in [0, 1], got {self.epsilon}")


@register("learnability")
class Learnability(Teacher):
    """Learnability: draw each slot's arm in proportion to its estimated p(1-p)."""

    Params = LearnabilityParams
    action_mode = "arms"

    def __init__(self, arms, params=None, seed=None, **kw) -> None:
        super().__init__(arms, params, seed, **kw)
        self.signal = signals.get("learnability")
        self.estimate = np.full(self.n_arms, self.signal.high)

    def probabilities(self) -> np.ndarray:
        total = self.estimate.sum()
        p = self.estimate / total if total > 0 else np.full(self.n_arms, 1.0 / self.n_arms)
        eps = self.params.epsilon
        return (1.0 - eps) * p + eps / self.n_arms

    def act(self, obs: Any = None, info: Mapping[str, Any] | None = None) -> np.ndarray:
        return sample_slots(self.probabilities(), self.batch_size(info), self.rng)

    def observe(self, outcome: StepOutcome) -> None:
        super().observe(outcome)
        a = self.params.step_size
        for k, v in self.signal.per_arm(outcome).items():
            self.estimate[k] += a * (v - self.estimate[k])

    def _get_state(self) -> dict[str, Any]:
        return {"estimate": self.estimate.tolist()}

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self.estimate = np.asarray(state["estimate"], dtype=np.float64)
