"""Property tests of the numerics: long runs of extreme rewards, no NaN or inf.

Each example drives one bandit for 20,000 steps with rewards drawn from the
edges of the algorithm's range (0, 1, the smallest subnormal, 1 - 2^-53;
+-1e12 for real-valued rewards), at extreme hyperparameters, with arms either
chosen by the bandit or forced on it (a teacher may play an arm the bandit
gives probability ~0). Estimates, probabilities and the saved state must stay
finite throughout.
"""

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sparft import bandits

EXTREME_PARAMS = {
    "uniform": [{}],
    "epsilon_greedy": [{}, {"epsilon": 1.0, "decay": 10.0}, {"epsilon": 0.0, "initial_value": 1e12}],
    "softmax": [{}, {"temperature": 1e-9}, {"temperature": 1e9, "step_size": 1.0}],
    "ucb1": [{}, {"c": 0.0}, {"c": 1e6}],
    "kl_ucb": [{}, {"c": 3.0}],
    "discounted_ucb": [{}, {"discount": 0.5}, {"discount": 1.0, "xi": 1e6}],
    "sliding_window_ucb": [{}, {"window": 1}, {"window": 2, "xi": 0.0}],
    "thompson_beta": [{}, {"alpha_prior": 1e-3, "beta_prior": 1e-3},
                      {"discount": 0.5, "alpha_prior": 1e-3, "beta_prior": 1e6}],
    "thompson_gaussian": [{}, {"sigma": 1e-9}, {"sigma": 1e6, "prior_count": 1e-6, "discount": 0.5}],
    "exp3": [{}, {"gamma": 0.0, "eta": 100.0}, {"gamma": 1.0}],
    "exp3_ix": [{}, {"eta": 100.0, "gamma": 0.0}, {"eta": 1e-9}],
    "exp3_s": [{}, {"gamma": 0.0, "eta": 100.0, "alpha": 0.0}, {"alpha": 1.0, "eta": 1e-9}],
}

UNIT_EDGES = [0.0, 1.0, 5e-324, 1.0 - 2.0**-53, 0.5]


def real_edges(hi):
    return [-hi, hi, 0.0, 5e-324, -5e-324, 1e-300, -1.0]


def check_finite(b):
    v = b.values()
    assert np.all(np.isfinite(v)), "values"
    p = b.probabilities()
    if p is not None:
        assert np.all(np.isfinite(p)) and np.all(p >= 0), "probabilities"
        assert p.sum() == pytest.approx(1.0, abs=1e-9)


def test_every_builtin_is_covered():
    assert set(EXTREME_PARAMS) == {n for n in bandits.available()
                                   if bandits.spec(n).cls.__module__.startswith("sparft.")}


@pytest.mark.parametrize("name", sorted(EXTREME_PARAMS))
@settings(max_examples=2, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_long_runs_of_extreme_rewards_stay_finite(name, data):
    lo, hi = bandits.spec(name).reward_range
    edges = UNIT_EDGES if (lo, hi) == (0.0, 1.0) else real_edges(hi)
    values = st.sampled_from(edges) | st.floats(lo, hi, allow_nan=False)
    pattern = np.array(data.draw(st.lists(values, min_size=1, max_size=12), label="rewards"))
    params = data.draw(st.sampled_from(EXTREME_PARAMS[name]), label="params")
    arms_mode = data.draw(st.sampled_from(["bandit", "forced", "mixed"]), label="arms")
    n_arms = data.draw(st.sampled_from([2, 7]), label="n_arms")
    steps = 20_000
    pattern = pattern.tolist()

    b = bandits.make(name, n_arms, seed=0, **params)
    for t in range(steps):
        arm = b.select()
        assert 0 <= arm < n_arms
        if arms_mode == "forced" or (arms_mode == "mixed" and t % 2):
            arm = (t * 3) % n_arms  # includes arms the bandit would never play
        # The reward depends on the arm and the step: adversarial for every arm.
        b.update(arm, pattern[(t * 7 + 5 * arm) % len(pattern)])
        if t % 2500 == 2499:
            check_finite(b)
    json.dumps(b.state_dict(), allow_nan=False)  # no inf/NaN in the saved statistics


@pytest.mark.parametrize("name", sorted(EXTREME_PARAMS))
@settings(max_examples=10, deadline=None, derandomize=True)
@given(data=st.data())
def test_per_object_bandits_survive_adversarial_sequences(name, data):
    """Shorter sequences on the per-object form, with any interleaving of calls."""
    lo, hi = bandits.spec(name).reward_range
    edges = UNIT_EDGES if (lo, hi) == (0.0, 1.0) else real_edges(hi)
    params = data.draw(st.sampled_from(EXTREME_PARAMS[name]), label="params")
    b = bandits.make(name, 3, seed=data.draw(st.integers(0, 2**32), label="seed"), **params)
    ops = data.draw(st.lists(st.tuples(st.integers(0, 2), st.sampled_from(edges)),
                             min_size=50, max_size=300), label="ops")
    for arm, reward in ops:
        a = b.select()
        assert 0 <= a < 3
        b.update(arm if arm != 2 else a, reward)
    assert np.all(np.isfinite(b.values()))
    p = b.probabilities()
    if p is not None:
        assert np.all(np.isfinite(p)) and p.sum() == pytest.approx(1.0)
    json.dumps(b.state_dict(), allow_nan=False)
