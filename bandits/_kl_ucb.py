"""KL-UCB for Bernoulli (and any [0, 1]) rewards (Garivier & Cappé 2011, "The KL-UCB
algorithm for bounded stochastic bandits and beyond", COLT).

After playing each arm once, play the arm with the largest

    q_i = max { q in [mean_i, 1] : n_i * kl(mean_i, q) <= ln t + c * ln ln t }

where ``kl(p, q) = p ln(p/q) + (1-p) ln((1-p)/(1-q))`` and ``t`` counts updates
(``ln ln t`` is taken as ``ln max(ln t, 1)`` so small ``t`` stays defined). The
paper's experiments use ``c = 0``; its regret bound holds for ``c = 3``.

The index is found by Newton's method on ``y = -ln(1 - q)``, started at the
Pinsker bound ``q = mean + sqrt(delta / 2)``, which lies above the root. In
``y`` the divergence is convex and increasing with slope ``1 - mean / q`` <= 1,
so the iterates decrease monotonically to the root (always a valid upper
bound) and seven steps reach about 1e-14 even when the root is near 1, where
Newton or bisection in ``q`` crawl.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sparft.bandits._base import UNIT_REWARDS, Hyperparameters, check_range, hp
from sparft.bandits._index import IndexPolicy
from sparft.bandits._registry import register

__all__ = ["KLUCB", "KLUCBParams", "kl_bernoulli", "kl_ucb_index"]

_EPS = 1e-15
_NEWTON_STEPS = 7


def kl_bernoulli(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Bernoulli KL divergence, with p and q kept inside [1e-15, 1 - 1e-15]."""
    p = np.clip(p, _EPS, 1.0 - _EPS)
    q = np.clip(q, _EPS, 1.0 - _EPS)
    return p * np.log(p / q) + (1.0 - p) * np.log((1.0 - p) / (1.0 - q))


def kl_ucb_index(mean: np.ndarray, n: np.ndarray, log_term: float) -> np.ndarray:
    """max{q >= mean : n * kl(mean, q) <= log_term}, elementwise (any array shape)."""
    delta = log_term / n
    p = np.clip(mean, _EPS, 1.0 - _EPS)
    q_p = 1.0 - p
    neg_entropy = p * np.log(p) + q_p * np.log(q_p)
    # kl(p, q) = neg_entropy - p ln q + (1 - p) y  with  y = -ln(1 - q)
    y = -np.log1p(-np.minimum(1.0 - _EPS, p + np.sqrt(0.5 * delta)))
    for _ in range(_NEWTON_STEPS):
        q = -np.expm1(-y)
        excess = neg_entropy - p * np.log(q) + q_p * y - delta
        slope = 1.0 - p / q
        # Step only where y is above the root (excess > 0, so slope > 0 there).
        y = np.where(excess > 0.0, y - excess / np.where(slope > 0.0, slope, 1.0), y)
    return np.maximum(-np.expm1(-y), mean)


def _log_term(t: int, c: float) -> float:
    log_t = math.log(t)
    return log_t + c * math.log(max(log_t, 1.0))


@dataclass(frozen=True)
class KLUCBParams(Hyperparameters):
    c: float = hp(0.0, "c in the threshold ln t + c ln ln t (0 in practice, 3 in the theorem)",
                  low=0.0, high=3.0)

    def validate(self) -> None:
        check_range("c", self.c, low=0.0)


@register("kl_ucb")
class KLUCB(IndexPolicy):
    """Bernoulli KL-UCB (Garivier & Cappe 2011); rewards in [0, 1]."""

    Params = KLUCBParams
    reward_range = UNIT_REWARDS
    _state_fields = (*IndexPolicy._state_fields, "_sums")

    def _reset_index_stats(self) -> None:
        self._sums = np.zeros(self.n_arms)

    def _after_load(self) -> None:
        super()._after_load()
        self._counts = np.array(self._n, dtype=float)

    def _index(self) -> np.ndarray:
        return kl_ucb_index(self._sums / self._counts, self._counts,
                            _log_term(self.t, self.params.c))

    def _record(self, slot: int, reward: float, n: int) -> None:
        self._sums[slot] += reward
        self._counts[slot] = n

    def _slot_values(self) -> np.ndarray:
        return self._sums / np.maximum(self._counts, 1.0)
