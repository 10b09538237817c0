"""Figures of runs and benchmarks, as PNG files written atomically.

Uses matplotlib's object API (``Figure`` + Agg), never ``pyplot``: no global
figure state, no display needed, safe in worker processes. Benchmark figures:
learning curves with 95% bootstrap bands, arm choices over time as a heatmap
per strategy, final accuracy with intervals, and performance profiles (the
fraction of runs above each score, rliable's recommended view of a whole
distribution of runs). A run gets one figure with its
held-out accuracy, training solve rate and chosen arms.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sparft.experiments.stats import (
    Summary,
    mean_curve_band,
    performance_profile,
    stratified_bootstrap_ci,
)
from sparft.fileio import atomic_write_bytes


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _save(fig, path: str | os.PathLike[str]) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return atomic_write_bytes(path, buf.getvalue())


def _colours(names: Sequence[str]) -> dict[str, Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab20" if len(names) > 10 else "tab10"]
    return {n: cmap(i % cmap.N) for i, n in enumerate(names)}


def learning_curves(
    steps: Sequence[float],
    curves: Mapping[str, np.ndarray],
    path: str | os.PathLike[str],
    title: str = "Held-out accuracy",
    ylabel: str = "held-out accuracy",
    seed: int = 0,
) -> Path:
    """Mean curve per strategy with its 95% bootstrap band over seeds (runs x points)."""
    fig = _figure(8, 5)
    ax = fig.add_subplot()
    colours = _colours(list(curves))
    x = np.asarray(steps, dtype=float)
    for name, runs in curves.items():
        mean, low, high = mean_curve_band(np.asarray(runs, dtype=float), seed=seed)
        ax.plot(x, mean, label=name, color=colours[name], lw=1.6)
        ax.fill_between(x, low, high, color=colours[name], alpha=0.15, lw=0)
    ax.set_xlabel("GRPO step")
    ax.set_ylabel(ylabel)
    ax.set_title(f"{title} (mean, 95% bootstrap band)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncols=2 if len(curves) > 6 else 1, loc="best")
    return _save(fig, path)


def curves_against(
    xs: Mapping[str, np.ndarray],
    ys: Mapping[str, np.ndarray],
    path: str | os.PathLike[str],
    xlabel: str,
    title: str,
    ylabel: str = "held-out accuracy",
) -> Path:
    """Each strategy's mean curve of ``ys`` against the mean of its own ``xs`` (runs x points):
    accuracy against a budget other than steps (generated tokens, rollouts), where strategies
    spend at different rates; each run drawn faintly behind its strategy's mean."""
    fig = _figure(8, 5)
    ax = fig.add_subplot()
    colours = _colours(list(ys))
    for name, y in ys.items():
        x, y = np.asarray(xs[name], dtype=float), np.asarray(y, dtype=float)
        for xr, yr in zip(x, y):
            ax.plot(xr, yr, color=colours[name], lw=0.6, alpha=0.25)
        ax.plot(x.mean(axis=0), y.mean(axis=0), label=name, color=colours[name], lw=1.6, marker=".")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(f"{title} (mean; each seed faint)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncols=2 if len(ys) > 6 else 1, loc="best")
    return _save(fig, path)


def arm_heatmaps(
    counts: Mapping[str, np.ndarray],
    path: str | os.PathLike[str],
    n_bins: int = 30,
) -> Path:
    """For each strategy, the share of training examples drawn from each arm over time.

    ``counts[name]`` is ``(runs x steps x K)``: examples of each arm in each
    step's batch (so mixed batches count correctly), pooled over runs.
    """
    names = list(counts)
    cols = min(4, max(1, len(names)))
    rows = math.ceil(len(names) / cols)
    fig = _figure(3.2 * cols, 2.4 * rows + 0.4)
    axes = fig.subplots(rows, cols, squeeze=False, sharex=True, sharey=True)
    image = None
    for i, name in enumerate(names):
        ax = axes[i // cols][i % cols]
        c = np.asarray(counts[name], dtype=np.float64)
        steps, n_arms = c.shape[1], c.shape[2]
        bins = max(1, min(n_bins, steps))
        edges = np.linspace(0, steps, bins + 1).astype(int)
        share = np.zeros((n_arms, bins))
        for b in range(bins):
            block = c[:, edges[b] : edges[b + 1], :].sum(axis=(0, 1))
            if block.sum() > 0:
                share[:, b] = block / block.sum()
        image = ax.imshow(
            share, aspect="auto", origin="lower", vmin=0, vmax=1, cmap="viridis",
            extent=(0, steps, -0.5, n_arms - 0.5), interpolation="nearest",
        )
        ax.set_title(name, fontsize=9)
        if i % cols == 0:
            ax.set_ylabel("arm")
        if i // cols == rows - 1:
            ax.set_xlabel("step")
    for j in range(len(names), rows * cols):
        axes[j // cols][j % cols].set_visible(False)
    if image is not None:
        fig.colorbar(image, ax=axes, shrink=0.8, label="share of examples")
    fig.suptitle("Arm choices over time (all seeds)")
    return _save(fig, path)


def final_accuracy(
    summaries: Mapping[str, Summary], path: str | os.PathLike[str], label: str = "final held-out accuracy"
) -> Path:
    """Mean with its 95% bootstrap interval per strategy, best at the top; IQM as a cross."""
    order = sorted(summaries, key=lambda n: summaries[n].mean)
    fig = _figure(7, 0.38 * len(order) + 1.4)
    ax = fig.add_subplot()
    y = np.arange(len(order))
    means = np.array([summaries[n].mean for n in order])
    low = np.array([summaries[n].ci_low for n in order])
    high = np.array([summaries[n].ci_high for n in order])
    ax.errorbar(means, y, xerr=[means - low, high - means], fmt="o", color="C0", capsize=3, label="mean, 95% CI")
    ax.plot([summaries[n].iqm for n in order], y, "x", color="C3", label="IQM")
    ax.set_yticks(y, order)
    ax.set_xlabel(label)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)  # clear of the bars
    return _save(fig, path)


def performance_profiles(
    scores: Mapping[str, np.ndarray],
    path: str | os.PathLike[str],
    taus: Sequence[float] | np.ndarray | None = None,
    xlabel: str = "final held-out accuracy",
    title: str = "Performance profiles",
    seed: int = 0,
    n_resamples: int = 2000,
) -> Path:
    """For each strategy, the fraction of runs scoring above tau, with a 95% stratified bootstrap band.

    ``scores[name]`` is ``(runs,)`` or ``(runs x tasks)`` (see :func:`stats.performance_profile`);
    a NaN run is an error (filter and report it first). ``taus`` defaults to 101 points
    spanning every score. A curve that lies above another everywhere dominates it.
    """
    mats = {n: np.asarray(v, dtype=float) for n, v in scores.items()}
    if taus is None:
        pooled = np.concatenate([m.ravel() for m in mats.values()]) if mats else np.zeros(1)
        low, high = float(np.min(pooled)), float(np.max(pooled))
        pad = 0.02 * (high - low) if high > low else 0.05
        taus = np.linspace(low - pad, high + pad, 101)
    t = np.asarray(taus, dtype=float)
    fig = _figure(7, 4.5)
    ax = fig.add_subplot()
    colours = _colours(list(mats))
    for name, m in mats.items():
        band = stratified_bootstrap_ci(
            m, lambda s: performance_profile(s, t), n_resamples=n_resamples, seed=seed
        )
        ax.plot(t, band.estimate, label=f"{name} ({band.n_runs} runs)", color=colours[name], lw=1.6)
        ax.fill_between(t, band.ci_low, band.ci_high, color=colours[name], alpha=0.15, lw=0)
    ax.set_xlabel(f"{xlabel} (tau)")
    ax.set_ylabel("fraction of runs with score > tau")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(f"{title} (95% stratified bootstrap band)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncols=2 if len(mats) > 6 else 1, loc="best")
    return _save(fig, path)


def run_figure(
    records: Sequence[Mapping[str, Any]],
    path: str | os.PathLike[str],
    title: str = "",
    initial_accuracy: float | None = None,
) -> Path:
    """One run: held-out accuracy and batch solve rate over updates, and the arms each batch came from."""
    fig = _figure(8, 5.5)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(2, 1))
    done = np.array([r["step"] + 1 for r in records], dtype=float)  # updates done after the line's step
    solve = np.array([r.get("solve_rate", np.nan) for r in records], dtype=float)
    top.plot(done, solve, color="C1", alpha=0.45, lw=1, label="training solve rate (batch)")
    evals = [(r["step"] + 1, r["accuracy"]) for r in records if r.get("accuracy") is not None]
    if initial_accuracy is not None:
        evals.insert(0, (0, initial_accuracy))
    if evals:
        ex, ey = zip(*evals)
        top.plot(ex, ey, "o-", color="C0", lw=1.8, ms=3, label="held-out accuracy")
    top.set_ylabel("accuracy / solve rate")
    top.set_ylim(-0.02, 1.02)
    top.grid(alpha=0.3)
    top.legend(fontsize=8)
    top.set_title(title or "run")
    counts = np.array([r["arm_counts"] for r in records if "arm_counts" in r], dtype=float)
    if counts.size:
        share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
        bottom.imshow(
            share.T, aspect="auto", origin="lower", cmap="Greens", vmin=0, vmax=1,
            extent=(0.5, len(share) + 0.5, -0.5, share.shape[1] - 0.5), interpolation="nearest",
        )
    if len(done):
        bottom.set_xlim(0, done.max() + 0.5)  # from 0: the evaluation before training
    bottom.set_ylabel("arm (share of batch)")
    bottom.set_xlabel("GRPO updates")
    return _save(fig, path)
