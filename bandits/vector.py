"""Many independent runs of one bandit advanced together, with ``(n_runs, K)`` arrays.

This is what benchmarks over many seeds run on. ``make(name, n_arms, n_runs,
seed=None, **params)`` returns the algorithm's vectorised form: ``select()``
returns an ``(n_runs,)`` array of arms, ``update(arms, rewards)`` takes two
``(n_runs,)`` arrays, ``probabilities()``/``values()`` return ``(n_runs, K)``
arrays. All runs step in lockstep (every run is updated every step).

Run ``i`` draws from the same random streams as a single bandit made with
``seed=SeedSequence(seed).spawn(n_runs)[i]`` (or ``seed=seed[i]`` when a
sequence of seeds is given) and, given the same rewards, makes exactly the same
choices: the per-object classes are the readable reference and the tests hold
the two to each other. An algorithm added from outside without a vectorised
form gets ``LoopVector``, which steps ``n_runs`` objects in a Python loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any, ClassVar

import numpy as np

from sparft.bandits import _rng
from sparft.bandits._base import (
    FORMAT_VERSION,
    Bandit,
    Hyperparameters,
    _Hooks,
    check_n_arms,
    check_state_header,
)

__all__ = ["LoopVector", "VectorBandit", "make"]


def make(name: str | type, n_arms: int, n_runs: int, seed: Any = None, **params: Any) -> VectorBandit:
    """``n_runs`` independent copies of the bandit ``name`` (see ``sparft.bandits.make``)."""
    from sparft.bandits._registry import resolve

    cls = resolve(name)
    if cls.Vector is None:
        return LoopVector(cls, n_arms, n_runs, seed, **params)
    return cls.Vector(n_arms, n_runs, seed, **params)


def _check_n_runs(n_runs: Any) -> int:
    try:
        return check_n_arms(n_runs)
    except ValueError:
        raise ValueError(f"n_runs must be a positive int, got {n_runs!r}") from None


class _Mirror:
    """Name, label and reward range, those of the per-object class ``Scalar``."""

    Scalar: type[Bandit]

    @property
    def name(self) -> str:
        return self.Scalar.name

    @property
    def reward_range(self) -> tuple[float, float]:
        return self.Scalar.reward_range

    def label(self) -> str:
        return self.Scalar.label()


class VectorBandit(_Mirror, _Hooks):
    """Base class of the vectorised forms; ``Scalar`` is the per-object class it mirrors."""

    Scalar: ClassVar[type[Bandit]]

    def __init__(self, n_arms: int, n_runs: int, seed: Any = None, **params: Any):
        self.n_arms = check_n_arms(n_arms)
        self.n_runs = _check_n_runs(n_runs)
        self.params: Hyperparameters = self.Scalar.Params.build(self.label(), params)
        self._rows = np.arange(self.n_runs)
        self._seed(_rng.run_seed_sequences(seed, self.n_runs))
        self.t = 0
        self._reset_stats()

    # -- what a subclass provides (mirrors Bandit; the optional hooks are in _Hooks) --
    def select(self) -> np.ndarray:
        """The arm each run plays next, shape ``(n_runs,)``."""
        raise NotImplementedError

    def update(self, arms: Any, rewards: Any) -> None:
        """Record one step of every run: ``arms`` and ``rewards`` of shape ``(n_runs,)``."""
        raise NotImplementedError

    def values(self) -> np.ndarray:
        raise NotImplementedError

    def probabilities(self) -> np.ndarray | None:
        return None

    # -- shared machinery ---------------------------------------------------------
    def _seed(self, runs: list[np.random.SeedSequence]) -> None:
        self._draws = self._make_draws(runs, _rng.SELECT, self._select_layout(), self._prepare_select)
        self._update_draws = self._make_draws(runs, _rng.UPDATE, self._update_layout(),
                                              self._prepare_update)
        self._spare_seeds = [_rng.child(ss, _rng.SPARE) for ss in runs]
        self._spare_gens: list[np.random.Generator | None] = [None] * self.n_runs

    def _spare(self, r: int) -> np.random.Generator:
        """Run ``r``'s generator for occasional draws (made on first use)."""
        gen = self._spare_gens[r]
        if gen is None:
            gen = self._spare_gens[r] = _rng.generator(self._spare_seeds[r])
        return gen

    def _make_draws(self, runs, channel, layout, prepare):
        if not layout:
            return None
        seeds = [[_rng.child(ss, channel, k) for k in range(len(layout))] for ss in runs]
        return _rng.Draws(seeds, layout, self.n_runs, prepare)

    def reset(self, seed: Any = None) -> None:
        """Forget everything learned in every run (and restart the streams if ``seed``)."""
        if seed is not None:
            self._seed(_rng.run_seed_sequences(seed, self.n_runs))
        self.t = 0
        self._reset_stats()

    def _check(self, arms: Any, rewards: Any) -> tuple[np.ndarray, np.ndarray]:
        arms = np.asarray(arms)
        rewards = np.asarray(rewards, dtype=float)
        shape = (self.n_runs,)
        if arms.shape != shape or rewards.shape != shape:
            raise ValueError(
                f"{self.label()}: arms and rewards must have shape {shape}, "
                f"got {arms.shape} and {rewards.shape}"
            )
        if arms.dtype.kind not in "iu":
            raise ValueError(f"{self.label()}: arms must be integers, got dtype {arms.dtype}")
        if arms.min() < 0 or arms.max() >= self.n_arms:
            raise ValueError(f"{self.label()}: an arm is out of range [0, {self.n_arms - 1}]")
        lo, hi = self.reward_range
        if not (rewards.min() >= lo and rewards.max() <= hi):  # NaN fails both
            bad = rewards[~((rewards >= lo) & (rewards <= hi))][0]
            raise ValueError(
                f"{self.label()}: reward {bad!r} is outside its range [{lo:g}, {hi:g}]; "
                "rescale rewards before passing them (they are never clipped)"
            )
        return arms.astype(np.intp, copy=False), rewards

    def state_dict(self) -> dict:
        """All runs' state as plain JSON-able data (statistics as nested lists)."""
        return {
            "algorithm": self.label(),
            "format": FORMAT_VERSION,
            "n_arms": self.n_arms,
            "n_runs": self.n_runs,
            "params": asdict(self.params),
            "t": self.t,
            "stats": self._stats_state(),
            "rng": {
                **self._draws_state(),
                "spare": [_rng.generator_state(self._spare(r)) for r in range(self.n_runs)],
            },
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        check_state_header(state, self.label(), self.n_arms, asdict(self.params), self.n_runs)
        loaded = self._read_stats(state)
        rng = state["rng"]
        self._load_draws(rng)
        if len(rng["spare"]) != self.n_runs:
            raise ValueError("state_dict's spare streams do not match n_runs")
        for r, st in enumerate(rng["spare"]):
            _rng.set_generator_state(self._spare(r), st)
        self._set_stats(loaded, state)

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in asdict(self.params).items())
        return (f"{type(self).__name__}(n_arms={self.n_arms}, n_runs={self.n_runs}"
                f"{', ' if params else ''}{params})")


class LoopVector(_Mirror):
    """The vectorised interface over ``n_runs`` per-object bandits stepped in a loop.

    Used for algorithms that bring no vectorised form (plugins); slow but exact.
    """

    def __init__(self, cls: type[Bandit], n_arms: int, n_runs: int, seed: Any = None,
                 **params: Any):
        self.Scalar = cls
        self.n_runs = _check_n_runs(n_runs)
        seeds = _rng.run_seed_sequences(seed, self.n_runs)
        self.runs = [cls(n_arms, s, **params) for s in seeds]
        self.n_arms = self.runs[0].n_arms
        self.params = self.runs[0].params

    @property
    def t(self) -> int:
        return self.runs[0].t

    def select(self) -> np.ndarray:
        return np.array([b.select() for b in self.runs], dtype=np.intp)

    def update(self, arms: Any, rewards: Any) -> None:
        arms = np.asarray(arms)
        rewards = np.asarray(rewards, dtype=float)
        if arms.shape != (self.n_runs,) or rewards.shape != (self.n_runs,):
            raise ValueError(f"{self.label()}: arms and rewards must have shape ({self.n_runs},)")
        for b, a, r in zip(self.runs, arms.tolist(), rewards.tolist()):
            b.update(a, r)

    def probabilities(self) -> np.ndarray | None:
        probs = [b.probabilities() for b in self.runs]
        return None if probs[0] is None else np.stack(probs)

    def values(self) -> np.ndarray:
        return np.stack([b.values() for b in self.runs])

    def reset(self, seed: Any = None) -> None:
        seeds = [None] * self.n_runs if seed is None else _rng.run_seed_sequences(seed, self.n_runs)
        for b, s in zip(self.runs, seeds):
            b.reset(s)

    def state_dict(self) -> dict:
        return {"algorithm": self.label(), "n_runs": self.n_runs,
                "runs": [b.state_dict() for b in self.runs]}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if state.get("algorithm") != self.label() or len(state.get("runs", ())) != self.n_runs:
            raise ValueError(f"state_dict is not from {self.label()} with n_runs={self.n_runs}")
        for b, s in zip(self.runs, state["runs"]):
            b.load_state_dict(s)
