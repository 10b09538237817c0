"""`sparft sweep`: search spaces, resume, seeding, and many workers on one journal or PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from sparft.experiments import sweep
from sparft.experiments.cli import main
from sparft.experiments.config import load_config

SWEEP = {
    "trials": 4,
    "seeds": 2,
    "pruner": "none",
    "space": {"strategy.params": "auto"},
}


def sweep_config(h, tmp_path: Path, **sweep_changes) -> Path:
    return h.write_config(tmp_path, sweep={**SWEEP, **sweep_changes})


def study_of(storage: str, name: str):
    import optuna

    return optuna.load_study(study_name=name, storage=sweep.make_storage(storage))


def states(study) -> dict[str, int]:
    return sweep.count_states(study)


def test_sweep_end_to_end_writes_a_runnable_best_config(h, tmp_path, capsys):
    cfg = sweep_config(h, tmp_path)
    out = tmp_path / "sw"
    assert main(["sweep", str(cfg), "--out", str(out), "--compare-seeds", "2", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "best final_accuracy" in printed and "on 2 fresh seeds" in printed
    for name in ("best.yaml", "trials.csv", "summary.json", "compare.json", "config.yaml", "study.db",
                 "history.png", "importances.png", "parallel.png"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["states"] == {"COMPLETE": 4}
    best = load_config(out / "best.yaml")
    for path, value in summary["best_values"].items():
        assert best.strategy.params[path.split(".")[-1]] == value
    assert main(["run", str(out / "best.yaml"), "--out", str(tmp_path / "best_run"), "--no-progress"]) == 0


def test_same_study_name_resumes_and_counts_complete_trials(h, tmp_path):
    cfg = sweep_config(h, tmp_path)
    out = tmp_path / "sw"
    args = ["sweep", str(cfg), "--out", str(out), "--compare-seeds", "0", "--quiet"]
    assert main([*args, "--trials", "3"]) == 0
    assert main([*args, "--trials", "5"]) == 0
    study = study_of(f"sqlite:///{out / 'study.db'}", "tiny")
    assert states(study) == {"COMPLETE": 5}
    assert [t.number for t in study.trials] == [0, 1, 2, 3, 4]
    assert main([*args, "--trials", "5"]) == 0  # already done: no new trial
    assert len(study_of(f"sqlite:///{out / 'study.db'}", "tiny").trials) == 5


def test_sweeps_are_seeded_per_trial(h, tmp_path):
    cfg = sweep_config(h, tmp_path, trials=3)
    params = []
    for run in ("a", "b"):
        out = tmp_path / run
        assert main(["sweep", str(cfg), "--out", str(out), "--compare-seeds", "0", "--quiet"]) == 0
        params.append([t.params for t in study_of(f"sqlite:///{out / 'study.db'}", "tiny").trials])
    assert params[0] == params[1]
    assert len({json.dumps(p, sort_keys=True) for p in params[0]}) == 3


def test_search_space_errors_name_the_field(h, tmp_path):
    def load(space):
        return load_config(h.write_config(tmp_path, sweep={"space": space}))

    with pytest.raises(ValueError, match="did you mean 'step_size'"):
        load({"strategy.params.stepsize": {}})
    with pytest.raises(ValueError, match="sweep.space.env.batch_size: give low and high"):
        load({"env.batch_size": {}})
    with pytest.raises(ValueError, match="low .* exceeds high|must not exceed"):
        load({"env.batch_size": {"low": 8, "high": 2}})
    dims = sweep.search_space(load({"env.batch_size": {"low": 2, "high": 8}, "strategy.params": "auto"}))
    kinds = {d.path: d.kind for d in dims}
    assert kinds["env.batch_size"] == "int" and kinds["strategy.params.step_size"] == "float"


def _journal_workers(h, cfg: Path, journal: Path, n_trials: int, tmp_path: Path, extra=()):
    args = ["sweep", str(cfg), "--storage", f"journal:{journal}", "--study", "shared", "--trials",
            str(n_trials), "--compare-seeds", "0", "--quiet", *extra]
    return [h.popen(*args, "--out", str(tmp_path / f"w{i}")) for i in range(2)]


def _check_exactly(study, n: int) -> None:
    s = states(study)
    assert s.get("COMPLETE") == n, s
    assert s.get("RUNNING", 0) == 0 and s.get("WAITING", 0) == 0, s
    numbers = [t.number for t in study.trials]
    assert len(numbers) == len(set(numbers))
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    keys = {json.dumps(t.params, sort_keys=True) for t in complete}
    assert len(keys) == n, "two complete trials share their parameters"


# Trials of about a second each, so that the two workers overlap.
LONG_TRIALS = ["--set", "env.budget=2000", "--set", "env.eval_every=100"]


def test_two_workers_on_one_journal_file_finish_exactly_n_trials(h, tmp_path):
    cfg = sweep_config(h, tmp_path)
    journal = tmp_path / "journal.log"
    procs = _journal_workers(h, cfg, journal, 10, tmp_path, LONG_TRIALS)
    for p in procs:
        out, err = p.communicate(timeout=240)
        assert p.returncode == 0, err
    study = study_of(f"journal:{journal}", "shared")
    _check_exactly(study, 10)
    assert len({t.user_attrs["worker"] for t in study.trials}) == 2, "both workers ran trials"


def test_killed_worker_trial_is_failed_requeued_and_the_study_finishes(h, tmp_path):
    cfg = sweep_config(h, tmp_path, heartbeat_interval=0.2, grace_period=1.5, trials=4)
    # Long trials, so that the kill lands inside one.
    cfg_slow = ["--set", "env.budget=400", "--set", "sweep.seeds=3"]
    journal = tmp_path / "journal.log"
    args = ["sweep", str(cfg), "--storage", f"journal:{journal}", "--study", "k", "--compare-seeds", "0",
            "--quiet", *cfg_slow]
    proc = h.popen(*args, "--out", str(tmp_path / "w"))
    deadline = time.time() + 120
    while time.time() < deadline:
        if journal.exists():
            study = study_of(f"journal:{journal}", "k")
            if states(study).get("COMPLETE", 0) >= 1 and states(study).get("RUNNING", 0) == 1:
                break
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    killed = [t for t in study_of(f"journal:{journal}", "k").trials if t.state.name == "RUNNING"]
    assert len(killed) == 1
    res = h.cli(*args, "--out", str(tmp_path / "w"))
    assert res.returncode == 0, res.stderr
    study = study_of(f"journal:{journal}", "k")
    _check_exactly(study, 4)
    dead = study.trials[killed[0].number]
    assert dead.state.name == "FAIL"
    retries = [t for t in study.trials if t.user_attrs.get("retry_of") == dead.number]
    assert len(retries) == 1
    if dead.params:
        assert retries[0].params == dead.params


# ----------------------------------------------------------------------------- PostgreSQL
def _postgres_bin() -> Path | None:
    import glob
    import shutil

    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True):
        return Path(candidate).parent
    return None


@pytest.fixture
def postgres_url():
    """A throw-away PostgreSQL server on loopback, as a non-root user; stopped afterwards."""
    import pwd
    import shutil
    import socket
    import subprocess
    import tempfile

    bindir = _postgres_bin()
    if bindir is None:
        if os.environ.get("SPARFT_REQUIRE_POSTGRES") == "1":
            pytest.fail("SPARFT_REQUIRE_POSTGRES=1 but no PostgreSQL server binary (initdb) was found")
        pytest.skip("no PostgreSQL server binary (initdb) on PATH or in /usr/lib/postgresql/*/bin")
    user = None
    if os.geteuid() == 0:  # postgres refuses to run as root
        for name in ("postgres", "nobody"):
            try:
                user = pwd.getpwnam(name)
                break
            except KeyError:
                continue
        assert user is not None, "running as root and no 'postgres' or 'nobody' user to run the server"
    root = Path(tempfile.mkdtemp(prefix="sparft-pg-"))
    data, log = root / "data", root / "server.log"
    data.mkdir()
    if user is not None:
        for p in (root, data):
            os.chown(p, user.pw_uid, user.pw_gid)
    as_user = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []} if user else {}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "LC_ALL": "C"}
    try:
        subprocess.run([str(bindir / "initdb"), "-D", str(data), "-U", "sparft", "-A", "trust", "-E", "UTF8"],
                       check=True, capture_output=True, cwd=root, env=env, **as_user)
        subprocess.run(
            [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60", "-o",
             f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=50", "start"],
            check=True, capture_output=True, cwd=root, env=env, **as_user,
        )
        yield f"postgresql+psycopg2://sparft@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                       capture_output=True, cwd=root, env=env, **as_user)
        shutil.rmtree(root, ignore_errors=True)


def test_two_workers_on_a_postgres_server_finish_exactly_n_trials(h, tmp_path, postgres_url):
    cfg = sweep_config(h, tmp_path)
    args = ["sweep", str(cfg), "--storage", postgres_url, "--study", "pg", "--trials", "8",
            "--compare-seeds", "0", "--quiet", *LONG_TRIALS]
    procs = [h.popen(*args, "--out", str(tmp_path / f"w{i}")) for i in range(2)]
    for p in procs:
        out, err = p.communicate(timeout=240)
        assert p.returncode == 0, err
    study = study_of(postgres_url, "pg")
    _check_exactly(study, 8)
    assert len({t.user_attrs["worker"] for t in study.trials}) == 2, "both workers ran trials"


def test_wilcoxon_pruning_random_sampler_and_threads(h, tmp_path):
    """The other pruner and sampler, with two trials at a time in one process."""
    cfg = sweep_config(h, tmp_path, trials=8, seeds=4, pruner="wilcoxon", sampler="random", n_jobs=2)
    out = tmp_path / "sw"
    assert main(["sweep", str(cfg), "--out", str(out), "--compare-seeds", "0", "--quiet"]) == 0
    study = study_of(f"sqlite:///{out / 'study.db'}", "tiny")
    _check_exactly(study, 8)
    for t in study.trials:
        # Wilcoxon pairs seeds: one report per seed, step = seed index.
        assert sorted(t.intermediate_values) == list(range(len(t.intermediate_values)))
        if t.state.name == "COMPLETE":
            assert len(t.intermediate_values) == 4 and len(t.user_attrs["scores"]) == 4


def test_space_reaches_the_arm_builder_and_the_bandit(h, tmp_path):
    """K, the PCA dimension and the difficulty weight (ClusterConfig) and a bandit's own
    hyperparameters (its Params) are sweepable paths, typed by their dataclasses."""
    cfg = load_config(h.write_config(
        tmp_path,
        strategy="sparft",
        data={"arms": "cluster"},
        sweep={"space": {
            "data.cluster.k": {"low": 4, "high": 12},
            "data.cluster.pca_dim": {"low": 8, "high": 64, "log": True},
            "data.cluster.difficulty_weight": {"low": 0.0, "high": 2.0},
            "strategy.params.bandit_params.sigma": {},
        }},
    ))
    dims = {d.path: d for d in sweep.search_space(cfg)}
    assert dims["data.cluster.k"].kind == "int" and dims["data.cluster.pca_dim"].log
    assert dims["data.cluster.difficulty_weight"].kind == "float"
    sigma = dims["strategy.params.bandit_params.sigma"]  # range declared by ThompsonGaussianParams
    assert sigma.kind == "float" and sigma.low == 0.05 and sigma.high == 2.0 and sigma.log
    trial = sweep.trial_config(cfg, {"data.cluster.k": 5, "strategy.params.bandit_params.sigma": 0.3})
    assert trial.data.cluster["k"] == 5
    assert trial.strategy.params["bandit_params"]["sigma"] == 0.3
    with pytest.raises(ValueError, match="did you mean 'sigma'"):
        load_config(h.write_config(tmp_path, strategy="sparft",
                                   sweep={"space": {"strategy.params.bandit_params.sigm": {}}}))
