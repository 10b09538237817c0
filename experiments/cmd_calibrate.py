"""Fit the simulator to a bench's runs and measure how well it predicts their ranking.

Reads a bench folder (config.yaml, arms.json, cells/*.json with per-step rollout
outcomes), fits the simulator's dynamics (per-topic starting skill, item-response
slope, learning rate, transfer, forgetting, the group-signal exponent, memorisation)
to the fit seeds' rewards by maximum likelihood of a teacher-forced replay, and
update_noise by matching the spread between seeds (--noise spread). On the check
seeds it reports the per-arm solve-rate error and the held-out accuracy error of
the fitted preset beside the default one, then runs every strategy of the bench on
the simulator (fitted and default, --sim-seeds seeds each) and gives Kendall's tau
between the simulated and the real order of mean final accuracy, with a bootstrap
interval over seeds.

The output is a calibrated preset: the fitted SimParams, the arms, the bench's B, G
and budget, and the whole report. Written into the package folder envs/calibrated/,
it becomes the simulator preset named after the file (learner.preset: NAME) and,
with an id, a Gymnasium environment.

examples:
  sparft calibrate results/real_arith --out envs/calibrated/smollm2_arith.json
  sparft calibrate results/real_arith --out fit.json --fit-seeds 0,1 --check-seeds 2,3
  sparft calibrate runs/bench-sim_bench --out sim.json --no-rank
  sparft calibrate results/real_arith --out fit.json --accuracy-weight 1 --sim-seeds 32
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from sparft.experiments.options import count, natural, nonnegative, seed_list

HELP = "fit the simulator to a bench's real runs; report its errors and rank agreement"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("bench", metavar="BENCH_DIR", help="the folder `sparft bench CONFIG --out DIR` wrote")
    p.add_argument("--out", required=True, metavar="PRESET.json", help="the calibrated preset file to write")
    p.add_argument("--fit-seeds", type=seed_list, help="seeds whose cells are fitted (default: the even seeds)")
    p.add_argument("--check-seeds", type=seed_list, help="seeds the fit is checked on (default: the other seeds)")
    p.add_argument("--sim-seeds", type=count, default=16, help="seeds per strategy of the simulated benches (16)")
    p.add_argument("--no-rank", action="store_true", help="skip the simulated benches and the rank agreement")
    p.add_argument("--noise", choices=["spread", "zero"],
                   help="update_noise: match the real spread between seeds (default with the rank "
                   "agreement) or leave it at 0 (default with --no-rank)")
    p.add_argument("--accuracy-weight", type=nonnegative, default=0.0,
                   help="weight of the held-out accuracy's likelihood in the fit (default 0: rollouts only)")
    p.add_argument("--fields", help="comma-separated SimParams fields to fit (default: all of "
                   "topic_skill, discrimination, learning_rate, transfer, forgetting, variance_exponent, memorisation; "
                   "add update_normalisation to fit an Adam-like update size)")
    p.add_argument("--starts", type=count, default=4, help="optimiser starts (4)")
    p.add_argument("--seed", type=natural, default=0, help="seed of the optimiser's starts and the bootstrap")
    p.add_argument("--env-id", help="Gymnasium id stored in the preset (default: the shipped id of its name, if any)")


def run(args: argparse.Namespace) -> int:
    from sparft.envs.calibrated import SHIPPED, CalibratedPreset, save_preset
    from sparft.experiments import calibrate as cal
    from sparft.experiments.runner import check_writable

    out = Path(args.out)
    if out.suffix != ".json":
        raise ValueError(f"--out {out}: a calibrated preset is a .json file")
    check_writable(out.parent)
    noise = args.noise or ("zero" if args.no_rank else "spread")
    fields = cal.FIT_FIELDS if not args.fields else tuple(f.strip() for f in args.fields.split(",") if f.strip())
    options = cal.FitOptions(
        fields=fields, accuracy_weight=args.accuracy_weight, starts=args.starts, seed=args.seed
    )
    result = cal.calibrate(
        args.bench,
        fit_seeds=args.fit_seeds,
        check_seeds=args.check_seeds,
        sim_seeds=args.sim_seeds,
        rank=not args.no_rank,
        noise=noise,
        options=options,
        log=lambda msg: print(msg, flush=True),
    )
    name = out.stem
    preset = CalibratedPreset(
        name=name,
        params=result.params,
        arms=result.arms,
        env=result.env,
        env_id=args.env_id or SHIPPED.get(name),
        report=result.report,
    )
    save_preset(out, preset)
    print()
    print(report_text(result.report, result.params))
    print(f"wrote {out} (preset {name!r}" + (f", id {preset.env_id}" if preset.env_id else "") + ")")
    return 0


def _f(x: Any, spec: str = ".3f") -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


def report_text(report: dict[str, Any], params: Any) -> str:
    """The short readable form of a calibration report."""
    fit = report["fit"]
    lines = [
        f"calibrated on {report['bench_name']} ({report['learner']}): {len(report['cells']['fit'])} fit cells "
        f"(seeds {report['fit_seeds']}), {len(report['cells']['check'])} check cells "
        f"(seeds {report['check_seeds']}); fit {fit['seconds']:.1f} s",
        "fitted: " + ", ".join(f"{k} {v:.4g}" for k, v in fit["fitted"].items())
        + f", update_noise {params.update_noise:g} ({report['update_noise']['method']})",
    ]
    errors = report["errors"]
    split = "check" if "check" in errors["fitted"] else "fit"
    e1, e0 = errors["fitted"][split], errors["default"][split]
    lines += [
        f"{split} seeds              fitted   default",
        f"  log-lik. per rollout  {_f(e1['loglik_per_rollout']):>7}  {_f(e0['loglik_per_rollout']):>7}",
        f"  solve-rate MAE        {_f(e1['solve_rate_mae']):>7}  {_f(e0['solve_rate_mae']):>7}"
        f"   (per cell, arm and {e1['window']}-step window)",
        f"  held-out acc. MAE     {_f(e1['accuracy_mae']):>7}  {_f(e0['accuracy_mae']):>7}",
    ]
    rank = report.get("rank")
    if rank:
        lines.append(
            f"rank agreement with the real bench: Kendall tau (95% bootstrap CI), "
            f"{len(rank['strategies'])} strategies, {rank['sim_seeds']} simulated seeds each"
        )
        for label in ("fitted", "default"):
            r = rank[label]["all_seeds"]
            text = f"  {label:<8} {r['tau']:+.2f} ({r['ci_low']:+.2f} to {r['ci_high']:+.2f})"
            if "check_seeds" in rank[label]:
                c = rank[label]["check_seeds"]
                text += f"; against the check seeds only {c['tau']:+.2f} ({c['ci_low']:+.2f} to {c['ci_high']:+.2f})"
            lines.append(text)
        sh = rank.get("real_split_half")
        if sh and sh["splits"]:
            lines.append(
                f"  real vs real {sh['mean']:+.2f} (one half of the real seeds against the other, "
                f"{sh['min']:+.2f} to {sh['max']:+.2f} over {sh['splits']} splits: how far the real order "
                "reproduces itself)"
            )
        real = rank["real_means"]
        order = sorted(real, key=lambda s: -real[s])
        lines.append("  real order:    " + " > ".join(order))
        sim = rank["fitted"]["sim_means"]
        lines.append("  fitted order:  " + " > ".join(sorted(sim, key=lambda s: -sim[s])))
        if "real_mixed_share" in rank:
            names = list(rank["real_mixed_share"])
            width = max(len(n) for n in names)
            lines.append(f"per strategy ({rank['sim_seeds']} simulated seeds): share of groups with mixed rewards, "
                         "final held-out accuracy")
            lines.append(f"  {'':<{width}}  {'real':>6} {'fitted':>6} {'default':>7}   {'real':>6} {'fitted':>6} {'default':>7}")
            for n in names:
                mix = [rank["real_mixed_share"][n], rank["fitted"]["sim_mixed_share"].get(n, math.nan),
                       rank["default"]["sim_mixed_share"].get(n, math.nan)]
                fin = [real.get(n, math.nan), rank["fitted"]["sim_means"].get(n, math.nan),
                       rank["default"]["sim_means"].get(n, math.nan)]
                lines.append(f"  {n:<{width}}  {mix[0]:6.3f} {mix[1]:6.3f} {mix[2]:7.3f}   "
                             f"{fin[0]:6.3f} {fin[1]:6.3f} {fin[2]:7.3f}")
    return "\n".join(lines)
