"""One run: a teacher drives the curriculum environment for the budget, and everything is recorded.

The loop is the same for a benchmark cell, a sweep trial and ``sparft run``;
only what surrounds it differs. ``sparft run`` gives it a run folder::

    RUN_DIR/
      config.yaml        the resolved config (every default filled in)
      metrics.jsonl      one line per GRPO step (see :func:`step_record`)
      checkpoint/        state.json (+ the model's files for a real learner)
      summary.json       written at the end
      run.png            held-out accuracy, solve rate and arms over the run

Resume semantics (``--resume RUN_DIR``): the last checkpoint is the commit
point. It is written (atomically) only after the metrics lines of every step it
covers are on disk, and holds the learner, teacher and environment states (with
their random generators), the counters and the last observation. Resuming loads
it, truncates ``metrics.jsonl`` to exactly the steps it covers (dropping lines of
later steps and any partial line a kill left), and continues: the re-done steps
draw the same random numbers, so the finished run equals one that never
stopped (except for wall times). The simulated learner checkpoints every step
(its state is a few kilobytes); a real learner every ``run.checkpoint_every``
steps through the trainers' checkpoint helpers.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sparft import fileio
from sparft.experiments import records, wiring
from sparft.experiments.config import ExperimentConfig, StrategyConfig, load_config, save_config

CHECKPOINT_VERSION = 1
#: Keys of a metrics line that legitimately differ between a resumed run and an uninterrupted one.
TIMING_KEYS = ("wall_time", "step_time")


@dataclass
class Counters:
    """What a run has consumed so far: the budget's other currencies."""

    step: int = 0  # GRPO updates done
    samples: int = 0  # prompts trained on
    rollouts: int = 0  # completions generated
    tokens: int = 0  # completion tokens generated
    wall_time: float = 0.0  # seconds in the loop (across resumes)
    seen: set[str] = field(default_factory=set)  # distinct training examples

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "samples": self.samples,
            "rollouts": self.rollouts,
            "tokens": self.tokens,
            "wall_time": self.wall_time,
            "seen": sorted(self.seen),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Counters:
        return cls(
            step=int(d["step"]),
            samples=int(d["samples"]),
            rollouts=int(d["rollouts"]),
            tokens=int(d["tokens"]),
            wall_time=float(d["wall_time"]),
            seen=set(d.get("seen", [])),
        )


@dataclass
class EpisodeResult:
    """What a finished run reports (also a benchmark cell's result)."""

    strategy: str
    seed: int
    budget: int
    initial_accuracy: float
    eval_steps: list[int]
    accuracy: list[float]
    arm_counts: list[list[int]]  # per step, batch examples per arm
    solve_rate: list[float]
    counters: Counters
    n_arms: int
    #: per step: each group's arm and its summed rollout reward (G rollouts), for calibration
    outcomes: list[dict[str, list[float]]] = field(default_factory=list)
    budget_unit: str = "steps"
    #: budget spent (in budget_unit) at each evaluation of ``eval_steps``
    eval_spent: list[int] = field(default_factory=list)

    @property
    def final_accuracy(self) -> float:
        return self.accuracy[-1] if self.accuracy else self.initial_accuracy

    def to_dict(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "seed": self.seed,
            "budget": self.budget,
            **({"budget_unit": self.budget_unit, "eval_spent": self.eval_spent}
               if self.budget_unit != "steps" else {}),
            "n_arms": self.n_arms,
            "initial_accuracy": self.initial_accuracy,
            "final_accuracy": self.final_accuracy,
            "final_solve_rate": float(np.mean(self.solve_rate[-max(1, len(self.solve_rate) // 10) :]))
            if self.solve_rate
            else math.nan,
            "eval_steps": self.eval_steps,
            "accuracy": self.accuracy,
            "arm_counts": self.arm_counts,
            "solve_rate": self.solve_rate,
            "samples": self.counters.samples,
            "rollouts": self.counters.rollouts,
            "tokens": self.counters.tokens,
            "unique_examples": len(self.counters.seen),
            "wall_time": self.counters.wall_time,
            "outcomes": self.outcomes,
        }


def step_record(
    step: int, action: Any, reward: float, outcome: Any, counters: Counters, n_arms: int, probs: Any
) -> dict[str, Any]:
    """One metrics line: what the teacher chose, what the update reported, what was consumed.

    ``arm`` is the chosen arm when the action was one arm, else -1 (``arm_counts``
    then shows the batch's mix); ``reward`` is the environment's signal;
    ``solve_rate`` the batch's mean rollout reward; ``zero_variance`` the share of
    groups whose G rewards were all equal (no GRPO signal); ``samples``, ``tokens``
    and ``unique`` are cumulative.
    """
    rewards = np.asarray(outcome.rewards, dtype=np.float64)
    arms = np.asarray(outcome.arms, dtype=np.int64)
    group_std = rewards.std(axis=1)
    record: dict[str, Any] = {
        "step": step,
        "arm": int(action) if np.ndim(action) == 0 else -1,
        "arm_counts": np.bincount(arms[arms >= 0], minlength=n_arms)[:n_arms].tolist(),
        "reward": float(reward),
        "solve_rate": float(rewards.mean()),
        "reward_std": float(rewards.std()),
        "zero_variance": float(np.mean(group_std == 0)),
        "loss": float(outcome.loss),
        "samples": counters.samples,
        "rollouts": counters.rollouts,
        "tokens": counters.tokens,
        "unique": len(counters.seen),
        "outcome": compact_outcome(outcome),
    }
    if probs is not None:
        record["probs"] = [round(float(p), 5) for p in np.asarray(probs).ravel()]
    return record


def compact_outcome(outcome: Any) -> dict[str, list[float]]:
    """What calibration needs of one update: each group's example, arm, rollout count and
    reward sum, and the tokens generated."""
    rewards = np.asarray(outcome.rewards, dtype=np.float64)
    return {
        "ids": list(outcome.example_ids),
        "arm": np.asarray(outcome.arms, dtype=np.int64).ravel().tolist(),
        "n": [int(rewards.shape[1])] * rewards.shape[0],
        "reward": np.round(rewards.sum(axis=1), 6).tolist(),
        "tokens": int(np.asarray(outcome.tokens).sum()),
        # Filtering teachers generate more groups than they train on: which ones trained.
        **({"kept": [bool(k) for k in outcome.extra["kept"]]} if "kept" in outcome.extra else {}),
    }


class Episode:
    """One run's live objects (environment, learner, teacher) and its loop."""

    def __init__(self, cfg: ExperimentConfig, seed: int, strategy: StrategyConfig | None = None) -> None:
        self.cfg = cfg
        self.seed = seed
        self.strategy = strategy or cfg.strategy
        self.parts = wiring.build(cfg, seed, self.strategy)
        self.counters = Counters()
        self.obs: Any = None
        self.info: dict[str, Any] = {}
        self.initial_accuracy = math.nan
        self.eval_steps: list[int] = []
        self.accuracy: list[float] = []
        self.arm_counts: list[list[int]] = []
        self.solve_rate: list[float] = []
        self.outcomes: list[dict[str, list[float]]] = []
        self.eval_spent: list[int] = []
        self.terminated = False

    # ----------------------------------------------------------- lifecycle
    def start(self) -> None:
        self.obs, info = self.parts.env.reset(seed=self.seed)
        self.info = wiring.plain_info(info)
        # The environment evaluates at reset (eval_every > 0); evaluate only if it did not.
        evaluated = info.get("eval")
        self.initial_accuracy = float(evaluated["accuracy"]) if evaluated else self.evaluate()

    def evaluate(self) -> float:
        return float(self.parts.learner.evaluate("test")["accuracy"])

    def step(self) -> dict[str, Any]:
        """One GRPO update chosen by the teacher; returns its metrics line."""
        env, teacher = self.parts.env, self.parts.teacher
        t0 = time.perf_counter()
        action = teacher.act(self.obs, self.info)
        obs, reward, terminated, truncated, info = env.step(action)
        outcome = info["outcome"]
        teacher.observe(outcome)
        c = self.counters
        c.step += 1
        c.samples += outcome.batch_size
        c.rollouts += int(np.asarray(outcome.rewards).size)
        c.tokens += outcome.n_tokens
        c.seen.update(outcome.example_ids)
        self.obs, self.info = obs, wiring.plain_info(info)
        record = step_record(
            c.step - 1, action, reward, outcome, c, self.parts.arms.n_arms, teacher.probabilities()
        )
        self.terminated = bool(terminated)
        # The environment decides when to evaluate (its budget unit and eval_every); the
        # last update is always evaluated, even by an environment told never to.
        evaluated = info.get("eval")
        if evaluated or self.terminated:
            acc = float(evaluated["accuracy"]) if evaluated else self.evaluate()
            record["accuracy"] = acc
            for key, value in (evaluated or {}).items():
                if key != "accuracy" and isinstance(value, int | float):
                    record[f"eval/{key}"] = value
            self.eval_steps.append(c.step)
            self.eval_spent.append(int(info.get("spent", c.step)))
            self.accuracy.append(acc)
        dt = time.perf_counter() - t0
        c.wall_time += dt
        record["step_time"] = dt
        record["wall_time"] = c.wall_time
        self.arm_counts.append(record["arm_counts"])
        self.solve_rate.append(record["solve_rate"])
        self.outcomes.append(record["outcome"])
        return record

    @property
    def done(self) -> bool:
        return self.terminated

    @property
    def spent(self) -> int:
        """Budget spent so far, in ``env.budget_unit``."""
        return int(self.parts.env.spent)

    def result(self) -> EpisodeResult:
        return EpisodeResult(
            strategy=self.strategy.display,
            seed=self.seed,
            budget=self.cfg.env.budget,
            initial_accuracy=self.initial_accuracy,
            eval_steps=list(self.eval_steps),
            accuracy=list(self.accuracy),
            arm_counts=list(self.arm_counts),
            solve_rate=list(self.solve_rate),
            counters=self.counters,
            n_arms=self.parts.arms.n_arms,
            outcomes=list(self.outcomes),
            budget_unit=self.cfg.env.budget_unit,
            eval_spent=list(self.eval_spent),
        )

    # ----------------------------------------------------------- state
    def state_dict(self, checkpoint_dir: Path | None = None) -> dict[str, Any]:
        p = self.parts
        state = {
            "version": CHECKPOINT_VERSION,
            "seed": self.seed,
            "counters": self.counters.to_dict(),
            "initial_accuracy": self.initial_accuracy,
            "eval_steps": self.eval_steps,
            "accuracy": self.accuracy,
            "eval_spent": self.eval_spent,
            "terminated": self.terminated,
            "obs": records.clean(self.obs),
            "info": self.info,
            "teacher": p.teacher.state_dict(),
            "env": wiring.env_state(p.env),
        }
        state["learner"] = wiring.save_learner(p, checkpoint_dir, self.counters.step)
        return state

    def load_state_dict(self, state: Mapping[str, Any], checkpoint_dir: Path | None = None) -> None:
        if int(state.get("version", 0)) != CHECKPOINT_VERSION:
            raise ValueError("the checkpoint was written by another sparft version; start a new run")
        p = self.parts
        # No env.reset(): it would re-evaluate the learner; the saved states replace it whole.
        self.counters = Counters.from_dict(state["counters"])
        self.initial_accuracy = float(state["initial_accuracy"])
        self.eval_steps = [int(s) for s in state["eval_steps"]]
        self.accuracy = [float(a) for a in state["accuracy"]]
        self.eval_spent = [int(s) for s in state.get("eval_spent", self.eval_steps)]
        self.terminated = bool(state.get("terminated", self.counters.step >= self.cfg.env.budget))
        self.obs = wiring.restore_obs(p.env, state["obs"])
        self.info = dict(state["info"])
        p.teacher.load_state_dict(state["teacher"])
        wiring.load_env_state(p.env, state["env"])
        wiring.load_learner(p, state["learner"], checkpoint_dir)

    def close(self) -> None:
        # Closing must never hide the run's own error.
        with contextlib.suppress(Exception):
            self.parts.env.close()
        close = getattr(self.parts.learner, "close", None)  # a rollout engine's memory
        if close is not None:
            with contextlib.suppress(Exception):
                close()


def run_episode(
    cfg: ExperimentConfig, seed: int, strategy: StrategyConfig | None = None, progress: bool = False
) -> EpisodeResult:
    """A whole run in memory, nothing written: a benchmark cell or a sweep trial's seed.

    ``progress`` shows a bar over the run's budget (worth it for real learners, whose
    runs take minutes; it disappears when the run ends)."""
    ep = Episode(cfg, seed, strategy)
    bar = None
    try:
        ep.start()
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=cfg.env.budget, desc=f"{ep.strategy.display} seed {seed}",
                       unit=cfg.env.budget_unit.removesuffix("s"), leave=False)
        while not ep.done:
            line = ep.step()
            if bar is not None:
                bar.update(min(ep.spent, cfg.env.budget) - bar.n)
                if "accuracy" in line:
                    bar.set_postfix(acc=f"{line['accuracy']:.3f}")
        return ep.result()
    finally:
        if bar is not None:
            bar.close()
        ep.close()


# ==================================================================== run folders
METRICS = "metrics.jsonl"
SUMMARY = "summary.json"
CONFIG = "config.yaml"
CHECKPOINT = "checkpoint"


def default_run_dir(cfg: ExperimentConfig) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path(cfg.run.out) / f"{cfg.name}-{cfg.strategy.display.replace('+', '_')}-s{cfg.seed}-{stamp}"


def check_writable(folder: Path) -> None:
    """Fail early (before any work) when ``folder`` cannot be created or written."""
    probe_root = folder
    while not probe_root.exists():
        probe_root = probe_root.parent
    if not probe_root.is_dir():
        raise NotADirectoryError(
            f"output path {folder}: {probe_root} is a file, not a folder; choose another output folder"
        )
    if not os.access(probe_root, os.W_OK | os.X_OK):
        raise PermissionError(
            f"output folder {folder} is not writable (no write permission on {probe_root}); "
            "choose another output folder"
        )


def prepare_new_run(cfg: ExperimentConfig, out: str | os.PathLike[str] | None) -> Path:
    run_dir = Path(out) if out else default_run_dir(cfg)
    check_writable(run_dir)
    if run_dir.exists() and any(run_dir.iterdir()):
        raise ValueError(f"{run_dir} is not empty; continue it with --resume {run_dir} or pick another --out")
    return run_dir


def load_run_config(run_dir: Path) -> ExperimentConfig:
    path = run_dir / CONFIG
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir} is not a sparft run folder (no {CONFIG}); check --resume")
    return load_config(path, base_dir=run_dir)


def _checkpoint_state(run_dir: Path) -> dict[str, Any] | None:
    path = run_dir / CHECKPOINT / "state.json"
    if not path.is_file():
        return None
    return records.read_json(path)


def _write_checkpoint(ep: Episode, run_dir: Path) -> None:
    ckpt = run_dir / CHECKPOINT
    ckpt.mkdir(parents=True, exist_ok=True)
    # Model files (real learners) first, then state.json: the state file is the commit point.
    state = ep.state_dict(ckpt)
    fileio.atomic_write_json(ckpt / "state.json", state)
    wiring.prune_learner_checkpoints(ckpt, keep_step=ep.counters.step)


def comparable(line: Mapping[str, Any]) -> dict[str, Any]:
    """A metrics line without its timings: equal between a resumed and an uninterrupted run."""
    return {k: v for k, v in line.items() if k not in TIMING_KEYS}


class _Interrupt:
    """Turns SIGTERM into KeyboardInterrupt while the loop runs, so both end the same clean way."""

    def __enter__(self) -> _Interrupt:
        self._old = None
        with contextlib.suppress(ValueError):  # not the main thread: leave SIGTERM alone
            self._old = signal.signal(signal.SIGTERM, self._raise)
        return self

    @staticmethod
    def _raise(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    def __exit__(self, *exc: object) -> None:
        if self._old is not None:
            signal.signal(signal.SIGTERM, self._old)


def execute_run(
    cfg: ExperimentConfig,
    run_dir: Path,
    resume: bool = False,
    wandb_mode: str = "disabled",
    progress: bool | None = None,
    stop_after: int | None = None,
    on_line: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Run (or resume) ``cfg`` in ``run_dir``; returns the summary.

    ``stop_after`` ends the loop after that many steps of this call (tests use it
    to stop a run part-way without a signal).
    """
    from sparft.experiments.tracking import Tracker

    metrics_path = run_dir / METRICS
    ep = Episode(cfg, cfg.seed)  # builds everything first: bad data fails before the folder exists
    run_dir.mkdir(parents=True, exist_ok=True)
    state = _checkpoint_state(run_dir) if resume else None
    if state is None:
        # No checkpoint: nothing before it counts. Start from scratch.
        if metrics_path.exists():
            records.truncate_jsonl(metrics_path, lambda r: False)
        save_config(cfg, run_dir / CONFIG, header=f"resolved config of run {run_dir.name} (sparft run)")
        ep.start()
        _write_checkpoint(ep, run_dir)
    else:
        ep.load_state_dict(state, run_dir / CHECKPOINT)
        done = ep.counters.step
        kept = records.truncate_jsonl(metrics_path, lambda r: r["step"] < done)
        if len(kept) != done or [r["step"] for r in kept] != list(range(done)):
            raise ValueError(
                f"{metrics_path} holds {len(kept)} complete lines but the checkpoint is at step {done}; "
                "the run folder was edited by hand: start a new run"
            )
        ep.arm_counts = [r["arm_counts"] for r in kept]
        ep.solve_rate = [r["solve_rate"] for r in kept]
        ep.outcomes = [r["outcome"] for r in kept if "outcome" in r]

    tracker_id_path = run_dir / "wandb_id"
    run_id = tracker_id_path.read_text().strip() if tracker_id_path.exists() else None
    tracker = Tracker(
        wandb_mode,
        project=cfg.wandb.project,
        entity=cfg.wandb.entity,
        name=run_dir.name,
        config=cfg.to_dict(),
        directory=run_dir,
        group=cfg.name,
        job_type="run",
        tags=cfg.wandb.tags,
        run_id=run_id,
    )
    if tracker.run_id and not run_id:
        fileio.atomic_write_text(tracker_id_path, tracker.run_id)

    show = cfg.run.progress if progress is None else progress
    bar = None
    if show:
        from tqdm import tqdm

        unit = cfg.env.budget_unit.removesuffix("s")
        bar = tqdm(total=cfg.env.budget, initial=min(ep.spent, cfg.env.budget), desc=cfg.strategy.display, unit=unit)
        _postfix(bar, ep)
    every = cfg.checkpoint_every
    n_this_call = 0
    try:
        with records.JsonlWriter(metrics_path) as writer, _Interrupt():
            while not ep.done:
                if stop_after is not None and n_this_call >= stop_after:
                    break
                line = ep.step()
                writer.write(line)
                tracker.log(
                    {k: v for k, v in line.items() if not isinstance(v, list | dict)}, step=line["step"]
                )
                if on_line is not None:
                    on_line(line)
                n_this_call += 1
                if ep.counters.step % every == 0 or ep.done:
                    _write_checkpoint(ep, run_dir)
                if bar is not None:
                    bar.update(min(ep.spent, cfg.env.budget) - bar.n)
                    if "accuracy" in line:
                        _postfix(bar, ep)
    except BaseException:
        tracker.finish(exit_code=1)
        raise
    finally:
        if bar is not None:
            bar.close()
    summary = make_summary(cfg, ep, run_dir)
    if ep.done:
        fileio.atomic_write_json(run_dir / SUMMARY, summary)
        if cfg.run.plots:
            from sparft.experiments import plots

            plots.run_figure(
                records.read_jsonl(metrics_path), run_dir / "run.png", title=_title(cfg),
                initial_accuracy=ep.initial_accuracy,
            )
        tracker.summary({k: v for k, v in summary.items() if isinstance(v, int | float)})
    tracker.finish()
    ep.close()
    return summary


def _title(cfg: ExperimentConfig) -> str:
    return f"{cfg.name}: {cfg.strategy.display}, {cfg.learner.kind} learner, seed {cfg.seed}"


def _postfix(bar: Any, ep: Episode) -> None:
    acc = ep.accuracy[-1] if ep.accuracy else ep.initial_accuracy
    bar.set_postfix_str(f"acc={acc:.3f}", refresh=False)


def make_summary(cfg: ExperimentConfig, ep: Episode, run_dir: Path) -> dict[str, Any]:
    res = ep.result().to_dict()
    return {
        "name": cfg.name,
        "strategy": cfg.strategy.display,
        "learner": cfg.learner.kind,
        "seed": cfg.seed,
        "finished": ep.done,
        "steps": ep.counters.step,
        "budget": cfg.env.budget,
        "initial_accuracy": res["initial_accuracy"],
        "final_accuracy": res["final_accuracy"],
        "final_solve_rate": res["final_solve_rate"],
        "samples": res["samples"],
        "rollouts": res["rollouts"],
        "tokens": res["tokens"],
        "unique_examples": res["unique_examples"],
        "wall_time": res["wall_time"],
        "eval_steps": res["eval_steps"],
        "accuracy": res["accuracy"],
        "run_dir": str(run_dir),
    }

