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
(temp file + rename). Cells run in local processes or as Ray tasks on a cluster
(:mod:`sparft.experiments.executors`); either way the bench process alone writes them.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sparft.experiments import records, stats, typed
from sparft.experiments.config import ExperimentConfig, StrategyConfig, load_config, save_config
from sparft.experiments.learners import learner_plugin
from sparft.experiments.resolve import resolve_strategy

CELLS = "cells"
ARMS = "arms.json"


def cell_name(label: str, seed: int) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", label)
    return f"{safe}__seed{seed:03d}.json"


def cell_key(cfg: ExperimentConfig, strategy: StrategyConfig) -> dict[str, Any]:
    """What makes a finished cell reusable: the strategy's settings and the budget."""
    key = {"strategy": typed.to_dict(strategy), "budget": cfg.env.budget, "eval_every": cfg.env.eval_every}
    if cfg.env.budget_unit != "steps":  # (step-budget cells made before units existed stay valid)
        key["budget_unit"] = cfg.env.budget_unit
    return key


def fingerprint(cfg: ExperimentConfig) -> dict[str, Any]:
    """The parts of a config that every cell of a bench must share."""
    d = cfg.to_dict()
    for key in ("name", "description", "seed", "strategy", "bench", "sweep", "run", "wandb", "demo"):
        d.pop(key, None)
    return d


def provenance() -> dict[str, Any]:
    """Where a result came from: the sparft commit (``+dirty`` when the tree had edits),
    the machine (processor, cores, bfloat16 instructions, accelerator) and the date.

    The commit and machine are read once per process, at the first call (:func:`prepare`
    makes it before any cell runs): the code that ran, not whatever the checkout holds
    when a cell finishes hours later."""
    import datetime

    return {
        **_code_and_machine(),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


@functools.cache
def _code_and_machine() -> dict[str, Any]:
    import platform
    import subprocess

    root = Path(__file__).resolve().parent.parent
    commit = "unknown"
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()
        commit += "+dirty" if dirty else ""
    except (OSError, subprocess.SubprocessError):
        from sparft import __version__

        commit = f"sparft {__version__}"
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), cpu)
    except OSError:
        pass
    machine: dict[str, Any] = {"cpu": cpu, "cores": os.cpu_count(), "system": platform.system()}
    try:
        from sparft.trainers.models import cpu_bf16_instructions

        machine["bf16"] = cpu_bf16_instructions()
        import torch

        if torch.cuda.is_available():
            machine["gpu"] = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return {"commit": commit, "machine": machine}


# ----------------------------------------------------------------- cells
def cell_result(cfg: ExperimentConfig, job: Any) -> dict[str, Any]:
    """Run one (strategy, seed) cell (a :class:`~sparft.experiments.executors.CellJob`) and
    return its result; the driver writes it (:func:`execute`), wherever the cell ran."""
    from sparft.experiments.runner import run_episode
    from sparft.experiments.tracking import Tracker

    strategy, seed = job.strategy, job.seed
    res = run_episode(cfg, seed, strategy).to_dict()
    res["key"] = cell_key(cfg, strategy)
    res["provenance"] = provenance()
    if job.wandb_mode != "disabled":
        run_cfg = cfg.replace(strategy=strategy, seed=seed).to_dict()
        with Tracker(
            job.wandb_mode,
            project=cfg.wandb.project,
            entity=cfg.wandb.entity,
            name=f"{strategy.display}-s{seed}",
            config=run_cfg,
            directory=Path(job.path).parent.parent,
            group=job.group or cfg.name,
            job_type="bench",
            tags=cfg.wandb.tags,
        ) as tracker:
            for step, acc in zip([0, *res["eval_steps"]], [res["initial_accuracy"], *res["accuracy"]]):
                tracker.log({"accuracy": acc}, step=step)
            tracker.summary({k: res[k] for k in ("final_accuracy", "samples", "tokens", "unique_examples")})
    return res


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
    provenance()  # fixes the commit and machine the cells will name, before any runs
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
    if learner_plugin(p.cfg).needs_arms_file and not (p.out / ARMS).is_file():
        # The arms every cell trained on (topics, difficulties): what `sparft calibrate` fits to.
        from sparft.experiments.wiring import build_arms

        build_arms(p.cfg).save(p.out / ARMS)


def execute(
    p: BenchPlan,
    workers: int = 1,
    wandb_mode: str = "disabled",
    progress: bool = True,
    on_cell: Callable[[str, int], None] | None = None,
    executor: str | Any | None = None,
    address: str | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Run the missing cells and return every cell by strategy.

    ``executor``: ``"local"`` (``workers`` processes on this machine), ``"ray"`` (Ray
    tasks on the cluster at ``address``, see :class:`~sparft.experiments.executors.RayExecutor`),
    an executor object, or None for ``bench.executor``. Whichever runs them, this process
    writes each finished cell, atomically, as it arrives; so a kill at any moment leaves
    whole cells only, and the next call runs just the missing ones.
    """
    from sparft.experiments.executors import CellJob, make_executor

    cells_dir = p.out / CELLS
    todo = []
    # Seed-major: a bench stopped part-way has every strategy on its first seeds, i.e.
    # paired comparisons, rather than every seed of its first strategies.
    for seed in p.seeds:
        for s in p.strategies:
            path = cells_dir / cell_name(s.display, seed)
            if load_cell(path, cell_key(p.cfg, s)) is None:
                todo.append(CellJob(s, seed, path, wandb_mode, p.cfg.name))
    if not todo:
        return collect(p)
    owned = executor is None or isinstance(executor, str)
    ex = make_executor(executor or p.cfg.bench.executor, workers, address) if owned else executor
    bar = None
    try:
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(todo), desc=f"bench {p.cfg.name} ({ex.describe()})", unit="cell")
        with contextlib.closing(ex.run(p.cfg, todo)) as finished:  # closed: stops what still runs
            for job, res in finished:
                records.atomic_write_json(job.path, res)
                if bar is not None:
                    bar.update(1)
                if on_cell is not None:
                    on_cell(job.label, job.seed)
    finally:
        if bar is not None:
            bar.close()
        if owned:
            ex.close()
    return collect(p)


def collect(p: BenchPlan, partial: bool = False) -> dict[str, list[dict[str, Any]]]:
    """Every finished cell by strategy, in seed order (each cell knows its ``seed``).

    ``partial=False`` (after running) insists on every cell; ``partial=True`` (a report of
    a bench still under way) takes the finished ones and leaves out strategies with none.
    """
    cells_dir = p.out / CELLS
    out: dict[str, list[dict[str, Any]]] = {}
    for s in p.strategies:
        key = cell_key(p.cfg, s)
        cells = []
        for seed in p.seeds:
            res = load_cell(cells_dir / cell_name(s.display, seed), key)
            if res is None and not partial:
                raise RuntimeError(f"cell {s.display} seed {seed} has no result after running")
            if res is not None:
                cells.append(res)
        if cells:
            out[s.display] = cells
    return out


def load_plan(out: Path) -> BenchPlan:
    """The plan of an existing bench folder, from the resolved config it holds."""
    saved = out / "config.yaml"
    if not saved.is_file():
        raise FileNotFoundError(
            f"{out} is not a bench folder (no config.yaml); give the folder `sparft bench --out` wrote"
        )
    cfg = load_config(saved, base_dir=out, check_files=False)
    return BenchPlan(cfg=cfg, strategies=list(cfg.bench.strategies), seeds=list(range(cfg.bench.seeds)), out=out)


# ----------------------------------------------------------------- analysis
def curve(cell: Mapping[str, Any]) -> tuple[list[int], list[float]]:
    """(budget spent, held-out accuracy) including the evaluation before training (0).

    With a step budget the points are the evaluated steps. With a rollout or token budget
    every run is evaluated each time it crosses a multiple of ``eval_every``, a little past
    it and by a different amount per run; the points are then the nominal grid
    ``0, e, 2e, ..., budget``, each with the accuracy of the first evaluation at or past it,
    so that every run of a bench has the same points.
    """
    accuracy = [cell["initial_accuracy"], *cell["accuracy"]]
    if cell.get("budget_unit", "steps") == "steps":
        return [0, *cell["eval_steps"]], accuracy
    spent = np.array([0, *cell["eval_spent"]])
    every, budget = int(cell["key"]["eval_every"]), int(cell["budget"])
    grid = [*range(0, budget, every), budget]
    picks = np.minimum(np.searchsorted(spent, grid, side="left"), len(spent) - 1)
    return grid, [accuracy[i] for i in picks]


def tokens_curve(cell: Mapping[str, Any]) -> list[float]:
    """Generated tokens consumed by each point of :func:`curve` (0 before training)."""
    x, _ = curve(cell)
    if cell.get("budget_unit", "steps") == "tokens":
        return [float(v) for v in x]
    per_step = [o["tokens"] for o in cell.get("outcomes", [])]
    if cell.get("budget_unit", "steps") != "steps" or len(per_step) < cell["budget"]:
        return [math.nan] * len(x)
    cum = np.cumsum([0, *per_step])
    return [float(cum[s]) for s in x]


def _by_seed(cells: Sequence[Mapping[str, Any]]) -> dict[int, float]:
    # A cell knows its seed; hand-made cells without one pair by position.
    return {int(c.get("seed", i)): float(c["final_accuracy"]) for i, c in enumerate(cells)}


def analyse(
    cells: Mapping[str, Sequence[Mapping[str, Any]]],
    baseline: str = "uniform",
    reference: str = "sparft",
    seed: int = 0,
) -> list[dict[str, Any]]:
    """One row per strategy: final accuracy (mean, 95% CI, IQM), AUC, steps and tokens to
    reach the baseline's final accuracy, paired differences against the baseline and the
    reference (seeds are paired: same initial weights, same held-out set, same seed), and
    what was consumed. Rows are sorted by mean final accuracy.

    A seed whose final accuracy is NaN is counted in ``nan_runs`` and left out of every
    statistic of that row; paired comparisons use the seeds both strategies finished.
    """
    finals = {name: np.array([c["final_accuracy"] for c in cs], dtype=np.float64) for name, cs in cells.items()}
    target = float(np.nanmean(finals[baseline])) if baseline in finals else math.nan
    rows = []
    for name, cs in cells.items():
        steps, _ = curve(cs[0])
        mat = np.array([curve(c)[1] for c in cs], dtype=np.float64)
        tok = np.array([tokens_curve(c) for c in cs], dtype=np.float64)
        ok = np.isfinite(finals[name])
        mean_curve = mat[ok].mean(axis=0) if ok.any() else np.full(len(steps), math.nan)
        aucs = np.array([stats.auc(steps, row) for row in mat[ok]])
        summary = stats.summarise(finals[name][ok], seed=seed)
        auc_lo, auc_hi = stats.bootstrap_ci(aucs, seed=seed)
        reach = [stats.steps_to_reach(steps, row, target) for row in mat[ok]]
        tokens_to = [stats.steps_to_reach(t, row, target) for t, row in zip(tok[ok], mat[ok])]
        row: dict[str, Any] = {
            "strategy": name,
            "seeds": len(cs),
            "nan_runs": int((~ok).sum()),
            "final_mean": summary.mean,
            "final_ci_low": summary.ci_low,
            "final_ci_high": summary.ci_high,
            "final_iqm": summary.iqm,
            "final_std": summary.std,
            "auc_mean": float(aucs.mean()) if aucs.size else math.nan,
            "auc_ci_low": auc_lo,
            "auc_ci_high": auc_hi,
            "steps_to_baseline": stats.steps_to_reach(steps, mean_curve, target),
            "tokens_to_baseline": float(np.nanmedian(tokens_to)) if np.isfinite(tokens_to).any() else math.nan,
            "reached_baseline": float(np.mean([not math.isnan(r) for r in reach])) if reach else math.nan,
            "initial_accuracy": float(np.mean([c["initial_accuracy"] for c in cs])),
            "budget_steps": int(cs[0]["budget"]),  # the budget, in budget_unit
            "budget_unit": cs[0].get("budget_unit", "steps"),
            "samples": float(np.mean([c["samples"] for c in cs])),
            "rollouts": float(np.mean([c["rollouts"] for c in cs])),
            "tokens": float(np.mean([c["tokens"] for c in cs])),
            "unique_examples": float(np.mean([c["unique_examples"] for c in cs])),
            "wall_time": float(np.mean([c["wall_time"] for c in cs])),
        }
        for tag, other in (("baseline", baseline), ("reference", reference)):
            row.update(_compare(tag, name, other, cells, seed))
        rows.append(row)
    rows.sort(key=lambda r: -r["final_mean"] if not math.isnan(r["final_mean"]) else math.inf)
    return rows


def _compare(
    tag: str, name: str, other: str, cells: Mapping[str, Sequence[Mapping[str, Any]]], seed: int
) -> dict[str, float]:
    """Paired difference (mean, 95% bootstrap CI, paired t-test p) on the seeds both ran,
    and Welch's unpaired test beside it."""
    keys = ("diff", "ci_low", "ci_high", "p", "pairs", "welch_p")
    if other not in cells or other == name:
        return {f"vs_{tag}_{k}": math.nan for k in keys}
    mine, theirs = _by_seed(cells[name]), _by_seed(cells[other])
    common = [s for s in sorted(mine) if s in theirs and math.isfinite(mine[s]) and math.isfinite(theirs[s])]
    a = np.array([mine[s] for s in common])
    b = np.array([theirs[s] for s in common])
    out = {f"vs_{tag}_pairs": float(len(common))}
    if len(common) == 0:
        return {**{f"vs_{tag}_{k}": math.nan for k in keys}, f"vs_{tag}_pairs": 0.0}
    d = stats.paired_difference(a, b, seed=seed)  # NaN pairs were left out above
    w = stats.welch([v for v in mine.values() if math.isfinite(v)], [v for v in theirs.values() if math.isfinite(v)])
    out.update({
        f"vs_{tag}_diff": d.mean_diff,
        f"vs_{tag}_ci_low": d.ci_low,
        f"vs_{tag}_ci_high": d.ci_high,
        f"vs_{tag}_p": d.p_ttest,
        f"vs_{tag}_welch_p": w.p,
    })
    return out


def _fmt(x: float, spec: str = ".3f") -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


def _p(p: float) -> str:
    if p is None or math.isnan(p):
        return "—"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def markdown_table(rows: Sequence[Mapping[str, Any]], baseline: str, reference: str) -> str:
    unit = rows[0].get("budget_unit", "steps") if rows else "steps"
    reach_head = "steps" if unit == "steps" else f"budget ({unit}, mean curve)"
    head = (
        f"| strategy | seeds | final acc. (95% CI) | IQM | AUC | {reach_head} to {baseline} | tokens to {baseline} | "
        f"Δ vs {baseline}, paired (95% CI; p paired / Welch) | Δ vs {reference}, paired (95% CI; p paired / Welch) "
        "| rollouts | tokens | unique ex. |"
    )
    lines = [head, "|" + "|".join(["---"] * 12) + "|"]
    for r in rows:
        reach = _fmt(r["steps_to_baseline"], ".0f")
        if reach != "—" and r["reached_baseline"] < 1:
            reach += f" ({r['reached_baseline']:.0%} of seeds)"
        seeds = str(r["seeds"]) + (f" ({r['nan_runs']} NaN)" if r.get("nan_runs") else "")
        lines.append(
            f"| {r['strategy']} | {seeds} | {_fmt(r['final_mean'])} ({_fmt(r['final_ci_low'])}–{_fmt(r['final_ci_high'])}) "
            f"| {_fmt(r['final_iqm'])} | {_fmt(r['auc_mean'])} | {reach} | {_fmt(r['tokens_to_baseline'], '.3g')} "
            f"| {_delta(r, 'baseline')} | {_delta(r, 'reference')} "
            f"| {_fmt(r['rollouts'], '.3g')} | {_fmt(r['tokens'], '.3g')} | {_fmt(r['unique_examples'], '.0f')} |"
        )
    return "\n".join(lines) + "\n"


def _delta(r: Mapping[str, Any], tag: str) -> str:
    d = r.get(f"vs_{tag}_diff", math.nan)
    if d is None or math.isnan(d):
        return "—"
    return (
        f"{d:+.3f} ({_fmt(r[f'vs_{tag}_ci_low'], '+.3f')} to {_fmt(r[f'vs_{tag}_ci_high'], '+.3f')}; "
        f"{_p(r[f'vs_{tag}_p'])} / {_p(r[f'vs_{tag}_welch_p'])})"
    )


def csv_text(rows: Sequence[Mapping[str, Any]]) -> str:
    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
        writer.writeheader()
        for r in rows:
            writer.writerow({k: ("" if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()})
    return buf.getvalue()


def write_report(p: BenchPlan, cells: Mapping[str, Sequence[Mapping[str, Any]]], plots: bool = True) -> dict[str, Any]:
    """Table, CSV, summary and figures of the bench's finished cells; returns the summary.

    Everything written is a function of the cells alone (no clock, no machine), so
    ``sparft bench --report-only`` rebuilds byte-identical tables from stored cells.
    """
    from sparft.experiments import plots as plotting

    baseline, reference = p.cfg.bench.baseline, p.cfg.bench.reference
    rows = analyse(cells, baseline, reference)
    table = markdown_table(rows, baseline, reference)
    cfg = p.cfg
    n_done, n_all = sum(len(cs) for cs in cells.values()), len(p.strategies) * len(p.seeds)
    commits = sorted({c.get("provenance", {}).get("commit", "unknown") for cs in cells.values() for c in cs})
    note = (
        f"{cfg.name}: {len(p.strategies)} strategies x {len(p.seeds)} seeds, "
        f"{cfg.env.budget} {'GRPO steps' if cfg.env.budget_unit == 'steps' else cfg.env.budget_unit} each "
        f"(B={cfg.env.batch_size}, G={cfg.env.group_size}), {learner_plugin(cfg).describe(cfg)}"
        + "; held-out accuracy; 95% bootstrap CI; paired differences over seeds (bootstrap CI, paired t-test"
        + " p, Welch's unpaired p beside it)"
        + (f"; {n_done} of {n_all} cells finished (partial)" if n_done < n_all else "")
        + (f"; cells from commit {', '.join(commits)}" if commits != ["unknown"] else "")
        + ".\n"
    )
    records.atomic_write_text(p.out / "table.md", note + "\n" + table)
    records.atomic_write_text(p.out / "results.csv", csv_text(rows))
    cell_rows = [
        {"strategy": name, "seed": s, "final_accuracy": c["final_accuracy"], "auc": stats.auc(*curve(c)),
         "samples": c["samples"], "tokens": c["tokens"], "unique_examples": c["unique_examples"]}
        for name, cs in cells.items() for i, c in enumerate(cs) for s in [c.get("seed", i)]
    ]
    records.atomic_write_text(p.out / "cells.csv", csv_text(cell_rows))
    figures = {}
    if plots:
        steps = curve(next(iter(cells.values()))[0])[0]
        figures["curves"] = str(plotting.learning_curves(
            steps, {n: np.array([curve(c)[1] for c in cs]) for n, cs in cells.items()}, p.out / "curves.png",
            title=f"{cfg.name}: held-out accuracy",
        ))
        # Under a rollout or token budget runs make different numbers of updates: the
        # heatmap shows the updates every run of a strategy made.
        figures["arms"] = str(plotting.arm_heatmaps(
            {n: np.array([c["arm_counts"][: min(len(d["arm_counts"]) for d in cs)] for c in cs])
             for n, cs in cells.items()}, p.out / "arms.png"
        ))
        figures["final"] = str(plotting.final_accuracy(
            {r["strategy"]: stats.Summary(r["final_mean"], r["final_ci_low"], r["final_ci_high"],
                                          r["final_iqm"], r["final_std"], r["seeds"]) for r in rows},
            p.out / "final.png",
        ))
        tokens = {n: np.array([tokens_curve(c) for c in cs]) for n, cs in cells.items()}
        if all(np.isfinite(t).all() for t in tokens.values()):
            figures["tokens"] = str(plotting.curves_against(
                tokens, {n: np.array([curve(c)[1] for c in cs]) for n, cs in cells.items()},
                p.out / "tokens.png", xlabel="generated tokens", title=f"{cfg.name}: accuracy per token spent",
            ))
    summary = {"name": cfg.name, "rows": rows, "figures": figures, "table": str(p.out / "table.md"),
               "note": note.strip()}
    records.atomic_write_json(p.out / "summary.json", summary)
    return summary
