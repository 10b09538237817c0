"""Curriculum signals on small hand-computed outcomes, their ranges, history and registry."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sparft.curricula import signals
from sparft.curricula.outcome import StepOutcome, group_advantages
from sparft.curricula.signals import ArmHistory


def outcome(rewards, arms, step=0, eval=None) -> StepOutcome:
    rewards = np.asarray(rewards, dtype=np.float64)
    return StepOutcome(
        step=step,
        example_ids=tuple(f"x{i}" for i in range(len(arms))),
        arms=np.asarray(arms),
        rewards=rewards,
        advantages=group_advantages(rewards),
        tokens=np.ones(rewards.shape, dtype=np.int64),
        eval=eval or {},
    )


# Two examples of arm 0 (solve rates 1/2 and 1/4), one of arm 2 (solve rate 1).
HAND = outcome([[1, 1, 0, 0], [1, 0, 0, 0], [1, 1, 1, 1]], [0, 0, 2])


def test_stateless_signals_by_hand():
    assert signals.batch_value("solve_rate", HAND) == pytest.approx((0.5 + 0.25 + 1.0) / 3)
    assert signals.per_arm("solve_rate", HAND) == pytest.approx({0: 0.375, 2: 1.0})
    assert signals.per_arm("failure_rate", HAND) == pytest.approx({0: 0.625, 2: 0.0})
    assert signals.batch_value("failure_rate", HAND) == pytest.approx(1 - 1.75 / 3)
    # p(1-p): 1/4 and 3/16 for arm 0, 0 for arm 2
    assert signals.per_arm("learnability", HAND) == pytest.approx({0: (0.25 + 0.1875) / 2, 2: 0.0})
    assert signals.batch_value("learnability", HAND) == pytest.approx((0.25 + 0.1875) / 3)


def test_abs_advantage_by_hand():
    # [1,1,0,0]: mean 1/2, unbiased std sqrt(1/3): |A| = 0.5 / sqrt(1/3) for every rollout.
    # [1,0,0,0]: mean 1/4, std 1/2: |A| = 1.5 once and 0.5 three times -> mean 0.75.
    eps = 1e-4
    a0 = 0.5 / (np.sqrt(1 / 3) + eps)
    a1 = (0.75 + 3 * 0.25) / 4 / (0.5 + eps)
    assert signals.per_arm("abs_advantage", HAND) == pytest.approx({0: (a0 + a1) / 2, 2: 0.0})
    assert signals.batch_value("abs_advantage", HAND) == pytest.approx((a0 + a1) / 3)


def test_learning_progress_is_change_between_successive_pulls():
    h = ArmHistory(3)
    first = outcome([[0, 0, 0, 0], [1, 0, 0, 0]], [0, 1])
    assert signals.per_arm("learning_progress", first, h) == {0: 0.0, 1: 0.0}  # first pulls
    h.update(first)
    second = outcome([[1, 1, 0, 0], [1, 1, 1, 0]], [0, 0])
    # arm 0: 0 -> 0.625; arm 1 not pulled keeps its progress (0)
    assert signals.per_arm("learning_progress", second, h) == pytest.approx({0: 0.625})
    assert signals.batch_value("learning_progress", second, h) == pytest.approx(0.625)
    h.update(second)
    third = outcome([[0, 0, 0, 0], [0, 0, 0, 0]], [0, 1])
    assert signals.per_arm("learning_progress", third, h) == pytest.approx({0: -0.625, 1: -0.25})
    assert signals.batch_value("learning_progress", third, h) == pytest.approx((-0.625 - 0.25) / 2)
    assert signals.per_arm("abs_learning_progress", third, h) == pytest.approx({0: 0.625, 1: 0.25})
    h.update(third)
    np.testing.assert_allclose(h.progress, [-0.625, -0.25, 0.0])
    np.testing.assert_array_equal(h.pulls, [3, 2, 0])
    np.testing.assert_array_equal(h.examples, [4, 2, 0])


def test_learning_progress_with_smoothing():
    h = ArmHistory(1, alpha=0.5)
    h.update(outcome([[1, 1, 1, 1]], [0]))  # first pull: solve rate 1 taken as is
    assert h.solve_rate[0] == 1.0
    lp = signals.per_arm("learning_progress", outcome([[0, 0, 0, 0]], [0]), h)
    assert lp == pytest.approx({0: -0.5})  # smoothed 1 -> 0.5


def test_accuracy_gain():
    h = ArmHistory(2)
    assert (
        signals.batch_value("accuracy_gain", outcome([[1, 0]], [0], eval={"accuracy": 0.4}), h)
        == 0.0
    )
    h.observe_eval(0.4)
    assert signals.batch_value("accuracy_gain", outcome([[1, 0]], [1]), h) == 0.0  # not evaluated
    later = outcome([[1, 0], [0, 0]], [0, 1], eval={"accuracy": 0.55})
    assert signals.batch_value("accuracy_gain", later, h) == pytest.approx(0.15)
    assert signals.per_arm("accuracy_gain", later, h) == pytest.approx({0: 0.15, 1: 0.15})
    h.update(later)
    assert h.accuracy == pytest.approx(0.55)


def test_history_signals_need_a_history():
    for name in ("learning_progress", "abs_learning_progress", "accuracy_gain"):
        with pytest.raises(ValueError, match="ArmHistory"):
            signals.batch_value(name, HAND)


def test_unknown_signal_lists_names_and_closest():
    with pytest.raises(ValueError, match="did you mean 'learning_progress'") as e:
        signals.get("learning_progres")
    for name in signals.available():
        assert name in str(e.value)
    with pytest.raises(ValueError, match="unknown signal 'zzz': valid signals: "):
        signals.get("zzz")
    assert signals.available() == signals.SIGNALS.names()


def test_registry_contents_and_ranges():
    assert {
        "solve_rate",
        "failure_rate",
        "abs_advantage",
        "learnability",
        "learning_progress",
        "accuracy_gain",
    } <= set(signals.available())
    assert signals.signal_range("learnability") == (0.0, 0.25)
    assert signals.signal_range("learning_progress") == (-1.0, 1.0)
    with pytest.raises(ValueError, match="already registered"):
        signals.register(signals.SolveRate)


def test_history_state_round_trips_through_json():
    h = ArmHistory(3, alpha=0.7)
    h.update(outcome([[1, 0], [1, 1]], [0, 2]))
    h.update(outcome([[0, 0], [1, 0]], [0, 1], eval={"accuracy": 0.3}))
    g = ArmHistory(3)
    g.load_state_dict(json.loads(json.dumps(h.state_dict())))
    for name in ("solve_rate", "pulls", "examples", "progress", "accuracy", "steps"):
        np.testing.assert_array_equal(getattr(g, name), getattr(h, name))
    assert g.alpha == 0.7
    assert np.isnan(ArmHistory(2).copy().accuracy)


def test_batched_arrays_match_the_object_form():
    rng = np.random.default_rng(0)
    rewards = (rng.random((5, 6, 4)) < 0.5).astype(float)
    arms = rng.integers(0, 3, (5, 6))
    hist = ArmHistory(3, batch_shape=(5,))
    singles = [ArmHistory(3) for _ in range(5)]
    for _ in range(3):
        stats = signals.batch_stats(rewards, group_advantages(rewards), arms, 3)
        for name in signals.available():
            batched = signals.get(name).batch_values(stats, hist)
            for i in range(5):
                o = outcome(rewards[i], arms[i])
                assert batched[i] == pytest.approx(signals.batch_value(name, o, singles[i]))
        hist.update_stats(stats)
        for i in range(5):
            singles[i].update(outcome(rewards[i], arms[i]))
        rewards = rewards[:, ::-1]


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 6),
    st.integers(2, 8),
    st.integers(1, 4),
    st.integers(0, 2**32 - 1),
    st.sampled_from([True, False]),
)
def test_values_stay_in_the_documented_range(b, g, k, seed, scale):
    rng = np.random.default_rng(seed)
    h = ArmHistory(k)
    for step in range(3):
        rewards = (
            rng.random((b, g)) if step == 1 else (rng.random((b, g)) < rng.random()).astype(float)
        )
        o = outcome(rewards, rng.integers(0, k, b), eval={"accuracy": float(rng.random())})
        o.advantages = group_advantages(o.rewards, scale=scale)
        for name in signals.available():
            s = signals.get(name)
            values = [s.value(o, h), *s.per_arm(o, h).values()]
            assert all(s.low - 1e-12 <= v <= s.high + 1e-12 for v in values), (name, values)
            assert s.value(o, h) == pytest.approx(
                sum(v * np.sum(o.arms == a) for a, v in s.per_arm(o, h).items()) / b
            )
        h.update(o)
