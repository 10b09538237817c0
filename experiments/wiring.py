"""Construction: a resolved config -> arms, learner, environment, teacher; and their state.

This is the only module of ``experiments`` that builds the other folders' objects. It
takes a config that :func:`sparft.experiments.resolve.resolve` has checked and filled
in (every name known, every hyperparameter complete) and builds from it: the arms
(a file, the learner's own, or SPaRFT's stage 1 on ``data.source``), the learner (the
plugin of ``learner.kind``, :mod:`sparft.experiments.learners`), the teacher
(:func:`sparft.curricula.make`) and the Gymnasium environment; the learner's state goes
through its plugin's checkpoint hooks.

Seeds: the environment is reset with the run's seed (which also seeds the
learner, see :class:`~sparft.envs.CurriculumEnv`); the teacher gets a seed
derived from it with ``SeedSequence`` so the two never share a random stream.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sparft.experiments import typed
from sparft.experiments.learners import LearnerData, LearnerPlugin, learner_plugin
from sparft.fileio import to_jsonable

if TYPE_CHECKING:
    from sparft.experiments.config import ExperimentConfig, StrategyConfig

ENV_ID = "sparft/Curriculum-v0"
def budget_in_steps(cfg: ExperimentConfig) -> int | None:
    """The run's length in updates, for teachers with a schedule: exact for a step budget,
    budget / (B G) for a rollout budget, unknown (None) for a token budget."""
    env = cfg.env
    if env.budget_unit == "steps":
        return env.budget
    if env.budget_unit == "rollouts":
        return max(1, env.budget // (env.batch_size * env.group_size))
    return None


@dataclass
class Parts:
    """The live objects of one run."""

    env: Any  # CurriculumEnv (unwrapped)
    learner: Any
    teacher: Any
    arms: Any  # ArmSet
    plugin: LearnerPlugin  # the learner's kind: its checkpoint hooks


def teacher_seed(seed: int) -> int:
    return int(np.random.SeedSequence([int(seed), 0x7EAC4E]).generate_state(1)[0])


# ================================================================ building
_ARMS_CACHE: dict[str, Any] = {}


def build_arms(cfg: ExperimentConfig) -> Any:
    """The run's ArmSet (cached per process: every cell of a bench shares it)."""
    from sparft.curricula.arms import ArmSet

    data = cfg.data
    if data.arms not in (None, "cluster"):
        key = f"file:{data.arms}"
        if key not in _ARMS_CACHE:
            _ARMS_CACHE[key] = ArmSet.load(data.arms)
        return _ARMS_CACHE[key]
    plugin = learner_plugin(cfg)
    if data.arms is None and plugin.has_own_arms:
        key = "own:" + json.dumps(to_jsonable(typed.to_dict(cfg.learner)), sort_keys=True)
        if key not in _ARMS_CACHE:
            _ARMS_CACHE[key] = plugin.own_arms(cfg)
        return _ARMS_CACHE[key]
    key = json.dumps(
        {"source": data.source, "n": data.n_train, "cluster": data.cluster, "embed": data.embed,
         "difficulty": data.difficulty, "seed": data.seed},
        sort_keys=True,
    )
    if key not in _ARMS_CACHE:
        _ARMS_CACHE[key] = cluster_arms(cfg)
    return _ARMS_CACHE[key]


def cluster_arms(cfg: ExperimentConfig) -> Any:
    """SPaRFT stage 1 on ``data.source``: difficulty, embeddings, k-means, reduction."""
    from sparft.curricula.clustering import ClusterConfig, check_pool, partition
    from sparft.curricula.difficulty import compute_difficulty
    from sparft.curricula.embedding import EmbedConfig, embed_texts
    from sparft.curricula.prompts import question_text

    data = cfg.data
    examples = train_pool(cfg)
    cluster = typed.from_dict(ClusterConfig, data.cluster, "data.cluster")
    check_pool(len(examples), cluster)
    if data.difficulty == "solve_rate":
        raise ValueError(
            "data.difficulty: solve_rate needs a model; build the arms with `sparft cluster "
            "--difficulty solve_rate` and set data.arms to its arms.json"
        )
    difficulty = compute_difficulty(examples, data.difficulty)
    embeddings = embed_texts(
        [question_text(e) for e in examples], typed.from_dict(EmbedConfig, data.embed, "data.embed"), progress=False
    )
    return partition(examples, embeddings, difficulty, cluster, source=data.source).arms


@functools.cache
def _load(spec: str, split: str, seed: int, n: int | None) -> tuple[Any, ...]:
    from sparft.curricula.sources import load_source

    return tuple(load_source(spec, split=split, seed=seed, n=n))


def train_pool(cfg: ExperimentConfig) -> list[Any]:
    return list(_load(cfg.data.source, "train", cfg.data.seed, cfg.data.n_train))


def test_set(cfg: ExperimentConfig) -> list[Any]:
    """The fixed held-out set: seeded by ``data.seed``, never by the run's seed.

    Without ``data.test`` it is the 'test' split of ``data.source``, capped by
    ``data.n_test`` (an ``n=`` option in the source spec sizes the training pool only).
    """
    spec = cfg.data.test or _without_n(cfg.data.source)
    return list(_load(spec, "test", cfg.data.seed, cfg.data.n_test))


def _without_n(spec: str) -> str:
    from sparft.curricula.sources import parse_spec

    parsed = parse_spec(spec)
    if "n" not in parsed.options:
        return spec
    rest = [parsed.arg] if parsed.arg else []
    rest += [f"{k}={v}" for k, v in parsed.options.items() if k != "n"]
    return parsed.kind + (":" + ",".join(rest) if rest else "")


def build_learner(cfg: ExperimentConfig, arms: Any, seed: int) -> Any:
    """The run's learner, built by the plugin of ``learner.kind``."""
    data = LearnerData(arms=arms, train=lambda: train_pool(cfg), test=lambda: test_set(cfg))
    return learner_plugin(cfg).build(cfg, data, seed)


def build(cfg: ExperimentConfig, seed: int, strategy: StrategyConfig | None = None) -> Parts:
    """Arms, learner, teacher and environment of one run (not reset yet)."""
    from sparft.curricula.teachers import make as make_teacher

    strategy = strategy or cfg.strategy
    arms = build_arms(cfg)
    learner = build_learner(cfg, arms, seed)
    teacher = make_teacher(
        strategy.name,
        arms=arms,
        seed=teacher_seed(seed),
        batch_size=cfg.env.batch_size,
        budget=budget_in_steps(cfg),
        **strategy.params,
    )
    env_kwargs = dict(cfg.env.params)
    env_kwargs.update(teacher.env_options())
    import gymnasium as gym

    import sparft.envs  # noqa: F401 - registers the ids

    env = gym.make(
        ENV_ID,
        learner=learner,
        arms=arms,
        batch_size=cfg.env.batch_size,
        group_size=cfg.env.group_size,
        budget=cfg.env.budget,
        reward_signal=cfg.env.reward_signal,
        action_mode=teacher.action_mode,
        eval_every=cfg.env.eval_every,
        budget_unit=cfg.env.budget_unit,
        **env_kwargs,
    ).unwrapped
    return Parts(env=env, learner=learner, teacher=teacher, arms=arms, plugin=learner_plugin(cfg))


# ================================================================ state
def plain_info(info: Mapping[str, Any]) -> dict[str, Any]:
    """What a teacher may read from ``info`` between steps, as JSON-able data (outcome left out)."""
    out = {}
    for k, v in info.items():
        if k == "outcome":
            continue
        if isinstance(v, np.ndarray):
            v = v.tolist()
        elif isinstance(v, Mapping):
            v = {str(a): (b.item() if hasattr(b, "item") else b) for a, b in v.items()}
        elif hasattr(v, "item"):
            v = v.item()
        out[k] = v
    return out


def env_state(env: Any) -> dict[str, Any]:
    """The environment's own state (generator, per-arm history, step): CurriculumEnv.state_dict."""
    return env.state_dict()


def load_env_state(env: Any, state: Mapping[str, Any]) -> None:
    env.load_state_dict(state)


def restore_obs(env: Any, obs: Any) -> np.ndarray:
    return np.asarray(obs, dtype=env.observation_space.dtype)


def save_learner(parts: Parts, checkpoint_dir: Path | None, step: int) -> dict[str, Any]:
    """The learner's state, as its plugin keeps it (inline JSON, or files under ``checkpoint_dir``)."""
    return parts.plugin.save_state(parts.learner, checkpoint_dir, step)


def load_learner(parts: Parts, state: Mapping[str, Any], checkpoint_dir: Path | None) -> None:
    parts.plugin.load_state(parts.learner, state, checkpoint_dir)


def prune_learner_checkpoints(checkpoint_dir: Path, keep_step: int) -> None:
    """Nothing to do: ``save_checkpoint(keep=2)`` keeps the newest two model folders."""
    del checkpoint_dir, keep_step
