"""Resolution: a config checked against the owners of its names and filled in. Pure.

Every name in a config is looked up in its registry (strategies, bandits, signals,
learners, presets, executors) and every hyperparameter mapping is checked by the
dataclass that owns it:

* ``strategy.params``  -> the strategy's ``Params`` (:mod:`sparft.curricula.teachers`), and
  a composed strategy's ``bandit_params`` -> its bandit's;
* ``learner``          -> the plugin of ``learner.kind`` (:mod:`sparft.experiments.learners`);
* ``data.cluster``     -> :class:`~sparft.curricula.clustering.ClusterConfig`;
* ``data.embed``       -> :class:`~sparft.curricula.embedding.EmbedConfig`;
* ``sweep.space``      -> the same owners (:mod:`sparft.experiments.space`).

:func:`resolve` returns the complete config (saved with each run, logged to W&B, written
by sweeps); it builds nothing (:mod:`sparft.experiments.wiring` does, from its result).
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sparft.experiments import typed
from sparft.experiments.executors import EXECUTORS
from sparft.experiments.learners import learner_plugin
from sparft.experiments.space import bandit_params_class, search_space

if TYPE_CHECKING:
    from sparft.experiments.config import ExperimentConfig, StrategyConfig

__all__ = ["ENV_OWN", "normalise_strategy", "resolve", "resolve_strategy"]

#: keyword arguments of CurriculumEnv that the config sets itself
ENV_OWN = {
    "learner",
    "arms",
    "batch_size",
    "group_size",
    "budget",
    "reward_signal",
    "action_mode",
    "eval_every",
    "preset",
    "sim_params",
    "render_mode",
    "budget_unit",
}


def normalise_strategy(spec: Any, where: str = "strategy") -> Any:
    """``"sparft"`` -> ``{name: sparft}``; ``{bandit: B, signal: S, ...}`` -> ``{name: "B+S", ...}``."""
    if spec is None:
        return {}
    if isinstance(spec, str):
        return {"name": spec}
    if isinstance(spec, Mapping):
        spec = dict(spec)
        if "bandit" in spec or "signal" in spec:
            if "name" in spec:
                raise ValueError(f"{where}: give either name or bandit + signal, not both")
            bandit, signal = spec.pop("bandit", None), spec.pop("signal", None)
            if not isinstance(bandit, str) or not isinstance(signal, str):
                raise ValueError(f"{where}: a composed strategy needs both bandit and signal names")
            spec["name"] = f"{bandit}+{signal}"
        return spec
    return spec


def _as_strategy(cfg: ExperimentConfig, spec: Any, where: str) -> StrategyConfig:
    """A bench entry (a name, a mapping or a StrategyConfig) as a StrategyConfig."""
    cls = type(cfg.strategy)
    return (
        spec
        if isinstance(spec, cls)
        else typed.from_dict(cls, normalise_strategy(spec, where), where)
    )


def resolve_strategy(spec: StrategyConfig, where: str = "strategy") -> StrategyConfig:
    """Check the strategy's name and params against its ``Params``; fill every default."""
    from sparft.curricula.teachers import resolve_class

    try:
        cls, implied = resolve_class(spec.name)
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None
    given = {**implied, **spec.params}
    params = typed.from_dict(cls.Params, given, f"{where}.params")
    full = typed.to_dict(params)
    bandit_cls = bandit_params_class(full)
    if bandit_cls is not None:
        # A composed strategy: its bandit's own hyperparameter dataclass checks bandit_params.
        nested = typed.from_dict(
            bandit_cls, full.get("bandit_params") or {}, f"{where}.params.bandit_params"
        )
        full["bandit_params"] = typed.to_dict(nested)
    for key in implied:  # spelled by the name already ("exp3_s+learning_progress")
        full.pop(key, None)
    return dataclasses.replace(spec, params=full)


def resolve(cfg: ExperimentConfig) -> ExperimentConfig:
    """Check every name and hyperparameter against its owner; return the complete config."""
    from sparft.curricula import signals

    strategy = resolve_strategy(cfg.strategy)
    bench = [
        resolve_strategy(_as_strategy(cfg, s, f"bench.strategies[{i}]"), f"bench.strategies[{i}]")
        for i, s in enumerate(cfg.bench.strategies)
    ]
    signals.get(cfg.env.reward_signal)
    if cfg.bench.executor not in EXECUTORS:
        raise ValueError(f"bench.executor: {EXECUTORS.unknown(cfg.bench.executor)}")
    unknown = set(cfg.env.params) & ENV_OWN
    if unknown:
        raise ValueError(
            f"env.params.{sorted(unknown)[0]} is set by the config itself; set env.* or strategy"
        )
    env_keys = set(inspect.signature(_env_class().__init__).parameters) - {"self"} - ENV_OWN
    for key in cfg.env.params:
        if key not in env_keys:
            raise ValueError(typed.unknown_key_message(key, "env.params", sorted(env_keys)))

    plugin = learner_plugin(cfg)
    learner = plugin.resolve(cfg)

    data = cfg.data
    if data.arms == "cluster" or (data.arms is None and not plugin.has_own_arms):
        from sparft.curricula.clustering import ClusterConfig
        from sparft.curricula.embedding import EmbedConfig

        cluster = typed.from_dict(ClusterConfig, data.cluster, "data.cluster")
        embed = typed.from_dict(EmbedConfig, data.embed, "data.embed")
        data = dataclasses.replace(data, cluster=typed.to_dict(cluster), embed=typed.to_dict(embed))
    elif data.cluster and data.arms is not None:
        raise ValueError(
            "data.cluster is set but data.arms names a file: the arms are not built; remove one"
        )
    elif data.cluster:
        raise ValueError(
            f"data.cluster is set but the {learner.kind} learner uses its own arms (data.arms is null); "
            "set data.arms: cluster to use arms built from data.source"
        )
    cfg = cfg.replace(
        strategy=strategy,
        learner=learner,
        data=data,
        bench=dataclasses.replace(cfg.bench, strategies=bench),
    )
    if cfg.sweep.space:
        search_space(cfg)  # raises on a bad path or range
    return cfg


def _env_class() -> type:
    from sparft.envs import CurriculumEnv

    return CurriculumEnv
