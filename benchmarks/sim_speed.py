"""Speed of the simulated curriculum environment, against a bandit teacher's own cost.

Goal (issue 4): the simulator is never the bottleneck. A full benchmark of 12
strategies x 16 seeds x 300 updates must finish in under 60 s on two cores.

Measured in one run, so that a busy machine slows every figure alike:

* ``bandit``      -- the baseline: UCB1 ``select()`` + ``update()`` per step
  (``sparft.bandits.make("ucb1")``; a 10-line inline UCB1 when that is not importable);
* ``env``         -- ``CurriculumEnv.step`` on the default preset (B = 8, G = 8,
  reward ``learning_progress``), actions drawn beforehand;
* ``loop``        -- the real per-env loop: bandit + env step + reward rescaling.

It prints microseconds per step, steps per second, each cost as a multiple of the
bandit's, and the projected wall time of 12 x 16 x 300 steps.

    .venv/bin/python benchmarks/sim_speed.py [--steps 300] [--episodes 4] [--json OUT]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

FULL_BENCHMARK_STEPS = 12 * 16 * 300


class InlineUCB1:
    """UCB1 (Auer et al. 2002), the fallback baseline when ``sparft.bandits`` is not importable."""

    def __init__(self, n_arms: int) -> None:
        self.n = np.zeros(n_arms)
        self.s = np.zeros(n_arms)

    def select(self) -> int:
        if (self.n == 0).any():
            return int(np.argmin(self.n))
        return int(np.argmax(self.s / self.n + np.sqrt(2.0 * np.log(self.n.sum()) / self.n)))

    def update(self, arm: int, reward: float) -> None:
        self.n[arm] += 1
        self.s[arm] += reward


def make_bandit(n_arms: int):
    """(bandit factory, name of the baseline)."""
    try:
        from sparft import bandits

        bandits.make("ucb1", n_arms=n_arms, seed=0)
    except Exception as e:  # the library may be absent or mid-change; say which baseline ran
        print(
            f"note: sparft.bandits unavailable ({type(e).__name__}: {e}); using an inline UCB1",
            file=sys.stderr,
        )
        return (lambda seed: InlineUCB1(n_arms)), "inline UCB1"
    return (lambda seed: bandits.make("ucb1", n_arms=n_arms, seed=seed)), "sparft.bandits ucb1"


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=300, help="updates per episode (the budget)")
    parser.add_argument("--episodes", type=int, default=4, help="episodes for the per-env figures")
    parser.add_argument(
        "--json", type=Path, default=None, help="also write the figures to this JSON file"
    )
    args = parser.parse_args(argv)
    if args.steps < 1 or args.episodes < 1:
        raise SystemExit("--steps and --episodes must be positive")

    import sparft.envs as E

    steps, episodes = args.steps, args.episodes
    env = E.CurriculumEnv(budget=steps)
    k = env.arms.n_arms
    low, high = env.signal.range
    single, baseline = make_bandit(k)
    rng = np.random.default_rng(0)
    actions = rng.integers(0, k, (episodes, steps))
    rewards = rng.random((episodes, steps))

    def bandit_only() -> None:
        for e in range(episodes):
            b = single(e)
            for t in range(steps):
                b.select()
                b.update(int(actions[e, t]), float(rewards[e, t]))

    def env_only() -> None:
        for e in range(episodes):
            env.reset(seed=e)
            for t in range(steps):
                env.step(int(actions[e, t]))

    def loop() -> None:
        for e in range(episodes):
            b = single(e)
            env.reset(seed=e)
            for _ in range(steps):
                arm = b.select()
                _, r, _, _, _ = env.step(arm)
                b.update(arm, (r - low) / (high - low))

    env_only()  # warm-up: imports, caches
    n1 = episodes * steps
    seconds = {
        "bandit": timed(bandit_only) / n1,
        "env": timed(env_only) / n1,
        "loop": timed(loop) / n1,
    }
    base = seconds["bandit"]
    print(
        f"baseline: {baseline}; default preset, K={k}, B={env.batch_size}, G={env.group_size}, "
        f"{episodes} x {steps} steps"
    )
    print(f"{'':16}{'us/step':>10}{'steps/s':>12}{'x bandit':>10}{'12x16x300 (s)':>15}")
    for name, s in seconds.items():
        print(
            f"{name:16}{s * 1e6:10.2f}{1 / s:12,.0f}{s / base:10.2f}{s * FULL_BENCHMARK_STEPS:15.2f}"
        )
    verdict = seconds["loop"] * FULL_BENCHMARK_STEPS
    print(
        f"full benchmark: {verdict:.1f} s of simulator+bandit "
        f"({'under' if verdict < 60 else 'OVER'} the 60 s goal)"
    )
    if args.json is not None:
        result = {
            "baseline": baseline,
            "steps": steps,
            "episodes": episodes,
            "seconds_per_step": seconds,
            "ratio_to_bandit": {n: s / base for n, s in seconds.items()},
            "full_benchmark_seconds": {n: s * FULL_BENCHMARK_STEPS for n, s in seconds.items()},
        }
        from sparft.fileio import atomic_write_json

        atomic_write_json(args.json, result, indent=1, nonfinite="keep")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
