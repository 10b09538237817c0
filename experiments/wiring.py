"""Where the experiments layer meets the others: config -> arms, learner, environment, teacher.

This is the only module of ``experiments`` that knows how the other folders
are built, and it builds them from their own hyperparameter dataclasses:

* ``strategy.params``  -> the strategy's ``Params`` (:mod:`sparft.curricula.teachers`);
* ``learner.params``   -> :class:`~sparft.envs.SimParams` (on top of the preset's) or
  :class:`~sparft.trainers.learner.GRPOLearnerConfig`;
* ``data.cluster``     -> :class:`~sparft.curricula.clustering.ClusterConfig`;
* ``data.embed``       -> :class:`~sparft.curricula.embedding.EmbedConfig`.

:func:`resolve` checks a config against them and fills in every default, so
the resolved config (saved with each run, logged to W&B, written by sweeps) is
complete; :func:`build` makes the live objects of one run.

Seeds: the environment is reset with the run's seed (which also seeds the
learner, see :class:`~sparft.envs.CurriculumEnv`); the teacher gets a seed
derived from it with ``SeedSequence`` so the two never share a random stream.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sparft.experiments import typed
from sparft.experiments.config import ExperimentConfig, StrategyConfig, strategy_of
from sparft.fileio import to_jsonable

ENV_ID = "sparft/Curriculum-v0"
#: keyword arguments of CurriculumEnv that the config sets itself
_ENV_OWN = {
    "learner", "arms", "batch_size", "group_size", "budget", "reward_signal", "action_mode",
    "eval_every", "preset", "sim_params", "render_mode", "budget_unit",
}


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


def teacher_seed(seed: int) -> int:
    return int(np.random.SeedSequence([int(seed), 0x7EAC4E]).generate_state(1)[0])


# ================================================================ resolution
def _strategy_class(name: str) -> tuple[type, dict[str, Any]]:
    """(teacher class, params implied by the name) for a name or ``BANDIT+SIGNAL``."""
    from sparft.curricula import teachers

    resolved, implied = teachers._resolve(name, {})
    return teachers.get(resolved), implied


def resolve_strategy(spec: StrategyConfig, where: str = "strategy") -> StrategyConfig:
    """Check the strategy's name and params against its ``Params``; fill every default."""
    try:
        cls, implied = _strategy_class(spec.name)
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None
    given = {**implied, **spec.params}
    params = typed.from_dict(cls.Params, given, f"{where}.params")
    full = typed.to_dict(params)
    bandit_cls = bandit_params_class(full)
    if bandit_cls is not None:
        # A composed strategy: its bandit's own hyperparameter dataclass checks bandit_params.
        nested = typed.from_dict(bandit_cls, full.get("bandit_params") or {}, f"{where}.params.bandit_params")
        full["bandit_params"] = typed.to_dict(nested)
    for key in implied:  # spelled by the name already ("exp3_s+learning_progress")
        full.pop(key, None)
    return dataclasses.replace(spec, params=full)


def bandit_params_class(params: Mapping[str, Any]) -> type | None:
    """The bandit's hyperparameter dataclass for a composed strategy's params, else None."""
    if "bandit_params" not in params or not isinstance(params.get("bandit"), str):
        return None
    from sparft import bandits

    return bandits.spec(params["bandit"]).Params


def sim_params(cfg: ExperimentConfig) -> Any:
    """The simulator's SimParams: the preset's, with ``learner.params`` on top."""
    from sparft.envs.presets import make_preset
    from sparft.envs.simulator import SimParams

    _, base = make_preset(cfg.learner.preset, None)
    changes = typed.check_fields(SimParams, cfg.learner.params, "learner.params")
    try:
        return base.replace(**changes)
    except ValueError as e:
        raise ValueError(f"learner.params: {e}") from None


def grpo_config(cfg: ExperimentConfig, seed: int | None = None) -> Any:
    from sparft.trainers.learner import GRPOLearnerConfig

    params = dict(cfg.learner.params)
    g = params.get("num_generations")
    if g is not None and g != cfg.env.group_size:
        raise ValueError(
            f"learner.params.num_generations={g} but env.group_size={cfg.env.group_size}; set only env.group_size"
        )
    params["num_generations"] = cfg.env.group_size
    params["seed"] = cfg.seed if seed is None else seed
    return typed.from_dict(GRPOLearnerConfig, params, "learner.params")


def resolve(cfg: ExperimentConfig) -> ExperimentConfig:
    """Check every name and hyperparameter against its owner; return the complete config."""
    from sparft.curricula import signals

    strategy = resolve_strategy(cfg.strategy)
    bench = [resolve_strategy(strategy_of(s), f"bench.strategies[{i}]") for i, s in enumerate(cfg.bench.strategies)]
    signals.get(cfg.env.reward_signal)
    unknown = set(cfg.env.params) & _ENV_OWN
    if unknown:
        raise ValueError(f"env.params.{sorted(unknown)[0]} is set by the config itself; set env.* or strategy")
    env_keys = set(inspect.signature(_env_class().__init__).parameters) - {"self"} - _ENV_OWN
    for key in cfg.env.params:
        if key not in env_keys:
            raise ValueError(typed.unknown_key_message(key, "env.params", sorted(env_keys)))

    learner = cfg.learner
    if learner.kind == "simulated":
        from sparft.envs.presets import available_presets

        if learner.preset not in available_presets():
            guess = typed.closest(learner.preset, available_presets())
            hint = f"; did you mean {guess!r}?" if guess else ""
            raise ValueError(
                f"learner.preset {learner.preset!r} is not one of {', '.join(available_presets())}{hint}"
            )
        if cfg.env.group_size < 2:
            raise ValueError("env.group_size must be at least 2: GRPO compares the rollouts of a prompt")
        learner = dataclasses.replace(learner, params=sim_params(cfg).to_dict())
    else:
        if not learner.model:
            raise ValueError("learner.model is required for a grpo learner (e.g. smollm2-135m-instruct)")
        from sparft.trainers.models import load_policy

        valid = set(inspect.signature(load_policy).parameters) - {"spec"}
        for key in learner.policy:
            if key not in valid:
                raise ValueError(typed.unknown_key_message(key, "learner.policy", sorted(valid)))
        full = typed.to_dict(grpo_config(cfg))
        full.pop("num_generations"), full.pop("seed")
        learner = dataclasses.replace(learner, params=full)

    data = cfg.data
    if data.arms == "cluster" or (data.arms is None and learner.kind == "grpo"):
        from sparft.curricula.clustering import ClusterConfig
        from sparft.curricula.embedding import EmbedConfig

        cluster = typed.from_dict(ClusterConfig, data.cluster, "data.cluster")
        embed = typed.from_dict(EmbedConfig, data.embed, "data.embed")
        data = dataclasses.replace(data, cluster=typed.to_dict(cluster), embed=typed.to_dict(embed))
    elif data.cluster and data.arms is not None:
        raise ValueError("data.cluster is set but data.arms names a file: the arms are not built; remove one")
    elif data.cluster:
        raise ValueError(
            "data.cluster is set but the simulator uses its preset's own arms (data.arms is null); "
            "set data.arms: cluster to simulate arms built from data.source"
        )
    cfg = cfg.replace(
        strategy=strategy,
        learner=learner,
        data=data,
        bench=dataclasses.replace(cfg.bench, strategies=bench),
    )
    if cfg.sweep.space:
        from sparft.experiments.sweep import search_space

        search_space(cfg)  # raises on a bad path or range
    return cfg


def _env_class() -> type:
    from sparft.envs import CurriculumEnv

    return CurriculumEnv


# ================================================================ building
_ARMS_CACHE: dict[str, Any] = {}


def build_arms(cfg: ExperimentConfig) -> Any:
    """The run's ArmSet (cached per process: every cell of a bench shares it)."""
    from sparft.curricula.arms import ArmSet

    data, learner = cfg.data, cfg.learner
    if data.arms not in (None, "cluster"):
        key = f"file:{data.arms}"
        if key not in _ARMS_CACHE:
            _ARMS_CACHE[key] = ArmSet.load(data.arms)
        return _ARMS_CACHE[key]
    if data.arms is None and learner.kind == "simulated":
        from sparft.envs.presets import make_preset

        key = f"preset:{learner.preset}"
        if key not in _ARMS_CACHE:
            _ARMS_CACHE[key] = make_preset(learner.preset, None)[0]
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


_POLICY_CACHE: dict[str, Any] = {}


def build_learner(cfg: ExperimentConfig, arms: Any, seed: int) -> Any:
    if cfg.learner.kind == "simulated":
        from sparft.envs.simulator import SimParams, SimulatedLearner

        params = SimParams.from_dict(cfg.learner.params)
        return SimulatedLearner(arms, params, group_size=cfg.env.group_size)
    from sparft.trainers.learner import GRPOLearner
    from sparft.trainers.models import load_policy

    pool = {e.id: e for e in train_pool(cfg)}
    missing = [i for i in arms.ids if i not in pool]
    if missing:
        raise ValueError(
            f"{len(missing)} arm examples are not in data.source (first {missing[0]!r}); "
            "the arms were built from other data"
        )
    policy = load_policy(cfg.learner.model, **cfg.learner.policy)
    return GRPOLearner(policy, pool, eval_examples=test_set(cfg), config=grpo_config(cfg, seed))


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
    return Parts(env=env, learner=learner, teacher=teacher, arms=arms)


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
    """The learner's state: inline JSON for the simulator, model files for a real learner."""
    learner = parts.learner
    if checkpoint_dir is None or _is_simulated(learner):
        return {"inline": to_jsonable(learner.state_dict(), nonfinite="keep")}
    from sparft.trainers.checkpoint import save_checkpoint

    folder = save_checkpoint(checkpoint_dir / "model", step, learner=learner, keep=2)
    return {"folder": folder.name}


def load_learner(parts: Parts, state: Mapping[str, Any], checkpoint_dir: Path | None) -> None:
    if "inline" in state:
        parts.learner.load_state_dict(state["inline"])
        return
    from sparft.trainers.checkpoint import load_checkpoint

    if checkpoint_dir is None:
        raise ValueError("this checkpoint keeps the model in files; resume from its run folder")
    folder = checkpoint_dir / "model" / state["folder"]
    if not folder.is_dir():
        raise FileNotFoundError(f"model checkpoint {folder} is missing; the run folder is incomplete")
    load_checkpoint(folder, learner=parts.learner)


def prune_learner_checkpoints(checkpoint_dir: Path, keep_step: int) -> None:
    """Nothing to do: ``save_checkpoint(keep=2)`` keeps the newest two model folders."""
    del checkpoint_dir, keep_step


def _is_simulated(learner: Any) -> bool:
    from sparft.envs.simulator import SimulatedLearner

    return isinstance(learner, SimulatedLearner)
