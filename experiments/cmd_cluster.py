"""Build SPaRFT arms from a data source: difficulty, embed, cluster, reduce.

Writes DIR/arms.json (the ArmSet the teachers and environments load) and
DIR/clusters.png (a 2-D PCA of the clustering features coloured by arm, kept
examples highlighted, plus each arm's difficulty), and prints a table of the
arms. Every input is checked before anything is written; both files are
staged in a hidden sibling folder and published as DIR by one rename, so a
failed run leaves DIR as it was and a finished one replaces it whole (DIR may
hold only these two files).

examples:
  sparft cluster --data arith --k 8 --per-cluster 13 --out runs/arms_arith
  sparft cluster --data gsm8k:../shared/data/gsm8k/train.jsonl --k 8 --per-cluster 13 --out runs/arms_gsm8k
  sparft cluster --data gsm8k:data/ --suggest-k --per-cluster 10 --out runs/arms
  sparft cluster --data jsonl:mine.jsonl,question=problem,answer=solution,level=level \\
      --difficulty label --out runs/mine
"""

from __future__ import annotations

import argparse
import io
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

from sparft.experiments.options import count, fraction, natural

HELP = "build the SPaRFT arms (embed + difficulty + k-means + reduction) from a data source"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data",
        default="arith",
        help="data spec: arith[:seed=S,n=N], gsm8k:PATH, jsonl:PATH,... (default: arith)",
    )
    p.add_argument("--split", default="train", help="split to cluster (default: train)")
    p.add_argument("--n", type=count, default=None, help="use a seeded subset of N examples")
    p.add_argument("--out", required=True, help="output folder for arms.json and clusters.png")
    p.add_argument(
        "--k",
        type=count,
        default=None,
        help="number of arms (default 8, or the suggestion with --suggest-k)",
    )
    p.add_argument(
        "--per-cluster",
        type=natural,
        default=13,
        help="examples kept per arm, l (0: keep all; default 13)",
    )
    p.add_argument(
        "--pca-dim", type=count, default=32, help="PCA dimensions of the embeddings (default 32)"
    )
    p.add_argument(
        "--difficulty",
        default="auto",
        choices=["auto", "label", "proxy", "solve_rate"],
        help="difficulty source: the source's label, a proxy (GSM8K: calculation steps), "
        "or a model's solve rate; auto = label if every example has one, else proxy",
    )
    p.add_argument(
        "--difficulty-weight",
        type=fraction,
        default=0.5,
        help="share of the feature variance given to difficulty (0: meaning only; default 0.5)",
    )
    p.add_argument(
        "--reduction",
        default="farthest",
        choices=["farthest", "centroid", "random"],
        help="how to keep l examples per cluster (default farthest-point)",
    )
    p.add_argument(
        "--seed", type=natural, default=0, help="seeds the data draw, PCA, k-means and reduction"
    )
    p.add_argument(
        "--suggest-k",
        action="store_true",
        help="score K by silhouette and use the best (unless --k is given)",
    )
    p.add_argument("--k-range", default="2-16", help="K values tried by --suggest-k (default 2-16)")
    p.add_argument(
        "--embed-model",
        default="default",
        help="sentence-transformers folder or id (default: packaged all-MiniLM-L6-v2)",
    )
    p.add_argument(
        "--embed-precision",
        default="auto",
        choices=["auto", "fp32", "bf16"],
        help="auto: bf16 on AMX CPUs and GPUs, else fp32",
    )
    p.add_argument(
        "--cache-dir",
        default=None,
        help="embedding / solve-rate cache (default $SPARFT_CACHE or ~/.cache/sparft)",
    )
    p.add_argument(
        "--on-error",
        default="raise",
        choices=["raise", "skip"],
        help="malformed data rows: fail with file:line, or skip and count them",
    )
    p.add_argument(
        "--policy", default="smollm2-135m-instruct", help="model for --difficulty solve_rate"
    )
    p.add_argument(
        "--samples",
        type=count,
        default=8,
        help="answers sampled per question for solve_rate (default 8)",
    )
    p.add_argument(
        "--max-new-tokens",
        type=count,
        default=16,
        help="completion length for solve_rate (default 16)",
    )
    p.add_argument(
        "--backend", default="auto", choices=["auto", "transformers", "vllm"],
        help="rollout engine for --difficulty solve_rate (auto: vLLM where it imports)",
    )
    p.add_argument("--no-plot", action="store_true", help="skip clusters.png")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def _k_range(text: str) -> list[int]:
    try:
        if "-" in text:
            lo, hi = (int(t) for t in text.split("-", 1))
            return list(range(lo, hi + 1))
        return [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise ValueError(
            f"--k-range {text!r}: write a range like 2-16 or a list like 4,8,12"
        ) from None


def _solve_rate_generate(args: argparse.Namespace):
    from sparft.trainers.generation import SamplingConfig, make_generator
    from sparft.trainers.models import load_policy

    policy = load_policy(args.policy)
    gen = make_generator(
        policy, SamplingConfig(max_new_tokens=args.max_new_tokens, backend=args.backend)
    )
    return gen, f"{args.policy}|T=1.0|max_new_tokens={args.max_new_tokens}"


def run(args: argparse.Namespace) -> int:
    from sparft.curricula.clustering import (
        ClusterConfig,
        build_features,
        check_pool,
        partition,
        suggest_k,
    )
    from sparft.curricula.difficulty import compute_difficulty, default_cache_dir
    from sparft.curricula.embedding import EmbedConfig, embed_texts, model_key
    from sparft.curricula.prompts import question_text
    from sparft.curricula.sources import read_source
    from sparft.experiments.runner import check_writable

    out = Path(args.out).expanduser()
    check_writable(out)
    _check_out(out)
    per_cluster = None if args.per_cluster == 0 else args.per_cluster
    # Validate the hyperparameters before any data is read.
    config = ClusterConfig(
        k=args.k or 8,
        per_cluster=per_cluster,
        pca_dim=args.pca_dim,
        difficulty_weight=args.difficulty_weight,
        reduction=args.reduction,
        seed=args.seed,
    )
    embed_config = EmbedConfig(model=args.embed_model, precision=args.embed_precision)
    cache_dir = Path(args.cache_dir).expanduser() if args.cache_dir else default_cache_dir()
    k_values = _k_range(args.k_range) if args.suggest_k else []
    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr))

    t0 = time.perf_counter()
    loaded = read_source(
        args.data, split=args.split, seed=args.seed, on_error=args.on_error, n=args.n
    )
    examples = loaded.examples
    say(f"sparft cluster: {loaded.summary()}")
    for err in loaded.skipped[:5]:
        say(f"  skipped {err}")
    if len(loaded.skipped) > 5:
        say(f"  ... and {len(loaded.skipped) - 5} more")
    if not args.suggest_k or args.k is not None:
        check_pool(len(examples), config)

    kwargs: dict[str, Any] = {}
    generate = None
    if args.difficulty == "solve_rate":
        generate, key = _solve_rate_generate(args)
        kwargs = {
            "model_key": key,
            "k": args.samples,
            "cache_dir": cache_dir,
            "progress": not args.quiet,
        }
    difficulty = compute_difficulty(examples, args.difficulty, generate=generate, **kwargs)
    t1 = time.perf_counter()

    embeddings = embed_texts(
        [question_text(e) for e in examples],
        embed_config,
        cache_dir=cache_dir,
        progress=not args.quiet,
    )
    t2 = time.perf_counter()

    suggestion = None
    if args.suggest_k:
        features, _ = build_features(
            embeddings, difficulty.normalized, args.pca_dim, args.difficulty_weight, args.seed
        )
        best, scores = suggest_k(features, k_values, seed=args.seed)
        suggestion = {"best": best, "silhouette": {str(k): v for k, v in scores.items()}}
        print(
            "silhouette by K: "
            + "  ".join(f"{k}:{v:.3f}" for k, v in scores.items())
            + f"  -> best K = {best}"
        )
        if args.k is None:
            config = ClusterConfig(**{**config.__dict__, "k": best})
            check_pool(len(examples), config)

    meta = {
        "data": args.data,
        "split": args.split,
        "embed_model": model_key(embed_config),
        "skipped_rows": len(loaded.skipped),
    }
    if suggestion:
        meta["suggest_k"] = suggestion
    result = partition(examples, embeddings, difficulty, config, source=args.data, meta=meta)
    t3 = time.perf_counter()

    png = (
        None
        if args.no_plot
        else render_plot(result, title=_plot_title(args.data, args.split))
    )
    _write_outputs(out, result.arms, png)
    print(format_table(result))
    print(
        f"\n{result.arms.n_arms} arms, {len(result.arms.ids)} of {len(examples)} examples kept "
        f"(difficulty: {difficulty.source}; PCA {config.pca_dim} dims explain "
        f"{result.explained_variance:.0%} of the embedding variance)"
    )
    print(f"wrote {out / 'arms.json'}" + ("" if png is None else f" and {out / 'clusters.png'}"))
    say(f"time: data+difficulty {t1 - t0:.1f}s, embed {t2 - t1:.1f}s, cluster {t3 - t2:.1f}s")
    return 0


# ----------------------------------------------------------------------------- output
OUTPUTS = ("arms.json", "clusters.png")


def _check_out(out: Path) -> None:
    """Fail before any work when ``out`` cannot be replaced whole (see :func:`_write_outputs`)."""
    if not out.is_dir():
        return
    other = sorted(p.name for p in out.iterdir() if p.name not in OUTPUTS)
    if other:
        listed = ", ".join(other[:3]) + (", ..." if len(other) > 3 else "")
        raise ValueError(
            f"--out {out} holds other files ({listed}); `sparft cluster` replaces the folder "
            "whole, so choose a new or empty folder (or one it wrote before)"
        )


def _write_outputs(out: Path, arms, png: bytes | None) -> None:
    """Stage both files in a hidden sibling folder, then publish it as ``out`` by one rename.

    A reader sees the old folder or the new one, never a new arms.json beside an
    old clusters.png (and a run without a plot leaves no stale one behind).
    """
    from sparft.fileio import atomic_write_bytes, staged_dir

    # A symlinked --out keeps its link: the folder it points to is the one replaced.
    with staged_dir(out.resolve()) as tmp:
        arms.save(tmp / "arms.json")
        if png is not None:
            atomic_write_bytes(tmp / "clusters.png", png)


def _plot_title(spec: str, split: str) -> str:
    # Paths make long titles; the file name says enough on a figure.
    name, sep, rest = spec.partition(":")
    if sep and "/" in rest:
        rest = ",".join(Path(p).name if i == 0 else p for i, p in enumerate(rest.split(",")))
    return f"{name}{sep}{rest} ({split})"


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def format_table(result) -> str:
    """One row per arm: kept/cluster size, difficulty of kept and of the whole cluster, topics, a question."""
    arms = result.arms
    rows = [
        ("arm", "kept/pool", "difficulty (kept)", "pool", "top topics", "representative question")
    ]
    for s in arms.stats():
        topics = ", ".join(f"{t or '-'} {c}" for t, c in list(s.topics.items())[:3])
        rows.append(
            (
                str(s.arm),
                f"{s.size}/{arms.meta['cluster_sizes'][s.arm]}",
                f"{s.difficulty_mean:.2f} ± {s.difficulty_std:.2f}",
                f"{arms.meta['cluster_difficulty_mean'][s.arm]:.2f}",
                topics,
                _short(s.representatives[0], 70) if s.representatives else "",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render_plot(result, title: str = "") -> bytes:
    """PNG bytes: left, 2-D PCA of the clustering features (pool faint, kept outlined, size = difficulty);
    right, each arm's difficulty (pool as a box, kept as dots)."""
    import numpy as np
    from matplotlib import colormaps
    from matplotlib.figure import Figure
    from sklearn.decomposition import PCA

    labels, kept_mask = result.labels, result.kept_mask
    k = result.arms.n_arms
    xy = PCA(n_components=2, random_state=0).fit_transform(result.features)
    diff = pool_diff = result.difficulty
    cmap = colormaps["tab10" if k <= 10 else "tab20"]
    fig = Figure(figsize=(13, 5.6), layout="constrained")
    ax, bx = fig.subplots(1, 2, width_ratios=[1.5, 1])
    rng = np.random.default_rng(0)
    # Subsample the faint pool points in big pools so the kept points stay readable.
    pool_idx = np.flatnonzero(~kept_mask)
    if len(pool_idx) > 4000:
        pool_idx = np.sort(rng.choice(pool_idx, 4000, replace=False))
    colours = [cmap(a % cmap.N) for a in range(k)]
    ax.scatter(
        xy[pool_idx, 0],
        xy[pool_idx, 1],
        s=4 + 30 * pool_diff[pool_idx],
        c=[colours[a] for a in labels[pool_idx]],
        alpha=0.25,
        lw=0,
    )
    kept_idx = np.flatnonzero(kept_mask)
    ax.scatter(
        xy[kept_idx, 0],
        xy[kept_idx, 1],
        s=15 + 110 * diff[kept_idx],
        c=[colours[a] for a in labels[kept_idx]],
        edgecolors="black",
        linewidths=0.7,
    )
    for a in range(k):
        cx, cy = xy[labels == a].mean(axis=0)
        ax.annotate(
            str(a),
            (cx, cy),
            fontsize=11,
            weight="bold",
            ha="center",
            va="center",
            bbox={"boxstyle": "circle,pad=0.2", "fc": "white", "ec": colours[a], "alpha": 0.85},
        )
    # Say how much of each axis is difficulty: with a large weight PC 1 is mostly difficulty.
    corr = [_corr(xy[:, j], diff) for j in range(2)]
    ax.set_xlabel(f"PC 1 of clustering features (corr. with difficulty {corr[0]:+.2f})")
    ax.set_ylabel(f"PC 2 (corr. with difficulty {corr[1]:+.2f})")
    ax.set_title(
        textwrap.shorten(
            f"{title}: {k} arms; faint = pool, outlined = kept; size = difficulty", 100
        )
    )
    handles = [ax.scatter([], [], color=colours[a], s=30, label=f"arm {a}") for a in range(k)]
    ax.legend(handles=handles, fontsize=8, loc="best", ncols=2 if k > 6 else 1, framealpha=0.8)

    data = [pool_diff[labels == a] for a in range(k)]
    box = bx.boxplot(data, positions=range(k), widths=0.6, patch_artist=True, showfliers=False)
    for patch, colour in zip(box["boxes"], colours):
        patch.set_facecolor(colour)
        patch.set_alpha(0.35)
    for a in range(k):
        d = diff[result.kept[a]]
        bx.scatter(
            a + rng.uniform(-0.18, 0.18, len(d)),
            d,
            s=14,
            color=colours[a],
            edgecolors="black",
            linewidths=0.5,
            zorder=3,
        )
    bx.set_xticks(
        range(k),
        [f"{a}\n{len(result.kept[a])}/{int((labels == a).sum())}" for a in range(k)],
        fontsize=8 if k <= 8 else 6,
    )
    bx.set_xlabel("arm (kept / cluster size)")
    source = result.arms.difficulty_source.split("|")[0]  # a solve-rate key carries sampling settings
    bx.set_ylabel(f"difficulty ({textwrap.shorten(source, 40)}), 1 = hardest")
    bx.set_ylim(-0.05, 1.05)
    bx.set_title("difficulty per arm: box = whole cluster, dots = kept")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return buf.getvalue()


def _corr(a, b) -> float:
    import numpy as np

    if np.std(a) == 0 or np.std(b) == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])
