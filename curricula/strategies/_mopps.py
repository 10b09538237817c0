"""``mopps``: Model Predictive Prompt Selection (Qu et al. 2025, arXiv 2507.04632).

MoPPS predicts each prompt's success rate without rolling it out. Prompt ``i``
has a Beta posterior over its latent success rate, prior ``Beta(alpha0, beta0)``;
after the update that rolled it out ``n`` times with success rate ``s``::

    alpha_i <- lam * alpha_i + (1 - lam) * alpha0 + n * s
    beta_i  <- lam * beta_i  + (1 - lam) * beta0  + n * (1 - s)

(``lam = 1``: plain Bayesian counting; ``lam < 1`` forgets toward the prior, for a
policy that changes under training). Before every update the teacher takes a
candidate pool of ``candidates * B`` prompts, draws one Thompson sample
``p_i ~ Beta(alpha_i, beta_i)`` per candidate and trains on the B candidates with
the smallest ``(p_i - target)^2`` (``target = 0.5``: half the rollouts right, the
largest GRPO signal). ``selection = "range"`` is the paper's variant: keep the
candidates whose sample lies in ``[range_low, range_high]`` (0.3, 0.7), B of them at
random, topped up with the nearest ones when fewer fall in the range.

Only the B chosen prompts are rolled out: the pool costs no rollouts, which is
the method's point (no ``oversample``, no filtering).

Choices: the candidate pool is drawn the way the authors' code draws it, a data
loader batch of ``ts_ratio * B`` prompts in shuffled epochs; its size
(``candidates = 4``) had to be chosen here. ``n * s`` is the sum of the group's
rewards (rewards in ``[0, 1]``, so a fractional reward counts fractionally).
Ties in ``(p - target)^2`` are broken at random.
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
from sparft.curricula.teachers import Teacher, check_choice, hp, register

SELECTIONS = ("nearest", "range")


@dataclass(frozen=True)
class MoPPSParams:
    candidates: int = hp(4, "candidate pool size in batches (pool = candidates * B prompts)", low=2, high=16, log=True)
    decay: float = hp(1.0, "lambda: weight of the old posterior at each update (1 = no forgetting)", low=0.5, high=1.0)
    prior_alpha: float = hp(1.0, "alpha0 of the Beta prior")
    prior_beta: float = hp(1.0, "beta0 of the Beta prior")
    target: float = hp(0.5, "success rate the selection steers toward", low=0.2, high=0.8)
    selection: str = hp("nearest", "nearest: smallest (p - target)^2; range: p in [range_low, range_high]",
                        choices=SELECTIONS)
    range_low: float = hp(0.3, "selection=range: lowest sampled success rate kept")
    range_high: float = hp(0.7, "selection=range: highest sampled success rate kept")

    def __post_init__(self) -> None:
        check_choice("selection", self.selection, SELECTIONS)
        if int(self.candidates) != self.candidates or self.candidates < 1:
            raise ValueError(f"candidates must be a positive integer, got {self.candidates!r}")
        if not 0.0 < self.decay <= 1.0:
            raise ValueError(f"decay must be in (0, 1], got {self.decay}")
        for name in ("prior_alpha", "prior_beta"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if not 0.0 <= self.target <= 1.0:
            raise ValueError(f"target must be in [0, 1], got {self.target}")
        if not 0.0 <= self.range_low < self.range_high <= 1.0:
            raise ValueError(
                f"need 0 <= range_low < range_high <= 1, got [{self.range_low}, {self.range_high}]"
            )


@register("mopps")
class MoPPS(Teacher):
    """MoPPS: Beta posterior per prompt, Thompson draws, keep the candidates nearest p = 0.5."""

    Params = MoPPSParams
    action_mode = "examples"

    def __init__(self, arms, params=None, seed=None, **kw) -> None:
        super().__init__(arms, params, seed, **kw)
        self.prompts = PromptIndex(arms)
        n = len(self.prompts)
        self.alpha = np.full(n, float(self.params.prior_alpha))
        self.beta = np.full(n, float(self.params.prior_beta))
        self._order = EpochOrder(np.arange(n))

    def posterior_mean(self) -> np.ndarray:
        """Each prompt's predicted success rate ``alpha / (alpha + beta)``."""
        return self.alpha / (self.alpha + self.beta)

    def act(self, obs: Any = None, info: Mapping[str, Any] | None = None) -> np.ndarray:
        b = self.batch_size(info)
        pool = unique_first(self._order.take(int(self.params.candidates) * b, self.rng))
        draws = self.rng.beta(self.alpha[pool], self.beta[pool])
        p = self.params
        if p.selection == "nearest":
            return fill(pool[nearest(draws, p.target, b, self.rng)], b)
        inside = np.flatnonzero((draws >= p.range_low) & (draws <= p.range_high))
        chosen = self.rng.permutation(inside)[:b]
        if len(chosen) < b:  # too few in the range: the nearest of the others
            rest = np.setdiff1d(np.arange(len(pool)), chosen)
            chosen = np.concatenate([chosen, rest[nearest(draws[rest], p.target, b - len(chosen), self.rng)]])
        return fill(pool[chosen], b)

    def observe(self, outcome: StepOutcome) -> None:
        super().observe(outcome)
        p = self.params
        idx = self.prompts.of(outcome.example_ids)
        k, g = group_successes(outcome)
        seen = np.unique(idx)
        if p.decay < 1.0:
            self.alpha[seen] = p.decay * self.alpha[seen] + (1.0 - p.decay) * p.prior_alpha
            self.beta[seen] = p.decay * self.beta[seen] + (1.0 - p.decay) * p.prior_beta
        np.add.at(self.alpha, idx, k)
        np.add.at(self.beta, idx, g - k)

    def _get_state(self) -> dict[str, Any]:
        return {"alpha": self.alpha.tolist(), "beta": self.beta.tolist(), "order": self._order.state()}

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self.alpha = np.asarray(state["alpha"], dtype=np.float64)
        self.beta = np.asarray(state["beta"], dtype=np.float64)
        self._order.load(state.get("order", {}))
