"""Rescaling a curriculum signal into the reward range a bandit accepts.

Bandits in :mod:`sparft.bandits` reject rewards outside their documented range
(EXP3 and UCB want ``[0, 1]``); signals have their own ranges (solve rate in
``[0, 1]``, learning progress in ``[-1, 1]``, mean ``|advantage|`` of a group in
``[0, 1]`` ...) or none at all. A composed teacher therefore maps
each value through one explicit rescaler, recorded in its parameters:

* ``none``     -- the value goes to the bandit unchanged (the bandit checks its range);
* ``linear``   -- the affine map of the signal's known range onto the bandit's range
  (a value outside that range, beyond float rounding, is an error, not a silent clip);
* ``quantile`` -- Graves et al. (2017, "Automated Curriculum Learning for Neural
  Networks", ICML, arXiv 1704.03003, section 4): with ``q_lo``/``q_hi`` the 20th and
  80th percentiles of the rewards seen so far, ``r = -1`` below ``q_lo``, ``+1``
  above ``q_hi`` and ``2 (x - q_lo) / (q_hi - q_lo) - 1`` between; ``[-1, 1]`` is
  then mapped affinely onto the bandit's range. It needs no known range and is
  robust to the signal's scale drifting over training.

Choices for ``quantile`` the paper leaves open: the history includes the value
being rescaled (so the first value is defined), ``q_lo == q_hi`` gives the
midpoint, and the history is a reservoir sample (Vitter's algorithm R) of at
most ``history`` values, as Graves et al. bound it, drawn with the teacher's
generator so that it is reproducible.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from sparft.registry import Registry

Range = tuple[float, float]

#: Every rescaler, by name: :class:`Rescaler` subclasses, built by ``cls.build(source, target, ...)``.
RESCALERS: Registry[type[Rescaler]] = Registry(
    "rescaler",
    listing="sparft strategies",
    alternatives="'auto' (picked from the signal's and the bandit's ranges)",
)


def _finite(r: Range) -> bool:
    return math.isfinite(r[0]) and math.isfinite(r[1])


class Rescaler:
    """Maps one raw signal value to a bandit reward; stateful where it learns the scale."""

    kind = "none"

    def __init__(self, target: Range) -> None:
        self.target = (float(target[0]), float(target[1]))

    @classmethod
    def build(cls, source: Range, target: Range, **options: Any) -> Rescaler:
        """The rescaler for a signal's ``source`` range and a bandit's ``target`` range;
        ``options`` are the composed teacher's (``history``, ``low_q``, ``high_q``)."""
        del source, options
        return cls(target)

    def __call__(self, value: float, rng: np.random.Generator | None = None) -> float:
        return float(value)

    def state(self) -> dict[str, Any]:
        return {}

    def load(self, state: Mapping[str, Any]) -> None:
        del state

    def _onto_target(self, unit: float) -> float:
        """``unit`` in [0, 1] onto the target range, clamped against rounding."""
        lo, hi = self.target
        return float(min(max(lo + unit * (hi - lo), lo), hi))


class LinearRescaler(Rescaler):
    """The affine map of a known ``source`` range onto the bandit's ``target`` range."""

    kind = "linear"

    def __init__(self, source: Range, target: Range) -> None:
        super().__init__(target)
        if not (_finite(source) and _finite(target)):
            raise ValueError(
                f"linear rescaling needs finite ranges, got signal {source} and bandit {target}; "
                "use rescale='quantile' for an unbounded signal"
            )
        if source[1] <= source[0]:
            raise ValueError(f"signal range {source} is empty")
        self.source = (float(source[0]), float(source[1]))

    @classmethod
    def build(cls, source: Range, target: Range, **options: Any) -> Rescaler:
        del options
        return cls(source, target)

    def __call__(self, value: float, rng: np.random.Generator | None = None) -> float:
        lo, hi = self.source
        unit = (float(value) - lo) / (hi - lo)
        # A hair outside the range is float rounding (clamped below); more means the
        # signal broke its documented range, which clamping would hide.
        if not -1e-9 <= unit <= 1.0 + 1e-9:
            raise ValueError(
                f"signal value {value} lies outside its documented range [{lo:g}, {hi:g}]; "
                "use rescale='quantile' for a signal without a fixed range"
            )
        return self._onto_target(unit)


class QuantileRescaler(Rescaler):
    """Graves et al. (2017): rescale by the 20th/80th percentiles of past values."""

    kind = "quantile"

    def __init__(
        self, target: Range, low_q: float = 0.2, high_q: float = 0.8, history: int = 1000
    ) -> None:
        super().__init__(target)
        if not _finite(target):
            raise ValueError(
                f"quantile rescaling maps onto a bounded range, but the bandit accepts {target}; "
                "use rescale='none'"
            )
        if not 0.0 <= low_q < high_q <= 1.0:
            raise ValueError(f"need 0 <= low_q < high_q <= 1, got {low_q}, {high_q}")
        if history < 1:
            raise ValueError(f"history must be >= 1, got {history}")
        self.low_q, self.high_q, self.history = float(low_q), float(high_q), int(history)
        self.values: list[float] = []
        self.seen = 0

    @classmethod
    def build(
        cls, source: Range, target: Range, *, history: int = 1000, low_q: float = 0.2, high_q: float = 0.8, **options: Any
    ) -> Rescaler:
        del source, options
        return cls(target, low_q=low_q, high_q=high_q, history=history)

    def _remember(self, value: float, rng: np.random.Generator | None) -> None:
        self.seen += 1
        if len(self.values) < self.history:
            self.values.append(value)
            return
        if rng is None:
            raise ValueError("a full quantile history needs the teacher's generator to sample from")
        j = int(rng.integers(self.seen))
        if j < self.history:
            self.values[j] = value

    def __call__(self, value: float, rng: np.random.Generator | None = None) -> float:
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"cannot rescale a non-finite signal value {value}")
        self._remember(value, rng)
        q_lo, q_hi = np.quantile(self.values, [self.low_q, self.high_q])
        if q_hi <= q_lo:
            unit = 0.5
        elif value <= q_lo:
            unit = 0.0
        elif value >= q_hi:
            unit = 1.0
        else:
            unit = (value - q_lo) / (q_hi - q_lo)
        return self._onto_target(unit)

    def state(self) -> dict[str, Any]:
        return {"values": list(self.values), "seen": self.seen}

    def load(self, state: Mapping[str, Any]) -> None:
        self.values = [float(v) for v in state.get("values", [])]
        self.seen = int(state.get("seen", len(self.values)))


def resolve(kind: str, source: Range, target: Range) -> str:
    """The rescaler ``auto`` stands for, given the signal's and the bandit's ranges.

    ``none`` when the signal's range already lies inside the bandit's; otherwise
    ``linear`` when both ranges are bounded, else ``quantile``.
    """
    if kind != "auto":
        RESCALERS.get(kind)  # an unknown name: the registry's one-line error
        return kind
    if target[0] <= source[0] and source[1] <= target[1]:
        return "none"
    if _finite(source) and _finite(target):
        return "linear"
    return "quantile"


def make_rescaler(
    kind: str,
    source: Range,
    target: Range,
    *,
    history: int = 1000,
    low_q: float = 0.2,
    high_q: float = 0.8,
) -> Rescaler:
    """Build the rescaler named ``kind`` (``auto`` resolved by :func:`resolve`)."""
    kind = resolve(kind, source, target)
    return RESCALERS.get(kind).build(source, target, history=history, low_q=low_q, high_q=high_q)


RESCALERS.register("none", Rescaler, summary="the value goes to the bandit unchanged (it checks its range)")
RESCALERS.register("linear", LinearRescaler)
RESCALERS.register("quantile", QuantileRescaler)
