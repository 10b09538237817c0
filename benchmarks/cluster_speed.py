"""Speed of SPaRFT stage 1 (load -> difficulty -> embed -> cluster -> reduce) on GSM8K train.

Three runs, each in a fresh Python process so that "cold" includes imports and
model loading, exactly as a user's ``sparft cluster`` would pay them:

* ``plain``  -- the baseline: ``SentenceTransformer(all-MiniLM-L6-v2).encode(questions)``
  with its defaults (float32, batch 32), then the same partition;
* ``cold``   -- sparft's pipeline with an empty embedding cache (its default
  precision: bfloat16 on AMX CPUs);
* ``warm``   -- the same again, every embedding from the cache.

It prints wall-clock seconds, ratios against the baseline measured in the same
run (so a busy machine slows both), and the adjusted Rand index between the
partition from the fast embeddings and the one from the plain embeddings (same
difficulty, K, seed), next to the ARI between two k-means seeds on the plain
embeddings as the natural run-to-run variation.

    .venv/bin/python benchmarks/cluster_speed.py [--data PATH] [--k 8] [--per-cluster 13] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "gsm8k" / "train.jsonl"


def phase(args: argparse.Namespace) -> None:
    """One timed run inside a child process; writes labels, embeddings and timings to ``args.result``."""
    import numpy as np

    if args.phase == "interleave":
        interleave(args)
        return
    t0 = time.perf_counter()
    from sparft.curricula.clustering import ClusterConfig, partition
    from sparft.curricula.difficulty import compute_difficulty
    from sparft.curricula.prompts import question_text
    from sparft.curricula.sources import load_source

    examples = load_source(f"gsm8k:{args.data}")
    difficulty = compute_difficulty(examples, "proxy")
    questions = [question_text(e) for e in examples]
    t1 = time.perf_counter()
    if args.phase == "plain":
        from sentence_transformers import SentenceTransformer

        from sparft.curricula.embedding import default_model_path

        model = SentenceTransformer(str(default_model_path()), device="cpu")
        embeddings = model.encode(questions, normalize_embeddings=True)
    else:
        from sparft.curricula.embedding import EmbedConfig, embed_texts

        embeddings = embed_texts(questions, EmbedConfig(), cache_dir=args.cache)
    t2 = time.perf_counter()
    config = ClusterConfig(k=args.k, per_cluster=args.per_cluster, seed=args.seed)
    result = partition(examples, embeddings, difficulty, config, source="gsm8k")
    t3 = time.perf_counter()
    np.savez(
        args.result, labels=result.labels, embeddings=embeddings, difficulty=difficulty.normalized
    )
    timings = {"load": t1 - t0, "embed": t2 - t1, "cluster": t3 - t2, "in_process": t3 - t0}
    Path(args.result + ".json").write_text(json.dumps({"n": len(examples), **timings}))


def interleave(args: argparse.Namespace) -> None:
    """Plain and sparft encoders on alternating chunks in one process: a ratio that a
    fluctuating machine load (other jobs on the 2 cores) cannot bias towards either."""
    import numpy as np
    from sentence_transformers import SentenceTransformer

    from sparft.curricula.embedding import EmbedConfig, default_model_path, load_model
    from sparft.curricula.prompts import question_text
    from sparft.curricula.sources import load_source

    questions = [question_text(e) for e in load_source(f"gsm8k:{args.data}")]
    rng = np.random.default_rng(args.seed)
    sample = [
        questions[i]
        for i in rng.choice(len(questions), size=min(1600, len(questions)), replace=False)
    ]
    plain = SentenceTransformer(str(default_model_path()), device="cpu")
    fast = load_model(EmbedConfig())
    totals = {"plain": 0.0, "fast": 0.0}
    for start in range(0, len(sample), 200):
        chunk = sample[start : start + 200]
        for name, model in (
            (("plain", plain), ("fast", fast))
            if start % 400 == 0
            else (("fast", fast), ("plain", plain))
        ):
            t = time.perf_counter()
            model.encode(chunk, normalize_embeddings=True)
            totals[name] += time.perf_counter() - t
    Path(args.result + ".json").write_text(json.dumps({"n": len(sample), **totals}))


def run_phase(name: str, args: argparse.Namespace, cache: str, result: str) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--phase",
        name,
        "--data",
        str(args.data),
        "--cache",
        cache,
        "--result",
        result,
        "--k",
        str(args.k),
        "--per-cluster",
        str(args.per_cluster),
        "--seed",
        str(args.seed),
    ]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    return {"wall": wall, **json.loads(Path(result + ".json").read_text())}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="GSM8K-format train.jsonl")
    p.add_argument("--k", type=int, default=8)
    p.add_argument("--per-cluster", type=int, default=13)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    p.add_argument(
        "--phase", choices=["plain", "cold", "warm", "interleave"], help=argparse.SUPPRESS
    )
    p.add_argument("--cache", help=argparse.SUPPRESS)
    p.add_argument("--result", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.phase:
        phase(args)
        return 0
    if not args.data.is_file():
        print(f"cluster_speed: no GSM8K file at {args.data}; pass --data PATH", file=sys.stderr)
        return 2

    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score

    from sparft.curricula.clustering import build_features

    with tempfile.TemporaryDirectory(prefix="sparft-bench-") as tmp:
        cache = str(Path(tmp) / "cache")
        runs = {}
        for name in ("plain", "cold", "warm"):
            runs[name] = run_phase(name, args, cache, str(Path(tmp) / f"{name}.npz"))
            print(
                f"{name:>5}: {runs[name]['wall']:6.1f} s end to end (embed {runs[name]['embed']:.1f} s)",
                flush=True,
            )
        inter = run_phase("interleave", args, cache, str(Path(tmp) / "interleave"))
        print(
            f"interleaved encode of {inter['n']}: plain {inter['plain']:.1f} s, sparft {inter['fast']:.1f} s",
            flush=True,
        )
        plain = np.load(Path(tmp) / "plain.npz")
        cold = np.load(Path(tmp) / "cold.npz")
        ari = adjusted_rand_score(plain["labels"], cold["labels"])
        # Natural variation: the plain embeddings clustered with another k-means seed.
        feats, _ = build_features(plain["embeddings"], plain["difficulty"], 32, 0.5, seed=args.seed)
        other = KMeans(n_clusters=args.k, n_init=10, random_state=args.seed + 1).fit_predict(feats)
        ari_seed = adjusted_rand_score(plain["labels"], other)
        cos = np.sum(plain["embeddings"] * cold["embeddings"], axis=1)

    base = runs["plain"]
    figures = {
        "n_questions": base["n"],
        "plain_s": base["wall"],
        "cold_s": runs["cold"]["wall"],
        "warm_s": runs["warm"]["wall"],
        "plain_embed_s": base["embed"],
        "cold_embed_s": runs["cold"]["embed"],
        "encode_speedup": base["embed"] / runs["cold"]["embed"],
        "encode_speedup_interleaved": inter["plain"] / inter["fast"],
        "end_to_end_speedup_cold": base["wall"] / runs["cold"]["wall"],
        "end_to_end_speedup_warm": base["wall"] / runs["warm"]["wall"],
        "ari_fast_vs_plain": float(ari),
        "ari_plain_seed_vs_seed": float(ari_seed),
        "cosine_fast_vs_plain_min": float(cos.min()),
        "cosine_fast_vs_plain_mean": float(cos.mean()),
    }
    print(
        f"\n{base['n']} questions, K={args.k}, l={args.per_cluster}\n"
        f"encode: plain {base['embed']:.1f} s -> sparft {runs['cold']['embed']:.1f} s "
        f"({figures['encode_speedup']:.2f}x; interleaved on the same chunks: "
        f"{figures['encode_speedup_interleaved']:.2f}x)\n"
        f"end to end: plain {base['wall']:.1f} s, cold {runs['cold']['wall']:.1f} s "
        f"({figures['end_to_end_speedup_cold']:.2f}x), warm {runs['warm']['wall']:.2f} s "
        f"({figures['end_to_end_speedup_warm']:.0f}x)\n"
        f"partition agreement (ARI) fast vs plain embeddings: {ari:.3f} "
        f"(plain, k-means seed {args.seed} vs {args.seed + 1}: {ari_seed:.3f}); "
        f"cosine fast vs plain: min {cos.min():.5f}, mean {cos.mean():.5f}"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
