"""Benchmarks: every strategy on every seed at an equal budget, compared with intervals.

Habits from TeachMyAgent (Romac et al., ICML 2021) and rliable (Agarwal et al.,
NeurIPS 2021): the same fixed held-out set and the same step budget for every
strategy (samples, rollouts and tokens consumed are reported too, since a
strategy that filters groups spends more of them per step), 16 seeds by default
on the simulator, 95% bootstrap intervals, IQM, and Welch tests.

A bench folder::

    BENCH_DIR/
      config.yaml            resolved config (strategies and seeds included)
      cells/<label>__seed007.json    one finished (strategy, seed) run, written atomically
      results.csv, table.md, summary.json
      curves.png, arms.png, final.png

Resumable: a cell whose file exists (and was made by the same strategy
settings and budget) is not run again, so re-running the same command after a
kill finishes only the missing cells. A partly written cell cannot exist
(temp file + rename).
"""

from __future__ import annotations

import csv
import io
import math
import multiprocessing as mp
import os
import re
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sparft.experiments import records, stats, typed
from sparft.experiments.config import ExperimentConfig, StrategyConfig, load_config, save_config

CELLS = "cells"


def cell_name(label: str, seed: int) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", label)
    return f"{safe}__seed{seed:03d}.json"


def cell_key(cfg: ExperimentConfig, strategy: StrategyConfig) -> dict[str, Any]:
    """What makes a finished cell reusable: the strategy's settings and the budget."""
    return {"strategy": typed.to_dict(strategy), "budget": cfg.env.budget, "eval_every": cfg.env.eval_every}


def fingerprint(cfg: ExperimentConfig) -> dict[str, Any]:
    """The parts of a config that every cell of a bench must share."""
    d = cfg.to_dict()
    for key in ("name", "description", "seed", "strategy", "bench", "sweep", "run", "wandb"):
        d.pop(key, None)
    return d


# ----------------------------------------------------------------- cells
_WORKER_CFG: ExperimentConfig | None = None


def _init_worker(cfg: ExperimentConfig, child: bool = False) -> None:
    global _WORKER_CFG
    _WORKER_CFG = cfg
    if child:
        _die_with_parent()


def _die_with_parent() -> None:
    """Linux: a worker gets SIGTERM when the bench process dies (even by SIGKILL), so none is orphaned."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
        if os.getppid() == 1:  # the parent died before prctl took effect
            os._exit(1)
    except (OSError, AttributeError):
        pass


def run_cell(
    cfg: ExperimentConfig,
    strategy: StrategyConfig,
    seed: int,
    path: Path,
    wandb_mode: str = "disabled",
    group: str = "",
) -> dict[str, Any]:
    """Run one (strategy, seed) cell and write its result file atomically."""
    from sparft.experiments.runner import run_episode
    from sparft.experiments.tracking import Tracker

    res = run_episode(cfg, seed, strategy).to_dict()
    res["key"] = cell_key(cfg, strategy)
    records.atomic_write_json(path, res)
    if wandb_mode != "disabled":
        run_cfg = cfg.replace(strategy=strategy, seed=seed).to_dict()
        with Tracker(
            wandb_mode,
            project=cfg.wandb.project,
            entity=cfg.wandb.entity,
            name=f"{strategy.display}-s{seed}",
            config=run_cfg,
            directory=path.parent.parent,
            group=group or cfg.name,
            job_type="bench",
            tags=cfg.wandb.tags,
        ) as tracker:
            for step, acc in zip([0, *res["eval_steps"]], [res["initial_accuracy"], *res["accuracy"]]):
                tracker.log({"accuracy": acc}, step=step)
            tracker.summary({k: res[k] for k in ("final_accuracy", "samples", "tokens", "unique_examples")})
    return res


def _cell_task(job: tuple[StrategyConfig, int, str, str, str]) -> tuple[str, int]:
    strategy, seed, path, wandb_mode, group = job
    assert _WORKER_CFG is not None
    run_cell(_WORKER_CFG, strategy, seed, Path(path), wandb_mode, group)
    return strategy.display, seed


def load_cell(path: Path, key: Mapping[str, Any]) -> dict[str, Any] | None:
    """A finished cell's result, or None when missing or made with other settings."""
    if not path.is_file():
        return None
    try:
        res = records.read_json(path)
    except ValueError:
        return None
    return res if res.get("key") == records.clean(key) else None


# ----------------------------------------------------------------- running
@dataclass
class BenchPlan:
    cfg: ExperimentConfig
    strategies: list[StrategyConfig]
    seeds: list[int]
    out: Path


def plan(cfg: ExperimentConfig, out: Path, strategies: Sequence[StrategyConfig] | None = None,
         n_seeds: int | None = None) -> BenchPlan:
    from sparft.experiments.wiring import resolve_strategy

    strategies = list(strategies if strategies is not None else cfg.bench.strategies)
    if not strategies:
        raise ValueError("no strategies to compare: give --strategies a,b,... or bench.strategies in the config")
    resolved = [resolve_strategy(s, f"strategy {s.display!r}") for s in strategies]
    labels = [s.display for s in resolved]
    dup = sorted({x for x in labels if labels.count(x) > 1})
    if dup:
        raise ValueError(f"strategy {dup[0]!r} is listed twice; give each variant its own label")
    seeds = list(range(n_seeds if n_seeds is not None else cfg.bench.seeds))
    if not seeds:
        raise ValueError("--seeds must be at least 1")
    cfg = cfg.replace(bench=type(cfg.bench)(**{**typed.to_dict(cfg.bench), "strategies": resolved, "seeds": len(seeds)}))
    return BenchPlan(cfg=cfg, strategies=resolved, seeds=seeds, out=out)


def prepare(p: BenchPlan) -> None:
    """Check the folder (before any work) and write the resolved config."""
    from sparft.experiments.runner import check_writable

    check_writable(p.out)
    saved = p.out / "config.yaml"
    if saved.is_file():
        old = load_config(saved, base_dir=p.out, check_files=False)
        if fingerprint(old) != fingerprint(p.cfg):
            raise ValueError(
                f"{p.out} holds a bench of a different config (data, learner or env differ); "
                "use another --out or delete that folder"
            )
    (p.out / CELLS).mkdir(parents=True, exist_ok=True)
    save_config(p.cfg, saved, header=f"resolved config of bench {p.cfg.name} (sparft bench)")


def execute(
    p: BenchPlan,
    workers: int = 1,
    wandb_mode: str = "disabled",
    progress: bool = True,
    on_cell: Callable[[str, int], None] | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Run the missing cells (in ``workers`` processes) and return every cell by strategy."""
    cells_dir = p.out / CELLS
    todo = []
    for s in p.strategies:
        key = cell_key(p.cfg, s)
        for seed in p.seeds:
            path = cells_dir / cell_name(s.display, seed)
            if load_cell(path, key) is None:
                todo.append((s, seed, str(path), wandb_mode, p.cfg.name))
    if p.cfg.learner.kind != "simulated" and workers > 1:
        print("sparft bench: a real learner runs one cell at a time (workers=1)", file=sys.stderr)
        workers = 1
    bar = None
    if progress and todo:
        from tqdm import tqdm

        bar = tqdm(total=len(todo), desc=f"bench {p.cfg.name}", unit="run")

    def done(label: str, seed: int) -> None:
        if bar is not None:
            bar.update(1)
        if on_cell is not None:
            on_cell(label, seed)

    try:
        if workers <= 1 or len(todo) <= 1:
            _init_worker(p.cfg)
            for job in todo:
                done(*_cell_task(job))
        else:
            method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
            with ProcessPoolExecutor(
                max_workers=workers, mp_context=mp.get_context(method),
                initializer=_init_worker, initargs=(p.cfg, True),
            ) as pool:
                futures = [pool.submit(_cell_task, job) for job in todo]
                try:
                    for f in as_completed(futures):
                        done(*f.result())  # re-raises a worker's error here
                except BaseException:
                    pool.shutdown(wait=False, cancel_futures=True)
                    raise
    finally:
        if bar is not None:
            bar.close()
    out: dict[str, list[dict[str, Any]]] = {}
    for s in p.strategies:
        key = cell_key(p.cfg, s)
        cells = []
        for seed in p.seeds:
            res = load_cell(cells_dir / cell_name(s.display, seed), key)
            if res is None:
                raise RuntimeError(f"cell {s.display} seed {seed} has no result after running")
            cells.append(res)
        out[s.display] = cells
    return out


# ----------------------------------------------------------------- analysis
def curve(cell: Mapping[str, Any]) -> tuple[list[int], list[float]]:
    """(steps, held-out accuracy) including the evaluation before training (step 0)."""
    return [0, *cell["eval_steps"]], [cell["initial_accuracy"], *cell["accuracy"]]


def analyse(
    cells: Mapping[str, Sequence[Mapping[str, Any]]],
    baseline: str = "uniform",
    reference: str = "sparft",
    seed: int = 0,
) -> list[dict[str, Any]]:
    """One row per strategy: final accuracy (mean, 95% CI, IQM), AUC, steps to reach
    the baseline's final accuracy, Welch tests against the baseline and the reference,
    and what was consumed. Rows are sorted by mean final accuracy."""
    finals = {name: np.array([c["final_accuracy"] for c in cs]) for name, cs in cells.items()}
    target = float(finals[baseline].mean()) if baseline in finals else math.nan
    rows = []
    for name, cs in cells.items():
        steps, _ = curve(cs[0])
        mat = np.array([curve(c)[1] for c in cs])
        mean_curve = mat.mean(axis=0)
        aucs = np.array([stats.auc(steps, row) for row in mat])
        summary = stats.summarise(finals[name], seed=seed)
        auc_lo, auc_hi = stats.bootstrap_ci(aucs, seed=seed)
        reach = [stats.steps_to_reach(steps, row, target) for row in mat]
        row: dict[str, Any] = {
            "strategy": name,
            "seeds": len(cs),
            "final_mean": summary.mean,
            "final_ci_low": summary.ci_low,
            "final_ci_high": summary.ci_high,
            "final_iqm": summary.iqm,
            "final_std": summary.std,
            "auc_mean": float(aucs.mean()),
            "auc_ci_low": auc_lo,
            "auc_ci_high": auc_hi,
            "steps_to_baseline": stats.steps_to_reach(steps, mean_curve, target),
            "reached_baseline": float(np.mean([not math.isnan(r) for r in reach])),
            "initial_accuracy": float(np.mean([c["initial_accuracy"] for c in cs])),
            "budget_steps": int(cs[0]["budget"]),
            "samples": float(np.mean([c["samples"] for c in cs])),
            "rollouts": float(np.mean([c["rollouts"] for c in cs])),
            "tokens": float(np.mean([c["tokens"] for c in cs])),
            "unique_examples": float(np.mean([c["unique_examples"] for c in cs])),
            "wall_time": float(np.mean([c["wall_time"] for c in cs])),
        }
        for tag, other in (("baseline", baseline), ("reference", reference)):
            if other in finals and other != name:
                w = stats.welch(finals[name], finals[other])
                row[f"vs_{tag}_diff"], row[f"vs_{tag}_p"] = w.diff, w.p
            else:
                row[f"vs_{tag}_diff"], row[f"vs_{tag}_p"] = math.nan, math.nan
        rows.append(row)
    rows.sort(key=lambda r: -r["final_mean"])
    return rows


def _fmt(x: float, spec: str = ".3f") -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


def _p(p: float) -> str:
    if p is None or math.isnan(p):
        return "—"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def markdown_table(rows: Sequence[Mapping[str, Any]], baseline: str, reference: str) -> str:
    head = (
        f"| strategy | final acc. (95% CI) | IQM | AUC | steps to {baseline} | "
        f"Δ vs {baseline} (p) | Δ vs {reference} (p) | tokens | unique ex. |"
    )
    lines = [head, "|" + "|".join(["---"] * 9) + "|"]
    for r in rows:
        reach = _fmt(r["steps_to_baseline"], ".0f")
        if reach != "—" and r["reached_baseline"] < 1:
            reach += f" ({r['reached_baseline']:.0%} of seeds)"
        lines.append(
            f"| {r['strategy']} | {_fmt(r['final_mean'])} ({_fmt(r['final_ci_low'])}–{_fmt(r['final_ci_high'])}) "
            f"| {_fmt(r['final_iqm'])} | {_fmt(r['auc_mean'])} | {reach} "
            f"| {_fmt(r['vs_baseline_diff'], '+.3f')} ({_p(r['vs_baseline_p'])}) "
            f"| {_fmt(r['vs_reference_diff'], '+.3f')} ({_p(r['vs_reference_p'])}) "
            f"| {_fmt(r['tokens'], '.3g')} | {_fmt(r['unique_examples'], '.0f')} |"
        )
    return "\n".join(lines) + "\n"


def csv_text(rows: Sequence[Mapping[str, Any]]) -> str:
    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
        writer.writeheader()
        for r in rows:
            writer.writerow({k: ("" if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()})
    return buf.getvalue()


def write_report(p: BenchPlan, cells: Mapping[str, Sequence[Mapping[str, Any]]], plots: bool = True) -> dict[str, Any]:
    """Table, CSV, summary and figures of a finished bench; returns the summary."""
    from sparft.experiments import plots as plotting

    baseline, reference = p.cfg.bench.baseline, p.cfg.bench.reference
    rows = analyse(cells, baseline, reference)
    table = markdown_table(rows, baseline, reference)
    cfg = p.cfg
    note = (
        f"{cfg.name}: {len(p.strategies)} strategies x {len(p.seeds)} seeds, {cfg.env.budget} GRPO steps each "
        f"(B={cfg.env.batch_size}, G={cfg.env.group_size}), {cfg.learner.kind} learner"
        + (f" ({cfg.learner.preset})" if cfg.learner.kind == "simulated" else f" ({cfg.learner.model})")
        + "; held-out accuracy; 95% bootstrap CI; Welch t-tests on final accuracy.\n"
    )
    records.atomic_write_text(p.out / "table.md", note + "\n" + table)
    records.atomic_write_text(p.out / "results.csv", csv_text(rows))
    cell_rows = [
        {"strategy": name, "seed": s, "final_accuracy": c["final_accuracy"], "auc": stats.auc(*curve(c)),
         "samples": c["samples"], "tokens": c["tokens"], "unique_examples": c["unique_examples"]}
        for name, cs in cells.items() for s, c in zip(p.seeds, cs)
    ]
    records.atomic_write_text(p.out / "cells.csv", csv_text(cell_rows))
    figures = {}
    if plots:
        steps = curve(next(iter(cells.values()))[0])[0]
        figures["curves"] = str(plotting.learning_curves(
            steps, {n: np.array([curve(c)[1] for c in cs]) for n, cs in cells.items()}, p.out / "curves.png",
            title=f"{cfg.name}: held-out accuracy",
        ))
        figures["arms"] = str(plotting.arm_heatmaps(
            {n: np.array([c["arm_counts"] for c in cs]) for n, cs in cells.items()}, p.out / "arms.png"
        ))
        figures["final"] = str(plotting.final_accuracy(
            {r["strategy"]: stats.Summary(r["final_mean"], r["final_ci_low"], r["final_ci_high"],
                                          r["final_iqm"], r["final_std"], r["seeds"]) for r in rows},
            p.out / "final.png",
        ))
    summary = {"name": cfg.name, "rows": rows, "figures": figures, "table": str(p.out / "table.md"),
               "note": note.strip()}
    records.atomic_write_json(p.out / "summary.json", summary)
    return summary
