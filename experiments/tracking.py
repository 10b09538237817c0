"""Weights & Biases, only when asked for, one W&B run per sparft run or trial.

Every run writes its JSONL metrics locally whatever happens here; W&B is a
mirror. ``offline`` is the default (runs are kept under the run folder's
``wandb/`` and uploaded later with ``wandb sync``), ``online`` streams,
``disabled`` never imports wandb at all (the tests' setting). The mode is
chosen, most specific first, by ``--wandb``, then the ``WANDB_MODE``
environment variable, then the config's ``wandb.mode``.

Runs of one benchmark share ``group = <bench name>`` and trials of one Optuna
study share ``group = <study name>``; the logged config is the resolved config
(plain data from the dataclasses), so W&B's run table can filter by any
hyperparameter. Optuna's own ``WeightsAndBiasesCallback`` is deprecated
(optuna-integration 4.9), so sweeps log from inside the objective instead.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

WANDB_MODES = ("online", "offline", "disabled")


def resolve_mode(flag: str | None, config_mode: str) -> str:
    for candidate in (flag, os.environ.get("WANDB_MODE"), config_mode):
        if candidate:
            if candidate not in WANDB_MODES:
                raise ValueError(
                    f"W&B mode {candidate!r} is not one of {', '.join(WANDB_MODES)} "
                    "(set it with --wandb, WANDB_MODE or wandb.mode)"
                )
            return candidate
    return "offline"


class Tracker:
    """A W&B run, or a no-op when ``mode == "disabled"``."""

    def __init__(
        self,
        mode: str,
        project: str,
        name: str,
        config: Mapping[str, Any],
        directory: str | os.PathLike[str],
        group: str | None = None,
        job_type: str | None = None,
        entity: str | None = None,
        tags: Sequence[str] = (),
        run_id: str | None = None,
    ) -> None:
        self.mode = mode
        self.run = None
        if mode == "disabled":
            return
        import wandb  # heavy: only when tracking is on

        Path(directory).mkdir(parents=True, exist_ok=True)
        self.run = wandb.init(
            mode=mode,
            project=project,
            entity=entity,
            name=name,
            group=group,
            job_type=job_type,
            tags=list(tags) or None,
            config=dict(config),
            dir=str(directory),
            id=run_id,
            resume="allow" if run_id else None,
            reinit="create_new",
            settings=wandb.Settings(silent=True, console="off", x_disable_stats=True),
        )

    @property
    def run_id(self) -> str | None:
        return None if self.run is None else self.run.id

    def log(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        if self.run is not None:
            self.run.log(
                {k: v for k, v in metrics.items() if isinstance(v, int | float) and v is not None},
                step=step,
            )

    def summary(self, values: Mapping[str, Any]) -> None:
        if self.run is not None:
            for k, v in values.items():
                self.run.summary[k] = v

    def finish(self, exit_code: int = 0) -> None:
        if self.run is not None:
            self.run.finish(exit_code=exit_code)
            self.run = None

    def __enter__(self) -> Tracker:
        return self

    def __exit__(self, exc_type, *rest) -> None:
        self.finish(exit_code=0 if exc_type is None else 1)
