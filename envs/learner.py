"""The ``Learner`` protocol: what the environment drives, simulated or real.

``SimulatedLearner`` (this folder) and ``GRPOLearner`` (``sparft.trainers``)
both satisfy it, so every teacher runs unchanged on either.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from sparft.curricula.outcome import StepOutcome


@runtime_checkable
class Learner(Protocol):
    """A policy that GRPO can update one batch at a time.

    ``train_step`` receives the batch's example ids and the arm each came from
    and performs exactly one policy update, returning its :class:`StepOutcome`
    (rewards in ``[0, 1]``: the curriculum signals assume pass/fail-like rewards).
    ``evaluate`` returns held-out metrics (at least ``"accuracy"``) on a fixed
    split. ``reset(seed)`` returns to the initial policy (a new training run) and
    seeds the learner's own randomness. ``state_dict`` / ``load_state_dict`` make a
    run resumable.

    Optional attributes that :class:`~sparft.envs.CurriculumEnv` reads when present:
    ``arms`` (the :class:`~sparft.curricula.arms.ArmSet` it trains on, so that
    ``arms=`` may be left out) and ``group_size`` (G, checked against the env's).
    """

    def train_step(
        self, example_ids: Sequence[str], arms: np.ndarray, step: int
    ) -> StepOutcome: ...

    def evaluate(self, split: str = "test") -> Mapping[str, float]: ...

    def reset(self, seed: int | None = None) -> None: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...
