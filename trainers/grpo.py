"""The GRPO policy loss, written to match TRL 1.16's ``GRPOTrainer._compute_loss``.

GRPO (Shao et al. 2024, DeepSeekMath, arXiv 2402.03300) samples G completions
``o_1..o_G`` per prompt ``q``, scores them, and uses the group-normalised reward as
every token's advantage, ``A_i = (r_i - mean(r)) / (std(r) + 1e-4)``. The per-token
objective is PPO's clipped surrogate plus an optional KL penalty to a reference policy:

    l_{i,t} = -min(rho_{i,t} A_i, clip(rho_{i,t}, 1 - eps_low, 1 + eps_high) A_i) + beta KL_{i,t},
    rho_{i,t} = pi(o_{i,t} | q, o_{i,<t}) / pi_old(o_{i,t} | ...),
    KL_{i,t} = exp(ref - logp) - (ref - logp) - 1          (Schulman's k3 estimator),

the KL term multiplied by rho (with its gradient) by default, which makes its gradient
the unbiased reverse-KL gradient (DeepSeek-V3.2, arXiv 2512.02556; TRL's default
``use_bias_correction_kl=True``, which changes the gradient even when rho = 1).

With one update per batch of samples (our case) ``pi_old = pi`` numerically, so rho = 1
and the gradient is ``-A_i grad log pi``; the clip matters only if the caller passes
older log-probabilities. Token losses are aggregated by ``loss_type``:

* ``grpo``: mean over tokens within a sequence, then over sequences (length-biased);
* ``bnpo`` / ``dapo``: sum over all tokens / number of tokens (DAPO, arXiv 2503.14476;
  TRL's default ``dapo``, which equals ``bnpo`` on one process without accumulation);
* ``dr_grpo``: sum / (number of sequences * max_completion_length) (Dr. GRPO, arXiv 2503.20783).

``tests/trainers/test_grpo_parity.py`` checks loss *and* gradients against TRL's own
``_compute_loss`` to 1e-5 for every loss type, with and without beta and clipping.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "LOSS_TYPES",
    "SCALE_REWARDS",
    "advantages",
    "group_rows",
    "grpo_loss",
    "pad_batch",
    "per_token_logps",
    "shared_prompt_logps",
    "truncated_importance_weights",
]

LOSS_TYPES = ("grpo", "bnpo", "dapo", "dr_grpo")
SCALE_REWARDS = ("group", "batch", "none")


def advantages(rewards: Any, scale_rewards: str = "group", eps: float = 1e-4) -> Any:
    """TRL's advantages for a ``(B, G)`` reward array: group mean removed, scaled by a std.

    ``group``: each group's own unbiased std (as :func:`sparft.curricula.outcome.group_advantages`);
    ``batch``: one std over the whole batch (PPO-Lite); ``none``: no scaling (Dr. GRPO).
    """
    import numpy as np

    from sparft.curricula.outcome import group_advantages

    if scale_rewards not in SCALE_REWARDS:
        raise ValueError(f"scale_rewards={scale_rewards!r}; use one of {', '.join(SCALE_REWARDS)}")
    rewards = np.asarray(rewards, dtype=np.float64)
    if scale_rewards == "group":
        return group_advantages(rewards, scale=True, eps=eps)
    centred = group_advantages(rewards, scale=False)
    if scale_rewards == "none":
        return centred
    std = rewards.std(ddof=1) if rewards.size > 1 else 0.0
    return centred / (std + eps)


def per_token_logps(
    model: Any, input_ids: Any, attention_mask: Any, n_completion: int, temperature: float = 1.0
) -> Any:
    """Log-probabilities of the last ``n_completion`` tokens of each row, shape ``(B, n_completion)``.

    The model is called as TRL calls it (ids and mask only); logits are divided by the
    sampling temperature before the softmax, as TRL does.
    """

    logits = model(
        input_ids=input_ids, attention_mask=attention_mask, logits_to_keep=n_completion + 1
    ).logits[:, :-1]
    return _logps_of(logits, input_ids[:, -n_completion:], temperature)


def _logps_of(logits: Any, targets: Any, temperature: float) -> Any:
    import torch

    logits = logits.float() / temperature
    picked = torch.gather(logits, -1, targets.unsqueeze(-1)).squeeze(-1)
    return picked - torch.logsumexp(logits, dim=-1)


def group_rows(prompt_ids: Any, group_size: int) -> bool:
    """True when rows come in consecutive groups of ``group_size`` that share one prompt."""
    n = len(prompt_ids)
    if group_size < 2 or n == 0 or n % group_size:
        return False
    return all(
        prompt_ids[i] == prompt_ids[i - i % group_size] for i in range(n)
    )


def shared_prompt_logps(
    model: Any,
    prompt_ids: Any,
    completion_ids: Any,
    group_size: int,
    pad_id: int,
    temperature: float = 1.0,
    device: Any = "cpu",
) -> tuple[Any, Any]:
    """:func:`per_token_logps` for G completions per prompt, with each prompt run once.

    GRPO's batch is B prompts x G completions, and on a short-answer task the prompt is
    most of every row (SmolLM2's chat template alone is ~30 tokens; an arith answer is a
    handful). Instead of G copies of each prompt, the prompts go through the model once
    (``B`` rows, left-padded), their keys and values are repeated G times, and the
    completions are run on top of that cache. The result is exact, not an approximation:
    attention sees the same keys and values, RoPE positions differ only by a per-row
    constant (which rotary attention cannot see, and which TRL's layout has too), and the
    backward pass of ``repeat_interleave`` sums the G completions' gradients into the one
    prompt pass -- the same gradient as G separate copies
    (``tests/trainers/test_learner.py`` checks both against the padded layout).

    ``prompt_ids`` holds one row per completion (``B * G`` rows, groups consecutive, as
    :class:`~sparft.trainers.generation.Rollouts` lays them out). Returns the ``(B*G, T)``
    log-probs of the completion tokens and the ``(B*G, T)`` completion mask.
    """
    import torch

    g = int(group_size)
    prompts = [prompt_ids[i] for i in range(0, len(prompt_ids), g)]
    p = pad_batch(prompts, [[pad_id]] * len(prompts), pad_id, device)
    p_ids, p_mask = p["input_ids"][:, :-1], p["attention_mask"][:, :-1]
    c = pad_batch([[pad_id]] * len(completion_ids), completion_ids, pad_id, device)
    c_ids, c_mask = c["input_ids"][:, 1:], c["completion_mask"]
    out = model(input_ids=p_ids, attention_mask=p_mask, use_cache=True, logits_to_keep=1)
    # Each completion's first token is predicted by its prompt's last position.
    first = _logps_of(out.logits[:, -1:].repeat_interleave(g, dim=0), c_ids[:, :1], temperature)
    width = c_ids.shape[1]
    if width == 1:
        return first, c_mask
    cache = out.past_key_values
    cache.batch_repeat_interleave(g)
    mask = torch.cat([p_mask.repeat_interleave(g, dim=0), c_mask[:, :-1]], dim=1)
    rest = model(input_ids=c_ids[:, :-1], attention_mask=mask, past_key_values=cache).logits
    return torch.cat([first, _logps_of(rest, c_ids[:, 1:], temperature)], dim=1), c_mask


def truncated_importance_weights(
    logps: Any, sampler_logps: Any, mask: Any, cap: float = 2.0
) -> tuple[Any, dict[str, float]]:
    """Truncated importance sampling (TIS) for rollouts from a slightly different policy.

    When the rollout engine samples in another precision than the trainer computes
    (a bfloat16 vLLM engine, a float32 update), the samples come from
    ``pi_sampler != pi``: each token's loss is weighted by
    ``min(pi(o_t) / pi_sampler(o_t), cap)`` (Yao et al. 2025, "Your efficient RL framework
    secretly brings you off-policy RL training"; TRL's ``vllm_importance_sampling_cap``,
    default 2). Returns the detached ``(N, T)`` weights and statistics of the log-prob gap
    and the ratio over completion tokens.
    """
    import torch

    m = mask.to(torch.float32)
    n = m.sum().clamp(min=1.0)
    gap = (logps.detach().float() - sampler_logps.float()) * m
    ratio = torch.exp(gap)
    weights = torch.clamp(ratio, max=cap) * m
    stats = {
        "logp_gap_mean": float(gap.abs().sum() / n),
        "logp_gap_max": float(gap.abs().max()) if gap.numel() else 0.0,
        "is_ratio_mean": float((ratio * m).sum() / n),
        "is_ratio_max": float((ratio * m).max()) if gap.numel() else 0.0,
        "is_truncated": float(((ratio > cap) * m).sum() / n),
    }
    return weights, stats


def grpo_loss(
    logps: Any,
    advantages: Any,
    mask: Any,
    *,
    old_logps: Any = None,
    ref_logps: Any = None,
    beta: float = 0.0,
    epsilon_low: float = 0.2,
    epsilon_high: float | None = None,
    loss_type: str = "dapo",
    max_completion_length: int | None = None,
    kl_bias_correction: bool = True,
    token_weights: Any = None,
) -> tuple[Any, dict[str, float]]:
    """The GRPO loss of one batch and a few diagnostics (``kl``, ``clip_ratio``).

    Args:
        logps: ``(N, T)`` current per-token log-probs (with gradient).
        advantages: ``(N,)`` one advantage per completion.
        mask: ``(N, T)`` 1 for completion tokens, 0 for padding.
        old_logps: ``(N, T)`` log-probs of the sampling policy; ``None`` = on-policy
            (``logps.detach()``, TRL's shortcut when each sample is used once).
        ref_logps: ``(N, T)`` reference-policy log-probs, needed when ``beta > 0``.
        beta: KL coefficient.
        epsilon_low, epsilon_high: clipping range ``[1 - eps_low, 1 + eps_high]``
            (``epsilon_high`` defaults to ``epsilon_low``).
        loss_type: one of :data:`LOSS_TYPES`.
        max_completion_length: the ``dr_grpo`` normaliser (defaults to ``T``).
        kl_bias_correction: multiply the KL term by the importance ratio (TRL's default).
        token_weights: ``(N, T)`` detached per-token weights of the policy term, e.g.
            :func:`truncated_importance_weights` (``None``: all 1).
    """
    import torch

    if loss_type not in LOSS_TYPES:
        raise ValueError(f"loss_type={loss_type!r}; use one of {', '.join(LOSS_TYPES)}")
    if beta != 0.0 and ref_logps is None:
        raise ValueError("beta > 0 needs ref_logps (log-probs of the reference policy)")
    eps_high = epsilon_low if epsilon_high is None else epsilon_high
    mask = mask.to(logps.dtype)
    adv = advantages.to(logps.dtype).unsqueeze(1)
    old = logps.detach() if old_logps is None else old_logps
    ratio = torch.exp(logps - old)
    clipped = torch.clamp(ratio, 1 - epsilon_low, 1 + eps_high)
    per_token = -torch.min(ratio * adv, clipped * adv)
    if token_weights is not None:
        per_token = per_token * token_weights.to(logps.dtype)
    diagnostics: dict[str, float] = {}
    if beta != 0.0:
        kl = torch.exp(ref_logps - logps) - (ref_logps - logps) - 1
        per_token = per_token + beta * (kl * ratio if kl_bias_correction else kl)
        diagnostics["kl"] = float((kl.detach() * mask).sum() / mask.sum().clamp(min=1.0))
    if loss_type == "grpo":
        loss = ((per_token * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)).mean()
    elif loss_type in ("bnpo", "dapo"):
        loss = (per_token * mask).sum() / mask.sum().clamp(min=1.0)
    else:
        length = max_completion_length or logps.shape[1]
        loss = (per_token * mask).sum() / (logps.shape[0] * length)
    is_clipped = ((ratio < 1 - epsilon_low) & (adv < 0)) | ((ratio > 1 + eps_high) & (adv > 0))
    diagnostics["clip_ratio"] = float((is_clipped * mask).sum() / mask.sum().clamp(min=1.0))
    return loss, diagnostics


def pad_batch(
    prompt_ids: Any, completion_ids: Any, pad_id: int, device: Any = "cpu"
) -> dict[str, Any]:
    """TRL's layout: prompts left-padded, completions right-padded, concatenated.

    Returns ``input_ids``, ``attention_mask`` (``(N, P + T)``) and ``completion_mask`` (``(N, T)``).
    """
    import torch

    def pad(rows: Any, left: bool) -> tuple[Any, Any]:
        width = max(1, max(map(len, rows)))
        ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):
            span = slice(width - len(row), width) if left else slice(0, len(row))
            ids[i, span] = torch.tensor(row, dtype=torch.long)
            mask[i, span] = 1
        return ids, mask

    p_ids, p_mask = pad(prompt_ids, left=True)
    c_ids, c_mask = pad(completion_ids, left=False)
    return {
        "input_ids": torch.cat([p_ids, c_ids], 1).to(device),
        "attention_mask": torch.cat([p_mask, c_mask], 1).to(device),
        "completion_mask": c_mask.to(device),
    }
