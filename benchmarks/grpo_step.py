"""Wall time of one GRPO step: sparft's ``GRPOLearner`` against TRL's ``GRPOTrainer``.

Every side trains its own copy of the same model (SmolLM2-135M-Instruct by default) on
the same pool of arith prompts, B prompts x G completions of at most T new tokens per
step, beta = 0, loss ``dapo``, temperature 1, AdamW at the same constant learning rate,
gradient-norm clip 1, one optimizer step per generation round. The sides (``--sides``):

* ``sparft-hf32`` -- the path of the first release: transformers ``generate``, float32
  update, every row padded to the batch (``backend=transformers, dtype=float32,
  share_prompt=False``); the baseline of the ratios;
* ``sparft`` -- today's defaults on this machine: in-process vLLM rollouts in bfloat16
  (truncated importance sampling corrects the precision gap), bf16 autocast update where
  the CPU has bf16 instructions (float32 master weights), each prompt run once per group;
* ``trl`` -- TRL with ``generate`` (float32);
* ``trl-vllm`` -- TRL with its own ``use_vllm=True, vllm_mode="colocate"`` (its engine
  compiles at start-up; on the CPU build its weight sync goes through
  :func:`~sparft.trainers.trl_adapter.sync_colocated_vllm_on_cpu`).

A sparft step is the whole stack a real run uses: a teacher (``curricula.make(--teacher)``)
acts on the ``CurriculumEnv`` observation, the environment draws the batch, the learner
samples, scores and updates, the teacher observes the outcome. A TRL step is what
``Trainer``'s inner loop does for one optimizer step: the next batch of its data loader,
``GRPOTrainer.training_step`` (generation, rewards, advantages, loss, backward), gradient
clipping, ``optimizer.step()``, ``zero_grad``.

Steps alternate one by one across the sides, so a machine that gets busier or quieter
affects all alike; the first step of each side is a warm-up. Printed: median seconds
per step and per phase (sparft: generation, log-probs + backward, optimizer, weight
push; TRL: generation and scoring, the rest), and each side's speed-up over
``sparft-hf32`` as the median of paired per-step ratios (steps of one round ran next to
each other) and as the ratio of medians; the share of the sparft step spent outside the
learner (teacher and environment; goal < 1%); peak resident memory of the process.

    .venv/bin/python benchmarks/grpo_step.py [--sides sparft-hf32,sparft,trl,trl-vllm]
        [--batch 4] [--generations 8] [--tokens 32] [--steps 5] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path


def data():
    from sparft.curricula.arms import ArmSet
    from sparft.curricula.sources import load_source

    examples = load_source("arith:topics=addition,levels=1+2,n=64", split="train", seed=0)
    levels = sorted({float(e.difficulty or 0.0) for e in examples})
    arms = ArmSet(
        arms=[[e.id for e in examples if float(e.difficulty or 0.0) == d] for d in levels],
        difficulty={
            e.id: levels.index(float(e.difficulty or 0.0)) / max(len(levels) - 1, 1)
            for e in examples
        },
    )
    return {e.id: e for e in examples}, arms


class SparftSide:
    def __init__(self, args, pool, arms, fast: bool) -> None:
        import gymnasium as gym

        import sparft.envs  # noqa: F401  (registers the environment ids)
        from sparft.curricula import make
        from sparft.trainers.learner import GRPOLearner, GRPOLearnerConfig
        from sparft.trainers.models import load_policy

        settings = (
            {"backend": "vllm", "rollout_dtype": "bfloat16", "dtype": "auto", "share_prompt": True}
            if fast
            else {"backend": "transformers", "dtype": "float32", "share_prompt": False}
        )
        config = GRPOLearnerConfig(
            learning_rate=args.lr,
            num_generations=args.generations,
            max_new_tokens=args.tokens,
            seed=args.seed,
            device="cpu",
            reset_weights=False,
            **settings,
        )
        policy = load_policy(args.model, dtype="float32", device="cpu")
        self.learner = GRPOLearner(policy, pool, config=config)
        self.env = gym.make(
            "sparft/Curriculum-v0",
            learner=self.learner,
            arms=arms,
            batch_size=args.batch,
            budget=10**6,
            eval_every=0,
        )
        self.teacher = make(args.teacher, arms=arms, seed=args.seed, batch_size=args.batch)
        self.obs, self.info = self.env.reset(seed=args.seed)

    def step(self) -> dict[str, float]:
        t0 = time.perf_counter()
        action = self.teacher.act(self.obs, self.info)
        self.obs, _, _, _, self.info = self.env.step(action)
        outcome = self.info["outcome"]
        self.teacher.observe(outcome)
        total = time.perf_counter() - t0
        extra = outcome.extra
        return {
            "step_s": total,
            "generate_s": extra["time_generate"],
            "backward_s": extra["time_backward"],
            "optimizer_s": extra["time_optimizer"],
            "push_s": extra["time_push"],
            "overhead_s": total - outcome.wall_time,
            "tokens": float(outcome.tokens.sum()),
        }


class TRLSide:
    def __init__(self, args, pool, tmp: str, use_vllm: bool) -> None:
        import torch
        from trl import GRPOConfig, GRPOTrainer

        from sparft.trainers.models import load_policy
        from sparft.trainers.trl_adapter import (
            answer_reward,
            examples_dataset,
            sync_colocated_vllm_on_cpu,
        )

        self.tokens = 0
        check = answer_reward()

        def reward(prompts, completions, answer, completion_ids, **kw):
            self.tokens = sum(len(c) for c in completion_ids)
            return check(prompts, completions, answer)

        vllm = {"use_vllm": True, "vllm_mode": "colocate"} if use_vllm else {}
        policy = load_policy(args.model, dtype="float32", device="cpu")
        self.trainer = trainer = GRPOTrainer(
            model=policy.model,
            processing_class=policy.tokenizer,
            reward_funcs=reward,
            train_dataset=examples_dataset(pool),
            args=GRPOConfig(
                output_dir=str(Path(tmp) / ("trl-vllm" if use_vllm else "trl")),
                per_device_train_batch_size=args.batch * args.generations,
                num_generations=args.generations,
                max_completion_length=args.tokens,
                learning_rate=args.lr,
                lr_scheduler_type="constant",
                max_steps=10**6,
                bf16=False,
                use_cpu=True,
                report_to=[],
                logging_strategy="no",
                save_strategy="no",
                seed=args.seed,
                **vllm,
            ),
        )
        if use_vllm:
            sync_colocated_vllm_on_cpu(trainer)
        trainer.create_optimizer_and_scheduler(num_training_steps=10**6)
        trainer.current_gradient_accumulation_steps = 1
        self.batches = iter(trainer.get_train_dataloader())
        self.clip = torch.nn.utils.clip_grad_norm_
        self.generate_s = 0.0
        original = trainer._generate_and_score_completions

        def timed(inputs):
            t = time.perf_counter()
            out = original(inputs)
            self.generate_s = time.perf_counter() - t
            return out

        trainer._generate_and_score_completions = timed

    def step(self) -> dict[str, float]:
        tr = self.trainer
        t0 = time.perf_counter()
        batch = next(self.batches)
        tr.training_step(tr.model, batch, None)
        self.clip(tr.model.parameters(), tr.args.max_grad_norm)
        tr.optimizer.step()
        tr.lr_scheduler.step()
        tr.model.zero_grad()
        tr.state.global_step += 1  # what Trainer's loop does; TRL syncs vLLM when it changes
        return {
            "step_s": time.perf_counter() - t0,
            "generate_s": self.generate_s,
            "tokens": float(self.tokens),
        }


SIDES = ("sparft-hf32", "sparft", "trl", "trl-vllm")
LABELS = {
    "sparft-hf32": "sparft, HF generate fp32 (first release)",
    "sparft": "sparft, vLLM bf16 + bf16 update (default)",
    "trl": "TRL GRPOTrainer, generate fp32",
    "trl-vllm": "TRL GRPOTrainer, colocated vLLM",
}


def peak_rss_gib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--teacher", default="sparft")
    parser.add_argument(
        "--sides", default=",".join(SIDES), help=f"comma-separated, from {', '.join(SIDES)}"
    )
    parser.add_argument("--batch", type=int, default=4, help="prompts per step (B)")
    parser.add_argument("--generations", type=int, default=8, help="completions per prompt (G)")
    parser.add_argument("--tokens", type=int, default=32, help="max new tokens (T)")
    parser.add_argument("--steps", type=int, default=5, help="timed steps per side")
    parser.add_argument("--lr", type=float, default=1e-6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="write the figures here")
    args = parser.parse_args()
    names = [n.strip() for n in args.sides.split(",") if n.strip()]
    unknown = sorted(set(names) - set(SIDES))
    if unknown or not names:
        parser.error(f"--sides: unknown {unknown}; choose from {', '.join(SIDES)}")
    for option in ("batch", "generations", "tokens", "steps"):
        if getattr(args, option) < 1:
            parser.error(f"--{option} must be >= 1, got {getattr(args, option)}")
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")  # GiB (TRL's engine: not a memory share)

    import torch

    pool, arms = data()
    runs: dict[str, list[dict[str, float]]] = {n: [] for n in names}
    start: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        sides = {}
        for name in names:
            t0 = time.perf_counter()
            if name.startswith("sparft"):
                sides[name] = SparftSide(args, pool, arms, fast=name == "sparft")
            else:
                sides[name] = TRLSide(args, pool, tmp, use_vllm=name == "trl-vllm")
            start[name] = time.perf_counter() - t0
        for i in range(args.steps + 1):
            for name, side in sides.items():
                record = side.step()
                if i > 0:  # the first step of each side warms up (and starts engines)
                    runs[name].append(record)

    def med(side: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[side])

    base = names[0]
    result: dict = {
        "config": vars(args),
        "torch_threads": torch.get_num_threads(),
        "cpu_bf16": _cpu_bf16(),
        "baseline": base,
        "peak_rss_gib": peak_rss_gib(),
        "sides": {},
        "raw": runs,
    }
    print(
        f"one GRPO step, B={args.batch} G={args.generations} T<={args.tokens}, {args.model}, "
        f"CPU ({result['cpu_bf16']}), {torch.get_num_threads()} threads, median of "
        f"{args.steps} steps; speed-up against {base}"
    )
    for name in names:
        phases = ("generate_s", "backward_s", "optimizer_s", "push_s")
        parts = {k: med(name, k) for k in phases if k in runs[name][0]}
        paired = statistics.median(
            b["step_s"] / a["step_s"] for a, b in zip(runs[name], runs[base])
        )
        entry = {
            "step_s": med(name, "step_s"),
            **{k: v for k, v in parts.items()},
            # the median of each step's remainder (medians of parts need not add up)
            "rest_s": statistics.median(
                r["step_s"] - sum(r[k] for k in parts) for r in runs[name]
            ),
            "setup_s": start[name],
            "speedup_paired": paired,
            "speedup_medians": med(base, "step_s") / med(name, "step_s"),
        }
        if name.startswith("sparft"):
            entry["teacher_env_share"] = sum(r["overhead_s"] for r in runs[name]) / sum(
                r["step_s"] for r in runs[name]
            )
        result["sides"][name] = entry
        shown = ", ".join(f"{k[:-2]} {v:.2f}" for k, v in parts.items())
        print(
            f"  {LABELS[name]:<42}: {entry['step_s']:6.2f} s/step ({shown}, rest "
            f"{entry['rest_s']:.2f}); x{paired:.2f} paired, x{entry['speedup_medians']:.2f} "
            f"medians; set-up {start[name]:.1f} s"
        )
    for name in names:
        if "teacher_env_share" in result["sides"][name]:
            share = result["sides"][name]["teacher_env_share"]
            print(f"  teacher + env share of the {name} step: {100 * share:.3f}%")
    print(f"  peak resident memory of this process: {result['peak_rss_gib']:.2f} GiB")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))


def _cpu_bf16() -> str:
    from sparft.trainers.models import cpu_bf16_instructions

    return f"bf16 instructions: {cpu_bf16_instructions() or 'none'}"


if __name__ == "__main__":
    main()
