"""``sparft``, ``sparft_lp`` and ``sparft_target``: SPaRFT's bandit and two variants.

All three are presets of the composed teacher (:mod:`._composed`): a bandit from
:mod:`sparft.bandits` over the arms (SPaRFT's clusters), rewarded per update by
a signal of the chosen arm's rollouts. Any field can be overridden
(``make("sparft", arms, bandit="thompson_beta")``).

``sparft`` -- SPaRFT v1 (Do, Nguyen, Venkatesh & Le 2025, "SPaRFT: Self-Paced
Reinforcement Fine-Tuning for Large Language Models", arXiv 2508.05015):
Thompson sampling with a Gaussian posterior over each cluster's *negated* solve
rate, so clusters the model fails on are favoured (hard first). The bandit is
the plain ``thompson_gaussian`` with its defaults (prior ``N(0, 1)`` worth one
pull, posterior ``N(S_k / (n_k + 1), 1 / (n_k + 1))``); the teacher feeds it
``-solve_rate`` of the arm's batch (transform ``negate``), which keeps an untried
arm's posterior mean (0) at or above every tried arm's, so each is tried early.
One cluster per update: the whole batch comes from the chosen arm.

``sparft_lp`` -- the later version (SPaCe, Findings of ACL 2026) scores arms by
"solve rates and learning progress" without publishing the formula. What is
implemented, exactly: the same Gaussian Thompson sampling, fed per update

    r_k = -s_k + lp_weight * |s_k - s_k'|

with ``s_k`` the arm's solve rate in this batch and ``s_k'`` the (smoothed, weight
``history_alpha`` on the newest pull) solve rate at its previous pull, i.e. the
``abs_learning_progress`` signal (0 on an arm's first pull). Hard arms are still
preferred, but an arm whose solve rate is moving is worth more than a stuck one.

``sparft_target`` -- the reviewers' fix for hard-first selection (which keeps
choosing clusters no rollout solves, where GRPO has no signal): Beta-Bernoulli
Thompson sampling (``thompson_beta``, prior Beta(1, 1)) toward a target solve
rate, fed ``1 - |s_k - target| / max(target, 1 - target)`` in ``[0, 1]`` (the bandit
applies the Bernoulli trick), so clusters solved about half the time win.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sparft.curricula.strategies._composed import BanditSignal, BanditSignalParams
from sparft.curricula.teachers import hp, register


@dataclass(frozen=True)
class SparftParams(BanditSignalParams):
    bandit: str = hp("thompson_gaussian", "a registered bandit")
    signal: Any = hp("solve_rate", "a registered signal, or {signal: weight}")
    transform: str = hp("negate", "SPaRFT draws around the negated solve rate",
                        choices=("identity", "negate", "one_minus", "abs", "target"))
    rescale: str = hp("none", "Gaussian Thompson sampling takes any real reward",
                      choices=("auto", "none", "linear", "quantile"))


@register("sparft")
class Sparft(BanditSignal):
    """SPaRFT: Gaussian Thompson sampling over clusters on the negated solve rate (hard first)."""

    Params = SparftParams


@dataclass(frozen=True)
class SparftLPParams(SparftParams):
    transform: str = hp("identity", "the signal already carries the sign",
                        choices=("identity", "negate", "one_minus", "abs", "target"))
    signal: Any = hp(None, "always {solve_rate: -1, abs_learning_progress: lp_weight}")
    lp_weight: float = hp(1.0, "weight of |learning progress| against the negated solve rate",
                          low=0.1, high=10.0, log=True)

    def __post_init__(self) -> None:
        # The preset *is* this signal, set from lp_weight (other signals: compose one).
        object.__setattr__(
            self, "signal", {"solve_rate": -1.0, "abs_learning_progress": float(self.lp_weight)}
        )
        super().__post_init__()


@register("sparft_lp")
class SparftLP(BanditSignal):
    """SPaRFT/SPaCe later version: Gaussian Thompson sampling on -solve rate + |learning progress|."""

    Params = SparftLPParams


@dataclass(frozen=True)
class SparftTargetParams(BanditSignalParams):
    bandit: str = hp("thompson_beta", "a registered bandit")
    signal: Any = hp("solve_rate", "a registered signal, or {signal: weight}")
    transform: str = hp("target", "1 at the target solve rate, 0 at the farther end",
                        choices=("identity", "negate", "one_minus", "abs", "target"))
    target: float = hp(0.5, "solve rate the teacher steers toward", low=0.2, high=0.8)
    rescale: str = hp("none", "the target transform already lies in [0, 1]",
                      choices=("auto", "none", "linear", "quantile"))


@register("sparft_target")
class SparftTarget(BanditSignal):
    """Reviewers' fix: Beta-Bernoulli Thompson sampling toward a target solve rate near 0.5."""

    Params = SparftTargetParams
