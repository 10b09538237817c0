"""W&B stays out of the way unless asked for, and the experiments modules import light."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sparft.experiments.tracking import Tracker, resolve_mode


def test_mode_precedence_flag_then_environment_then_config(monkeypatch):
    monkeypatch.delenv("WANDB_MODE", raising=False)
    assert resolve_mode(None, "offline") == "offline"
    monkeypatch.setenv("WANDB_MODE", "disabled")
    assert resolve_mode(None, "online") == "disabled"
    assert resolve_mode("offline", "online") == "offline"
    with pytest.raises(ValueError, match="not one of online, offline, disabled"):
        resolve_mode("loud", "offline")


def test_disabled_tracking_never_imports_wandb(tmp_path):
    code = (
        "import sys\n"
        "from sparft.experiments.tracking import Tracker\n"
        f"t = Tracker('disabled', 'p', 'n', {{'a': 1}}, {str(tmp_path)!r})\n"
        "t.log({'x': 1.0}, step=0); t.summary({'y': 2}); t.finish()\n"
        "print('wandb' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert Tracker("disabled", "p", "n", {}, tmp_path).run_id is None


def test_experiment_modules_import_without_heavy_dependencies():
    code = (
        "import sys\n"
        "import sparft.experiments.cli, sparft.experiments.config, sparft.experiments.runner\n"
        "import sparft.experiments.bench, sparft.experiments.sweep, sparft.experiments.stats\n"
        "sparft.experiments.cli.build_parser()\n"
        "print(sorted({'torch', 'transformers', 'optuna', 'wandb', 'matplotlib'} & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
