"""Embeddings: the packaged default model, the disk cache, precision, and unloadable models."""

import subprocess
import sys

import numpy as np
import pytest

from sparft.curricula import embedding
from sparft.curricula.embedding import (
    EmbedConfig,
    EmbeddingCache,
    default_model_path,
    embed_texts,
    model_key,
)

pytest.importorskip("sentence_transformers")

TEXTS = [
    "Tom has 3 apples and buys 4 more. How many apples does he have?",
    "A shop sells pencils for $2 each. How much do 7 pencils cost?",
    "What is 12 + 30?",
    "What is 45 * 3?",
    "A train travels 60 miles per hour for 3 hours. How far does it go?",
    "Tom has 3 apples and buys 4 more. How many apples does he have?",  # a duplicate
]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("embed-cache")


@pytest.fixture(scope="module")
def vectors(cache):
    return embed_texts(TEXTS, EmbedConfig(), cache_dir=cache)


def test_default_model_is_the_packaged_folder():
    path = default_model_path()
    assert path.name == "model" and (path / "modules.json").is_file()
    assert "all-MiniLM-L6-v2" in model_key(EmbedConfig())


def test_vectors_are_unit_length_and_meaningful(vectors):
    assert vectors.shape == (len(TEXTS), 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    assert np.array_equal(vectors[0], vectors[5])
    sim = vectors @ vectors.T
    # The two bare sums are nearer each other than to a word problem about a train.
    assert sim[2, 3] > sim[2, 4] and sim[2, 3] > sim[3, 4]


def test_second_run_uses_the_cache_and_loads_no_model(cache, vectors, monkeypatch):
    def no_model(config):
        raise AssertionError("the model was loaded although every text is cached")

    monkeypatch.setattr(embedding, "load_model", no_model)
    again = embed_texts(list(reversed(TEXTS)), EmbedConfig(), cache_dir=cache)
    assert np.array_equal(again, vectors[::-1])
    shards = list((cache / "embeddings").rglob("shard-*.npz"))
    assert shards and not list((cache / "embeddings").rglob("*.tmp"))


def test_cache_is_keyed_by_settings(cache, vectors):
    fp32 = embed_texts(TEXTS[:3], EmbedConfig(precision="fp32"), cache_dir=cache)
    bf16 = embed_texts(TEXTS[:3], EmbedConfig(precision="bf16"), cache_dir=cache)
    assert model_key(EmbedConfig(precision="fp32")) != model_key(EmbedConfig(precision="bf16"))
    # bfloat16 weights move the vectors only slightly: cosine > 0.999 to float32.
    assert np.min(np.sum(fp32 * bf16, axis=1)) > 0.999
    assert len(list((cache / "embeddings").iterdir())) >= 2


def test_damaged_shard_only_costs_a_re_embed(tmp_path):
    c = EmbeddingCache(tmp_path, "k")
    c.put([b"a" * 40], np.ones((1, 3), dtype=np.float32))
    (tmp_path / "embeddings").joinpath(
        next((tmp_path / "embeddings").iterdir()).name, "shard-bad.npz"
    ).write_bytes(b"junk")
    fresh = EmbeddingCache(tmp_path, "k")
    fresh.load()
    assert len(fresh) == 1


def test_shards_are_compacted(tmp_path):
    c = EmbeddingCache(tmp_path, "k")
    for i in range(embedding._MAX_SHARDS + 2):
        c.put([str(i).rjust(40, "0").encode()], np.full((1, 2), i, dtype=np.float32))
    fresh = EmbeddingCache(tmp_path, "k")
    fresh.load()
    assert len(fresh) == embedding._MAX_SHARDS + 2
    assert len(list(fresh.dir.glob("shard-*.npz"))) == 1


@pytest.mark.parametrize("model", ["/no/such/model/folder", "no-such-owner/no-such-model-xyz"])
def test_unloadable_model_is_one_line_error(model, tmp_path):
    with pytest.raises(ValueError, match="cannot load embedding model") as info:
        embed_texts(["hello"], EmbedConfig(model=model), cache_dir=tmp_path)
    assert "\n" not in str(info.value)


def test_bad_config():
    with pytest.raises(ValueError, match="precision"):
        EmbedConfig(precision="fp8")
    with pytest.raises(ValueError, match="no texts"):
        embed_texts([], EmbedConfig())


def test_warm_path_imports_no_torch(cache, vectors):
    code = (
        "import sys; from sparft.curricula.embedding import embed_texts, EmbedConfig; "
        f"embed_texts({TEXTS!r}, EmbedConfig(), cache_dir={str(cache)!r}); "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
