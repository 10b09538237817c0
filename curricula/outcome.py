"""What one GRPO update reports: the :class:`StepOutcome`.

Both learners (the :class:`~sparft.envs.SimulatedLearner` and the real
``GRPOLearner``) return one per ``train_step``; the environment puts it in
``info["outcome"]``; teachers observe it; every curriculum signal is a pure
function of outcomes. Arrays, not per-example objects, so that signals are
vectorised numpy and the outcome is cheap to build in the simulator.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np


def group_advantages(rewards: np.ndarray, scale: bool = True, eps: float = 1e-4) -> np.ndarray:
    """GRPO's group-normalised advantages over the last axis (the G rollouts of a prompt).

    ``A_ij = (r_ij - mean_j r_i) / (std_j r_i + eps)`` with the unbiased standard
    deviation when ``scale`` (TRL's default ``scale_rewards="group"``), else only the
    mean is removed (Dr. GRPO). A group whose rewards are all equal gets zero advantage.
    """
    rewards = np.asarray(rewards, dtype=np.float64)
    centred = rewards - rewards.mean(axis=-1, keepdims=True)
    if not scale:
        return centred
    g = rewards.shape[-1]
    std = rewards.std(axis=-1, ddof=1 if g > 1 else 0, keepdims=True)
    return centred / (std + eps)


@dataclass
class StepOutcome:
    """The result of one GRPO update on a batch of B prompts with G rollouts each.

    Attributes:
        step: index of the update (0-based) within the run.
        example_ids: the B example ids of the batch, in order.
        arms: shape ``(B,)``, the arm each example was drawn from.
        rewards: shape ``(B, G)``, the rollout rewards (1.0 = solved for pass/fail tasks).
        advantages: shape ``(B, G)``, the advantages used in the update.
        tokens: shape ``(B, G)``, completion tokens generated per rollout.
        loss: the policy loss of the update.
        wall_time: seconds the update took.
        eval: held-out metrics when the learner was evaluated after this step
            (e.g. ``{"accuracy": 0.41}``), else empty.
        extra: learner-specific numbers (KL, clip fraction, learning rate).
        stats: the batch statistics (:class:`~sparft.curricula.signals.BatchStats`),
            set once by the curriculum core that accounted for the step
            (:class:`~sparft.envs.core.CurriculumCore`); signals and teachers reuse them.
            Not part of equality.
    """

    step: int
    example_ids: tuple[str, ...]
    arms: np.ndarray
    rewards: np.ndarray
    advantages: np.ndarray
    tokens: np.ndarray
    loss: float = 0.0
    wall_time: float = 0.0
    eval: Mapping[str, float] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)
    stats: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.arms = np.asarray(self.arms, dtype=np.int64)
        self.rewards = np.asarray(self.rewards, dtype=np.float64)
        self.advantages = np.asarray(self.advantages, dtype=np.float64)
        self.tokens = np.asarray(self.tokens, dtype=np.int64)
        b = len(self.example_ids)
        if self.arms.shape != (b,):
            raise ValueError(f"arms has shape {self.arms.shape}, expected ({b},): one arm per example")
        if self.rewards.ndim != 2 or self.rewards.shape[0] != b:
            raise ValueError(f"rewards has shape {self.rewards.shape}, expected ({b}, G)")
        if self.advantages.shape != self.rewards.shape:
            raise ValueError(
                f"advantages has shape {self.advantages.shape}, expected {self.rewards.shape}"
            )
        if self.tokens.shape not in (self.rewards.shape, (b,)):
            raise ValueError(f"tokens has shape {self.tokens.shape}, expected {self.rewards.shape}")

    def __eq__(self, other: object) -> bool:
        # The generated dataclass __eq__ compares array fields with ``==``, whose
        # truth value is ambiguous; compare them element-wise instead (Gymnasium's
        # env checker compares infos that hold an outcome).
        if not isinstance(other, StepOutcome):
            return NotImplemented
        return (
            self.step == other.step
            and self.example_ids == other.example_ids
            and all(
                np.array_equal(getattr(self, f), getattr(other, f))
                for f in ("arms", "rewards", "advantages", "tokens")
            )
            and self.loss == other.loss
            and self.wall_time == other.wall_time
            and dict(self.eval) == dict(other.eval)
            and dict(self.extra) == dict(other.extra)
        )

    __hash__ = None  # mutable: not hashable (as the generated dataclass would be)

    @property
    def batch_size(self) -> int:
        return len(self.example_ids)

    @property
    def group_size(self) -> int:
        return int(self.rewards.shape[1])

    @property
    def n_tokens(self) -> int:
        return int(self.tokens.sum())

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form (for metrics lines and checkpoints)."""
        return {
            "step": self.step,
            "example_ids": list(self.example_ids),
            "arms": self.arms.tolist(),
            "rewards": self.rewards.tolist(),
            "advantages": self.advantages.tolist(),
            "tokens": self.tokens.tolist(),
            "loss": float(self.loss),
            "wall_time": float(self.wall_time),
            "eval": dict(self.eval),
            "extra": dict(self.extra),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StepOutcome:
        return cls(
            step=int(data["step"]),
            example_ids=tuple(data["example_ids"]),
            arms=np.asarray(data["arms"]),
            rewards=np.asarray(data["rewards"], dtype=np.float64),
            advantages=np.asarray(data["advantages"], dtype=np.float64),
            tokens=np.asarray(data["tokens"]),
            loss=float(data.get("loss", 0.0)),
            wall_time=float(data.get("wall_time", 0.0)),
            eval=dict(data.get("eval", {})),
            extra=dict(data.get("extra", {})),
        )
