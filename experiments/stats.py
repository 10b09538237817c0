"""Statistics for comparing curricula over seeds: pure functions over arrays.

After rliable (Agarwal et al., "Deep RL at the Edge of the Statistical
Precipice", NeurIPS 2021) and TeachMyAgent (Romac et al., ICML 2021):

- point estimates with 95% bootstrap confidence intervals (``scipy.stats.bootstrap``,
  BCa, falling back to the percentile interval where BCa is undefined);
- the interquartile mean (IQM): the mean of the middle 50% of runs, robust to
  a few outlying seeds yet less noisy than the median (``scipy.stats.trim_mean``);
- area under the learning curve, normalised by its length, so it reads as the
  mean accuracy over training (a curriculum that learns sooner scores higher);
- the number of steps a strategy needs to reach a threshold (the uniform
  baseline's final accuracy);
- Welch's unequal-variance t-test (``scipy.stats.ttest_ind(equal_var=False)``).

Nothing here reads files or keeps state; every random choice takes a seed.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def _as_1d(values: Sequence[float] | np.ndarray) -> np.ndarray:
    a = np.asarray(values, dtype=np.float64).ravel()
    return a[np.isfinite(a)]


def iqm(values: Sequence[float] | np.ndarray) -> float:
    """Interquartile mean: the mean after trimming 25% from each end (NaN if empty)."""
    from scipy.stats import trim_mean

    a = _as_1d(values)
    return float(trim_mean(a, 0.25)) if a.size else math.nan


def bootstrap_ci(
    values: Sequence[float] | np.ndarray,
    confidence: float = 0.95,
    n_resamples: int = 9999,
    seed: int = 0,
    statistic: str = "mean",
    method: str = "BCa",
) -> tuple[float, float]:
    """A bootstrap confidence interval of the mean (or ``"iqm"``) of ``values``.

    Uses ``scipy.stats.bootstrap``. Degenerate inputs get exact answers instead of
    scipy's warnings: one value or all values equal -> ``(v, v)``; no value ->
    ``(nan, nan)``. BCa is undefined when every resample gives the same
    jackknife estimate; then the percentile interval is returned.
    """
    from scipy.stats import bootstrap

    a = _as_1d(values)
    if a.size == 0:
        return (math.nan, math.nan)
    if a.size == 1 or np.all(a == a[0]):
        return (float(a[0]), float(a[0]))
    if statistic == "mean":
        stat = np.mean
    elif statistic == "iqm":
        from scipy.stats import trim_mean

        def stat(x, axis=-1):
            return trim_mean(x, 0.25, axis=axis)
    else:
        raise ValueError(f"statistic {statistic!r} is not one of 'mean', 'iqm'")
    for m in (method, "percentile"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = bootstrap(
                (a,),
                stat,
                confidence_level=confidence,
                n_resamples=n_resamples,
                method=m,
                rng=np.random.default_rng(seed),
                vectorized=True,
            )
        low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
        if math.isfinite(low) and math.isfinite(high):
            return (low, high)
    return (math.nan, math.nan)


def auc(steps: Sequence[float] | np.ndarray, values: Sequence[float] | np.ndarray) -> float:
    """Area under a learning curve divided by its length: the curve's mean height.

    Trapezoid rule over the (step, value) points, sorted by step. A single point
    gives its value; no point gives NaN.
    """
    x = np.asarray(steps, dtype=np.float64)
    y = np.asarray(values, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"steps {x.shape} and values {y.shape} must have the same shape")
    if x.size == 0:
        return math.nan
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    if x.size == 1 or x[-1] == x[0]:
        return float(y.mean())
    return float(np.trapezoid(y, x) / (x[-1] - x[0]))


def steps_to_reach(
    steps: Sequence[float] | np.ndarray, values: Sequence[float] | np.ndarray, threshold: float
) -> float:
    """The first step at which the curve is at least ``threshold``; NaN if it never is."""
    x = np.asarray(steps, dtype=np.float64)
    y = np.asarray(values, dtype=np.float64)
    hit = np.flatnonzero(y >= threshold - 1e-12)
    return float(x[hit[0]]) if hit.size else math.nan


@dataclass(frozen=True)
class Welch:
    """Welch's t-test of ``a`` against ``b``: mean difference, t statistic, two-sided p."""

    diff: float
    t: float
    p: float


def welch(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> Welch:
    """Welch's unequal-variance t-test (``scipy.stats.ttest_ind(equal_var=False)``).

    Two samples that are both constant have no variance to test against: the p
    value is 1 when their means are equal and 0 when they differ (the data leave
    no doubt either way), rather than scipy's NaN.
    """
    from scipy.stats import ttest_ind

    x, y = _as_1d(a), _as_1d(b)
    if x.size < 2 or y.size < 2:
        return Welch(float(x.mean() - y.mean()) if x.size and y.size else math.nan, math.nan, math.nan)
    diff = float(x.mean() - y.mean())
    if x.var() == 0 and y.var() == 0:
        return Welch(diff, 0.0 if diff == 0 else math.copysign(math.inf, diff), 1.0 if diff == 0 else 0.0)
    res = ttest_ind(x, y, equal_var=False)
    return Welch(diff, float(res.statistic), float(res.pvalue))


@dataclass(frozen=True)
class Summary:
    """Mean with its 95% bootstrap interval, the IQM, the spread and the count."""

    mean: float
    ci_low: float
    ci_high: float
    iqm: float
    std: float
    n: int


def summarise(values: Sequence[float] | np.ndarray, seed: int = 0, confidence: float = 0.95) -> Summary:
    a = _as_1d(values)
    low, high = bootstrap_ci(a, confidence=confidence, seed=seed)
    return Summary(
        mean=float(a.mean()) if a.size else math.nan,
        ci_low=low,
        ci_high=high,
        iqm=iqm(a),
        std=float(a.std(ddof=1)) if a.size > 1 else 0.0,
        n=int(a.size),
    )


def mean_curve_band(
    curves: np.ndarray, confidence: float = 0.95, seed: int = 0, n_resamples: int = 2000
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pointwise mean and bootstrap interval of ``curves`` (runs x points).

    One percentile bootstrap over runs, shared by all points (a resample is a
    set of whole runs), so the band is coherent along the curve.
    """
    c = np.asarray(curves, dtype=np.float64)
    if c.ndim != 2 or c.shape[0] == 0:
        raise ValueError(f"curves must be a (runs x points) array, got shape {c.shape}")
    mean = np.nanmean(c, axis=0)
    if c.shape[0] == 1:
        return mean, mean.copy(), mean.copy()
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, c.shape[0], size=(n_resamples, c.shape[0]))
    means = np.nanmean(c[idx], axis=1)
    alpha = (1 - confidence) / 2
    low, high = np.nanquantile(means, [alpha, 1 - alpha], axis=0)
    return mean, low, high
