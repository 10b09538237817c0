"""Partition and reduction: features, k-means, farthest-point / centroid / random, K suggestion."""

import json
import os
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from sparft.curricula.arms import ArmSet
from sparft.curricula.clustering import (
    ClusterConfig,
    build_features,
    farthest_point,
    nearest_centroid,
    partition,
    random_subset,
    suggest_k,
)
from sparft.curricula.difficulty import DifficultyScores, compute_difficulty
from sparft.curricula.examples import Example

GSM8K = Path(
    os.environ.get("SPARFT_GSM8K", Path(__file__).resolve().parents[3] / "shared/data/gsm8k")
)


def blobs(n_per=40, k=4, dim=16, seed=0, spread=0.05):
    """``k`` well-separated Gaussian blobs on the unit sphere, and the blob of each point."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(k, dim))
    x = np.concatenate([c + spread * rng.normal(size=(n_per, dim)) for c in centers])
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x, np.repeat(np.arange(k), n_per)


def pool_of(n, difficulty, topics=None):
    exs = [
        Example(
            id=f"q{i}",
            prompt=({"role": "user", "content": f"question {i}"},),
            answer="1",
            topic=(topics[i] if topics is not None else "t"),
        )
        for i in range(n)
    ]
    d = np.asarray(difficulty, dtype=float)
    return exs, DifficultyScores([e.id for e in exs], d, d, ["label"] * n, "label")


def test_partition_recovers_blobs_and_orders_arms_by_difficulty():
    x, truth = blobs()
    # Blob b has difficulty around b / 4, so arm order must follow blob order.
    rng = np.random.default_rng(1)
    diff = np.clip(truth / 4 + 0.05 * rng.random(len(truth)), 0, 1)
    exs, scores = pool_of(len(x), diff, topics=[f"blob{b}" for b in truth])
    p = partition(
        exs, x, scores, ClusterConfig(k=4, per_cluster=5, pca_dim=8, difficulty_weight=0.0)
    )
    assert adjusted_rand_score(truth, p.labels) == 1.0
    assert np.array_equal(p.labels, truth)  # arm a is blob a: numbered by mean difficulty
    assert p.arms.n_arms == 4 and p.arms.sizes.tolist() == [5] * 4
    assert [s.topics for s in p.arms.stats()] == [{f"blob{a}": 5} for a in range(4)]
    assert p.arms.meta["cluster_sizes"] == [40] * 4
    assert all(len(r) == 3 for r in p.arms.representatives)
    assert p.kept_mask.sum() == 20
    assert set(p.arms.meta["difficulty_raw"]) == set(p.arms.ids)
    assert p.arms.meta["difficulty_origin"] == {"label": len(x)}
    for a, idx in enumerate(p.kept):
        assert (p.labels[idx] == a).all()


def test_armset_round_trip_and_validation(tmp_path):
    x, truth = blobs()
    exs, scores = pool_of(len(x), truth / 3)
    arms = partition(exs, x, scores, ClusterConfig(k=4, per_cluster=6)).arms
    path = arms.save(tmp_path / "arms.json")
    loaded = ArmSet.load(path, known_ids=[e.id for e in exs])
    assert loaded.arms == arms.arms and loaded.difficulty == arms.difficulty
    assert loaded.meta["reduction"] == "farthest" and loaded.meta["k"] == 4
    with pytest.raises(ValueError, match="not in the data"):
        ArmSet.load(path, known_ids=["other"])
    data = json.loads(path.read_text())
    data["arms"][0] = []
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="arm 0 is empty"):
        ArmSet.load(path)


def test_difficulty_weight_moves_the_partition_from_meaning_to_difficulty():
    x, truth = blobs(k=2, n_per=60)
    rng = np.random.default_rng(0)
    hard = rng.random(len(x)) < 0.5  # difficulty independent of meaning
    diff = np.where(hard, 0.9, 0.1) + 0.02 * rng.random(len(x))
    exs, scores = pool_of(len(x), diff)
    meaning = partition(
        exs, x, scores, ClusterConfig(k=2, per_cluster=None, difficulty_weight=0.0)
    ).labels
    difficulty = partition(
        exs, x, scores, ClusterConfig(k=2, per_cluster=None, difficulty_weight=5.0)
    ).labels
    assert adjusted_rand_score(truth, meaning) == 1.0
    assert adjusted_rand_score(hard, difficulty) == 1.0
    # The difficulty column carries w * (total PCA variance): the documented scaling.
    feats, _ = build_features(x, diff, 8, 0.5, seed=0)
    assert feats[:, -1].var() == pytest.approx(0.5 * feats[:, :-1].var(axis=0).sum(), rel=1e-6)


def test_farthest_point_spreads_more_than_random_or_centroid():
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(300, 5))

    def min_gap(idx):
        d = np.linalg.norm(pts[idx][:, None] - pts[idx][None], axis=2)
        return d[np.triu_indices(len(idx), 1)].min()

    far = farthest_point(pts, 10, np.random.default_rng(0))
    near = nearest_centroid(pts, 10, pts.mean(axis=0))
    rand = random_subset(len(pts), 10, np.random.default_rng(0))
    assert len(set(far.tolist())) == 10
    assert min_gap(far) > 2 * min_gap(rand) and min_gap(far) > 2 * min_gap(near)
    assert np.array_equal(far, farthest_point(pts, 10, np.random.default_rng(0)))
    dist = np.linalg.norm(pts - pts.mean(axis=0), axis=1)
    assert set(near.tolist()) == set(np.argsort(dist)[:10].tolist())


@pytest.mark.parametrize("reduction", ["farthest", "centroid", "random"])
def test_same_seed_same_arms(reduction):
    x, truth = blobs(n_per=30)
    exs, scores = pool_of(len(x), truth / 3)
    cfg = ClusterConfig(k=4, per_cluster=6, reduction=reduction, seed=3)
    a = partition(exs, x, scores, cfg).arms
    b = partition(exs, x, scores, cfg).arms
    assert a.arms == b.arms
    if reduction != "centroid":  # the centroid rule does not use randomness
        c = partition(
            exs, x, scores, ClusterConfig(k=4, per_cluster=6, reduction=reduction, seed=4)
        ).arms
        assert a.arms != c.arms


def test_keep_all():
    x, truth = blobs(n_per=10)
    exs, scores = pool_of(len(x), truth / 3)
    arms = partition(exs, x, scores, ClusterConfig(k=4, per_cluster=None)).arms
    assert sorted(arms.ids) == sorted(e.id for e in exs)


@pytest.mark.parametrize(
    "config, match",
    [
        (dict(k=200, per_cluster=1), "larger than the pool"),
        (dict(k=4, per_cluster=50), "exceeds the pool"),
        (dict(k=4, per_cluster=35), "fewer than --per-cluster"),
    ],
)
def test_bad_sizes_are_one_line_errors(config, match):
    x, truth = blobs(n_per=40)
    x[:10] = x[40]  # make blob 0 smaller than the others: 30 points left in it
    exs, scores = pool_of(len(x), truth / 3)
    with pytest.raises(ValueError, match=match) as info:
        partition(exs, x, scores, ClusterConfig(**config, difficulty_weight=0.0))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(k=0), "k must be"),
        (dict(per_cluster=0), "per-cluster"),
        (dict(reduction="best"), "unknown reduction"),
        (dict(difficulty_weight=float("nan")), "difficulty-weight"),
        (dict(pca_dim=0), "pca-dim"),
    ],
)
def test_config_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ClusterConfig(**kwargs)


def test_nan_difficulty_is_rejected():
    x, truth = blobs(n_per=10)
    exs, _ = pool_of(len(x), truth / 3)
    d = (truth / 3).astype(float)
    d[7] = np.nan
    with pytest.raises(ValueError, match="example 'q7' is nan"):
        scores = DifficultyScores([e.id for e in exs], d, d, ["label"] * len(d), "label")
        partition(exs, x, scores, ClusterConfig(k=4, per_cluster=2))


def test_suggest_k_finds_the_blobs():
    x, _ = blobs(k=5, n_per=30, spread=0.03)
    feats, _ = build_features(x, np.zeros(len(x)), 8, 0.0, seed=0)
    best, scores = suggest_k(feats, range(2, 9), seed=0)
    assert best == 5 and set(scores) == set(range(2, 9))
    with pytest.raises(ValueError, match="cannot suggest K"):
        suggest_k(feats[:2], range(2, 5))


# ----------------------------------------------------------------------------- real questions
@pytest.fixture(scope="module")
def embed_cache(tmp_path_factory):
    pytest.importorskip("sentence_transformers")
    return tmp_path_factory.mktemp("cache")


def test_arith_word_problems_form_their_own_arms(embed_cache):
    from sparft.curricula.embedding import embed_texts
    from sparft.curricula.sources import load_source

    exs = load_source("arith:n=180,seed=2")
    x = embed_texts([e.question for e in exs], cache_dir=embed_cache)
    p = partition(
        exs,
        x,
        compute_difficulty(exs, "label"),
        ClusterConfig(k=6, per_cluster=5, difficulty_weight=0.5),
    )
    is_word = np.array([e.topic == "word" for e in exs])
    # Word problems and bare arithmetic never share a cluster: meaning is in the partition.
    purity = [
        max(is_word[p.labels == a].mean(), 1 - is_word[p.labels == a].mean()) for a in range(6)
    ]
    assert min(purity) >= 0.95, purity
    # And difficulty is too: arm means increase, and span most of the range.
    means = p.arms.meta["cluster_difficulty_mean"]
    assert means == sorted(means) and means[-1] - means[0] > 0.5


def test_gsm8k_subset(embed_cache):
    from sparft.curricula.embedding import embed_texts
    from sparft.curricula.sources import load_source

    if not (GSM8K / "train.jsonl").is_file():
        pytest.skip(f"GSM8K copy not found at {GSM8K}")
    exs = load_source(f"gsm8k:{GSM8K},n=240", seed=0)
    x = embed_texts([e.question for e in exs], cache_dir=embed_cache)
    scores = compute_difficulty(exs)
    assert scores.source == "proxy:calc_steps"
    p = partition(exs, x, scores, ClusterConfig(k=4, per_cluster=8))
    assert p.arms.sizes.tolist() == [8] * 4 and p.arms.difficulty_source == "proxy:calc_steps"
    stats = p.arms.stats()
    assert stats[-1].difficulty_mean > stats[0].difficulty_mean + 0.3
