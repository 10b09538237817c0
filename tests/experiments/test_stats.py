"""The statistics on small cases computed by hand."""

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
