"""What Ray costs against the local executor of `sparft bench` (issue 14).

Measured in one run, so that a busy machine slows every figure alike:

* ``tiny cells`` -- ``--cells`` simulated cells of 20 updates (B = 4, G = 4; a few
  milliseconds of work each) through the local executor with 1 and with ``--workers``
  processes, and through Ray with ``--workers`` CPUs; per-cell wall time, and Ray's
  overhead per cell against the local executor of the same width;
* ``demo bench`` -- ``configs/sim_bench.yaml`` (12 strategies x ``--seeds`` seeds x 300
  updates) on the local executor and on Ray, both ``--workers`` wide.

Ray's own start (a local instance here, or joining ``--address``) and its worker
processes' start are timed apart, once, and left out of the figures above (a warm-up
bench of two cells runs first on each executor); tiny benches are repeated
(``--repeat``) and their median counts. Every bench writes its cells into a temporary folder
through the driver, as `sparft bench` does. The output says which executor wins; on a
two-core machine the local one usually does, since Ray's raylet, GCS and workers share
the same two cores with the cells.

    .venv/bin/python benchmarks/executor_overhead.py [--cells 96] [--repeat 3] [--seeds 4] [--workers 2]
        [--address HOST:PORT] [--dashboard] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TINY = {
    "name": "tiny",
    "learner": {"kind": "simulated"},
    "strategy": "uniform",
    "env": {"budget": 20, "batch_size": 4, "group_size": 4, "eval_every": 5},
    "wandb": {"mode": "disabled"},
}


def _bench(cfg, out: Path, strategies, n_seeds: int, executor, repeat: int = 1) -> float:
    """Median wall seconds of running (and writing) every cell of a fresh bench folder."""
    from sparft.experiments import bench

    walls = []
    for r in range(repeat):
        p = bench.plan(cfg, out / f"r{r}", strategies, n_seeds=n_seeds)
        bench.prepare(p)
        t = time.perf_counter()
        bench.execute(p, progress=False, executor=executor)
        walls.append(time.perf_counter() - t)
    return statistics.median(walls)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cells", type=int, default=96, help="tiny cells per executor (default 96)")
    parser.add_argument("--repeat", type=int, default=3, help="tiny benches per executor; the median counts (3)")
    parser.add_argument("--seeds", type=int, default=4, help="seeds of the demo bench (default 4; 16 = the full one)")
    parser.add_argument("--workers", type=int, default=2, help="width of both executors (default 2)")
    parser.add_argument("--address", help="a running Ray cluster to use (default: start a local one)")
    parser.add_argument("--dashboard", action="store_true", help="start the Ray dashboard too (local start)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)

    try:
        import ray  # noqa: F401
    except ImportError:
        print("Ray is not installed: pip install 'sparft[ray]'", file=sys.stderr)
        return 1
    from sparft.experiments.config import load_config, strategy_of
    from sparft.experiments.executors import LocalExecutor, RayExecutor

    tiny = load_config(data=TINY)
    demo = load_config(ROOT / "configs" / "sim_bench.yaml", ["wandb.mode=disabled"])
    n_strat = 2
    tiny_seeds = max(1, args.cells // n_strat)
    n_cells = n_strat * tiny_seeds
    tiny_strategies = [strategy_of("uniform"), strategy_of("learnability")]
    demo_cells = len(demo.bench.strategies) * args.seeds
    figures: dict = {"workers": args.workers, "tiny_cells": n_cells, "demo_cells": demo_cells}

    with tempfile.TemporaryDirectory(prefix="sparft-executors-") as tmp:
        tmp_path = Path(tmp)
        # Imports and first-call caches, once for this process (forked local workers inherit them).
        _bench(tiny, tmp_path / "warm-local", tiny_strategies, 1, LocalExecutor(1))
        ray_ex = RayExecutor(address=args.address, workers=args.workers,
                             include_dashboard=args.dashboard if not args.address else None)
        t = time.perf_counter()
        ray_ex.connect()
        figures["ray_start_s"] = time.perf_counter() - t
        try:
            t = time.perf_counter()
            _bench(tiny, tmp_path / "warm", tiny_strategies, 1, ray_ex)
            figures["ray_worker_start_s"] = time.perf_counter() - t
            runs = {
                "local x1": LocalExecutor(1),
                f"local x{args.workers}": LocalExecutor(args.workers),
                f"ray x{args.workers}": ray_ex,
            }
            tiny_wall = {name: _bench(tiny, tmp_path / f"tiny-{i}", tiny_strategies, tiny_seeds, ex, args.repeat)
                         for i, (name, ex) in enumerate(runs.items())}
            demo_wall = {
                f"local x{args.workers}": _bench(demo, tmp_path / "demo-local", demo.bench.strategies,
                                                 args.seeds, LocalExecutor(args.workers)),
                f"ray x{args.workers}": _bench(demo, tmp_path / "demo-ray", demo.bench.strategies,
                                               args.seeds, ray_ex),
            }
        finally:
            ray_ex.close()

    local_w, ray_w = f"local x{args.workers}", f"ray x{args.workers}"
    overhead_ms = 1000 * (tiny_wall[ray_w] - tiny_wall[local_w]) / n_cells
    figures.update({
        "tiny_wall_s": tiny_wall, "tiny_ms_per_cell": {k: 1000 * v / n_cells for k, v in tiny_wall.items()},
        "ray_overhead_ms_per_cell": overhead_ms,
        "tiny_ratio_ray_over_local": tiny_wall[ray_w] / tiny_wall[local_w],
        "demo_wall_s": demo_wall, "demo_ratio_ray_over_local": demo_wall[ray_w] / demo_wall[local_w],
    })

    print(f"Ray start {figures['ray_start_s']:.1f} s ({'joined ' + args.address if args.address else 'local'}"
          f"{', dashboard' if args.dashboard and not args.address else ''}); "
          f"its first two cells (worker start) {figures['ray_worker_start_s']:.1f} s; both left out below.")
    print(f"\ntiny cells: {n_cells} simulated cells of 20 updates (B=4, G=4); median of {args.repeat}")
    print(f"{'':12}{'wall (s)':>10}{'ms/cell':>10}")
    for name, wall in tiny_wall.items():
        print(f"{name:12}{wall:>10.2f}{1000 * wall / n_cells:>10.1f}")
    print(f"Ray overhead: {overhead_ms:+.1f} ms per cell against {local_w} "
          f"(ray / local = {figures['tiny_ratio_ray_over_local']:.2f})")
    print(f"\ndemo bench: configs/sim_bench.yaml, {len(demo.bench.strategies)} strategies x {args.seeds} seeds "
          f"x {demo.env.budget} updates = {demo_cells} cells")
    for name, wall in demo_wall.items():
        print(f"{name:12}{wall:>10.2f} s")
    ratio = figures["demo_ratio_ray_over_local"]
    start = figures["ray_start_s"] + figures["ray_worker_start_s"]
    cold = (demo_wall[ray_w] + start) / demo_wall[local_w]
    figures["demo_ratio_with_ray_start"] = cold
    print(f"ray / local = {ratio:.2f} (cells only); {cold:.2f} for a whole command, Ray's {start:.1f} s start included")
    cores = os.cpu_count()
    if cold > 1:
        verdict = "the local executor wins" if ratio > 1 else "the local executor wins once Ray's start counts"
        print(f"On this machine ({cores} cores) {verdict}: Ray's raylet, GCS and workers share the cores "
              "with the cells, and every cell is a scheduled, serialised task. Ray pays off when cells are "
              "long (real GRPO) or spread over more than one machine.")
    else:
        print(f"Ray wins on this machine ({cores} cores), its start included.")
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
