"""The main job: benchmark every curriculum on the simulator, then fine-tune SmolLM2 for real.

1. The simulated benchmark of configs/demo.yaml: every strategy on 16 seeds at
   an equal budget on the simulated GRPO learner (about a minute on 2 cores),
   with the table of final held-out accuracy (95% intervals, IQM, Welch tests)
   and the plots.
2. A short real GRPO run of SmolLM2-135M-Instruct on the synthetic arithmetic
   task with the sparft teacher (the config named by demo.real; a few minutes
   on a CPU), reporting held-out accuracy before and after.

Both parts are resumable: run the same command again after an interruption.

examples:
  sparft demo
  sparft demo --sim-only --seeds 4 --budget 100
  sparft demo --real-steps 4
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "the main job: simulated benchmark of every strategy, then a short real GRPO run"
INTERRUPTED = "re-run the same command to continue"


def default_config() -> Path:
    import sparft

    return Path(sparft.__file__).resolve().parent / "configs" / "demo.yaml"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="demo config (default: configs/demo.yaml of this sparft)")
    p.add_argument("--out", help="output folder (default: <run.out>/demo)")
    p.add_argument("--sim-only", action="store_true", help="skip the real GRPO run")
    p.add_argument("--seeds", type=int, help="seeds per strategy in the benchmark (default 16)")
    p.add_argument("--budget", type=int, help="GRPO steps per simulated run (default 300)")
    p.add_argument("--strategies", help="comma-separated strategies (default: all of the config's)")
    p.add_argument("--workers", type=int, help="benchmark worker processes (default 2)")
    p.add_argument("--real-steps", type=int, help="GRPO steps of the real run (default: its config's)")
    p.add_argument("--wandb", choices=["online", "offline", "disabled"], help="W&B mode (default offline)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    from sparft.experiments import bench, runner
    from sparft.experiments.config import load_config, strategy_of
    from sparft.experiments.tracking import resolve_mode

    path = Path(args.config) if args.config else default_config()
    overrides = []
    if args.seeds is not None:
        overrides.append(f"bench.seeds={args.seeds}")
    if args.budget is not None:
        overrides.append(f"env.budget={args.budget}")
    if args.workers is not None:
        overrides.append(f"bench.workers={args.workers}")
    cfg = load_config(path, overrides)
    out = Path(args.out) if args.out else Path(cfg.run.out) / "demo"
    strategies = [strategy_of(s.strip()) for s in args.strategies.split(",")] if args.strategies else None
    plan = bench.plan(cfg, out / "bench", strategies)
    real_cfg = None
    if not args.sim_only:
        if not cfg.demo.real:
            raise ValueError(f"{path} names no real run (demo.real); use --sim-only")
        real_set = list(cfg.demo.real_set)
        if args.real_steps is not None:
            real_set.append(f"env.budget={args.real_steps}")
        real_cfg = load_config(cfg.demo.real, real_set)
    mode = resolve_mode(args.wandb, cfg.wandb.mode)
    bench.prepare(plan)

    print(f"== 1/2 simulated benchmark: {len(plan.strategies)} strategies x {len(plan.seeds)} seeds x "
          f"{cfg.env.budget} steps ==", file=sys.stderr)
    cells = bench.execute(plan, workers=plan.cfg.bench.workers, wandb_mode=mode, progress=not args.quiet)
    summary = bench.write_report(plan, cells)
    print(summary["note"])
    print()
    print((plan.out / "table.md").read_text().split("\n", 2)[2])
    print(f"plots: {', '.join(summary['figures'].values())}")
    if real_cfg is None:
        return 0

    print(f"\n== 2/2 real GRPO: {real_cfg.learner.model} on {real_cfg.data.source}, "
          f"{real_cfg.strategy.display} teacher, {real_cfg.env.budget} steps ==", file=sys.stderr)
    run_dir = out / "real"
    resume = (run_dir / runner.CONFIG).is_file()
    if resume:
        saved = runner.load_run_config(run_dir)
        if saved.to_dict() != real_cfg.to_dict():
            raise ValueError(f"{run_dir} holds a real run with other settings; use another --out")
    if (run_dir / runner.SUMMARY).is_file():
        result = runner.records.read_json(run_dir / runner.SUMMARY)
    else:
        result = runner.execute_run(real_cfg, run_dir, resume=resume, wandb_mode=mode,
                                    progress=False if args.quiet else None)
    print(f"real GRPO ({real_cfg.learner.model}, {real_cfg.strategy.display} teacher, {result['steps']} steps): "
          f"held-out accuracy {result['initial_accuracy']:.3f} -> {result['final_accuracy']:.3f} "
          f"on {real_cfg.data.n_test} questions; {result['tokens']} tokens, {result['wall_time']:.0f} s")
    print(f"run folder: {run_dir} (metrics.jsonl, run.png)")
    return 0
