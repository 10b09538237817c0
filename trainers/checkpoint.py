"""Checkpoints: learner, teacher, RNG states and step count, written atomically.

A checkpoint is a folder ``<root>/step-00000012/`` holding

* ``learner.pt`` -- ``learner.state_dict()`` (weights, optimizer, counters) via ``torch.save``
  (``pickle`` when torch is not installed, e.g. for the simulated learner);
* ``teacher.json`` -- ``teacher.state_dict()`` (plain JSON for every sparft teacher; an
  object without ``state_dict`` is pickled to ``teacher.pkl`` instead);
* ``rng.pkl`` -- the global Python, NumPy and torch (CPU and CUDA) generator states;
* ``meta.json`` -- the step count and the caller's ``extra`` (e.g. how many metric
  lines were written, so that a resumed run truncates to exactly that many).

It is written into a hidden temporary folder and renamed into place, so a run killed
while saving leaves the previous checkpoint intact and no half-written one; the newest
``keep`` checkpoints are kept. :func:`load_checkpoint` restores into the objects given
and returns the step to continue from.
"""

from __future__ import annotations

import json
import os
import pickle
import random
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Checkpoint", "latest_checkpoint", "load_checkpoint", "save_checkpoint"]

FORMAT = "sparft.checkpoint"
_STEP_DIR = re.compile(r"^step-(\d{8})$")


@dataclass(frozen=True)
class Checkpoint:
    """What :func:`load_checkpoint` found: the step to resume from and the saved ``extra``."""

    path: Path
    step: int
    extra: Mapping[str, Any] = field(default_factory=dict)


def _save_obj(obj: Any, path: Path) -> None:
    try:
        import torch
    except ImportError:
        with open(path, "wb") as f:
            pickle.dump(obj, f)
        return
    torch.save(obj, path)


def _load_obj(path: Path) -> Any:
    try:
        import torch
    except ImportError:
        with open(path, "rb") as f:
            return pickle.load(f)  # noqa: S301 -- our own file
    # weights_only=False: optimizer states and configs are plain Python objects we wrote.
    return torch.load(path, map_location="cpu", weights_only=False)


def _rng_state() -> dict[str, Any]:
    # The global generators are saved for third-party code that uses them; sparft's own
    # randomness lives in seeded generators inside the learner and teacher states.
    state: dict[str, Any] = {"python": random.getstate(), "numpy": np.random.get_state()}  # noqa: NPY002
    try:
        import torch
    except ImportError:
        return state
    state["torch"] = torch.get_rng_state()
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: Mapping[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])  # noqa: NPY002
    if "torch" in state:
        import torch

        torch.set_rng_state(state["torch"])
        if "cuda" in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda"])


def _checkpoints(root: Path) -> list[tuple[int, Path]]:
    if not root.is_dir():
        return []
    found = []
    for p in root.iterdir():
        m = _STEP_DIR.match(p.name)
        if m and (p / "meta.json").is_file():
            found.append((int(m.group(1)), p))
    return sorted(found)


def latest_checkpoint(root: str | os.PathLike[str]) -> Path | None:
    """The newest complete checkpoint folder under ``root``, or ``None``."""
    found = _checkpoints(Path(root))
    return found[-1][1] if found else None


def save_checkpoint(
    root: str | os.PathLike[str],
    step: int,
    *,
    learner: Any = None,
    teacher: Any = None,
    extra: Mapping[str, Any] | None = None,
    keep: int = 2,
) -> Path:
    """Save ``step`` (the number of updates done) with the learner's and teacher's states.

    ``extra`` must be JSON-able. Returns the checkpoint folder.
    """
    if step < 0 or keep < 1:
        raise ValueError("step must be >= 0 and keep >= 1")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    for stale in root.glob(".tmp-step-*"):  # left by a run killed while saving
        shutil.rmtree(stale, ignore_errors=True)
    final = root / f"step-{step:08d}"
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=f".tmp-step-{step:08d}-"))
    try:
        if learner is not None:
            _save_obj(learner.state_dict(), tmp / "learner.pt")
        if teacher is not None:
            if hasattr(teacher, "state_dict"):
                (tmp / "teacher.json").write_text(json.dumps(teacher.state_dict()))
            else:
                with open(tmp / "teacher.pkl", "wb") as f:
                    pickle.dump(teacher, f)
        with open(tmp / "rng.pkl", "wb") as f:
            pickle.dump(_rng_state(), f)
        meta = {"format": FORMAT, "version": 1, "step": int(step), "extra": dict(extra or {})}
        (tmp / "meta.json").write_text(json.dumps(meta))  # last: marks the folder complete
        if final.exists():
            old = root / f".tmp-step-{step:08d}-old"
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for _, path in _checkpoints(root)[:-keep]:
        shutil.rmtree(path, ignore_errors=True)
    return final


def load_checkpoint(
    path: str | os.PathLike[str],
    *,
    learner: Any = None,
    teacher: Any = None,
    restore_rng: bool = True,
) -> Checkpoint | None:
    """Restore the newest checkpoint under ``path`` (a root or one ``step-*`` folder).

    Loads into ``learner`` / ``teacher`` when given; returns ``None`` when there is none.
    """
    path = Path(path)
    folder = path if (path / "meta.json").is_file() else latest_checkpoint(path)
    if folder is None:
        return None
    meta = json.loads((folder / "meta.json").read_text())
    if meta.get("format") != FORMAT:
        raise ValueError(
            f"{folder} is not a sparft checkpoint (meta.json has no 'format: {FORMAT}')"
        )
    if learner is not None:
        if not (folder / "learner.pt").is_file():
            raise FileNotFoundError(
                f"{folder} has no learner state (it was saved without a learner); "
                "load it with learner=None or resume from a checkpoint that has one"
            )
        learner.load_state_dict(_load_obj(folder / "learner.pt"))
    if teacher is not None:
        if (folder / "teacher.json").is_file():
            teacher.load_state_dict(json.loads((folder / "teacher.json").read_text()))
        elif (folder / "teacher.pkl").is_file():
            with open(folder / "teacher.pkl", "rb") as f:
                teacher.__dict__.update(pickle.load(f).__dict__)  # noqa: S301 -- our own file
        else:
            raise FileNotFoundError(
                f"{folder} has no teacher state (it was saved without a teacher); "
                "load it with teacher=None or resume from a checkpoint that has one"
            )
    if restore_rng:
        with open(folder / "rng.pkl", "rb") as f:
            _set_rng_state(pickle.load(f))  # noqa: S301 -- our own file
    return Checkpoint(path=folder, step=int(meta["step"]), extra=meta.get("extra", {}))
