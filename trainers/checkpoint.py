"""Checkpoints: learner, teacher, RNG states and step count; loading one never runs code.

A checkpoint is a folder ``<root>/step-00000012/`` holding

* ``learner.pt`` -- ``learner.state_dict()`` (weights, optimizer, counters) via ``torch.save``,
  read back with ``torch.load(weights_only=True)``: tensors and plain containers only
  (``learner.json`` instead when torch is not installed; the state must then be JSON-able);
* ``teacher.json`` -- ``teacher.state_dict()``, plain JSON (every sparft teacher, bandit and
  ``CurriculumFeed`` has one);
* ``rng.json`` -- the global Python and NumPy generator states as JSON, and ``rng.pt`` the
  torch CPU (and CUDA) generator states, which are ``uint8`` tensors;
* ``meta.json`` -- the format version, the step count and the caller's ``extra`` (e.g. how
  many metric lines were written, so that a resumed run truncates to exactly that many).

No file is a pickle, so a run folder received from someone else cannot execute code on
``--resume``: a ``learner.pt`` or ``rng.pt`` that holds anything but tensors and plain data
is refused by torch's restricted loader, and the version-1 format (which pickled the RNG
state and loaded ``learner.pt`` with ``weights_only=False``) is refused outright.

The folder is staged beside its final name and published by one rename
(:func:`sparft.fileio.staged_dir`), so a run killed while saving leaves the previous
checkpoint intact and no half-written one; the newest ``keep`` checkpoints are kept.
:func:`load_checkpoint` restores into the objects given and returns the step to continue from.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sparft.fileio import atomic_write_json, atomic_writer, staged_dir, stale_temporaries

__all__ = ["Checkpoint", "latest_checkpoint", "load_checkpoint", "save_checkpoint"]

FORMAT = "sparft.checkpoint"
#: 2: JSON and weights-only tensor files. 1 (refused): pickled RNG and teacher states.
VERSION = 2
_STEP_DIR = re.compile(r"^step-(\d{8})$")


@dataclass(frozen=True)
class Checkpoint:
    """What :func:`load_checkpoint` found: the step to resume from and the saved ``extra``."""

    path: Path
    step: int
    extra: Mapping[str, Any] = field(default_factory=dict)


def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


# ------------------------------------------------------------ tensor files
_PLAIN = (type(None), str, bool, int, float)


def _check_weights_only(obj: Any, where: str, torch: Any) -> None:
    """Fail at save time, not at resume, on what ``torch.load(weights_only=True)`` refuses.

    Exact types: a numpy scalar is a ``float`` subclass, yet torch pickles it through numpy.
    """
    kind = type(obj)
    if kind in _PLAIN or kind in (torch.dtype, torch.device) or isinstance(obj, torch.Tensor):
        return
    if kind in (dict, OrderedDict):
        for k, v in obj.items():
            _check_weights_only(k, f"{where} key", torch)
            _check_weights_only(v, f"{where}[{k!r}]", torch)
        return
    if kind in (list, tuple, torch.Size):
        for i, v in enumerate(obj):
            _check_weights_only(v, f"{where}[{i}]", torch)
        return
    raise TypeError(
        f"{where} is a {kind.__name__}; a checkpoint holds only tensors and plain data "
        "(dict, list, tuple, str, int, float, bool, None), so that loading it cannot run code"
    )


def _save_tensors(obj: Any, path: Path, torch: Any) -> None:
    _check_weights_only(obj, path.stem, torch)
    with atomic_writer(path) as f:
        torch.save(obj, f)


def _load_tensors(path: Path) -> Any:
    torch = _torch()
    if torch is None:
        raise ModuleNotFoundError(f"{path} holds torch tensors; install torch (sparft[train]) to load it")
    import pickle

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ValueError(
            f"{path} holds objects other than tensors and plain data, so it was not written by "
            f"sparft or was altered since; it was not loaded ({reason})"
        ) from None


# --------------------------------------------------------------- RNG state
def _rng_json() -> dict[str, Any]:
    # The global generators are saved for third-party code that uses them; sparft's own
    # randomness lives in seeded generators inside the learner and teacher states.
    version, internal, gauss = random.getstate()
    numpy_state = np.random.get_state(legacy=False)  # noqa: NPY002
    return {
        "python": {"version": version, "state": list(internal), "gauss_next": gauss},
        "numpy": numpy_state,
    }


def _set_rng_json(state: Mapping[str, Any]) -> None:
    py = state["python"]
    random.setstate((int(py["version"]), tuple(int(x) for x in py["state"]), py["gauss_next"]))
    st = dict(state["numpy"])
    st["state"] = {**st["state"], "key": np.asarray(st["state"]["key"], dtype=np.uint32)}
    np.random.set_state(st)  # noqa: NPY002


def _rng_tensors(torch: Any) -> dict[str, Any]:
    state = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_tensors(state: Mapping[str, Any]) -> None:
    import torch

    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


# ----------------------------------------------------------------- folders
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


def _remove_stale(root: Path) -> None:
    """Folders a run killed while saving left behind (this format's and version 1's)."""
    for p in [*root.glob(".tmp-step-*"), *stale_temporaries(root, "step-" + "[0-9]" * 8)]:
        shutil.rmtree(p, ignore_errors=True)


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

    ``teacher.state_dict()`` and ``extra`` must be JSON-able; ``learner.state_dict()``
    must hold only tensors and plain data. Returns the checkpoint folder.
    """
    if step < 0 or keep < 1:
        raise ValueError("step must be >= 0 and keep >= 1")
    if teacher is not None and not callable(getattr(teacher, "state_dict", None)):
        raise TypeError(
            f"the teacher {type(teacher).__name__} has no state_dict(); a checkpoint stores "
            "teacher state as JSON, so give it state_dict() and load_state_dict()"
        )
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    _remove_stale(root)
    torch = _torch()
    final = root / f"step-{step:08d}"
    with staged_dir(final) as tmp:
        if learner is not None:
            state = learner.state_dict()
            if torch is not None:
                _save_tensors(state, tmp / "learner.pt", torch)
            else:
                atomic_write_json(tmp / "learner.json", state, indent=None, nonfinite="keep")
        if teacher is not None:
            atomic_write_json(tmp / "teacher.json", teacher.state_dict(), indent=None, nonfinite="keep")
        atomic_write_json(tmp / "rng.json", _rng_json(), indent=None, nonfinite="keep")
        if torch is not None:
            _save_tensors(_rng_tensors(torch), tmp / "rng.pt", torch)
        meta = {"format": FORMAT, "version": VERSION, "step": int(step), "extra": dict(extra or {})}
        atomic_write_json(tmp / "meta.json", meta, indent=None, nonfinite="keep")
    for _, path in _checkpoints(root)[:-keep]:
        shutil.rmtree(path, ignore_errors=True)
    return final


def _read_meta(folder: Path) -> dict[str, Any]:
    try:
        meta = json.loads((folder / "meta.json").read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{folder}/meta.json is not valid JSON ({e}); it is not a sparft checkpoint") from e
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{folder} is not a sparft checkpoint (meta.json has no 'format: {FORMAT}')")
    version = meta.get("version")
    if version == VERSION:
        return meta
    if isinstance(version, int) and version > VERSION:
        raise ValueError(f"{folder} is checkpoint format {version}, newer than this sparft's {VERSION}; upgrade sparft")
    raise ValueError(
        f"{folder} is checkpoint format {version}, which stored pickles that can run code when "
        f"loaded; this sparft reads only format {VERSION}: start the run again in a new folder"
    )


def load_checkpoint(
    path: str | os.PathLike[str],
    *,
    learner: Any = None,
    teacher: Any = None,
    restore_rng: bool = True,
) -> Checkpoint | None:
    """Restore the newest checkpoint under ``path`` (a root or one ``step-*`` folder).

    Loads into ``learner`` / ``teacher`` when given; returns ``None`` when there is none.
    Reads only JSON and weights-only tensor files; anything else is refused unread.
    """
    path = Path(path)
    folder = path if (path / "meta.json").is_file() else latest_checkpoint(path)
    if folder is None:
        return None
    meta = _read_meta(folder)
    # Read and check every file before restoring any: a refused file leaves the objects as they were.
    learner_state = teacher_state = rng_state = rng_tensors = None
    if learner is not None:
        if (folder / "learner.json").is_file():
            learner_state = json.loads((folder / "learner.json").read_text())
        elif (folder / "learner.pt").is_file():
            learner_state = _load_tensors(folder / "learner.pt")
        else:
            raise FileNotFoundError(
                f"{folder} has no learner state (it was saved without a learner); "
                "load it with learner=None or resume from a checkpoint that has one"
            )
    if teacher is not None:
        if not (folder / "teacher.json").is_file():
            raise FileNotFoundError(
                f"{folder} has no teacher state (it was saved without a teacher); "
                "load it with teacher=None or resume from a checkpoint that has one"
            )
        teacher_state = json.loads((folder / "teacher.json").read_text())
    if restore_rng:
        rng_state = json.loads((folder / "rng.json").read_text())
        if (folder / "rng.pt").is_file() and _torch() is not None:
            rng_tensors = _load_tensors(folder / "rng.pt")
    if learner_state is not None:
        learner.load_state_dict(learner_state)
    if teacher_state is not None:
        teacher.load_state_dict(teacher_state)
    if rng_state is not None:
        _set_rng_json(rng_state)
    if rng_tensors is not None:
        _set_rng_tensors(rng_tensors)
    return Checkpoint(path=folder, step=int(meta["step"]), extra=meta.get("extra", {}))
