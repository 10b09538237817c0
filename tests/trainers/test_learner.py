"""GRPOLearner on a tiny random Llama: the Learner contract, determinism, state, reset."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sparft.curricula.outcome import StepOutcome  # noqa: E402
from sparft.envs.learner import Learner  # noqa: E402
from sparft.trainers.learner import GRPOLearnerConfig  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    "trainers_helpers", Path(__file__).parent / "trainers_helpers.py"
)
helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(helpers)

IDS = ["a0/0", "a1/2"]


def weights(learner):
    return {k: v.clone() for k, v in learner.state_dict()["model"].items()}


def test_train_step_reports_one_update():
    learner = helpers.make_learner()
    assert isinstance(learner, Learner)
    before = weights(learner)
    out = learner.train_step(IDS, np.array([0, 1]), step=0)
    assert isinstance(out, StepOutcome)
    assert out.example_ids == tuple(IDS) and out.arms.tolist() == [0, 1]
    assert out.rewards.shape == out.advantages.shape == out.tokens.shape == (2, helpers.G)
    assert set(np.unique(out.rewards)) <= {0.0, 1.0}
    assert np.all((out.tokens >= 1) & (out.tokens <= 4))
    assert out.wall_time > 0 and np.isfinite(out.loss)
    np.testing.assert_allclose(out.advantages.mean(axis=1), 0, atol=1e-9)
    assert learner.updates == 1
    after = learner.state_dict()["model"]
    assert out.advantages.any(), "this seed must give a non-zero advantage"
    assert any(not torch.equal(before[k], after[k]) for k in before)


def test_same_seed_same_trajectory_other_seed_differs():
    def run(seed):
        learner = helpers.make_learner(seed=seed)
        outs = [learner.train_step(IDS, np.array([0, 1]), step=t) for t in range(2)]
        return np.stack([o.rewards for o in outs]), weights(learner)

    r1, w1 = run(0)
    r2, w2 = run(0)
    r3, _ = run(1)
    assert np.array_equal(r1, r2) and all(torch.equal(w1[k], w2[k]) for k in w1)
    assert not np.array_equal(r1, r3)


def test_state_dict_round_trip_and_reset():
    a = helpers.make_learner()
    start = weights(a)
    a.train_step(IDS, np.array([0, 1]), step=0)
    state = a.state_dict()
    b = helpers.make_learner()
    b.load_state_dict(state)
    assert b.updates == 1
    # The same next step from the same state gives the same weights (optimizer state included).
    a.train_step(IDS, np.array([0, 1]), step=1)
    b.train_step(IDS, np.array([0, 1]), step=1)
    wa, wb = weights(a), weights(b)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    a.reset(seed=5)
    assert a.updates == 0 and a.seed == 5
    assert all(torch.equal(weights(a)[k], start[k]) for k in start)
    with pytest.raises(ValueError, match="format"):
        b.load_state_dict({"model": {}})


def test_evaluate_greedy_and_pass_at_k():
    learner = helpers.make_learner(pass_k=3)
    m1, m2 = learner.evaluate(), learner.evaluate()
    assert m1 == m2  # greedy decoding and a fixed pass@k seed: evaluation is repeatable
    assert set(m1) == {"accuracy", "mean_reward", "n", "pass@3"} and m1["n"] == 4
    assert 0 <= m1["accuracy"] <= 1 and 0 <= m1["pass@3"] <= 1
    with pytest.raises(ValueError, match="no eval split"):
        learner.evaluate("valid")


def test_beta_and_micro_batches_run():
    learner = helpers.make_learner(beta=0.1, micro_batch_size=3, loss_type="grpo")
    out = learner.train_step(IDS, np.array([0, 1]), step=0)
    assert "kl" in out.extra and out.extra["kl"] >= 0


@pytest.mark.parametrize("loss_type", ["grpo", "dapo"])
def test_micro_batches_sum_to_the_whole_batch_gradient(loss_type):
    from sparft.trainers.grpo import advantages

    def grads(micro):
        learner = helpers.make_learner(beta=0.1, micro_batch_size=micro, loss_type=loss_type)
        rollouts, rewards, _ = learner._rollout(IDS, step=0)
        loss, _ = learner.backward(
            rollouts.prompt_ids, rollouts.completion_ids, advantages(rewards, "group")
        )
        return loss, {n: p.grad.clone() for n, p in learner._trainable()}

    loss_all, whole = grads(0)
    loss_mb, chunked = grads(3)  # 8 rows in chunks of 3, 3 and 2
    assert loss_mb == pytest.approx(loss_all, rel=1e-5, abs=1e-7)
    assert any(g.abs().max() > 0 for g in whole.values())
    for name, g in whole.items():
        torch.testing.assert_close(chunked[name], g, rtol=1e-4, atol=1e-6)


def test_lora_policy_trains_only_the_adapter():
    pytest.importorskip("peft")
    from peft import LoraConfig, get_peft_model

    learner = helpers.make_learner()
    learner.model = get_peft_model(
        learner.model, LoraConfig(r=2, target_modules=["q_proj", "v_proj"])
    )
    learner.policy.model = learner.model
    from sparft.trainers.learner import GRPOLearner

    lora = GRPOLearner(
        learner.policy,
        learner.pool,
        reward_fn=helpers.char_parity_reward,
        config=GRPOLearnerConfig(
            num_generations=4, max_new_tokens=4, beta=0.1, learning_rate=1e-2, device="cpu"
        ),
    )
    names = set(lora.state_dict()["model"])
    assert names and all("lora_" in n for n in names)
    out = lora.train_step(IDS, np.array([0, 1]), step=0)
    assert np.isfinite(out.loss)


def test_config_is_validated():
    with pytest.raises(ValueError, match="loss_type"):
        GRPOLearnerConfig(loss_type="ppo")
    with pytest.raises(ValueError, match="G >= 2"):
        GRPOLearnerConfig(num_generations=1)
    with pytest.raises(ValueError, match="scale_rewards"):
        GRPOLearnerConfig(scale_rewards="sometimes")


@pytest.mark.parametrize(
    ("loss_type", "beta", "micro"), [("dapo", 0.0, 0), ("grpo", 0.1, 0), ("dapo", 0.1, 5)]
)
def test_shared_prompt_pass_equals_the_padded_layout(loss_type, beta, micro):
    """Each prompt once per group (keys/values repeated G times) gives TRL's layout's
    log-probs, loss and gradient: the speed-up is exact."""
    from sparft.trainers.grpo import (
        advantages,
        group_rows,
        pad_batch,
        per_token_logps,
        shared_prompt_logps,
    )

    def grads(share):
        learner = helpers.make_learner(
            beta=beta, loss_type=loss_type, micro_batch_size=micro, share_prompt=share
        )
        rollouts, rewards, _ = learner._rollout(IDS, step=0)
        assert group_rows(rollouts.prompt_ids, helpers.G)
        loss, _ = learner.backward(
            rollouts.prompt_ids, rollouts.completion_ids, advantages(rewards, "group")
        )
        return learner, rollouts, loss, {n: p.grad.clone() for n, p in learner._trainable()}

    learner, rollouts, loss_pad, g_pad = grads(False)
    _, _, loss_shared, g_shared = grads(True)
    assert loss_shared == pytest.approx(loss_pad, rel=1e-5, abs=1e-7)
    assert any(g.abs().max() > 0 for g in g_pad.values())
    for name, g in g_pad.items():
        torch.testing.assert_close(g_shared[name], g, rtol=1e-4, atol=1e-6)
    # The log-probs themselves, row by row, on the completion tokens.
    pad_id = learner.tokenizer.pad_token_id
    with torch.no_grad():
        b = pad_batch(rollouts.prompt_ids, rollouts.completion_ids, pad_id)
        ref = per_token_logps(learner.model, b["input_ids"], b["attention_mask"],
                              b["completion_mask"].shape[1])
        got, mask = shared_prompt_logps(
            learner.model, rollouts.prompt_ids, rollouts.completion_ids, helpers.G, pad_id
        )
    assert torch.equal(mask, b["completion_mask"])
    torch.testing.assert_close(got * mask, ref * mask, rtol=1e-5, atol=1e-5)


def test_rows_without_groups_take_the_padded_layout():
    from sparft.trainers.grpo import group_rows

    assert group_rows([[1, 2], [1, 2], [3], [3]], 2)
    assert not group_rows([[1, 2], [3], [3], [1, 2]], 2)
    assert not group_rows([[1], [1], [1]], 2)


def test_a_step_reports_its_phases():
    learner = helpers.make_learner()
    out = learner.train_step(IDS, np.array([0, 1]), step=0)
    phases = ("time_backward", "time_optimizer", "time_push")
    assert all(out.extra[k] >= 0 for k in phases)
    # the update's phases are parts of it (the push is 0 here: no engine to push into)
    assert sum(out.extra[k] for k in phases) <= out.extra["time_update"] + 1e-9
    filtered = learner.train_step_filtered(IDS, np.array([0, 1]), step=1, keep=1)
    assert all(k in filtered.extra for k in phases)
