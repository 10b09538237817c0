"""Ray as the executor of `sparft bench` and `sparft sweep`, on a real two-node cluster on loopback.

The cluster (Ray's own multi-node harness, ``ray.cluster_utils.Cluster``: a head and a
second node, 1 CPU and a 200 MB object store each, no dashboard) is started once for
the module and stopped by it. Each test checks what the issue asks of the executor:
the same cells as the local executor for the same seeds, and every cell exactly once
when a worker process dies, when the second node dies, and when the driver is killed.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from pathlib import Path

import pytest

from sparft.experiments import bench
from sparft.experiments.config import load_config, strategy_of
from sparft.experiments.executors import learner_resources, slots

NODE = {"num_cpus": 1, "object_store_memory": 200 * 1024**2, "node_ip_address": "127.0.0.1"}
#: A dead node is noticed in about 3 s instead of Ray's default 30 s or so.
FAST_HEALTH = {"health_check_period_ms": 1000, "health_check_failure_threshold": 3,
               "health_check_timeout_ms": 1000}
#: Ray turns a 127.0.0.1 address into the machine's outward IP before connecting
#: (ray-project/ray#59110), where a loopback-only cluster does not listen; this flag,
#: meant for single-machine platforms, makes it keep loopback. The driver subprocess gets it too.
LOOPBACK_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
# Cells of about a second on two busy cores: long enough to kill something mid-cell.
SLOW_ENV = {"budget": 3000, "batch_size": 8, "group_size": 8, "eval_every": 500}
STRATEGIES = ("uniform", "learnability")


@pytest.fixture(scope="module")
def cluster():
    ray = pytest.importorskip("ray")
    from ray._private import ray_constants
    from ray.cluster_utils import Cluster

    mp = pytest.MonkeyPatch()
    for k, v in LOOPBACK_ENV.items():
        mp.setenv(k, v)
    mp.setenv("RAY_DEDUP_LOGS", "0")
    mp.setattr(ray_constants, "ENABLE_RAY_CLUSTER", False)
    c = Cluster(initialize_head=True, head_node_args={**NODE, "include_dashboard": False,
                                                        "_system_config": FAST_HEALTH})
    try:
        c.add_node(**NODE)
        c.wait_for_nodes()
        ray.init(address=c.address)
        yield c
    finally:
        ray.shutdown()
        c.shutdown()
        mp.undo()


@pytest.fixture
def two_nodes(cluster):
    """The module's cluster with its second node (a test before may have removed it)."""
    if not cluster.worker_nodes:
        cluster.add_node(**NODE)
        cluster.wait_for_nodes()
    return cluster


def _strip(cell: dict) -> dict:
    """A cell without what differs between two runs of it: timing and provenance."""
    return {k: v for k, v in cell.items() if k not in ("wall_time", "provenance")}


def _plan(cfg, out: Path, n_seeds: int) -> bench.BenchPlan:
    p = bench.plan(cfg, out, [strategy_of(s) for s in STRATEGIES], n_seeds=n_seeds)
    bench.prepare(p)
    return p


def _local_cells(cfg, out: Path, n_seeds: int) -> dict:
    return bench.execute(_plan(cfg, out, n_seeds), workers=1, progress=False, executor="local")


def _assert_every_cell_once(p: bench.BenchPlan, want: dict) -> None:
    cells_dir = p.out / bench.CELLS
    names = sorted(f.name for f in cells_dir.iterdir())
    expected = sorted(bench.cell_name(s, seed) for s in STRATEGIES for seed in p.seeds)
    assert names == expected  # nothing missing, nothing extra, no temp file left behind
    got = bench.collect(p)
    for s in STRATEGIES:
        assert [c["seed"] for c in got[s]] == list(p.seeds)
        assert [_strip(c) for c in got[s]] == [_strip(c) for c in want[s]]


def _raylet_descendants(cluster) -> list:
    import psutil

    out = []
    for node in [cluster.head_node, *cluster.worker_nodes]:
        for info in node.all_processes.get("raylet", []):
            with contextlib.suppress(psutil.NoSuchProcess):
                out += psutil.Process(info.process.pid).children(recursive=True)
    return out


# ----------------------------------------------------------------- no cluster needed
def test_learner_resources_per_kind(h, tmp_path):
    cfg = load_config(h.write_config(tmp_path))
    assert learner_resources(cfg, [{"CPU": 8.0}]) == {"num_cpus": 1}
    grpo = cfg.replace(learner=type(cfg.learner)(kind="grpo", model="smollm2-135m-instruct",
                                                 policy={"device": "cpu"}))
    cpu = learner_resources(grpo, [{"CPU": 4.0}, {"CPU": 16.0, "GPU": 2.0}])
    assert cpu["num_cpus"] == 16 and "num_gpus" not in cpu  # a whole (the largest) node
    auto = grpo.replace(learner=type(cfg.learner)(kind="grpo", model="m", policy={}))
    assert learner_resources(auto, [{"CPU": 4.0, "GPU": 1.0}])["num_gpus"] == 1
    assert "num_gpus" not in learner_resources(auto, [{"CPU": 4.0}])
    assert slots({"num_cpus": 1}, [{"CPU": 2.0}, {"CPU": 1.0}]) == 3
    assert slots({"num_cpus": 1, "num_gpus": 1}, [{"CPU": 8.0, "GPU": 2.0}, {"CPU": 8.0}]) == 2


# ----------------------------------------------------------------- on the cluster
@pytest.mark.slow
@pytest.mark.timeout(180)
def test_ray_bench_gives_the_cells_of_the_local_executor(h, tmp_path, two_nodes):
    cfg = load_config(h.write_config(tmp_path))
    want = _local_cells(cfg, tmp_path / "local", n_seeds=3)
    p = _plan(cfg, tmp_path / "ray", n_seeds=3)
    ran: list = []
    bench.execute(p, progress=False, executor="ray", address=two_nodes.address,
                  on_cell=lambda s, seed: ran.append((s, seed)))
    assert sorted(ran) == sorted((s, seed) for s in STRATEGIES for seed in range(3))
    _assert_every_cell_once(p, want)
    # --report-only and the table work on a folder that Ray filled, as on a local one.
    assert h.cli("bench", "--report-only", str(p.out), "--no-plots").returncode == 0
    bench.execute(p, progress=False, executor="ray", address=two_nodes.address,
                  on_cell=lambda s, seed: pytest.fail("a finished cell was run again"))


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_worker_killed_mid_cell_has_its_cell_retried(h, tmp_path, two_nodes):
    cfg = load_config(h.write_config(tmp_path, env=SLOW_ENV))
    want = _local_cells(cfg, tmp_path / "local", n_seeds=4)
    p = _plan(cfg, tmp_path / "ray", n_seeds=4)
    killed: list[int] = []

    def kill_a_running_cell(label: str, seed: int) -> None:
        if killed:
            return
        for proc in _raylet_descendants(two_nodes):
            try:
                title = " ".join(proc.cmdline())
            except Exception:  # noqa: BLE001 - the process ended meanwhile
                continue
            if title.startswith("ray::cell:"):
                os.kill(proc.pid, signal.SIGKILL)
                killed.append(proc.pid)
                return

    bench.execute(p, progress=False, executor="ray", address=two_nodes.address, on_cell=kill_a_running_cell)
    assert killed, "no cell was running when the first one finished"
    _assert_every_cell_once(p, want)


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_removing_the_second_node_mid_bench_still_gives_every_cell_once(h, tmp_path, two_nodes):
    cfg = load_config(h.write_config(tmp_path, env=SLOW_ENV))
    want = _local_cells(cfg, tmp_path / "local", n_seeds=4)
    p = _plan(cfg, tmp_path / "ray", n_seeds=4)
    node = next(iter(two_nodes.worker_nodes))
    removed: list[str] = []

    def remove_after_its_first_cell(label: str, seed: int) -> None:
        cell = json.loads((p.out / bench.CELLS / bench.cell_name(label, seed)).read_text())
        if not removed and cell["provenance"]["ray_node"] == node.node_id:
            # The node has taken its next cell already (all are queued): that one dies with it.
            two_nodes.remove_node(node, allow_graceful=False)
            removed.append(node.node_id)

    bench.execute(p, progress=False, executor="ray", address=two_nodes.address, on_cell=remove_after_its_first_cell)
    assert removed, "the second node finished no cell before the bench ended"
    _assert_every_cell_once(p, want)
    nodes = {c["provenance"]["ray_node"] for cs in bench.collect(p).values() for c in cs}
    assert node.node_id in nodes and len(nodes) == 2


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_a_driver_killed_by_sigkill_is_finished_by_the_same_command(h, tmp_path, two_nodes):
    cfg_path = h.write_config(tmp_path, env=SLOW_ENV)
    want = _local_cells(load_config(cfg_path), tmp_path / "local", n_seeds=4)
    out = tmp_path / "ray"
    args = ["bench", str(cfg_path), "--strategies", ",".join(STRATEGIES), "--seeds", "4", "--out", str(out),
            "--executor", "ray", "--address", two_nodes.address, "--quiet", "--no-plots"]
    proc = h.popen(*args, env=LOOPBACK_ENV)
    cells = out / bench.CELLS
    deadline = time.time() + 120
    while time.time() < deadline and len(list(cells.glob("*.json"))) < 2:
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    done = len(list(cells.glob("*.json")))
    assert 2 <= done < 8, done
    res = h.cli(*args, env=LOOPBACK_ENV, timeout=180)
    assert res.returncode == 0, res.stderr[-3000:]
    p = bench.load_plan(out)
    _assert_every_cell_once(p, want)


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_sweep_trials_as_ray_tasks_finish_exactly_n(h, tmp_path, two_nodes):
    import optuna

    from sparft.experiments import sweep
    from sparft.experiments.cli import main

    cfg = h.write_config(tmp_path, sweep={"trials": 3, "seeds": 1, "pruner": "none",
                                          "space": {"strategy.params": "auto"}})
    url = f"journal:{tmp_path / 'study.log'}"
    assert main(["sweep", str(cfg), "--out", str(tmp_path / "sw"), "--storage", url, "--executor", "ray",
                 "--address", two_nodes.address, "--compare-seeds", "0", "--quiet"]) == 0
    study = optuna.load_study(study_name="tiny", storage=sweep.make_storage(url))
    assert sweep.count_states(study).get("COMPLETE") == 3
    pids = {int(t.user_attrs["worker"].split(":")[1]) for t in study.trials if "worker" in t.user_attrs}
    assert pids and os.getpid() not in pids  # Ray worker processes ran them, not this driver
