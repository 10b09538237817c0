"""The shipped configs parse, and the demo's simulated part runs end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from sparft.experiments.cli import main
from sparft.experiments.cmd_demo import default_config
from sparft.experiments.config import load_config

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "configs").glob("*.yaml"))


def test_every_shipped_config_is_there():
    names = {p.stem for p in CONFIGS}
    assert {"demo", "sim_bench", "smollm2_arith", "smollm2_gsm8k", "qwen3_gsm8k_paper"} <= names


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_shipped_configs_load_and_resolve(path):
    # check_files=False: GSM8K lives outside the repository and may be absent here.
    cfg = load_config(path, check_files=False)
    assert cfg.env.budget >= 1
    assert cfg.to_dict() == load_config(data=cfg.to_dict(), check_files=False).to_dict()


def test_demo_config_names_a_real_run_and_all_strategies():
    cfg = load_config(default_config())
    assert cfg.demo.real and Path(cfg.demo.real).is_file()
    real = load_config(cfg.demo.real, cfg.demo.real_set)
    assert real.learner.kind == "grpo" and real.strategy.name == "sparft"
    names = [s.name for s in cfg.bench.strategies]
    assert len(names) == 12 and {"uniform", "sparft", "sparft_target"} <= set(names)
    assert cfg.bench.seeds == 16 and cfg.env.budget == 300


def test_demo_simulated_part_runs(tmp_path, capsys):
    code = main(["demo", "--sim-only", "--seeds", "2", "--budget", "30", "--workers", "2",
                 "--out", str(tmp_path), "--wandb", "disabled", "--quiet"])
    assert code == 0
    out = capsys.readouterr().out
    assert "| strategy | seeds | final acc. (95% CI)" in out
    for name in ("uniform", "sparft", "dump", "e2h"):
        assert f"| {name} |" in out
    assert (tmp_path / "bench" / "curves.png").is_file()


def test_demo_shows_a_shipped_real_bench_as_stored_results(h, tmp_path, capsys):
    shipped = tmp_path / "shipped"
    cfg = h.write_config(tmp_path)
    assert main(["bench", str(cfg), "--strategies", "uniform,learnability", "--seeds", "2",
                 "--out", str(shipped), "--quiet", "--no-plots"]) == 0
    demo = h.write_config(tmp_path, name="minidemo", demo={"real": None, "shipped": str(shipped)},
                          bench={"strategies": ["uniform"], "seeds": 1})
    capsys.readouterr()
    assert main(["demo", "--config", str(demo), "--sim-only", "--out", str(tmp_path / "d"),
                 "--quiet", "--wandb", "disabled"]) == 0
    out = capsys.readouterr().out
    assert "SHIPPED RESULTS (not run now)" in out and "4 of 4 cells finished" in out
    assert "| learnability |" in out.split("SHIPPED RESULTS")[1]


def test_the_shipped_demo_config_compares_two_real_strategies():
    cfg = load_config(default_config())
    assert cfg.demo.real_strategies == ["uniform", "sparft_target"]
    assert cfg.demo.shipped and cfg.demo.shipped.endswith("results/real_arith")
