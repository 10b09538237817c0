"""Curriculum signals: what a step outcome says about the arms it trained on.

A signal turns a :class:`~sparft.curricula.outcome.StepOutcome` into a number:
the environment returns it as the reward, a teacher scores arms with it. Every
signal is a pure function of outcomes; the two that look back in time
(``learning_progress``, ``accuracy_gain``) take the small :class:`ArmHistory`
explicitly, which the caller updates *after* scoring (``history.update(outcome)``).

Registered signals (``available()``), with ``p_i`` the solve rate of example
``i`` (mean of its G rollout rewards, rewards in ``[0, 1]``):

=========================  ===========  ==============================================
name                       range        value of a set of examples
=========================  ===========  ==============================================
``solve_rate``             [0, 1]       mean ``p_i``
``failure_rate``           [0, 1]       mean ``1 - p_i`` (SPaRFT favours hard arms)
``abs_advantage``          [0, 1]       mean ``|A_ig|`` over rollouts (GRPO's signal size;
                                        < sqrt((G-1)/G) for std-scaled advantages)
``learnability``           [0, 0.25]    mean ``p_i (1 - p_i)`` (Tzannetos et al. 2023;
                                        largest when half the rollouts succeed)
``learning_progress``      [-1, 1]      change of the arm's solve rate since its
                                        previous pull (Matiisen et al. 2017, TSCL)
``abs_learning_progress``  [0, 1]       ``|learning_progress|`` (also rewards forgetting)
``accuracy_gain``          [-1, 1]      held-out accuracy now minus at the last evaluation
=========================  ===========  ==============================================

Each :class:`Signal` answers at two granularities:

* ``per_arm(outcome, history)`` -> ``{arm: value}`` for the arms in the batch, for
  teachers whose batch mixes arms (each arm scored on its own examples);
* ``value(outcome, history)`` -> one float for the batch (the environment's
  reward): the mean of the per-arm values weighted by the arm's examples.

The array forms ``arm_values`` / ``batch_values`` take a :class:`BatchStats`
whose arrays may carry leading dimensions; the object forms are thin wrappers over
them, so every caller computes exactly the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sparft.curricula.outcome import StepOutcome
from sparft.registry import Registry

__all__ = [
    "SIGNALS",
    "ArmHistory",
    "BatchStats",
    "Signal",
    "available",
    "batch_stats",
    "batch_value",
    "get",
    "per_arm",
    "register",
    "signal_range",
]


# --------------------------------------------------------------------------- batch statistics
@dataclass
class BatchStats:
    """The per-example and per-arm numbers of one batch that every signal reads.

    Arrays may have leading dimensions ``...`` (one entry per environment).

    Attributes:
        rewards: ``(..., B, G)`` rollout rewards.
        advantages: ``(..., B, G)`` advantages.
        arms: ``(..., B)`` arm of each example.
        counts: ``(..., K)`` examples drawn from each arm.
        solve: ``(..., K)`` mean solve rate of each arm's examples (0 where ``counts == 0``).
        accuracy: ``(...)`` held-out accuracy measured after this update, NaN when not evaluated.
    """

    rewards: np.ndarray
    advantages: np.ndarray
    arms: np.ndarray
    counts: np.ndarray
    solve: np.ndarray
    accuracy: np.ndarray
    evaluated: bool = True  # False when no held-out accuracy came with the batch

    @property
    def n_arms(self) -> int:
        return int(self.counts.shape[-1])

    def arm_mean(self, per_example: np.ndarray) -> np.ndarray:
        """Mean of a ``(..., B)`` per-example quantity over each arm's examples (0 for absent arms)."""
        return _arm_mean(per_example, self.arms, self.counts)


def _onehot(arms: np.ndarray, n_arms: int) -> np.ndarray:
    return arms[..., :, None] == np.arange(n_arms)


def _arm_mean(x: np.ndarray, arms: np.ndarray, counts: np.ndarray) -> np.ndarray:
    sums = (x[..., :, None] * _onehot(arms, counts.shape[-1])).sum(axis=-2)
    return sums / np.maximum(counts, 1)


def batch_stats(
    rewards: np.ndarray,
    advantages: np.ndarray,
    arms: np.ndarray,
    n_arms: int,
    accuracy: float | np.ndarray | None = None,
) -> BatchStats:
    """:class:`BatchStats` from raw arrays (``rewards``/``advantages`` ``(..., B, G)``, ``arms`` ``(..., B)``)."""
    rewards = np.asarray(rewards, dtype=np.float64)
    advantages = np.asarray(advantages, dtype=np.float64)
    arms = np.asarray(arms, dtype=np.int64)
    if arms.size and (arms.min() < 0 or arms.max() >= n_arms):
        raise ValueError(f"arm indices must be in [0, {n_arms}), got {arms.min()}..{arms.max()}")
    per_example = rewards.mean(axis=-1)
    if arms.ndim == 1:  # one batch: bincount adds in the same order as the one-hot sum below
        counts = np.bincount(arms, minlength=n_arms)
        sums = np.bincount(arms, weights=per_example, minlength=n_arms)
    else:
        onehot = _onehot(arms, n_arms)
        counts = onehot.sum(axis=-2)
        sums = (per_example[..., :, None] * onehot).sum(axis=-2)
    solve = sums / np.maximum(counts, 1)
    lead = arms.shape[:-1]
    acc = (
        np.full(lead, np.nan)
        if accuracy is None
        else np.broadcast_to(np.asarray(accuracy, dtype=np.float64), lead).copy()
    )
    return BatchStats(rewards, advantages, arms, counts, solve, acc, accuracy is not None)


def _outcome_stats(outcome: StepOutcome, n_arms: int | None) -> BatchStats:
    acc = outcome.eval.get("accuracy") if outcome.eval else None
    carried = outcome.stats  # computed once by the curriculum core that ran the step
    if (
        isinstance(carried, BatchStats)
        and (n_arms is None or carried.n_arms == n_arms)  # absent arms only add zeros
        and carried.evaluated == (acc is not None)
    ):
        return carried
    if n_arms is None:
        n_arms = int(outcome.arms.max()) + 1 if outcome.arms.size else 1
    return batch_stats(outcome.rewards, outcome.advantages, outcome.arms, n_arms, acc)


# --------------------------------------------------------------------------- history
class ArmHistory:
    """What history-based signals remember about each arm; arrays of shape ``(*batch_shape, K)``.

    Attributes:
        solve_rate: solve rate of the arm at its last pull (exponentially smoothed
            with weight ``alpha`` on the newest pull; ``alpha=1``: the last pull only);
            0 before the first pull.
        pulls: updates that included the arm.
        examples: examples drawn from the arm.
        progress: the arm's last learning progress (0 before its second pull).
        accuracy: ``(*batch_shape)``, the last held-out accuracy seen, NaN before any.
        steps: outcomes observed.

    Score first, then update: ``reward = signal.value(outcome, h); h.update(outcome)``.
    """

    def __init__(self, n_arms: int, alpha: float = 1.0, batch_shape: tuple[int, ...] = ()) -> None:
        if int(n_arms) != n_arms or n_arms < 1:
            raise ValueError(f"n_arms must be a positive integer, got {n_arms!r}")
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"alpha (weight of the newest pull) must be in (0, 1], got {alpha}")
        self.n_arms = int(n_arms)
        self.alpha = float(alpha)
        self.batch_shape = tuple(batch_shape)
        self.reset()

    def reset(self) -> None:
        shape = (*self.batch_shape, self.n_arms)
        self.solve_rate = np.zeros(shape)
        self.pulls = np.zeros(shape, dtype=np.int64)
        self.examples = np.zeros(shape, dtype=np.int64)
        self.progress = np.zeros(shape)
        self.accuracy = np.full(self.batch_shape, np.nan)
        self.steps = np.zeros(self.batch_shape, dtype=np.int64)
        self._memo: tuple[BatchStats, tuple[np.ndarray, np.ndarray]] | None = None

    def next_solve_rate(self, stats: BatchStats) -> tuple[np.ndarray, np.ndarray]:
        """(smoothed solve rate after this batch, learning progress of this batch), per arm."""
        # Scoring a batch and then recording it asks the same question twice: remember the answer.
        if self._memo is not None and self._memo[0] is stats:
            return self._memo[1]
        pulled = stats.counts > 0
        seen = self.pulls > 0
        if self.alpha == 1.0:
            smoothed = stats.solve
        else:
            smoothed = np.where(
                seen, self.solve_rate + self.alpha * (stats.solve - self.solve_rate), stats.solve
            )
        new = np.where(pulled, smoothed, self.solve_rate)
        progress = np.where(pulled & seen, new - self.solve_rate, 0.0)
        self._memo = (stats, (new, progress))
        return new, progress

    def update_stats(self, stats: BatchStats) -> None:
        """Record one batch (the array form of :meth:`update`)."""
        pulled = stats.counts > 0
        new, progress = self.next_solve_rate(stats)
        self._memo = None
        self.progress = np.where(pulled, progress, self.progress)
        self.solve_rate = new
        self.pulls = self.pulls + pulled
        self.examples = self.examples + stats.counts
        if stats.evaluated:
            self.observe_eval(stats.accuracy)
        self.steps = self.steps + 1

    def update(self, outcome: StepOutcome) -> None:
        """Record one outcome (after the signals of that outcome were computed)."""
        self.update_stats(_outcome_stats(outcome, self.n_arms))

    def observe_eval(self, accuracy: float | np.ndarray) -> None:
        """Record a held-out accuracy measured outside a step (e.g. before training)."""
        acc = np.asarray(accuracy, dtype=np.float64)
        self.accuracy = np.where(np.isnan(acc), self.accuracy, acc)

    def copy(self) -> ArmHistory:
        new = ArmHistory(self.n_arms, self.alpha, self.batch_shape)
        new.load_state_dict(self.state_dict())
        return new

    def state_dict(self) -> dict[str, Any]:
        return {
            "n_arms": self.n_arms,
            "alpha": self.alpha,
            "solve_rate": self.solve_rate.tolist(),
            "pulls": self.pulls.tolist(),
            "examples": self.examples.tolist(),
            "progress": self.progress.tolist(),
            # NaN is not JSON: None stands for "no evaluation yet".
            "accuracy": np.where(np.isnan(self.accuracy), None, self.accuracy).tolist(),
            "steps": self.steps.tolist(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if int(state["n_arms"]) != self.n_arms:
            raise ValueError(
                f"history state has {state['n_arms']} arms, this history {self.n_arms}"
            )
        self.alpha = float(state.get("alpha", self.alpha))
        self.solve_rate = np.asarray(state["solve_rate"], dtype=np.float64)
        self.pulls = np.asarray(state["pulls"], dtype=np.int64)
        self.examples = np.asarray(state["examples"], dtype=np.int64)
        self.progress = np.asarray(state["progress"], dtype=np.float64)
        acc = np.asarray(state["accuracy"], dtype=object)
        self.accuracy = np.where(acc == None, np.nan, acc).astype(np.float64)  # noqa: E711
        self.steps = np.asarray(state["steps"], dtype=np.int64)
        self._memo = None


# --------------------------------------------------------------------------- signals
class Signal:
    """A named curriculum signal with a documented range.

    Subclasses implement :meth:`arm_values` (per arm, arrays) and may override
    :meth:`batch_values`; ``low``/``high`` bound every value the signal returns
    (teachers rescale from this range into a bandit's reward range).
    """

    name: str = ""
    low: float = 0.0
    high: float = 1.0
    needs_history: bool = False
    needs_eval: bool = False
    description: str = ""

    @property
    def range(self) -> tuple[float, float]:
        return (self.low, self.high)

    # ---------------------------------------------------------------- arrays
    def arm_values(self, stats: BatchStats, history: ArmHistory | None = None) -> np.ndarray:
        """``(..., K)``: the value of each arm on its examples in this batch (0 for absent arms)."""
        raise NotImplementedError

    def batch_values(self, stats: BatchStats, history: ArmHistory | None = None) -> np.ndarray:
        """``(...)``: the batch's value, the per-arm values weighted by the arm's examples."""
        values = self.arm_values(stats, history)
        return (values * stats.counts).sum(axis=-1) / stats.counts.sum(axis=-1)

    # --------------------------------------------------------------- objects
    def per_arm(self, outcome: StepOutcome, history: ArmHistory | None = None) -> dict[int, float]:
        """``{arm: value}`` for every arm with examples in ``outcome``."""
        self._check_history(history)
        stats = _outcome_stats(outcome, None if history is None else history.n_arms)
        values = self.arm_values(stats, history)
        return {int(k): float(values[k]) for k in np.flatnonzero(stats.counts)}

    def value(self, outcome: StepOutcome, history: ArmHistory | None = None) -> float:
        """The batch's value (the environment's reward for this step)."""
        self._check_history(history)
        stats = _outcome_stats(outcome, None if history is None else history.n_arms)
        return float(self.batch_values(stats, history))

    def _check_history(self, history: ArmHistory | None) -> None:
        if self.needs_history and history is None:
            raise ValueError(
                f"signal {self.name!r} looks back in time: pass history=ArmHistory(n_arms) "
                "and call history.update(outcome) after each outcome"
            )

    def __repr__(self) -> str:
        return f"Signal({self.name!r}, range=[{self.low}, {self.high}])"


class _ExampleSignal(Signal):
    """A signal that is the mean of a per-example quantity; needs no history."""

    def example_values(self, stats: BatchStats) -> np.ndarray:
        raise NotImplementedError

    def arm_values(self, stats: BatchStats, history: ArmHistory | None = None) -> np.ndarray:
        return stats.arm_mean(self.example_values(stats))

    def batch_values(self, stats: BatchStats, history: ArmHistory | None = None) -> np.ndarray:
        return self.example_values(stats).mean(axis=-1)


def _check_signal(name: str, signal: Any) -> Signal:
    instance = signal() if isinstance(signal, type) else signal
    if not isinstance(instance, Signal):
        raise ValueError(f"{name!r} is not a sparft.curricula.signals.Signal (got {signal!r})")
    if not instance.name:
        raise ValueError("a signal needs a non-empty name")
    if not instance.low <= instance.high:
        raise ValueError(f"signal {instance.name!r} has an empty range [{instance.low}, {instance.high}]")
    return instance


#: Every signal, by name (instances; a class is instantiated without arguments).
SIGNALS: Registry[Signal] = Registry(
    "signal", listing="sparft strategies", check=_check_signal, alternatives="'package.module:Signal'"
)


def register(signal: Signal | type[Signal]) -> Signal | type[Signal]:
    """Add a signal (an instance or a class, instantiated without arguments) to the registry."""
    instance = _check_signal(repr(signal), signal)
    if instance.name in SIGNALS:
        raise ValueError(f"signal {instance.name!r} is already registered")
    SIGNALS.register(instance.name, instance)
    return signal


def available() -> list[str]:
    """Names of the registered signals."""
    return SIGNALS.names()


def get(name: str | Signal) -> Signal:
    """The registered signal ``name``; a ``ValueError`` lists the valid names and the closest match."""
    if isinstance(name, Signal):
        return name
    return SIGNALS.get(name)


def signal_range(name: str | Signal) -> tuple[float, float]:
    """``(low, high)`` of a signal's values."""
    return get(name).range


def batch_value(
    name: str | Signal, outcome: StepOutcome, history: ArmHistory | None = None
) -> float:
    """``get(name).value(outcome, history)``."""
    return get(name).value(outcome, history)


def per_arm(
    name: str | Signal, outcome: StepOutcome, history: ArmHistory | None = None
) -> dict[int, float]:
    """``get(name).per_arm(outcome, history)``."""
    return get(name).per_arm(outcome, history)


@register
class SolveRate(_ExampleSignal):
    name = "solve_rate"
    description = "mean solve rate of the examples (mean rollout reward)"

    def example_values(self, stats: BatchStats) -> np.ndarray:
        return stats.rewards.mean(axis=-1)

    def arm_values(self, stats: BatchStats, history: ArmHistory | None = None) -> np.ndarray:
        return stats.solve


@register
class FailureRate(_ExampleSignal):
    name = "failure_rate"
    description = (
        "1 - solve rate: large on hard arms (SPaRFT's Thompson sampling on the negated solve rate)"
    )

    def example_values(self, stats: BatchStats) -> np.ndarray:
        return 1.0 - stats.rewards.mean(axis=-1)

    def arm_values(self, stats: BatchStats, history: ArmHistory | None = None) -> np.ndarray:
        return np.where(stats.counts > 0, 1.0 - stats.solve, 0.0)


@register
class AbsAdvantage(_ExampleSignal):
    name = "abs_advantage"
    description = "mean |advantage| over the rollouts: how much GRPO gradient the examples carry"

    def example_values(self, stats: BatchStats) -> np.ndarray:
        return np.abs(stats.advantages).mean(axis=-1)


@register
class Learnability(_ExampleSignal):
    name = "learnability"
    high = 0.25
    description = (
        "mean p(1-p) of the examples' solve rates: largest at p = 1/2 (Tzannetos et al. 2023)"
    )

    def example_values(self, stats: BatchStats) -> np.ndarray:
        p = stats.rewards.mean(axis=-1)
        return p * (1.0 - p)


@register
class LearningProgress(Signal):
    name = "learning_progress"
    low = -1.0
    needs_history = True
    description = (
        "change of the arm's (smoothed) solve rate since its previous pull; 0 on its first pull "
        "(Matiisen et al. 2017, Teacher-Student Curriculum Learning)"
    )

    def arm_values(self, stats: BatchStats, history: ArmHistory | None = None) -> np.ndarray:
        if history is None:
            raise ValueError(f"signal {self.name!r} needs an ArmHistory")
        return history.next_solve_rate(stats)[1]


@register
class AbsLearningProgress(LearningProgress):
    name = "abs_learning_progress"
    low = 0.0
    description = (
        "|learning progress|: also draws attention to arms being forgotten (Matiisen et al. 2017)"
    )

    def arm_values(self, stats: BatchStats, history: ArmHistory | None = None) -> np.ndarray:
        return np.abs(super().arm_values(stats, history))


@register
class AccuracyGain(Signal):
    name = "accuracy_gain"
    low = -1.0
    needs_history = True
    needs_eval = True
    description = (
        "held-out accuracy after this update minus at the previous evaluation; 0 when this update "
        "was not evaluated (credited to every arm of the batch)"
    )

    def batch_values(self, stats: BatchStats, history: ArmHistory | None = None) -> np.ndarray:
        if history is None:
            raise ValueError(f"signal {self.name!r} needs an ArmHistory")
        gain = stats.accuracy - history.accuracy
        return np.where(np.isnan(gain), 0.0, gain)

    def arm_values(self, stats: BatchStats, history: ArmHistory | None = None) -> np.ndarray:
        gain = self.batch_values(stats, history)
        return np.where(stats.counts > 0, np.asarray(gain)[..., None], 0.0)
