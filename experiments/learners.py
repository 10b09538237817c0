"""Learners as plugins: each ``learner.kind`` of a config is one registered :class:`LearnerPlugin`.

A plugin owns everything sparft needs to know about one kind of learner, so that no
other module branches on ``learner.kind``:

* ``Params``: the hyperparameter dataclass that checks ``learner.params`` (the same class
  a sweep's ``learner.params.*`` paths draw from);
* :meth:`~LearnerPlugin.resolve`: the config's ``learner`` section checked, every default
  filled in (what run folders and bench fingerprints record);
* :meth:`~LearnerPlugin.build`: config + data (:class:`LearnerData`) -> a
  :class:`~sparft.envs.Learner`; :meth:`~LearnerPlugin.own_arms` where the learner brings
  its own arms (the simulator's preset);
* checkpoint hooks :meth:`~LearnerPlugin.save_state` / :meth:`~LearnerPlugin.load_state`;
* what the experiments layer must know: ``parallel_cells``, ``needs_arms_file``,
  ``default_checkpoint_every``, :meth:`~LearnerPlugin.resources` (one Ray task's ask),
  :meth:`~LearnerPlugin.describe` (tables and reports).

The built-ins are ``simulated`` (:mod:`.learner_simulated`) and ``grpo``
(:mod:`.learner_grpo`). Every ``learner_*.py`` module of this package is imported on
the first lookup, so a new learner is one new file; entry points ``sparft.learners``
add one from an installed distribution. A plugin module imports its heavy libraries
inside its methods: listing the learners stays light.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from sparft.registry import Entry, Registry, param_rows, subclass_check

if TYPE_CHECKING:
    from sparft.curricula.arms import ArmSet
    from sparft.curricula.examples import Example
    from sparft.experiments.config import ExperimentConfig, LearnerConfig

__all__ = ["LEARNERS", "LearnerData", "LearnerPlugin", "learner_plugin", "register"]


@dataclass(frozen=True)
class LearnerData:
    """What a learner is built on: the run's arms and its examples (loaded on first call)."""

    arms: ArmSet
    #: the training pool (``data.source``, capped by ``data.n_train``)
    train: Callable[[], list[Example]]
    #: the fixed held-out set, the same for every run of a benchmark
    test: Callable[[], list[Example]]


class LearnerPlugin:
    """What sparft knows about one kind of learner (subclass it, register it by name).

    Class attributes say how the experiments layer treats the learner; the methods
    have defaults that suit a cheap, in-process learner whose whole state is JSON.
    """

    name: ClassVar[str] = ""
    #: the hyperparameter dataclass of ``learner.params`` (fields carry ``help``)
    Params: ClassVar[type]
    #: bench cells of this learner may run in parallel worker processes on one machine
    #: (False: one at a time, and the bench's table is refreshed after each cell)
    parallel_cells: ClassVar[bool] = True
    #: with ``data.arms: null`` the learner brings its own arms (:meth:`own_arms`);
    #: otherwise the arms are clustered from ``data.source``
    has_own_arms: ClassVar[bool] = False
    #: a bench keeps the arms its cells trained on in ``arms.json`` (costly to rebuild;
    #: ``sparft calibrate`` fits to them)
    needs_arms_file: ClassVar[bool] = False
    #: checkpoint every this many steps when ``run.checkpoint_every`` is null
    default_checkpoint_every: ClassVar[int] = 1
    #: :meth:`save_state` works without a checkpoint folder (the whole state is JSON)
    inline_state: ClassVar[bool] = True
    #: config sections (plain data) that make this learner run a few steps in seconds, on
    #: top of the contract test's tiny config (tests/experiments/test_learners.py); a
    #: ``model: tiny`` there is the test's random tiny Llama
    smoke: ClassVar[Mapping[str, Any]] = {}

    # ------------------------------------------------------------ resolution
    def resolve(self, cfg: ExperimentConfig) -> LearnerConfig:
        """The ``learner`` section checked, with every field of ``Params`` filled in."""
        from sparft.experiments import typed

        params = typed.from_dict(self.Params, cfg.learner.params, "learner.params")
        return dataclasses.replace(cfg.learner, params=typed.to_dict(params))

    # ------------------------------------------------------------ building
    def own_arms(self, cfg: ExperimentConfig) -> ArmSet:
        """The arms the learner brings (only asked when ``has_own_arms``)."""
        raise NotImplementedError(f"learner {self.name!r} brings no arms of its own")

    def build(self, cfg: ExperimentConfig, data: LearnerData, seed: int) -> Any:
        """A new learner for one run of ``cfg`` with seed ``seed`` (not reset yet)."""
        raise NotImplementedError

    # ------------------------------------------------------------ checkpoints
    def save_state(self, learner: Any, checkpoint_dir: Path | None, step: int) -> dict[str, Any]:
        """The learner's state for a checkpoint (JSON-able; files go under ``checkpoint_dir``)."""
        from sparft.fileio import to_jsonable

        del checkpoint_dir, step
        return {"inline": to_jsonable(learner.state_dict(), nonfinite="keep")}

    def load_state(
        self, learner: Any, state: Mapping[str, Any], checkpoint_dir: Path | None
    ) -> None:
        """Restore what :meth:`save_state` returned."""
        del checkpoint_dir
        learner.load_state_dict(state["inline"])

    # ------------------------------------------------------------ the experiments layer
    def resources(
        self, cfg: ExperimentConfig, nodes: Sequence[Mapping[str, float]]
    ) -> dict[str, Any]:
        """What one cell (or trial) asks of a Ray node: ``num_cpus``, ``num_gpus``, ``memory``;
        ``nodes`` are the alive nodes' resources (``ray.nodes()[i]["Resources"]``)."""
        del cfg, nodes
        return {"num_cpus": 1}

    def label(self, cfg: ExperimentConfig) -> str:
        """What is trained, in a word or two (a preset, a model)."""
        del cfg
        return self.name

    def describe(self, cfg: ExperimentConfig) -> str:
        """``"<kind> learner (<label>)"``, for tables and reports."""
        return f"{self.name} learner ({self.label(cfg)})"


def _row(entry: Entry[type[LearnerPlugin]]) -> dict[str, Any]:
    plugin = entry.target
    return {
        "name": entry.name,
        "summary": entry.summary,
        "source": entry.source,
        "parallel_cells": plugin.parallel_cells,
        "has_own_arms": plugin.has_own_arms,
        "params": param_rows(plugin.Params),
    }


#: Every kind of learner, by the name ``learner.kind`` gives.
LEARNERS: Registry[type[LearnerPlugin]] = Registry(
    "learner",
    listing="sparft plugins learner",
    modules=("sparft.experiments", "learner_"),
    check=subclass_check(
        LearnerPlugin, "sparft.experiments.learners.LearnerPlugin", "the dataclass of learner.params"
    ),
    row=_row,
    alternatives="'package.module:Plugin'",
)


def register(name: str) -> Callable[[type[LearnerPlugin]], type[LearnerPlugin]]:
    """Class decorator: register a :class:`LearnerPlugin` as ``learner.kind: name``."""
    return LEARNERS.register(name)


def learner_plugin(kind: str | ExperimentConfig) -> LearnerPlugin:
    """The plugin of a learner kind (or of a config's ``learner.kind``); unknown kinds
    raise the registry's one-line error."""
    if not isinstance(kind, str):
        kind = kind.learner.kind
    try:
        return LEARNERS.get(kind)()
    except ValueError as e:
        raise ValueError(f"learner.kind: {e}") from None
