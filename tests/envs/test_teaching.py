"""There is something for a curriculum to learn on the default simulated problem."""

import numpy as np
import pytest

from sparft import bandits
from sparft.envs import CurriculumEnv


def final_accuracy(teacher: str, seed: int) -> float:
    env = CurriculumEnv(reward_signal="learnability")
    low, high = env.signal.range
    k = env.arms.n_arms
    bandit, rng = bandits.make("ucb1", k, seed=seed), np.random.default_rng(seed)
    env.reset(seed=seed)
    terminated = False
    while not terminated:
        arm = int(rng.integers(k)) if teacher == "uniform" else bandit.select()
        _, reward, terminated, _, info = env.step(arm)
        bandit.update(arm, (reward - low) / (high - low))
    return info["eval"]["accuracy"]


@pytest.mark.statistical
def test_a_bandit_teacher_on_learnability_beats_uniform_on_the_default_preset():
    """A plain UCB1 on the learnability reward finds which arm to train on."""
    seeds = range(16)
    uniform = np.mean([final_accuracy("uniform", s) for s in seeds])
    ucb1 = np.mean([final_accuracy("ucb1", s) for s in seeds])
    # measured: uniform 0.65, UCB1 0.82 (means over 16 seeds; sd over seeds 0.015 and 0.008)
    assert ucb1 > uniform + 0.1, (uniform, ucb1)
