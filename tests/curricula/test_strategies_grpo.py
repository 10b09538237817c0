"""Every strategy drives a real GRPO learner (a tiny random Llama) through the same
environment it uses with the simulator: the teachers only see the Learner interface."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from sparft import curricula  # noqa: E402
from sparft.curricula.arms import ArmSet  # noqa: E402
from sparft.curricula.examples import Example  # noqa: E402
from sparft.envs import CurriculumEnv  # noqa: E402

B, G = 2, 4


def parity_reward(completion, answer) -> float:
    """A reward a random tiny model earns about half the time."""
    text = completion if isinstance(completion, str) else completion[-1]["content"]
    return float(sum(map(ord, text)) % 2)


@pytest.fixture(scope="module")
def setup():
    from sparft.trainers.learner import GRPOLearner, GRPOLearnerConfig
    from sparft.trainers.models import tiny_policy

    examples, arms = {}, []
    for k in range(3):
        ids = [f"a{k}/{j}" for j in range(4)]
        for j, i in enumerate(ids):
            examples[i] = Example(id=i, prompt=({"role": "user", "content": f"{k + 1}+{j}="},), answer=i)
        arms.append(ids)
    arm_set = ArmSet(arms=arms, difficulty={i: k / 3 for k, ids in enumerate(arms) for i in ids})
    config = GRPOLearnerConfig(
        learning_rate=1e-2, num_generations=G, max_new_tokens=4, seed=0, device="cpu",
        dtype="float32", backend="transformers",
    )
    learner = GRPOLearner(tiny_policy(seed=0), examples, eval_examples=list(examples.values())[:4],
                          reward_fn=parity_reward, config=config)
    return arm_set, learner


@pytest.mark.parametrize("name", curricula.available())
def test_every_strategy_runs_on_the_grpo_learner(setup, name):
    arms, learner = setup
    teacher = curricula.make(name, arms=arms, seed=0, batch_size=B, budget=2)
    env = CurriculumEnv(
        learner=learner, arms=arms, batch_size=B, group_size=G, budget=2, reward_signal="solve_rate",
        action_mode=teacher.action_mode, eval_every=0, **teacher.env_options(),
    )
    obs, info = env.reset(seed=0)
    done = False
    while not done:
        obs, _, done, _, info = env.step(teacher.act(obs, info))
        teacher.observe(info["outcome"])
    assert teacher.steps == 2
    outcome = info["outcome"]
    if name == "dynamic_filter":
        kept = np.asarray(outcome.extra["kept"])
        assert outcome.batch_size == 3 * B and kept.sum() <= B
        assert (outcome.rewards[kept].std(axis=1) > 0).all()
