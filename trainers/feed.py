"""``CurriculumFeed``: the teacher's side of any training engine, independent of TRL.

An engine that owns its training loop (TRL's ``GRPOTrainer``, verl, a Ray job) cannot
be driven step by step like :class:`~sparft.trainers.learner.GRPOLearner`; instead it
asks the feed for the next batch of prompts and reports their rollout rewards back:

    batch = feed.next_batch()              # teacher.act -> example ids (+ arms)
    ...engine samples G completions per prompt and scores them...
    feed.report(rewards)                   # (B, G) -> StepOutcome -> teacher.observe

The feed is the environment's step split in two halves over the same
:class:`~sparft.envs.core.CurriculumCore`: ``next_batch`` is the core's draw (``arm`` --
B examples of that arm, each at most once unless the arm is smaller than B; ``arms`` --
one example per slot from that slot's arm; ``examples`` -- by index), ``report`` is its
accounting (batch statistics once, history, budget), and the teacher sees the
environment's observation (per-arm solve rate, share of pulls, progress, budget used)
and ``info`` sizes. Batches are reported in the order they were
chosen; :attr:`pending` counts those chosen but not yet reported -- the lag between a
choice and its feedback that the engine imposes (0 for the TRL adapter, see
:mod:`sparft.trainers.trl_adapter`).

Every process of a distributed job builds its own feed with the same seed and the same
teacher seed and reports the same (gathered) rewards, so all make the same choices
without communication; :meth:`state_dict` makes the feed resumable.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sparft.curricula.arms import ArmSet
from sparft.curricula.outcome import StepOutcome, group_advantages
from sparft.envs.core import CurriculumCore

__all__ = ["Batch", "CurriculumFeed", "draw_batch"]


@dataclass(frozen=True)
class Batch:
    """The prompts of one update: ``example_ids[i]`` came from arm ``arms[i]``."""

    step: int
    example_ids: tuple[str, ...]
    arms: np.ndarray


def draw_batch(
    action: Any, mode: str, arms: ArmSet, batch_size: int, rng: np.random.Generator
) -> tuple[list[str], np.ndarray]:
    """Example ids and their arms for one teacher action, drawn as ``CurriculumEnv.draw`` does."""
    core = CurriculumCore(arms, batch_size, action_mode=mode)
    slot_arms, items = core.draw(action, rng)
    return list(core.example_ids(items)), slot_arms


class CurriculumFeed:
    """Chooses each update's prompts with a teacher and returns it the rollout outcomes.

    Args:
        teacher: any object with ``act(obs, info)`` and ``observe(outcome)`` (and
            optionally ``action_mode``, ``state_dict``, ``load_state_dict``).
        arms: the ArmSet the teacher chooses from.
        batch_size: B, distinct prompts per update (the engine repeats each G times).
        seed: seed of the draw from an arm (the teacher has its own).
        budget: the run's length in updates, passed to teachers that follow a schedule.
        scale_rewards: how the outcome's advantages are computed (``group`` or ``none``)
            when the engine does not pass its own.
    """

    def __init__(
        self,
        teacher: Any,
        arms: ArmSet,
        batch_size: int,
        *,
        seed: int = 0,
        budget: int | None = None,
        scale_rewards: str = "group",
    ) -> None:
        self.teacher, self.arms, self.scale_rewards = teacher, arms, scale_rewards
        self.mode = getattr(teacher, "action_mode", "arm")
        self.core = CurriculumCore(arms, batch_size, action_mode=self.mode, budget=budget)
        self.batch_size, self.budget = self.core.batch_size, self.core.budget
        self.history = self.core.history
        self.group_size: int | None = None
        self.rng = np.random.default_rng(seed)
        self.step = 0  # batches chosen so far
        self.reported = 0  # outcomes returned to the teacher so far
        self._pending: deque[tuple[Batch, float]] = deque()

    @property
    def pending(self) -> int:
        """Batches chosen whose outcomes have not been reported yet."""
        return len(self._pending)

    def info(self) -> dict[str, Any]:
        """The environment's ``info`` sizes."""
        return {**self.core.sizes(), "step": self.step, "group_size": self.group_size}

    def observation(self) -> np.ndarray:
        """The environment's observation (budget share 0 when no budget was given)."""
        return self.core.observation()

    def next_batch(self) -> Batch:
        action = self.teacher.act(self.observation(), self.info())
        arm_idx, items = self.core.draw(action, self.rng)
        batch = Batch(step=self.step, example_ids=self.core.example_ids(items), arms=arm_idx)
        self.step += 1
        self._pending.append((batch, time.perf_counter()))
        return batch

    def report(
        self,
        rewards: Any,
        tokens: Any = None,
        *,
        example_ids: Sequence[str] | None = None,
        advantages: Any = None,
        loss: float = 0.0,
        extra: Mapping[str, Any] | None = None,
    ) -> StepOutcome:
        """The ``(B, G)`` rewards of the oldest pending batch -> StepOutcome -> teacher."""
        t0 = time.perf_counter()
        if not self._pending:
            raise RuntimeError("report() without a pending batch: call next_batch() first")
        batch, chosen_at = self._pending[0]
        if example_ids is not None and tuple(example_ids) != batch.example_ids:
            raise ValueError(
                "reported example ids differ from the oldest pending batch: the engine "
                "reordered or dropped batches"
            )
        self._pending.popleft()
        rewards = np.asarray(rewards, dtype=np.float64).reshape(self.batch_size, -1)
        if advantages is None:
            advantages = group_advantages(rewards, scale=self.scale_rewards != "none")
        if tokens is None:
            tokens = np.zeros(rewards.shape, dtype=np.int64)
        outcome = StepOutcome(
            step=batch.step,
            example_ids=batch.example_ids,
            arms=batch.arms,
            rewards=rewards,
            advantages=np.asarray(advantages, dtype=np.float64).reshape(rewards.shape),
            tokens=np.asarray(tokens).reshape(rewards.shape),
            loss=loss,
            wall_time=t0 - chosen_at,
            extra=dict(extra or {}),
        )
        self.group_size = outcome.group_size
        self.core.spend(outcome)  # an engine that owns its loop evaluates on its own
        self.core.record(outcome)
        self.teacher.observe(outcome)
        self.reported += 1
        return outcome

    def state_dict(self) -> dict[str, Any]:
        if self._pending:
            raise RuntimeError(
                f"{self.pending} batches await their outcomes; checkpoint between updates"
            )
        teacher = self.teacher.state_dict() if hasattr(self.teacher, "state_dict") else None
        return {
            "step": self.step,
            "rng": self.rng.bit_generator.state,
            "teacher": teacher,
            "history": self.history.state_dict(),
            "spent": self.core.spent,
            "group_size": self.group_size,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.step = self.reported = int(state["step"])
        self.rng.bit_generator.state = dict(state["rng"])
        self.core.load_state_dict({**state, "t": self.step})
        self.group_size = state.get("group_size")
        self._pending.clear()
        if state.get("teacher") is not None:
            self.teacher.load_state_dict(state["teacher"])
