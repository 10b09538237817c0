"""Helpers for the experiments tests: tiny simulated configs and the CLI in-process or as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def write_config(folder: Path, name: str = "tiny", **sections) -> Path:
    """A small simulated config; keyword arguments replace whole sections."""
    data = {
        "name": name,
        "strategy": "learnability",
        "env": {"budget": 20, "batch_size": 4, "group_size": 4, "eval_every": 5},
        "run": {"progress": False, "plots": False, "out": str(folder / "runs")},
        "wandb": {"mode": "disabled"},
    }
    data.update(sections)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def cli(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 300):
    """Run ``python -m sparft.experiments ARGS`` in a subprocess; returns the CompletedProcess."""
    full_env = {**os.environ, "WANDB_MODE": "disabled", "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "sparft.experiments", *args],
        capture_output=True, text=True, cwd=cwd, env=full_env, timeout=timeout,
    )


def popen(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.Popen:
    full_env = {**os.environ, "WANDB_MODE": "disabled", "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "sparft.experiments", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd, env=full_env,
    )


@pytest.fixture
def tiny(tmp_path) -> Path:
    return write_config(tmp_path)


class Helpers:
    """The helpers above as a fixture (test modules cannot import conftest in importlib mode)."""

    write_config = staticmethod(write_config)
    cli = staticmethod(cli)
    popen = staticmethod(popen)


@pytest.fixture
def h() -> Helpers:
    return Helpers()
