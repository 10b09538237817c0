"""Run one experiment from a config file into a run folder.

The run folder holds the resolved config (config.yaml), one metrics line per
GRPO step (metrics.jsonl: arm chosen, signal, rewards, held-out accuracy when
evaluated, samples / tokens seen, wall time), checkpoints, summary.json and
run.png. Stop it at any moment (Ctrl-C, kill -9) and continue it with
--resume RUN_DIR: it restarts from the last checkpoint (every step for the
simulated learner) and finishes exactly as an uninterrupted run would.

examples:
  sparft run configs/sim_bench.yaml --out runs/one
  sparft run configs/sim_bench.yaml --set strategy=sparft_target --set env.budget=100
  sparft run --resume runs/one
  sparft run configs/smollm2_arith.yaml --wandb online
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "run one experiment (a config file) into a run folder; --resume continues one"
INTERRUPTED = "re-run with --resume RUN_DIR to continue"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", nargs="?", help="config file (YAML); optional with --resume")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. --set env.budget=50 (repeatable)")
    p.add_argument("--out", help="the run folder (default: <run.out>/<name>-<strategy>-s<seed>-<time>)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted run from its folder")
    p.add_argument("--wandb", choices=["online", "offline", "disabled"],
                   help="W&B mode (default: $WANDB_MODE, else the config's wandb.mode, offline)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from sparft.experiments import runner
    from sparft.experiments.config import load_config
    from sparft.experiments.tracking import resolve_mode

    if args.resume:
        if args.overrides:
            raise ValueError("--set cannot change a run being resumed; start a new run instead")
        run_dir = Path(args.resume)
        cfg = runner.load_run_config(run_dir)
        if args.config:
            given = load_config(args.config)
            if given.to_dict() != cfg.to_dict():
                raise ValueError(f"{args.config} differs from the config of {run_dir}; resume with --resume alone")
        if (run_dir / runner.SUMMARY).is_file():
            print(f"sparft run: {run_dir} is already finished", file=sys.stderr)
            return 0
        runner.check_writable(run_dir)
    else:
        if not args.config:
            raise ValueError("give a config file (e.g. configs/sim_bench.yaml) or --resume RUN_DIR")
        cfg = load_config(args.config, args.overrides)
        run_dir = runner.prepare_new_run(cfg, args.out)
    mode = resolve_mode(args.wandb, cfg.wandb.mode)
    summary = runner.execute_run(
        cfg, run_dir, resume=bool(args.resume), wandb_mode=mode,
        progress=False if args.no_progress else None,
    )
    print(
        f"{cfg.strategy.display} on {cfg.learner.kind} learner: held-out accuracy "
        f"{summary['initial_accuracy']:.3f} -> {summary['final_accuracy']:.3f} after {summary['steps']} steps "
        f"({summary['samples']} samples, {summary['tokens']} tokens, {summary['unique_examples']} unique examples)"
    )
    print(f"run folder: {run_dir}" + (f"  plot: {run_dir / 'run.png'}" if cfg.run.plots else ""))
    return 0
