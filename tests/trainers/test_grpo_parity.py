"""Loss and gradient parity with TRL 1.16's ``GRPOTrainer`` on a fixed batch.

The batch (prompts, completions, rewards) is fixed; TRL computes advantages,
reference log-probs and its loss through its own ``_generate_and_score_completions``
and ``_compute_loss`` (generation patched to return our completions); sparft computes
them through ``advantages`` and ``GRPOLearner.backward``. Loss, advantages and every
parameter gradient must agree to 1e-5.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
trl = pytest.importorskip("trl")
datasets = pytest.importorskip("datasets")

from sparft.curricula.examples import Example  # noqa: E402
from sparft.trainers.generation import encode_prompts  # noqa: E402
from sparft.trainers.grpo import advantages as sparft_advantages  # noqa: E402
from sparft.trainers.grpo import grpo_loss  # noqa: E402
from sparft.trainers.learner import GRPOLearner, GRPOLearnerConfig  # noqa: E402
from sparft.trainers.models import Policy, tiny_policy  # noqa: E402

G, T_MAX = 4, 6
PROMPTS = [[{"role": "user", "content": "1+2="}], [{"role": "user", "content": "What is 10+25?"}]]
REWARDS = np.array([[1.0, 0.0, 0.0, 1.0], [0.0, 0.0, 1.0, 0.0]])


@pytest.fixture(scope="module")
def saved_tiny(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny")
    policy = tiny_policy(seed=0)
    policy.model.save_pretrained(path)
    policy.tokenizer.save_pretrained(path)
    return path, policy.tokenizer


def fixed_completions(seed: int = 0) -> list[list[int]]:
    """Ragged completions; some end with EOS (id 2), some are cut at T_MAX."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(len(PROMPTS) * G):
        n = int(rng.integers(1, T_MAX + 1))
        ids = rng.integers(3, 90, size=n).tolist()
        if i % 3 != 0 and n < T_MAX:
            ids.append(2)
        out.append(ids)
    return out


def make_trainer(path, tokenizer, tmp_path, **settings):
    from trl import GRPOConfig, GRPOTrainer

    rows = len(PROMPTS) * G
    args = GRPOConfig(
        output_dir=str(tmp_path / "trl"),
        per_device_train_batch_size=rows,
        num_generations=G,
        max_completion_length=T_MAX,
        report_to=[],
        use_cpu=True,
        logging_strategy="no",
        save_strategy="no",
        temperature=0.7,
        bf16=False,  # TRL turns bf16 autocast on by default, even on a CPU; compare in float32
        **settings,
    )
    flat_rewards = REWARDS.reshape(-1).tolist()

    def reward(prompts, completions, row, **kwargs):
        return [flat_rewards[r] for r in row]

    data = datasets.Dataset.from_dict({"prompt": PROMPTS, "row": [0, 1]})
    trainer = GRPOTrainer(
        model=str(path),
        reward_funcs=reward,
        args=args,
        train_dataset=data,
        processing_class=tokenizer,
    )
    trainer.current_gradient_accumulation_steps = 1
    return trainer


SETTINGS = [
    dict(loss_type="dapo", beta=0.0, scale_rewards="group"),
    dict(loss_type="grpo", beta=0.0, scale_rewards="group"),
    dict(loss_type="bnpo", beta=0.04, scale_rewards="batch"),
    dict(loss_type="dr_grpo", beta=0.0, scale_rewards="none"),
    dict(loss_type="dapo", beta=0.1, scale_rewards="group", epsilon=0.1, epsilon_high=0.28),
    dict(loss_type="grpo", beta=0.04, scale_rewards="group", epsilon=0.05),
    dict(loss_type="dapo", beta=0.04, scale_rewards="group", use_bias_correction_kl=False),
]


@pytest.mark.parametrize("off_policy", [False, True], ids=["on_policy", "clipped"])
@pytest.mark.parametrize(
    "settings", SETTINGS, ids=lambda s: "-".join(f"{k}={v}" for k, v in s.items())
)
def test_loss_and_gradients_match_trl(saved_tiny, tmp_path, settings, off_policy):
    path, tokenizer = saved_tiny
    trainer = make_trainer(path, tokenizer, tmp_path, **settings)
    model = trainer.model
    # Move the policy away from the reference so that the KL term is not trivially zero.
    with torch.no_grad(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(1)
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    completions = fixed_completions()
    trainer._generate_single_turn = lambda prompt_ids, *a, **k: (completions, None)  # fixed batch
    model.train()
    inputs = [{"prompt": p, "row": i * G + j} for i, p in enumerate(PROMPTS) for j in range(G)]
    batch = trainer._generate_and_score_completions(inputs)
    width = batch["completion_ids"].shape[1]
    old = None
    if off_policy:  # pretend the samples came from an older policy, so clipping bites
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(2)
            old = batch["completion_mask"] * 0.3 * torch.randn(batch["completion_mask"].shape)
        with torch.no_grad():
            from sparft.trainers.grpo import per_token_logps

            ids = torch.cat([batch["prompt_ids"], batch["completion_ids"]], 1)
            att = torch.cat([batch["prompt_mask"], batch["completion_mask"]], 1)
            old = per_token_logps(model, ids, att, width, 0.7) + old
        batch["old_per_token_logps"] = old

    loss_trl = trainer._compute_loss(model, batch)
    loss_trl.backward()
    grads_trl = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    model.zero_grad(set_to_none=True)

    # sparft: same policy object, our own tokenisation, advantages, padding and loss.
    prompt_ids = [ids for ids in encode_prompts(tokenizer, PROMPTS) for _ in range(G)]
    trl_prompts = [r[m.bool()].tolist() for r, m in zip(batch["prompt_ids"], batch["prompt_mask"])]
    assert prompt_ids == trl_prompts
    adv = sparft_advantages(REWARDS, settings["scale_rewards"])
    np.testing.assert_allclose(adv.reshape(-1), batch["advantages"].numpy(), atol=1e-5)
    config = GRPOLearnerConfig(
        learning_rate=1e-3,
        beta=settings["beta"],
        kl_bias_correction=settings.get("use_bias_correction_kl", True),
        epsilon=settings.get("epsilon", 0.2),
        epsilon_high=settings.get("epsilon_high"),
        loss_type=settings["loss_type"],
        scale_rewards=settings["scale_rewards"],
        num_generations=G,
        max_new_tokens=T_MAX,
        temperature=0.7,
        micro_batch_size=3,  # exercises the chunk weighting too
        reset_weights=False,
        device="cpu",
        dtype="float32",
        backend="transformers",
    )
    pool = {"q": Example(id="q", prompt=tuple(PROMPTS[0]), answer="3")}
    learner = GRPOLearner(Policy(model, tokenizer, "tiny", str(path)), pool, config=config)
    if settings["beta"] > 0:  # TRL's reference is the saved (unperturbed) model
        learner.ref_model = trainer.ref_model
    loss_ours, diag = learner.backward(prompt_ids, completions, adv, old_logps=old)
    grads_ours = {n: p.grad for n, p in model.named_parameters() if p.grad is not None}

    assert abs(loss_ours - loss_trl.item()) < 1e-5
    assert grads_ours.keys() == grads_trl.keys()
    worst = max((grads_ours[n] - grads_trl[n]).abs().max().item() for n in grads_trl)
    assert worst < 1e-5
    assert sum(g.abs().sum().item() for g in grads_trl.values()) > 1e-3  # a real gradient
    if off_policy:
        assert diag["clip_ratio"] > 0


def test_grpo_loss_rejects_bad_settings():
    x = torch.zeros(2, 3)
    with pytest.raises(ValueError, match="loss_type"):
        grpo_loss(x, torch.zeros(2), x, loss_type="ppo")
    with pytest.raises(ValueError, match="ref_logps"):
        grpo_loss(x, torch.zeros(2), x, beta=0.1)
