"""``greso``: skip prompts predicted to give zero-variance groups (Zheng et al. 2025, arXiv 2506.02177).

GRESO (GRPO with Efficient Selective Rollout) walks the data in shuffled epochs,
like plain GRPO, but decides before rolling a prompt out whether to skip it.
Its evidence is the prompt's reward history: ``z_easy`` is the number of
consecutive most recent rollouts of the prompt in which every response was
right, ``z_hard`` the number in which every one was wrong (at most one is
non-zero). A prompt is skipped with probability

    P(skip) = 1 - max(p_easy ** z_easy, 0.01)   if z_easy > 0
              1 - max(p_hard ** z_hard, 0.01)   if z_hard > 0
              0                                  otherwise (never seen, or varied last time)

so a prompt that stays uninformative is explored ever more rarely, never never.
After every update the exploration rates follow a target share of zero-variance
groups among the prompts rolled out, ``target_zero_variance = 0.25``, split one
third easy and two thirds hard (hard prompts are more likely to become learnable
as the policy improves)::

    p_easy <- p_easy - 0.01 if share_all_right >= target / 3     else p_easy + 0.01
    p_hard <- p_hard - 0.01 if share_all_wrong >= 2 target / 3   else p_hard + 0.01

clipped to ``[0.05, 0.95]``, and only from the second epoch on (before that no
prompt has a history). A skipped prompt costs no rollout and its history does not
change.

Defaults are the authors' released code and scripts: ``p_easy = p_hard = 0.5``,
step 0.01, bounds ``[0.05, 0.95]``, floor 0.01, target 0.25. That code calls a group
"all right" at mean reward >= 0.98 and "all wrong" at <= 0.11, which for pass/fail
rewards and G <= 9 is exactly "all G rewards equal"; here all-equal (the paper's
zero-variance prompt) is used for every G.

Choices: the paper runs GRESO on top of DAPO's dynamic sampling, with a sampling
batch that it resizes every step. The environment rolls out a fixed number of
prompts per update, so ``oversample = 1`` (the default) is GRESO as a pure
pre-rollout filter: the update trains on the first B prompts of the epoch that
are not skipped. ``oversample = m > 1`` adds the environment's dynamic sampling
(``m B`` unskipped candidates rolled out, the zero-variance groups dropped, up to
B trained on), at a fixed rather than adaptive sampling size. The scan for
unskipped prompts stops after two passes over the pool; the slots still empty
are filled with the last prompts skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sparft.curricula.outcome import StepOutcome
from sparft.curricula.strategies._common import EpochOrder
from sparft.curricula.strategies._per_prompt import PromptIndex
from sparft.curricula.teachers import Teacher, hp, register


@dataclass(frozen=True)
class GRESOParams:
    p_easy: float = hp(0.5, "initial exploration rate of prompts last seen all right", low=0.1, high=0.9)
    p_hard: float = hp(0.5, "initial exploration rate of prompts last seen all wrong", low=0.1, high=0.9)
    target_zero_variance: float = hp(0.25, "share of zero-variance groups the rates steer toward (1/3 easy, 2/3 hard)",
                                     low=0.05, high=0.5)
    step: float = hp(0.01, "change of p_easy / p_hard per update")
    p_min: float = hp(0.05, "lowest exploration rate")
    p_max: float = hp(0.95, "highest exploration rate")
    min_keep: float = hp(0.01, "floor of the keep probability p ** z")
    oversample: int = hp(1, "1: pre-rollout filter only; m > 1: also DAPO dynamic sampling of m B candidates")

    def __post_init__(self) -> None:
        for name in ("p_easy", "p_hard", "target_zero_variance", "min_keep"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {v}")
        if not 0.0 <= self.p_min <= self.p_max <= 1.0:
            raise ValueError(f"need 0 <= p_min <= p_max <= 1, got {self.p_min}, {self.p_max}")
        if not self.step >= 0:
            raise ValueError(f"step must be >= 0, got {self.step}")
        if int(self.oversample) != self.oversample or self.oversample < 1:
            raise ValueError(f"oversample must be a positive integer, got {self.oversample!r}")


@register("greso")
class GRESO(Teacher):
    """GRESO: skip prompts whose recent groups were all right or all wrong, with adaptive odds."""

    Params = GRESOParams
    action_mode = "examples"

    def __init__(self, arms, params=None, seed=None, **kw) -> None:
        super().__init__(arms, params, seed, **kw)
        self.prompts = PromptIndex(arms)
        n = len(self.prompts)
        self.easy_run = np.zeros(n, dtype=np.int64)
        self.hard_run = np.zeros(n, dtype=np.int64)
        self.p_easy = float(self.params.p_easy)
        self.p_hard = float(self.params.p_hard)
        self.scanned = 0  # prompts taken from the epoch order so far (kept or skipped)
        self.skipped = 0  # of which skipped: rollouts GRESO saved
        self._order = EpochOrder(np.arange(n))

    def env_options(self) -> dict[str, Any]:
        m = int(self.params.oversample)
        return {"oversample": m, "filter_groups": True} if m > 1 else {}

    @property
    def epoch(self) -> int:
        """Completed passes over the pool (skipped prompts count as passed)."""
        return self.scanned // len(self.prompts)

    def skip_probability(self, items: np.ndarray) -> np.ndarray:
        p = self.params
        ze, zh = self.easy_run[items], self.hard_run[items]
        keep_easy = np.maximum(self.p_easy ** ze, p.min_keep)
        keep_hard = np.maximum(self.p_hard ** zh, p.min_keep)
        return np.where(ze > 0, 1.0 - keep_easy, np.where(zh > 0, 1.0 - keep_hard, 0.0))

    def act(self, obs: Any = None, info: Mapping[str, Any] | None = None) -> np.ndarray:
        need = self.batch_size(info) * int(self.params.oversample)
        kept: list[int] = []
        skipped: list[int] = []
        limit = 2 * len(self.prompts) + need
        scanned = 0
        while len(kept) < need and scanned < limit:
            items = self._order.take(need - len(kept), self.rng)
            scanned += len(items)
            skip = self.rng.random(len(items)) < self.skip_probability(items)
            kept.extend(items[~skip].tolist())
            skipped.extend(items[skip].tolist())
        self.scanned += scanned
        self.skipped += len(skipped)
        if len(kept) < need:  # everything looked uninformative: take the last skipped
            kept.extend(skipped[len(skipped) - (need - len(kept)):])
        return np.asarray(kept, dtype=np.int64)

    def observe(self, outcome: StepOutcome) -> None:
        super().observe(outcome)
        idx = self.prompts.of(outcome.example_ids)
        r = outcome.rewards
        all_right = r.min(axis=1) >= 1.0
        all_wrong = r.max(axis=1) <= 0.0
        # in batch order, so a prompt twice in one batch keeps its later result
        for i, right, wrong in zip(idx.tolist(), all_right.tolist(), all_wrong.tolist()):
            self.easy_run[i] = self.easy_run[i] + 1 if right else 0
            self.hard_run[i] = self.hard_run[i] + 1 if wrong else 0
        if self.epoch < 1:
            return
        p = self.params
        easy_target = p.target_zero_variance / 3.0
        hard_target = p.target_zero_variance * 2.0 / 3.0
        if all_wrong.mean() >= hard_target:
            self.p_hard = max(self.p_hard - p.step, p.p_min)
        else:
            self.p_hard = min(self.p_hard + p.step, p.p_max)
        if all_right.mean() >= easy_target:
            self.p_easy = max(self.p_easy - p.step, p.p_min)
        else:
            self.p_easy = min(self.p_easy + p.step, p.p_max)

    def _get_state(self) -> dict[str, Any]:
        return {
            "easy_run": self.easy_run.tolist(),
            "hard_run": self.hard_run.tolist(),
            "p_easy": self.p_easy,
            "p_hard": self.p_hard,
            "scanned": self.scanned,
            "skipped": self.skipped,
            "order": self._order.state(),
        }

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self.easy_run = np.asarray(state["easy_run"], dtype=np.int64)
        self.hard_run = np.asarray(state["hard_run"], dtype=np.int64)
        self.p_easy = float(state["p_easy"])
        self.p_hard = float(state["p_hard"])
        self.scanned = int(state["scanned"])
        self.skipped = int(state["skipped"])
        self._order.load(state.get("order", {}))
