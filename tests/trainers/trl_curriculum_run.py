"""A tiny TRL run driven by a teacher, used by test_trl_adapter.py in-process and under
``accelerate launch --multi_gpu --num_processes 2`` (gloo on the CPU; this file is then
the launched script).

Usage: python trl_curriculum_run.py OUT_DIR STEPS
Each process writes ``OUT_DIR/rank<k>.json``: the teacher's choices, the outcomes it
observed and the example ids its reward function scored.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from trainers_helpers import N_ARMS, B, G, GreedyRandomTeacher, data  # noqa: E402


def run(out_dir: str, steps: int) -> dict:
    from trl import GRPOConfig

    from sparft.trainers.feed import CurriculumFeed
    from sparft.trainers.models import tiny_policy
    from sparft.trainers.trl_adapter import CurriculumGRPOTrainer

    arms, examples = data()
    scored: list[str] = []

    def parity_reward(completion, answer):
        # The answer is the example id, so the reward path tells which prompts were sampled.
        scored.append(answer)
        return float(sum(map(ord, completion[-1]["content"])) % 2)

    policy = tiny_policy(seed=0)
    teacher = GreedyRandomTeacher(N_ARMS, seed=7)
    feed = CurriculumFeed(teacher, arms, batch_size=B, seed=3)
    import torch.distributed as dist

    world = dist.get_world_size() if dist.is_available() and dist.is_initialized() else None
    import os

    world = world or int(os.environ.get("WORLD_SIZE", "1"))
    args = GRPOConfig(
        output_dir=str(Path(out_dir) / "trl"),
        per_device_train_batch_size=B * G // world,
        num_generations=G,
        max_completion_length=4,
        max_steps=steps,
        learning_rate=1e-3,
        report_to=[],
        use_cpu=True,
        bf16=False,
        logging_strategy="no",
        save_strategy="no",
        seed=0,
        disable_tqdm=True,
    )
    trainer = CurriculumGRPOTrainer(
        model=policy.model,
        processing_class=policy.tokenizer,
        args=args,
        feed=feed,
        examples=examples,
        reward_fn=parity_reward,
        check_sync=True,
    )
    trainer.train()
    result = {
        "choices": teacher.choices,
        "chosen_ids": [list(o.example_ids) for o in trainer.outcomes],
        "rewards": [o.rewards.tolist() for o in trainer.outcomes],
        "scored": scored,
        "pending": feed.pending,
        "feed_step": feed.step,
        "rank": trainer.accelerator.process_index,
        "world": trainer.accelerator.num_processes,
    }
    path = Path(out_dir) / f"rank{result['rank']}.json"
    path.write_text(json.dumps(result))
    return result


if __name__ == "__main__":
    run(sys.argv[1], int(sys.argv[2]))
