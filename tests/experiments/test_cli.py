"""Every experiments command refuses bad input with one line and exit code 2, before any work."""

from __future__ import annotations

import pytest

from sparft.experiments.cli import main


def _commands(cfg, out):
    return {
        "run": ["run", str(cfg), "--out", str(out)],
        "bench": ["bench", str(cfg), "--strategies", "uniform", "--seeds", "1", "--out", str(out)],
        "sweep": ["sweep", str(cfg), "--trials", "1", "--out", str(out), "--compare-seeds", "0"],
    }


@pytest.mark.parametrize("command", ["run", "bench", "sweep"])
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["--set", "env.budget=0"], "env.budget must be at least 1"),
        (["--set", "env.budget=[1]"], "env.budget: expected int"),
        (["--set", "strategy=nope"], "unknown strategy 'nope'"),
        (["--set", "data.arms=absent.json"], "ArmSet file absent.json not found"),
        (["--set", "wandb.mode=loud"], "wandb.mode: 'loud' is not one of"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(h, tmp_path, capsys, command, overrides, message):
    cfg = h.write_config(tmp_path, sweep={"space": {"strategy.params": "auto"}})
    out = tmp_path / "out"
    assert main([*_commands(cfg, out)[command], *overrides]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err
    assert not out.exists()


@pytest.mark.parametrize("command", ["run", "bench", "sweep"])
def test_an_output_path_under_a_file_is_refused(h, tmp_path, capsys, command):
    cfg = h.write_config(tmp_path, sweep={"space": {"strategy.params": "auto"}})
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(_commands(cfg, blocker / "out")[command]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def test_missing_config_file_and_empty_sweep_space(h, tmp_path, capsys):
    assert main(["run", str(tmp_path / "nope.yaml")]) == 2
    assert "config file" in capsys.readouterr().err
    cfg = h.write_config(tmp_path)
    assert main(["sweep", str(cfg), "--out", str(tmp_path / "s")]) == 2
    assert "sweep.space is empty" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()
