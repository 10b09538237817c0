"""CurriculumEnv: the Gymnasium contract, determinism, batches, rewards, any learner, teachers."""

import json
import math
import subprocess
import sys
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import sparft.envs as E
from sparft.curricula.arms import ArmSet
from sparft.curricula.outcome import StepOutcome, group_advantages
from sparft.envs import CurriculumEnv, Learner, SimulatedLearner


# ------------------------------------------------------------------ contract
@pytest.mark.parametrize("env_id", list(E.ENV_IDS))
@pytest.mark.parametrize("mode", ["arm", "arms", "examples"])
def test_check_env_passes_without_any_warning(env_id, mode):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        env = gym.make(env_id, action_mode=mode, budget=4, eval_every=2)
        check_env(env.unwrapped)
        env.close()


@pytest.mark.parametrize("signal", ["solve_rate", "abs_advantage", "accuracy_gain", "learnability"])
def test_check_env_with_other_reward_signals(signal):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(gym.make("sparft/Curriculum-v0", reward_signal=signal, budget=3).unwrapped)


def test_make_without_arguments_gives_the_default_simulator():
    env = gym.make("sparft/Curriculum-v0")
    u = env.unwrapped
    assert isinstance(u.learner, SimulatedLearner)
    assert u.arms.n_arms == 8 and u.budget == 300 and u.batch_size == 8 and u.group_size == 8
    assert env.action_space == gym.spaces.Discrete(8)
    assert env.observation_space.shape == (25,) and env.observation_space.dtype == np.float32
    obs, info = env.reset(seed=0)
    assert obs in env.observation_space and not obs.any()
    assert info["batch_size"] == 8 and info["budget"] == 300 and info["n_arms"] == 8
    assert "eval" not in info  # eval_every=None: evaluated only after the last update


def test_module_colon_id_form_registers_on_make():
    code = "import gymnasium as gym; e = gym.make('sparft.envs:sparft/Curriculum-v0'); print(e.unwrapped.arms.n_arms)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "8"


def test_action_spaces_per_mode():
    arms = E.default_arms()
    assert CurriculumEnv(action_mode="arms", batch_size=4).action_space == gym.spaces.MultiDiscrete(
        [8] * 4
    )
    env = CurriculumEnv(action_mode="examples", batch_size=4)
    assert env.action_space == gym.spaces.MultiDiscrete([len(arms.ids)] * 4)


def test_episode_terminates_exactly_at_the_budget_and_evaluates_at_the_end():
    env = CurriculumEnv(budget=5)
    env.reset(seed=1)
    for t in range(1, 6):
        obs, reward, terminated, truncated, info = env.step(t % 8)
        assert terminated == (t == 5) and truncated is False
        assert obs[-1] == pytest.approx(t / 5)
        assert isinstance(reward, float) and math.isfinite(reward)
        assert ("eval" in info) == (t == 5)
    assert 0 < info["eval"]["accuracy"] < 1 and info["outcome"].eval == info["eval"]
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)


def test_eval_every_and_accuracy_gain_reward():
    env = CurriculumEnv(budget=6, eval_every=3, reward_signal="accuracy_gain")
    obs, info = env.reset(seed=3)
    last = info["eval"]["accuracy"]
    for t in range(1, 7):
        _, reward, _, _, info = env.step(2)
        assert ("eval" in info) == (t % 3 == 0)
        if "eval" in info:
            assert reward == pytest.approx(info["eval"]["accuracy"] - last)
            last = info["eval"]["accuracy"]
        else:
            assert reward == 0.0
    # accuracy_gain without eval_every evaluates after every update
    env = CurriculumEnv(budget=2, reward_signal="accuracy_gain")
    env.reset(seed=0)
    assert "eval" in env.step(0)[-1]
    never = CurriculumEnv(budget=2, eval_every=0)
    never.reset(seed=0)
    never.step(0)
    assert "eval" not in never.step(0)[-1]


def test_observation_and_info_follow_the_outcome():
    env = CurriculumEnv(budget=10, reward_signal="solve_rate")
    env.reset(seed=5)
    obs, reward, _, _, info = env.step(1)
    out: StepOutcome = info["outcome"]
    k = env.arms.n_arms
    assert (
        isinstance(out, StepOutcome) and out.rewards.shape == (8, 8) and out.tokens.shape == (8, 8)
    )
    assert np.all(out.arms == 1) and set(out.example_ids) <= set(env.arms.arms[1])
    assert reward == pytest.approx(out.rewards.mean())
    assert obs[1] == pytest.approx(out.rewards.mean())  # solve rate of arm 1
    np.testing.assert_allclose(obs[k : 2 * k], np.eye(k)[1])  # all examples from arm 1
    np.testing.assert_array_equal(info["arm_counts"], np.eye(k, dtype=int)[1] * 8)
    np.testing.assert_allclose(out.advantages, group_advantages(out.rewards))
    obs2, *_ = env.step(1)
    lp = env.history.progress[1]
    assert obs2[2 * k + 1] == pytest.approx(lp)


# ---------------------------------------------------------------- batches
def test_arm_batches_are_drawn_without_replacement():
    env = CurriculumEnv(budget=200, batch_size=8)
    env.reset(seed=0)
    seen = set()
    for t in range(200):
        arm = t % 8
        ids = env.step(arm)[-1]["outcome"].example_ids
        assert len(set(ids)) == 8 and set(ids) <= set(env.arms.arms[arm])
        seen |= set(ids)
    assert seen == set(env.arms.ids)  # every example gets drawn


def test_small_arm_repeats_each_example_once_before_any_repeat():
    arms = ArmSet.synthetic([[0.2, 0.3, 0.4], [0.5] * 10])
    env = CurriculumEnv(arms=arms, batch_size=8, budget=5, action_mode="arms")
    env.reset(seed=0)
    out = env.step(np.array([0, 0, 0, 0, 0, 1, 1, 0]))[-1]["outcome"]
    ids0 = [i for i, a in zip(out.example_ids, out.arms) if a == 0]
    assert (
        len(ids0) == 6
        and sorted(ids0[:3]) == sorted(arms.arms[0])
        and sorted(ids0[3:]) == sorted(arms.arms[0])
    )
    ids1 = [i for i, a in zip(out.example_ids, out.arms) if a == 1]
    assert len(set(ids1)) == 2 and set(ids1) <= set(arms.arms[1])


def test_examples_mode_trains_on_exactly_the_chosen_examples():
    env = CurriculumEnv(action_mode="examples", batch_size=4, budget=3)
    env.reset(seed=0)
    out = env.step(np.array([0, 95, 13, 13]))[-1]["outcome"]
    ids = env.arms.ids
    assert out.example_ids == (ids[0], ids[95], ids[13], ids[13])
    np.testing.assert_array_equal(out.arms, [0, 7, 1, 1])


@pytest.mark.parametrize(
    ("mode", "action"),
    [
        ("arm", 8),
        ("arm", -1),
        ("arms", np.zeros(3, dtype=int)),
        ("arms", np.full(8, 9)),
        ("examples", np.full(8, 96)),
    ],
)
def test_invalid_actions_raise(mode, action):
    env = CurriculumEnv(action_mode=mode, budget=3)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action"):
        env.step(action)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"reward_signal": "solve_rat"}, "did you mean 'solve_rate'"),
        ({"action_mode": "arm_"}, "action_mode"),
        ({"budget": 0}, "budget"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"eval_every": -1}, "eval_every"),
        ({"eval_every": 0, "reward_signal": "accuracy_gain"}, "needs held-out evaluations"),
        ({"preset": "forgeting"}, "did you mean 'forgetting'"),
        ({"render_mode": "human"}, "render_mode"),
        ({"sim_params": {"learning_rat": 0.1}}, "learning_rat"),
    ],
)
def test_bad_settings_raise_one_line_value_errors(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match) as e:
        CurriculumEnv(**kwargs)
    assert "\n" not in str(e.value)


def test_render_ansi_table():
    env = CurriculumEnv(render_mode="ansi", budget=3)
    env.reset(seed=0)
    env.step(4)
    text = env.render()
    assert isinstance(text, str) and len(text.splitlines()) == 10 and text.startswith("step 1/3")


# ------------------------------------------------------------ determinism
def rollout(env, seed, actions):
    obs, _ = env.reset(seed=seed)
    trace = [obs]
    for a in actions:
        obs, r, term, trunc, info = env.step(a)
        trace += [obs, r, info["outcome"].to_dict(), info.get("eval")]
    return trace


def same(a, b) -> bool:
    return all(
        np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y
        for x, y in zip(a, b, strict=True)
    )


@pytest.mark.parametrize("env_id", list(E.ENV_IDS))
def test_same_seed_same_trajectory_other_seed_other(env_id):
    env = gym.make(env_id, budget=60, eval_every=20).unwrapped
    actions = np.random.default_rng(0).integers(0, env.arms.n_arms, 60)
    a, b, c = rollout(env, 11, actions), rollout(env, 11, actions), rollout(env, 12, actions)
    assert same(a, b)
    assert not same(a, c)
    fresh = gym.make(env_id, budget=60, eval_every=20).unwrapped
    assert same(a, rollout(fresh, 11, actions))


def test_same_seed_same_trajectory_in_another_process():
    code = (
        "import numpy as np, sparft.envs as E\n"
        "env = E.CurriculumEnv(preset='noisy_difficulty', budget=30)\n"
        "env.reset(seed=4)\n"
        "print(repr([env.step(t % 8)[1] for t in range(30)]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    env = E.CurriculumEnv(preset="noisy_difficulty", budget=30)
    env.reset(seed=4)
    assert out.stdout.strip() == repr([env.step(t % 8)[1] for t in range(30)])


def test_reset_without_seed_starts_a_new_run_on_the_same_stream():
    env = CurriculumEnv(budget=5)
    env.reset(seed=2)
    first = [env.step(3)[1] for _ in range(5)]
    env.reset()
    second = [env.step(3)[1] for _ in range(5)]
    assert env.learner.skill is not None and first != second  # a fresh run, not a replay
    env.reset(seed=2)
    assert [env.step(3)[1] for _ in range(5)] == first


# ----------------------------------------------------------- any learner
class CoinLearner:
    """A learner that is not the simulator: each rollout solves with a fixed chance per arm."""

    def __init__(self, arms: ArmSet, group_size: int = 4) -> None:
        self.arms, self.group_size = arms, group_size
        self.chance = np.linspace(0.1, 0.9, arms.n_arms)
        self.reset()

    def reset(self, seed=None) -> None:
        self.rng = np.random.default_rng(seed)
        self.steps = 0

    def train_step(self, example_ids, arms, step) -> StepOutcome:
        self.steps += 1
        rewards = (
            self.rng.random((len(example_ids), self.group_size)) < self.chance[arms][:, None]
        ).astype(float)
        return StepOutcome(
            step,
            tuple(example_ids),
            arms,
            rewards,
            group_advantages(rewards),
            np.full(rewards.shape, 7),
        )

    def evaluate(self, split="test"):
        return {"accuracy": min(1.0, self.steps / 100)}

    def state_dict(self):
        return {"steps": self.steps}

    def load_state_dict(self, state):
        self.steps = state["steps"]


def test_env_drives_any_learner():
    learner = CoinLearner(ArmSet.synthetic([[0.1] * 5, [0.5] * 5, [0.9] * 5]))
    assert isinstance(learner, Learner)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        env = gym.make(
            "sparft/Curriculum-v0",
            learner=learner,
            batch_size=4,
            budget=10,
            reward_signal="learnability",
        ).unwrapped
        check_env(env)
    assert env.group_size == 4 and env.action_space == gym.spaces.Discrete(3)
    env.reset(seed=0)
    for _ in range(10):
        *_, info = env.step(2)
    assert info["eval"] == {"accuracy": 0.1} and learner.steps == 10
    with pytest.raises(ValueError, match="group_size"):
        CurriculumEnv(learner=learner, group_size=8)
    with pytest.raises(ValueError, match="sim_params"):
        CurriculumEnv(learner=learner, sim_params={"learning_rate": 0.1})


def test_rewards_outside_unit_interval_are_an_error():
    learner = CoinLearner(ArmSet.synthetic([[0.1] * 5]))
    learner.chance = np.array([1.0])
    env = CurriculumEnv(learner=learner, batch_size=2, budget=3, reward_signal="solve_rate")
    env.reset(seed=0)
    original = learner.train_step

    def doubled(*args):
        out = original(*args)
        out.rewards = out.rewards * 2
        return out

    learner.train_step = doubled
    with pytest.raises(ValueError, match=r"rewards in \[0, 1\]"):
        env.step(0)


# --------------------------------------------------------------- teachers
class UniformTeacher:
    def __init__(self, n_arms: int, seed: int) -> None:
        self.n_arms, self.rng = n_arms, np.random.default_rng(seed)

    def act(self, obs, info) -> int:
        return int(self.rng.integers(self.n_arms))

    def observe(self, outcome, reward) -> None:
        pass


class UCBTeacher:
    """UCB1 (Auer et al. 2002) on the env reward rescaled from the signal's range to [0, 1]."""

    def __init__(self, n_arms: int, low: float, high: float) -> None:
        self.n, self.sums, self.low, self.high = np.zeros(n_arms), np.zeros(n_arms), low, high
        self.last = 0

    def act(self, obs, info) -> int:
        if (self.n == 0).any():
            self.last = int(np.argmin(self.n))
        else:
            t = self.n.sum()
            self.last = int(np.argmax(self.sums / self.n + np.sqrt(2 * np.log(t) / self.n)))
        return self.last

    def observe(self, outcome, reward) -> None:
        self.n[self.last] += 1
        self.sums[self.last] += (reward - self.low) / (self.high - self.low)


def run_episode(env, teacher, seed):
    obs, info = env.reset(seed=seed)
    terminated, steps = False, 0
    while not terminated:
        obs, reward, terminated, truncated, info = env.step(teacher.act(obs, info))
        teacher.observe(info["outcome"], reward)
        steps += 1
    return steps, info["eval"]["accuracy"]


@pytest.mark.parametrize("env_id", list(E.ENV_IDS))
def test_uniform_and_bandit_teachers_run_a_full_episode(env_id):
    env = gym.make(env_id, reward_signal="learnability")
    u = env.unwrapped
    for teacher in (UniformTeacher(u.arms.n_arms, 0), UCBTeacher(u.arms.n_arms, *u.signal.range)):
        steps, accuracy = run_episode(env, teacher, seed=0)
        assert steps == 300 and 0.0 <= accuracy <= 1.0


def test_env_and_learner_state_resume_exactly():
    env = CurriculumEnv(preset="noisy_difficulty", budget=40, eval_every=10)
    env.reset(seed=8)
    for t in range(15):
        env.step(t % 8)
    saved = json.loads(json.dumps({"env": env.state_dict(), "learner": env.learner.state_dict()}))
    rest = [env.step(t % 8)[1:3] for t in range(15, 40)]
    other = CurriculumEnv(preset="noisy_difficulty", budget=40, eval_every=10)
    other.reset(seed=0)
    other.load_state_dict(saved["env"])
    other.learner.load_state_dict(saved["learner"])
    assert [other.step(t % 8)[1:3] for t in range(15, 40)] == rest
    with pytest.raises(RuntimeError, match="reset"):
        other.step(0)
