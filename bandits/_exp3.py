"""EXP3 (Auer, Cesa-Bianchi, Freund & Schapire 2002, "The nonstochastic multiarmed
bandit problem", SIAM J. Computing 32).

Weights are kept as log-weights ``w`` with their maximum subtracted (so the
largest is 0 and ``exp`` never overflows). The arm is drawn from

    p_i = (1 - gamma) * exp(w_i) / sum_j exp(w_j) + gamma / K

and after reward ``r`` of arm ``I`` the importance-weighted estimate
``r / p_I`` is added: ``w_I <- w_I + eta * r / p_I``. The paper ties the
learning rate to the exploration rate (``eta = gamma / K``, the default here);
they are separate hyperparameters so either can be tuned. With
``gamma = min(1, sqrt(K ln K / ((e - 1) T)))`` the expected regret against the
best fixed arm is at most ``2 sqrt(e - 1) sqrt(T K ln K)`` (about 2.63).

Log-weights are kept within ``LOG_FLOOR = -700`` of the best (``exp(-700)`` is
1e-304), so an arm updated while its probability is ~0 (a teacher may play an
arm the bandit did not choose) keeps finite estimates.

``LogWeights`` holds what the EXP3 family (``exp3``, ``exp3_ix``, ``exp3_s``)
shares: the log-weights, the distribution drawn from and the draw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sparft.bandits._base import UNIT_REWARDS, Bandit, Hyperparameters, check_range, hp
from sparft.bandits._registry import register

__all__ = ["EXP3", "EXP3Params", "LOG_FLOOR", "LogWeights", "inverse_cdf"]

LOG_FLOOR = -700.0
ETA_MAX = 100.0  # keeps eta * (reward / p) finite for p >= exp(LOG_FLOOR) / K


@dataclass(frozen=True)
class EXP3Params(Hyperparameters):
    gamma: float = hp(0.1, "exploration: weight of the uniform mix in p", low=0.01, high=0.5,
                      log=True)
    eta: float | None = hp(None, "learning rate on the reward estimates; None = gamma / K",
                           low=1e-3, high=1.0, log=True)

    def validate(self) -> None:
        check_range("gamma", self.gamma, 0.0, 1.0)
        check_range("eta", self.eta, 0.0, ETA_MAX, low_open=True)
        if self.eta is None and self.gamma == 0.0:
            raise ValueError("eta = None means gamma / K, which is 0 when gamma is 0; set eta")


def _eta(p, n_arms: int) -> float:
    return p.gamma / n_arms if p.eta is None else p.eta


def inverse_cdf(cum: np.ndarray, u: float) -> int:
    """Index drawn by the uniform ``u`` from unnormalised cumulative weights ``cum``."""
    return min(int(np.searchsorted(cum, u * cum[-1], side="right")), cum.shape[0] - 1)


def _mixed(logw: np.ndarray, gamma: float) -> np.ndarray:
    """``(1 - gamma) softmax(logw) + gamma / K``."""
    w = np.exp(logw)
    p = w / w.sum()
    if gamma == 0.0:  # (1 - 0) * p + 0 is p exactly; skip the two passes
        return p
    return (1.0 - gamma) * p + gamma / logw.shape[0]


def _rebase(logw: np.ndarray, top: float | None = None) -> None:
    """In place: subtract the maximum (``top`` if known), floor the rest at LOG_FLOOR."""
    logw -= logw.max() if top is None else top
    np.maximum(logw, LOG_FLOOR, out=logw)


class LogWeights(Bandit):
    """Log-weights ``_logw``, the distribution ``_p`` drawn from, inverse-CDF selection.

    A subclass sets ``_mix`` (the uniform share of ``p``) and its rates in
    ``_after_load`` and writes ``update`` (which must clear ``_p``) and ``values``.
    """

    has_probabilities = True
    _state_fields = ("_logw",)
    _mix = 0.0

    def _reset_stats(self) -> None:
        self._logw = np.zeros(self.n_arms)
        self._after_load()

    def _after_load(self) -> None:
        self._p = None  # cached probabilities; valid until the next update

    def _probs(self) -> np.ndarray:
        if self._p is None:
            self._p = _mixed(self._logw, self._mix)
        return self._p

    def probabilities(self) -> np.ndarray:
        return self._probs().copy()

    def select(self) -> int:
        return inverse_cdf(np.cumsum(self._probs()), self.rng.random())


@register("exp3")
class EXP3(LogWeights):
    """EXP3 (Auer et al. 2002) for adversarial rewards in [0, 1]; log-space weights."""

    Params = EXP3Params
    reward_range = UNIT_REWARDS

    def _after_load(self) -> None:
        self._p = None
        self._mix = self.params.gamma
        self._eta = _eta(self.params, self.n_arms)

    def update(self, arm: int, reward: float) -> None:
        arm, reward = self._check(arm, reward)
        self._logw[arm] += self._eta * (reward / self._probs()[arm])
        # Keep the maximum at 0 (and the rest above the floor). Only the played arm's
        # weight moved, so no scan is needed: it is the new maximum if above 0.
        if self._logw[arm] > 0.0:
            _rebase(self._logw, self._logw[arm])
        self._p = None
        self.t += 1

    def values(self) -> np.ndarray:
        """Estimated cumulative reward of each arm relative to the best (log-weights / eta)."""
        return self._logw / self._eta
