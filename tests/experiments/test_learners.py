"""The Learner contract, run over every registered learner plugin (``learner.kind``).

Each plugin is built from a tiny config (its own ``smoke`` sections on top of the one
below) and must: resolve its section to every field of its ``Params``, build a learner
that keeps the :class:`~sparft.envs.Learner` protocol, give the same outcomes for the
same seed, resume from its own checkpoint hooks exactly (inline and with a folder),
and answer what the experiments layer asks of it. A real model is the random tiny
Llama of :func:`sparft.trainers.models.tiny_policy` (``model: tiny``): no download.
"""

from __future__ import annotations

import copy
import dataclasses
import json

import numpy as np
import pytest

from sparft.curricula.arms import ArmSet
from sparft.curricula.outcome import StepOutcome
from sparft.curricula.sources import load_source
from sparft.envs import Learner
from sparft.experiments import wiring
from sparft.experiments.config import load_config
from sparft.experiments.learners import LEARNERS, LearnerPlugin, learner_plugin

KINDS = LEARNERS.names()
B, G, STEPS = 2, 2, 3


def _merge(base: dict, top: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in top.items():
        out[key] = (
            _merge(out[key], value)
            if isinstance(value, dict) and isinstance(out.get(key), dict)
            else value
        )
    return out


@pytest.fixture
def tiny_models(monkeypatch):
    from sparft.trainers import models

    monkeypatch.setattr(models, "load_policy", lambda spec, **kw: models.tiny_policy(seed=0))


@pytest.fixture
def level_arms(tmp_path):
    """Arms by arith level (no embedding model), for learners that bring none of their own."""
    pool = load_source("arith", split="train", seed=0, n=40)
    by_level: dict = {}
    for e in pool:
        by_level.setdefault(e.difficulty, []).append(e.id)
    arms = ArmSet(
        arms=[by_level[k] for k in sorted(by_level)],
        difficulty={e.id: e.difficulty / 6 for e in pool},
    )
    path = tmp_path / "arms.json"
    arms.save(path)
    return path


def smoke_config(kind: str, arms_path):
    plugin = LEARNERS.get(kind)
    data = {
        "name": f"contract_{kind}",
        "learner": {"kind": kind},
        "data": {"source": "arith", "n_train": 40, "n_test": 4},
        "strategy": "uniform",
        "env": {"budget": STEPS, "batch_size": B, "group_size": G, "eval_every": 2},
        "run": {"progress": False, "plots": False},
    }
    if not plugin.has_own_arms:
        data["data"]["arms"] = str(arms_path)
    return load_config(data=_merge(data, dict(plugin.smoke)))


def run_steps(
    plugin: LearnerPlugin, cfg, seed: int, steps: int, learner=None
) -> tuple[object, list[StepOutcome]]:
    arms = wiring.build_arms(cfg)
    if learner is None:
        learner = wiring.build_learner(cfg, arms, seed)
        learner.reset(seed)
    rng = np.random.default_rng(seed)
    outcomes = []
    for step in range(steps):
        slots = rng.integers(arms.n_arms, size=B)
        ids = [arms.arms[a][int(rng.integers(len(arms.arms[a])))] for a in slots]
        outcomes.append(learner.train_step(ids, slots, step))
    return learner, outcomes


def same(a: list[StepOutcome], b: list[StepOutcome]) -> bool:
    return all(
        x.example_ids == y.example_ids
        and np.array_equal(x.rewards, y.rewards)
        and np.array_equal(x.tokens, y.tokens)
        for x, y in zip(a, b, strict=True)
    )


def test_the_built_in_learners_are_registered():
    assert {"simulated", "grpo"} <= set(KINDS)
    with pytest.raises(
        ValueError, match=r"learner.kind: unknown learner 'grpoo': did you mean 'grpo'\?"
    ):
        learner_plugin("grpoo")


@pytest.mark.parametrize("kind", KINDS)
def test_plugin_declares_what_the_experiments_layer_asks(kind, tiny_models, level_arms):
    plugin = learner_plugin(kind)
    assert plugin.name == kind and LEARNERS.entry(kind).summary
    assert dataclasses.is_dataclass(plugin.Params)
    cfg = smoke_config(kind, level_arms)
    fields = {f.name for f in dataclasses.fields(plugin.Params)}
    assert set(cfg.learner.params) <= fields  # the resolved section: the dataclass's own fields
    assert load_config(data=cfg.to_dict()).to_dict() == cfg.to_dict()  # resolving is idempotent
    assert cfg.checkpoint_every == plugin.default_checkpoint_every >= 1
    res = plugin.resources(cfg, [{"CPU": 4.0}])
    assert res["num_cpus"] >= 1
    assert "\n" not in plugin.describe(cfg) and kind in plugin.describe(cfg)
    (row,) = LEARNERS.describe([kind])
    assert row["name"] == kind and {p["name"] for p in row["params"]} == fields


@pytest.mark.parametrize("kind", KINDS)
def test_learner_keeps_the_protocol(kind, tiny_models, level_arms):
    plugin = learner_plugin(kind)
    cfg = smoke_config(kind, level_arms)
    learner, outcomes = run_steps(plugin, cfg, seed=0, steps=1)
    assert isinstance(learner, Learner)
    (out,) = outcomes
    assert isinstance(out, StepOutcome) and out.rewards.shape == (B, G)
    assert ((out.rewards >= 0) & (out.rewards <= 1)).all()
    assert len(out.example_ids) == B and out.arms.shape == (B,)
    acc = learner.evaluate()["accuracy"]
    assert 0.0 <= acc <= 1.0


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_same_outcomes(kind, tiny_models, level_arms):
    plugin = learner_plugin(kind)
    cfg = smoke_config(kind, level_arms)
    a = run_steps(plugin, cfg, seed=3, steps=STEPS)[1]
    b = run_steps(plugin, cfg, seed=3, steps=STEPS)[1]
    assert same(a, b)


@pytest.mark.parametrize("folder", [False, True], ids=["inline", "files"])
@pytest.mark.parametrize("kind", KINDS)
def test_checkpoint_hooks_resume_exactly(kind, folder, tiny_models, level_arms, tmp_path):
    plugin = learner_plugin(kind)
    cfg = smoke_config(kind, level_arms)
    seed = 1
    _, full = run_steps(plugin, cfg, seed, STEPS)

    learner = wiring.build_learner(cfg, wiring.build_arms(cfg), seed)
    learner.reset(seed)
    arms = wiring.build_arms(cfg)
    rng = np.random.default_rng(seed)
    picks = []
    for _ in range(STEPS):
        slots = rng.integers(arms.n_arms, size=B)
        picks.append(([arms.arms[a][int(rng.integers(len(arms.arms[a])))] for a in slots], slots))
    first = [learner.train_step(ids, slots, step) for step, (ids, slots) in enumerate(picks[:2])]
    ckpt = tmp_path / "checkpoint" if folder else None
    if not folder and not plugin.inline_state:
        with pytest.raises(ValueError, match="folder"):
            plugin.save_state(learner, None, step=2)
        return
    state = plugin.save_state(learner, ckpt, step=2)
    json.loads(json.dumps(state))  # plain data

    resumed = wiring.build_learner(cfg, arms, seed)
    resumed.reset(seed + 100)  # a different start: only the checkpoint may make them agree
    plugin.load_state(resumed, state, ckpt)
    last = resumed.train_step(*picks[2], 2)
    assert same(first + [last], full)
