"""``uniform`` and ``random_subset``: the no-curriculum baselines.

``uniform`` is standard GRPO on all the data, the "R1" baseline of SPaRFT
(Do et al. 2025, arXiv 2508.05015, following DeepSeek-AI 2025, arXiv 2501.12948):
every example of the pool in shuffled passes, as a data loader does.
``random_subset`` is the control that SPaRFT's data reduction must beat: as many
examples as SPaRFT keeps (about 100), chosen uniformly at random once, then
trained on uniformly. Give both the *full* pool's ArmSet (on SPaRFT's reduced
ArmSet ``uniform`` is "the reduced set, no bandit").

Choices where the sources are silent: passes are without replacement
(``replacement=False``: each example once per epoch, the order reshuffled every
epoch); the subset is drawn without stratification by arm.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sparft.curricula.strategies._common import EpochOrder
from sparft.curricula.teachers import Teacher, hp, register


@dataclass(frozen=True)
class UniformParams:
    replacement: bool = hp(
        False, "draw examples independently (True) instead of in shuffled epochs (False)"
    )


@register("uniform")
class Uniform(Teacher):
    """Standard GRPO on all data ("R1"): every example, uniformly, in shuffled epochs."""

    Params = UniformParams
    action_mode = "examples"

    def __init__(self, arms, params=None, seed=None, **kw) -> None:
        super().__init__(arms, params, seed, **kw)
        self._order = EpochOrder(np.arange(len(arms.ids)), self.params.replacement)

    def act(self, obs: Any = None, info: Mapping[str, Any] | None = None) -> np.ndarray:
        return self._order.take(self.batch_size(info), self.rng)

    def _get_state(self) -> dict[str, Any]:
        return {"order": self._order.state()}

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self._order.load(state.get("order", {}))


@dataclass(frozen=True)
class RandomSubsetParams:
    size: int = hp(100, "examples in the subset (SPaRFT keeps about 100)", low=16, high=1024, log=True)
    replacement: bool = hp(
        False, "draw examples independently (True) instead of in shuffled epochs (False)"
    )

    def __post_init__(self) -> None:
        if int(self.size) != self.size or self.size < 1:
            raise ValueError(f"size must be a positive integer, got {self.size!r}")


@register("random_subset")
class RandomSubset(Teacher):
    """A random subset as large as SPaRFT's reduced set, trained on uniformly."""

    Params = RandomSubsetParams
    action_mode = "examples"

    def __init__(self, arms, params=None, seed=None, **kw) -> None:
        super().__init__(arms, params, seed, **kw)
        n = len(arms.ids)
        size = min(int(self.params.size), n)
        self.subset = np.sort(self.rng.choice(n, size=size, replace=False)).astype(np.int64)
        self._order = EpochOrder(self.subset, self.params.replacement)

    def act(self, obs: Any = None, info: Mapping[str, Any] | None = None) -> np.ndarray:
        return self._order.take(self.batch_size(info), self.rng)

    def _get_state(self) -> dict[str, Any]:
        return {"subset": self.subset.tolist(), "order": self._order.state()}

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self.subset = np.asarray(state["subset"], dtype=np.int64)
        self._order = EpochOrder(self.subset, self.params.replacement)
        self._order.load(state.get("order", {}))
