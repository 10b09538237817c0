"""``graves_exp3s``: Exp3.S on learning progress (Graves et al. 2017).

Graves, Bellemare, Menick, Munos & Kavukcuoglu ("Automated Curriculum Learning
for Neural Networks", ICML 2017, arXiv 1704.03003) pick the next task with the
Exp3.S adversarial bandit, rewarded by a learning-progress signal that is
rescaled to ``[-1, 1]`` by the 20th and 80th percentiles of the rewards seen so
far (section 4), because progress signals have no fixed scale.

A preset of the composed teacher: the ``exp3_s`` bandit (uniform mix ``gamma =
0.05``, weight sharing ``alpha_t = 1/t`` as in the paper) over arms, one arm per
update, rewarded by the ``learning_progress`` signal (change of the arm's solve
rate since its previous pull; the paper's progress signals need the model's
loss or gradients, which a curriculum over GRPO batches does not see) with
``rescale = quantile``. Choices: the quantile-rescaled value in ``[-1, 1]`` is
mapped affinely onto the bandit's ``[0, 1]``; the history is a 1000-value
reservoir; ``eta`` is the bandit's default ``gamma / K`` rather than the paper's
value, which was tuned for runs of 10^5 steps and barely moves in a few hundred.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sparft.curricula.strategies._composed import BanditSignal, BanditSignalParams, merge_knobs
from sparft.curricula.teachers import hp, register


@dataclass(frozen=True)
class GravesParams(BanditSignalParams):
    bandit: str = hp("exp3_s", "a registered bandit")
    signal: Any = hp("learning_progress", "a registered signal, or {signal: weight}")
    rescale: str = hp("quantile", "Graves et al.'s 20th/80th-percentile rescaling",
                      choices=("auto", "none", "linear", "quantile"))
    gamma: float = hp(0.05, "exp3_s: weight of the uniform mix", low=0.01, high=0.5, log=True)

    def __post_init__(self) -> None:
        merge_knobs(self, "exp3_s", {"gamma": float(self.gamma)})
        super().__post_init__()


@register("graves_exp3s")
class GravesExp3S(BanditSignal):
    """Graves et al. 2017: Exp3.S on quantile-rescaled learning progress."""

    Params = GravesParams
