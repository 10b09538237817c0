"""``cures``: CurES, Beta-Binomial difficulty and a closed-form prompt distribution (Sun et al. 2025, arXiv 2510.01037).

CurES derives, from the convergence of the policy gradient, a sampling
distribution over prompts that favours those whose success probability ``p``
makes the gradient's magnitude ``sqrt(p (1 - p))`` large, and estimates ``p`` by
Bayesian counting. Prompt ``i`` keeps its successes ``s_i`` and rollouts ``n_i``
(all of them, since the start); its difficulty estimate is the posterior mean of
``Beta(s_i + 1, n_i - s_i + 1)``::

    p_i = (s_i + 1) / (n_i + 2)

and the B prompts of the next batch are drawn, without replacement within the
batch, from

    q_i  proportional to  exp( sqrt(p_i (1 - p_i)) / tau ).

The authors' sampler draws in passes over the pool (a prompt drawn leaves the pass
until every prompt has been drawn), on a pool much larger than a training run, so
that a pass never ends there. On a pool that training goes through many times
(the default simulated pool: 96 prompts, 25 passes) completed passes make every
prompt equally frequent and cancel ``q``, so by default every batch is drawn from
the whole pool (``replacement = True``); ``replacement = False`` restores the
passes. CurES also
allocates rollouts per prompt (more to prompts whose gradient estimate is
noisier, between 4 and 8 in its scripts); the environment gives every prompt the
same G rollouts, so that half of the method is not reproduced here, and neither
is its initial pass that rolls out the whole pool 4 times before training (the
counts start at zero: ``p_i = 1/2`` for every prompt at first).

The temperature had to be chosen: the released sampler divides the score by
``100 (s_i + 1)``, which makes ``q`` uniform to within half a percent, while the
paper's closed form has a free temperature; ``tau = 0.1`` (the sampler's
``entropy_param`` default) is used, under which an all-solved or never-solved
prompt (``sqrt(p (1 - p)) -> 0``) is ``e^5 ~ 150`` times less likely than one at
``p = 1/2``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sparft.curricula.outcome import StepOutcome
from sparft.curricula.strategies._per_prompt import PromptIndex, fill, group_successes
from sparft.curricula.teachers import Teacher, hp, register


@dataclass(frozen=True)
class CurESParams:
    temperature: float = hp(0.1, "tau of q ~ exp(sqrt(p(1-p)) / tau); larger is closer to uniform",
                            low=0.02, high=1.0, log=True)
    prior_alpha: float = hp(1.0, "prior successes of the Beta-Binomial estimate")
    prior_beta: float = hp(1.0, "prior failures of the Beta-Binomial estimate")
    replacement: bool = hp(True, "draw every batch from the whole pool (True) or in passes without replacement")

    def __post_init__(self) -> None:
        if not self.temperature > 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature}")
        for name in ("prior_alpha", "prior_beta"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")


@register("cures")
class CurES(Teacher):
    """CurES: Beta-Binomial per prompt, prompts drawn with probability ~ exp(sqrt(p(1-p)) / tau)."""

    Params = CurESParams
    action_mode = "examples"

    def __init__(self, arms, params=None, seed=None, **kw) -> None:
        super().__init__(arms, params, seed, **kw)
        self.prompts = PromptIndex(arms)
        n = len(self.prompts)
        self.successes = np.zeros(n)
        self.rollouts = np.zeros(n)
        self.used = np.zeros(n, dtype=bool)  # drawn in the current pass

    def estimate(self) -> np.ndarray:
        """Posterior mean success rate of every prompt."""
        p = self.params
        return (self.successes + p.prior_alpha) / (self.rollouts + p.prior_alpha + p.prior_beta)

    def selection_probabilities(self) -> np.ndarray:
        """``q`` over all prompts (before removing those already drawn in this pass)."""
        p = self.estimate()
        score = np.sqrt(p * (1.0 - p)) / self.params.temperature
        q = np.exp(score - score.max())
        return q / q.sum()

    def act(self, obs: Any = None, info: Mapping[str, Any] | None = None) -> np.ndarray:
        b = self.batch_size(info)
        n = len(self.prompts)
        if not self.params.replacement and n - self.used.sum() < b:
            self.used[:] = False
        pool = np.arange(n) if self.params.replacement else np.flatnonzero(~self.used)
        # b draws without replacement from q restricted to the pool (Gumbel top-k)
        keys = np.log(self.selection_probabilities()[pool]) + self.rng.gumbel(size=len(pool))
        chosen = pool[np.argsort(-keys, kind="stable")[:b]]
        if not self.params.replacement:
            self.used[chosen] = True
        return fill(chosen, b)

    def observe(self, outcome: StepOutcome) -> None:
        super().observe(outcome)
        idx = self.prompts.of(outcome.example_ids)
        k, g = group_successes(outcome)
        np.add.at(self.successes, idx, k)
        np.add.at(self.rollouts, idx, g)

    def _get_state(self) -> dict[str, Any]:
        return {
            "successes": self.successes.tolist(),
            "rollouts": self.rollouts.tolist(),
            "used": np.flatnonzero(self.used).tolist(),
        }

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self.successes = np.asarray(state["successes"], dtype=np.float64)
        self.rollouts = np.asarray(state["rollouts"], dtype=np.float64)
        self.used = np.zeros(len(self.prompts), dtype=bool)
        self.used[np.asarray(state.get("used", []), dtype=np.int64)] = True
