"""The one map from config paths to the dataclasses behind them, and a sweep's search space.

``sweep.space`` names config paths (``strategy.params.prior_std``, ``data.cluster.k``,
``learner.params.learning_rate``); :func:`owner` finds the dataclass that owns each
one (the strategy's ``Params``, its bandit's, the learner plugin's, ``ClusterConfig``,
``EmbedConfig``, or a config section), and :func:`search_space` turns the paths into
:class:`Dim` objects from the field's type and its declared range or choices (see
:mod:`sparft.experiments.sweep` for the YAML). Pure: config in, dimensions out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args, get_origin

from sparft.experiments import typed
from sparft.experiments.learners import learner_plugin

if TYPE_CHECKING:
    from sparft.experiments.config import ExperimentConfig, SpaceParam

__all__ = ["Dim", "bandit_params_class", "owner", "search_space"]


def bandit_params_class(params: Mapping[str, Any]) -> type | None:
    """The bandit's hyperparameter dataclass for a composed strategy's params, else None."""
    if "bandit_params" not in params or not isinstance(params.get("bandit"), str):
        return None
    from sparft import bandits

    return bandits.spec(params["bandit"]).Params


@dataclass(frozen=True)
class Dim:
    """One swept value: its config path and how Optuna draws it."""

    path: str
    kind: Literal["float", "int", "categorical"]
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: tuple[Any, ...] = ()

    def suggest(self, trial: Any) -> Any:
        if self.kind == "categorical":
            return trial.suggest_categorical(self.path, list(self.choices))
        if self.kind == "int":
            return trial.suggest_int(
                self.path, int(self.low), int(self.high), step=int(self.step or 1), log=self.log
            )
        return trial.suggest_float(
            self.path, float(self.low), float(self.high), step=self.step, log=self.log
        )


def owner(cfg: ExperimentConfig, path: str | Sequence[str]) -> tuple[type | None, str]:
    """(the dataclass owning the last part of a config path, its field name).

    The one map from config paths to the dataclasses behind them: the strategy's
    ``Params`` (and its bandit's), the learner plugin's ``Params``, ``ClusterConfig``,
    ``EmbedConfig``, else the config sections themselves; ``env.params`` has no class
    (None). Sweeps draw from it; a bad path is a ``ValueError`` naming the valid keys.
    """
    parts = path.split(".") if isinstance(path, str) else list(path)
    head = parts[:-1]
    if head == ["strategy", "params"]:
        from sparft.curricula.teachers import resolve_class

        return resolve_class(cfg.strategy.name)[0].Params, parts[-1]
    if head == ["strategy", "params", "bandit_params"]:
        cls = bandit_params_class(cfg.strategy.params)
        if cls is None:
            raise ValueError(
                f"sweep.space.{'.'.join(parts)}: strategy {cfg.strategy.name!r} has no bandit"
            )
        return cls, parts[-1]
    if head == ["learner", "params"]:
        return learner_plugin(cfg).Params, parts[-1]
    if head == ["data", "cluster"]:
        from sparft.curricula.clustering import ClusterConfig

        return ClusterConfig, parts[-1]
    if head == ["data", "embed"]:
        from sparft.curricula.embedding import EmbedConfig

        return EmbedConfig, parts[-1]
    if head == ["env", "params"]:
        return None, parts[-1]
    cls: Any = type(cfg)
    for part in head:
        hints = typed.type_hints(cls)
        if part not in hints or not dataclasses.is_dataclass(hints[part]):
            valid = [f.name for f in dataclasses.fields(cls)]
            raise ValueError(typed.unknown_key_message(part, "sweep.space path", valid))
        cls = hints[part]
    return cls, parts[-1]


def _dim_for(cfg: ExperimentConfig, path: str, spec: SpaceParam | None) -> Dim:
    """One dimension; ``spec`` None (or its fields None) takes the field's declared range."""
    parts = path.split(".")
    where = f"sweep.space.{path}"
    cls, name = owner(cfg, parts)
    given = {k: getattr(spec, k, None) for k in ("low", "high", "log", "step", "choices")}
    declared: dict[str, Any] = {}
    tp: Any = None
    if cls is not None:
        fields = {f.name: f for f in dataclasses.fields(cls)}
        if name not in fields:
            raise ValueError(
                typed.unknown_key_message(name, f"sweep.space {'.'.join(parts[:-1])}", list(fields))
            )
        declared = dict(fields[name].metadata)
        tp = typed.type_hints(cls)[name]
    base = _strip_optional(tp)
    choices = given["choices"] if given["choices"] is not None else declared.get("choices")
    if choices is None and get_origin(base) is Literal:
        choices = list(get_args(base))
    if choices is None and base is bool:
        choices = [False, True]
    if choices is not None:
        for c in choices:
            if tp is not None:
                typed.convert(c, tp, where)
        return Dim(path, "categorical", choices=tuple(choices))
    low = given["low"] if given["low"] is not None else declared.get("low")
    high = given["high"] if given["high"] is not None else declared.get("high")
    log = given["log"] if given["log"] is not None else bool(declared.get("log", False))
    if low is None or high is None:
        raise ValueError(
            f"{where}: give low and high (or choices); the field declares no range of its own"
        )
    if base is None:  # env.params: no declared type, the bounds decide
        kind = "int" if isinstance(low, int) and isinstance(high, int) else "float"
    else:
        kind = "int" if base is int else "float"
    if base not in (int, float, None):
        raise ValueError(
            f"{where}: a range needs a number field, this one is {typed.type_name(tp)}"
        )
    if log and low <= 0:
        raise ValueError(f"{where}: a log range needs low > 0, got {low}")
    if low > high:
        raise ValueError(f"{where}: low ({low}) exceeds high ({high})")
    return Dim(path, kind, low=low, high=high, log=log, step=given["step"])


def _strip_optional(tp: Any) -> Any:
    args = get_args(tp)
    if args and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return tp


def search_space(cfg: ExperimentConfig) -> list[Dim]:
    """The sweep's dimensions, checked against the dataclasses that own them."""
    dims: list[Dim] = []
    for path, spec in cfg.sweep.space.items():
        if isinstance(spec, str):
            if spec != "auto":
                raise ValueError(
                    f"sweep.space.{path}: expected a range mapping or 'auto', got {spec!r}"
                )
            if path in ("strategy.params", "strategy"):
                from sparft.curricula.teachers import resolve_class

                cls = resolve_class(cfg.strategy.name)[0].Params
                found = [
                    f.name
                    for f in dataclasses.fields(cls)
                    if "choices" in f.metadata or f.metadata.get("low") is not None
                ]
                if not found:
                    raise ValueError(
                        f"sweep.space.{path}: strategy {cfg.strategy.name!r} declares no ranges"
                    )
                dims += [_dim_for(cfg, f"strategy.params.{n}", None) for n in found]
                continue
            spec = None
        dims.append(_dim_for(cfg, path, spec))
    paths = [d.path for d in dims]
    if len(set(paths)) != len(paths):
        raise ValueError("sweep.space names a path twice")
    return dims
