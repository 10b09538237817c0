"""The curriculum core: one step's accounting shared by the Gymnasium env and the TRL feed."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import sparft.envs  # noqa: F401
from sparft import curricula
from sparft.curricula import signals
from sparft.envs.core import CurriculumCore
from sparft.trainers.feed import CurriculumFeed


def test_batch_statistics_are_computed_once_per_step(monkeypatch):
    calls = []
    original = signals.batch_stats

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(signals, "batch_stats", counted)
    env = gym.make("sparft/Curriculum-v0", budget=20, eval_every=5)
    arms = env.unwrapped.arms
    obs, info = env.reset(seed=0)
    teachers = [curricula.make(name, arms=arms, seed=0) for name in ("sparft", "dump", "tscl")]
    for _ in range(20):
        obs, _, _, _, info = env.step(teachers[0].act(obs, info))
        for teacher in teachers:  # every teacher reads the statistics the core carried
            teacher.observe(info["outcome"])
        assert isinstance(info["outcome"].stats, signals.BatchStats)
    assert len(calls) == 20


def test_the_feed_and_the_env_draw_the_same_batches():
    env = gym.make("sparft/Curriculum-v0", budget=10, batch_size=4).unwrapped
    env.reset(seed=3)
    feed_rng = np.random.default_rng(0)
    feed_rng.bit_generator.state = env.np_random.bit_generator.state
    core = CurriculumCore(env.arms, 4)
    for arm in (0, 3, 3, 7):
        assert np.array_equal(env.draw(arm)[1], core.draw(arm, feed_rng)[1])


def test_the_core_owns_budget_and_evaluation_schedule():
    core = CurriculumCore(curricula_arms(), 2, budget=5, eval_every=2)
    schedule = [core.spend(outcome(core, step)) for step in range(5)]
    assert schedule == [(False, False), (True, False), (False, False), (True, False), (True, True)]
    with pytest.raises(ValueError, match="budget_unit"):
        CurriculumCore(curricula_arms(), 2, budget_unit="hours")


def test_an_open_ended_feed_sees_no_budget_share():
    class Fixed:
        def act(self, obs, info):
            assert obs[-1] == 0.0 and info["budget"] is None
            return 1

        def observe(self, outcome):
            pass

    feed = CurriculumFeed(Fixed(), curricula_arms(), batch_size=2)
    for _ in range(3):
        feed.next_batch()
        feed.report(np.array([[1.0, 0.0], [0.0, 0.0]]))
    assert feed.core.spent == 3 and feed.history.pulls[1] == 3


def curricula_arms():
    from sparft.curricula.arms import ArmSet

    ids = [["a0", "a1"], ["b0", "b1", "b2"]]
    return ArmSet(arms=ids, difficulty={i: 0.5 for arm in ids for i in arm})


def outcome(core, step):
    from sparft.curricula.outcome import StepOutcome

    ids = core.example_ids(np.array([0, 1]))
    return StepOutcome(step, ids, np.array([0, 0]), np.zeros((2, 2)), np.zeros((2, 2)), np.ones((2, 2)))
