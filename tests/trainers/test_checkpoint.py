"""Checkpoints: atomic, pruned, and a run killed mid-way resumes to the uninterrupted result."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sparft.trainers.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint

HELPERS = Path(__file__).parent / "trainers_helpers.py"


class Counter:
    def __init__(self, n=0):
        self.n = n

    def state_dict(self):
        return {"n": self.n}

    def load_state_dict(self, state):
        self.n = state["n"]


def test_save_load_prune_and_ignore_partial(tmp_path):
    import random

    root = tmp_path / "ckpt"
    assert load_checkpoint(root) is None
    for step in (2, 4, 6):
        save_checkpoint(root, step, teacher=Counter(step), extra={"lines": step}, keep=2)
    assert sorted(p.name for p in root.iterdir()) == ["step-00000004", "step-00000006"]
    # A folder being written when the process died (no meta.json) is never picked up.
    (root / "step-00000008").mkdir()
    assert latest_checkpoint(root).name == "step-00000006"
    random.seed(1)
    save_checkpoint(root, 7, teacher=Counter(7), keep=5)
    expected = random.random()
    random.seed(2)
    teacher = Counter()
    found = load_checkpoint(root / "step-00000007", teacher=teacher)
    assert found.step == 7 and teacher.n == 7
    assert random.random() == expected  # the global RNG state came back too
    found = load_checkpoint(root, teacher=teacher)
    assert found.step == 7  # step-00000008 is incomplete
    with pytest.raises(FileNotFoundError, match="without a learner"):
        load_checkpoint(root, learner=Counter())


def _run(root: Path, total: int, kill_at: int | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, str(HELPERS), str(root), str(total)]
    if kill_at is not None:
        cmd.append(str(kill_at))
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def test_killed_run_resumes_to_the_uninterrupted_result(tmp_path):
    """Kill (SIGKILL) after step 4's metric line but before its checkpoint, resume, finish:
    teacher state, step count, weights and metric lines equal an uninterrupted run's."""
    total = 7
    straight = _run(tmp_path / "straight", total)
    assert straight.returncode == 0, straight.stderr[-2000:]
    killed = _run(tmp_path / "killed", total, kill_at=4)
    assert killed.returncode == -signal.SIGKILL
    assert latest_checkpoint(tmp_path / "killed" / "ckpt").name == "step-00000004"
    resumed = _run(tmp_path / "killed", total)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    a = json.loads((tmp_path / "straight" / "result.json").read_text())
    b = json.loads((tmp_path / "killed" / "result.json").read_text())
    assert a["feed"] == b["feed"]  # teacher state (its RNG, statistics, choices) and step count
    assert a["feed"]["step"] == total and a["updates"] == b["updates"] == total
    assert a["checksum"] == b["checksum"]  # the same weights, bit for bit on the CPU
    assert a["metrics"] == b["metrics"] and len(b["metrics"]) == total  # none lost or repeated
