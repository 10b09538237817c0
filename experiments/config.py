"""Experiment configs: one YAML file -> one typed, validated :class:`ExperimentConfig`.

A config file has these sections (every key optional; the defaults are the
dataclasses below, and ``configs/*.yaml`` shows them with comments)::

    name: demo
    seed: 0
    data:     {source: arith, test: null, n_train: null, n_test: 64, arms: null, cluster: {}, ...}
    learner:  {kind: simulated, preset: default, params: {}}    # or {kind: grpo, model: ..., params: {}}
    strategy: sparft            # or {name: sparft, params: {...}} or {bandit: exp3_s, signal: ...}
    env:      {batch_size: 8, group_size: 8, budget: 300, reward_signal: solve_rate, eval_every: 10}
    run:      {checkpoint_every: null, out: runs, progress: true, plots: true}
    bench:    {strategies: [uniform, sparft, ...], seeds: 16, workers: 2}
    sweep:    {trials: 30, objective: final_accuracy, space: {strategy.params.gamma: {low: .., high: ..}}}
    wandb:    {mode: offline, project: sparft}
    demo:     {real: null, real_set: []}

The algorithm-specific parts (``strategy.params`` and, for a bandit + signal
strategy, ``strategy.params.bandit_params``; ``learner.params``; ``data.cluster``,
``data.embed``) are not re-declared here: they are checked against the
hyperparameter dataclass of the strategy, bandit, learner and arm builder
themselves (the same classes sweeps draw from and runs log), and the resolved
config lists every one of their fields with its value.

``extends: base.yaml`` merges the config on top of another (mappings key by
key, lists and scalars replaced). ``--set path.to.key=value`` overrides any
value (parsed as YAML) after that.

Loading is all checking, no work: unknown keys (naming the closest valid key),
wrong types, unknown strategy / signal / preset names, missing data files, a
budget of zero. Relative file paths in ``data.source``, ``data.test`` and
``data.arms`` are resolved against the folder of the config file and, if
nothing exists there, against the current directory; the resolved config holds
the absolute path, so a run folder can be resumed from anywhere.
"""

from __future__ import annotations

import copy
import dataclasses
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from sparft.experiments import typed
from sparft.experiments.learners import learner_plugin
from sparft.experiments.resolve import normalise_strategy, resolve


def hp(default: Any, help: str) -> Any:
    """A config field with its help text (mutable defaults copied per instance)."""
    if isinstance(default, dict | list):
        return field(default_factory=lambda d=default: copy.deepcopy(d), metadata={"help": help})
    return field(default=default, metadata={"help": help})


def _positive(section: str, **values: Any) -> None:
    for name, value in values.items():
        if value is not None and value < 1:
            raise ValueError(f"{section}.{name} must be at least 1, got {value}")


# --------------------------------------------------------------------- sections
@dataclass(frozen=True)
class DataConfig:
    source: str = hp(
        "arith",
        "training pool: arith | gsm8k:PATH | jsonl:PATH,question=F,answer=F | hf:ID "
        "(see `sparft cluster --help`); relative paths: config folder first, then CWD",
    )
    test: str | None = hp(None, "held-out set spec; null = the 'test' split of `source`")
    n_train: int | None = hp(None, "cap on the training pool (seeded subset); null = all")
    n_test: int = hp(64, "held-out questions evaluated (a fixed set, the same for every run)")
    arms: str | None = hp(
        None,
        "an ArmSet JSON file from `sparft cluster`, or 'cluster' to build the arms from `source`; "
        "null = the simulator preset's own arms (simulated learner) or 'cluster' (grpo)",
    )
    cluster: dict[str, Any] = hp(
        {}, "arm builder (ClusterConfig: k, per_cluster, pca_dim, difficulty_weight, reduction, ...)"
    )
    embed: dict[str, Any] = hp({}, "embedding model settings (EmbedConfig: model, precision, ...)")
    difficulty: Literal["auto", "label", "proxy"] = hp(
        "auto", "difficulty for clustering: the source's label, a proxy, or auto (label if present)"
    )
    seed: int = hp(0, "seeds the data: the training subset and the fixed held-out set")

    def __post_init__(self) -> None:
        _positive("data", n_train=self.n_train, n_test=self.n_test)


@dataclass(frozen=True)
class LearnerConfig:
    kind: str = hp(
        "simulated",
        "a registered learner (`sparft plugins learner`): simulated, the fast SimulatedLearner; "
        "grpo, real GRPO on a language model",
    )
    preset: str = hp("default", "simulated learner preset (see `sparft run --help`)")
    model: str | None = hp(
        None, "grpo: the policy (smollm2-135m-instruct, a hub id, a local folder or a .gguf file)"
    )
    policy: dict[str, Any] = hp(
        {}, "grpo: how to load the policy (load_policy's dtype, device, lora, trust_remote_code)"
    )
    params: dict[str, Any] = hp(
        {}, "hyperparameters of the learner (SimulatedLearner or GRPOLearner), checked by its dataclass"
    )


@dataclass(frozen=True)
class StrategyConfig:
    name: str = hp(
        "sparft", "a registered strategy (`sparft strategies`) or 'BANDIT+SIGNAL'"
    )
    params: dict[str, Any] = hp({}, "the strategy's hyperparameters, checked by its Params dataclass")
    label: str | None = hp(None, "name shown in tables and plots; null = `name`")

    @property
    def display(self) -> str:
        return self.label or self.name


@dataclass(frozen=True)
class EnvConfig:
    batch_size: int = hp(8, "B: prompts per GRPO update")
    group_size: int = hp(8, "G: rollouts per prompt")
    budget: int = hp(300, "the equal budget of every run of a benchmark, in budget_unit")
    budget_unit: Literal["steps", "rollouts", "tokens"] = hp(
        "steps", "what the budget counts: GRPO updates, rollouts generated, or completion tokens"
    )
    reward_signal: str = hp("solve_rate", "the signal the environment returns as reward")
    eval_every: int = hp(
        10, "evaluate held-out accuracy each time this much more budget is spent (and at the end)"
    )
    params: dict[str, Any] = hp({}, "other keyword arguments of CurriculumEnv")

    def __post_init__(self) -> None:
        _positive(
            "env",
            batch_size=self.batch_size,
            group_size=self.group_size,
            budget=self.budget,
            eval_every=self.eval_every,
        )


@dataclass(frozen=True)
class RunConfig:
    checkpoint_every: int | None = hp(
        None, "save a checkpoint every N steps; null = the learner's default (simulated: 1, grpo: 10)"
    )
    out: str = hp("runs", "parent folder of run folders (when --out is not given)")
    progress: bool = hp(True, "show a progress bar")
    plots: bool = hp(True, "write plots at the end")

    def __post_init__(self) -> None:
        _positive("run", checkpoint_every=self.checkpoint_every)


@dataclass(frozen=True)
class BenchConfig:
    strategies: list[str | StrategyConfig] = hp(
        [], "strategies to compare (names or {name, params, label}); --strategies overrides"
    )
    seeds: int = hp(16, "seeds per strategy")
    workers: int = hp(2, "parallel worker processes (simulated learner only)")
    executor: str = hp(
        "local",
        "a registered executor: local (worker processes here), ray (one Ray task per cell on a "
        "cluster: --address, RAY_ADDRESS) or a plugin's",
    )
    baseline: str = hp("uniform", "the strategy whose final accuracy is the 'steps to reach' target")
    reference: str = hp("sparft", "the method each strategy is also tested against (Welch)")

    def __post_init__(self) -> None:
        _positive("bench", seeds=self.seeds, workers=self.workers)


@dataclass(frozen=True)
class SpaceParam:
    low: int | float | None = hp(None, "lower bound (numbers); null = the field's declared range")
    high: int | float | None = hp(None, "upper bound (numbers); null = the field's declared range")
    log: bool | None = hp(None, "log-uniform; null = the field's declared choice")
    step: float | None = hp(None, "grid step for numbers")
    choices: list[Any] | None = hp(None, "categorical choices")

    def __post_init__(self) -> None:
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"low ({self.low}) must not exceed high ({self.high})")
        if self.choices is not None and not self.choices:
            raise ValueError("choices must not be empty")


@dataclass(frozen=True)
class SweepConfig:
    trials: int = hp(30, "COMPLETE trials wanted (a resumed study counts those it has)")
    objective: Literal["final_accuracy", "auc", "final_solve_rate"] = hp(
        "final_accuracy", "what a trial scores: its mean over seeds"
    )
    direction: Literal["maximize", "minimize"] = hp("maximize", "optimisation direction")
    seeds: int = hp(4, "seeds per trial (intermediate reports after each seed)")
    seed: int = hp(0, "sampler seed (the sampler of trial n is seeded with seed + n)")
    sampler: Literal["tpe", "random"] = hp("tpe", "Optuna sampler")
    pruner: Literal["median", "wilcoxon", "none"] = hp(
        "median", "prune a trial from its per-seed reports: median rule or Wilcoxon signed-rank"
    )
    storage: str | None = hp(
        None,
        "null = SQLite file in the sweep folder; journal:PATH (many processes, one machine); "
        "sqlite:///PATH, postgresql://... (any RDB URL)",
    )
    study: str | None = hp(None, "study name; null = the config name (same name = resume)")
    n_jobs: int = hp(1, "parallel trials in this process (threads)")
    heartbeat_interval: float = hp(5.0, "seconds between a running trial's heartbeats")
    grace_period: float = hp(
        30.0, "a RUNNING trial without heartbeat this long is a dead worker's: failed and re-queued"
    )
    space: dict[str, SpaceParam | str] = hp(
        {}, "config path -> range; 'auto' or {} = the range the field's dataclass declares"
    )

    def __post_init__(self) -> None:
        _positive("sweep", trials=self.trials, seeds=self.seeds, n_jobs=self.n_jobs)
        if self.heartbeat_interval <= 0 or self.grace_period <= self.heartbeat_interval:
            raise ValueError("sweep.grace_period must exceed sweep.heartbeat_interval > 0")


@dataclass(frozen=True)
class WandbConfig:
    mode: Literal["online", "offline", "disabled"] = hp(
        "offline", "offline: write locally, `wandb sync` later; --wandb and WANDB_MODE override"
    )
    project: str = hp("sparft", "W&B project")
    entity: str | None = hp(None, "W&B entity (team or user); null = your default")
    tags: list[str] = hp([], "W&B tags")


@dataclass(frozen=True)
class DemoConfig:
    real: str | None = hp(
        None, "`sparft demo`: config of the short real GRPO run after the simulated benchmark "
        "(relative to this file); null = none"
    )
    real_set: list[str] = hp([], "`--set` overrides applied to that config (e.g. env.budget=8)")
    real_strategies: list[str] = hp(
        [], "strategies the short real run compares on the same seed; [] = the real config's own"
    )
    shipped: str | None = hp(
        "../results/real_arith",
        "a finished real bench folder whose table the demo shows (relative to this file); null = none",
    )


@dataclass(frozen=True)
class ExperimentConfig:
    name: str = hp("experiment", "names run folders, bench groups and studies")
    description: str = hp("", "free text kept with the results")
    seed: int = hp(0, "seed of a single run (bench and sweep use seeds 0..N-1)")
    data: DataConfig = hp(DataConfig(), "the training pool, held-out set and arms")
    learner: LearnerConfig = hp(LearnerConfig(), "who is trained")
    strategy: StrategyConfig = hp(StrategyConfig(), "the curriculum (teacher)")
    env: EnvConfig = hp(EnvConfig(), "the environment: batch, rollouts, budget, signal")
    run: RunConfig = hp(RunConfig(), "run folders, checkpoints, progress")
    bench: BenchConfig = hp(BenchConfig(), "`sparft bench` settings")
    sweep: SweepConfig = hp(SweepConfig(), "`sparft sweep` settings")
    wandb: WandbConfig = hp(WandbConfig(), "Weights & Biases logging")
    demo: DemoConfig = hp(DemoConfig(), "`sparft demo` settings")

    def __post_init__(self) -> None:
        if not self.name or any(c in self.name for c in "/\\\0"):
            raise ValueError(f"name {self.name!r} must be non-empty, without slashes")

    def to_dict(self) -> dict[str, Any]:
        return typed.to_dict(self)

    def replace(self, **changes: Any) -> ExperimentConfig:
        return dataclasses.replace(self, **changes)

    @property
    def checkpoint_every(self) -> int:
        if self.run.checkpoint_every is not None:
            return self.run.checkpoint_every
        return learner_plugin(self).default_checkpoint_every


# ----------------------------------------------------------------- shorthands
def _normalise(data: dict[str, Any]) -> dict[str, Any]:
    """Expand shorthands before type checking: ``strategy: NAME`` and composed mappings."""
    data["strategy"] = normalise_strategy(data.get("strategy"), "strategy")
    bench = data.get("bench")
    if isinstance(bench, Mapping) and isinstance(bench.get("strategies"), list):
        bench = dict(bench)
        bench["strategies"] = [
            normalise_strategy(s, f"bench.strategies[{i}]") if isinstance(s, Mapping) else s
            for i, s in enumerate(bench["strategies"])
        ]
        data["bench"] = bench
    return data


# ----------------------------------------------------------------- load
def read_yaml(path: str | os.PathLike[str]) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config file {path} does not exist; see configs/ for examples")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ValueError(f"{where}: not valid YAML ({getattr(e, 'problem', e)})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a config file is a mapping of sections, got {type(data).__name__}")
    return data


def _deep_merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def read_config_file(path: str | os.PathLike[str], _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """A config file's data, with ``extends: OTHER.yaml`` (relative to it) merged underneath.

    Mappings merge key by key; anything else (lists, scalars) in the extending
    file replaces the base's value. A base's relative paths are rewritten as
    absolute, so they keep pointing where the base meant.
    """
    path = Path(path).resolve()
    if path in _seen:
        raise ValueError(f"{path}: 'extends' loops back to itself")
    data = read_yaml(path)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ValueError(f"{path}: extends must be a file name, got {parent!r}")
    base_path = (path.parent / parent).resolve()
    base = _absolute_paths(read_config_file(base_path, (*_seen, path)), base_path.parent)
    return _deep_merge(base, data)


def _absolute_paths(data: dict[str, Any], base: Path) -> dict[str, Any]:
    section = data.get("data")
    if isinstance(section, dict):
        for key in ("source", "test"):
            if isinstance(section.get(key), str):
                section[key] = resolve_spec_path(section[key], base, check=False)
        if isinstance(section.get("arms"), str) and section["arms"] != "cluster":
            section["arms"] = str(_resolve_file(section["arms"], base))
    demo = data.get("demo")
    if isinstance(demo, dict):
        for key in ("real", "shipped"):
            if isinstance(demo.get(key), str):
                demo[key] = str(_resolve_file(demo[key], base))
    return data


def apply_overrides(data: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Apply ``--set a.b=c`` overrides (values parsed as YAML) to plain config data."""
    data = _normalise(copy.deepcopy(data))
    for text in overrides:
        path, value = typed.parse_override(text)
        if path[0] == "strategy" and len(path) == 1:
            value = normalise_strategy(value)
        typed.set_path(data, path, value)
        data = _normalise(data)
    return data


def load_config(
    path: str | os.PathLike[str] | None = None,
    overrides: Sequence[str] = (),
    data: Mapping[str, Any] | None = None,
    base_dir: str | os.PathLike[str] | None = None,
    check_files: bool = True,
) -> ExperimentConfig:
    """Read, override, type-check and resolve a config (no work is done).

    Either ``path`` (a YAML file) or ``data`` (plain data, e.g. a resolved config)
    is given. ``base_dir`` is where relative paths resolve first (default: the
    config file's folder).
    """
    if path is not None:
        raw = read_config_file(path)
        base = Path(path).resolve().parent if base_dir is None else Path(base_dir)
        if "name" not in raw:
            raw["name"] = Path(path).stem
    else:
        raw = dict(data or {})
        base = Path(base_dir) if base_dir is not None else Path.cwd()
    merged = apply_overrides(raw, overrides)
    cfg = typed.from_dict(ExperimentConfig, merged)
    return resolve(_resolve_paths(cfg, base, check_files=check_files))


def _resolve_file(text: str, base: Path) -> Path:
    p = Path(text).expanduser()
    if p.is_absolute():
        return p
    for root in (base, Path.cwd()):
        if (root / p).exists():
            return (root / p).resolve()
    return (base / p).resolve()


def resolve_spec_path(spec: str, base: Path, check: bool = True, where: str = "data.source") -> str:
    """Make the path inside a data spec (``gsm8k:PATH,n=50``) absolute; check it exists."""
    from sparft.curricula.sources import SOURCES, parse_spec

    parsed = parse_spec(spec)
    if not parsed.arg or not SOURCES.entry(parsed.kind).meta.get("takes_path"):
        return spec
    resolved = _resolve_file(parsed.arg, base)
    if check and not resolved.exists():
        raise FileNotFoundError(
            f"{where}: data file {parsed.arg} not found (looked in {base} and {Path.cwd()}); "
            "fix the path or download the data"
        )
    options = ",".join(f"{k}={v}" for k, v in parsed.options.items())
    return f"{parsed.kind}:{resolved}" + (f",{options}" if options else "")


def _resolve_paths(cfg: ExperimentConfig, base: Path, check_files: bool) -> ExperimentConfig:
    data = cfg.data
    changes: dict[str, Any] = {
        "source": resolve_spec_path(data.source, base, check_files, "data.source")
    }
    if data.test:
        changes["test"] = resolve_spec_path(data.test, base, check_files, "data.test")
    if data.arms and data.arms != "cluster":
        arms = _resolve_file(data.arms, base)
        if check_files and not arms.is_file():
            raise FileNotFoundError(
                f"data.arms: ArmSet file {data.arms} not found; build it with `sparft cluster --out DIR`"
            )
        changes["arms"] = str(arms)
    cfg = cfg.replace(data=dataclasses.replace(data, **changes))
    if cfg.demo.real:
        real = _resolve_file(cfg.demo.real, base)
        if check_files and not real.is_file():
            raise FileNotFoundError(f"demo.real: config file {cfg.demo.real} not found (looked in {base})")
        cfg = cfg.replace(demo=dataclasses.replace(cfg.demo, real=str(real)))
    if cfg.demo.shipped:  # a results folder: its absence only means nothing is shown
        cfg = cfg.replace(demo=dataclasses.replace(cfg.demo, shipped=str(_resolve_file(cfg.demo.shipped, base))))
    return cfg


# ----------------------------------------------------------------- save
def dump_yaml(data: Mapping[str, Any], header: str = "") -> str:
    text = yaml.safe_dump(typed.to_dict(data), sort_keys=False, default_flow_style=False, width=100)
    if header:
        text = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines()) + text
    return text


def save_config(cfg: ExperimentConfig, path: str | os.PathLike[str], header: str = "") -> Path:
    from sparft.fileio import atomic_write_text

    return atomic_write_text(path, dump_yaml(cfg.to_dict(), header))


def strategy_of(spec: str | StrategyConfig | Mapping[str, Any]) -> StrategyConfig:
    """A bench entry (a name, a mapping or a StrategyConfig) as a StrategyConfig."""
    if isinstance(spec, StrategyConfig):
        return spec
    return typed.from_dict(StrategyConfig, normalise_strategy(spec), "strategy")
