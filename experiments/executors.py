"""Executors: where the cells of a bench, and the trials of a sweep, run.

An executor takes cell jobs and hands back each finished cell's result as it
arrives; the driver (:func:`sparft.experiments.bench.execute`) alone writes it,
atomically, into the bench folder. So resuming, ``--report-only`` and the table are
the same whichever executor ran the cells.

* :class:`LocalExecutor`: this process, or a pool of ``workers`` processes on this machine.
* :class:`RayExecutor`: one Ray task per cell on a Ray cluster (verl, OpenRLHF and Ray
  Tune run on Ray too), each asking for the resources its learner needs
  (:func:`learner_resources`); sweeps run their trials as Ray tasks against the
  study's storage, with Optuna still the optimiser (:meth:`RayExecutor.run_trials`).

Faults on Ray: a task whose worker process or node dies is run again elsewhere by Ray
(``max_retries``; lineage reconstruction also re-runs a task whose stored result was on
the dead node). A cell's result reaches the driver once per task whatever the attempts,
and the driver writes it with one rename: no cell is lost, written twice or half
written. A driver killed even by SIGKILL leaves only whole cells (its tasks die with
its Ray job), and the same command on the same folder runs the missing ones.

Ray is an optional extra (``pip install 'sparft[ray]'``), imported only here, only
when a Ray executor is used.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import multiprocessing as mp
import os
import signal
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sparft.experiments.learners import learner_plugin
from sparft.registry import Registry

if TYPE_CHECKING:
    from sparft.experiments.config import ExperimentConfig, StrategyConfig

#: object store of a Ray instance that a bench starts on this machine (no --address)
LOCAL_OBJECT_STORE = 256 * 1024**2


@dataclass(frozen=True)
class CellJob:
    """One (strategy, seed) cell to run; ``path`` is where the driver writes its result."""

    strategy: StrategyConfig
    seed: int
    path: Path
    wandb_mode: str = "disabled"
    group: str = ""

    @property
    def label(self) -> str:
        return self.strategy.display


class Executor(Protocol):
    name: str

    def run(self, cfg: ExperimentConfig, jobs: Sequence[CellJob]) -> Iterator[tuple[CellJob, dict[str, Any]]]:
        """Run ``jobs``; yield (job, result) for each as it finishes, in any order."""
        ...

    def describe(self) -> str:
        """Where the cells run, for the progress bar."""
        ...

    def close(self) -> None: ...


#: Every executor, by name: a factory ``(workers=, address=) -> Executor``; entry points
#: ``sparft.executors`` add one from outside.
EXECUTORS: Registry[Callable[..., Executor]] = Registry(
    "executor", listing="sparft plugins executor", alternatives="'package.module:factory'"
)


def make_executor(kind: str, workers: int = 1, address: str | None = None) -> Executor:
    """The executor named ``kind`` (``local``, ``ray`` or a plugin's)."""
    return EXECUTORS.make(kind, workers=workers, address=address)


# ================================================================ resources
def learner_resources(cfg: ExperimentConfig, nodes: Sequence[Mapping[str, float]] = ()) -> dict[str, Any]:
    """What one cell (or trial) of ``cfg`` asks Ray for: ``num_cpus``, ``num_gpus``, ``memory``.

    ``nodes`` are the alive nodes' resources (``ray.nodes()[i]["Resources"]``); the
    learner's plugin decides (:meth:`~sparft.experiments.learners.LearnerPlugin.resources`):
    a simulated learner takes 1 CPU; a GRPO learner on a GPU (``learner.policy.device``
    ``cuda``, or ``auto`` on a cluster with GPUs) 1 GPU; on CPU every CPU of the
    largest node.
    """
    return learner_plugin(cfg).resources(cfg, nodes)


def slots(resources: Mapping[str, Any], nodes: Sequence[Mapping[str, float]]) -> int:
    """How many tasks asking ``resources`` the ``nodes`` can run at once."""
    need = {"CPU": resources.get("num_cpus", 1), "GPU": resources.get("num_gpus", 0),
            "memory": resources.get("memory", 0)}
    total = 0
    for node in nodes:
        fits = [math.floor(node.get(k, 0) / v) for k, v in need.items() if v]
        total += min(fits) if fits else 0
    return total


# ================================================================ local
_WORKER_CFG: ExperimentConfig | None = None


def _init_worker(cfg: ExperimentConfig) -> None:
    global _WORKER_CFG
    _WORKER_CFG = cfg
    _die_with_parent()


def _die_with_parent() -> None:
    """Linux: a worker gets SIGTERM when the bench process dies (even by SIGKILL), so none is orphaned."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
        if os.getppid() == 1:  # the parent died before prctl took effect
            os._exit(1)
    except (OSError, AttributeError):
        pass


def _pool_cell(job: CellJob) -> dict[str, Any]:
    from sparft.experiments.bench import cell_result

    assert _WORKER_CFG is not None
    return cell_result(_WORKER_CFG, job)


class LocalExecutor:
    """Cells in this process (``workers=1``) or in a pool of worker processes on this machine."""

    name = "local"

    def __init__(self, workers: int = 1) -> None:
        self.workers = workers

    def describe(self) -> str:
        return f"local, {self.workers} worker{'s' if self.workers != 1 else ''}"

    def close(self) -> None:
        pass

    def run(self, cfg: ExperimentConfig, jobs: Sequence[CellJob]) -> Iterator[tuple[CellJob, dict[str, Any]]]:
        from sparft.experiments.bench import cell_result

        workers = self.workers
        if not learner_plugin(cfg).parallel_cells and workers > 1:
            print(f"sparft bench: a {cfg.learner.kind} learner runs one cell at a time (workers=1)", file=sys.stderr)
            workers = self.workers = 1
        if workers <= 1 or len(jobs) <= 1:
            for job in jobs:
                yield job, cell_result(cfg, job)
            return
        method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=mp.get_context(method), initializer=_init_worker, initargs=(cfg,),
        ) as pool:
            futures = {pool.submit(_pool_cell, job): job for job in jobs}
            try:
                for f in as_completed(futures):
                    yield futures[f], f.result()  # re-raises a worker's error here
            except BaseException:  # an error, Ctrl-C, or the driver stopped reading
                pool.shutdown(wait=False, cancel_futures=True)
                raise


# ================================================================ ray
def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ValueError(
            "--executor ray needs Ray: pip install 'sparft[ray]' (or 'ray[default]')"
        ) from None
    return ray


def _ray_cell(cfg: ExperimentConfig, job: CellJob) -> dict[str, Any]:
    """A cell as a Ray task: computed on a worker, returned to the driver (which writes it)."""
    import ray

    from sparft.experiments.bench import cell_result

    res = cell_result(cfg, job)
    res.setdefault("provenance", {})["ray_node"] = ray.get_runtime_context().get_node_id()
    return res


def _ray_trial(ctx: Any, url: str) -> int:
    """A sweep trial as a Ray task: one trial of the study at ``url`` (or none, if it has its trials)."""
    import optuna

    from sparft.experiments import sweep

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # the driver prints one line per trial
    return sweep.run_worker(ctx, sweep.make_storage(url), max_trials=1)


class RayExecutor:
    """Cells (and sweep trials) as Ray tasks on the cluster at ``address``.

    ``address``: ``host:port`` of a running cluster, ``auto`` (the one ``ray start``
    made on this machine), or ``ray://...`` (Ray Client); unset, the ``RAY_ADDRESS``
    environment variable (set by ``ray job submit``), else a Ray instance started
    here for this command with ``workers`` CPUs and a small object store.
    ``resources`` replaces :func:`learner_resources` for every task.
    """

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        *,
        workers: int | None = None,
        max_retries: int = 3,
        resources: Mapping[str, Any] | None = None,
        object_store_memory: int = LOCAL_OBJECT_STORE,
        include_dashboard: bool | None = None,
    ) -> None:
        self.address = address
        self.workers = workers
        self.max_retries = max_retries
        self.resources = dict(resources) if resources is not None else None
        self.object_store_memory = object_store_memory
        self.include_dashboard = include_dashboard
        self._owned = False

    # -------------------------------------------------------------- connection
    def connect(self) -> Any:
        """Join (or start) the cluster once; returns the ``ray`` module."""
        ray = _import_ray()
        if ray.is_initialized():
            return ray
        address = self.address or os.environ.get("RAY_ADDRESS") or None
        if address:
            ray.init(address=address)
        else:
            ray.init(
                address="local",
                num_cpus=self.workers or os.cpu_count(),
                object_store_memory=self.object_store_memory,
                include_dashboard=self.include_dashboard,
                dashboard_host="127.0.0.1",
            )
        self._owned = True
        return ray

    def close(self) -> None:
        """Leave the cluster if this executor joined it (stopping the instance it started)."""
        if self._owned:
            import ray

            ray.shutdown()
            self._owned = False

    def nodes(self) -> list[dict[str, float]]:
        ray = self.connect()
        return [dict(n["Resources"]) for n in ray.nodes() if n.get("Alive")]

    def describe(self) -> str:
        n = len(self.nodes())
        return f"ray, {n} node{'s' if n != 1 else ''}"

    def task_resources(self, cfg: ExperimentConfig) -> dict[str, Any]:
        nodes = self.nodes()
        res = dict(self.resources) if self.resources is not None else learner_resources(cfg, nodes)
        if nodes and not slots(res, nodes):
            # An autoscaling cluster may still add such a node, so this is said, not refused.
            print(f"sparft: no node of this Ray cluster has {res} now; the tasks wait for one", file=sys.stderr)
        return res

    # -------------------------------------------------------------- cells
    def run(self, cfg: ExperimentConfig, jobs: Sequence[CellJob]) -> Iterator[tuple[CellJob, dict[str, Any]]]:
        if not jobs:
            return
        ray = self.connect()
        task = ray.remote(_ray_cell)
        opts = {**self.task_resources(cfg), "max_retries": self.max_retries, "retry_exceptions": False}
        cfg_ref = ray.put(cfg)
        by_ref = {
            task.options(**opts, name=f"cell:{job.label}:seed{job.seed:03d}").remote(cfg_ref, job): job
            for job in jobs
        }
        pending = list(by_ref)
        try:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                for ref in done:
                    # One result per task, however many attempts Ray made: written once by the caller.
                    yield by_ref[ref], ray.get(ref)
        finally:
            _cancel(ray, pending)

    # -------------------------------------------------------------- sweeps
    def run_trials(self, ctx: Any, url: str, n_jobs: int | None = None) -> None:
        """Fill the cluster with sweep trials (one Ray task each) until the study has its trials.

        ``n_jobs`` trials run at once (default: as many as the cluster has room for).
        Each task runs :func:`sparft.experiments.sweep.run_worker` for one trial against
        the storage at ``url``, so the sweep's own rules hold: exactly ``ctx.n_trials``
        COMPLETE trials, and a trial of a dead worker or node is failed by its stale
        heartbeat and re-queued.
        """
        import optuna

        from sparft.experiments import sweep

        ray = self.connect()
        if url.startswith(("sqlite", "journal:")) and len({_host(n) for n in ray.nodes() if n.get("Alive")}) > 1:
            print(f"sparft sweep: storage {url} is a file: every Ray node must see it (a shared file "
                  "system); else use an RDB URL such as postgresql://...", file=sys.stderr)
        res = self.task_resources(ctx.cfg)
        width = n_jobs or max(1, slots(res, self.nodes()))
        width = max(1, min(width, ctx.n_trials))
        task = ray.remote(_ray_trial)
        opts = {**res, "max_retries": self.max_retries, "retry_exceptions": False, "name": f"trial:{ctx.study_name}"}
        ctx_ref = ray.put(dataclasses.replace(ctx, on_trial=None))
        study = optuna.load_study(study_name=ctx.study_name, storage=sweep.make_storage(url))

        def submit() -> Any:
            return task.options(**opts).remote(ctx_ref, url)

        pending = [submit() for _ in range(width)]
        try:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                ran = ray.get(done[0])
                if ran and ctx.on_trial is not None:
                    ctx.on_trial(study)
                if sweep.count_states(study).get("COMPLETE", 0) < ctx.n_trials:
                    pending.append(submit())
        finally:
            _cancel(ray, pending)


def _host(node: Mapping[str, Any]) -> str:
    return str(node.get("NodeManagerAddress", ""))


def _cancel(ray: Any, refs: Sequence[Any]) -> None:
    for ref in refs:
        with contextlib.suppress(Exception):  # finished or already gone: nothing to cancel
            ray.cancel(ref)


@EXECUTORS.register("local")
def local_executor(workers: int = 1, address: str | None = None) -> LocalExecutor:
    """Cells in this process (workers=1) or in a pool of worker processes on this machine."""
    if address:
        raise ValueError("--address names a Ray cluster; give --executor ray with it")
    return LocalExecutor(workers)


@EXECUTORS.register("ray")
def ray_executor(workers: int = 1, address: str | None = None) -> RayExecutor:
    """One Ray task per cell on a Ray cluster (--address, RAY_ADDRESS, or one started here)."""
    return RayExecutor(address=address, workers=workers)
