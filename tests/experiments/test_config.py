"""Config files: typed loading, errors that name the closest key, overrides, resolution."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

import pytest
import yaml

from sparft.experiments import typed
from sparft.experiments.config import ExperimentConfig, load_config, save_config


def load(tmp_path: Path, text: str, overrides=()) -> ExperimentConfig:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return load_config(path, overrides)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("strategi: uniform\n", "unknown key strategi: did you mean 'strategy'?"),
        ("env: {budgt: 10}\n", "unknown key env.budgt: did you mean 'budget'?"),
        ("strategy: {name: uniform, params: {replacment: true}}\n", "did you mean 'replacement'?"),
        ("learner: {params: {learning_rat: 0.1}}\n", "did you mean 'learning_rate'?"),
        ("sweep: {pruner: medain}\n", "did you mean 'median'?"),
        ("learner: {kind: simulated, preset: forgeting}\n", "did you mean 'forgetting'?"),
    ],
)
def test_misspelt_keys_and_names_name_the_closest_valid_one(tmp_path, text, message):
    with pytest.raises(ValueError, match=message.replace("?", r"\?").replace(".", r"\.")):
        load(tmp_path, text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("env: {budget: ten}\n", "env.budget: expected int, got 'ten'"),
        ("env: {batch_size: 2.5}\n", "env.batch_size: expected int, got 2.5"),
        ("run: {plots: 1}\n", "run.plots: expected bool, got 1"),
        ("learner: {params: {learning_rate: '0.1'}}\n", "learner.params.learning_rate: expected float"),
        ("strategy: {name: uniform, params: {replacement: 3}}\n", "strategy.params.replacement: expected bool"),
        ("env: 5\n", "env: expected mapping"),
        ("[1, 2]\n", "a config file is a mapping"),
    ],
)
def test_wrong_types_are_errors(tmp_path, text, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        load(tmp_path, text)


def test_zero_budget_and_unknown_strategy_fail(h, tmp_path):
    with pytest.raises(ValueError, match="env.budget must be at least 1"):
        load(tmp_path, "env: {budget: 0}\n")
    with pytest.raises(ValueError, match="unknown strategy 'learnabilty'.*did you mean 'learnability'"):
        load(tmp_path, "strategy: learnabilty\n")
    with pytest.raises(ValueError, match="bench.strategies"):
        load(tmp_path, "bench: {strategies: [uniform, {name: nope}]}\n")


def test_missing_data_file_is_reported_with_its_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="data file nowhere/train.jsonl not found"):
        load(tmp_path, "data: {source: 'gsm8k:nowhere/train.jsonl'}\n")


def test_relative_data_paths_resolve_against_the_config_folder_then_cwd(h, tmp_path, monkeypatch):
    (tmp_path / "cfgs").mkdir()
    (tmp_path / "cfgs" / "mine.jsonl").write_text("")
    (tmp_path / "other.jsonl").write_text("")
    cfg_path = tmp_path / "cfgs" / "c.yaml"
    cfg_path.write_text("data: {source: 'jsonl:mine.jsonl,question=q', test: 'jsonl:other.jsonl'}\n")
    monkeypatch.chdir(tmp_path)
    cfg = load_config(cfg_path)
    assert cfg.data.source == f"jsonl:{tmp_path / 'cfgs' / 'mine.jsonl'},question=q"
    assert cfg.data.test == f"jsonl:{tmp_path / 'other.jsonl'}"  # not next to the config: CWD


def test_overrides_set_nested_values_and_strategy_shorthands(h, tmp_path):
    cfg = load(
        tmp_path,
        "strategy: uniform\nenv: {budget: 30}\n",
        ["env.budget=50", "strategy=learnability", "learner.params.learning_rate=0.01", "seed=3"],
    )
    assert cfg.env.budget == 50 and cfg.seed == 3
    assert cfg.strategy.name == "learnability"
    assert cfg.learner.params["learning_rate"] == 0.01
    cfg = load(tmp_path, "strategy: uniform\n", ["strategy.params.replacement=true"])
    assert cfg.strategy.params == {"replacement": True}
    with pytest.raises(ValueError, match="expected path.to.key=value"):
        load(tmp_path, "", ["env.budget"])
    with pytest.raises(ValueError, match="did you mean 'budget'"):
        load(tmp_path, "", ["env.budgte=3"])


def test_resolved_config_lists_every_hyperparameter_of_the_owning_dataclasses(tmp_path):
    from sparft.curricula import teachers
    from sparft.envs.simulator import SimParams

    cfg = load(tmp_path, "strategy: learnability\nlearner: {preset: forgetting, params: {update_noise: 0.1}}\n")
    params_cls = teachers.get("learnability").Params
    assert set(cfg.strategy.params) == {f.name for f in dataclasses.fields(params_cls)}
    assert set(cfg.learner.params) == {f.name for f in dataclasses.fields(SimParams)}
    # The preset's own dynamics with the override on top.
    from sparft.envs.presets import make_preset

    preset = make_preset("forgetting")[1]
    assert preset.forgetting != SimParams().forgetting  # the preset has dynamics of its own
    assert cfg.learner.params["forgetting"] == preset.forgetting
    assert cfg.learner.params["update_noise"] == 0.1


def test_save_and_reload_gives_the_same_config(tmp_path):
    cfg = load(tmp_path, "strategy: {name: uniform, label: U}\nenv: {budget: 7}\nbench: {strategies: [uniform]}\n")
    save_config(cfg, tmp_path / "saved.yaml", header="a header\nline two")
    text = (tmp_path / "saved.yaml").read_text()
    assert text.startswith("# a header\n# line two\n")
    again = load_config(tmp_path / "saved.yaml")
    assert again.to_dict() == cfg.to_dict()
    assert yaml.safe_load(text)["env"]["budget"] == 7


def test_extends_merges_a_base_config(h, tmp_path):
    base = h.write_config(tmp_path, name="base", env={"budget": 11, "batch_size": 4, "group_size": 4})
    (tmp_path / "child.yaml").write_text(f"extends: {base.name}\nname: child\nenv: {{budget: 9}}\n")
    cfg = load_config(tmp_path / "child.yaml")
    assert cfg.name == "child" and cfg.env.budget == 9 and cfg.env.batch_size == 4
    assert cfg.strategy.name == "learnability"


@dataclasses.dataclass(frozen=True)
class P:
    pairs: tuple[tuple[str, float], ...] = ()
    mode: Literal["a", "b"] = "a"


def test_typed_conversion_of_fixed_tuples_and_literals():
    p = typed.from_dict(P, {"pairs": [["x", 1], ["y", 2.5]], "mode": "b"})
    assert p.pairs == (("x", 1.0), ("y", 2.5))
    with pytest.raises(ValueError, match=r"pairs\[0\]"):
        typed.from_dict(P, {"pairs": [["x", "one"]]})
    with pytest.raises(ValueError, match="did you mean 'b'"):
        typed.from_dict(P, {"mode": "bb"})
