"""``tscl``: Teacher-Student Curriculum Learning, Window variant (Matiisen et al. 2017).

Matiisen, Oliver, Cohen & Schulman ("Teacher-Student Curriculum Learning",
arXiv 1707.00183; IEEE TNNLS 2020). The teacher picks the task whose score is
changing fastest. In the Window variant each task keeps its last ``window``
scores with the time they were recorded; its value is the slope of a
least-squares line through them::

    Q_k = slope of (t, x_t) over task k's last `window` pulls

and the next task is chosen epsilon-greedily on ``|Q_k|`` (``absolute=True``,
so that a task being forgotten -- negative slope -- is revisited) or by
Boltzmann sampling ``p_k ~ exp(|Q_k| / temperature)``.

Here a task is an arm, one arm per update (the environment draws the batch from
it), and the score ``x_t`` is the arm's solve rate in that batch (the
``solve_rate`` signal). Choices: ``t`` counts updates; an arm with fewer than two
scores has no slope yet and is tried before any other (in random order), so
every arm gets a slope early; greedy ties are broken at random.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sparft.curricula import signals
from sparft.curricula.outcome import StepOutcome
from sparft.curricula.strategies._common import softmax
from sparft.curricula.teachers import Teacher, check_choice, hp, register

POLICIES = ("epsilon_greedy", "boltzmann")


@dataclass(frozen=True)
class TSCLParams:
    window: int = hp(10, "scores per arm in the regression window", low=3, high=50, log=True)
    policy: str = hp("epsilon_greedy", "how |slope| values become a choice", choices=POLICIES)
    epsilon: float = hp(0.1, "epsilon_greedy: chance of a uniformly random arm", low=0.0, high=0.5)
    temperature: float = hp(0.01, "boltzmann: temperature on |slope| (solve rate per update)", low=1e-3, high=1.0, log=True)
    absolute: bool = hp(True, "rank arms by |slope| (revisit forgotten arms) instead of slope")

    def __post_init__(self) -> None:
        check_choice("policy", self.policy, POLICIES)
        if int(self.window) != self.window or self.window < 2:
            raise ValueError(f"window must be an integer >= 2 (a slope needs two points), got {self.window!r}")
        if not 0.0 <= self.epsilon <= 1.0:
            raise ValueError(f"epsilon must be in [0, 1], got {self.epsilon}")
        if not self.temperature > 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature}")


def slope(t: np.ndarray, x: np.ndarray) -> float:
    """Least-squares slope of ``x`` on ``t`` (0 when ``t`` does not vary)."""
    t = np.asarray(t, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    tc = t - t.mean()
    den = float((tc * tc).sum())
    return float((tc * (x - x.mean())).sum() / den) if den > 0 else 0.0


@register("tscl")
class TSCL(Teacher):
    """Teacher-Student Curriculum Learning: the arm whose solve rate changes fastest."""

    Params = TSCLParams
    action_mode = "arm"

    def __init__(self, arms, params=None, seed=None, **kw) -> None:
        super().__init__(arms, params, seed, **kw)
        w = int(self.params.window)
        self.times: list[deque[int]] = [deque(maxlen=w) for _ in range(self.n_arms)]
        self.scores: list[deque[float]] = [deque(maxlen=w) for _ in range(self.n_arms)]
        self.signal = signals.get("solve_rate")

    def values(self) -> np.ndarray:
        """Q_k: the slope (or |slope|) of each arm's window; NaN before two scores."""
        q = np.full(self.n_arms, np.nan)
        for k in range(self.n_arms):
            if len(self.scores[k]) >= 2:
                q[k] = slope(np.array(self.times[k]), np.array(self.scores[k]))
        return np.abs(q) if self.params.absolute else q

    def probabilities(self) -> np.ndarray:
        q = self.values()
        untried = np.isnan(q)
        if untried.any():
            return untried / untried.sum()
        p = self.params
        if p.policy == "boltzmann":
            return softmax(q, p.temperature)
        best = q == q.max()
        return (1.0 - p.epsilon) * best / best.sum() + p.epsilon / self.n_arms

    def act(self, obs: Any = None, info: Mapping[str, Any] | None = None) -> int:
        return int(self.rng.choice(self.n_arms, p=self.probabilities()))

    def observe(self, outcome: StepOutcome) -> None:
        t = self.steps
        super().observe(outcome)
        for k, v in self.signal.per_arm(outcome).items():
            self.times[k].append(t)
            self.scores[k].append(v)

    def _get_state(self) -> dict[str, Any]:
        return {"times": [list(d) for d in self.times], "scores": [list(d) for d in self.scores]}

    def _set_state(self, state: Mapping[str, Any]) -> None:
        w = int(self.params.window)
        self.times = [deque(map(int, v), maxlen=w) for v in state["times"]]
        self.scores = [deque(map(float, v), maxlen=w) for v in state["scores"]]
