"""Final held-out accuracy of every curriculum strategy on the simulated learner.

    .venv/bin/python benchmarks/strategies_table.py                  # default preset, 16 seeds x 300 steps
    .venv/bin/python benchmarks/strategies_table.py --preset unlearnable --seeds 8 --json out.json

For each strategy (``sparft.curricula.available()``, with its default
hyperparameters) and each seed, one episode of ``--steps`` GRPO updates
(B = ``--batch-size`` prompts, G = ``--group-size`` rollouts) on the simulator
preset, then the held-out accuracy (expected pass@1 on the fixed test items).
The table gives the mean over seeds with a 95% BCa bootstrap interval
(``scipy.stats.bootstrap``, 10,000 resamples), the paired difference from
``uniform`` on the same seeds (same learner seed: the environment is reset with
the seed, the teacher gets a seed derived from it), the mean number of rollout
tokens generated (dynamic sampling generates more per update) and the wall time
per episode. Teachers run through the same ``CurriculumEnv`` as ``sparft run``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
from scipy import stats

from sparft import curricula
from sparft.envs import CurriculumEnv
from sparft.envs.presets import make_preset


def episode(name: str, preset: str, seed: int, steps: int, batch: int, group: int) -> tuple[float, int]:
    arms, _ = make_preset(preset)
    teacher_seed = int(np.random.SeedSequence([seed, 0x7EAC4E]).generate_state(1)[0])
    teacher = curricula.make(name, arms=arms, seed=teacher_seed, batch_size=batch, budget=steps)
    env = CurriculumEnv(
        arms=arms, preset=preset, batch_size=batch, group_size=group, budget=steps,
        reward_signal="solve_rate", action_mode=teacher.action_mode, **teacher.env_options(),
    )
    obs, info = env.reset(seed=seed)
    done, tokens = False, 0
    while not done:
        obs, _, done, _, info = env.step(teacher.act(obs, info))
        teacher.observe(info["outcome"])
        tokens += info["outcome"].n_tokens
    return float(info["eval"]["accuracy"]), tokens


def interval(x: np.ndarray) -> tuple[float, float]:
    if np.ptp(x) == 0:
        return float(x[0]), float(x[0])
    res = stats.bootstrap((x,), np.mean, confidence_level=0.95, n_resamples=10_000,
                          method="BCa", random_state=0)
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="default")
    p.add_argument("--seeds", type=int, default=16)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--group-size", type=int, default=8)
    p.add_argument("--strategies", nargs="*", default=None, help="default: all")
    p.add_argument("--json", default=None, help="also write the per-seed results here")
    args = p.parse_args(argv)
    names = args.strategies or curricula.available()
    seeds = range(args.seeds)
    results: dict[str, dict] = {}
    for name in names:
        t0 = time.perf_counter()
        runs = [episode(name, args.preset, s, args.steps, args.batch_size, args.group_size) for s in seeds]
        results[name] = {
            "accuracy": [r[0] for r in runs],
            "tokens": [r[1] for r in runs],
            "seconds_per_episode": (time.perf_counter() - t0) / args.seeds,
        }
        print(f"  {name}: done", file=sys.stderr)
    base = np.array(results["uniform"]["accuracy"]) if "uniform" in results else None
    arms, _ = make_preset(args.preset)
    print(f"preset {args.preset} ({arms.n_arms} arms, {len(arms.ids)} examples), {args.seeds} seeds, "
          f"{args.steps} updates of B={args.batch_size} x G={args.group_size}; held-out accuracy")
    print(f"{'strategy':<15} {'mean':>6}  {'95% CI':>15}  {'- uniform (paired 95% CI)':>30}  {'tokens':>8}  {'s/ep':>5}")
    for name, r in sorted(results.items(), key=lambda kv: -np.mean(kv[1]["accuracy"])):
        acc = np.array(r["accuracy"])
        lo, hi = interval(acc)
        diff = ""
        if base is not None and name != "uniform":
            d = acc - base
            dlo, dhi = interval(d)
            diff = f"{d.mean():+.3f} [{dlo:+.3f}, {dhi:+.3f}]"
        print(f"{name:<15} {acc.mean():6.3f}  [{lo:.3f}, {hi:.3f}]  {diff:>30}  "
              f"{np.mean(r['tokens']) / 1e6:7.2f}M  {r['seconds_per_episode']:5.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
