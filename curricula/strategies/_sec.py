"""``sec``: Self-Evolving Curriculum (Chen et al. 2025, arXiv 2505.14970).

SEC treats each problem category (here: each arm) as an arm of a non-stationary
bandit whose reward is the mean absolute GRPO advantage of the category's
rollouts in the batch -- a proxy for the immediate learning gain -- and keeps a
TD(0) value per arm::

    Q_k <- Q_k + alpha * (mean |A| of arm k's rollouts in the batch - Q_k),  alpha = 0.5

Every batch slot draws its category from the Boltzmann distribution
``p_k ~ exp(Q_k / temperature)`` (mixed batches).

A preset of the composed teacher: the ``softmax`` bandit (constant step size =
TD(0)) driven by the ``abs_advantage`` signal, one arm per slot. Choices:
``Q`` starts at 0 for every arm (uniform at first); every arm present in the
batch is updated with its own mean |A|; the temperature, which we could not pin
to the paper, defaults to 1.0 (|A| lies in ``[0, 1)``) and is swept over
``[0.05, 2]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sparft.curricula.strategies._composed import BanditSignal, BanditSignalParams, merge_knobs
from sparft.curricula.teachers import hp, register


@dataclass(frozen=True)
class SECParams(BanditSignalParams):
    bandit: str = hp("softmax", "a registered bandit")
    signal: Any = hp("abs_advantage", "a registered signal, or {signal: weight}")
    slots: str = hp("sample", "each batch slot draws its own arm", choices=("one", "sample"))
    rescale: str = hp("none", "softmax takes any real reward", choices=("auto", "none", "linear", "quantile"))
    step_size: float = hp(0.5, "TD(0) step size alpha", low=0.05, high=1.0, log=True)
    temperature: float = hp(1.0, "Boltzmann temperature over Q", low=0.05, high=2.0, log=True)

    def __post_init__(self) -> None:
        merge_knobs(self, "softmax", {"step_size": float(self.step_size), "temperature": float(self.temperature)})
        super().__post_init__()


@register("sec")
class SEC(BanditSignal):
    """Self-Evolving Curriculum: TD(0) values of mean |advantage|, Boltzmann over arms."""

    Params = SECParams
