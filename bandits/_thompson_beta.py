"""Beta-Bernoulli Thompson sampling (Thompson 1933; for rewards in [0, 1] by the
Bernoulli trick of Agrawal & Goyal 2012, "Analysis of Thompson sampling for the
multi-armed bandit problem", COLT), with an optional discount for switching
rewards (Raj & Kalyani 2017, "Taming non-stationary bandits: a Bayesian approach").

Each arm has a Beta(alpha_i, beta_i) posterior, ``alpha_i = alpha_prior + S_i``,
``beta_i = beta_prior + F_i``. ``select`` draws ``theta_i ~ Beta(alpha_i, beta_i)``
for every arm and plays the largest. ``update(i, r)`` turns ``r`` into a success
``x ~ Bernoulli(r)`` and, with discount ``g`` (1 = stationary),

    S <- g * S + x * 1[arm = i],    F <- g * F + (1 - x) * 1[arm = i].

Sampling. ``theta = G_a / (G_a + G_b)`` with Gamma draws by Marsaglia & Tsang
(2000, "A simple method for generating gamma variables", ACM TOMS): propose
``G = d (1 + c z)^3`` with ``d = a - 1/3``, ``c = 1 / sqrt(9 d)``, ``z`` standard
normal, and accept when ``ln u < z^2/2 + d (1 - v + ln v)``, ``v = (1 + c z)^3``;
shapes below 1 use ``G(a) = G(a + 1) U^(1/a)``. Only the cube root
``w = d^(1/3) (1 + c z)`` is formed (the ranking of ``w_b / w_a`` is that of
``theta``), and the acceptance test is done once per block of steps at the
shapes of the block's start: it only gets easier as a shape grows, so per step
just the few proposals rejected there are tested again, at the current shape,
and retried with fresh proposals from the run's retry queue until accepted.
Every path returns an exact draw, and the draws a run consumes do not depend
on how runs are batched, so the vectorised form reproduces a single run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sparft.bandits import _rng
from sparft.bandits._base import UNIT_REWARDS, Bandit, Hyperparameters, check_range, hp
from sparft.bandits._registry import register
from sparft.bandits.vector import VectorBandit

__all__ = ["ThompsonBeta", "ThompsonBetaParams", "ThompsonBetaVector"]

# The smallest Marsaglia-Tsang d: shapes are boosted to at least 1.
_D_MIN = 1.0 - 1.0 / 3.0


@dataclass(frozen=True)
class ThompsonBetaParams(Hyperparameters):
    alpha_prior: float = hp(1.0, "prior successes alpha of Beta(alpha, beta)",
                            low=0.1, high=10.0, log=True)
    beta_prior: float = hp(1.0, "prior failures beta of Beta(alpha, beta)",
                           low=0.1, high=10.0, log=True)
    discount: float = hp(1.0, "discount of past successes/failures per step; 1 = stationary",
                         low=0.9, high=1.0)

    def validate(self) -> None:
        check_range("alpha_prior", self.alpha_prior, low=1e-3)
        check_range("beta_prior", self.beta_prior, low=1e-3)
        check_range("discount", self.discount, 0.0, 1.0, low_open=True)


def _shapes(p: ThompsonBetaParams, s: np.ndarray, f: np.ndarray, cbrt=np.cbrt):
    """Gamma shapes [alpha..., beta...], which are boosted, and the constants
    d, c of Marsaglia-Tsang with e = d^(1/3), k = e * c (so w = e + k z).

    ``cbrt`` is the cube root each form also uses in its per-step updates
    (``math.cbrt`` for one run, ``np.cbrt`` for many), so that a state rebuilt
    from saved counts equals one that was updated step by step, to the bit."""
    shape = np.concatenate([p.alpha_prior + s, p.beta_prior + f], axis=-1)
    boosted = shape < 1.0
    d = np.where(boosted, shape + 1.0, shape) - 1.0 / 3.0
    c = 1.0 / np.sqrt(9.0 * d)
    e = cbrt(d)
    return shape, boosted, d, c, e, e * c


def _math_cbrt(d: np.ndarray) -> np.ndarray:
    return np.array([math.cbrt(x) for x in d.tolist()])


def _accepts(z, log_u, d, c):
    """The Marsaglia-Tsang acceptance test, elementwise."""
    v = c * z + 1.0
    positive = v > 0.0
    v3 = np.where(positive, v * v * v, 1.0)
    return positive & (log_u < 0.5 * z * z + d * (1.0 - v3 + np.log(v3)))


def _prepare(normals, uniforms, d_ref, m: int, vector: bool):
    """Per block: the first proposal of each draw and whether it is accepted at
    shapes no larger than the current ones (``d_ref``); ``row_ok[i]``: all of step i's."""
    u = uniforms[..., :m]
    accepted = np.empty(normals.shape, dtype=bool)
    d_ref = np.asarray(d_ref)
    c_ref = 1.0 / np.sqrt(9.0 * d_ref)
    if vector and d_ref.ndim:  # (run, row, slot) against shapes (run, slot)
        d_ref, c_ref = d_ref[:, None, :], c_ref[:, None, :]
    chunk = max(1, (1 << 16) // max(1, normals[0].size))  # keep temporaries in cache
    with np.errstate(divide="ignore"):  # u = 0 gives ln u = -inf: accepted
        for a in range(0, normals.shape[0], chunk):
            sl = slice(a, a + chunk)
            dr = d_ref[sl] if d_ref.ndim == 3 else d_ref
            cr = c_ref[sl] if c_ref.ndim == 3 else c_ref
            accepted[sl] = _accepts(normals[sl], np.log(u[sl]), dr, cr)
    row_ok = (accepted.all(axis=(0, 2)) if vector else accepted.all(axis=1)).tolist()
    return normals, u, uniforms[..., m:], accepted, row_ok


class _RetriesInState:
    """Saves the rejection sampler's retry draws with the rest of the RNG state."""

    def state_dict(self) -> dict:
        state = super().state_dict()
        state["rng"]["retries"] = self._retries.state()
        return state

    def load_state_dict(self, state) -> None:
        super().load_state_dict(state)
        self._retries.load(state["rng"]["retries"])


@register("thompson_beta")
class ThompsonBeta(_RetriesInState, Bandit):
    """Beta-Bernoulli Thompson sampling, Bernoulli trick for [0, 1] rewards; optional discount."""

    Params = ThompsonBetaParams
    reward_range = UNIT_REWARDS
    _state_fields = ("_s", "_f")

    def _select_layout(self):
        m = 2 * self.n_arms
        boost = min(self.params.alpha_prior, self.params.beta_prior) < 1.0
        return (("normal", m), ("uniform", 2 * m if boost else m))

    def _update_layout(self):
        return (("uniform", 1),)

    def _prepare_update(self, uniforms):
        return (uniforms[:, 0].tolist(),)  # one Python float per update

    def _prepare_select(self, normals, uniforms):
        # Stationary shapes only grow, so the block's starting shapes are a lower bound;
        # discounted ones can shrink, down to the smallest d there is.
        d_ref = self._d if self.params.discount == 1.0 else _D_MIN
        return _prepare(normals, uniforms, d_ref, 2 * self.n_arms, isinstance(self, VectorBandit))

    def _seed(self, ss) -> None:
        super()._seed(ss)
        self._retries = _rng.Queue([_rng.child(ss, _rng.QUEUE, 0), _rng.child(ss, _rng.QUEUE, 1)],
                                   ("normal", "uniform"))

    def _reset_stats(self) -> None:
        # Python lists: the stationary update touches one entry, faster than numpy.
        self._s = [0.0] * self.n_arms
        self._f = [0.0] * self.n_arms
        # Work buffers for select: w for [alpha..., beta...] and views on its halves.
        k = self.n_arms
        self._w = np.empty(2 * k)
        self._w_a, self._w_b = self._w[:k], self._w[k:]
        self._ratio = np.empty(k)
        self._after_load()
        if self._draws is not None:  # shapes shrank: redo the block's acceptance tests
            self._draws.reprepare()

    def _after_load(self) -> None:
        self._shape, self._boosted, d, c, self._e, self._k = _shapes(
            self.params, np.array(self._s), np.array(self._f), _math_cbrt)
        self._d, self._c = d.tolist(), c.tolist()  # read one at a time in _accept
        self._any_boost = bool(self._boosted.any())

    def select(self) -> int:
        i = self._draws.next()
        z, u, u_boost, accepted, row_ok = self._draws.arrays
        w = np.multiply(self._k, z[i], out=self._w)
        w += self._e  # d^(1/3) (1 + c z): the cube root of the proposal
        if not row_ok[i]:
            self._redraw(w, z[i], u[i], accepted[i])
        if self._any_boost:
            # In logs, since G(a) U^(1/a) underflows for small a: log G = 3 log w + ln U / a.
            k = self.n_arms
            lg = 3.0 * np.log(w)
            b = self._boosted
            lg[b] += np.log1p(-u_boost[i][b]) / self._shape[b]
            return int((lg[:k] - lg[k:]).argmax())
        # theta_a = 1 / (1 + (w_b / w_a)^3): the largest theta has the smallest ratio
        return int(np.divide(self._w_b, self._w_a, out=self._ratio).argmin())

    def _redraw(self, w, z, u, accepted) -> None:
        """Test again, at the current shapes, the proposals rejected at the block's
        start; retry the rejected ones in rounds, in slot order (as the vector form)."""
        pending = []
        for j in np.flatnonzero(~accepted).tolist():
            if not self._accept(z[j], math.log(u[j]) if u[j] > 0.0 else -math.inf, j):
                pending.append(j)
        while pending:
            still = []
            for j in pending:
                zj, uj = self._retries.pop()
                if self._accept(zj, math.log(uj) if uj > 0.0 else -math.inf, j):
                    w[j] = self._k[j] * zj + self._e[j]
                else:
                    still.append(j)
            pending = still

    def _accept(self, z: float, log_u: float, j: int) -> bool:
        d = self._d[j]
        v = self._c[j] * z + 1.0
        if v <= 0.0:
            return False
        v3 = v * v * v
        return bool(log_u < 0.5 * z * z + d * (1.0 - v3 + math.log(v3)))

    def update(self, arm: int, reward: float) -> None:
        arm, reward = self._check(arm, reward)
        success = self._update_draws.take() < reward  # the Bernoulli trick; exact for 0/1 rewards
        g = self.params.discount
        self.t += 1
        if g < 1.0:
            self._s = [g * x for x in self._s]
            self._f = [g * x for x in self._f]
            if success:
                self._s[arm] += 1.0
            else:
                self._f[arm] += 1.0
            self._after_load()
            return
        # Stationary: one shape changed; recompute it alone (the formulas of _shapes).
        if success:
            self._s[arm] += 1.0
            j, shape = arm, self.params.alpha_prior + self._s[arm]
        else:
            self._f[arm] += 1.0
            j, shape = arm + self.n_arms, self.params.beta_prior + self._f[arm]
        boosted = shape < 1.0
        d = (shape + 1.0 if boosted else shape) - 1.0 / 3.0
        c = 1.0 / math.sqrt(9.0 * d)
        e = math.cbrt(d)
        self._shape[j] = shape
        self._d[j] = d
        self._c[j] = c
        self._e[j] = e
        self._k[j] = e * c
        if self._any_boost:  # stationary shapes only grow: a boost can end, not start
            self._boosted[j] = boosted
            self._any_boost = bool(self._boosted.any())

    def values(self) -> np.ndarray:
        """Posterior means alpha / (alpha + beta)."""
        a = self.params.alpha_prior + np.array(self._s)
        return a / (a + self.params.beta_prior + np.array(self._f))


class ThompsonBetaVector(_RetriesInState, VectorBandit):
    Scalar = ThompsonBeta
    _state_fields = ("_s", "_f")

    _select_layout = ThompsonBeta._select_layout
    _update_layout = ThompsonBeta._update_layout
    _prepare_select = ThompsonBeta._prepare_select

    def _seed(self, runs) -> None:
        super()._seed(runs)
        seeds = [[_rng.child(ss, _rng.QUEUE, 0), _rng.child(ss, _rng.QUEUE, 1)] for ss in runs]
        self._retries = _rng.Queues(seeds, ("normal", "uniform"))

    def _reset_stats(self) -> None:
        self._s = np.zeros((self.n_runs, self.n_arms))
        self._f = np.zeros((self.n_runs, self.n_arms))
        self._after_load()
        if self._draws is not None:  # shapes shrank: redo the block's acceptance tests
            self._draws.reprepare()

    def _after_load(self) -> None:
        self._shape, self._boosted, self._d, self._c, self._e, self._k = _shapes(
            self.params, self._s, self._f)
        self._any_boost = bool(self._boosted.any())

    def select(self) -> np.ndarray:
        i = self._draws.next()
        z, u, u_boost, accepted, row_ok = self._draws.arrays
        w = self._k * z[:, i]
        w += self._e
        if not row_ok[i]:
            self._redraw(w, z[:, i], u[:, i], accepted[:, i])
        k = self.n_arms
        if self._any_boost:
            lg = 3.0 * np.log(w)
            b = self._boosted
            lg[b] += np.log1p(-u_boost[:, i][b]) / self._shape[b]
            return (lg[:, :k] - lg[:, k:]).argmax(axis=1)
        return (w[:, k:] / w[:, :k]).argmin(axis=1)

    def _redraw(self, w, z, u, accepted) -> None:
        rr, jj = np.nonzero(~accepted)  # sorted by run, then slot
        with np.errstate(divide="ignore"):
            ok = _accepts(z[rr, jj], np.log(u[rr, jj]), self._d[rr, jj], self._c[rr, jj])
            rr, jj = rr[~ok], jj[~ok]
            while rr.size:
                zr, ur = self._retries.take(rr)
                ok = _accepts(zr, np.log(ur), self._d[rr, jj], self._c[rr, jj])
                w[rr[ok], jj[ok]] = self._k[rr[ok], jj[ok]] * zr[ok] + self._e[rr[ok], jj[ok]]
                rr, jj = rr[~ok], jj[~ok]

    def update(self, arms, rewards) -> None:
        arms, rewards = self._check(arms, rewards)
        u = self._update_draws.take()[:, 0]
        success = u < rewards
        g = self.params.discount
        rows = self._rows
        self.t += 1
        if g < 1.0:
            self._s *= g
            self._f *= g
            self._s[rows, arms] += success
            self._f[rows, arms] += ~success
            self._after_load()
            return
        p = self.params
        j = np.where(success, arms, arms + self.n_arms)
        self._s[rows, arms] += success
        self._f[rows, arms] += ~success
        shape = np.where(success, p.alpha_prior + self._s[rows, arms],
                         p.beta_prior + self._f[rows, arms])
        boosted = shape < 1.0
        d = np.where(boosted, shape + 1.0, shape) - 1.0 / 3.0
        c = 1.0 / np.sqrt(9.0 * d)
        e = np.cbrt(d)
        self._shape[rows, j], self._d[rows, j], self._c[rows, j] = shape, d, c
        self._e[rows, j], self._k[rows, j] = e, e * c
        if self._any_boost or boosted.any():
            self._boosted[rows, j] = boosted
            self._any_boost = bool(self._boosted.any())

    def values(self) -> np.ndarray:
        a = self.params.alpha_prior + self._s
        return a / (a + self.params.beta_prior + self._f)


ThompsonBeta.Vector = ThompsonBetaVector
