"""Compare curriculum strategies on many seeds at an equal budget.

Every strategy runs on every seed for env.budget GRPO steps on the same fixed
held-out set; the report gives, per strategy, the final held-out accuracy
(mean, 95% bootstrap interval, interquartile mean), the area under the
learning curve, the steps needed to reach the baseline's (uniform's) final
accuracy, Welch tests against the baseline and against sparft, and the
samples / tokens / unique examples consumed; as table.md, results.csv,
summary.json and plots (curves.png, arms.png, final.png).

Resumable: finished (strategy, seed) cells are kept in BENCH_DIR/cells and not
run again, so the same command after an interruption finishes the rest.

Real benches keep their folder in the repository (results/real_arith/): a bench can be
spread over several sittings, each finishing more cells, and --report-only rebuilds
the table and plots from the stored cells without running anything (byte-identical
for the same cells). Every cell records the commit, machine and date it came from.

On a Ray cluster (pip install 'sparft[ray]'), --executor ray runs every cell as a
Ray task with its learner's resources (1 CPU simulated; 1 GPU, or a whole CPU node,
for GRPO), retried elsewhere if its worker or node dies; this process writes each
finished cell, so resuming and --report-only work as above. --address HOST:PORT
(or RAY_ADDRESS, which `ray job submit` sets; `auto`: the cluster `ray start` made
here); without either, a Ray instance for this command alone.

examples:
  sparft bench configs/sim_bench.yaml
  sparft bench configs/real_bench_arith.yaml --out results/real_arith
  sparft bench --report-only results/real_arith
  sparft bench configs/sim_bench.yaml --strategies uniform,sparft,sparft_target --seeds 16 --workers 2
  sparft bench configs/sim_bench.yaml --strategies uniform,exp3_s+learning_progress --set env.budget=100
  sparft bench configs/real_bench_arith.yaml --out /shared/real_arith --executor ray --address HEAD:6379
  ray job submit -- sparft bench configs/sim_bench.yaml --executor ray --out /shared/sim
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sparft.experiments.options import count

HELP = "compare strategies x seeds at an equal budget: table, CSV, plots, statistics"
INTERRUPTED = "re-run the same command to finish the missing cells"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", nargs="?", help="config file (YAML); not with --report-only")
    p.add_argument("--report-only", metavar="BENCH_DIR",
                   help="rebuild table, CSV and plots from BENCH_DIR's finished cells; run nothing")
    p.add_argument("--strategies", help="comma-separated strategies (default: bench.strategies); "
                   "BANDIT+SIGNAL composes one")
    p.add_argument("--seeds", type=count, help="seeds per strategy (default: bench.seeds, 16)")
    p.add_argument("--workers", type=count, help="worker processes (default: bench.workers, 2)")
    p.add_argument("--executor", metavar="NAME",
                   help="where cells run: local worker processes, ray tasks, or a plugin executor "
                   "(default: bench.executor, local)")
    p.add_argument("--address", help="Ray cluster address for --executor ray: HOST:PORT, auto or ray://... "
                   "(default: RAY_ADDRESS, else a Ray instance started here)")
    p.add_argument("--out", help="bench folder (default: <run.out>/bench-<name>); re-use it to resume")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value (repeatable)")
    p.add_argument("--wandb", choices=["online", "offline", "disabled"],
                   help="W&B mode: one W&B run per cell, grouped by the bench name")
    p.add_argument("--no-plots", action="store_true", help="skip the figures")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from sparft.experiments import bench
    from sparft.experiments.config import load_config, strategy_of
    from sparft.experiments.learners import learner_plugin
    from sparft.experiments.tracking import resolve_mode

    if args.report_only:
        if args.config or args.strategies or args.seeds or args.overrides or args.executor or args.address:
            raise ValueError("--report-only takes only the bench folder: drop the config and options")
        plan = bench.load_plan(Path(args.report_only))
        cells = bench.collect(plan, partial=True)
        if not cells:
            raise ValueError(f"{args.report_only} has no finished cell yet; run the bench first")
        return _report(bench, plan, cells, plots=not args.no_plots)
    if not args.config:
        raise ValueError("give a config file (or --report-only BENCH_DIR)")
    overrides = list(args.overrides)
    if args.seeds is not None:
        overrides.append(f"bench.seeds={args.seeds}")
    if args.workers is not None:
        overrides.append(f"bench.workers={args.workers}")
    if args.executor is not None:
        overrides.append(f"bench.executor={args.executor}")
    cfg = load_config(args.config, overrides)
    if args.address and cfg.bench.executor != "ray":
        raise ValueError("--address names a Ray cluster: add --executor ray (or bench.executor: ray)")
    strategies = None
    if args.strategies:
        names = [s.strip() for s in args.strategies.split(",") if s.strip()]
        strategies = [strategy_of(n) for n in names]
    out = Path(args.out) if args.out else Path(cfg.run.out) / f"bench-{cfg.name}"
    plan = bench.plan(cfg, out, strategies)
    mode = resolve_mode(args.wandb, cfg.wandb.mode)
    bench.prepare(plan)
    on_cell = None
    if not learner_plugin(plan.cfg).parallel_cells:
        # Such cells take minutes: keep the folder's table current after each one, so a
        # bench stopped at any moment has an up-to-date partial report beside its cells.
        def on_cell(label: str, seed: int) -> None:
            bench.write_report(plan, bench.collect(plan, partial=True), plots=False)

    cells = bench.execute(plan, workers=plan.cfg.bench.workers, wandb_mode=mode,
                          progress=not args.quiet, on_cell=on_cell,
                          executor=plan.cfg.bench.executor, address=args.address)
    return _report(bench, plan, cells, plots=not args.no_plots)


def _report(bench, plan, cells, plots: bool) -> int:
    out = plan.out
    summary = bench.write_report(plan, cells, plots=plots)
    print(summary["note"])
    print()
    print((out / "table.md").read_text().split("\n", 2)[2])
    print(f"bench folder: {out}")
    for name, path in summary["figures"].items():
        print(f"  {name}: {path}")
    return 0
