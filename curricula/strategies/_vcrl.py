"""``vcrl``: variance-based curriculum with a replay memory (Jiang et al. 2025, arXiv 2509.19803).

VCRL scores each rolled-out prompt by its normalised group variance: with ``k``
of the G rollouts right, the unbiased variance of its 0/1 rewards is
``sigma^2 = k (G - k) / (G (G - 1))``, largest at ``k = G/2`` (``G / (4 (G - 1))``
for even G, ``(G + 1) / (4 G)`` for odd G), and

    p = sigma^2 / sigma^2_max   in [0, 1]

(1 at half right, 0 when all agree). Prompts with ``p >= kappa`` sit at the
frontier of what the policy can do; the rest are too easy or too hard. VCRL
keeps the high-``p`` prompts for training, replaces the low-``p`` ones, and keeps
high-``p`` prompts in a memory bank to replay them later.

Here, since a teacher chooses before the rollouts and the environment trains on
what it rolled out:

* every update trains on ``B - r`` fresh prompts (shuffled epochs, as plain GRPO)
  and ``r`` prompts replayed from the memory, ``r`` the number of the previous
  batch's prompts that fell below ``kappa`` (the slots VCRL would have refilled),
  at most ``max_replay * B`` and at most what the memory holds; the refill thus
  lags one update behind the paper's in-step replacement;
* the memory holds up to ``memory_size`` prompts with ``p >= kappa`` at their last
  rollout, each with a priority: its ``p`` when it entered, multiplied by
  ``age_decay`` after every update (older evidence counts less); replay takes the
  highest priorities and removes them from the memory, and a replayed prompt
  comes back only if its new group again reaches ``kappa``; a prompt whose group
  falls below ``kappa`` leaves the memory.

Defaults: ``kappa = 0.8`` keeps, for G = 8, the groups with 3 to 5 of 8 right
(``p = 15/16`` or 1; 2 of 8 gives 0.75). ``kappa``, ``memory_size = 32``,
``age_decay = 0.9`` and ``max_replay = 0.5`` were chosen here: the sources this
implementation could read give the variance score and the memory bank but not
their numbers.
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
    group_successes,
    normalised_variance,
)
from sparft.curricula.teachers import Teacher, hp, register


@dataclass(frozen=True)
class VCRLParams:
    kappa: float = hp(0.8, "normalised group variance at or above which a prompt is kept and remembered",
                      low=0.3, high=0.95)
    memory_size: int = hp(32, "prompts the replay memory holds", low=8, high=256, log=True)
    age_decay: float = hp(0.9, "priority of a remembered prompt is multiplied by this after every update",
                          low=0.5, high=1.0)
    max_replay: float = hp(0.5, "largest share of a batch replayed from the memory", low=0.0, high=1.0)

    def __post_init__(self) -> None:
        if not 0.0 < self.kappa <= 1.0:
            raise ValueError(f"kappa must be in (0, 1], got {self.kappa}")
        if int(self.memory_size) != self.memory_size or self.memory_size < 0:
            raise ValueError(f"memory_size must be a non-negative integer, got {self.memory_size!r}")
        if not 0.0 < self.age_decay <= 1.0:
            raise ValueError(f"age_decay must be in (0, 1], got {self.age_decay}")
        if not 0.0 <= self.max_replay <= 1.0:
            raise ValueError(f"max_replay must be in [0, 1], got {self.max_replay}")


@register("vcrl")
class VCRL(Teacher):
    """VCRL: train on fresh prompts plus replayed high-variance ones (normalised group variance >= kappa)."""

    Params = VCRLParams
    action_mode = "examples"

    def __init__(self, arms, params=None, seed=None, **kw) -> None:
        super().__init__(arms, params, seed, **kw)
        self.prompts = PromptIndex(arms)
        self._order = EpochOrder(np.arange(len(self.prompts)))
        self.memory: dict[int, float] = {}  # prompt -> priority
        self.refill = 0  # slots of the last batch below kappa
        self.replayed = 0  # prompts replayed so far

    def act(self, obs: Any = None, info: Mapping[str, Any] | None = None) -> np.ndarray:
        b = self.batch_size(info)
        r = min(self.refill, int(self.params.max_replay * b), len(self.memory))
        replay: list[int] = []
        if r > 0:
            items = np.fromiter(self.memory, np.int64, len(self.memory))
            prio = np.fromiter(self.memory.values(), np.float64, len(self.memory))
            perm = self.rng.permutation(len(items))  # random order among equal priorities
            top = perm[np.argsort(-prio[perm], kind="stable")[:r]]
            replay = items[top].tolist()
            for i in replay:
                del self.memory[i]
            self.replayed += len(replay)
        fresh = self._order.take(b - len(replay), self.rng)
        return np.concatenate([np.asarray(replay, dtype=np.int64), fresh]).astype(np.int64)

    def observe(self, outcome: StepOutcome) -> None:
        super().observe(outcome)
        p = self.params
        idx = self.prompts.of(outcome.example_ids)
        k, g = group_successes(outcome)
        score = normalised_variance(k, g)
        self.refill = int((score < p.kappa).sum())
        for i in self.memory:
            self.memory[i] *= p.age_decay
        for i, s in zip(idx.tolist(), score.tolist()):
            if s >= p.kappa:
                self.memory[i] = s
            else:
                self.memory.pop(i, None)
        if len(self.memory) > p.memory_size:  # forget the lowest priorities (stable: earlier entries win ties)
            keep = sorted(self.memory.items(), key=lambda kv: -kv[1])[: int(p.memory_size)]
            self.memory = dict(keep)

    def _get_state(self) -> dict[str, Any]:
        return {
            "order": self._order.state(),
            "memory": [[int(i), float(v)] for i, v in self.memory.items()],
            "refill": self.refill,
            "replayed": self.replayed,
        }

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self._order.load(state.get("order", {}))
        self.memory = {int(i): float(v) for i, v in state.get("memory", [])}
        self.refill = int(state.get("refill", 0))
        self.replayed = int(state.get("replayed", 0))
