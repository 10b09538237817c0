"""``CurriculumFeed``: the teacher's side of any training engine, independent of TRL.

An engine that owns its training loop (TRL's ``GRPOTrainer``, verl, a Ray job) cannot
be driven step by step like :class:`~sparft.trainers.learner.GRPOLearner`; instead it
asks the feed for the next batch of prompts and reports their rollout rewards back:

    batch = feed.next_batch()              # teacher.act -> example ids (+ arms)
    ...engine samples G completions per prompt and scores them...
    feed.report(rewards)                   # (B, G) -> StepOutcome -> teacher.observe

The feed is the environment's step split in two halves. It turns the teacher's action
into example ids with the environment's own rule (:class:`sparft.envs.sampling.ArmTable`:
``arm`` -- B examples of that arm, each at most once unless the arm is smaller than B;
``arms`` -- one example per slot from that slot's arm; ``examples`` -- by index), and it
gives the teacher the environment's observation (per-arm solve rate, share of pulls,
progress, budget used) and ``info`` sizes. Batches are reported in the order they were
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

from sparft.curricula import signals
from sparft.curricula.arms import ArmSet
from sparft.curricula.outcome import StepOutcome, group_advantages
from sparft.envs.curriculum_env import observation
from sparft.envs.sampling import ArmTable

__all__ = ["Batch", "CurriculumFeed", "draw_batch"]


@dataclass(frozen=True)
class Batch:
    """The prompts of one update: ``example_ids[i]`` came from arm ``arms[i]``."""

    step: int
    example_ids: tuple[str, ...]
    arms: np.ndarray


def draw_batch(
    action: Any,
    mode: str,
    arms: ArmSet,
    batch_size: int,
    rng: np.random.Generator,
    table: ArmTable | None = None,
) -> tuple[list[str], np.ndarray]:
    """Example ids and their arms for one teacher action, drawn as ``CurriculumEnv.draw`` does."""
    table = table or ArmTable(arms.sizes)
    if mode == "arm":
        k = int(action)
        if not 0 <= k < arms.n_arms:
            raise ValueError(f"arm {k} is out of range for {arms.n_arms} arms")
        items = table.draw_arm(np.asarray(k), rng.random(table.max_size), batch_size)
        slot_arms = np.full(batch_size, k, dtype=np.int64)
    elif mode in ("arms", "examples"):
        act = np.asarray(action, dtype=np.int64).reshape(-1)
        bound = arms.n_arms if mode == "arms" else table.n_items
        if act.shape != (batch_size,) or act.min() < 0 or act.max() >= bound:
            raise ValueError(f"a {mode!r} action needs {batch_size} integers in [0, {bound})")
        if mode == "arms":
            slot_arms, items = act.copy(), table.draw_arms(act, rng.random(table.n_items))
        else:
            slot_arms, items = table.item_arm[act], act.copy()
    else:
        raise ValueError(f"unknown action_mode {mode!r}; use 'arm', 'arms' or 'examples'")
    ids = arms.ids
    return [ids[i] for i in items], np.asarray(slot_arms, dtype=np.int64)


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
        if batch_size < 1:
            raise ValueError(f"batch_size={batch_size} must be >= 1")
        self.teacher, self.arms, self.batch_size = teacher, arms, int(batch_size)
        self.budget, self.scale_rewards = budget, scale_rewards
        self.mode = getattr(teacher, "action_mode", "arm")
        self.table = ArmTable(arms.sizes)
        self.history = signals.ArmHistory(arms.n_arms)
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
        return {
            "step": self.step,
            "batch_size": self.batch_size,
            "group_size": self.group_size,
            "budget": self.budget,
            "n_arms": self.arms.n_arms,
            "action_mode": self.mode,
        }

    def observation(self) -> np.ndarray:
        """The environment's observation (budget share 0 when no budget was given)."""
        return observation(
            self.history, self.reported, self.budget or max(self.reported, 1) * 10**9
        )

    def next_batch(self) -> Batch:
        action = self.teacher.act(self.observation(), self.info())
        ids, arm_idx = draw_batch(
            action, self.mode, self.arms, self.batch_size, self.rng, self.table
        )
        batch = Batch(step=self.step, example_ids=tuple(ids), arms=arm_idx)
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
        self.history.update_stats(
            signals.batch_stats(outcome.rewards, outcome.advantages, outcome.arms, self.arms.n_arms)
        )
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
            "group_size": self.group_size,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.step = self.reported = int(state["step"])
        self.rng.bit_generator.state = dict(state["rng"])
        self.history.load_state_dict(state["history"])
        self.group_size = state.get("group_size")
        self._pending.clear()
        if state.get("teacher") is not None:
            self.teacher.load_state_dict(state["teacher"])
