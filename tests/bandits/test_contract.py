"""The contract every registered bandit keeps.

Parametrised over the whole registry (plus option variants that switch on other
code paths): arms in range, probabilities a distribution that ``select`` really
follows, same seed -> same trajectory, other seed -> another, a JSON round trip
mid-run continues identically, bad hyperparameters / rewards / arms / saved
states raise without touching the state.
"""

import json

import numpy as np
import pytest

from sparft import bandits

# Variants run besides each algorithm's defaults, for the code paths options switch on.
VARIANTS = {
    "epsilon_greedy": [{"epsilon": 0.3, "decay": 0.05, "min_epsilon": 0.01, "initial_value": 1.0}],
    "softmax": [{"step_size": 0.2, "temperature": 0.5}],
    "ucb1": [{"c": 0.5}],
    "kl_ucb": [{"c": 3.0}],
    "discounted_ucb": [{"discount": 0.9, "xi": 0.3}],
    "sliding_window_ucb": [{"window": 7}],
    "thompson_beta": [{"alpha_prior": 0.5, "beta_prior": 0.3}, {"discount": 0.95},
                      {"discount": 0.9, "alpha_prior": 0.2}],
    "thompson_gaussian": [{"sigma": 0.3, "prior_mean": 0.5, "prior_count": 2.0},
                          {"discount": 0.9}],
    "exp3": [{"gamma": 0.3, "eta": 0.5}],
    "exp3_ix": [{"eta": 0.5, "gamma": 0.0}],
    "exp3_s": [{"gamma": 0.2, "eta": 0.3, "alpha": 0.01}],
}

NAMES = bandits.available()
CASES = [(n, {}) for n in NAMES] + [(n, v) for n in NAMES for v in VARIANTS.get(n, [])]
IDS = [n + ("-" + "-".join(f"{k}={v}" for k, v in p.items()) if p else "") for n, p in CASES]

# A value each algorithm must refuse for one of its hyperparameters.
OUT_OF_RANGE = {
    "uniform": [],
    "epsilon_greedy": [{"epsilon": 1.5}, {"decay": -1.0}, {"epsilon": 0.1, "min_epsilon": 0.2}],
    "softmax": [{"temperature": 0.0}, {"step_size": 0.0}, {"step_size": 1.5}],
    "ucb1": [{"c": -0.1}],
    "kl_ucb": [{"c": -1.0}],
    "discounted_ucb": [{"discount": 0.0}, {"discount": 1.01}, {"xi": -1.0}],
    "sliding_window_ucb": [{"window": 0}, {"window": 2.5}, {"xi": -1.0}],
    "thompson_beta": [{"alpha_prior": 0.0}, {"beta_prior": -1.0}, {"discount": 0.0}],
    "thompson_gaussian": [{"sigma": 0.0}, {"prior_count": 0.0}, {"discount": 1.5}],
    "exp3": [{"gamma": -0.1}, {"gamma": 1.1}, {"eta": 0.0}, {"gamma": 0.0}],
    "exp3_ix": [{"eta": 0.0}, {"gamma": -0.1}],
    "exp3_s": [{"gamma": 1.5}, {"alpha": 1.5}, {"eta": -1.0}],
}


class Script:
    """Rewards fixed in advance: step t on arm a pays 1 if u[t] < mean[a]."""

    def __init__(self, n_arms, steps, seed=0):
        self.means = np.linspace(0.1, 0.9, n_arms)
        self.u = np.random.default_rng(seed).random((steps, 1))

    def play(self, bandit, start, stop):
        arms, probs = [], []
        for t in range(start, stop):
            p = bandit.probabilities()
            arm = bandit.select()
            bandit.update(arm, float(self.u[t, 0] < self.means[arm]))
            arms.append(arm)
            probs.append(p)
        return arms, probs


def roundtrip(state):
    return json.loads(json.dumps(state, allow_nan=False))


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("n_arms", [1, 5])
def test_arms_probabilities_and_values_are_well_formed(case, n_arms):
    name, params = case
    b = bandits.make(name, n_arms, seed=0, **params)
    script = Script(n_arms, 150)
    for t in range(150):
        p = b.probabilities()
        if p is not None:
            assert p.shape == (n_arms,) and np.all(p >= 0)
            assert p.sum() == pytest.approx(1.0, abs=1e-12)
        arm = b.select()
        assert isinstance(arm, int) and 0 <= arm < n_arms
        b.update(arm, float(script.u[t, 0] < script.means[arm]))
    v = b.values()
    assert v.shape == (n_arms,) and np.all(np.isfinite(v))
    assert b.t == 150
    assert (b.probabilities() is not None) == bandits.spec(name).has_probabilities


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_same_seed_same_trajectory_other_seed_another(case):
    name, params = case
    script = Script(5, 300)
    runs = [script.play(bandits.make(name, 5, seed=s, **params), 0, 300)[0] for s in (3, 3, 4)]
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_json_round_trip_mid_run_continues_identically(case):
    name, params = case
    script = Script(5, 700)
    a = bandits.make(name, 5, seed=1, **params)
    script.play(a, 0, 150)
    state = roundtrip(a.state_dict())
    b = bandits.make(name, 5, seed=99, **params)  # another seed: the state must override it
    b.load_state_dict(state)
    assert b.t == a.t == 150
    arms_a, probs_a = script.play(a, 150, 700)
    arms_b, probs_b = script.play(b, 150, 700)
    assert arms_a == arms_b
    np.testing.assert_array_equal(a.values(), b.values())
    if probs_a[0] is not None:
        np.testing.assert_array_equal(np.array(probs_a), np.array(probs_b))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_reset_forgets_and_reseeds(case):
    name, params = case
    script = Script(4, 200)
    fresh = bandits.make(name, 4, seed=5, **params)
    used = bandits.make(name, 4, seed=8, **params)
    script.play(used, 0, 100)
    used.reset(seed=5)
    assert used.t == 0
    np.testing.assert_array_equal(used.values(), fresh.values())
    assert script.play(used, 0, 200)[0] == script.play(fresh, 0, 200)[0]
    used.reset()  # no seed: statistics cleared, streams go on
    assert used.t == 0
    np.testing.assert_array_equal(used.values(), bandits.make(name, 4, seed=0, **params).values())


def test_state_from_another_configuration_is_refused():
    a = bandits.make("ucb1", 3, seed=0)
    with pytest.raises(ValueError, match="hyperparameters"):
        bandits.make("ucb1", 3, c=1.0).load_state_dict(a.state_dict())
    with pytest.raises(ValueError, match="n_arms"):
        bandits.make("ucb1", 4).load_state_dict(a.state_dict())
    with pytest.raises(ValueError, match="exp3"):
        bandits.make("exp3", 3).load_state_dict(a.state_dict())


@pytest.mark.parametrize("name", NAMES)
def test_bad_hyperparameters_raise_naming_the_valid_ones(name):
    fields = [f["name"] for f in bandits.spec(name).Params.describe()]
    bad = [{"no_such_parameter": 1.0}]
    bad += [{f: "abc"} for f in fields] + [{f: float("nan")} for f in fields]
    bad += OUT_OF_RANGE[name]
    for params in bad:
        with pytest.raises(ValueError) as err:
            bandits.make(name, 3, seed=0, **params)
        msg = str(err.value)
        assert name in msg and "\n" not in msg
        for f in fields:  # the valid hyperparameters are named
            assert f in msg
    with pytest.raises(ValueError, match="n_arms"):
        bandits.make(name, 0)
    with pytest.raises(ValueError, match="seed"):
        bandits.make(name, 3, seed=-1)


def test_every_builtin_has_out_of_range_cases():
    assert set(OUT_OF_RANGE) == {n for n in NAMES if bandits.spec(n).cls.__module__.startswith("sparft.")}


def test_close_misspelling_of_a_hyperparameter_is_suggested():
    with pytest.raises(ValueError, match="did you mean 'discount'"):
        bandits.make("thompson_beta", 3, discont=0.9)


def test_hyperparameter_types_are_coerced():
    b = bandits.make("sliding_window_ucb", 3, window=50.0, xi=1)
    assert b.params.window == 50 and isinstance(b.params.window, int)
    assert isinstance(b.params.xi, float)
    with pytest.raises(ValueError):
        bandits.make("ucb1", 3, c=True)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_out_of_range_rewards_and_arms_raise_and_change_nothing(case):
    name, params = case
    b = bandits.make(name, 3, seed=0, **params)
    Script(3, 20).play(b, 0, 20)
    before = json.dumps(b.state_dict())
    lo, hi = bandits.spec(name).reward_range
    span = max(1.0, hi - lo)
    for reward in (lo - 1e-6 * span, hi + 1e-6 * span, float("nan"), float("inf"), "x", None):
        with pytest.raises(ValueError, match="reward"):
            b.update(0, reward)
    for arm in (-1, 3, 1.5, "0"):
        with pytest.raises(ValueError, match="arm"):
            b.update(arm, lo)
    assert json.dumps(b.state_dict()) == before
    b.update(0, lo)  # the edges of the range are accepted
    b.update(1, hi)


@pytest.mark.parametrize("name", [n for n in NAMES if bandits.spec(n).has_probabilities])
def test_select_follows_probabilities(name):
    b = bandits.make(name, 4, seed=2)
    Script(4, 60).play(b, 0, 60)
    p = b.probabilities()
    n = 6000
    counts = np.bincount([b.select() for _ in range(n)], minlength=4)  # select leaves stats alone
    np.testing.assert_array_equal(b.probabilities(), p)
    tolerance = 5.0 * np.sqrt(p * (1.0 - p) / n) + 1e-9
    assert np.all(np.abs(counts / n - p) <= tolerance), (counts / n, p)


@pytest.mark.parametrize("name", NAMES)
def test_seed_forms_and_the_generator_state_in_the_state_dict(name):
    script = Script(4, 100)
    by_int = script.play(bandits.make(name, 4, seed=7), 0, 100)[0]
    by_ss = script.play(bandits.make(name, 4, seed=np.random.SeedSequence(7)), 0, 100)[0]
    assert by_int == by_ss
    # A Generator seeds the bandit from its next draws: the two never share a stream.
    gen = np.random.default_rng(7)
    b = bandits.make(name, 4, seed=gen)
    assert b.rng is not gen
    assert script.play(bandits.make(name, 4, seed=np.random.default_rng(7)), 0, 100)[0] == \
        script.play(b, 0, 100)[0]
    assert b.state_dict()["rng"] == b.rng.bit_generator.state  # numpy's own, JSON-able


@pytest.mark.parametrize("name", NAMES)
def test_bad_saved_state_raises_and_changes_nothing(name):
    b = bandits.make(name, 4, seed=0)
    Script(4, 30).play(b, 0, 30)
    before = json.dumps(b.state_dict())
    good = roundtrip(b.state_dict())
    other = bandits.make(name, 4, seed=1)
    Script(4, 30).play(other, 0, 10)
    bad_states = [
        {**roundtrip(other.state_dict()), "rng": {"bit_generator": "MT19937"}},
        {**roundtrip(other.state_dict()), "rng": None},
        {**roundtrip(other.state_dict()), "format": 1},
        {**roundtrip(other.state_dict()), "stats": {}},
    ]
    for state in bad_states:
        with pytest.raises(ValueError):
            b.load_state_dict(state)
        assert json.dumps(b.state_dict()) == before
    b.load_state_dict(good)
    assert json.dumps(b.state_dict()) == before
