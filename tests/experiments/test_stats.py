"""The statistics on small cases computed by hand."""

import dataclasses
import math

import numpy as np
import pytest

from sparft.experiments import stats


def test_iqm_trims_a_quarter_from_each_end():
    # 1..8: the middle half is 3, 4, 5, 6.
    assert stats.iqm(range(1, 9)) == pytest.approx(4.5)
    # An outlier in the top quarter does not move it.
    assert stats.iqm([1, 2, 3, 4, 5, 6, 7, 1000]) == pytest.approx(4.5)
    assert math.isnan(stats.iqm([]))


def test_auc_is_the_mean_height_of_the_curve():
    # Trapezoids: (0 + .5)/2 * 10 + (.5 + 1)/2 * 10 = 10, over a length of 20.
    assert stats.auc([0, 10, 20], [0.0, 0.5, 1.0]) == pytest.approx(0.5)
    # Unsorted input is sorted first; a flat curve has its own height.
    assert stats.auc([20, 0, 10], [1.0, 0.0, 0.5]) == pytest.approx(0.5)
    assert stats.auc([0, 5, 30], [0.3, 0.3, 0.3]) == pytest.approx(0.3)
    # A curve that learns sooner has the larger area at equal end points.
    assert stats.auc([0, 10, 20], [0, 0.9, 1.0]) > stats.auc([0, 10, 20], [0, 0.1, 1.0])
    assert stats.auc([7], [0.25]) == 0.25


def test_steps_to_reach_is_the_first_step_at_or_above_the_threshold():
    steps, acc = [0, 10, 20, 30], [0.1, 0.35, 0.5, 0.45]
    assert stats.steps_to_reach(steps, acc, 0.35) == 10
    assert stats.steps_to_reach(steps, acc, 0.4) == 20
    assert math.isnan(stats.steps_to_reach(steps, acc, 0.6))


def test_welch_matches_the_textbook_formula():
    a, b = [1.0, 2.0, 3.0], [2.0, 4.0, 6.0, 8.0]
    # var(a) = 1, var(b) = 20/3; se^2 = 1/3 + (20/3)/4 = 2; t = (2 - 5) / sqrt(2).
    res = stats.welch(a, b)
    assert res.diff == pytest.approx(-3.0)
    assert res.t == pytest.approx(-3 / math.sqrt(2))
    # Welch-Satterthwaite dof: 2^2 / ((1/3)^2/2 + (5/3)^2/3) = 4 / (1/18 + 25/27) = 4.0754...
    from scipy.stats import t as student

    dof = 4 / ((1 / 3) ** 2 / 2 + (5 / 3) ** 2 / 3)
    assert res.p == pytest.approx(2 * student.sf(3 / math.sqrt(2), dof))


def test_welch_on_constant_samples_is_decided_by_the_means():
    assert stats.welch([0.5, 0.5], [0.5, 0.5]).p == 1.0
    assert stats.welch([0.5, 0.5], [0.25, 0.25]).p == 0.0
    assert math.isnan(stats.welch([0.5], [0.1, 0.2]).p)


def test_bootstrap_of_two_points_spans_them():
    # Resampled means of {0, 1} are 0, .5, 1 with probability 1/4, 1/2, 1/4: the
    # 2.5% and 97.5% percentiles are 0 and 1.
    low, high = stats.bootstrap_ci([0.0, 1.0], method="percentile")
    assert (low, high) == (0.0, 1.0)


def test_bootstrap_interval_brackets_the_mean_and_shrinks_with_data():
    rng = np.random.default_rng(0)
    small = rng.normal(0.5, 0.1, size=8)
    large = rng.normal(0.5, 0.1, size=128)
    lo_s, hi_s = stats.bootstrap_ci(small)
    lo_l, hi_l = stats.bootstrap_ci(large)
    assert lo_s < small.mean() < hi_s
    assert lo_l < large.mean() < hi_l
    assert hi_l - lo_l < (hi_s - lo_s) / 2
    # Same seed, same interval.
    assert stats.bootstrap_ci(small, seed=3) == stats.bootstrap_ci(small, seed=3)


def test_bootstrap_degenerate_cases_are_exact():
    assert stats.bootstrap_ci([0.4, 0.4, 0.4]) == (0.4, 0.4)
    assert stats.bootstrap_ci([0.7]) == (0.7, 0.7)
    assert all(math.isnan(v) for v in stats.bootstrap_ci([]))


def test_summarise_and_curve_band():
    s = stats.summarise([0.2, 0.4, 0.6, 0.8])
    assert s.mean == pytest.approx(0.5) and s.n == 4
    assert s.iqm == pytest.approx(0.5)
    assert s.ci_low < 0.5 < s.ci_high
    curves = np.array([[0.0, 0.2, 0.4], [0.0, 0.4, 0.8]])
    mean, low, high = stats.mean_curve_band(curves)
    np.testing.assert_allclose(mean, [0.0, 0.3, 0.6])
    assert np.all(low <= mean) and np.all(mean <= high)
    assert low[0] == high[0] == 0.0


# ------------------------------------------------------------------ NaN runs
def test_nan_runs_are_an_error_that_counts_them_unless_omitted_and_reported():
    values = [0.2, float("nan"), 0.6, float("inf"), 0.4]
    for fn in (stats.summarise, stats.iqm, stats.bootstrap_ci):
        with pytest.raises(ValueError, match="2 of 5 runs are NaN or infinite.*nan_policy='omit'"):
            fn(values)
    s = stats.summarise(values, nan_policy="omit")
    assert (s.n, s.n_nan) == (3, 2) and s.mean == pytest.approx(0.4)
    assert s == stats.Summary(*dataclasses.astuple(stats.summarise([0.2, 0.6, 0.4]))[:6], n_nan=2)
    assert stats.iqm(values, nan_policy="omit") == pytest.approx(0.4)
    with pytest.raises(ValueError, match="1 of 3 runs of b"):
        stats.welch([0.1, 0.2, 0.3], [0.1, math.nan, 0.3])
    w = stats.welch([0.1, 0.2, 0.3], [0.1, math.nan, 0.3], nan_policy="omit")
    assert (w.n_nan_a, w.n_nan_b) == (0, 1) and w.diff == pytest.approx(0.0)
    finite, dropped = stats.finite_runs(values, nan_policy="omit")
    assert finite.tolist() == [0.2, 0.6, 0.4] and dropped == 2
    with pytest.raises(ValueError, match="nan_policy must be"):
        stats.summarise(values, nan_policy="drop")
    with pytest.raises(ValueError, match="1 of 2 curves"):
        stats.mean_curve_band(np.array([[0.0, 0.5], [0.0, math.nan]]))


# --------------------------------------------------------------- paired seeds
def test_paired_difference_matches_the_hand_computed_tests():
    # d = a - b = 1, 2, 3, 4, 5: mean 3, sd sqrt(2.5), se sqrt(2.5 / 5) = 1/sqrt(2): t = 3 sqrt(2).
    from scipy.stats import t as student

    a, b = [3.0, 5.0, 7.0, 9.0, 11.0], [2.0, 3.0, 4.0, 5.0, 6.0]
    res = stats.paired_difference(a, b)
    assert res.mean_diff == pytest.approx(3.0) and (res.n, res.n_nan) == (5, 0)
    assert res.t == pytest.approx(3 * math.sqrt(2))
    assert res.p_ttest == pytest.approx(2 * student.sf(3 * math.sqrt(2), df=4))
    # Wilcoxon: all five differences positive, W- = 0; exactly 2 of the 2^5 sign patterns are
    # as extreme (all + or all -): p = 2/32.
    assert res.wilcoxon == 0.0 and res.p_wilcoxon == pytest.approx(2 / 32)
    assert 1.0 <= res.ci_low < 3.0 < res.ci_high <= 5.0
    assert stats.paired_difference(a, b, seed=4) == stats.paired_difference(a, b, seed=4)


def test_pairing_finds_a_small_shared_seed_effect_that_welch_misses():
    # The seeds spread both strategies widely, and a wins on every seed by 0.01-0.02.
    b = np.array([0.1, 0.3, 0.5, 0.7, 0.9])
    a = b + np.array([0.01, 0.02, 0.01, 0.02, 0.015])
    assert stats.welch(a, b).p > 0.9
    res = stats.paired_difference(a, b)
    assert res.p_ttest < 0.01 and res.mean_diff == pytest.approx(0.015)
    assert 0.01 <= res.ci_low < res.ci_high <= 0.02


def test_paired_difference_degenerate_and_nan_cases():
    same = stats.paired_difference([0.5, 0.7, 0.9], [0.5, 0.7, 0.9])
    assert (same.mean_diff, same.p_ttest, same.p_wilcoxon, same.ci_low, same.ci_high) == (0, 1, 1, 0, 0)
    shifted = stats.paired_difference([0.75, 1.0], [0.5, 0.75])
    assert shifted.p_ttest == 0.0 and shifted.t == math.inf  # a constant gain leaves no doubt
    one = stats.paired_difference([0.6], [0.5])
    assert one.mean_diff == pytest.approx(0.1) and math.isnan(one.p_ttest) and math.isnan(one.p_wilcoxon)
    with pytest.raises(ValueError, match="one value per seed"):
        stats.paired_difference([0.1, 0.2, 0.3], [0.1, 0.2])
    a, b = [0.3, math.nan, 0.5, 0.6], [0.1, 0.2, 0.2, math.nan]
    with pytest.raises(ValueError, match="2 of 4 pairs of runs"):
        stats.paired_difference(a, b)
    res = stats.paired_difference(a, b, nan_policy="omit")  # seeds 1 and 3 go, as pairs
    assert (res.n, res.n_nan) == (2, 2) and res.mean_diff == pytest.approx(0.25)


# ------------------------------------------------- probability of improvement
def test_probability_of_improvement_counts_the_pairs_each_side_wins():
    from scipy.stats import mannwhitneyu

    # a = 1, 2, 3 against b = 0, 2: 1>0, 1<2, 2>0, 2=2 (half), 3>0, 3>2: 4.5 of 6 pairs.
    a, b = [1.0, 2.0, 3.0], [0.0, 2.0]
    res = stats.probability_of_improvement(a, b)
    assert res.probability == pytest.approx(0.75) == mannwhitneyu(a, b).statistic / 6
    assert (res.n_a, res.n_b) == (3, 2)
    assert stats.probability_of_improvement(b, a).probability == pytest.approx(0.25)  # the two sum to one
    assert res.ci_low <= 0.75 <= res.ci_high and res.ci_low >= 0.0 and res.ci_high <= 1.0
    # Tasks (runs x tasks): the mean of the per-task probabilities, here 0.75 and 0.
    two = stats.probability_of_improvement([[1, 5], [2, 5], [3, 5]], [[0, 6], [2, 6]])
    assert two.probability == pytest.approx(0.375)
    # Identical constant samples: exactly one half, whatever the resample.
    tie = stats.probability_of_improvement([0.5, 0.5], [0.5, 0.5, 0.5])
    assert (tie.probability, tie.ci_low, tie.ci_high) == (0.5, 0.5, 0.5)
    with pytest.raises(ValueError, match="1 of 3 runs of a"):
        stats.probability_of_improvement([1.0, math.nan, 3.0], b)
    omitted = stats.probability_of_improvement([1.0, math.nan, 3.0], b, nan_policy="omit")
    assert omitted.n_nan_a == 1 and omitted.probability == pytest.approx((1 + 0 + 1 + 1) / 4)
    with pytest.raises(ValueError, match="tasks"):
        stats.probability_of_improvement([[1, 2]], [[1, 2, 3]])


# ------------------------------------------- stratified bootstrap and profiles
def test_stratified_bootstrap_resamples_runs_within_each_task():
    # Task 0 has runs 0 and 1, task 1 is always 5. Mean of task means = (m0 + 5) / 2 where a
    # resampled m0 is 0, .5 or 1 (probabilities 1/4, 1/2, 1/4): the 95% interval is [2.5, 3].
    scores = np.array([[0.0, 5.0], [1.0, 5.0]])
    res = stats.stratified_bootstrap_ci(scores, "mean")
    assert res.estimate == pytest.approx(2.75)
    assert (res.ci_low, res.ci_high) == (2.5, 3.0)
    assert (res.n_runs, res.n_tasks, res.n_nan) == (2, 2, 0)
    # Median of the task means (2, 3, 9) over 3 tasks; IQM of all runs pooled (1..8 -> 4.5).
    assert stats.stratified_bootstrap_ci([[1, 2, 9], [3, 4, 9]], "median").estimate == pytest.approx(3.0)
    pooled = np.arange(1, 9, dtype=float).reshape(4, 2)
    assert stats.stratified_bootstrap_ci(pooled, "iqm").estimate == pytest.approx(4.5)
    # A function of the (runs x tasks) matrix, scalar or vector, works the same way.
    custom = stats.stratified_bootstrap_ci(scores, lambda s: s[:, 0].max())
    assert custom.estimate == 1.0 and custom.ci_low == 0.0 and custom.ci_high == 1.0
    with pytest.raises(ValueError, match="1 of 3 runs"):
        stats.stratified_bootstrap_ci([[0.1], [math.nan], [0.3]])
    omitted = stats.stratified_bootstrap_ci([[0.1], [math.nan], [0.3]], "mean", nan_policy="omit")
    assert omitted.n_nan == 1 and omitted.estimate == pytest.approx(0.2)
    with pytest.raises(ValueError, match="not one of"):
        stats.stratified_bootstrap_ci(scores, "mode")


def test_performance_profile_is_the_fraction_of_runs_above_each_tau():
    # Strictly above: 0.5 is not above 0.5.
    np.testing.assert_allclose(stats.performance_profile([0.1, 0.5, 0.9], [0.0, 0.5, 1.0]), [1, 1 / 3, 0])
    # Per task, then averaged: task 0 {0.2, 0.6}, task 1 {0.9, 0.1}.
    np.testing.assert_allclose(
        stats.performance_profile([[0.2, 0.9], [0.6, 0.1]], [0.0, 0.15, 0.5, 0.95]),
        [1.0, (1.0 + 0.5) / 2, 0.5, 0.0],
    )
    with pytest.raises(ValueError, match="1 of 2 runs"):
        stats.performance_profile([0.1, math.nan], [0.0])
    taus = np.array([0.0, 0.5, 1.0])
    band = stats.stratified_bootstrap_ci([0.1, 0.5, 0.9], lambda s: stats.performance_profile(s, taus))
    np.testing.assert_allclose(band.estimate, [1, 1 / 3, 0])
    assert band.ci_low.shape == (3,) and np.all(band.ci_low <= band.estimate)
    assert np.all(band.estimate <= band.ci_high) and (band.ci_low[0], band.ci_high[2]) == (1.0, 0.0)
