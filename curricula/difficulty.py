"""Per-example difficulty, from one of three sources, normalised to ``[0, 1]`` (1 = hardest).

SPaRFT joins a scalar difficulty to each question's embedding before
clustering (arXiv 2508.05015, Sec. 3.1: "a moderate model's solve rate, or a
dataset label"). Three ways to get one, each recorded per example:

1. ``solve_rate`` -- the pass rate of ``k`` sampled answers from a policy model,
   ``difficulty = 1 - passes / k``. The model lives in ``trainers/``; this module
   only takes a :data:`GenerateFn` (chat prompts and ``k`` -> ``k`` completions
   per prompt), so ``curricula`` never imports ``trainers``. Batched, with a
   progress bar, cached on disk (one JSONL per model key, appended batch by
   batch, so an interrupted run resumes where it stopped).
2. ``label`` -- a level the source provides (the arith task's level, MATH's
   ``Level 3``), min-max scaled over the source's declared level range (or the
   observed range when it declares none).
3. ``proxy`` -- a cheap stand-in when nothing else exists, and only that:
   GSM8K's number of calculator annotations ``<<a*b=c>>`` in the reference
   solution (steps of work), otherwise the total number of digits in the
   question (work for arithmetic). Rank-normalised (the fraction of the pool
   that is easier, ties at the mid-rank), because step counts are few, skewed
   integers whose absolute scale means nothing.

``auto`` takes the label when every example has one, else the proxy.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sparft.curricula.examples import Example
from sparft.curricula.prompts import question_text
from sparft.curricula.rewards import RewardFn, get_reward

GenerateFn = Callable[[Sequence[Sequence[Mapping[str, str]]], int], list[list[str]]]
"""``generate(prompts, k)``: for each chat prompt, ``k`` sampled completions."""

METHODS = ("auto", "label", "proxy", "solve_rate")
_DIGITS = re.compile(r"\d")


@dataclass
class DifficultyScores:
    """Difficulty of each example, aligned with the list it was computed for.

    Attributes:
        ids: example ids, in order.
        raw: the value as measured (solve rate, level, step count).
        normalized: in ``[0, 1]``, 1 = hardest; what the ArmSet stores.
        origin: per example, where its value came from (``"label"``,
            ``"proxy:calc_steps"``, ``"proxy:digits"``, ``"solve_rate:<model>@k8"``).
        method: the method asked for.
    """

    ids: list[str]
    raw: np.ndarray
    normalized: np.ndarray
    origin: list[str]
    method: str

    def __post_init__(self) -> None:
        n = len(self.ids)
        if not (len(self.raw) == len(self.normalized) == len(self.origin) == n):
            raise ValueError("DifficultyScores: ids, raw, normalized and origin must align")
        check_finite(self.normalized, self.ids, what=f"{self.method} difficulty")
        if n and (self.normalized.min() < 0 or self.normalized.max() > 1):
            raise ValueError("normalised difficulty must lie in [0, 1]")

    @property
    def source(self) -> str:
        """One label for the whole set: the origin if all agree, else ``mixed:<a>+<b>``."""
        kinds = sorted(set(self.origin))
        return kinds[0] if len(kinds) == 1 else "mixed:" + "+".join(kinds)

    def as_dict(self) -> dict[str, float]:
        return {i: float(d) for i, d in zip(self.ids, self.normalized)}


def check_finite(values: np.ndarray, ids: Sequence[str], what: str = "difficulty") -> None:
    """Raise one readable line naming the first example whose value is NaN or infinite."""
    values = np.asarray(values, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"{what} of example {ids[i]!r} is {values[i]} ({bad.size} of {len(values)} not finite); "
            "fix the difficulty column or choose another --difficulty method"
        )


# ----------------------------------------------------------------------------- normalisation
def minmax(values: np.ndarray, lo: float | None = None, hi: float | None = None) -> np.ndarray:
    """Scale to ``[0, 1]`` over ``[lo, hi]`` (default: observed range); constant -> 0.5."""
    values = np.asarray(values, dtype=np.float64)
    lo = float(values.min()) if lo is None else lo
    hi = float(values.max()) if hi is None else hi
    if hi <= lo:
        return np.full_like(values, 0.5)
    return np.clip((values - lo) / (hi - lo), 0.0, 1.0)


def rank_normalize(values: np.ndarray) -> np.ndarray:
    """Mid-rank percentile in ``[0, 1]``: the share of the pool below, ties averaged; constant -> 0.5."""
    from scipy.stats import rankdata

    values = np.asarray(values, dtype=np.float64)
    if len(values) < 2 or np.all(values == values[0]):
        return np.full_like(values, 0.5)
    return (rankdata(values, method="average") - 1.0) / (len(values) - 1.0)


# ----------------------------------------------------------------------------- label and proxy
def label_difficulty(examples: Sequence[Example]) -> DifficultyScores:
    """The source's own level, min-max scaled over its declared range (``meta["level_range"]``)."""
    ids = [e.id for e in examples]
    missing = [e.id for e in examples if e.difficulty is None]
    if missing:
        raise ValueError(
            f"{len(missing)} examples have no difficulty label (first: {missing[0]!r}); "
            "use --difficulty proxy or solve_rate, or map a level column (jsonl:PATH,level=FIELD)"
        )
    raw = np.array([float(e.difficulty) for e in examples], dtype=np.float64)
    check_finite(raw, ids, "difficulty label")
    ranges = {tuple(e.meta["level_range"]) for e in examples if "level_range" in e.meta}
    if len(ranges) == 1 and all("level_range" in e.meta for e in examples):
        lo, hi = next(iter(ranges))
        norm = minmax(raw, float(lo), float(hi))
    else:
        norm = minmax(raw)
    return DifficultyScores(ids, raw, norm, ["label"] * len(ids), "label")


def proxy_value(example: Example) -> tuple[float, str]:
    """The proxy of one example and its name: calculator steps, else digits in the question."""
    if "calc_steps" in example.meta:
        return float(example.meta["calc_steps"]), "proxy:calc_steps"
    return float(len(_DIGITS.findall(question_text(example)))), "proxy:digits"


def proxy_difficulty(examples: Sequence[Example]) -> DifficultyScores:
    """A documented proxy (see the module docstring), rank-normalised over the pool."""
    pairs = [proxy_value(e) for e in examples]
    raw = np.array([v for v, _ in pairs], dtype=np.float64)
    return DifficultyScores(
        [e.id for e in examples], raw, rank_normalize(raw), [o for _, o in pairs], "proxy"
    )


# ----------------------------------------------------------------------------- solve rate
def _example_key(model_key: str, example: Example, k: int, reward_name: str) -> str:
    payload = json.dumps(
        {
            "model": model_key,
            "prompt": list(map(dict, example.prompt)),
            "answer": example.answer,
            "k": k,
            "reward": reward_name,
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


class SolveRateCache:
    """Append-only JSONL of ``{key, passes, k}`` per model key under ``cache_dir/solve_rate/``.

    Each batch is appended and flushed as it finishes; a torn last line (a crash
    mid-write) is ignored on reading, so the cache is never corrupt, only short.
    """

    def __init__(self, cache_dir: str | os.PathLike[str], model_key: str) -> None:
        digest = hashlib.sha256(model_key.encode()).hexdigest()[:16]
        self.path = Path(cache_dir) / "solve_rate" / f"{digest}.jsonl"
        self.model_key = model_key
        self._data: dict[str, tuple[int, int]] = {}
        if self.path.is_file():
            with self.path.open() as f:
                for line in f:
                    try:
                        row = json.loads(line)
                        self._data[row["key"]] = (int(row["passes"]), int(row["k"]))
                    except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                        continue

    def get(self, key: str) -> tuple[int, int] | None:
        return self._data.get(key)

    def put_many(self, rows: Sequence[tuple[str, int, int]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as f:
            for key, passes, k in rows:
                f.write(json.dumps({"key": key, "passes": passes, "k": k}) + "\n")
                self._data[key] = (passes, k)
            f.flush()
            os.fsync(f.fileno())

    def __len__(self) -> int:
        return len(self._data)


def default_cache_dir() -> Path:
    """``$SPARFT_CACHE`` or ``~/.cache/sparft``."""
    return Path(os.environ.get("SPARFT_CACHE", Path.home() / ".cache" / "sparft"))


def solve_rate_difficulty(
    examples: Sequence[Example],
    generate: GenerateFn,
    model_key: str,
    k: int = 8,
    reward: str | RewardFn = "numeric",
    batch_size: int = 16,
    cache_dir: str | os.PathLike[str] | None = None,
    progress: bool = True,
) -> DifficultyScores:
    """``1 - pass@1`` estimated from ``k`` samples per question, ``reward`` deciding a pass.

    Args:
        generate: chat prompts and ``k`` -> ``k`` completions per prompt (wired
            in by ``experiments``; any model).
        model_key: names the model and its sampling settings in the cache; change
            it when either changes, or stale rates are reused.
        cache_dir: ``None`` -> :func:`default_cache_dir`; examples already cached
            are not generated again.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1 samples per question, got {k}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    reward_fn = get_reward(reward)
    reward_name = reward if isinstance(reward, str) else getattr(reward, "__qualname__", "custom")
    cache = SolveRateCache(cache_dir if cache_dir is not None else default_cache_dir(), model_key)
    keys = [_example_key(model_key, e, k, reward_name) for e in examples]
    todo = [i for i, key in enumerate(keys) if cache.get(key) is None]

    if todo:
        from tqdm.auto import tqdm

        with tqdm(
            total=len(todo), desc=f"solve rate ({model_key}, k={k})", unit="q", disable=not progress
        ) as bar:
            for start in range(0, len(todo), batch_size):
                batch = todo[start : start + batch_size]
                completions = generate([examples[i].prompt for i in batch], k)
                if len(completions) != len(batch) or any(len(c) != k for c in completions):
                    raise ValueError(
                        f"generate returned {len(completions)} lists for {len(batch)} prompts "
                        f"(each must hold k={k} completions)"
                    )
                rows = []
                for i, comps in zip(batch, completions):
                    passes = int(sum(reward_fn(c, examples[i].answer) >= 1.0 for c in comps))
                    rows.append((keys[i], passes, k))
                cache.put_many(rows)
                bar.update(len(batch))

    rates = np.array([passes / n for passes, n in map(cache.get, keys)], dtype=np.float64)
    origin = f"solve_rate:{model_key}@k{k}"
    return DifficultyScores(
        [e.id for e in examples], rates, 1.0 - rates, [origin] * len(examples), "solve_rate"
    )


# ----------------------------------------------------------------------------- dispatch
def compute_difficulty(
    examples: Sequence[Example],
    method: str = "auto",
    generate: GenerateFn | None = None,
    **solve_rate_kwargs: Any,
) -> DifficultyScores:
    """Difficulty by ``method`` (``auto``, ``label``, ``proxy``, ``solve_rate``)."""
    if not examples:
        raise ValueError("no examples to score; the data source is empty")
    if method == "auto":
        method = "label" if all(e.difficulty is not None for e in examples) else "proxy"
    if method == "label":
        return label_difficulty(examples)
    if method == "proxy":
        return proxy_difficulty(examples)
    if method == "solve_rate":
        if generate is None:
            raise ValueError(
                "difficulty 'solve_rate' needs a model to generate answers; pass generate=..."
            )
        return solve_rate_difficulty(examples, generate, **solve_rate_kwargs)
    raise ValueError(f"unknown difficulty method {method!r}; choose one of {', '.join(METHODS)}")
