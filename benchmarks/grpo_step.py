"""Wall time of one GRPO step: sparft's ``GRPOLearner`` against TRL's ``GRPOTrainer``.

Both train their own copy of the same model (SmolLM2-135M-Instruct by default) on the
same pool of arith prompts, B prompts x G completions of at most T new tokens per step,
float32, beta = 0, loss ``dapo``, temperature 1, AdamW at the same constant learning
rate, gradient-norm clip 1, one optimizer step per generation round.

* sparft step: the whole stack a real run uses -- a teacher (``curricula.make(--teacher)``)
  acts on the ``CurriculumEnv`` observation, the environment draws the batch, the learner
  samples, scores and updates, the teacher observes the outcome;
* TRL step: what ``Trainer``'s inner loop does for one optimizer step -- the next batch
  of its data loader, ``GRPOTrainer.training_step`` (generation, rewards, advantages,
  loss, backward), gradient clipping, ``optimizer.step()``, ``zero_grad``.

Steps alternate one by one (sparft, TRL, sparft, ...), so a machine that gets busier or
quieter affects both alike; the first step of each side is a warm-up. Printed: median
seconds per step, per generated token and per phase (generation / the rest), the
ratio sparft / TRL (goal <= 1) three ways -- of the fastest steps (the least disturbed by
other load), the median of paired per-step ratios, and of the medians -- and the share of the sparft step spent outside the
learner (teacher act/observe and environment bookkeeping; goal < 1%).

    .venv/bin/python benchmarks/grpo_step.py [--model smollm2-135m-instruct] [--batch 2]
        [--generations 8] [--tokens 16] [--steps 6] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
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
    def __init__(self, args, pool, arms) -> None:
        import gymnasium as gym

        import sparft.envs  # noqa: F401  (registers the environment ids)
        from sparft.curricula import make
        from sparft.trainers.learner import GRPOLearner, GRPOLearnerConfig
        from sparft.trainers.models import load_policy

        config = GRPOLearnerConfig(
            learning_rate=args.lr,
            num_generations=args.generations,
            max_new_tokens=args.tokens,
            seed=args.seed,
            device="cpu",
            dtype="float32",
            reset_weights=False,
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
        return {
            "step_s": total,
            "generate_s": outcome.extra["time_generate"],
            "overhead_s": total - outcome.wall_time,
            "tokens": float(outcome.tokens.sum()),
        }


class TRLSide:
    def __init__(self, args, pool, tmp: str) -> None:
        import torch
        from trl import GRPOConfig, GRPOTrainer

        from sparft.trainers.models import load_policy
        from sparft.trainers.trl_adapter import answer_reward, examples_dataset

        self.tokens = 0
        check = answer_reward()

        def reward(prompts, completions, answer, completion_ids, **kw):
            self.tokens = sum(len(c) for c in completion_ids)
            return check(prompts, completions, answer)

        policy = load_policy(args.model, dtype="float32", device="cpu")
        self.trainer = trainer = GRPOTrainer(
            model=policy.model,
            processing_class=policy.tokenizer,
            reward_funcs=reward,
            train_dataset=examples_dataset(pool),
            args=GRPOConfig(
                output_dir=str(Path(tmp) / "trl"),
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
            ),
        )
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
        return {
            "step_s": time.perf_counter() - t0,
            "generate_s": self.generate_s,
            "tokens": float(self.tokens),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--teacher", default="sparft")
    parser.add_argument("--batch", type=int, default=2, help="prompts per step (B)")
    parser.add_argument("--generations", type=int, default=8, help="completions per prompt (G)")
    parser.add_argument("--tokens", type=int, default=16, help="max new tokens (T)")
    parser.add_argument("--steps", type=int, default=6, help="timed steps per side")
    parser.add_argument("--lr", type=float, default=1e-6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="write the figures here")
    args = parser.parse_args()

    import torch

    pool, arms = data()
    runs: dict[str, list[dict[str, float]]] = {"sparft": [], "trl": []}
    with tempfile.TemporaryDirectory() as tmp:
        sides = {"sparft": SparftSide(args, pool, arms), "trl": TRLSide(args, pool, tmp)}
        for i in range(args.steps + 1):
            for name, side in sides.items():
                record = side.step()
                if i > 0:  # the first step of each side warms up
                    runs[name].append(record)

    def med(side: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[side])

    def best(side: str, key: str = "step_s") -> float:
        return min(r[key] for r in runs[side])

    def per_token(side: str) -> float:
        return statistics.median(r["step_s"] / max(r["tokens"], 1) for r in runs[side])

    # Each sparft step ran right before its TRL step: their ratio cancels most of the
    # machine's load changes, so the median of these paired ratios is the robust figure.
    paired = statistics.median(
        a["step_s"] / b["step_s"] for a, b in zip(runs["sparft"], runs["trl"])
    )
    share = sum(r["overhead_s"] for r in runs["sparft"]) / sum(r["step_s"] for r in runs["sparft"])
    result = {
        "config": vars(args),
        "torch_threads": torch.get_num_threads(),
        "sparft_step_s": med("sparft", "step_s"),
        "trl_step_s": med("trl", "step_s"),
        "ratio_step": med("sparft", "step_s") / med("trl", "step_s"),
        "ratio_paired": paired,
        "sparft_best_step_s": best("sparft"),
        "trl_best_step_s": best("trl"),
        "ratio_best": best("sparft") / best("trl"),
        "ratio_per_token": per_token("sparft") / per_token("trl"),
        "sparft_teacher_env_share": share,
        "raw": runs,
    }
    print(
        f"one GRPO step, B={args.batch} G={args.generations} T<={args.tokens}, {args.model}, "
        f"CPU float32, {torch.get_num_threads()} threads, median of {args.steps}"
    )
    for side, label in (("sparft", "sparft GRPOLearner"), ("trl", "TRL GRPOTrainer")):
        gen = med(side, "generate_s")
        print(
            f"  {label:<18}: median {med(side, 'step_s'):6.2f} s/step (generation {gen:.2f} s, "
            f"rest {med(side, 'step_s') - gen:.2f} s), fastest {best(side):6.2f} s, "
            f"{1e3 * per_token(side):6.1f} ms/token"
        )
    print(
        f"  ratio sparft/TRL  : medians {result['ratio_step']:.3f}, paired steps {paired:.3f}, "
        f"fastest steps {result['ratio_best']:.3f}, per generated token {result['ratio_per_token']:.3f}"
    )
    print(f"  teacher + env share of the sparft step: {100 * share:.3f}%")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
