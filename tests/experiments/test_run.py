"""`sparft run`: the run folder, determinism, bad input, and resume after SIGINT / SIGKILL."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

from sparft.experiments import records, runner
from sparft.experiments.cli import main
from sparft.experiments.config import load_config


def comparable(run_dir: Path) -> list[dict]:
    return [runner.comparable(r) for r in records.read_jsonl(run_dir / "metrics.jsonl")]


def test_run_writes_a_complete_run_folder(tmp_path, tiny, capsys):
    out = tmp_path / "run"
    assert main(["run", str(tiny), "--out", str(out), "--set", "run.plots=true", "--no-progress"]) == 0
    assert "held-out accuracy" in capsys.readouterr().out
    for name in ("config.yaml", "metrics.jsonl", "summary.json", "run.png", "checkpoint/state.json"):
        assert (out / name).is_file(), name
    lines = records.read_jsonl(out / "metrics.jsonl")
    assert [r["step"] for r in lines] == list(range(20))
    for key in ("arm", "arm_counts", "reward", "solve_rate", "samples", "tokens", "wall_time"):
        assert key in lines[0]
    assert [r["step"] for r in lines if "accuracy" in r] == [4, 9, 14, 19]
    assert lines[-1]["samples"] == 20 * 4 and lines[-1]["tokens"] > 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["finished"] and summary["steps"] == 20
    assert summary["final_accuracy"] == lines[-1]["accuracy"]
    # The saved config is the resolved one and runs again as it is.
    assert load_config(out / "config.yaml").to_dict() == load_config(tiny, ["run.plots=true"]).to_dict()


def test_same_seed_same_run_other_seed_other_run(tmp_path, tiny):
    cfg = load_config(tiny)
    a = runner.execute_run(cfg, tmp_path / "a", progress=False)
    b = runner.execute_run(cfg, tmp_path / "b", progress=False)
    runner.execute_run(cfg.replace(seed=1), tmp_path / "c", progress=False)
    assert comparable(tmp_path / "a") == comparable(tmp_path / "b")
    assert comparable(tmp_path / "a") != comparable(tmp_path / "c")
    assert a["final_accuracy"] == b["final_accuracy"]


def test_resume_in_process_equals_an_uninterrupted_run(tmp_path, tiny):
    cfg = load_config(tiny, ["env.budget=30"])
    runner.execute_run(cfg, tmp_path / "full", progress=False)
    part = runner.execute_run(cfg, tmp_path / "part", progress=False, stop_after=13)
    assert not part["finished"]
    assert len(records.read_jsonl(tmp_path / "part" / "metrics.jsonl")) == 13
    runner.execute_run(cfg, tmp_path / "part", resume=True, progress=False)
    assert comparable(tmp_path / "part") == comparable(tmp_path / "full")


def test_resume_with_a_real_learner_style_checkpoint_interval_drops_lines_after_it(h, tmp_path, tiny):
    # Checkpoint every 4 steps: a stop after 10 steps leaves lines 8 and 9 past the checkpoint.
    cfg = load_config(tiny, ["run.checkpoint_every=4"])
    runner.execute_run(cfg, tmp_path / "full", progress=False)
    runner.execute_run(cfg, tmp_path / "part", progress=False, stop_after=10)
    assert len(records.read_jsonl(tmp_path / "part" / "metrics.jsonl")) == 10
    assert records.read_json(tmp_path / "part" / "checkpoint" / "state.json")["counters"]["step"] == 8
    runner.execute_run(cfg, tmp_path / "part", resume=True, progress=False)
    assert comparable(tmp_path / "part") == comparable(tmp_path / "full")


def _wait_for_lines(path: Path, n: int, proc, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if path.exists() and path.read_bytes().count(b"\n") >= n:
            return
        if proc.poll() is not None:
            raise AssertionError(f"the run ended before {n} lines: {proc.stderr.read()}")
        time.sleep(0.02)
    raise AssertionError("timed out waiting for metrics lines")


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_kill_then_resume_finishes_with_no_lost_duplicated_or_corrupted_line(h, tmp_path, sig):
    cfg = h.write_config(tmp_path, env={"budget": 300, "batch_size": 4, "group_size": 4, "eval_every": 10})
    ref = h.cli("run", str(cfg), "--out", str(tmp_path / "ref"), "--no-progress")
    assert ref.returncode == 0, ref.stderr
    for attempt in range(3):
        run_dir = tmp_path / f"killed{attempt}"
        proc = h.popen("run", str(cfg), "--out", str(run_dir), "--no-progress")
        _wait_for_lines(run_dir / "metrics.jsonl", 60, proc)
        proc.send_signal(sig)
        proc.wait(timeout=60)
        # On a loaded machine this process can be descheduled long enough for the run to
        # finish before the signal lands (seen in CI); that tests nothing, so run again.
        if not (proc.returncode == 0 and (run_dir / "summary.json").exists()):
            break
    assert proc.returncode == (-signal.SIGKILL if sig == signal.SIGKILL else 130), proc.stderr.read()
    n_before = len(records.read_jsonl(run_dir / "metrics.jsonl"))
    assert 60 <= n_before < 300, "the kill must land mid-run"
    assert not (run_dir / "summary.json").exists()
    # A kill can also land inside a write: leave a torn line for the resume to cut.
    with open(run_dir / "metrics.jsonl", "ab") as f:
        f.write(b'{"step": 9999, "arm": ')
    res = h.cli("run", "--resume", str(run_dir), "--no-progress")
    assert res.returncode == 0, res.stderr
    assert comparable(run_dir) == comparable(tmp_path / "ref")
    got = json.loads((run_dir / "summary.json").read_text())
    want = json.loads((tmp_path / "ref" / "summary.json").read_text())
    for key in ("final_accuracy", "accuracy", "samples", "tokens", "unique_examples", "steps"):
        assert got[key] == want[key], key


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--set", "env.budget=0"], "env.budget must be at least 1"),
        (["--set", "env.budget=lots"], "env.budget: expected int"),
        (["--set", "strategy=nonesuch"], "unknown strategy 'nonesuch'"),
        (["--set", "data.arms=missing/arms.json"], "ArmSet file missing/arms.json not found"),
        (["--set", "data.source=gsm8k:missing/train.jsonl", "--set", "data.arms=cluster"],
         "data file missing/train.jsonl not found"),
    ],
)
def test_bad_configs_exit_2_with_one_line_before_any_work(tmp_path, tiny, capsys, extra, message):
    out = tmp_path / "never"
    assert main(["run", str(tiny), "--out", str(out), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err
    assert not out.exists()


def test_unwritable_output_and_occupied_folder_fail_early(tmp_path, tiny, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    assert main(["run", str(tiny), "--out", str(blocker / "run")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    used = tmp_path / "used"
    used.mkdir()
    (used / "something").write_text("x")
    assert main(["run", str(tiny), "--out", str(used)]) == 2
    assert "--resume" in capsys.readouterr().err


def test_unwritable_folder_fails_early_for_a_non_root_user(tmp_path, tiny, capsys):
    import os

    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):  # root ignores permissions: nothing to check then
            pytest.skip("running as root: permissions do not apply")
        assert main(["run", str(tiny), "--out", str(locked / "run")]) == 2
        assert "not writable" in capsys.readouterr().err
    finally:
        locked.chmod(0o700)


def test_resume_of_a_missing_folder_is_a_clear_error(tmp_path, capsys):
    assert main(["run", "--resume", str(tmp_path / "nope")]) == 2
    assert "not a sparft run folder" in capsys.readouterr().err


def test_real_learner_checkpoints_resume_to_the_same_run(tmp_path, monkeypatch):
    """The GRPO learner path: model files through the trainers' checkpoint helpers.

    A tiny random Llama stands in for SmolLM2 (same code path, milliseconds per step);
    the arms are arith's levels, so no embedding model is needed.
    """
    import yaml

    from sparft.curricula.arms import ArmSet
    from sparft.curricula.sources import load_source
    from sparft.trainers import models

    monkeypatch.setattr(models, "load_policy", lambda spec, **kw: models.tiny_policy(seed=0))
    pool = load_source("arith", split="train", seed=0, n=40)
    by_level: dict = {}
    for e in pool:
        by_level.setdefault(e.difficulty, []).append(e.id)
    arms = ArmSet(arms=[by_level[k] for k in sorted(by_level)],
                  difficulty={e.id: float(e.difficulty) / 6 for e in pool})
    arms.save(tmp_path / "arms.json")
    cfg_path = tmp_path / "real.yaml"
    cfg_path.write_text(yaml.safe_dump({
        "name": "real",
        "learner": {"kind": "grpo", "model": "tiny", "params": {"max_new_tokens": 4, "learning_rate": 1e-3}},
        "data": {"source": "arith", "n_train": 40, "n_test": 4, "arms": "arms.json"},
        "strategy": "sparft",
        "env": {"budget": 5, "batch_size": 2, "group_size": 2, "eval_every": 2},
        "run": {"checkpoint_every": 2, "progress": False, "plots": False},
    }))
    cfg = load_config(cfg_path)
    runner.execute_run(cfg, tmp_path / "full", progress=False)
    runner.execute_run(cfg, tmp_path / "part", progress=False, stop_after=3)
    state = records.read_json(tmp_path / "part" / "checkpoint" / "state.json")
    assert state["counters"]["step"] == 2 and "folder" in state["learner"]
    assert (tmp_path / "part" / "checkpoint" / "model" / state["learner"]["folder"] / "learner.pt").is_file()
    runner.execute_run(cfg, tmp_path / "part", resume=True, progress=False)
    full, part = comparable(tmp_path / "full"), comparable(tmp_path / "part")
    assert [r["step"] for r in part] == list(range(5))
    assert part == full
