"""`sparft calibrate`: exact replay, recovery of known dynamics, rank agreement, presets, bad input."""

from __future__ import annotations

import json
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from scipy.stats import kendalltau

from sparft.envs import SimParams, SimulatedLearner, presets
from sparft.envs import calibrated as C
from sparft.experiments import bench
from sparft.experiments import calibrate as cal
from sparft.experiments.cli import main
from sparft.experiments.config import load_config, strategy_of
from sparft.experiments.runner import run_episode

#: The dynamics the simulated "real" runs are generated with (not the defaults).
TRUE = SimParams(
    discrimination=8.0,
    learning_rate=0.012,
    topic_skill=(("topic0", 0.35), ("topic1", 0.5)),
    transfer=0.3,
    forgetting=0.002,
)
STRATEGIES = ("uniform", "learnability", "adarft")


def sim_config(params=TRUE, budget=60, strategies=STRATEGIES, seeds=8, name="cal"):
    return load_config(data={
        "name": name,
        "learner": {"kind": "simulated", "preset": "default", "params": params.to_dict()},
        "env": {"budget": budget, "batch_size": 4, "group_size": 8, "eval_every": 10},
        "bench": {"strategies": list(strategies), "seeds": seeds, "workers": 1},
        "run": {"progress": False, "plots": False},
        "wandb": {"mode": "disabled"},
    })


def write_bench(folder, **kw):
    """A simulated bench folder (config.yaml, cells/) whose cells were made with ``params``."""
    plan = bench.plan(sim_config(**kw), folder)
    bench.prepare(plan)
    bench.execute(plan, progress=False)
    return folder


@pytest.fixture(scope="module")
def known(tmp_path_factory):
    """8 seeds x 3 strategies x 60 steps on TRUE, loaded as a Bench."""
    return cal.load_bench(write_bench(tmp_path_factory.mktemp("known") / "bench"))


@pytest.fixture(scope="module")
def fitted(known):
    fit_seeds, _ = cal.split_seeds(known.seeds)
    cells = [c for c in known.cells if c["seed"] in fit_seeds]
    return cal.fit(cells, known.arms, options=cal.FitOptions(starts=2))


def _split(b):
    fit_seeds, check_seeds = cal.split_seeds(b.seeds)
    return ([c for c in b.cells if c["seed"] in fit_seeds], [c for c in b.cells if c["seed"] in check_seeds])


# ------------------------------------------------------------------ the replay
@pytest.mark.parametrize("nu", [0.0, 0.7], ids=["sgd_like", "adam_like"])
@pytest.mark.parametrize("strategy", ["learnability", "dynamic_filter"])
def test_replay_with_the_true_params_is_the_simulator_exactly(strategy, nu):
    """Teacher-forced replay of a simulated run under its own params retraces it: the
    same solve probabilities as SimulatedLearner._update on the recorded rewards, the
    same held-out accuracies as were recorded (only kept groups train, for filters)."""
    true = TRUE.replace(update_normalisation=nu)
    cfg = sim_config(params=true, budget=30)
    cell = run_episode(cfg, 3, strategy_of(strategy)).to_dict()
    if strategy == "dynamic_filter":
        assert any("kept" in o and not all(o["kept"]) for o in cell["outcomes"])
    from sparft.envs.presets import default_arms

    arms = default_arms()
    replay = cal.Replay([cell], arms, true, n_test=64)
    out = replay.run(cal.rows_of([true], replay.world), predict=True)
    learner = SimulatedLearner(arms, true, group_size=8)
    for t, o in enumerate(cell["outcomes"]):
        items = learner._items(o["ids"])
        np.testing.assert_allclose(out["p"][0, 0, t, : len(items)], learner.solve_probability(items), rtol=0, atol=1e-12)
        k = np.round(o["reward"]).astype(int)
        rewards = (np.arange(8)[None, :] < k[:, None]).astype(float)
        kept = np.asarray(o.get("kept", [True] * len(items)))
        if kept.any():
            learner._update(items[kept], rewards[kept])
    steps = [0, *cell["eval_steps"]]
    np.testing.assert_allclose(
        out["accuracy"][0, 0, steps], [cell["initial_accuracy"], *cell["accuracy"]], rtol=0, atol=1e-12
    )


def test_log_likelihood_is_highest_near_the_truth(known):
    ll = {name: cal.log_likelihood(known.cells, known.arms, p) for name, p in (
        ("true", TRUE), ("default", SimParams()), ("slow", TRUE.replace(learning_rate=0.004)),
        ("flat", TRUE.replace(discrimination=4.0)),
    )}
    assert ll["true"] > max(ll["default"], ll["slow"], ll["flat"]), ll


# ------------------------------------------------------------------ the fit
@pytest.mark.statistical
def test_fit_recovers_an_adam_like_update_size(tmp_path):
    """Runs made with update_normalisation 0.8 (a step's size nearly independent of how
    many groups carry signal) are told apart from SGD-like ones when it is fitted."""
    true = TRUE.replace(update_normalisation=0.8)
    b = cal.load_bench(write_bench(tmp_path / "adam", params=true, seeds=4))
    fields = ("topic_skill", "learning_rate", "update_normalisation")
    # The other fields at their true values; the search of nu starts at 0.5, not at the base's 0.
    res = cal.fit(b.cells, b.arms, base=TRUE, options=cal.FitOptions(starts=2, fields=fields))
    # measured 0.768 (learning rate 0.0121 for 0.012); SGD-like runs: see below
    assert res.params.update_normalisation == pytest.approx(0.8, abs=0.1)
    assert res.params.learning_rate == pytest.approx(0.012, rel=0.15)
    sgd = cal.load_bench(write_bench(tmp_path / "sgd", params=TRUE, seeds=4))
    res0 = cal.fit(sgd.cells, sgd.arms, base=TRUE, options=cal.FitOptions(starts=2, fields=fields))
    assert res0.params.update_normalisation < 0.1  # measured 0.014


@pytest.mark.statistical
def test_fit_recovers_known_parameters(known, fitted):
    """12 fit cells (4 seeds x 3 strategies x 60 steps x 4 groups of 8). Measured:
    discrimination 7.94 (true 8), learning_rate 0.0121 (0.012), topic skills 0.336 / 0.492
    (0.35 / 0.5), transfer 0.39 (0.3). Forgetting, the variance exponent and memorisation
    are weakly identified in 60 steps and are not asserted."""
    got = fitted.params
    skills = dict(got.topic_skill)
    assert got.discrimination == pytest.approx(8.0, rel=0.10)
    assert got.learning_rate == pytest.approx(0.012, rel=0.15)
    assert skills["topic0"] == pytest.approx(0.35, abs=0.04)
    assert skills["topic1"] == pytest.approx(0.5, abs=0.04)
    assert abs(got.transfer - 0.3) < 0.3
    # The optimum is at least as likely as the truth (the optimiser found the maximum).
    fit_cells, _ = _split(known)
    assert fitted.loglik_rollouts >= cal.log_likelihood(fit_cells, known.arms, TRUE) - 1e-3
    assert all(s["converged"] for s in fitted.starts)


@pytest.mark.statistical
def test_fitted_preset_beats_the_default_on_check_seeds(known, fitted):
    _, check = _split(known)
    mine = cal.fit_errors(check, known.arms, fitted.params)
    default = cal.fit_errors(check, known.arms, SimParams())
    assert mine["loglik"] > default["loglik"] + 1000, (mine["loglik"], default["loglik"])
    # measured: solve-rate MAE 0.047 vs 0.216, held-out accuracy MAE 0.004 vs 0.18
    assert mine["solve_rate_mae"] < 0.07 < 0.15 < default["solve_rate_mae"]
    assert mine["accuracy_mae"] < 0.02 < 0.1 < default["accuracy_mae"]
    assert {a["arm"] for a in mine["per_arm"]} <= set(range(known.arms.n_arms))


def test_param_space_round_trips_and_respects_bounds():
    topics = ("topic0", "topic1")
    space = cal.ParamSpace(SimParams(), topics)
    assert space.names[:2] == ["topic_skill:topic0", "topic_skill:topic1"] and space.size == 8
    theta = space.encode(TRUE)
    back = space.decode(theta)
    for f in ("discrimination", "learning_rate", "transfer", "forgetting", "variance_exponent", "memorisation"):
        assert getattr(back, f) == pytest.approx(getattr(TRUE, f), rel=1e-9), f
    assert dict(back.topic_skill) == pytest.approx(dict(TRUE.topic_skill))
    assert cal.ParamSpace(SimParams(), ("only",)).names[0] == "topic_skill:only"
    assert "transfer" not in cal.ParamSpace(SimParams(), ("only",)).names  # one topic: nothing to transfer
    with pytest.raises(ValueError, match="cannot fit 'n_test'"):
        cal.ParamSpace(SimParams(), topics, ("n_test",))


def test_split_seeds():
    assert cal.split_seeds([0, 1, 2, 3]) == ([0, 2], [1, 3])
    assert cal.split_seeds([0, 1, 2, 3], fit_seeds=[0, 1]) == ([0, 1], [2, 3])
    with pytest.raises(ValueError, match="both a fit and a check seed"):
        cal.split_seeds([0, 1, 2], fit_seeds=[0, 1], check_seeds=[1, 2])
    with pytest.raises(ValueError, match="seed 7 has no cell"):
        cal.split_seeds([0, 1], fit_seeds=[7])


# ------------------------------------------------------------------ rank agreement
def test_kendall_tau_on_hand_made_orders():
    a = {"x": [0.9, 0.8], "y": [0.5, 0.6], "z": [0.2, 0.2], "w": [0.1, 0.0]}
    same = cal.kendall_tau(a, {"x": [3.0], "y": [2.0], "z": [1.0], "w": [0.0]}, n_boot=200)
    assert same.tau == 1.0 and same.n_strategies == 4
    reverse = cal.kendall_tau(a, {"x": [0.0], "y": [1.0], "z": [2.0], "w": [3.0]}, n_boot=200)
    assert reverse.tau == -1.0
    # One swapped pair of 6: (5 - 1) / 6.
    swap = cal.kendall_tau(a, {"x": [2.0], "y": [3.0], "z": [1.0], "w": [0.0]}, n_boot=200)
    assert swap.tau == pytest.approx(4 / 6)
    # Well separated strategies: every resample keeps the order; overlapping ones do not.
    assert (same.ci_low, same.ci_high) == (1.0, 1.0)
    noisy = cal.kendall_tau({"x": [0.0, 1.0], "y": [0.1, 0.9]}, {"x": [1.0], "y": [0.0]}, n_boot=500)
    assert noisy.ci_low == -1.0 and noisy.ci_high == 1.0
    # Only common strategies count; fewer than two is an error.
    assert cal.kendall_tau(a, {"x": [1.0], "y": [0.0], "other": [5.0]}, n_boot=10).n_strategies == 2
    with pytest.raises(ValueError, match="at least 2 strategies"):
        cal.kendall_tau(a, {"x": [1.0]})


def test_split_half_tau_of_the_real_order(known):
    import dataclasses

    def with_finals(final):
        cells = [{**c, "final_accuracy": final(c["strategy"], int(c["seed"]))} for c in known.cells]
        return dataclasses.replace(known, cells=cells)

    names = list(STRATEGIES)
    # Strategies far apart: every half of the seeds gives the same order.
    apart = cal.split_half_tau(with_finals(lambda s, seed: names.index(s) + 0.01 * seed), names)
    assert apart["splits"] == 35 and apart["seeds"] == list(range(8))  # C(8, 4) / 2
    assert apart["mean"] == apart["min"] == apart["max"] == 1.0
    # The order set by the seeds alone (even seeds one way, odd seeds the other): the halves
    # that split even from odd disagree, so the mean falls well below 1.
    alternating = cal.split_half_tau(
        with_finals(lambda s, seed: names.index(s) * (1 if seed % 2 else -1)), names)
    assert alternating["min"] == -1.0 and alternating["mean"] < 0.5
    # Odd seed counts leave one seed out of each split; one seed gives no split at all.
    five = dataclasses.replace(known, cells=[c for c in known.cells if int(c["seed"]) < 5])
    assert cal.split_half_tau(five, names)["splits"] == 15  # C(5, 2) * C(3, 2) / 2
    one = dataclasses.replace(known, cells=[c for c in known.cells if int(c["seed"]) == 0])
    assert cal.split_half_tau(one, names)["splits"] == 0


def test_mixed_share_counts_the_groups_grpo_learns_from():
    def cell(*groups):
        return {"outcomes": [{"reward": list(g), "n": [8] * len(g)} for g in groups]}

    cells = {"a": [cell((0, 8, 3, 5)), cell((1, 1))], "b": [cell((0, 0, 8, 8))]}
    assert cal.mixed_share(cells) == {"a": pytest.approx((0.5 + 1.0) / 2), "b": 0.0}


def test_vectorised_tau_b_equals_scipy_with_ties():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 4, (300, 6)).astype(float)
    y = rng.integers(0, 4, (300, 6)).astype(float)
    expected = np.array([kendalltau(a, b).statistic for a, b in zip(x, y)])
    np.testing.assert_allclose(cal.tau_b(x, y), expected, atol=1e-12)


def test_simulated_bench_runs_every_strategy_on_the_given_arms(known):
    cells = cal.simulated_bench(TRUE, known.arms, known.cfg, ["uniform", "adarft"], [0, 1])
    assert list(cells) == ["uniform", "adarft"] and [c["seed"] for c in cells["uniform"]] == [0, 1]
    # Same params, arms and seed as the bench: the very same run.
    real = next(c for c in known.cells if c["strategy"] == "adarft" and c["seed"] == 1)
    assert cells["adarft"][1]["accuracy"] == real["accuracy"]


# ------------------------------------------------------------------ presets and the env id
@pytest.fixture
def preset_file(tmp_path, known):
    path = tmp_path / "test_calibrated.json"
    C.save_preset(path, C.CalibratedPreset(
        name="test_calibrated", params=TRUE, arms=known.arms,
        env={"batch_size": 4, "group_size": 8, "budget": 40}, env_id="sparft/Curriculum-TestCalibrated-v0",
        report={"note": "made by the tests"},
    ))
    yield path
    presets.PRESETS.unregister("test_calibrated")
    C.CALIBRATED_PRESETS.pop("test_calibrated", None)
    gym.registry.pop("sparft/Curriculum-TestCalibrated-v0", None)
    C.CALIBRATED_IDS.pop("sparft/Curriculum-TestCalibrated-v0", None)


@pytest.mark.parametrize("mode", ["arm", "arms", "examples"])
def test_a_registered_preset_passes_check_env(preset_file, mode):
    assert C.register_preset(preset_file) == "test_calibrated"
    assert C.register_preset(preset_file) == "test_calibrated"  # idempotent
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        env = gym.make("sparft/Curriculum-TestCalibrated-v0", action_mode=mode, budget=4, eval_every=2)
        check_env(env.unwrapped)
        env.close()
    u = gym.make("sparft/Curriculum-TestCalibrated-v0").unwrapped
    assert (u.batch_size, u.group_size, u.budget) == (4, 8, 40)  # the real bench's settings
    assert u.learner.params == TRUE


def test_a_registered_preset_is_a_learner_preset(preset_file, known):
    C.register_preset(preset_file)
    arms, params = presets.make_preset("test_calibrated")
    assert params == TRUE and arms.ids == known.arms.ids
    cfg = load_config(data={"learner": {"kind": "simulated", "preset": "test_calibrated"},
                            "env": {"budget": 5, "batch_size": 4, "group_size": 8, "eval_every": 5}})
    assert SimParams.from_dict(cfg.learner.params) == TRUE
    assert len(run_episode(cfg, 0, strategy_of("uniform")).outcomes) == 5
    other = preset_file.with_name("default.json")
    other.write_text(preset_file.read_text())
    with pytest.raises(ValueError, match="preset 'default' exists already"):
        C.register_preset(other)


def test_register_shipped_takes_every_file_of_a_folder(preset_file):
    assert C.register_shipped(preset_file.parent) == ["test_calibrated"]
    assert C.CALIBRATED_IDS["sparft/Curriculum-TestCalibrated-v0"] == "test_calibrated"
    assert C.register_shipped(preset_file.parent / "absent") == []
    bad = preset_file.with_name("bad.json")
    bad.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(ValueError, match="not a calibrated preset"):
        C.load_preset(bad)


@pytest.mark.skipif(not (C.FOLDER / "smollm2_arith.json").is_file(), reason="the fitted preset is not shipped yet")
def test_the_shipped_smollm2_preset_passes_check_env():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        env = gym.make("sparft/Curriculum-SmolLM2Arith-v0", budget=4, eval_every=2)
        check_env(env.unwrapped)
    assert "smollm2_arith" in presets.available_presets()


# ------------------------------------------------------------------ the command
def test_cli_writes_a_preset_and_a_report(known, tmp_path, capsys):
    out = tmp_path / "fit.json"
    code = main(["calibrate", str(known.folder), "--out", str(out), "--no-rank", "--starts", "1",
                 "--fields", "topic_skill,discrimination,learning_rate"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "solve-rate MAE" in printed and "held-out acc. MAE" in printed and str(out) in printed
    preset = C.load_preset(out)
    assert preset.name == "fit" and preset.env == {"batch_size": 4, "group_size": 8, "budget": 60}
    assert preset.params.discrimination == pytest.approx(8.0, rel=0.15)
    assert preset.params.forgetting == SimParams().forgetting  # not fitted
    r = preset.report
    assert r["fit_seeds"] == [0, 2, 4, 6] and r["check_seeds"] == [1, 3, 5, 7]
    assert len(r["cells"]["fit"]) == 12 and r["objective"]["accuracy_weight"] == 0.0
    e = r["errors"]
    assert e["fitted"]["check"]["solve_rate_mae"] < e["default"]["check"]["solve_rate_mae"]
    assert "rank" not in r and r["update_noise"]["method"] == "zero"


def test_cli_with_rank_agreement_and_noise_matching(known, tmp_path, capsys):
    out = tmp_path / "full.json"
    assert main(["calibrate", str(known.folder), "--out", str(out), "--sim-seeds", "8", "--starts", "1"]) == 0
    printed = capsys.readouterr().out
    assert "Kendall tau" in printed and "real vs real" in printed and "groups with mixed rewards" in printed
    r = C.load_preset(out).report
    assert r["rank"]["real_split_half"]["splits"] == 35
    assert set(r["rank"]["real_mixed_share"]) == set(r["rank"]["fitted"]["sim_mixed_share"]) == set(STRATEGIES)
    for label in ("fitted", "default"):
        tau = r["rank"][label]["all_seeds"]
        assert tau["ci_low"] <= tau["tau"] <= tau["ci_high"] and tau["n_strategies"] == 3
    assert r["update_noise"]["method"] == "spread" and len(r["update_noise"]["grid"]) == len(cal.NOISE_GRID)


def _bad_input(capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


def test_cli_bad_input_is_one_line_naming_the_fix(tmp_path, capsys, known):
    out = str(tmp_path / "p.json")
    assert "is not a folder" in _bad_input(capsys, ["calibrate", str(tmp_path / "nope"), "--out", out])
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "not a bench folder (no config.yaml)" in _bad_input(capsys, ["calibrate", str(empty), "--out", out])
    (empty / "config.yaml").write_text((known.folder / "config.yaml").read_text())
    assert "no finished cells" in _bad_input(capsys, ["calibrate", str(empty), "--out", out])
    (empty / "cells").mkdir()
    cell = json.loads(next((known.folder / "cells").glob("*.json")).read_text())
    cell.pop("outcomes")
    (empty / "cells" / "uniform__seed000.json").write_text(json.dumps(cell))
    err = _bad_input(capsys, ["calibrate", str(empty), "--out", out])
    assert "no per-step outcomes" in err and "re-run `sparft bench" in err
    assert "a .json file" in _bad_input(capsys, ["calibrate", str(known.folder), "--out", str(tmp_path / "p.txt")])
    err = _bad_input(capsys, ["calibrate", str(known.folder), "--out", out, "--fit-seeds", "0,1", "--check-seeds", "1"])
    assert "both a fit and a check seed" in err
    assert not (tmp_path / "p.json").exists()
