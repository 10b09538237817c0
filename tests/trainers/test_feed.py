"""CurriculumFeed: actions -> example ids, outcomes -> teacher, lag, resumable state."""

from __future__ import annotations

import numpy as np
import pytest

from sparft.curricula.arms import ArmSet
from sparft.trainers.feed import CurriculumFeed, draw_batch

ARMS = ArmSet.synthetic([[0.1, 0.2, 0.3], [0.5, 0.6], [0.9]])


class FixedTeacher:
    def __init__(self, actions, mode="arm"):
        self.actions, self.action_mode, self.seen = list(actions), mode, []

    def act(self, obs, info):
        return self.actions[info["step"] % len(self.actions)]

    def observe(self, outcome):
        self.seen.append(outcome)


def test_draw_batch_modes():
    rng = np.random.default_rng(0)
    ids, arms = draw_batch(0, "arm", ARMS, 3, rng)
    assert sorted(ids) == ["a0/0", "a0/1", "a0/2"] and arms.tolist() == [0, 0, 0]  # no repeats
    ids, arms = draw_batch(2, "arm", ARMS, 2, rng)
    assert ids == ["a2/0", "a2/0"]  # an arm smaller than B is drawn with replacement
    ids, arms = draw_batch([1, 2], "arms", ARMS, 2, rng)
    assert ids[0].startswith("a1/") and ids[1] == "a2/0" and arms.tolist() == [1, 2]
    ids, arms = draw_batch([5, 0], "examples", ARMS, 2, rng)
    assert ids == ["a2/0", "a0/0"] and arms.tolist() == [2, 0]
    # the environment's own rule and errors (one core draws for both)
    with pytest.raises(ValueError, match=r"not an arm in \[0, 3\)"):
        draw_batch(3, "arm", ARMS, 1, rng)
    with pytest.raises(ValueError, match="must be 2 integers"):
        draw_batch([1], "arms", ARMS, 2, rng)


def test_outcomes_reach_the_teacher_in_order_and_lag_is_counted():
    teacher = FixedTeacher([1, 0])
    feed = CurriculumFeed(teacher, ARMS, batch_size=2, seed=0)
    first, second = feed.next_batch(), feed.next_batch()
    assert feed.pending == 2  # an engine that buffers two rounds has a lag of two
    with pytest.raises(ValueError, match="oldest pending"):
        feed.report(np.zeros((2, 4)), example_ids=second.example_ids)
    out = feed.report(np.array([[1, 0, 0, 0], [1, 1, 1, 1]]), example_ids=first.example_ids)
    assert out.step == 0 and out.arms.tolist() == [1, 1]
    assert out.advantages[1].tolist() == [0, 0, 0, 0] and out.advantages[0, 0] > 0
    assert teacher.seen == [out] and feed.pending == 1
    obs = feed.observation()
    assert obs.dtype == np.float32 and obs.shape == (3 * ARMS.n_arms + 1,)
    assert obs[1] == pytest.approx(0.625)  # arm 1's solve rate is the teacher's next observation
    with pytest.raises(RuntimeError, match="await"):
        feed.state_dict()
    feed.report(np.zeros((2, 4)))
    with pytest.raises(RuntimeError, match="pending"):
        feed.report(np.zeros((2, 4)))


def test_draws_match_the_environment():
    gym = pytest.importorskip("gymnasium")
    import sparft.envs  # noqa: F401  (registers the ids)

    env = gym.make(
        "sparft/Curriculum-v0", arms=ARMS, batch_size=2, budget=5, eval_every=0
    ).unwrapped
    env.reset(seed=11)
    rng = np.random.default_rng(0)
    rng.bit_generator.state = env.np_random.bit_generator.state
    for action in (0, 1, 2, 0):
        slot_arms, items = env.draw(action)
        ids, arms = draw_batch(action, "arm", ARMS, 2, rng)
        assert ids == [ARMS.ids[i] for i in items] and arms.tolist() == slot_arms.tolist()


def test_state_round_trip_gives_the_same_draws():
    feed = CurriculumFeed(FixedTeacher([0, 1]), ARMS, batch_size=2, seed=5)
    for _ in range(3):
        feed.next_batch()
        feed.report(np.zeros((2, 2)))
    state = feed.state_dict()
    later = [feed.next_batch().example_ids for _ in range(3)]
    other = CurriculumFeed(FixedTeacher([0, 1]), ARMS, batch_size=2, seed=99)
    other.load_state_dict(state)
    assert [other.next_batch().example_ids for _ in range(3)] == later
