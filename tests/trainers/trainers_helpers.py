"""Shared by the trainer tests and the scripts they launch: a duck-typed teacher, tiny data,
and a checkpointed training loop (the shape of what ``sparft run`` does)."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import numpy as np

from sparft.curricula.arms import ArmSet
from sparft.curricula.examples import Example

N_ARMS, PER_ARM, B, G = 3, 4, 2, 4


class GreedyRandomTeacher:
    """Feedback-dependent duck-typed teacher: half the time the arm with the best mean
    reward so far, else a random arm. Different feedback -> different choices."""

    action_mode = "arm"

    def __init__(self, n_arms: int, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.sums, self.counts = np.zeros(n_arms), np.zeros(n_arms)
        self.choices: list[int] = []

    def act(self, obs, info):
        if self.counts.any() and self.rng.random() < 0.5:
            arm = int(np.argmax(self.sums / np.maximum(self.counts, 1)))
        else:
            arm = int(self.rng.integers(len(self.sums)))
        self.choices.append(arm)
        return arm

    def observe(self, outcome) -> None:
        for arm, r in zip(outcome.arms, outcome.rewards.mean(axis=1)):
            self.sums[arm] += r
            self.counts[arm] += 1

    def state_dict(self):
        return {
            "rng": self.rng.bit_generator.state,
            "sums": self.sums.tolist(),
            "counts": self.counts.tolist(),
            "choices": list(self.choices),
        }

    def load_state_dict(self, state) -> None:
        self.rng.bit_generator.state = state["rng"]
        self.sums, self.counts = np.array(state["sums"]), np.array(state["counts"])
        self.choices = list(state["choices"])


def data() -> tuple[ArmSet, dict[str, Example]]:
    examples, arms = {}, []
    for k in range(N_ARMS):
        ids = []
        for j in range(PER_ARM):
            i = f"a{k}/{j}"
            q = f"{k + 1}+{j}="
            examples[i] = Example(id=i, prompt=({"role": "user", "content": q},), answer=i)
            ids.append(i)
        arms.append(ids)
    difficulty = {i: k / N_ARMS for k, ids in enumerate(arms) for i in ids}
    return ArmSet(arms=arms, difficulty=difficulty), examples


def char_parity_reward(completion, answer) -> float:
    """A reward a random tiny model earns half the time: the parity of its characters."""
    text = completion if isinstance(completion, str) else completion[-1]["content"]
    return float(sum(map(ord, text)) % 2)


def make_learner(seed: int = 0, **overrides):
    from sparft.trainers.learner import GRPOLearner, GRPOLearnerConfig
    from sparft.trainers.models import tiny_policy

    _, examples = data()
    # float32 and transformers: these tests compare numbers exactly (the bf16 and vLLM
    # paths have their own tests).
    settings = dict(
        learning_rate=1e-2, num_generations=G, max_new_tokens=4, seed=seed, device="cpu",
        dtype="float32", backend="transformers",
    )
    settings.update(overrides)
    return GRPOLearner(
        tiny_policy(seed=0),
        examples,
        eval_examples=list(examples.values())[:4],
        reward_fn=char_parity_reward,
        config=GRPOLearnerConfig(**settings),
    )


def loop(root: str, total: int, every: int = 2, kill_at: int | None = None) -> dict:
    """Train ``total`` steps with checkpoints every ``every``; resume from ``root`` if one exists.

    With ``kill_at``, the process SIGKILLs itself after writing that step's metric line
    and before its checkpoint: the worst moment.
    """
    from sparft.trainers.checkpoint import load_checkpoint, save_checkpoint
    from sparft.trainers.feed import CurriculumFeed

    arms, _ = data()
    learner = make_learner()
    feed = CurriculumFeed(GreedyRandomTeacher(N_ARMS, seed=7), arms, batch_size=B, seed=3)
    Path(root).mkdir(parents=True, exist_ok=True)
    metrics = Path(root) / "metrics.jsonl"
    found = load_checkpoint(Path(root) / "ckpt", learner=learner, teacher=feed)
    start = found.step if found else 0
    lines = metrics.read_text().splitlines(keepends=True) if metrics.exists() else []
    metrics.write_text("".join(lines[: found.extra["metric_lines"]] if found else []))
    for step in range(start, total):
        batch = feed.next_batch()
        outcome = learner.train_step(batch.example_ids, batch.arms, step)
        feed.report(outcome.rewards, outcome.tokens, advantages=outcome.advantages)
        with open(metrics, "a") as f:
            f.write(json.dumps({"step": step, "loss": outcome.loss}) + "\n")
        if kill_at == step:
            os.kill(os.getpid(), signal.SIGKILL)
        if (step + 1) % every == 0:
            n = len(metrics.read_text().splitlines())
            save_checkpoint(
                Path(root) / "ckpt",
                step + 1,
                learner=learner,
                teacher=feed,
                extra={"metric_lines": n},
            )
    weights = learner.state_dict()["model"]
    return {
        "feed": feed.state_dict(),
        "updates": learner.updates,
        "checksum": float(sum(w.double().sum().item() for w in weights.values())),
        "metrics": metrics.read_text().splitlines(),
    }


if __name__ == "__main__":  # python trainers_helpers.py ROOT TOTAL [KILL_AT]
    kill = int(sys.argv[3]) if len(sys.argv) > 3 else None
    result = loop(sys.argv[1], int(sys.argv[2]), kill_at=kill)
    Path(sys.argv[1], "result.json").write_text(json.dumps(result))
