"""``pcl``: Prompt Curriculum Learning, an online value model picks prompts near p = 0.5 (Gao et al. 2025, arXiv 2510.01135).

PCL trains, alongside the policy, a value model ``V(x)`` that predicts the
current policy's expected reward on prompt ``x``. Before each update it draws a
pool of ``candidates * B`` prompts uniformly, predicts ``V`` for each (no
rollouts), and trains on the B whose prediction is nearest a threshold
``target = 0.5``. After the update the value model is fitted to the batch's
observed success rates, so it follows the policy (on-policy). The paper's
value model is a language model reading the prompt.

Here the value model is a logistic regression, ``V(x) = sigmoid(w . phi(x))``,
updated after every update on the binomial counts (``k`` of ``G`` right) of the
last ``window`` batches by a few Newton (IRLS) steps on

    sum_i [k_i log V(x_i) + (G - k_i) log(1 - V(x_i))] - l2/2 ||w - w_prev||^2

a Gaussian prior centred on the previous weights: an online (proximal) update,
so what was learnt about prompts absent from the newest batch is kept while the
model follows the policy. The features are what a teacher can see of a prompt:
the ArmSet carries no embeddings (a teacher receives arms, difficulties and
topics, not vectors), so ``phi(x) = [1, difficulty, onehot(arm)]`` stands in for the
embedding, the arm (an embedding cluster) playing the part of the prompt's
content. For the simulator's item-response model (``logit p = a (skill_topic -
difficulty)``, topics nested in arms) this family contains the truth up to label
noise and memorisation. With ``w = 0`` (before any data) every prediction is 0.5 and
the first batch is uniform.

Choices: ``candidates = 4``, ``window = 1`` (each batch is used once, on-policy),
``l2 = 1``, ``newton_steps = 3`` were chosen here; ties in ``|V - target|`` are
broken at random.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sparft.curricula.outcome import StepOutcome
from sparft.curricula.strategies._common import EpochOrder
from sparft.curricula.strategies._per_prompt import (
    PromptIndex,
    fill,
    group_successes,
    nearest,
    unique_first,
)
from sparft.curricula.teachers import Teacher, hp, register


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 + 0.5 * np.tanh(0.5 * z)


@dataclass(frozen=True)
class PCLParams:
    candidates: int = hp(4, "candidate pool size in batches (pool = candidates * B prompts)", low=2, high=16, log=True)
    target: float = hp(0.5, "predicted success rate the selection steers toward", low=0.2, high=0.8)
    window: int = hp(1, "latest updates whose outcomes each refit of the value model uses", low=1, high=8)
    l2: float = hp(1.0, "precision of the prior centred on the previous weights (how slowly V changes)",
                   low=0.1, high=30.0, log=True)
    newton_steps: int = hp(3, "Newton (IRLS) steps per refit")

    def __post_init__(self) -> None:
        for name in ("candidates", "window", "newton_steps"):
            v = getattr(self, name)
            if int(v) != v or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if not 0.0 <= self.target <= 1.0:
            raise ValueError(f"target must be in [0, 1], got {self.target}")
        if not self.l2 > 0:
            raise ValueError(f"l2 must be > 0, got {self.l2}")


@register("pcl")
class PCL(Teacher):
    """PCL: an online value model predicts each candidate's success rate; train on those nearest 0.5."""

    Params = PCLParams
    action_mode = "examples"

    def __init__(self, arms, params=None, seed=None, **kw) -> None:
        super().__init__(arms, params, seed, **kw)
        self.prompts = PromptIndex(arms)
        self._order = EpochOrder(np.arange(len(self.prompts)))
        self.weights = np.zeros(2 + self.n_arms)
        self.recent: list[tuple[list[int], list[float], int]] = []  # (prompts, successes, G) per update

    def features(self, items: np.ndarray) -> np.ndarray:
        """``phi(x) = [1, difficulty, onehot(arm)]`` of prompts (indices into ``arms.ids``)."""
        items = np.asarray(items, dtype=np.int64)
        x = np.zeros((len(items), 2 + self.n_arms))
        x[:, 0] = 1.0
        x[:, 1] = self.prompts.difficulty[items]
        x[np.arange(len(items)), 2 + self.prompts.arm[items]] = 1.0
        return x

    def predict(self, items: np.ndarray) -> np.ndarray:
        """The value model's predicted success rate of each prompt."""
        return _sigmoid(self.features(items) @ self.weights)

    def act(self, obs: Any = None, info: Mapping[str, Any] | None = None) -> np.ndarray:
        b = self.batch_size(info)
        pool = unique_first(self._order.take(int(self.params.candidates) * b, self.rng))
        return fill(pool[nearest(self.predict(pool), self.params.target, b, self.rng)], b)

    def observe(self, outcome: StepOutcome) -> None:
        super().observe(outcome)
        idx = self.prompts.of(outcome.example_ids)
        k, g = group_successes(outcome)
        self.recent.append((idx.tolist(), k.tolist(), int(g)))
        self.recent = self.recent[-int(self.params.window):]
        self._fit()

    def _fit(self) -> None:
        items = np.concatenate([np.asarray(i, dtype=np.int64) for i, _, _ in self.recent])
        k = np.concatenate([np.asarray(s, dtype=np.float64) for _, s, _ in self.recent])
        n = np.concatenate([np.full(len(i), g, dtype=np.float64) for i, _, g in self.recent])
        x = self.features(items)
        lam = self.params.l2
        anchor = w = self.weights
        for _ in range(int(self.params.newton_steps)):
            p = _sigmoid(x @ w)
            grad = x.T @ (k - n * p) - lam * (w - anchor)
            hess = (x * (n * p * (1.0 - p))[:, None]).T @ x + lam * np.eye(len(w))
            w = w + np.linalg.solve(hess, grad)
        self.weights = w

    def _get_state(self) -> dict[str, Any]:
        return {"order": self._order.state(), "weights": self.weights.tolist(), "recent": self.recent}

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self._order.load(state.get("order", {}))
        self.weights = np.asarray(state["weights"], dtype=np.float64)
        self.recent = [(list(i), list(s), int(g)) for i, s, g in state.get("recent", [])]
