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
- for strategies run on the *same* seeds, :func:`paired_difference`: the mean
  paired difference with its bootstrap interval, the paired t-test
  (``scipy.stats.ttest_rel``) and the Wilcoxon signed-rank test; Welch's
  unequal-variance t-test (:func:`welch`) remains for unpaired samples;
- :func:`probability_of_improvement`: rliable's P(X > Y), the Mann-Whitney U
  statistic over all pairs of runs divided by their number, averaged over tasks,
  with a stratified bootstrap interval;
- :func:`stratified_bootstrap_ci` of any aggregate of a ``(runs x tasks)`` score
  matrix (presets or tasks as strata), and :func:`performance_profile`, the
  fraction of runs scoring above each threshold tau.

NaN runs are never dropped silently. Every function that takes scores has a
``nan_policy``: ``"raise"`` (the default) stops with a message that counts them;
``"omit"`` leaves them out, and results that are dataclasses report how many
were left out (``n_nan``). Infinite scores count as NaN.

Nothing here reads files or keeps state; every random choice takes a seed.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

NanPolicy = Literal["raise", "omit"]
ArrayLike = Sequence[float] | np.ndarray


def _check_policy(nan_policy: str) -> None:
    if nan_policy not in ("raise", "omit"):
        raise ValueError(f"nan_policy must be 'raise' or 'omit', got {nan_policy!r}")


def _nan_error(n_bad: int, n: int, what: str) -> ValueError:
    return ValueError(
        f"{n_bad} of {n} {what} are NaN or infinite; a run that produced NaN is a result to "
        "report, not noise to drop: fix those runs, or pass nan_policy='omit' to leave them "
        "out (the count is reported)"
    )


def finite_runs(
    values: ArrayLike, nan_policy: NanPolicy = "raise", what: str = "runs"
) -> tuple[np.ndarray, int]:
    """``values`` as a flat float array without NaN/inf, and how many were left out.

    With ``nan_policy="raise"`` any NaN or infinite value is a ``ValueError`` that
    counts them; with ``"omit"`` they are removed and counted.
    """
    _check_policy(nan_policy)
    a = np.asarray(values, dtype=np.float64).ravel()
    bad = ~np.isfinite(a)
    n_bad = int(bad.sum())
    if n_bad and nan_policy == "raise":
        raise _nan_error(n_bad, a.size, what)
    return (a[~bad] if n_bad else a), n_bad


def _finite_rows(
    scores: ArrayLike, nan_policy: NanPolicy, what: str = "runs"
) -> tuple[np.ndarray, int]:
    """A ``(runs x tasks)`` float matrix (a 1-D input is one task) without runs that hold a NaN."""
    _check_policy(nan_policy)
    m = np.asarray(scores, dtype=np.float64)
    if m.ndim == 1:
        m = m[:, None]
    if m.ndim != 2:
        raise ValueError(f"scores must be (runs,) or (runs x tasks), got shape {m.shape}")
    bad = ~np.isfinite(m).all(axis=1)
    n_bad = int(bad.sum())
    if n_bad and nan_policy == "raise":
        raise _nan_error(n_bad, m.shape[0], what)
    return (m[~bad] if n_bad else m), n_bad


def iqm(values: ArrayLike, nan_policy: NanPolicy = "raise") -> float:
    """Interquartile mean: the mean after trimming 25% from each end (NaN if empty)."""
    from scipy.stats import trim_mean

    a, _ = finite_runs(values, nan_policy)
    return float(trim_mean(a, 0.25)) if a.size else math.nan


def bootstrap_ci(
    values: Sequence[float] | np.ndarray,
    confidence: float = 0.95,
    n_resamples: int = 9999,
    seed: int = 0,
    statistic: str = "mean",
    method: str = "BCa",
    nan_policy: NanPolicy = "raise",
) -> tuple[float, float]:
    """A bootstrap confidence interval of the mean (or ``"iqm"``) of ``values``.

    Uses ``scipy.stats.bootstrap``. Degenerate inputs get exact answers instead of
    scipy's warnings: one value or all values equal -> ``(v, v)``; no value ->
    ``(nan, nan)``. BCa is undefined when every resample gives the same
    jackknife estimate; then the percentile interval is returned.
    """
    from scipy.stats import bootstrap

    a, _ = finite_runs(values, nan_policy)
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
    """Welch's t-test of ``a`` against ``b``: mean difference, t statistic, two-sided p.

    ``n_nan_a`` / ``n_nan_b``: runs of each left out as NaN (``nan_policy="omit"``).
    """

    diff: float
    t: float
    p: float
    n_nan_a: int = 0
    n_nan_b: int = 0


def welch(a: ArrayLike, b: ArrayLike, nan_policy: NanPolicy = "raise") -> Welch:
    """Welch's unequal-variance t-test (``scipy.stats.ttest_ind(equal_var=False)``).

    For unpaired samples; runs of two strategies on the same seeds are paired: use
    :func:`paired_difference`. Two samples that are both constant have no variance
    to test against: the p value is 1 when their means are equal and 0 when they
    differ (the data leave no doubt either way), rather than scipy's NaN.
    """
    from scipy.stats import ttest_ind

    x, nx = finite_runs(a, nan_policy, "runs of a")
    y, ny = finite_runs(b, nan_policy, "runs of b")
    if x.size < 2 or y.size < 2:
        diff = float(x.mean() - y.mean()) if x.size and y.size else math.nan
        return Welch(diff, math.nan, math.nan, nx, ny)
    diff = float(x.mean() - y.mean())
    if x.var() == 0 and y.var() == 0:
        t, p = _decided(diff)
        return Welch(diff, t, p, nx, ny)
    res = ttest_ind(x, y, equal_var=False)
    return Welch(diff, float(res.statistic), float(res.pvalue), nx, ny)


def _decided(diff: float) -> tuple[float, float]:
    """(t, p) when there is no variance: the means alone decide."""
    return (0.0, 1.0) if diff == 0 else (math.copysign(math.inf, diff), 0.0)


@dataclass(frozen=True)
class Summary:
    """Mean with its 95% bootstrap interval, the IQM, the spread, the count of finite runs
    and the count of NaN runs left out (``nan_policy="omit"``)."""

    mean: float
    ci_low: float
    ci_high: float
    iqm: float
    std: float
    n: int
    n_nan: int = 0


def summarise(
    values: ArrayLike, seed: int = 0, confidence: float = 0.95, nan_policy: NanPolicy = "raise"
) -> Summary:
    a, n_nan = finite_runs(values, nan_policy)
    low, high = bootstrap_ci(a, confidence=confidence, seed=seed)
    return Summary(
        mean=float(a.mean()) if a.size else math.nan,
        ci_low=low,
        ci_high=high,
        iqm=iqm(a),
        std=float(a.std(ddof=1)) if a.size > 1 else 0.0,
        n=int(a.size),
        n_nan=n_nan,
    )


def mean_curve_band(
    curves: np.ndarray,
    confidence: float = 0.95,
    seed: int = 0,
    n_resamples: int = 2000,
    nan_policy: NanPolicy = "raise",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pointwise mean and bootstrap interval of ``curves`` (runs x points).

    One percentile bootstrap over runs, shared by all points (a resample is a
    set of whole runs), so the band is coherent along the curve. With
    ``nan_policy="omit"`` a missing point (NaN) is left out of that point's mean.
    """
    _check_policy(nan_policy)
    c = np.asarray(curves, dtype=np.float64)
    if c.ndim != 2 or c.shape[0] == 0:
        raise ValueError(f"curves must be a (runs x points) array, got shape {c.shape}")
    if nan_policy == "raise" and not np.isfinite(c).all():
        raise _nan_error(int((~np.isfinite(c).all(axis=1)).sum()), c.shape[0], "curves")
    mean = np.nanmean(c, axis=0)
    if c.shape[0] == 1:
        return mean, mean.copy(), mean.copy()
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, c.shape[0], size=(n_resamples, c.shape[0]))
    means = np.nanmean(c[idx], axis=1)
    alpha = (1 - confidence) / 2
    low, high = np.nanquantile(means, [alpha, 1 - alpha], axis=0)
    return mean, low, high


# ============================================================ paired seeds
@dataclass(frozen=True)
class Paired:
    """``a`` against ``b`` on the same seeds: the mean paired difference and two paired tests.

    ``mean_diff`` is the mean of ``a[i] - b[i]`` with its bootstrap interval
    ``(ci_low, ci_high)``; ``t``/``p_ttest`` the paired t-test; ``wilcoxon``/``p_wilcoxon``
    the Wilcoxon signed-rank test (both NaN below two pairs); ``n`` the pairs used and
    ``n_nan`` the pairs left out because either run was NaN (``nan_policy="omit"``).
    """

    mean_diff: float
    ci_low: float
    ci_high: float
    t: float
    p_ttest: float
    wilcoxon: float
    p_wilcoxon: float
    n: int
    n_nan: int = 0


def paired_difference(
    a: ArrayLike,
    b: ArrayLike,
    seed: int = 0,
    confidence: float = 0.95,
    n_resamples: int = 9999,
    nan_policy: NanPolicy = "raise",
) -> Paired:
    """Compare two strategies run on the same seeds: ``a[i]`` and ``b[i]`` share seed ``i``.

    Pairing removes the seed-to-seed variation both runs share (the same data draw,
    the same initial evaluation), which Welch's test counts as noise. Returns the
    mean of the differences ``d = a - b`` with a bootstrap interval of that mean
    (:func:`bootstrap_ci`, seeded by ``seed``), the paired t-test
    (``scipy.stats.ttest_rel``) and the Wilcoxon signed-rank test
    (``scipy.stats.wilcoxon``, exact for small samples without ties; it needs no
    normality, but with fewer than six non-zero differences its two-sided p value
    cannot fall below 0.05). Differences all equal: the t-test's p is 1 when they
    are zero and 0 otherwise (the t statistic 0 or infinite), as in :func:`welch`;
    all zero, the Wilcoxon p is 1. A pair is NaN when either run is.
    """
    from scipy.stats import ttest_rel, wilcoxon

    _check_policy(nan_policy)
    x = np.asarray(a, dtype=np.float64).ravel()
    y = np.asarray(b, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(
            f"paired samples need one value per seed in each: got {x.size} and {y.size}; "
            "for samples that are not paired use welch or probability_of_improvement"
        )
    ok = np.isfinite(x) & np.isfinite(y)
    n_nan = int((~ok).sum())
    if n_nan and nan_policy == "raise":
        raise _nan_error(n_nan, x.size, "pairs of runs (seeds)")
    x, y = x[ok], y[ok]
    d = x - y
    n = int(d.size)
    if n == 0:
        return Paired(math.nan, math.nan, math.nan, math.nan, math.nan, math.nan, math.nan, 0, n_nan)
    diff = float(d.mean())
    low, high = bootstrap_ci(d, confidence=confidence, n_resamples=n_resamples, seed=seed)
    if n < 2:
        return Paired(diff, low, high, math.nan, math.nan, math.nan, math.nan, n, n_nan)
    if np.all(d == d[0]):
        t, p = _decided(diff)
    else:
        res = ttest_rel(x, y)
        t, p = float(res.statistic), float(res.pvalue)
    if np.all(d == 0):
        w, pw = 0.0, 1.0  # scipy has no answer when every difference is zero; no evidence either way
    else:
        wres = wilcoxon(d)  # zero differences are dropped (Wilcoxon's own rule)
        w, pw = float(wres.statistic), float(wres.pvalue)
    return Paired(diff, low, high, t, p, w, pw, n, n_nan)


# ================================================ probability of improvement
@dataclass(frozen=True)
class Improvement:
    """P(X > Y): the chance that a run of ``a`` beats a run of ``b`` (ties count half).

    ``probability`` is the estimate (not a p value), ``(ci_low, ci_high)`` its stratified
    bootstrap interval; ``n_a``/``n_b`` the runs used, ``n_nan_a``/``n_nan_b`` those left
    out as NaN (``nan_policy="omit"``).
    """

    probability: float
    ci_low: float
    ci_high: float
    n_a: int
    n_b: int
    n_nan_a: int = 0
    n_nan_b: int = 0


def _p_greater(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """P(X > Y) + P(X = Y)/2 over all pairs, along the last two axes: ``x`` (..., n), ``y`` (..., m)."""
    gt = (x[..., :, None] > y[..., None, :]).mean(axis=(-2, -1))
    eq = (x[..., :, None] == y[..., None, :]).mean(axis=(-2, -1))
    return gt + 0.5 * eq


def probability_of_improvement(
    a: ArrayLike,
    b: ArrayLike,
    seed: int = 0,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    nan_policy: NanPolicy = "raise",
) -> Improvement:
    """rliable's probability of improvement of ``a`` over ``b``, with a bootstrap interval.

    Scores are ``(runs,)`` or ``(runs x tasks)`` (tasks such as simulator presets;
    the numbers of runs may differ, the tasks must match). For each task,
    ``P(X > Y) = U / (n m)``: the Mann-Whitney U statistic of ``a``'s runs against
    ``b``'s, i.e. the share of the ``n x m`` pairs that ``a`` wins, ties counting one
    half (Agarwal et al. 2021, eq. in section 4.3); the result is the mean over tasks.
    0.5 means neither is better; ``P(a > b) + P(b > a) = 1``. The interval is the
    percentile interval of a stratified bootstrap: within each task, the runs of
    ``a`` and of ``b`` are resampled independently. A run with a NaN in any task is
    NaN.
    """
    x, nx = _finite_rows(a, nan_policy, "runs of a")
    y, ny = _finite_rows(b, nan_policy, "runs of b")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"a has {x.shape[1]} tasks and b has {y.shape[1]}; they must match")
    n, m, tasks = x.shape[0], y.shape[0], x.shape[1]
    if n == 0 or m == 0:
        return Improvement(math.nan, math.nan, math.nan, n, m, nx, ny)
    point = float(_p_greater(x.T, y.T).mean())
    rng = np.random.default_rng(seed)
    ix = rng.integers(0, n, size=(n_resamples, tasks, n))
    iy = rng.integers(0, m, size=(n_resamples, tasks, m))
    cols = np.arange(tasks)[None, :, None]
    boot = _p_greater(x[ix, cols], y[iy, cols]).mean(axis=1)  # (resamples,)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(boot, [alpha, 1 - alpha])
    return Improvement(point, float(low), float(high), n, m, nx, ny)


# ============================================== stratified bootstrap, profiles
@dataclass(frozen=True)
class Interval:
    """An aggregate of a ``(runs x tasks)`` score matrix with its stratified bootstrap interval.

    ``estimate``, ``ci_low`` and ``ci_high`` are floats for a scalar statistic and
    arrays for a vector one (e.g. a performance profile); ``n_nan`` counts the runs
    left out as NaN (``nan_policy="omit"``).
    """

    estimate: float | np.ndarray
    ci_low: float | np.ndarray
    ci_high: float | np.ndarray
    n_runs: int
    n_tasks: int
    n_nan: int = 0


def _aggregate(name: str) -> Callable[[np.ndarray], np.ndarray]:
    """rliable's aggregates, over the last two axes ``(..., runs, tasks)``."""
    from scipy.stats import trim_mean

    if name == "mean":  # the mean of the per-task means
        return lambda s: s.mean(axis=(-2, -1))
    if name == "median":  # the median over tasks of the per-task means
        return lambda s: np.median(s.mean(axis=-2), axis=-1)
    if name == "iqm":  # the IQM of all runs of all tasks pooled
        return lambda s: trim_mean(s.reshape(*s.shape[:-2], -1), 0.25, axis=-1)
    raise ValueError(f"statistic {name!r} is not one of 'mean', 'median', 'iqm' or a function")


def stratified_bootstrap_ci(
    scores: ArrayLike,
    statistic: str | Callable[[np.ndarray], float | np.ndarray] = "iqm",
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
    nan_policy: NanPolicy = "raise",
) -> Interval:
    """``statistic`` of ``scores`` (runs x tasks) with a stratified bootstrap interval.

    Each resample draws, within every task separately, as many runs as it has
    with replacement (rliable's ``StratifiedBootstrap``), so each task keeps its
    weight; the interval is the percentile interval. ``statistic`` is ``"mean"``
    (mean of the task means), ``"median"`` (median of the task means), ``"iqm"``
    (the interquartile mean of all runs pooled) or a function of a ``(runs x tasks)``
    array returning a float or a 1-D array. A 1-D ``scores`` is one task.
    """
    m, n_nan = _finite_rows(scores, nan_policy)
    n, tasks = m.shape
    if n == 0:
        raise ValueError("no runs to bootstrap" + (f" ({n_nan} were NaN)" if n_nan else ""))
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_resamples, n, tasks))
    resamples = m[idx, np.arange(tasks)]  # (resamples, runs, tasks)
    if isinstance(statistic, str):
        agg = _aggregate(statistic)
        estimate, boot = np.asarray(agg(m)), np.asarray(agg(resamples))
    else:
        estimate = np.asarray(statistic(m), dtype=np.float64)
        boot = np.stack([np.asarray(statistic(r), dtype=np.float64) for r in resamples])
    alpha = (1 - confidence) / 2
    low, high = np.quantile(boot, [alpha, 1 - alpha], axis=0)
    if estimate.ndim == 0:
        return Interval(float(estimate), float(low), float(high), n, tasks, n_nan)
    return Interval(estimate, low, high, n, tasks, n_nan)


def performance_profile(
    scores: ArrayLike, taus: ArrayLike, nan_policy: NanPolicy = "raise"
) -> np.ndarray:
    """The fraction of runs scoring above each ``tau`` (rliable's score distribution).

    ``scores`` is ``(runs,)`` or ``(runs x tasks)``; for several tasks the fraction is
    taken per task, then averaged. Returns an array shaped like ``taus``: 1 at a tau
    below every run, 0 at or above the best. For its interval, bootstrap it:
    ``stratified_bootstrap_ci(scores, lambda s: performance_profile(s, taus))``.
    """
    m, _ = _finite_rows(scores, nan_policy)
    t = np.asarray(taus, dtype=np.float64)
    if m.shape[0] == 0:
        return np.full(t.shape, math.nan)
    above = m[:, :, None] > t.ravel()[None, None, :]  # (runs, tasks, taus)
    return above.mean(axis=0).mean(axis=0).reshape(t.shape)
