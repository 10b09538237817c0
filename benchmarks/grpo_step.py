"""Wall time of one GRPO step: sparft's ``GRPOLearner`` against TRL's ``GRPOTrainer``.

Both train the same model (SmolLM2-135M-Instruct by default) on the same B arith
prompts with G completions of at most T new tokens, float32, beta = 0, loss ``dapo``,
temperature 1, AdamW at the same learning rate, one optimizer step per generation
round. The sparft step runs through the whole stack a real run uses: a teacher
(``curricula.make(--teacher)``) acts on the ``CurriculumEnv`` observation, the
environment draws the batch, the learner samples, scores and updates, the teacher
observes the outcome. The TRL step is timed by a callback around each optimizer step.

Blocks of steps alternate (sparft, TRL, sparft, TRL, ...) so that a machine that gets
busier or quieter affects both; the first step of each block is a warm-up and not
counted. Printed: median seconds per step and per generated token, the ratio
sparft / TRL (goal <= 1), and the share of sparft's step spent outside the learner
(teacher act/observe plus environment bookkeeping; goal < 1%).

    .venv/bin/python benchmarks/grpo_step.py [--model smollm2-135m-instruct] [--batch 2]
        [--generations 8] [--tokens 16] [--steps 3] [--blocks 2] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path


def data(batch: int):
    from sparft.curricula.arms import ArmSet
    from sparft.curricula.sources import load_source

    examples = load_source("arith:topics=addition,levels=1+2,n=64", split="train", seed=0)
    pool = {e.id: e for e in examples}
    by_level: dict[float, list[str]] = {}
    for e in examples:
        by_level.setdefault(float(e.difficulty or 0.0), []).append(e.id)
    levels = sorted(by_level)
    arms = ArmSet(
        arms=[by_level[d] for d in levels],
        difficulty={i: min(1.0, d / max(levels[-1], 1.0)) for d in levels for i in by_level[d]},
    )
    return pool, arms


def make_teacher(name: str, arms, batch: int):
    try:
        from sparft.curricula import make

        return make(name, arms=arms, seed=0, batch_size=batch)
    except (ImportError, AttributeError, ValueError) as e:
        raise SystemExit(f"teacher {name!r} is not available ({e}); pass --teacher NAME") from e


def sparft_block(args, pool, arms, policy) -> dict:
    import gymnasium as gym

    import sparft.envs  # noqa: F401  (registers the environment ids)
    from sparft.trainers.learner import GRPOLearner, GRPOLearnerConfig

    config = GRPOLearnerConfig(
        learning_rate=args.lr, num_generations=args.generations, max_new_tokens=args.tokens,
        seed=args.seed, device="cpu", dtype="float32", reset_weights=False,
    )
    learner = GRPOLearner(policy, pool, config=config)
    env = gym.make("sparft/Curriculum-v0", learner=learner, arms=arms, batch_size=args.batch,
                   budget=args.steps + 1, eval_every=0, disable_env_checker=True)
    teacher = make_teacher(args.teacher, arms, args.batch)
    obs, info = env.reset(seed=args.seed)
    steps, overhead, tokens = [], [], []
    for _ in range(args.steps + 1):
        t0 = time.perf_counter()
        action = teacher.act(obs, info)
        obs, _, _, _, info = env.step(action)
        outcome = info["outcome"]
        teacher.observe(outcome)
        total = time.perf_counter() - t0
        steps.append(total)
        overhead.append(total - outcome.wall_time)  # everything but the learner's train_step
        tokens.append(int(outcome.tokens.sum()))
    return {"step_s": steps[1:], "overhead_s": overhead[1:], "tokens": tokens[1:]}


def trl_block(args, pool, policy) -> dict:
    from transformers import TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    from sparft.trainers.trl_adapter import answer_reward, examples_dataset

    class Timer(TrainerCallback):
        def __init__(self):
            self.times, self.t0 = [], 0.0

        def on_step_begin(self, *a, **k):
            self.t0 = time.perf_counter()

        def on_step_end(self, *a, **k):
            self.times.append(time.perf_counter() - self.t0)

    tokens: list[int] = []

    def reward(prompts, completions, answer, completion_ids, **kw):
        tokens.append(sum(len(c) for c in completion_ids))
        return answer_reward()(prompts, completions, answer)

    timer = Timer()
    trainer = GRPOTrainer(
        model=policy.model,
        processing_class=policy.tokenizer,
        reward_funcs=reward,
        train_dataset=examples_dataset(pool),
        callbacks=[timer],
        args=GRPOConfig(
            output_dir=str(Path(args.tmp) / "trl"),
            per_device_train_batch_size=args.batch * args.generations,
            num_generations=args.generations,
            max_completion_length=args.tokens,
            learning_rate=args.lr,
            lr_scheduler_type="constant",
            max_steps=args.steps + 1,
            bf16=False,
            use_cpu=True,
            report_to=[],
            logging_strategy="no",
            save_strategy="no",
            disable_tqdm=True,
            seed=args.seed,
        ),
    )
    trainer.train()
    return {"step_s": timer.times[1:], "tokens": tokens[1:]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--teacher", default="sparft")
    parser.add_argument("--batch", type=int, default=2, help="prompts per step (B)")
    parser.add_argument("--generations", type=int, default=8, help="completions per prompt (G)")
    parser.add_argument("--tokens", type=int, default=16, help="max new tokens (T)")
    parser.add_argument("--steps", type=int, default=3, help="timed steps per block")
    parser.add_argument("--blocks", type=int, default=2, help="alternating blocks per side")
    parser.add_argument("--lr", type=float, default=1e-6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="write the figures here")
    args = parser.parse_args()

    import tempfile

    import torch

    from sparft.trainers.models import load_policy

    pool, arms = data(args.batch)
    runs: dict[str, dict[str, list]] = {"sparft": {}, "trl": {}}
    with tempfile.TemporaryDirectory() as tmp:
        args.tmp = tmp
        for _ in range(args.blocks):
            for side in ("sparft", "trl"):
                policy = load_policy(args.model, dtype="float32", device="cpu")  # fresh weights
                block = (sparft_block(args, pool, arms, policy) if side == "sparft"
                         else trl_block(args, pool, policy))
                for key, values in block.items():
                    runs[side].setdefault(key, []).extend(values)

    def per_token(side: str) -> float:
        r = runs[side]
        return statistics.median(s / max(t, 1) for s, t in zip(r["step_s"], r["tokens"]))

    s_step, t_step = statistics.median(runs["sparft"]["step_s"]), statistics.median(runs["trl"]["step_s"])
    share = sum(runs["sparft"]["overhead_s"]) / sum(runs["sparft"]["step_s"])
    result = {
        "config": {k: v for k, v in vars(args).items() if k != "tmp"},
        "torch_threads": torch.get_num_threads(),
        "sparft_step_s": s_step,
        "trl_step_s": t_step,
        "ratio_step": s_step / t_step,
        "sparft_s_per_token": per_token("sparft"),
        "trl_s_per_token": per_token("trl"),
        "ratio_per_token": per_token("sparft") / per_token("trl"),
        "sparft_teacher_env_share": share,
        "raw": runs,
    }
    print(f"one GRPO step, B={args.batch} G={args.generations} T<={args.tokens}, {args.model}, CPU float32")
    print(f"  sparft GRPOLearner : {s_step:7.2f} s/step  {1e3 * per_token('sparft'):6.1f} ms/token")
    print(f"  TRL GRPOTrainer    : {t_step:7.2f} s/step  {1e3 * per_token('trl'):6.1f} ms/token")
    print(f"  ratio sparft/TRL   : {result['ratio_step']:.3f} per step, {result['ratio_per_token']:.3f} per token")
    print(f"  teacher + env share of the sparft step: {100 * share:.3f}%")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
