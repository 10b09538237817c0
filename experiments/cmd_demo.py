"""The main job: benchmark every curriculum on the simulator, then fine-tune SmolLM2 for real.

1. The simulated benchmark of configs/demo.yaml: every strategy on 16 seeds at
   an equal budget on the simulated GRPO learner (about a minute on 2 cores),
   with the table of final held-out accuracy (95% intervals, IQM, Welch tests)
   and the plots.
2. The real benchmark shipped with sparft (demo.shipped, results/real_arith/:
   real GRPO of SmolLM2-135M-Instruct, every strategy on paired seeds): its
   table, rebuilt from the stored cells and labelled with their commit and date.
3. A short live real GRPO run of SmolLM2-135M-Instruct on the synthetic
   arithmetic task (the config named by demo.real), two strategies on the same
   seed and the same starting weights (demo.real_strategies: uniform against
   sparft_target), with held-out accuracy before and after; rollouts on vLLM
   where it is installed.

Both parts are resumable: run the same command again after an interruption.

examples:
  sparft demo
  sparft demo --sim-only --seeds 4 --budget 100
  sparft demo --real-steps 4
  sparft demo --real-strategies uniform,sparft
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sparft.experiments.options import count

HELP = "the main job: simulated benchmark of every strategy, then a short real GRPO run"
INTERRUPTED = "re-run the same command to continue"


def default_config() -> Path:
    import sparft

    return Path(sparft.__file__).resolve().parent / "configs" / "demo.yaml"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="demo config (default: configs/demo.yaml of this sparft)")
    p.add_argument("--out", help="output folder (default: <run.out>/demo)")
    p.add_argument("--sim-only", action="store_true", help="skip the real GRPO run")
    p.add_argument("--seeds", type=count, help="seeds per strategy in the benchmark (default 16)")
    p.add_argument("--budget", type=count, help="GRPO steps per simulated run (default 300)")
    p.add_argument("--strategies", help="comma-separated strategies (default: all of the config's)")
    p.add_argument("--workers", type=count, help="benchmark worker processes (default 2)")
    p.add_argument("--real-steps", type=count, help="GRPO steps of the real run (default: its config's)")
    p.add_argument("--real-strategies",
                   help="comma-separated strategies of the live real run (default: demo.real_strategies)")
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

    print(f"== 1/3 simulated benchmark: {len(plan.strategies)} strategies x {len(plan.seeds)} seeds x "
          f"{cfg.env.budget} steps ==", file=sys.stderr)
    cells = bench.execute(plan, workers=plan.cfg.bench.workers, wandb_mode=mode, progress=not args.quiet)
    summary = bench.write_report(plan, cells)
    print(summary["note"])
    print()
    print((plan.out / "table.md").read_text().split("\n", 2)[2])
    print(f"plots: {', '.join(summary['figures'].values())}")
    if real_cfg is None:
        _shipped(cfg.demo.shipped)
        return 0

    _shipped(cfg.demo.shipped)
    names = ([n.strip() for n in args.real_strategies.split(",") if n.strip()] if args.real_strategies
             else list(cfg.demo.real_strategies) or [real_cfg.strategy.display])
    real_strategies = [strategy_of(n) for n in names]
    print(f"\n== 3/3 live real GRPO: {real_cfg.learner.model} on {real_cfg.data.source}, "
          f"{' vs '.join(s.display for s in real_strategies)} on seed {real_cfg.seed}, "
          f"{real_cfg.env.budget} steps ==", file=sys.stderr)
    results = []
    for strategy in real_strategies:
        one = real_cfg.replace(strategy=strategy)
        run_dir = out / "real" / strategy.display.replace("+", "_")
        resume = (run_dir / runner.CONFIG).is_file()
        if resume:
            saved = runner.load_run_config(run_dir)
            if saved.to_dict() != one.to_dict():
                raise ValueError(f"{run_dir} holds a real run with other settings; use another --out")
        if (run_dir / runner.SUMMARY).is_file():
            result = runner.records.read_json(run_dir / runner.SUMMARY)
        else:
            result = runner.execute_run(one, run_dir, resume=resume, wandb_mode=mode,
                                        progress=False if args.quiet else None)
        results.append((strategy.display, run_dir, result))
    backend = _backend(real_cfg)
    print(f"\nlive real GRPO ({real_cfg.learner.model}, seed {real_cfg.seed}, same starting weights, "
          f"{real_cfg.data.n_test} held-out questions, rollouts on {backend}):")
    for name, run_dir, r in results:
        print(f"  {name:<16} held-out accuracy {r['initial_accuracy']:.3f} -> {r['final_accuracy']:.3f} "
              f"in {r['steps']} steps; {r['tokens']} tokens, {r['wall_time']:.0f} s  ({run_dir})")
    if len(results) > 1:
        print("  one seed is an anecdote, not evidence: the shipped table above is the comparison")
    return 0


def _shipped(folder: str | None) -> None:
    """Print the shipped real benchmark's table (rebuilt from its cells), or say there is none."""
    from sparft.experiments import bench

    print("\n== 2/3 shipped real results ==", file=sys.stderr)
    if not folder or not (Path(folder) / "config.yaml").is_file():
        print("(no shipped real benchmark in this installation: see results/real_arith/ in the "
              "repository, or run `sparft bench configs/real_bench_arith.yaml`)")
        return
    plan = bench.load_plan(Path(folder))
    cells = bench.collect(plan, partial=True)
    if not cells:
        print(f"(the real benchmark in {folder} has no finished cell yet)")
        return
    rows = bench.analyse(cells, plan.cfg.bench.baseline, plan.cfg.bench.reference)
    dates = sorted(c.get("provenance", {}).get("date", "?")[:10] for cs in cells.values() for c in cs)
    commits = sorted({c.get("provenance", {}).get("commit", "?") for cs in cells.values() for c in cs})
    n_done = sum(len(cs) for cs in cells.values())
    print(f"SHIPPED RESULTS (not run now): {plan.cfg.name}, real GRPO of {plan.cfg.learner.model}, "
          f"{plan.cfg.env.budget} steps, {n_done} of {len(plan.strategies) * len(plan.seeds)} cells "
          f"finished; made {dates[0]} to {dates[-1]} at commit {', '.join(commits)} ({folder})")
    print()
    print(bench.markdown_table(rows, plan.cfg.bench.baseline, plan.cfg.bench.reference))


def _backend(cfg) -> str:
    from sparft.trainers.generation import resolve_backend

    try:
        return resolve_backend(str(cfg.learner.params.get("backend", "auto")))
    except ImportError:
        return "transformers"
