"""Tune a config's hyperparameters with Optuna over its declared search space.

The space is the config's sweep.space (config paths -> ranges; a field's own
declared range is used when none is given); the objective (final held-out
accuracy, AUC or final solve rate, averaged over sweep.seeds seeds) and its
direction come from the config. TPE by default, seeded; median or Wilcoxon
pruning from per-seed reports.

Storage: an SQLite file in the sweep folder by default; --storage
journal:PATH lets several processes on one machine share a study (start the
same command in each); --storage postgresql://user@host/db (any RDB URL) for
workers on many machines. The same --study name continues a study: COMPLETE
trials count toward --trials, a killed worker's trial is failed and re-run.
--executor ray runs the trials as Ray tasks against that storage (Optuna still
chooses them), as many at once as the cluster holds (or --n-jobs): one command
fills a cluster; the storage must be reachable from every node (an RDB URL, or a
journal or SQLite file on a shared file system).

Writes best.yaml (the config with the best values, ready for `sparft run`),
trials.csv, history.png, importances.png, parallel.png and summary.json, and
scores the default and the best config on fresh seeds (compare.json).

examples:
  sparft sweep configs/sim_bench.yaml --trials 40
  sparft sweep configs/sim_bench.yaml --trials 40 --storage journal:runs/sweep.log --study s1 &
  sparft sweep configs/sim_bench.yaml --trials 40 --storage journal:runs/sweep.log --study s1
  sparft sweep configs/sim_bench.yaml --trials 200 --storage postgresql://u@db/sweeps --executor ray --address auto
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sparft.experiments.options import count, natural

HELP = "tune a config with Optuna (sweep.space); resumable, many workers via journal or RDB storage"
INTERRUPTED = "re-run the same command (same --study) to continue the study"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", help="config file (YAML) with a sweep section")
    p.add_argument("--trials", type=count, help="COMPLETE trials wanted (default: sweep.trials)")
    p.add_argument("--storage", help="journal:PATH, sqlite:///PATH or an RDB URL (default: SQLite in --out)")
    p.add_argument("--study", help="study name (default: sweep.study, else the config name)")
    p.add_argument("--n-jobs", type=count, help="parallel trials in this process (default: sweep.n_jobs); "
                   "with --executor ray, Ray tasks at once (default: as many as the cluster holds)")
    p.add_argument("--executor", choices=["local", "ray"], default="local",
                   help="local: threads in this process; ray: one Ray task per trial on a cluster")
    p.add_argument("--address", help="Ray cluster address for --executor ray: HOST:PORT, auto or ray://... "
                   "(default: RAY_ADDRESS, else a Ray instance started here)")
    p.add_argument("--out", help="sweep folder (default: <run.out>/sweep-<study>)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value (repeatable)")
    p.add_argument("--wandb", choices=["online", "offline", "disabled"],
                   help="W&B mode: one W&B run per trial, grouped by the study name")
    p.add_argument("--compare-seeds", type=natural, default=16,
                   help="fresh seeds on which default and best are scored at the end (0: skip; default 16)")
    p.add_argument("--quiet", action="store_true", help="no per-trial lines")


def run(args: argparse.Namespace) -> int:
    from sparft import fileio
    from sparft.experiments import sweep
    from sparft.experiments.config import dump_yaml, load_config, save_config
    from sparft.experiments.runner import check_writable
    from sparft.experiments.tracking import resolve_mode

    overrides = list(args.overrides)
    for flag, key in ((args.trials, "sweep.trials"), (args.n_jobs, "sweep.n_jobs")):
        if flag is not None:
            overrides.append(f"{key}={flag}")
    if args.storage:
        overrides.append(f"sweep.storage={args.storage}")
    if args.study:
        overrides.append(f"sweep.study={args.study}")
    cfg = load_config(args.config, overrides)
    if args.address and args.executor != "ray":
        raise ValueError("--address names a Ray cluster: add --executor ray")
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # one line per trial is printed below
    dims = sweep.search_space(cfg)
    if not dims:
        raise ValueError("sweep.space is empty: declare what to tune, e.g. sweep.space: {strategy.params: auto}")
    study_name = cfg.sweep.study or cfg.name
    out = Path(args.out) if args.out else Path(cfg.run.out) / f"sweep-{study_name}"
    check_writable(out)
    url = cfg.sweep.storage or f"sqlite:///{(out / 'study.db').resolve()}"
    if url.startswith("journal:"):
        check_writable(Path(url[len("journal:"):]).expanduser().parent)
    mode = resolve_mode(args.wandb, cfg.wandb.mode)
    storage = sweep.make_storage(url)
    sweep.open_study(cfg, storage, study_name)  # fails here on a bad URL or direction
    out.mkdir(parents=True, exist_ok=True)
    save_config(cfg, out / "config.yaml", header=f"resolved config of sweep {study_name} (sparft sweep)")

    def on_trial(study) -> None:
        if args.quiet:
            return
        t = study.trials[-1]
        counts = sweep.count_states(study)
        best = study.best_value if counts.get("COMPLETE") else float("nan")
        value = f"{t.value:.4f}" if t.state.name == "COMPLETE" else ""
        print(f"trial {t.number} {t.state.name.lower()} {value}  "
              f"[{counts.get('COMPLETE', 0)}/{cfg.sweep.trials} complete, best {best:.4f}]", file=sys.stderr)

    ctx = sweep.SweepContext(cfg=cfg, dims=dims, n_trials=cfg.sweep.trials, study_name=study_name,
                             sweep_dir=out, wandb_mode=mode, on_trial=on_trial)
    if args.executor == "ray":
        from sparft.experiments.executors import RayExecutor

        ray_ex = RayExecutor(address=args.address, workers=args.n_jobs)
        try:
            study = sweep.run_sweep(ctx, storage, n_jobs=args.n_jobs, executor=ray_ex, url=url)
        finally:
            ray_ex.close()
    else:
        study = sweep.run_sweep(ctx, storage, n_jobs=cfg.sweep.n_jobs)

    best_values = sweep.best_values(study, dims)
    best_cfg = sweep.trial_config(cfg, best_values)
    best = study.best_trial
    header = (
        f"best config of study {study_name}: trial {best.number}, {cfg.sweep.objective} = {best.value:.4f}\n"
        f"(mean over {cfg.sweep.seeds} seeds; {sweep.count_states(study).get('COMPLETE', 0)} complete trials)\n"
        "values found by the sweep:\n" + "\n".join(f"  {k}: {v}" for k, v in best_values.items()) +
        f"\nrun it: sparft run {out / 'best.yaml'}"
    )
    best_yaml = best_cfg.replace(sweep=type(cfg.sweep)(**{**best_cfg.sweep.__dict__, "space": {}}))
    fileio.atomic_write_text(out / "best.yaml", dump_yaml(best_yaml.to_dict(), header))
    fileio.atomic_write_text(out / "trials.csv", _csv(sweep.trials_table(study)))
    figures = [str(p) for p in sweep.optuna_plots(study, out)]
    summary = {
        "study": study_name, "storage": url if "://" not in url or url.startswith("sqlite") else url.split("@")[-1],
        "objective": cfg.sweep.objective, "direction": cfg.sweep.direction,
        "best_value": best.value, "best_trial": best.number, "best_values": best_values,
        "states": sweep.count_states(study), "figures": figures,
    }
    if args.compare_seeds:
        seeds = [1000 + i for i in range(args.compare_seeds)]
        summary["compare"] = sweep.compare_default_and_best(cfg, best_cfg, seeds)
        fileio.atomic_write_json(out / "compare.json", summary["compare"])
    fileio.atomic_write_json(out / "summary.json", summary)

    print(f"study {study_name}: {summary['states']}")
    print(f"best {cfg.sweep.objective} = {best.value:.4f} (trial {best.number}): " +
          ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in best_values.items()))
    if args.compare_seeds:
        c = summary["compare"]
        print(f"on {len(seeds)} fresh seeds: default {c['default']['mean']:.4f} "
              f"({c['default']['ci_low']:.4f}–{c['default']['ci_high']:.4f}), best {c['best']['mean']:.4f} "
              f"({c['best']['ci_low']:.4f}–{c['best']['ci_high']:.4f}), Welch p = {c['welch']['p']:.3g}")
    print(f"best config: {out / 'best.yaml'}")
    print(f"sweep folder: {out}")
    return 0


def _csv(rows) -> str:
    import csv
    import io

    keys: list[str] = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=keys)
    w.writeheader()
    for r in rows:
        w.writerow(r)
    return buf.getvalue()
