"""One generation interface for rollouts, evaluation and difficulty estimation.

A generator turns chat prompts into ``n`` completions each and returns
:class:`Rollouts` (token ids for the GRPO loss, texts for the reward). Two backends:

* :class:`TransformersGenerator` -- ``model.generate``: batched, left-padded, with
  the KV cache; sampling exactly as TRL's ``GRPOTrainer`` configures it (``top_k=0``,
  ``top_p``, temperature), completions cut after their first EOS token. Sampling is
  seeded per call inside ``torch.random.fork_rng``, so a call's samples depend only on
  its seed and the weights, never on the global RNG stream.
* :class:`VLLMGenerator` -- vLLM (GPU only, imported lazily), with
  :meth:`VLLMGenerator.load_weights` to copy the policy's updated weights in (the same
  route as TRL's colocate mode).

Both are also a ``GenerateFn`` -- ``fn(prompts, k) -> k completions per prompt`` --
the callable that ``sparft.curricula`` uses to estimate solve rates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Messages = Sequence[Mapping[str, str]]
GenerateFn = Callable[[Sequence[Messages], int], list[list[str]]]

__all__ = [
    "GenerateFn",
    "Rollouts",
    "SamplingConfig",
    "TransformersGenerator",
    "VLLMGenerator",
    "make_generator",
]


@dataclass(frozen=True)
class SamplingConfig:
    """How completions are sampled (the defaults are TRL ``GRPOConfig``'s)."""

    max_new_tokens: int = 32
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0  # 0 = no top-k filter (transformers' own default would be 50)
    batch_size: int = 64  # sequences per generate call (bounds memory, not results)
    backend: str = "transformers"  # or "vllm"

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens={self.max_new_tokens} must be >= 1")
        if self.temperature <= 0:
            raise ValueError(
                f"temperature={self.temperature} must be > 0 (use greedy=True instead)"
            )
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p={self.top_p} must be in (0, 1]")
        if self.top_k < 0 or self.batch_size < 1:
            raise ValueError("top_k must be >= 0 and batch_size >= 1")
        if self.backend not in ("transformers", "vllm"):
            raise ValueError(f"backend={self.backend!r}; use 'transformers' or 'vllm'")


@dataclass
class Rollouts:
    """``len(prompts) * n`` completions, prompt-major (rows ``i*n .. i*n+n-1`` answer prompt ``i``)."""

    prompt_ids: list[list[int]]
    completion_ids: list[list[int]]  # up to and including the first EOS token
    texts: list[str]
    n: int

    def grouped(self) -> list[list[str]]:
        return [self.texts[i : i + self.n] for i in range(0, len(self.texts), self.n)]


def eos_ids(model: Any, tokenizer: Any) -> list[int]:
    ids = model.generation_config.eos_token_id
    ids = [ids] if isinstance(ids, int) else list(ids or [])
    if tokenizer.eos_token_id is not None and tokenizer.eos_token_id not in ids:
        ids.append(tokenizer.eos_token_id)
    return ids


def encode_prompts(tokenizer: Any, prompts: Sequence[Messages]) -> list[list[int]]:
    """Chat template with the assistant turn opened, as token ids (TRL tokenises the same way)."""
    out = tokenizer.apply_chat_template(
        [list(map(dict, p)) for p in prompts],
        add_generation_prompt=True,
        tokenize=True,
        return_dict=True,
    )
    return [list(ids) for ids in out["input_ids"]]


class TransformersGenerator:
    """``model.generate`` in left-padded batches with the KV cache."""

    def __init__(self, model: Any, tokenizer: Any, config: SamplingConfig | None = None) -> None:
        self.model, self.tokenizer = model, tokenizer
        self.config = config or SamplingConfig()
        self.eos_token_ids = eos_ids(model, tokenizer)

    def generate(
        self, prompts: Sequence[Messages], n: int = 1, *, greedy: bool = False, seed: int = 0
    ) -> Rollouts:
        import torch

        cfg, tok = self.config, self.tokenizer
        encoded = encode_prompts(tok, prompts)
        rows = [ids for ids in encoded for _ in range(n)]
        device = next(self.model.parameters()).device
        kwargs: dict[str, Any] = {
            "max_new_tokens": cfg.max_new_tokens,
            "pad_token_id": tok.pad_token_id,
            "eos_token_id": self.eos_token_ids,
        }
        if greedy:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        else:
            kwargs.update(
                do_sample=True, temperature=cfg.temperature, top_p=cfg.top_p, top_k=cfg.top_k
            )
        completions: list[list[int]] = []
        was_training = self.model.training
        self.model.eval()
        forked = [device] if device.type == "cuda" else []
        try:
            with torch.no_grad(), torch.random.fork_rng(devices=forked):
                torch.manual_seed(seed)
                for start in range(0, len(rows), cfg.batch_size):
                    chunk = rows[start : start + cfg.batch_size]
                    width = max(map(len, chunk))
                    ids = torch.tensor([[tok.pad_token_id] * (width - len(r)) + r for r in chunk])
                    mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in chunk])
                    out = self.model.generate(
                        input_ids=ids.to(device), attention_mask=mask.to(device), **kwargs
                    )
                    completions.extend(self._cut(out[:, width:].tolist()))
        finally:
            self.model.train(was_training)
        texts = tok.batch_decode(completions, skip_special_tokens=True)
        return Rollouts(prompt_ids=rows, completion_ids=completions, texts=texts, n=n)

    def _cut(self, sequences: list[list[int]]) -> list[list[int]]:
        """Keep each completion up to and including its first EOS (the padding after it goes)."""
        eos = set(self.eos_token_ids)
        out = []
        for seq in sequences:
            end = next((i for i, t in enumerate(seq) if t in eos), len(seq) - 1)
            out.append(seq[: end + 1])
        return out

    def __call__(self, prompts: Sequence[Messages], k: int) -> list[list[str]]:
        """The ``GenerateFn`` form: ``k`` sampled completions per chat prompt."""
        return self.generate(prompts, n=k).grouped()


class VLLMGenerator:
    """vLLM generation (GPU). ``path`` is a checkpoint folder, e.g. ``Policy.path``."""

    def __init__(
        self,
        path: str,
        tokenizer: Any,
        config: SamplingConfig | None = None,
        gpu_memory_utilization: float = 0.3,
        seed: int = 0,
    ) -> None:
        try:
            from vllm import LLM
        except ImportError as e:
            raise ImportError("backend='vllm' needs vLLM on a GPU: pip install vllm") from e
        self.tokenizer, self.config = tokenizer, config or SamplingConfig(backend="vllm")
        self.llm = LLM(model=path, gpu_memory_utilization=gpu_memory_utilization, seed=seed)

    def load_weights(self, model: Any) -> None:
        """Copy the policy's current weights into the vLLM engine (as TRL's colocate mode does)."""
        engine_model = self.llm.llm_engine.model_executor.driver_worker.model_runner.model
        engine_model.load_weights(model.state_dict().items())
        self.llm.reset_prefix_cache()

    def generate(
        self, prompts: Sequence[Messages], n: int = 1, *, greedy: bool = False, seed: int = 0
    ) -> Rollouts:
        from vllm import SamplingParams

        cfg = self.config
        params = SamplingParams(
            n=n,
            max_tokens=cfg.max_new_tokens,
            temperature=0.0 if greedy else cfg.temperature,
            top_p=1.0 if greedy else cfg.top_p,
            top_k=-1 if greedy or cfg.top_k == 0 else cfg.top_k,
            seed=seed,
        )
        encoded = encode_prompts(self.tokenizer, prompts)
        outputs = self.llm.generate(
            [{"prompt_token_ids": ids} for ids in encoded], params, use_tqdm=False
        )
        rows, completions, texts = [], [], []
        for ids, out in zip(encoded, outputs):
            for c in out.outputs:
                rows.append(ids)
                completions.append(list(c.token_ids))
                texts.append(c.text)
        return Rollouts(prompt_ids=rows, completion_ids=completions, texts=texts, n=n)

    def __call__(self, prompts: Sequence[Messages], k: int) -> list[list[str]]:
        return self.generate(prompts, n=k).grouped()


def make_generator(policy: Any, config: SamplingConfig | None = None) -> Any:
    """The generator the config asks for, for a :class:`~sparft.trainers.models.Policy`."""
    config = config or SamplingConfig()
    if config.backend == "vllm":
        return VLLMGenerator(policy.path, policy.tokenizer, config)
    return TransformersGenerator(policy.model, policy.tokenizer, config)
