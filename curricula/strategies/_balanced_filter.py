"""``balanced_filter``: online difficulty filtering toward a balanced pass rate (Bae et al. 2025, arXiv 2504.03380).

The paper over-samples prompts, rolls them out, and keeps for the update only
those whose pass rate ``k / G`` lies in a band around one half, ``[low, high]``;
its analysis bounds the expected policy improvement from below by the variance
of the task-level success probability, which a band centred on 0.5 maximises
("balanced" filtering, against filters that keep mostly easy or mostly hard
prompts).

Here the filtering runs on the environment's DAPO machinery (``env_options``:
``oversample = m``, ``filter_groups = True``): the ``m B`` candidates (uniform, in
shuffled epochs) are all rolled out and the learner trains on the first B whose
G rewards differ. The environment's filter drops only pass rates 0 and 1, so the
band is applied through the order of the candidates: the teacher puts first the
prompts whose pass rate at their last rollout lay in ``[low, high]``, then
prompts never rolled out, then those last seen outside the band, so that the B
groups trained on are, as far as the last observations predict, the balanced
ones. The difference from the paper: a candidate that was balanced before but
falls outside the band now (while still 0 < k < G) can be trained on, and one
with ``k / G`` in the band but ordered late can be left out; neither happens
in the paper, whose filter reads the current rollouts. An exact band needs a
``filter_band = (low, high)`` option of the learner's ``train_step_filtered``.

Every candidate's rollouts count toward the compute budget.

Defaults chosen here: ``[low, high] = [0.25, 0.75]`` (a band symmetric about 0.5;
the paper compares several bands) and ``oversample = 2``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sparft.curricula.outcome import StepOutcome
from sparft.curricula.strategies._common import EpochOrder
from sparft.curricula.strategies._per_prompt import PromptIndex, group_successes
from sparft.curricula.teachers import Teacher, hp, register


@dataclass(frozen=True)
class BalancedFilterParams:
    low: float = hp(0.25, "lowest pass rate of the band", low=0.05, high=0.45)
    high: float = hp(0.75, "highest pass rate of the band", low=0.55, high=0.95)
    oversample: int = hp(2, "candidates rolled out per training slot", low=2, high=6)

    def __post_init__(self) -> None:
        if not 0.0 <= self.low <= self.high <= 1.0:
            raise ValueError(f"need 0 <= low <= high <= 1, got [{self.low}, {self.high}]")
        if int(self.oversample) != self.oversample or self.oversample < 1:
            raise ValueError(f"oversample must be a positive integer, got {self.oversample!r}")


@register("balanced_filter")
class BalancedFilter(Teacher):
    """Balanced online difficulty filtering: over-sample, train on pass rates in [0.25, 0.75] first."""

    Params = BalancedFilterParams
    action_mode = "examples"

    def __init__(self, arms, params=None, seed=None, **kw) -> None:
        super().__init__(arms, params, seed, **kw)
        self.prompts = PromptIndex(arms)
        n = len(self.prompts)
        self._order = EpochOrder(np.arange(n))
        self.last_rate = np.full(n, np.nan)  # pass rate at the last rollout, NaN before any

    def env_options(self) -> dict[str, Any]:
        return {"oversample": int(self.params.oversample), "filter_groups": True}

    def act(self, obs: Any = None, info: Mapping[str, Any] | None = None) -> np.ndarray:
        n = self.batch_size(info) * int(self.params.oversample)
        cand = self._order.take(n, self.rng)
        rate = self.last_rate[cand]
        p = self.params
        rank = np.where(np.isnan(rate), 1, np.where((rate >= p.low) & (rate <= p.high), 0, 2))
        return cand[np.argsort(rank, kind="stable")]

    def observe(self, outcome: StepOutcome) -> None:
        super().observe(outcome)
        idx = self.prompts.of(outcome.example_ids)
        k, g = group_successes(outcome)
        self.last_rate[idx] = k / g

    def _get_state(self) -> dict[str, Any]:
        rate = [None if np.isnan(x) else float(x) for x in self.last_rate]
        return {"order": self._order.state(), "last_rate": rate}

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self._order.load(state.get("order", {}))
        self.last_rate = np.array(
            [np.nan if x is None else float(x) for x in state["last_rate"]], dtype=np.float64
        )
