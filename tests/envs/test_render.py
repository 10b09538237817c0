"""CurriculumEnv rendering: the rgb_array picture of the arms, through Gymnasium's makers and wrappers."""

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import sparft.envs as E
from sparft.envs import CurriculumEnv
from sparft.envs.curriculum_env import rgb_frame


def every_id() -> list[str]:
    return sorted(i for i in gym.registry if i.startswith("sparft/"))


@pytest.mark.parametrize("env_id", every_id())
def test_every_id_renders_rgb_array_frames_of_one_size(env_id):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        env = gym.make(env_id, render_mode="rgb_array", budget=3)
        check_env(env.unwrapped)
        before = env.unwrapped.render()  # before any reset (the wrappers forbid it): no pulls yet
        env.reset(seed=0)
        frames = [env.render()]
        for _ in range(3):
            env.step(env.action_space.sample())
            frames.append(env.render())
    k = env.unwrapped.arms.n_arms
    for f in [before, *frames]:
        assert f.dtype == np.uint8 and f.shape == (160, -(-(9 * k + 5) // 16) * 16, 3)
    assert np.array_equal(before, frames[0])
    assert not np.array_equal(frames[0], frames[-1])


def changed_columns(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.flatnonzero((a != b).any(axis=(0, 2)))


def test_a_pull_redraws_that_arms_bars_and_the_budget_strip_only():
    env = CurriculumEnv(render_mode="rgb_array", budget=10)
    env.reset(seed=0)
    empty = env.render()
    env.step(4)
    one = env.render()
    bars = np.arange(4 + 9 * 4, 4 + 9 * 4 + 6)  # arm 4's bar: margin 4, 9 px per arm, 6 wide
    above_strip = slice(0, 152)
    cols = changed_columns(empty[above_strip], one[above_strip])
    assert set(cols) == set(bars)  # its solve rate and share of examples went up from 0
    strip = changed_columns(empty[152:], one[152:])
    assert len(strip) == round(72 * 1 / 10)  # a tenth of the budget, of 80 - 2 * 4 px
    # Solve rate and share drawn green and blue, to the heights the history says.
    h = env.unwrapped.history
    solve = (one[2:50, bars[0]] == (44, 160, 44)).all(axis=-1).sum()
    share = (one[52:100, bars[0]] == (31, 119, 180)).all(axis=-1).sum()
    assert solve == round(48 * h.solve_rate[4]) and share == 48  # every example so far from arm 4
    env.step(2)
    two = env.render()
    assert set(changed_columns(one[above_strip], two[above_strip])) >= set(bars - 18)
    assert (two[52:100, bars[0]] == (31, 119, 180)).all(axis=-1).sum() == 24  # half the examples


def test_rgb_frame_draws_values_to_scale_and_clips():
    f = rgb_frame(
        np.array([1.0, 0.0, 0.5]), np.array([0.25, 0.75, 0.0]), np.array([0.5, -0.25, 2.0]), 0.5
    )
    assert f.shape == (160, 32, 3)

    def height(rows, x, colour):
        return int((f[rows, x] == colour).all(axis=-1).sum())

    solve, share, progress = slice(2, 50), slice(52, 100), slice(102, 150)
    assert [height(solve, 4 + 9 * a, (44, 160, 44)) for a in range(3)] == [48, 0, 24]
    assert [height(share, 4 + 9 * a, (31, 119, 180)) for a in range(3)] == [12, 36, 0]
    # Progress about the midline (row 24 of the panel): up orange, down red, 2.0 clipped to 1.
    assert [height(progress, 4 + 9 * a, (255, 127, 14)) for a in range(3)] == [12, 0, 24]
    assert [height(progress, 4 + 9 * a, (214, 39, 40)) for a in range(3)] == [0, 6, 0]
    assert height(slice(154, 158), slice(4, 28), (110, 110, 110)) == 4 * 12  # half of 24 px
    assert height(slice(None), 3, (255, 255, 255)) + 2 * 2 + 1 == 160  # margin: rules, midline


def test_same_seed_same_frames():
    def frames(seed):
        env = CurriculumEnv(render_mode="rgb_array", budget=5, action_mode="arms")
        env.reset(seed=seed)
        env.action_space.seed(seed)
        out = []
        for _ in range(5):
            env.step(env.action_space.sample())
            out.append(env.render())
        return out

    assert all(np.array_equal(a, b) for a, b in zip(frames(3), frames(3)))
    assert not all(np.array_equal(a, b) for a, b in zip(frames(3), frames(4)))


def test_make_vec_sync_steps_through_autoreset_and_renders():
    envs = gym.make_vec(
        "sparft/Curriculum-v0",
        num_envs=2,
        vectorization_mode="sync",
        render_mode="rgb_array",
        budget=2,
    )
    obs, _ = envs.reset(seed=0)
    assert obs.shape == (2, 25) and envs.observation_space.contains(obs)
    done = np.zeros(2, dtype=bool)
    for _ in range(4):  # budget 2: each env ends its episode and autoresets
        obs, reward, terminated, truncated, _ = envs.step(envs.action_space.sample())
        done |= terminated
        assert envs.observation_space.contains(obs) and not truncated.any()
    assert done.all()
    frames = envs.render()
    assert len(frames) == 2 and all(f.shape == (160, 80, 3) and f.dtype == np.uint8 for f in frames)
    envs.close()


def test_gymnasium_wrappers_record_statistics_flatten_and_collect_frames():
    env = gym.make("sparft/Curriculum-v0", budget=3, render_mode="rgb_array")
    env = gym.wrappers.RenderCollection(gym.wrappers.FlattenObservation(env))
    env = gym.wrappers.RecordEpisodeStatistics(env)
    env.reset(seed=0)
    total = 0.0
    for a in (1, 2, 3):
        obs, r, terminated, _, info = env.step(a)
        total += r
    assert terminated and info["episode"]["l"] == 3 and np.isclose(info["episode"]["r"], total)
    assert obs.shape == (25,)
    frames = env.render()  # the reset frame and one per step
    assert len(frames) == 4 and len({f.tobytes() for f in frames}) == 4


def test_ansi_and_rgb_array_are_the_declared_modes():
    assert CurriculumEnv.metadata["render_modes"] == ["ansi", "rgb_array"]
    assert CurriculumEnv(budget=2).render() is None
    assert set(E.ENV_IDS) <= set(every_id())
