"""SPaRFT stage 1: embeddings + difficulty -> k-means clusters -> reduced arms (an ``ArmSet``).

The partition of SPaRFT (arXiv 2508.05015, Sec. 3.1):

1. PCA of the (unit-length) question embeddings to ``pca_dim`` dimensions.
2. Join the standardised difficulty as one more column. One column among many
   is easily swamped, so it is scaled to carry a chosen share of the spread:
   with ``z`` the z-scored difficulty and ``V`` the total variance of the PCA
   block, the column is ``sqrt(w * V) * z``, so its variance is ``w * V``
   (``w = difficulty_weight``; ``w = 1``: difficulty counts as much as meaning
   as a whole; ``w = 0``: meaning only).
3. k-means with K clusters (scikit-learn, ``n_init`` restarts, seeded).
4. Reduction to ``l`` examples per cluster, in the same feature space:
   ``farthest`` -- greedy farthest-point (max-min) selection (Gonzalez 1985,
   "Clustering to minimize the maximum intercluster distance"), started from a
   seeded random member, the spread-out subset SPaRFT keeps; ``centroid`` -- the
   ``l`` members nearest the centroid (the most typical); ``random`` -- a seeded
   uniform draw.

Arms are numbered by increasing mean difficulty (arm 0 = easiest), so that
numbering means something and is stable under k-means' label permutations.
:func:`suggest_k` scores K by the silhouette coefficient (Rousseeuw 1987) on a
seeded sample.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from sparft.curricula.arms import ArmSet
from sparft.curricula.difficulty import DifficultyScores, check_finite
from sparft.curricula.examples import Example
from sparft.curricula.prompts import question_text

REDUCTIONS = ("farthest", "centroid", "random")


@dataclass(frozen=True)
class ClusterConfig:
    """Hyperparameters of the partition and the reduction.

    Attributes:
        k: number of clusters (arms).
        per_cluster: ``l``, examples kept per cluster (``None``: keep every member).
        pca_dim: PCA dimensions of the embeddings (capped by the pool size and embedding width).
        difficulty_weight: share of the feature variance carried by difficulty (see module docstring).
        reduction: ``farthest``, ``centroid`` or ``random``.
        seed: seeds PCA, k-means and the reduction.
        n_init: k-means restarts (the best inertia wins).
        n_representatives: question texts kept per arm for tables.
    """

    k: int = 8
    per_cluster: int | None = 13
    pca_dim: int = 32
    difficulty_weight: float = 0.5
    reduction: str = "farthest"
    seed: int = 0
    n_init: int = 10
    n_representatives: int = 3

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValueError(f"k must be >= 1 cluster, got {self.k}")
        if self.per_cluster is not None and self.per_cluster < 1:
            raise ValueError(f"per-cluster must be >= 1 example, got {self.per_cluster}")
        if self.pca_dim < 1:
            raise ValueError(f"pca-dim must be >= 1, got {self.pca_dim}")
        if not (np.isfinite(self.difficulty_weight) and self.difficulty_weight >= 0):
            raise ValueError(
                f"difficulty-weight must be finite and >= 0, got {self.difficulty_weight}"
            )
        if self.reduction not in REDUCTIONS:
            raise ValueError(
                f"unknown reduction {self.reduction!r}; choose one of {', '.join(REDUCTIONS)}"
            )
        if self.n_init < 1 or self.n_representatives < 0:
            raise ValueError(
                f"n_init must be >= 1 and n_representatives >= 0, "
                f"got {self.n_init} and {self.n_representatives}"
            )


@dataclass
class Partition:
    """Everything the partition computed, for tables, plots and tests.

    ``labels[i]`` is the arm of pool example ``i`` (arms already ordered by
    difficulty), ``difficulty[i]`` its normalised difficulty; ``kept[a]`` are the
    pool indices kept for arm ``a``.
    """

    arms: ArmSet
    labels: np.ndarray
    difficulty: np.ndarray
    features: np.ndarray
    kept: list[np.ndarray]
    centers: np.ndarray
    explained_variance: float
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def kept_mask(self) -> np.ndarray:
        mask = np.zeros(len(self.labels), dtype=bool)
        for idx in self.kept:
            mask[idx] = True
        return mask


# ----------------------------------------------------------------------------- features
def build_features(
    embeddings: np.ndarray,
    difficulty: np.ndarray,
    pca_dim: int,
    difficulty_weight: float,
    seed: int,
) -> tuple[np.ndarray, float]:
    """``[PCA(embeddings) | sqrt(w V) z(difficulty)]`` and the PCA's explained-variance share."""
    from sklearn.decomposition import PCA

    x = np.asarray(embeddings, dtype=np.float64)
    d = np.asarray(difficulty, dtype=np.float64)
    if x.ndim != 2 or len(x) != len(d):
        raise ValueError(f"embeddings {x.shape} and difficulty ({len(d)},) do not align")
    dim = int(min(pca_dim, x.shape[1], max(len(x) - 1, 1)))
    if dim < 1 or len(x) < 2:
        z = x - x.mean(axis=0)
        explained = 1.0
    else:
        pca = PCA(n_components=dim, random_state=seed, svd_solver="auto")
        z = pca.fit_transform(x)
        explained = float(pca.explained_variance_ratio_.sum())
    total_var = float(z.var(axis=0).sum())
    sd = d.std()
    dz = (d - d.mean()) / sd if sd > 0 else np.zeros_like(d)
    col = np.sqrt(difficulty_weight * total_var) * dz
    return np.column_stack([z, col]), explained


# ----------------------------------------------------------------------------- reduction
def farthest_point(features: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Greedy max-min selection of ``size`` rows: each pick is farthest from those already picked."""
    n = len(features)
    first = int(rng.integers(n))
    chosen = [first]
    dist = np.linalg.norm(features - features[first], axis=1)
    for _ in range(1, size):
        nxt = int(np.argmax(dist))
        chosen.append(nxt)
        dist = np.minimum(dist, np.linalg.norm(features - features[nxt], axis=1))
    return np.array(chosen, dtype=np.int64)


def nearest_centroid(features: np.ndarray, size: int, center: np.ndarray) -> np.ndarray:
    """The ``size`` rows nearest ``center`` (ties by index, so the result is deterministic)."""
    dist = np.linalg.norm(features - center, axis=1)
    return np.argsort(dist, kind="stable")[:size].astype(np.int64)


def random_subset(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    return np.sort(rng.choice(n, size=size, replace=False)).astype(np.int64)


def reduce_cluster(
    features: np.ndarray, size: int, center: np.ndarray, method: str, rng: np.random.Generator
) -> np.ndarray:
    if method == "farthest":
        return farthest_point(features, size, rng)
    if method == "centroid":
        return nearest_centroid(features, size, center)
    if method == "random":
        return random_subset(len(features), size, rng)
    raise ValueError(f"unknown reduction {method!r}; choose one of {', '.join(REDUCTIONS)}")


# ----------------------------------------------------------------------------- k-means
def kmeans(
    features: np.ndarray, k: int, seed: int, n_init: int = 10
) -> tuple[np.ndarray, np.ndarray, float]:
    """Labels, centers and inertia of seeded k-means (k-means++ initialisation)."""
    from sklearn.cluster import KMeans

    km = KMeans(n_clusters=k, n_init=n_init, random_state=seed)
    labels = km.fit_predict(features)
    return labels.astype(np.int64), km.cluster_centers_, float(km.inertia_)


def suggest_k(
    features: np.ndarray,
    k_values: Sequence[int] = range(2, 17),
    seed: int = 0,
    sample_size: int = 2000,
) -> tuple[int, dict[int, float]]:
    """The K with the highest silhouette coefficient, and every K's score.

    The silhouette is computed on a seeded sample of at most ``sample_size``
    rows (it is quadratic in the number of rows).
    """
    from sklearn.metrics import silhouette_score

    n = len(features)
    ks = [k for k in k_values if 2 <= k < n]
    if not ks:
        raise ValueError(f"cannot suggest K for a pool of {n} examples; need at least 3")
    scores: dict[int, float] = {}
    for k in ks:
        labels, _, _ = kmeans(features, k, seed, n_init=3)
        if len(set(labels.tolist())) < 2:
            scores[k] = -1.0
            continue
        scores[k] = float(
            silhouette_score(features, labels, sample_size=min(sample_size, n), random_state=seed)
        )
    best = max(scores, key=lambda k: (scores[k], -k))
    return best, scores


# ----------------------------------------------------------------------------- the whole stage
def check_pool(n_pool: int, config: ClusterConfig) -> None:
    """Reject what cannot work before any computation: an empty pool, K larger than the pool."""
    if n_pool == 0:
        raise ValueError("the data source is empty: nothing to cluster")
    if config.k > n_pool:
        raise ValueError(
            f"--k {config.k} is larger than the pool ({n_pool} examples); choose k <= {n_pool}"
        )
    if config.per_cluster is not None and config.k * config.per_cluster > n_pool:
        raise ValueError(
            f"k * per-cluster = {config.k} * {config.per_cluster} exceeds the pool ({n_pool} examples); "
            "lower --k or --per-cluster"
        )


def partition(
    examples: Sequence[Example],
    embeddings: np.ndarray,
    difficulty: DifficultyScores,
    config: ClusterConfig | None = None,
    source: str = "",
    meta: dict[str, Any] | None = None,
) -> Partition:
    """Cluster ``examples`` and reduce each cluster: the SPaRFT ``ArmSet`` with its workings.

    Raises ``ValueError`` (one line) when K exceeds the pool, a cluster is
    smaller than ``l``, or a difficulty is not finite.
    """
    config = config or ClusterConfig()
    n = len(examples)
    check_pool(n, config)
    if len(embeddings) != n or difficulty.ids != [e.id for e in examples]:
        raise ValueError(
            "embeddings and difficulty must be computed for the same examples, in order"
        )
    check_finite(difficulty.normalized, difficulty.ids)
    check_finite(np.asarray(embeddings, dtype=np.float64).sum(axis=1), difficulty.ids, "embedding")

    features, explained = build_features(
        embeddings, difficulty.normalized, config.pca_dim, config.difficulty_weight, config.seed
    )
    raw_labels, raw_centers, inertia = kmeans(features, config.k, config.seed, config.n_init)

    # Number arms by mean difficulty (then by size, then by old label, for ties).
    found = sorted(set(raw_labels.tolist()))
    if len(found) < config.k:
        raise ValueError(
            f"k-means found only {len(found)} distinct clusters for k={config.k} "
            "(many duplicate questions?); lower --k"
        )
    diff = difficulty.normalized
    order = sorted(
        found, key=lambda c: (float(diff[raw_labels == c].mean()), -int((raw_labels == c).sum()), c)
    )
    remap = {old: new for new, old in enumerate(order)}
    labels = np.array([remap[c] for c in raw_labels.tolist()], dtype=np.int64)
    centers = raw_centers[order]

    sizes = np.bincount(labels, minlength=config.k)
    if config.per_cluster is not None and sizes.min() < config.per_cluster:
        small = int(np.argmin(sizes))
        raise ValueError(
            f"cluster {small} has only {int(sizes[small])} examples, fewer than --per-cluster "
            f"{config.per_cluster}; lower --per-cluster to <= {int(sizes.min())} or lower --k"
        )

    rng = np.random.default_rng([config.seed, 0x5BA2])
    kept: list[np.ndarray] = []
    arm_ids: list[list[str]] = []
    representatives: list[list[str]] = []
    for a in range(config.k):
        members = np.flatnonzero(labels == a)
        keep = len(members) if config.per_cluster is None else config.per_cluster
        if keep == len(members):
            picked = members
        else:
            picked = members[
                reduce_cluster(features[members], keep, centers[a], config.reduction, rng)
            ]
        kept.append(picked)
        arm_ids.append([examples[i].id for i in picked])
        # Representatives: the kept questions nearest the centroid, i.e. the most typical.
        near = picked[
            nearest_centroid(
                features[picked], min(config.n_representatives, len(picked)), centers[a]
            )
        ]
        representatives.append([question_text(examples[i]) for i in near])

    kept_all = np.concatenate(kept)
    arms = ArmSet(
        arms=arm_ids,
        difficulty={examples[i].id: float(diff[i]) for i in kept_all},
        topic={examples[i].id: examples[i].topic for i in kept_all},
        source=source,
        difficulty_source=difficulty.source,
        representatives=representatives,
        meta={
            **asdict(config),
            "pool_size": n,
            "cluster_sizes": sizes.tolist(),
            "cluster_difficulty_mean": [float(diff[labels == a].mean()) for a in range(config.k)],
            "pca_explained_variance": explained,
            "kmeans_inertia": inertia,
            "difficulty_origin": dict(Counter(difficulty.origin)),
            # The value before normalisation (solve rate, level, step count) of each kept example.
            "difficulty_raw": {examples[i].id: float(difficulty.raw[i]) for i in kept_all},
            **(meta or {}),
        },
    )
    return Partition(
        arms=arms,
        labels=labels,
        difficulty=np.asarray(diff, dtype=np.float64),
        features=features,
        kept=kept,
        centers=centers,
        explained_variance=explained,
        meta=arms.meta,
    )


def build_armset(
    examples: Sequence[Example],
    embeddings: np.ndarray,
    difficulty: DifficultyScores,
    config: ClusterConfig | None = None,
    source: str = "",
) -> ArmSet:
    """The reduced ``ArmSet`` only (see :func:`partition`)."""
    return partition(examples, embeddings, difficulty, config, source).arms
