"""``speed_rl``: screen candidates with a few rollouts, finish the informative ones (Zhang et al. 2025, arXiv 2506.09016).

SPEED (Selective Prompting with Efficient Estimation of Difficulty) splits the
rollouts of a prompt in two phases. *Screening*: every candidate, drawn
uniformly, gets ``n_screen`` rollouts (the paper's ``N_init``, 4 in its main
runs); a candidate *qualifies* when its screening pass rate lies strictly between
0 and 1. *Continuation*: only qualified prompts get the remaining
``G - n_screen`` rollouts, and the update trains on B qualified prompts with all
G. Qualified prompts beyond the B of this update wait in a buffer for the next.
The gradient's signal-to-noise ratio is bounded by ``4 G p (1 - p)`` (its
Theorem 3.1), so prompts with pass rate 0 or 1 are not worth finishing.

**How this differs from the paper.** Neither learner here can roll out part of
a group and finish it later, so SPEED runs on the environment's DAPO machinery
(``env_options``: ``oversample = m``, ``filter_groups = True``):

* screening *is* the full rollout: each of the ``m B`` candidates gets all G
  rollouts and qualifies when those G rewards differ (the learner keeps the first
  B such groups for the update). A group whose first ``n_screen`` rewards agree
  but whose later ones differ would have been dropped by the paper and is kept
  here; the screen here is therefore less noisy than the paper's (G rollouts,
  not ``n_screen``);
* the buffer holds *prompts*, not their rollouts: a prompt that qualified but was
  not trained on is put first among the next update's candidates and rolled out
  again with the then-current policy (the paper reuses the rollouts, slightly
  off-policy);
* the candidate count is fixed (``m B`` per update, ``oversample = 3`` as
  ``dynamic_filter``), where the paper keeps screening until B qualify.

**How its rollouts are counted.** The environment's outcome carries every
candidate's G rewards and tokens, and the runner counts them all, so the bench's
``rollouts`` and ``tokens`` columns charge ``m B G`` rollouts per update: an
*upper* bound on what SPEED would pay. What the paper would have paid for the
same candidates, ``m B n_screen + q (G - n_screen)`` with ``q`` the candidates
whose first ``n_screen`` rewards differ, is kept in :attr:`SpeedRL.paper_rollouts`
(and the environment's count in :attr:`SpeedRL.env_rollouts`), cumulative over
the run, for a report to quote.
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
class SpeedRLParams:
    oversample: int = hp(3, "candidates screened per training slot", low=2, high=6)
    n_screen: int = hp(4, "N_init: screening rollouts per candidate in the paper's accounting", low=2, high=8)
    buffer: bool = hp(True, "put qualified prompts that were not trained on first in the next candidates")

    def __post_init__(self) -> None:
        if int(self.oversample) != self.oversample or self.oversample < 1:
            raise ValueError(f"oversample must be a positive integer, got {self.oversample!r}")
        if int(self.n_screen) != self.n_screen or self.n_screen < 1:
            raise ValueError(f"n_screen must be a positive integer, got {self.n_screen!r}")


@register("speed_rl")
class SpeedRL(Teacher):
    """SPEED-RL: screen uniform candidates, train on those with 0 < pass rate < 1 (on DAPO's filter)."""

    Params = SpeedRLParams
    action_mode = "examples"

    def __init__(self, arms, params=None, seed=None, **kw) -> None:
        super().__init__(arms, params, seed, **kw)
        self.prompts = PromptIndex(arms)
        self._order = EpochOrder(np.arange(len(self.prompts)))
        self.waiting: list[int] = []  # qualified, not yet trained on
        self.paper_rollouts = 0
        self.env_rollouts = 0

    def env_options(self) -> dict[str, Any]:
        return {"oversample": int(self.params.oversample), "filter_groups": True}

    def act(self, obs: Any = None, info: Mapping[str, Any] | None = None) -> np.ndarray:
        n = self.batch_size(info) * int(self.params.oversample)
        first = self.waiting[:n]
        fresh = self._order.take(n - len(first), self.rng)
        return np.concatenate([np.asarray(first, dtype=np.int64), fresh]).astype(np.int64)

    def observe(self, outcome: StepOutcome) -> None:
        super().observe(outcome)
        r = outcome.rewards
        g = outcome.group_size
        varied = r.min(axis=1) < r.max(axis=1)
        kept = np.asarray(outcome.extra.get("kept", varied), dtype=bool)
        s = min(int(self.params.n_screen), g)
        screened = r[:, :s].min(axis=1) < r[:, :s].max(axis=1)
        self.paper_rollouts += int(len(r) * s + screened.sum() * (g - s))
        self.env_rollouts += int(r.size)
        if self.params.buffer:
            idx = self.prompts.of(outcome.example_ids)
            self.waiting = idx[varied & ~kept].tolist()

    def _get_state(self) -> dict[str, Any]:
        return {
            "order": self._order.state(),
            "waiting": list(self.waiting),
            "paper_rollouts": self.paper_rollouts,
            "env_rollouts": self.env_rollouts,
        }

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self._order.load(state.get("order", {}))
        self.waiting = [int(i) for i in state.get("waiting", [])]
        self.paper_rollouts = int(state.get("paper_rollouts", 0))
        self.env_rollouts = int(state.get("env_rollouts", 0))
