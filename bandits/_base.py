"""The contract every bandit keeps, and the hyperparameter dataclass it is built from.

``Bandit`` is the per-step contract: ``select() -> arm``,
``update(arm, reward)``, ``probabilities()``, ``values()``, ``reset()``,
``state_dict()`` / ``load_state_dict()``. Subclasses hold their statistics in
the attributes named by ``_state_fields`` and draw from ``self.rng``, one
``numpy.random.Generator``; the base class turns the statistics into plain
JSON-able data (and back), together with the generator's state, so that a run
stopped mid-way continues with identical draws.

``Hyperparameters`` is the base of each algorithm's frozen dataclass: fields are
declared with ``hp(default, help, low=, high=, log=)`` (the one-line help and a
sensible sweep range travel with the field), types are checked and coerced
(an int where a float is expected, an integral float where an int is), and
``validate`` checks ranges. The same dataclass feeds configs, sweeps and
``sparft bandits``.
"""

from __future__ import annotations

import difflib
import math
import numbers
import operator
import types
import typing
from collections.abc import Mapping
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any, ClassVar

import numpy as np

__all__ = ["REAL_REWARDS", "UNIT_REWARDS", "Bandit", "Hyperparameters", "hp"]

#: Rewards in [0, 1]: what the bounded-reward analyses (UCB, KL-UCB, EXP3, Beta) assume.
UNIT_REWARDS = (0.0, 1.0)
#: Real-valued rewards. The bound keeps every running statistic finite for
#: millions of steps; rescale rewards that are larger.
REAL_REWARDS = (-1e12, 1e12)

# 2: the random state is one numpy Generator's (format 1 held several prefetched streams).
FORMAT_VERSION = 2


def hp(default: Any, help: str, *, low: float | None = None, high: float | None = None,
       log: bool = False) -> Any:
    """A hyperparameter field: its default, one line of help, and the range a sweep
    should search (``low``/``high``, on a log scale when ``log``), not the valid range."""
    return field(default=default, metadata={"help": help, "low": low, "high": high, "log": log})


def check_range(name: str, value: float | None, low: float | None = None,
                high: float | None = None, *, low_open: bool = False,
                high_open: bool = False) -> None:
    """Raise ``ValueError`` unless ``value`` lies in the given interval (None passes)."""
    if value is None:
        return
    if low is not None and (value <= low if low_open else value < low):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}, got {value}")
    if high is not None and (value >= high if high_open else value > high):
        raise ValueError(f"{name} must be {'<' if high_open else '<='} {high}, got {value}")


def _type_name(tp: Any) -> str:
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        return " | ".join(_type_name(a) for a in typing.get_args(tp))
    return "None" if tp is type(None) else getattr(tp, "__name__", str(tp))


def _coerce(name: str, value: Any, tp: Any) -> Any:
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        (tp,) = [a for a in args if a is not type(None)]
    if tp is bool:
        if isinstance(value, bool | np.bool_):
            return bool(value)
    elif tp is int:
        if isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_):
            return int(value)
        if isinstance(value, numbers.Real) and float(value).is_integer():
            return int(value)  # 100.0 from a YAML file or a float sweep
    elif tp is float:
        if isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_):
            value = float(value)
            if math.isfinite(value):
                return value
            raise ValueError(f"{name} must be finite, got {value}")
    elif tp is str:
        if isinstance(value, str):
            return value
    else:  # pragma: no cover - a new field type needs a rule here
        return value
    raise ValueError(f"{name} must be {_type_name(tp)}, got {value!r}")


@dataclass(frozen=True)
class Hyperparameters:
    """Base of every algorithm's hyperparameters: typed, frozen, validated."""

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for f in fields(self):
            value = getattr(self, f.name)
            coerced = _coerce(f.name, value, hints[f.name])
            if coerced is not value:
                object.__setattr__(self, f.name, coerced)
        self.validate()

    def validate(self) -> None:
        """Check ranges; raise ``ValueError`` naming the field and the valid range."""

    @classmethod
    def describe(cls) -> list[dict]:
        """One JSON-able dict per field: name, type, default, help, sweep range."""
        hints = typing.get_type_hints(cls)
        out = []
        for f in fields(cls):
            default = None if f.default is MISSING else f.default
            out.append({
                "name": f.name,
                "type": _type_name(hints[f.name]),
                "default": default,
                "help": f.metadata.get("help", ""),
                "low": f.metadata.get("low"),
                "high": f.metadata.get("high"),
                "log": bool(f.metadata.get("log", False)),
            })
        return out

    @classmethod
    def listing(cls) -> str:
        names = [f"{f.name} (default {f.default!r})" for f in fields(cls)]
        return ", ".join(names) if names else "none"

    @classmethod
    def build(cls, label: str, params: Mapping[str, Any]) -> Hyperparameters:
        """Construct from keyword values; any problem is a one-line ``ValueError``
        that names the algorithm and its valid hyperparameters."""
        valid = [f.name for f in fields(cls)]
        for key in params:
            if key not in valid:
                close = difflib.get_close_matches(key, valid, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ValueError(
                    f"{label}: unknown hyperparameter {key!r}{hint}; valid: {cls.listing()}"
                )
        try:
            return cls(**params)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{label}: {e}; valid hyperparameters: {cls.listing()}") from None


@dataclass(frozen=True)
class NoHyperparameters(Hyperparameters):
    """An algorithm without hyperparameters."""


def check_n_arms(n_arms: Any) -> int:
    if isinstance(n_arms, bool | np.bool_) or not isinstance(n_arms, numbers.Integral) or n_arms < 1:
        raise ValueError(f"n_arms must be a positive int, got {n_arms!r}")
    return int(n_arms)


def _to_json(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, list):
        return list(value)
    return value


def _from_json(name: str, saved: Any, current: Any) -> Any:
    """``saved`` converted to the type and shape of the attribute it replaces."""
    if isinstance(current, np.ndarray):
        arr = np.asarray(saved, dtype=current.dtype)
        if arr.shape != current.shape:
            raise ValueError(f"state_dict field {name!r} has shape {arr.shape}, expected {current.shape}")
        return arr
    if isinstance(current, list):
        if not isinstance(saved, list) or len(saved) != len(current):
            raise ValueError(f"state_dict field {name!r} has the wrong length")
        return list(saved)
    if isinstance(current, bool):
        return bool(saved)
    if isinstance(current, int):
        return int(saved)
    if isinstance(current, float):
        return float(saved)
    return saved


def make_generator(seed: Any) -> np.random.Generator:
    """The bandit's generator from ``seed``: None (fresh entropy), a non-negative int, a
    ``SeedSequence``, or a ``Generator`` (which is advanced: its next draws seed the bandit,
    so the bandit never shares the caller's stream)."""
    if isinstance(seed, np.random.Generator):
        return np.random.default_rng(seed.integers(0, 2**63, size=4).tolist())
    if seed is None or isinstance(seed, np.random.SeedSequence):
        return np.random.default_rng(seed)
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool | np.bool_):
        if seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {seed}")
        return np.random.default_rng(int(seed))
    raise ValueError(
        f"seed must be None, a non-negative int, a numpy SeedSequence or Generator; got {seed!r}"
    )


class Bandit:
    """Base class of the bandits (one run, one arm per ``select``).

    Subclasses set ``Params`` (the hyperparameter dataclass), ``reward_range``,
    ``_state_fields`` (attributes holding the learned statistics) and implement
    ``_reset_stats``, ``select``, ``update`` and ``values`` (and ``probabilities``
    where the algorithm has a selection distribution; ``_after_load`` where caches
    derive from the statistics). The first line of a subclass's docstring is its
    one-line description.

    Randomness comes only from the seed: ``self.rng`` is a plain
    ``numpy.random.Generator`` made from it, and every draw is taken from it
    directly. Its state is part of ``state_dict``.
    """

    name: ClassVar[str] = ""
    Params: ClassVar[type[Hyperparameters]] = NoHyperparameters
    reward_range: ClassVar[tuple[float, float]] = UNIT_REWARDS
    has_probabilities: ClassVar[bool] = False
    _state_fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, n_arms: int, seed: Any = None, **params: Any):
        self.n_arms = check_n_arms(n_arms)
        self.params = self.Params.build(self.label(), params)
        self.rng = make_generator(seed)
        self.t = 0
        self._reset_stats()

    # -- what a subclass provides -------------------------------------------------
    def select(self) -> int:
        """The arm to play next."""
        raise NotImplementedError

    def update(self, arm: int, reward: float) -> None:
        """Record that ``arm`` was played and returned ``reward``."""
        raise NotImplementedError

    def values(self) -> np.ndarray:
        """Current per-arm estimates (see each algorithm for what they are)."""
        raise NotImplementedError

    def probabilities(self) -> np.ndarray | None:
        """The distribution the next ``select`` draws from, or None if it has none."""
        return None

    def _reset_stats(self) -> None:
        raise NotImplementedError

    def _after_load(self) -> None:
        """Rebuild caches derived from the loaded statistics."""

    # -- shared machinery ---------------------------------------------------------
    @classmethod
    def label(cls) -> str:
        return cls.name or f"{cls.__module__}:{cls.__qualname__}"

    @classmethod
    def summary(cls) -> str:
        doc = (cls.__doc__ or "").strip()
        return doc.splitlines()[0].strip() if doc else ""

    def reset(self, seed: Any = None) -> None:
        """Forget everything learned. With ``seed``, also restart the generator (the
        bandit then equals a new one made with that seed); without, it goes on."""
        if seed is not None:
            self.rng = make_generator(seed)
        self.t = 0
        self._reset_stats()

    def _check(self, arm: Any, reward: Any) -> tuple[int, float]:
        """Validated ``(arm, reward)``; rewards outside ``reward_range`` raise, never clip."""
        try:
            arm = operator.index(arm)
        except TypeError:
            raise ValueError(f"{self.label()}: arm must be an int, got {arm!r}") from None
        if not 0 <= arm < self.n_arms:
            raise ValueError(f"{self.label()}: arm {arm} is out of range [0, {self.n_arms - 1}]")
        try:
            r = float(reward)
        except (TypeError, ValueError):
            raise ValueError(f"{self.label()}: reward must be a number, got {reward!r}") from None
        lo, hi = self.reward_range
        if not lo <= r <= hi:  # also catches NaN
            raise ValueError(
                f"{self.label()}: reward {r!r} is outside its range [{lo:g}, {hi:g}]; "
                "rescale rewards before passing them (they are never clipped)"
            )
        return arm, r

    def state_dict(self) -> dict:
        """Everything needed to continue this run identically, as plain JSON-able data
        (the generator's state is numpy's ``bit_generator.state`` dict)."""
        return {
            "algorithm": self.label(),
            "format": FORMAT_VERSION,
            "n_arms": self.n_arms,
            "params": asdict(self.params),
            "t": self.t,
            "stats": {k: _to_json(getattr(self, k)) for k in self._state_fields},
            "rng": self.rng.bit_generator.state,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue from ``state`` (from ``state_dict`` of the same algorithm and settings).
        Everything is checked before anything is set, so a bad state changes nothing."""
        check_state_header(state, self.label(), self.n_arms, asdict(self.params))
        stats = state["stats"]
        missing = set(self._state_fields) - set(stats)
        if missing:
            raise ValueError(f"state_dict lacks the fields {sorted(missing)}")
        loaded = {k: _from_json(k, stats[k], getattr(self, k)) for k in self._state_fields}
        bits = type(self.rng.bit_generator)(0)  # seeded: reads no OS entropy
        try:
            bits.state = state["rng"]
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"bad generator state in state_dict: {e}") from None
        for k, v in loaded.items():
            setattr(self, k, v)
        self.rng.bit_generator.state = bits.state
        self.t = int(state["t"])
        self._after_load()

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in asdict(self.params).items())
        return f"{type(self).__name__}(n_arms={self.n_arms}{', ' if params else ''}{params})"


def check_state_header(state: Mapping[str, Any], label: str, n_arms: int, params: dict) -> None:
    if not isinstance(state, Mapping) or "algorithm" not in state:
        raise ValueError("not a bandit state_dict (no 'algorithm' key)")
    if state["algorithm"] != label:
        raise ValueError(f"state_dict is from {state['algorithm']!r}, not {label!r}")
    if state.get("format") != FORMAT_VERSION:
        raise ValueError(f"state_dict format {state.get('format')!r} is not {FORMAT_VERSION}")
    if state["n_arms"] != n_arms:
        raise ValueError(f"state_dict has n_arms={state['n_arms']}, this bandit has {n_arms}")
    if dict(state["params"]) != params:
        raise ValueError(
            f"state_dict was saved with hyperparameters {dict(state['params'])}, "
            f"this bandit has {params}"
        )
