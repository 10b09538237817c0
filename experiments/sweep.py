"""Optuna sweeps over a config's declared search space, resumable and safe with many workers.

``sweep.space`` maps config paths to ranges::

    sweep:
      space:
        strategy.params.prior_std: {low: 0.05, high: 2.0, log: true}
        strategy.params.target: {}        # {} or 'auto': the range the Params field declares
        data.cluster.k: {low: 4, high: 12}
        strategy.params: auto             # every field of the strategy that declares a range

A path must name a field of the config or of the dataclass that owns it (the
strategy's ``Params``, ``SimParams``, ``ClusterConfig``...); the field's type
picks ``suggest_float`` / ``suggest_int`` / ``suggest_categorical``. A trial
runs the config with the drawn values on ``sweep.seeds`` seeds (the same seeds
for every trial, so trials are paired), reporting after each seed: the running
mean for the median pruner, the seed's own score (``step = seed index``) for the
Wilcoxon pruner, which pairs the same instances across trials.

Storage (``--storage`` or ``sweep.storage``): an SQLite file in the sweep folder
by default; ``journal:PATH`` for Optuna's journal file (several processes on one
machine, ``JournalFileBackend``); any RDB URL (``postgresql://...``) for
workers on many machines. ``--executor ray`` runs the trials as Ray tasks against
that storage, filling a cluster from one command (:mod:`sparft.experiments.executors`).

**Exactly N complete trials, with any number of workers, across kills.** A
worker starts a trial only while ``COMPLETE + RUNNING < N`` (or a re-queued trial
waits). Because two workers can pass that check at once, a trial first counts
the COMPLETE, RUNNING and WAITING trials numbered below it (numbers are
allocated atomically by the storage); if N of them exist it is surplus and ends
at once as PRUNED with the user attribute ``surplus``. Each running trial writes
a heartbeat (a user attribute) every ``heartbeat_interval`` seconds; a RUNNING
trial whose heartbeat is older than ``grace_period`` belonged to a killed worker:
it is marked FAIL and its parameters are re-queued (user attribute
``retry_of``), so a kill loses no trial and counts none twice. Optuna's own
heartbeat only exists for RDB storages, hence this one, which works on all.

Sampling is seeded per trial: trial ``n`` draws with a sampler seeded by
``sweep.seed + n``, so a single-worker sweep is reproducible, a resumed one
continues its sequence, and parallel workers never draw identical values.
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sparft.experiments import typed
from sparft.experiments.config import ExperimentConfig, load_config
from sparft.experiments.space import Dim, search_space  # noqa: F401 - sweep.search_space, as before

OBJECTIVES = ("final_accuracy", "auc", "final_solve_rate")


def trial_config(cfg: ExperimentConfig, values: Mapping[str, Any]) -> ExperimentConfig:
    """``cfg`` with the drawn values set (re-validated like a config file)."""
    data = cfg.to_dict()
    for path, value in values.items():
        typed.set_path(data, path.split("."), value)
    return load_config(data=data, check_files=False)


# ================================================================ objective
def score(result: Mapping[str, Any], objective: str) -> float:
    """A run's score for ``sweep.objective`` (from :meth:`EpisodeResult.to_dict`)."""
    from sparft.experiments.stats import auc

    if objective == "final_accuracy":
        return float(result["final_accuracy"])
    if objective == "final_solve_rate":
        return float(result["final_solve_rate"])
    if objective == "auc":
        return auc([0, *result["eval_steps"]], [result["initial_accuracy"], *result["accuracy"]])
    raise ValueError(f"sweep.objective {objective!r} is not one of {', '.join(OBJECTIVES)}")


def make_sampler(cfg: ExperimentConfig, seed: int) -> Any:
    import optuna

    if cfg.sweep.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


def make_pruner(cfg: ExperimentConfig) -> Any:
    import optuna

    if cfg.sweep.pruner == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=0)
    if cfg.sweep.pruner == "wilcoxon":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return optuna.pruners.WilcoxonPruner(p_threshold=0.1, n_startup_steps=2)
    return optuna.pruners.NopPruner()


def make_storage(url: str) -> Any:
    """An Optuna storage for ``url``: ``journal:PATH`` or an RDB URL (SQLite, PostgreSQL, ...)."""
    import optuna

    if url.startswith("journal:"):
        from optuna.storages.journal import JournalFileBackend

        path = Path(url[len("journal:") :]).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        return optuna.storages.JournalStorage(JournalFileBackend(str(path)))
    if "://" not in url:
        raise ValueError(
            f"storage {url!r}: use journal:PATH, sqlite:///PATH or an RDB URL such as postgresql://user@host/db"
        )
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///") :]).expanduser().parent.mkdir(parents=True, exist_ok=True)
    kwargs = None if url.startswith("sqlite") else {"pool_pre_ping": True}
    # Workers started together on an empty database race to create Optuna's tables;
    # the losers see a duplicate-key error and succeed on a second try.
    for attempt in range(5):
        try:
            return optuna.storages.RDBStorage(url, engine_kwargs=kwargs)
        except Exception as e:  # noqa: BLE001 - one line for any driver's error
            error = e
            if not any(w in str(e) for w in ("duplicate key", "already exists", "UNIQUE constraint")):
                break
            time.sleep(0.5 * (attempt + 1))
    raise ValueError(f"cannot open storage {url}: {str(error).splitlines()[0]}") from None


class _Heartbeat:
    """Writes ``heartbeat = time.time()`` on a trial every ``interval`` seconds from a thread."""

    def __init__(self, storage: Any, trial_id: int, interval: float) -> None:
        self._storage, self._trial_id, self._interval = storage, trial_id, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _beat(self) -> None:
        # A finished trial or a storage hiccup: the next beat retries.
        with contextlib.suppress(Exception):
            self._storage.set_trial_user_attr(self._trial_id, "heartbeat", time.time())

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._beat()

    def __enter__(self) -> _Heartbeat:
        self._beat()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _started(trial: Any) -> float:
    hb = trial.user_attrs.get("heartbeat")
    if hb is not None:
        return float(hb)
    if trial.datetime_start is not None:
        return trial.datetime_start.timestamp()
    return time.time()


def fail_stale_trials(study: Any, grace_period: float) -> list[int]:
    """Mark RUNNING trials of dead workers FAIL and re-queue their parameters; returns their numbers."""
    from optuna.trial import TrialState

    now = time.time()
    failed = []
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if now - _started(t) <= grace_period:
            continue
        try:
            study._storage.set_trial_user_attr(t._trial_id, "failed_by", "stale heartbeat")
            ok = study._storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
        except Exception:  # noqa: BLE001 - another worker failed it first
            continue
        if ok is False:
            continue
        study.enqueue_trial(dict(t.params), user_attrs={"retry_of": t.number}, skip_if_exists=False)
        failed.append(t.number)
    return failed


@dataclass
class SweepContext:
    cfg: ExperimentConfig
    dims: list[Dim]
    n_trials: int
    study_name: str
    sweep_dir: Path
    wandb_mode: str = "disabled"
    on_trial: Callable[[Any], None] | None = None


def objective_fn(ctx: SweepContext) -> Callable[[Any], float]:
    import optuna
    from optuna.trial import TrialState

    from sparft.experiments.runner import run_episode
    from sparft.experiments.tracking import Tracker

    cfg = ctx.cfg

    def objective(trial: Any) -> float:
        study = trial.study
        with _Heartbeat(study._storage, trial._trial_id, cfg.sweep.heartbeat_interval):
            active = study.get_trials(
                deepcopy=False, states=(TrialState.COMPLETE, TrialState.RUNNING, TrialState.WAITING)
            )
            if sum(t.number < trial.number for t in active) >= ctx.n_trials:
                trial.set_user_attr("surplus", True)
                raise optuna.TrialPruned("surplus: the study already has its trials")
            trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}")
            study.sampler = make_sampler(cfg, cfg.sweep.seed + trial.number)
            values = {d.path: d.suggest(trial) for d in ctx.dims}
            tcfg = trial_config(cfg, values)
            tracker = Tracker(
                ctx.wandb_mode,
                project=cfg.wandb.project,
                entity=cfg.wandb.entity,
                name=f"{ctx.study_name}-trial{trial.number}",
                config={**tcfg.to_dict(), "trial": {"number": trial.number, **values}},
                directory=ctx.sweep_dir,
                group=ctx.study_name,
                job_type="trial",
                tags=cfg.wandb.tags,
            )
            scores: list[float] = []
            try:
                for i in range(cfg.sweep.seeds):
                    res = run_episode(tcfg, seed=i).to_dict()
                    s = score(res, cfg.sweep.objective)
                    scores.append(s)
                    tracker.log({"seed_score": s, "mean_score": float(np.mean(scores))}, step=i)
                    trial.report(s if cfg.sweep.pruner == "wilcoxon" else float(np.mean(scores)), i)
                    if i < cfg.sweep.seeds - 1 and trial.should_prune():
                        trial.set_user_attr("scores", scores)
                        raise optuna.TrialPruned(f"pruned after {i + 1} seeds")
                trial.set_user_attr("scores", scores)
                value = float(np.mean(scores))
                tracker.summary({"value": value})
                return value
            finally:
                tracker.finish()

    return objective


def count_states(study: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for t in study.get_trials(deepcopy=False):
        counts[t.state.name] = counts.get(t.state.name, 0) + 1
    return counts


def run_worker(
    ctx: SweepContext, storage: Any, stop: threading.Event | None = None, max_trials: int | None = None
) -> int:
    """Run trials until the study has ``n_trials`` COMPLETE ones (see the module docstring),
    or until this worker has run ``max_trials``; returns how many it ran."""
    import optuna
    from optuna.trial import TrialState

    cfg = ctx.cfg
    study = optuna.load_study(
        study_name=ctx.study_name,
        storage=storage,
        sampler=make_sampler(cfg, cfg.sweep.seed),
        pruner=make_pruner(cfg),
    )
    objective = objective_fn(ctx)
    ran = 0
    while (stop is None or not stop.is_set()) and (max_trials is None or ran < max_trials):
        fail_stale_trials(study, cfg.sweep.grace_period)
        trials = study.get_trials(deepcopy=False)
        complete = sum(t.state == TrialState.COMPLETE for t in trials)
        running = sum(t.state == TrialState.RUNNING for t in trials)
        waiting = sum(t.state == TrialState.WAITING for t in trials)
        if complete >= ctx.n_trials:
            break
        if waiting == 0 and complete + running >= ctx.n_trials:
            # Enough trials are running elsewhere; wait for them (or for their heartbeats to stop).
            time.sleep(min(1.0, cfg.sweep.heartbeat_interval))
            continue
        study.optimize(objective, n_trials=1, catch=(), gc_after_trial=False, show_progress_bar=False)
        ran += 1
        if ctx.on_trial is not None:
            ctx.on_trial(study)
    return ran


def open_study(cfg: ExperimentConfig, storage: Any, study_name: str) -> Any:
    import optuna

    direction = cfg.sweep.direction
    try:
        study = optuna.create_study(
            study_name=study_name, storage=storage, direction=direction, load_if_exists=True,
            sampler=make_sampler(cfg, cfg.sweep.seed),
        )
    except Exception as e:  # noqa: BLE001
        raise ValueError(f"cannot open study {study_name!r}: {str(e).splitlines()[0]}") from None
    if study.direction.name.lower() != direction:
        raise ValueError(
            f"study {study_name!r} exists with direction {study.direction.name.lower()}, "
            f"but sweep.direction is {direction}; use another --study"
        )
    study.set_user_attr("objective", cfg.sweep.objective)
    return study


def run_sweep(
    ctx: SweepContext, storage: Any, n_jobs: int | None = 1, executor: Any = None, url: str | None = None
) -> Any:
    """Run ``n_jobs`` workers in this process (threads, each with its own Study object).

    With a Ray ``executor`` (:class:`~sparft.experiments.executors.RayExecutor`) the
    trials are Ray tasks instead, ``n_jobs`` at once (None: as many as the cluster holds),
    each opening the storage at ``url`` itself: an RDB URL, or a file every node sees.
    """
    open_study(ctx.cfg, storage, ctx.study_name)
    if executor is not None:
        if url is None:
            raise ValueError("a sweep on Ray needs the storage URL, which every task opens")
        executor.run_trials(ctx, url, n_jobs)
    elif n_jobs is None or n_jobs == 1:
        run_worker(ctx, storage)
    else:
        errors: list[BaseException] = []

        def target() -> None:
            try:
                run_worker(ctx, storage)
            except BaseException as e:  # noqa: BLE001 - re-raised in the caller
                errors.append(e)

        threads = [threading.Thread(target=target) for _ in range(n_jobs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
    import optuna

    return optuna.load_study(study_name=ctx.study_name, storage=storage)


# ================================================================ outputs
def best_values(study: Any, dims: Sequence[Dim]) -> dict[str, Any]:
    best = study.best_trial
    return {d.path: best.params[d.path] for d in dims if d.path in best.params}


def compare_default_and_best(
    cfg: ExperimentConfig, best_cfg: ExperimentConfig, seeds: Sequence[int]
) -> dict[str, Any]:
    """Score the default and the best config on fresh seeds (not the ones the sweep chose on)."""
    from sparft.experiments.runner import run_episode
    from sparft.experiments.stats import bootstrap_ci, welch

    out: dict[str, Any] = {"seeds": list(seeds), "objective": cfg.sweep.objective}
    scores = {}
    for label, c in (("default", cfg), ("best", best_cfg)):
        s = [score(run_episode(c, seed=int(sd)).to_dict(), cfg.sweep.objective) for sd in seeds]
        scores[label] = s
        low, high = bootstrap_ci(s)
        out[label] = {"mean": float(np.mean(s)), "ci_low": low, "ci_high": high, "scores": s}
    w = welch(scores["best"], scores["default"])
    out["welch"] = {"diff": w.diff, "t": w.t, "p": w.p}
    return out


def trials_table(study: Any) -> list[dict[str, Any]]:
    rows = []
    for t in study.get_trials(deepcopy=False):
        rows.append(
            {
                "number": t.number,
                "state": t.state.name,
                "value": t.value if t.values else math.nan,
                **{f"param:{k}": v for k, v in t.params.items()},
                "retry_of": t.user_attrs.get("retry_of"),
                "surplus": bool(t.user_attrs.get("surplus", False)),
            }
        )
    return rows


def optuna_plots(study: Any, out: Path) -> list[Path]:
    """History, importances and parallel coordinates (optuna.visualization.matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from optuna.trial import TrialState
    from optuna.visualization import matplotlib as ovm

    from sparft.fileio import atomic_write_bytes

    written = []
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    makers = [("history.png", ovm.plot_optimization_history)]
    if len(complete) >= 2 and complete[0].params:
        makers += [("importances.png", ovm.plot_param_importances), ("parallel.png", ovm.plot_parallel_coordinate)]
    for name, fn in makers:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                ax = fn(study)
            except (ValueError, RuntimeError, ZeroDivisionError) as e:  # e.g. a single distinct value
                warnings.warn(f"skipped {name}: {e}", stacklevel=2)
                continue
        fig = ax.figure if hasattr(ax, "figure") else np.ravel(ax)[0].figure
        fig.set_size_inches(9, 5.5)
        fig.tight_layout()
        import io

        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110)
        plt.close(fig)
        written.append(atomic_write_bytes(out / name, buf.getvalue()))
    return written
