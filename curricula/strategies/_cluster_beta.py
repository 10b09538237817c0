"""``cluster_beta``: per-prompt Beta-Binomial estimates pooled through their cluster (empirical Bayes).

SPaRFT's clusters used as prior knowledge rather than as the unit of choice (in
the spirit of arXiv 2608.17941): prompts in one cluster (one arm) are similar, so
what was seen of some tells something about the others, most of all about the
prompts never rolled out. This is :mod:`mopps` (arXiv 2507.04632) with a
hierarchical prior in place of its flat ``Beta(1, 1)``:

* **per prompt** ``i``: successes ``s_i`` and failures ``f_i`` of its rollouts
  (``decay`` forgets them as in MoPPS: ``x <- decay * x`` for a prompt's counts
  each time it is rolled out again, before adding the new ones);
* **per cluster** ``c``: a prior ``Beta(a_c, b_c)`` fitted by the method of moments
  (empirical Bayes, Casella 1985) to the cluster's prompts that have counts:
  pooled mean ``m = (sum s + 1/2) / (sum n + 1)``, the variance of the prompts'
  rates ``v`` (weighted by their rollouts) less the binomial noise they would
  show if all had rate ``m``, ``v_between = v - m (1 - m) mean(1/n_i)``, and the
  prior strength ``a_c + b_c = m (1 - m) / v_between - 1``, clipped to
  ``[strength_min, strength_max]`` (``strength_max`` when ``v_between <= 0``: the
  prompts look alike); ``a_c = m (a_c + b_c)``. A cluster with fewer than two
  prompts with counts has the flat prior ``Beta(prior_alpha, prior_beta)``;
* **posterior** of prompt ``i`` in cluster ``c``: ``Beta(a_c + s_i, b_c + f_i)``,
  which shrinks a prompt with few rollouts toward its cluster's rate.

Selection as in MoPPS: from a candidate pool of ``candidates * B`` prompts (shuffled
epochs), one Thompson draw per candidate from its posterior, train on the B draws
nearest ``target = 0.5``. The pool costs no rollouts.

Choices (this strategy is this framework's own, so every number is chosen here):
``candidates = 4`` and ``decay = 1`` as ``mopps``, so that the two differ only by
the prior; strength bounds ``[1, 50]``; the priors are refitted before every
choice from the current counts.
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


@dataclass(frozen=True)
class ClusterBetaParams:
    candidates: int = hp(4, "candidate pool size in batches (pool = candidates * B prompts)", low=2, high=16, log=True)
    decay: float = hp(1.0, "weight of a prompt's old counts when it is rolled out again", low=0.5, high=1.0)
    target: float = hp(0.5, "success rate the selection steers toward", low=0.2, high=0.8)
    strength_min: float = hp(1.0, "smallest pseudo-count a_c + b_c of a cluster prior")
    strength_max: float = hp(50.0, "largest pseudo-count a_c + b_c of a cluster prior", low=5.0, high=500.0, log=True)
    prior_alpha: float = hp(1.0, "alpha of the flat prior of a cluster with too little data")
    prior_beta: float = hp(1.0, "beta of the flat prior of a cluster with too little data")

    def __post_init__(self) -> None:
        if int(self.candidates) != self.candidates or self.candidates < 1:
            raise ValueError(f"candidates must be a positive integer, got {self.candidates!r}")
        if not 0.0 < self.decay <= 1.0:
            raise ValueError(f"decay must be in (0, 1], got {self.decay}")
        if not 0.0 <= self.target <= 1.0:
            raise ValueError(f"target must be in [0, 1], got {self.target}")
        if not 0.0 < self.strength_min <= self.strength_max:
            raise ValueError(f"need 0 < strength_min <= strength_max, got {self.strength_min}, {self.strength_max}")
        for name in ("prior_alpha", "prior_beta"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")


@register("cluster_beta")
class ClusterBeta(Teacher):
    """Per-prompt Beta posteriors shrunk toward a method-of-moments cluster prior; Thompson toward 0.5."""

    Params = ClusterBetaParams
    action_mode = "examples"

    def __init__(self, arms, params=None, seed=None, **kw) -> None:
        super().__init__(arms, params, seed, **kw)
        self.prompts = PromptIndex(arms)
        n = len(self.prompts)
        self.successes = np.zeros(n)
        self.failures = np.zeros(n)
        self._order = EpochOrder(np.arange(n))

    def cluster_priors(self) -> tuple[np.ndarray, np.ndarray]:
        """``(a_c, b_c)`` of every cluster, fitted by the method of moments."""
        p = self.params
        a = np.full(self.n_arms, float(p.prior_alpha))
        b = np.full(self.n_arms, float(p.prior_beta))
        n = self.successes + self.failures
        seen = n > 0
        for c in range(self.n_arms):
            mask = seen & (self.prompts.arm == c)
            if mask.sum() < 2:
                continue
            s_c, n_c = self.successes[mask], n[mask]
            m = (s_c.sum() + 0.5) / (n_c.sum() + 1.0)
            rate = s_c / n_c
            v = np.average((rate - m) ** 2, weights=n_c)
            between = v - m * (1.0 - m) * np.mean(1.0 / n_c)
            strength = p.strength_max if between <= 0 else m * (1.0 - m) / between - 1.0
            strength = float(np.clip(strength, p.strength_min, p.strength_max))
            a[c], b[c] = m * strength, (1.0 - m) * strength
        return a, b

    def posterior(self, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(alpha, beta)`` of each prompt's posterior."""
        a, b = self.cluster_priors()
        c = self.prompts.arm[items]
        return a[c] + self.successes[items], b[c] + self.failures[items]

    def act(self, obs: Any = None, info: Mapping[str, Any] | None = None) -> np.ndarray:
        b = self.batch_size(info)
        pool = unique_first(self._order.take(int(self.params.candidates) * b, self.rng))
        alpha, beta = self.posterior(pool)
        draws = self.rng.beta(alpha, beta)
        return fill(pool[nearest(draws, self.params.target, b, self.rng)], b)

    def observe(self, outcome: StepOutcome) -> None:
        super().observe(outcome)
        idx = self.prompts.of(outcome.example_ids)
        k, g = group_successes(outcome)
        d = self.params.decay
        if d < 1.0:
            seen = np.unique(idx)
            self.successes[seen] *= d
            self.failures[seen] *= d
        np.add.at(self.successes, idx, k)
        np.add.at(self.failures, idx, g - k)

    def _get_state(self) -> dict[str, Any]:
        return {
            "successes": self.successes.tolist(),
            "failures": self.failures.tolist(),
            "order": self._order.state(),
        }

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self.successes = np.asarray(state["successes"], dtype=np.float64)
        self.failures = np.asarray(state["failures"], dtype=np.float64)
        self._order.load(state.get("order", {}))
