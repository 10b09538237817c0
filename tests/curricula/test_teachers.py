"""The teacher registry, composition, parameters, rescaling and ``sparft strategies``."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest

from sparft import curricula
from sparft.curricula import teachers
from sparft.curricula.arms import ArmSet
from sparft.curricula.outcome import StepOutcome, group_advantages
from sparft.curricula.rescaling import LinearRescaler, QuantileRescaler, make_rescaler, resolve

THIRTEEN = [
    "uniform", "random_subset", "sparft", "sparft_lp", "sparft_target", "dump", "sec",
    "adarft", "learnability", "tscl", "graves_exp3s", "e2h", "dynamic_filter",
]


@pytest.fixture(scope="module")
def arms() -> ArmSet:
    return ArmSet.synthetic([[0.1, 0.2, 0.15], [0.5, 0.55], [0.9, 0.8, 0.85, 0.95]])


def outcome(arm_of_slot, rewards) -> StepOutcome:
    rewards = np.asarray(rewards, dtype=np.float64)
    arm_of_slot = np.asarray(arm_of_slot)
    return StepOutcome(
        step=0,
        example_ids=tuple(f"a{a}/{i}" for i, a in enumerate(arm_of_slot)),
        arms=arm_of_slot,
        rewards=rewards,
        advantages=group_advantages(rewards),
        tokens=np.ones_like(rewards, dtype=np.int64),
    )


# ----------------------------------------------------------------- registry
def test_available_lists_every_registered_strategy_once():
    names = curricula.available()
    assert names == sorted(set(names)) == teachers.STRATEGIES.names()
    assert set(THIRTEEN) <= set(names)  # newer strategies too (tests/curricula/test_strategies_2025.py)
    assert "bandit_signal" not in names  # reached by composition
    for name in names:  # each module registers its class under its own name
        assert teachers.get(name).name == name
        assert name in teachers.STRATEGIES


def test_every_strategy_builds_with_defaults(arms):
    for name in THIRTEEN:
        t = curricula.make(name, arms=arms, seed=0, batch_size=4, budget=10)
        assert t.name == name
        assert t.action_mode in teachers.ACTION_MODES
        assert t.action_mode == type(t).action_mode_for(t.params)


def test_unknown_strategy_lists_valid_names_and_closest(arms):
    with pytest.raises(ValueError, match=r"unknown strategy 'sparf': did you mean 'sparft'.*dynamic_filter.*uniform"):
        curricula.make("sparf", arms=arms)
    with pytest.raises(ValueError) as e:
        curricula.make("sparf", arms=arms)
    assert "\n" not in str(e.value) and "sparft strategies" in str(e.value) and "BANDIT+SIGNAL" in str(e.value)


def test_unknown_bandit_and_signal_get_their_registry_errors(arms):
    with pytest.raises(ValueError, match=r"unknown bandit 'exp3_z'.*did you mean 'exp3_s'"):
        curricula.make({"bandit": "exp3_z", "signal": "solve_rate"}, arms=arms)
    with pytest.raises(ValueError, match=r"unknown signal 'solve_rat'.*did you mean 'solve_rate'"):
        curricula.make("exp3+solve_rat", arms=arms)
    with pytest.raises(ValueError, match=r"unknown signal"):
        curricula.make("sparft", arms=arms, signal={"solve_rate": -1, "lerning_progress": 1})


def test_unknown_parameter_names_the_valid_ones(arms):
    with pytest.raises(ValueError, match=r"unknown parameter 'etta'.*did you mean 'eta'"):
        curricula.make("adarft", arms=arms, etta=0.1)
    with pytest.raises(ValueError, match=r"exp3_s: unknown hyperparameter 'gama'"):
        curricula.make("exp3_s+solve_rate", arms=arms, bandit_params={"gama": 0.1})


@pytest.mark.parametrize(
    "name, params, match",
    [
        ("adarft", {"beta": 1.5}, "beta must be in"),
        ("dump", {"temperature": 0.0}, "temperature must be > 0"),
        ("e2h", {"schedule": "linear"}, "schedule='linear' is not one of"),
        ("tscl", {"window": 1}, "window must be an integer >= 2"),
        ("random_subset", {"size": 0}, "size must be a positive integer"),
        ("dynamic_filter", {"inner": "dynamic_filter"}, "cannot wrap itself"),
        ("sparft_target", {"signal": "abs_learning_progress", "transform": "target"}, None),
        ("bandit_signal", {"signal": "learning_progress", "transform": "target"}, "needs a signal in"),
    ],
)
def test_bad_parameter_values_are_one_line_errors(arms, name, params, match):
    if match is None:  # a valid combination: builds
        curricula.make(name, arms=arms, **params)
        return
    with pytest.raises(ValueError, match=match):
        curricula.make(name, arms=arms, **params)


def test_composition_spellings_agree(arms):
    a = curricula.make("exp3_s+learning_progress", arms=arms, seed=1)
    b = curricula.make({"bandit": "exp3_s", "signal": "learning_progress"}, arms=arms, seed=1)
    c = curricula.make({"name": "bandit_signal", "bandit": "exp3_s", "signal": "learning_progress"}, arms=arms, seed=1)
    assert a.params == b.params == c.params
    assert a.name == "bandit_signal"
    # learning progress lies in [-1, 1], exp3_s takes [0, 1]: auto rescales linearly, and says so
    assert a.rescale_kind == "linear"
    assert a.pipeline() == "learning_progress -> identity [-1, 1] -> linear -> exp3_s [0, 1], slots=one"
    # a named strategy with overrides, as a mapping
    d = curricula.make({"name": "sparft", "bandit_params": {"sigma": 0.5}}, arms=arms)
    assert d.bandit.params.sigma == 0.5 and d.name == "sparft"


def test_presets_are_the_composed_teacher(arms):
    for name in ("sparft", "sparft_lp", "sparft_target", "sec", "graves_exp3s"):
        t = curricula.make(name, arms=arms)
        assert isinstance(t, teachers.get("bandit_signal"))
    sparft = curricula.make("sparft", arms=arms)
    assert sparft.pipeline() == "solve_rate -> negate [-1, 0] -> none -> thompson_gaussian [-1e+12, 1e+12], slots=one"
    lp = curricula.make("sparft_lp", arms=arms, lp_weight=2.0)
    assert lp.weights == {"solve_rate": -1.0, "abs_learning_progress": 2.0}
    sec = curricula.make("sec", arms=arms, temperature=0.5)
    assert sec.bandit.params.temperature == 0.5 and sec.bandit.params.step_size == 0.5
    # the preset's knob wins over a resolved config's spelled-out bandit_params
    sec = curricula.make("sec", arms=arms, temperature=0.3, bandit_params={"temperature": 1.0, "step_size": 0.5})
    assert sec.bandit.params.temperature == 0.3
    lp = curricula.make("sparft_lp", arms=arms, lp_weight=3.0, signal={"solve_rate": -1.0, "abs_learning_progress": 2.0})
    assert lp.weights["abs_learning_progress"] == 3.0
    assert curricula.make("graves_exp3s", arms=arms).rescale_kind == "quantile"


def test_module_class_path(arms):
    t = curricula.make("sparft.curricula.strategies._uniform:Uniform", arms=arms, batch_size=2)
    assert t.name == "uniform"
    with pytest.raises(ValueError, match="not a sparft.curricula.Teacher subclass"):
        curricula.make("sparft.curricula.arms:ArmSet", arms=arms)


def test_register_a_new_teacher(arms):
    @dataclasses.dataclass(frozen=True)
    class P:
        arm: int = teachers.hp(0, "the arm to always play")

    @curricula.register("always_test")
    class Always(curricula.Teacher):
        """Always the same arm."""

        Params = P

        def act(self, obs=None, info=None):
            return self.params.arm

    try:
        assert "always_test" in curricula.available()
        assert curricula.make("always_test", arms=arms, arm=2).act() == 2
        with pytest.raises(ValueError, match="already registered"):
            curricula.register("always_test")(type("Other", (curricula.Teacher,), {}))
    finally:
        teachers.STRATEGIES.unregister("always_test")


def test_teachers_that_fill_slots_need_the_batch_size(arms):
    t = curricula.make("uniform", arms=arms)
    with pytest.raises(ValueError, match="pass batch_size=B"):
        t.act()
    assert t.act(None, {"batch_size": 3}).shape == (3,)  # or the env's info says it
    e2h = curricula.make("e2h", arms=arms, batch_size=2)
    with pytest.raises(ValueError, match="pass budget=STEPS"):
        e2h.act()


# ---------------------------------------------------------------- parameters
def test_params_are_frozen_dataclasses_with_help(arms):
    for name in THIRTEEN:
        cls = teachers.get(name)
        params = cls.Params()
        assert dataclasses.is_dataclass(params)
        fields = dataclasses.fields(params)
        if fields:
            with pytest.raises(dataclasses.FrozenInstanceError):
                setattr(params, fields[0].name, None)
        for spec in teachers.param_specs(name):
            assert spec["help"], f"{name}.{spec['name']} has no help text"
            if "low" in spec:
                assert spec["low"] < spec["high"]
        json.dumps(teachers.describe(name), default=str)


def test_suggest_draws_every_swept_field_within_range():
    class Trial:
        def __init__(self):
            self.calls = []

        def suggest_float(self, name, low, high, log=False):
            self.calls.append(name)
            return high

        def suggest_int(self, name, low, high, log=False):
            self.calls.append(name)
            return low

        def suggest_categorical(self, name, choices):
            self.calls.append(name)
            return choices[-1]

    trial = Trial()
    params = teachers.suggest(trial, "adarft", prefix="strategy.")
    assert trial.calls == ["strategy.eta", "strategy.alpha", "strategy.beta"]
    assert params == {"eta": 1.0, "alpha": 10.0, "beta": 0.8}
    params = teachers.suggest(Trial(), "e2h")
    assert params["schedule"] == "gaussian"
    teachers.params_from_dict(teachers.get("e2h").Params, params)


def test_state_dict_refuses_another_strategy_or_other_params(arms):
    a = curricula.make("dump", arms=arms, seed=0)
    b = curricula.make("sec", arms=arms, seed=0)
    with pytest.raises(ValueError, match="belongs to teacher 'dump'"):
        b.load_state_dict(a.state_dict())
    c = curricula.make("dump", arms=arms, seed=0, window=10)
    with pytest.raises(ValueError, match="window: 300 vs 10"):
        c.load_state_dict(a.state_dict())


def test_importing_curricula_stays_light():
    code = (
        "import sys, sparft.curricula as c; c.make; "
        "print(sorted({'torch','transformers','optuna','wandb','sparft.curricula.strategies'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------------ rescaling
def test_quantile_rescaling_matches_graves_by_hand():
    r = QuantileRescaler((0.0, 1.0))
    assert r(5.0) == 0.5  # one value: q_lo == q_hi -> the midpoint
    for v in (1.0, 2.0, 3.0, 4.0):
        r(v)
    # history [5, 1, 2, 3, 4] + 10: 20th/80th percentiles (linear) of [1, 2, 3, 4, 5, 10] are 2 and 5
    assert r(10.0) == 1.0  # above q_hi
    assert r(0.0) == 0.0  # below q_lo
    # history now 1, 2, 3, 4, 5, 10, 0, 3.5: q_lo=1.4, q_hi=4.6 -> (3.5 - 1.4) / 3.2
    assert r(3.5) == pytest.approx((3.5 - 1.4) / 3.2)
    # onto another range, e.g. [-1, 1] as in the paper
    g = QuantileRescaler((-1.0, 1.0))
    for v in (0.0, 1.0, 2.0, 3.0, 4.0):
        g(v)
    assert g(2.0) == pytest.approx(0.0)


def test_quantile_history_is_a_bounded_reservoir():
    r = QuantileRescaler((0.0, 1.0), history=10)
    rng = np.random.default_rng(0)
    for v in range(1000):
        r(float(v), rng)
    assert len(r.values) == 10 and r.seen == 1000
    # a uniform sample of 0..999: the retained values are spread, not the first or last ten
    assert np.ptp(r.values) > 500
    s = QuantileRescaler((0.0, 1.0), history=10)
    s.load(json.loads(json.dumps(r.state())))
    assert s.values == r.values and s.seen == r.seen


def test_linear_and_auto_rescaling():
    lin = LinearRescaler((-1.0, 1.0), (0.0, 1.0))
    assert lin(-1.0) == 0.0 and lin(0.0) == 0.5 and lin(1.0) == 1.0
    assert lin(1.0 + 1e-12) == 1.0  # float rounding is clamped
    with pytest.raises(ValueError, match="outside its documented range"):
        lin(1.5)  # a signal that breaks its range is an error, not a silent clip
    assert resolve("auto", (0.0, 0.25), (0.0, 1.0)) == "none"
    assert resolve("auto", (-1.0, 1.0), (0.0, 1.0)) == "linear"
    assert resolve("auto", (-np.inf, np.inf), (0.0, 1.0)) == "quantile"
    assert resolve("auto", (-1.0, 1.0), (-1e12, 1e12)) == "none"
    with pytest.raises(ValueError, match="use rescale='quantile'"):
        make_rescaler("linear", (0.0, np.inf), (0.0, 1.0))


def test_composed_teacher_feeds_the_bandit_rescaled_values(arms):
    t = curricula.make("exp3+learning_progress", arms=arms, seed=0)
    t.observe(outcome([0, 0], [[1, 0, 0, 0], [0, 0, 0, 0]]))  # first pull: progress 0
    assert t.last_rewards == {0: 0.5}
    t.observe(outcome([0, 1], [[1, 1, 1, 1], [1, 1, 0, 0]]))  # arm 0: 0.125 -> 1.0 (+0.875)
    assert t.last_rewards[0] == pytest.approx((0.875 + 1) / 2)
    assert t.last_rewards[1] == 0.5
    st = curricula.make("sparft_target", arms=arms, seed=0)
    st.observe(outcome([2, 2], [[1, 1, 1, 1], [1, 1, 1, 0]]))  # solve rate 0.875 -> 1 - 0.375/0.5
    assert st.last_rewards == {2: pytest.approx(0.25)}


def test_accuracy_gain_teacher_measures_the_first_step_against_the_reset_evaluation(arms):
    t = curricula.make({"bandit": "softmax", "signal": "accuracy_gain"}, arms=arms, seed=0)
    t.act(None, {"eval": {"accuracy": 0.30}})  # reset's info: accuracy before training
    first = outcome([1, 1], [[1, 0, 0, 0], [0, 0, 1, 1]])
    first.eval = {"accuracy": 0.42}
    t.observe(first)
    assert t.last_rewards == {1: pytest.approx(0.12)}
    t.act(None, {"eval": {"accuracy": 0.42}})  # a step's info repeats its outcome's eval
    later = outcome([0, 0], [[1, 0, 0, 0], [0, 0, 1, 1]])
    later.eval = {"accuracy": 0.40}
    t.observe(later)
    assert t.last_rewards == {0: pytest.approx(-0.02)}


# ------------------------------------------------------------------------ CLI
def test_cli_lists_all_thirteen(capsys):
    from sparft.experiments.cli import main

    assert main(["strategies"]) == 0
    out = capsys.readouterr().out
    for name in THIRTEEN:
        assert any(line.startswith(name + " ") for line in out.splitlines()), name
    assert "eta = 0.5" in out and "bandits: " in out and "signals: " in out


def test_cli_json_and_unknown_name(capsys):
    from sparft.experiments.cli import main

    assert main(["strategies", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["name"] for d in data["strategies"]] == curricula.available()
    assert "exp3_s" in data["compose"]["bandits"]
    assert main(["strategies", "adarft"]) == 0
    assert "Shi et al. 2025" in capsys.readouterr().out
    assert main(["strategies", "adaft"]) == 2
    assert "did you mean 'adarft'" in capsys.readouterr().err
