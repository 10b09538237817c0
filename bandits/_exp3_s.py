"""EXP3.S for switching (non-stationary) adversarial rewards (Auer, Cesa-Bianchi,
Freund & Schapire 2002, "The nonstochastic multiarmed bandit problem", section 8),
in the form Graves et al. 2017 ("Automated curriculum learning for neural
networks", ICML, Algorithm 2) used to pick curriculum tasks.

Arms are drawn from ``p_i = (1 - gamma) softmax(w)_i + gamma / K``. After reward
``r`` of arm ``I``, with ``x = w + eta * (r / p_I) * e_I``, every weight shares
a fraction ``alpha`` of the others' mass:

    w_i <- log( (1 - alpha) exp(x_i) + alpha / (K - 1) * sum_{j != i} exp(x_j) )

so no arm's weight falls so far that it cannot recover when the best arm
changes. ``alpha = None`` uses Graves et al.'s schedule ``alpha_t = 1 / t``;
Auer et al. use a constant ``alpha = 1 / T``. Everything runs in log space with
the maximum subtracted; log-weights are floored at -700 (``exp`` of that is
1e-304), so they stay finite.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sparft.bandits._base import UNIT_REWARDS, Hyperparameters, check_range, hp
from sparft.bandits._exp3 import ETA_MAX, EXP3, LOG_FLOOR
from sparft.bandits._registry import register

__all__ = ["EXP3S", "EXP3SParams"]

_TINY = float(np.exp(LOG_FLOOR))


@dataclass(frozen=True)
class EXP3SParams(Hyperparameters):
    gamma: float = hp(0.05, "exploration: weight of the uniform mix in p", low=0.01, high=0.5,
                      log=True)
    eta: float | None = hp(None, "learning rate on the reward estimates; None = gamma / K",
                           low=1e-3, high=1.0, log=True)
    alpha: float | None = hp(None, "weight sharing per step; None = 1/t (Graves et al. 2017)",
                             low=1e-5, high=0.1, log=True)

    def validate(self) -> None:
        check_range("gamma", self.gamma, 0.0, 1.0)
        check_range("eta", self.eta, 0.0, ETA_MAX, low_open=True)
        check_range("alpha", self.alpha, 0.0, 1.0)
        if self.eta is None and self.gamma == 0.0:
            raise ValueError("eta = None means gamma / K, which is 0 when gamma is 0; set eta")


def _share(x: np.ndarray, alpha: float) -> np.ndarray:
    """log((1 - a) e^x_i + a/(K-1) sum_{j!=i} e^x_j), maximum subtracted, floored."""
    k = x.shape[-1]
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    if k > 1:
        others = e.sum(axis=-1, keepdims=True) - e
        e = (1.0 - alpha) * e + (alpha / (k - 1)) * np.maximum(others, 0.0)
    w = np.log(np.maximum(e, _TINY))
    return w - w.max(axis=-1, keepdims=True)


@register("exp3_s")
class EXP3S(EXP3):
    """EXP3.S (Auer et al. 2002; Graves et al. 2017) for switching rewards in [0, 1]."""

    Params = EXP3SParams
    reward_range = UNIT_REWARDS

    def update(self, arm: int, reward: float) -> None:
        # EXP3's p and rates; the update adds the sharing step.
        arm, reward = self._check(arm, reward)
        p_played = self._probs()[arm]
        self.t += 1
        alpha = 1.0 / self.t if self.params.alpha is None else self.params.alpha
        x = self._logw.copy()
        x[arm] += self._eta * (reward / p_played)
        self._logw = _share(x, alpha)
        self._p = None
