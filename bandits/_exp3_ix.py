"""EXP3-IX: EXP3 with implicit exploration (Neu 2015, "Explore no more: improved
high-probability regret bounds for non-stochastic bandits", NeurIPS).

No uniform mixing: arms are drawn from ``p_i = exp(w_i) / sum_j exp(w_j)``
(log-weights ``w`` with the maximum subtracted). After reward ``r`` of arm
``I`` the loss ``1 - r`` is estimated with the biased, lower-variance
importance weight ``(1 - r) / (p_I + gamma)`` and ``w_I <- w_I - eta * that``.
With ``eta = sqrt(2 ln K / (K T))`` and ``gamma = eta / 2`` (the default for
``gamma``) the regret is at most ``2 sqrt(2 T K ln K)`` plus a
``O(sqrt(T K / ln K) ln(1/delta))`` term with probability ``1 - delta``.
Log-weights are kept within -700 of the best, as in ``exp3``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sparft.bandits._base import UNIT_REWARDS, Hyperparameters, check_range, hp
from sparft.bandits._exp3 import ETA_MAX, LogWeights, _rebase
from sparft.bandits._registry import register

__all__ = ["EXP3IX", "EXP3IXParams"]


@dataclass(frozen=True)
class EXP3IXParams(Hyperparameters):
    eta: float = hp(0.05, "learning rate on the loss estimates", low=1e-3, high=1.0, log=True)
    gamma: float | None = hp(None, "implicit exploration added to p in the loss estimate; "
                             "None = eta / 2", low=1e-4, high=0.5, log=True)

    def validate(self) -> None:
        check_range("eta", self.eta, 0.0, ETA_MAX, low_open=True)
        check_range("gamma", self.gamma, low=0.0)


@register("exp3_ix")
class EXP3IX(LogWeights):
    """EXP3-IX (Neu 2015): implicit exploration, high-probability regret; rewards in [0, 1]."""

    Params = EXP3IXParams
    reward_range = UNIT_REWARDS

    def _after_load(self) -> None:
        self._p = None  # p has no uniform mix
        p = self.params
        self._gamma = p.eta / 2.0 if p.gamma is None else p.gamma

    def update(self, arm: int, reward: float) -> None:
        arm, reward = self._check(arm, reward)
        self._logw[arm] -= self.params.eta * ((1.0 - reward) / (self._probs()[arm] + self._gamma))
        _rebase(self._logw)
        self._p = None
        self.t += 1

    def values(self) -> np.ndarray:
        """Estimated cumulative reward relative to the best arm (log-weights / eta)."""
        return self._logw / self.params.eta
