"""``CurriculumCore``: the curriculum step that every driver shares.

One step of any curriculum, whoever runs the training loop, is: turn the teacher's
action into a batch of examples, let the learner train on it, then account for the
outcome -- what it cost of the budget, whether a held-out evaluation is due, the
batch statistics (computed once, here, and carried in the outcome so that signals
and teachers reuse them), the per-arm history, the observation the teacher sees next.
The core owns exactly that and nothing about who calls it:

* :class:`~sparft.envs.CurriculumEnv` (Gymnasium) calls it inside ``step``: the learner
  is called in between, synchronously;
* :class:`~sparft.trainers.feed.CurriculumFeed` (TRL and any engine that owns its
  loop) splits it in two: ``draw`` at ``next_batch``, ``record`` at ``report``.

The random draw takes the driver's generator (the env's ``np_random``, the feed's own
``rng``), so seeding stays the driver's business.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from sparft.curricula import signals
from sparft.curricula.arms import ArmSet
from sparft.curricula.outcome import StepOutcome
from sparft.envs.sampling import ACTION_MODES, ArmTable

__all__ = ["BUDGET_UNITS", "CurriculumCore", "observation"]

#: What an episode's budget counts: GRPO updates, rollouts generated, or completion tokens.
BUDGET_UNITS = ("steps", "rollouts", "tokens")


def observation(history: signals.ArmHistory, t: int | np.ndarray, budget: int) -> np.ndarray:
    """``[solve_rate (K), share of pulls (K), progress (K), budget_used (1)]``, float32
    (any leading dimensions of the history)."""
    k = history.n_arms
    out = np.empty((*history.batch_shape, 3 * k + 1), dtype=np.float32)
    out[..., :k] = history.solve_rate
    total = history.examples.sum(axis=-1, keepdims=True)
    out[..., k : 2 * k] = history.examples / np.maximum(total, 1)
    out[..., 2 * k : 3 * k] = history.progress
    out[..., -1] = np.asarray(t) / budget
    return out


def _positive_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or int(value) != value or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


class CurriculumCore:
    """Batch draw, budget, evaluation schedule, statistics and history of one curriculum run.

    Args:
        arms: the ArmSet the teacher chooses from.
        batch_size: B, the examples of one update.
        action_mode: ``arm`` (one arm: B examples of it), ``arms`` (one arm per slot) or
            ``examples`` (one example index per slot).
        budget: the run's length in ``budget_unit`` (``None``: open-ended, as a feed
            driven by an engine that stops on its own; the observation's budget share
            is then 0).
        budget_unit: ``steps``, ``rollouts`` or ``tokens`` (see :meth:`cost`).
        eval_every: held-out evaluation each time the spent budget crosses a multiple
            of it, and at the end; ``0`` never; ``None`` only at the end.
        history_alpha: smoothing weight of the newest pull in the per-arm solve rate.
        oversample: slots per update are ``oversample * B`` candidates (filtering teachers).
    """

    def __init__(
        self,
        arms: ArmSet,
        batch_size: int,
        *,
        action_mode: str = "arm",
        budget: int | None = None,
        budget_unit: str = "steps",
        eval_every: int | None = None,
        history_alpha: float = 1.0,
        oversample: int = 1,
    ) -> None:
        self.batch_size = _positive_int(batch_size, "batch_size")
        self.budget = None if budget is None else _positive_int(budget, "budget")
        self.oversample = _positive_int(oversample, "oversample")
        if action_mode not in ACTION_MODES:
            raise ValueError(f"action_mode {action_mode!r} is not one of {', '.join(ACTION_MODES)}")
        if budget_unit not in BUDGET_UNITS:
            raise ValueError(f"budget_unit {budget_unit!r} is not one of {', '.join(BUDGET_UNITS)}")
        if eval_every is not None and (
            isinstance(eval_every, bool) or int(eval_every) != eval_every or eval_every < 0
        ):
            raise ValueError(
                "eval_every must be None (only at the end), 0 (never) or a positive "
                f"integer, got {eval_every!r}"
            )
        self.arms, self.action_mode, self.budget_unit = arms, action_mode, budget_unit
        self.eval_every = eval_every
        self.table = ArmTable(arms.sizes)
        self.ids = arms.ids
        self.history = signals.ArmHistory(arms.n_arms, alpha=history_alpha)
        self.t = 0  # updates accounted for
        self.spent = 0  # budget spent, in budget_unit

    @property
    def n_slots(self) -> int:
        """Examples rolled out per update: B, or ``oversample * B`` candidates."""
        return self.batch_size * self.oversample

    def reset(self) -> None:
        self.history.reset()
        self.t = self.spent = 0

    # ----------------------------------------------------------------- the step
    def draw(self, action: Any, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(arm of each slot, item index of each slot) for a teacher's action.

        ``arm``: the arm's examples in the order of uniform random keys, so each appears
        at most once per batch unless the arm is smaller than the batch; ``arms``: one
        example per slot from that slot's arm, the same way; ``examples``: as given.
        """
        table, b = self.table, self.n_slots
        if self.action_mode == "arm":
            arm = int(action)
            if not 0 <= arm < table.n_arms:
                raise ValueError(f"action {action!r} is not an arm in [0, {table.n_arms})")
            items = table.draw_arm(np.asarray(arm), rng.random(table.max_size), b)
            return np.full(b, arm, dtype=np.int64), items
        act = np.asarray(action, dtype=np.int64).reshape(-1)
        bound = table.n_arms if self.action_mode == "arms" else table.n_items
        if act.shape != (b,) or act.min() < 0 or act.max() >= bound:
            raise ValueError(
                f"action must be {b} integers in [0, {bound}) for action_mode={self.action_mode!r}"
            )
        if self.action_mode == "arms":
            return act.copy(), table.draw_arms(act, rng.random(table.n_items))
        return table.item_arm[act], act.copy()

    def example_ids(self, items: np.ndarray) -> tuple[str, ...]:
        return tuple(self.ids[i] for i in items)

    def cost(self, outcome: StepOutcome) -> int:
        """What one update spends of the budget: 1 step, its rollouts (every candidate a
        filtering teacher generated counts) or its generated tokens."""
        if self.budget_unit == "steps":
            return 1
        if self.budget_unit == "rollouts":
            return int(np.asarray(outcome.rewards).size)
        return int(outcome.n_tokens)

    def spend(self, outcome: StepOutcome) -> tuple[bool, bool]:
        """Account for one update; returns (evaluate now, the budget is spent)."""
        self.t += 1
        before, self.spent = self.spent, self.spent + self.cost(outcome)
        done = self.budget is not None and self.spent >= self.budget
        every = self.eval_every
        crossed = bool(every) and self.spent // every > before // every
        return crossed or (done and every != 0), done

    def record(
        self,
        outcome: StepOutcome,
        accuracy: float | None = None,
        signal: signals.Signal | None = None,
    ) -> tuple[signals.BatchStats, float | None]:
        """Statistics of an outcome, computed once and carried in it (``outcome.stats``,
        which signals and teachers reuse); ``signal``'s reward of the step, against the
        history as it was before; then the history updated. ``accuracy``: the held-out
        accuracy measured after this update, if any."""
        stats = signals.batch_stats(
            outcome.rewards, outcome.advantages, outcome.arms, self.arms.n_arms, accuracy
        )
        outcome.stats = stats
        reward = None if signal is None else float(signal.batch_values(stats, self.history))
        self.history.update_stats(stats)
        return stats, reward

    # ------------------------------------------------------------ what is seen
    def observation(self, t: int | None = None) -> np.ndarray:
        if self.budget is None:
            return observation(self.history, 0, 1)
        used = min(self.spent if t is None else t, self.budget)
        return observation(self.history, used, self.budget)

    def sizes(self) -> dict[str, Any]:
        """The ``info`` every driver gives its teacher."""
        return {
            "step": self.t,
            "batch_size": self.batch_size,
            "budget": self.budget,
            "budget_unit": self.budget_unit,
            "spent": self.spent,
            "n_arms": self.arms.n_arms,
            "action_mode": self.action_mode,
            "oversample": self.oversample,
        }

    # ---------------------------------------------------------------- resuming
    def state_dict(self) -> dict[str, Any]:
        return {"history": self.history.state_dict(), "t": int(self.t), "spent": int(self.spent)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.history.load_state_dict(state["history"])
        self.t = int(state["t"])
        self.spent = int(state.get("spent", self.t if self.budget_unit == "steps" else 0))
