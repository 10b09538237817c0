"""``bandit_signal``: any registered bandit driven by any registered signal.

The composition the issue asks for: a strategy that is "a bandit plus a signal"
is built from the two registries, never copied. Each update goes

    outcome --signal--> per-arm value --transform--> score --rescale--> bandit reward

* **signal** -- a name from :mod:`sparft.curricula.signals`, or a mapping
  ``{name: weight}`` for a weighted sum of signals (``sparft_lp`` uses
  ``{"solve_rate": -1, "abs_learning_progress": 1}``). Each arm in the batch is
  scored on its own examples (``Signal.per_arm``); the teacher keeps the
  :class:`~sparft.curricula.signals.ArmHistory` that history-based signals need.
* **transform** -- ``identity``; ``negate`` (``-x``: SPaRFT's negated solve rate);
  ``one_minus`` (``1 - x``); ``abs``; ``target`` (``1 - |x - target| / max(target,
  1 - target)``, 1 at the target, for signals in ``[0, 1]``).
* **rescale** -- into the bandit's documented ``reward_range`` (bandits raise on
  anything outside it, they never clip): ``none``, ``linear`` (the transformed
  signal's known range onto the bandit's) or ``quantile`` (Graves et al. 2017);
  ``auto`` picks ``none`` when the range already fits, else ``linear`` when both
  ranges are bounded, else ``quantile`` (see :mod:`sparft.curricula.rescaling`).
  The choice made is shown by :meth:`BanditSignal.pipeline`.
* **slots** -- ``one``: the bandit picks one arm per update (action mode ``"arm"``);
  ``sample``: each of the B slots gets its own arm (action mode ``"arms"``), drawn
  from the bandit's ``probabilities()`` when it has them, else one ``select()``
  per slot (Thompson sampling then draws a fresh posterior sample per slot).
  After the update every arm in the batch gets one ``update`` with its own value,
  in arm order.

The bandit's randomness is seeded from the teacher's seed, so one seed fixes both.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sparft import bandits
from sparft.curricula import signals
from sparft.curricula.outcome import StepOutcome
from sparft.curricula.rescaling import RESCALERS, make_rescaler, resolve
from sparft.curricula.strategies._common import sample_slots
from sparft.curricula.teachers import Teacher, check_choice, hp, register

TRANSFORMS = ("identity", "negate", "one_minus", "abs", "target")
#: the rescalers a sweep tries (any registered rescaler, ``rescaling.RESCALERS``, is accepted)
RESCALES = ("auto", "none", "linear", "quantile")
SLOTS = ("one", "sample")

Range = tuple[float, float]


def transform_range(kind: str, lo: float, hi: float) -> Range:
    """The range of ``transform(x)`` for ``x`` in ``[lo, hi]``."""
    if kind == "identity":
        return (lo, hi)
    if kind == "negate":
        return (0.0 - hi, 0.0 - lo)  # 0.0 - x: no "-0" in messages
    if kind == "one_minus":
        return (1.0 - hi, 1.0 - lo)
    if kind == "abs":
        inner = 0.0 if lo <= 0.0 <= hi else min(abs(lo), abs(hi))
        return (inner, max(abs(lo), abs(hi)))
    if kind == "target":
        return (0.0, 1.0)
    raise ValueError(f"unknown transform {kind!r}; valid: {', '.join(TRANSFORMS)}")


def apply_transform(kind: str, x: float, target: float) -> float:
    if kind == "identity":
        return x
    if kind == "negate":
        return -x
    if kind == "one_minus":
        return 1.0 - x
    if kind == "abs":
        return abs(x)
    # target: 1 at the target, falling linearly to 0 at the farther end of [0, 1]
    return 1.0 - abs(x - target) / max(target, 1.0 - target)


def signal_weights(signal: str | Mapping[str, float]) -> dict[str, float]:
    """``{name: weight}`` of a signal spec (a single name has weight 1); names are checked."""
    weights = {signal: 1.0} if isinstance(signal, str) else {str(k): float(v) for k, v in dict(signal).items()}
    if not weights:
        raise ValueError("signal needs at least one signal name")
    for name, w in weights.items():
        signals.get(name)  # the registry's error lists the valid names
        if not math.isfinite(w):
            raise ValueError(f"signal weight of {name!r} must be finite, got {w}")
    return weights


def merge_knobs(params: Any, bandit: str, knobs: Mapping[str, Any]) -> None:
    """Write a preset's top-level bandit hyperparameters into ``params.bandit_params``.

    Applies only when ``params.bandit`` is ``bandit`` (another bandit has other
    hyperparameters). The top-level knob wins over the same key in ``bandit_params``:
    it is the one configs, sweeps and ``sparft strategies`` show, and a resolved
    config (which spells out every bandit default) stays editable through it.
    """
    merged = dict(params.bandit_params)
    if params.bandit == bandit:
        merged.update(knobs)
    object.__setattr__(params, "bandit_params", merged)


def combined_range(weights: Mapping[str, float]) -> Range:
    lo = hi = 0.0
    for name, w in weights.items():
        s_lo, s_hi = signals.signal_range(name)
        lo += min(w * s_lo, w * s_hi)
        hi += max(w * s_lo, w * s_hi)
    return (lo, hi)


@dataclass(frozen=True)
class BanditSignalParams:
    bandit: str = hp("thompson_gaussian", "a registered bandit (sparft bandits lists them)")
    bandit_params: dict = hp({}, "hyperparameters of the bandit")
    signal: Any = hp("solve_rate", "a registered signal, or {signal: weight} for a weighted sum")
    transform: str = hp("identity", "applied to the signal value before rescaling", choices=TRANSFORMS)
    target: float = hp(0.5, "transform=target: the signal value scored 1", low=0.2, high=0.8)
    rescale: str = hp("auto", "into the bandit's reward range", choices=RESCALES)
    quantile_history: int = hp(1000, "rescale=quantile: values kept (reservoir) for the percentiles")
    slots: str = hp("one", "one arm per update (action 'arm') or one per batch slot ('arms')", choices=SLOTS)
    history_alpha: float = hp(1.0, "weight of the newest pull in the per-arm solve rate behind learning progress")

    def __post_init__(self) -> None:
        check_choice("transform", self.transform, TRANSFORMS)
        if self.rescale != "auto":
            RESCALERS.get(self.rescale)  # an unknown name: the registry's one-line error
        check_choice("slots", self.slots, SLOTS)
        if not isinstance(self.bandit, str):
            raise ValueError(f"bandit must be a name, got {self.bandit!r}")
        if not isinstance(self.bandit_params, Mapping):
            raise ValueError(f"bandit_params must be a mapping, got {self.bandit_params!r}")
        if not isinstance(self.signal, str | Mapping):
            raise ValueError(f"signal must be a name or a mapping of names to weights, got {self.signal!r}")
        if isinstance(self.signal, Mapping):
            object.__setattr__(self, "signal", {str(k): float(v) for k, v in self.signal.items()})
        object.__setattr__(self, "bandit_params", dict(self.bandit_params))
        if not 0.0 < self.target < 1.0:
            raise ValueError(f"target must be in (0, 1), got {self.target}")
        if int(self.quantile_history) != self.quantile_history or self.quantile_history < 1:
            raise ValueError(f"quantile_history must be a positive integer, got {self.quantile_history!r}")
        if not 0.0 < self.history_alpha <= 1.0:
            raise ValueError(f"history_alpha must be in (0, 1], got {self.history_alpha}")


@register("bandit_signal", listed=False)
class BanditSignal(Teacher):
    """Any registered bandit over arms, rewarded by any registered signal."""

    Params = BanditSignalParams

    @classmethod
    def action_mode_for(cls, params: Any) -> str:
        return "arm" if params.slots == "one" else "arms"

    def __init__(self, arms, params=None, seed=None, **kw) -> None:
        super().__init__(arms, params, seed, **kw)
        p = self.params
        self.action_mode = self.action_mode_for(p)
        self.weights = signal_weights(p.signal)
        source = combined_range(self.weights)
        if p.transform == "target" and not (source[0] >= 0.0 and source[1] <= 1.0):
            raise ValueError(
                f"transform='target' needs a signal in [0, 1]; {p.signal!r} ranges over {list(source)}"
            )
        self.score_range = transform_range(p.transform, *source)
        self.bandit = bandits.make(
            p.bandit, self.n_arms, seed=int(self.rng.integers(2**63 - 1)), **p.bandit_params
        )
        self.reward_range: Range = tuple(map(float, self.bandit.reward_range))
        self.rescale_kind = resolve(p.rescale, self.score_range, self.reward_range)
        self.rescaler = make_rescaler(
            self.rescale_kind, self.score_range, self.reward_range, history=p.quantile_history
        )
        self.history = signals.ArmHistory(self.n_arms, alpha=p.history_alpha)
        self.last_rewards: dict[int, float] = {}

    def pipeline(self) -> str:
        """One line saying how outcomes become bandit rewards (for logs and ``sparft strategies``)."""
        p = self.params
        sig = p.signal if isinstance(p.signal, str) else " + ".join(f"{w:g}*{n}" for n, w in self.weights.items())
        lo, hi = self.score_range
        blo, bhi = self.reward_range
        return (
            f"{sig} -> {p.transform} [{lo:g}, {hi:g}] -> {self.rescale_kind} "
            f"-> {p.bandit} [{blo:g}, {bhi:g}], slots={p.slots}"
        )

    def probabilities(self) -> np.ndarray | None:
        return self.bandit.probabilities()

    def act(self, obs: Any = None, info: Mapping[str, Any] | None = None) -> int | np.ndarray:
        # accuracy_gain compares with the previous evaluation; the one before training
        # reaches the teacher only through reset's info (later ones come in outcomes).
        acc = (info or {}).get("eval", {}).get("accuracy")
        if acc is not None and np.ndim(acc) == 0 and np.isnan(self.history.accuracy):
            self.history.observe_eval(float(acc))
        if self.params.slots == "one":
            return int(self.bandit.select())
        b = self.batch_size(info)
        probs = self.bandit.probabilities()
        if probs is not None:
            return sample_slots(probs, b, self.rng)
        return np.array([self.bandit.select() for _ in range(b)], dtype=np.int64)

    def scores(self, outcome: StepOutcome) -> dict[int, float]:
        """Transformed signal value of each arm in the batch (before rescaling)."""
        total: dict[int, float] = {}
        for name, w in self.weights.items():
            for k, v in signals.get(name).per_arm(outcome, self.history).items():
                total[k] = total.get(k, 0.0) + w * v
        p = self.params
        return {k: apply_transform(p.transform, v, p.target) for k, v in sorted(total.items())}

    def observe(self, outcome: StepOutcome) -> None:
        super().observe(outcome)
        scores = self.scores(outcome)
        self.history.update(outcome)
        self.last_rewards = {}
        for k, v in scores.items():
            r = self.rescaler(v, self.rng)
            self.last_rewards[k] = r
            self.bandit.update(k, r)

    def _get_state(self) -> dict[str, Any]:
        return {
            "bandit": self.bandit.state_dict(),
            "history": self.history.state_dict(),
            "rescaler": self.rescaler.state(),
        }

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self.bandit.load_state_dict(state["bandit"])
        self.history.load_state_dict(state["history"])
        self.rescaler.load(state.get("rescaler", {}))
