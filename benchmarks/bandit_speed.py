"""How fast are sparft's bandits? Steps per second, against MABWiser, in one run.

    python benchmarks/bandit_speed.py            # about a minute
    python benchmarks/bandit_speed.py --quick    # a few seconds, rougher figures

1. Per object: select + update steps per second of UCB1 and Beta Thompson
   sampling on one 10-arm Bernoulli problem, for sparft and for MABWiser
   (``predict`` + ``partial_fit``), and the ratio. MABWiser is only needed here:
   ``pip install mabwiser`` (the project does not depend on it); without it the
   sparft figures are still printed.
2. Every algorithm: select + update steps per second on the same problem, and
   each one's cost per step as a multiple of ``uniform``'s (one random draw per
   step, the cheapest there is), timed in the same run.

Every step includes drawing the Bernoulli reward of the chosen arm, the same
way for every contestant. Each figure is the best of ``--repeats`` timings,
measured in CPU time of this process (other jobs on a shared machine perturb
it less; on an idle machine it equals the wall clock, shown in brackets), and
ratios come from timings taken in the same run. ``--json FILE`` saves them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import numpy as np

from sparft import bandits

N_ARMS = 10
MEANS = np.linspace(0.05, 0.95, N_ARMS)  # the same 10-arm Bernoulli problem everywhere


def best_rate(step_fn, n_steps: int, repeats: int) -> tuple[float, float]:
    """Best (CPU-time, wall-clock) steps/second over ``repeats`` timings of ``n_steps`` calls.

    CPU time counts only this process's work, so other jobs on a shared machine
    perturb it less than the wall clock; on an idle machine the two agree (the
    loops are single-threaded).
    """
    best_cpu = best_wall = 0.0
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        for i in range(n_steps):
            step_fn(i)
        cpu, wall = time.process_time() - c0, time.perf_counter() - w0
        best_cpu = max(best_cpu, n_steps / max(cpu, 1e-9))
        best_wall = max(best_wall, n_steps / wall)
    return best_cpu, best_wall


def sparft_object(name: str, n_steps: int, repeats: int) -> tuple[float, float]:
    bandit = bandits.make(name, N_ARMS, seed=0)
    u = np.random.default_rng(1).random(n_steps).tolist()
    means = MEANS.tolist()

    def step(i):
        arm = bandit.select()
        bandit.update(arm, 1.0 if u[i] < means[arm] else 0.0)

    return best_rate(step, n_steps, repeats)


def mabwiser_object(name: str, n_steps: int, repeats: int) -> tuple[float, float] | None:
    try:
        from mabwiser.mab import MAB, LearningPolicy
    except ImportError:
        return None
    policy = {"ucb1": LearningPolicy.UCB1(alpha=1.0),
              "thompson_beta": LearningPolicy.ThompsonSampling()}[name]
    arms = list(range(N_ARMS))
    mab = MAB(arms, policy, seed=0)
    mab.fit(decisions=arms, rewards=[0] * N_ARMS)  # MABWiser must be fitted before predict
    u = np.random.default_rng(1).random(n_steps).tolist()
    means = MEANS.tolist()

    def step(i):
        arm = mab.predict()
        mab.partial_fit([arm], [1 if u[i] < means[arm] else 0])

    return best_rate(step, n_steps, repeats)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter timings")
    parser.add_argument("--repeats", type=int, default=None, help="timings per figure (best kept)")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args(argv)
    repeats = args.repeats or (2 if args.quick else 5)
    obj_steps, mab_steps, all_steps = (3000, 300, 1000) if args.quick else (20000, 2000, 5000)

    print(f"sparft bandit speed  (python {platform.python_version()}, numpy {np.__version__}, "
          f"{os.cpu_count()} cpus, {N_ARMS} Bernoulli arms, best of {repeats}; "
          "rates from CPU time, wall clock in brackets)")
    results: dict = {"per_object": {}, "every_algorithm": {}}
    print("\nper object: select + update steps per second")
    missing = False
    for name in ("ucb1", "thompson_beta"):
        ours = sparft_object(name, obj_steps, repeats)
        theirs = mabwiser_object(name, mab_steps, repeats)
        row = {"sparft_cpu": ours[0], "sparft_wall": ours[1]}
        if theirs is None:
            missing = True
            print(f"  {name:15s} sparft {ours[0]:>9,.0f}/s ({ours[1]:,.0f})   mabwiser: not installed")
        else:
            ratio = ours[0] / theirs[0]
            row.update(mabwiser_cpu=theirs[0], mabwiser_wall=theirs[1], ratio=ratio)
            print(f"  {name:15s} sparft {ours[0]:>9,.0f}/s ({ours[1]:,.0f})   "
                  f"mabwiser {theirs[0]:>7,.0f}/s ({theirs[1]:,.0f})   "
                  f"ratio {ratio:5.1f}x ({ours[1] / theirs[1]:.1f}x)   goal >= 20x")
        results["per_object"][name] = row
    if missing:
        print("  to compare with MABWiser: pip install mabwiser (the project does not need it)")

    print("\nevery algorithm: select + update steps per second, cost per step x uniform's")
    base = sparft_object("uniform", all_steps, repeats)
    for name in bandits.available():
        cpu, wall = base if name == "uniform" else sparft_object(name, all_steps, repeats)
        ratio = base[0] / cpu
        results["every_algorithm"][name] = {"cpu": cpu, "wall": wall, "cost_x_uniform": ratio}
        print(f"  {name:20s} {cpu:>10,.0f}/s  ({wall:,.0f})   {ratio:5.1f}x uniform")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
