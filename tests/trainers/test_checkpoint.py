"""Checkpoints: atomic, pruned, and a run killed mid-way resumes to the uninterrupted result."""

from __future__ import annotations

import json
import os
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


# ------------------------------------------------------- loading never runs code
class TensorLearner:
    """The shape of GRPOLearner's state: weights, an optimizer state with int keys and tuples."""

    def __init__(self, seed=0):
        import torch

        g = torch.Generator().manual_seed(seed)
        self.state = {
            "format": "test",
            "updates": seed,
            "model": {"w": torch.randn(3, 2, generator=g), "b": torch.zeros(2)},
            "optimizer": {
                "state": {0: {"step": torch.tensor(5.0), "exp_avg": torch.randn(3, generator=g)}},
                "param_groups": [{"lr": 1e-6, "betas": (0.9, 0.999), "fused": None, "params": [0]}],
            },
        }

    def state_dict(self):
        return self.state

    def load_state_dict(self, state):
        self.state = state


class WritesAFile:
    """A pickle payload: unpickling it calls ``open(path, "w")``, creating the file."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        import builtins

        return (builtins.open, (self.path, "w"))


def test_a_checkpoint_holds_no_pickle_and_round_trips_exactly(tmp_path):
    import zipfile

    import numpy as np
    import torch

    root = tmp_path / "ckpt"
    learner = TensorLearner(seed=1)
    torch.manual_seed(3)
    np.random.seed(4)  # noqa: NPY002 -- the global generators are what is saved
    folder = save_checkpoint(root, 5, learner=learner, teacher=Counter(5), extra={"lines": 5})
    expected = (torch.rand(3), np.random.random())  # noqa: NPY002
    # Every file is JSON or a weights-only torch archive: nothing a loader would execute.
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["learner.pt", "meta.json", "rng.json", "rng.pt", "teacher.json"]
    for p in folder.iterdir():
        if p.suffix == ".json":
            json.loads(p.read_text())
        else:
            assert zipfile.is_zipfile(p), p
    torch.manual_seed(0)
    np.random.seed(0)  # noqa: NPY002
    restored, teacher = TensorLearner(seed=2), Counter()
    found = load_checkpoint(root, learner=restored, teacher=teacher)
    assert found.step == 5 and found.extra == {"lines": 5} and teacher.n == 5
    assert torch.equal(torch.rand(3), expected[0]) and np.random.random() == expected[1]  # noqa: NPY002
    saved, got = learner.state_dict(), restored.state_dict()
    assert torch.equal(got["model"]["w"], saved["model"]["w"])
    assert torch.equal(got["optimizer"]["state"][0]["exp_avg"], saved["optimizer"]["state"][0]["exp_avg"])
    assert got["optimizer"]["param_groups"] == saved["optimizer"]["param_groups"]  # int keys, tuples
    assert got["updates"] == 1


@pytest.mark.parametrize("target", ["learner.pt", "rng.pt"])
@pytest.mark.parametrize("container", ["torch.save", "raw pickle"])
def test_a_tampered_tensor_file_is_refused_not_executed(tmp_path, target, container):
    import pickle

    import torch

    root = tmp_path / "ckpt"
    folder = save_checkpoint(root, 3, learner=TensorLearner(), teacher=Counter(3))
    marker = tmp_path / "pwned"
    if container == "torch.save":
        torch.save({"model": WritesAFile(marker)}, folder / target)
    else:
        (folder / target).write_bytes(pickle.dumps(WritesAFile(marker), protocol=2))
    learner, teacher = TensorLearner(seed=7), Counter(1)
    with pytest.raises(ValueError, match="not loaded"):
        load_checkpoint(root, learner=learner, teacher=teacher)
    assert not marker.exists()  # the payload never ran
    assert learner.state_dict()["updates"] == 7 and teacher.n == 1  # nothing restored halfway


def test_a_version_1_checkpoint_is_refused_unread(tmp_path):
    import pickle

    folder = tmp_path / "ckpt" / "step-00000004"
    folder.mkdir(parents=True)
    marker = tmp_path / "pwned"
    (folder / "rng.pkl").write_bytes(pickle.dumps(WritesAFile(marker)))
    (folder / "teacher.pkl").write_bytes(pickle.dumps(WritesAFile(marker)))
    (folder / "meta.json").write_text(json.dumps({"format": "sparft.checkpoint", "version": 1, "step": 4}))
    with pytest.raises(ValueError, match="checkpoint format 1, which stored pickles") as err:
        load_checkpoint(tmp_path / "ckpt", teacher=Counter())
    assert "start the run again in a new folder" in str(err.value)
    assert len(str(err.value).splitlines()) == 1
    assert not marker.exists()


def test_state_that_would_need_pickle_is_refused_when_saving(tmp_path):
    import numpy as np

    class NoState:
        pass

    with pytest.raises(TypeError, match="has no state_dict"):
        save_checkpoint(tmp_path / "a", 1, teacher=NoState())
    learner = TensorLearner()
    learner.state["optimizer"]["param_groups"][0]["lr"] = np.float64(1e-6)  # a float subclass
    with pytest.raises(TypeError, match=r"\['lr'\] is a float64"):
        save_checkpoint(tmp_path / "b", 1, learner=learner)
    # Nothing was published, and nothing half-written was left behind.
    assert latest_checkpoint(tmp_path / "a") is None and latest_checkpoint(tmp_path / "b") is None
    assert os.listdir(tmp_path / "b") == []
