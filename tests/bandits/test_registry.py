"""The registry: names, errors with the closest match, import paths, plugins, specs."""

import importlib.metadata
import json
import textwrap

import numpy as np
import pytest

from sparft import bandits

TWELVE = {
    "uniform", "epsilon_greedy", "softmax", "ucb1", "kl_ucb", "discounted_ucb",
    "sliding_window_ucb", "thompson_beta", "thompson_gaussian", "exp3", "exp3_ix", "exp3_s",
}

PLUGIN = textwrap.dedent('''
    from dataclasses import dataclass

    import numpy as np

    from sparft.bandits import Bandit, Hyperparameters, hp


    @dataclass(frozen=True)
    class RoundRobinParams(Hyperparameters):
        start: int = hp(0, "first arm played")

        def validate(self):
            if self.start < 0:
                raise ValueError(f"start must be >= 0, got {self.start}")


    class RoundRobin(Bandit):
        """Plays the arms in turn (a test plugin)."""

        Params = RoundRobinParams
        _state_fields = ("_next", "_sums")

        def _reset_stats(self):
            self._next = self.params.start % self.n_arms
            self._sums = [0.0] * self.n_arms

        def select(self):
            return self._next

        def update(self, arm, reward):
            arm, reward = self._check(arm, reward)
            self._sums[arm] += reward
            self._next = (arm + 1) % self.n_arms
            self.t += 1

        def values(self):
            return np.array(self._sums)
''')


@pytest.fixture
def plugin_module(tmp_path, monkeypatch):
    (tmp_path / "sparft_test_plugin.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    return "sparft_test_plugin"


@pytest.fixture
def fake_entry_points(monkeypatch):
    """Install entry points of the group ``sparft.bandits`` as a package would."""

    def install(**named):
        eps = importlib.metadata.EntryPoints(
            importlib.metadata.EntryPoint(name=n, value=v, group=bandits.ENTRY_POINT_GROUP)
            for n, v in named.items()
        )
        real = importlib.metadata.entry_points

        def entry_points(**kw):
            if kw.get("group") == bandits.ENTRY_POINT_GROUP:
                return eps
            return real(**kw)

        monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)

    return install


def test_all_twelve_are_registered():
    assert set(bandits.available()) >= TWELVE
    assert bandits.available() == bandits.REGISTRY.names() == sorted(bandits.available())
    for name in bandits.available():  # every module registers its class under its own name
        assert bandits.resolve(name).name == name


def test_a_new_module_in_the_package_is_found_without_an_edit(tmp_path, monkeypatch, scratch_names):
    """Adding an algorithm is one new ``_name.py`` file: the first lookup imports it."""
    import sys

    import sparft.bandits as package

    (tmp_path / "_zz_test_new.py").write_text(PLUGIN.replace(
        "class RoundRobin(Bandit):", "@register('zz_round_robin')\nclass RoundRobin(Bandit):"
    ).replace("from sparft.bandits import Bandit, Hyperparameters, hp",
              "from sparft.bandits import Bandit, Hyperparameters, hp, register"))
    scratch_names.append("zz_round_robin")
    monkeypatch.setattr(package, "__path__", [*package.__path__, str(tmp_path)])
    try:
        bandits.REGISTRY.discover(again=True)
        assert bandits.make("zz_round_robin", 3, start=1).select() == 1
    finally:
        sys.modules.pop("sparft.bandits._zz_test_new", None)


def test_unknown_name_lists_the_valid_ones_and_the_closest():
    with pytest.raises(ValueError) as err:
        bandits.make("thompson_gauss", 3)
    msg = str(err.value)
    assert "did you mean 'thompson_gaussian'" in msg
    for name in TWELVE:
        assert name in msg
    with pytest.raises(ValueError, match="valid bandits: .*`sparft bandits` describes them"):
        bandits.make("zzzz", 3)
    assert "\n" not in msg  # one line


def test_import_path_strings(plugin_module):
    b = bandits.make(f"{plugin_module}:RoundRobin", 3, seed=0, start=1)
    assert [b.select() for _ in range(1)] == [1]
    b.update(1, 0.5)
    assert b.select() == 2
    assert bandits.make("sparft.bandits._ucb1:UCB1", 3).params.c == pytest.approx(2**0.5)
    for bad in ("no_such_module_xyz:Thing", "sparft.bandits:NoSuchClass", "json:JSONDecoder",
                "not a path:"):
        with pytest.raises(ValueError):
            bandits.make(bad, 3)


def test_entry_point_plugin(plugin_module, fake_entry_points):
    fake_entry_points(round_robin=f"{plugin_module}:RoundRobin", broken="no_such_module_xyz:X")
    assert "round_robin" in bandits.available()
    b = bandits.make("round_robin", 4, seed=0, start=2)
    assert b.select() == 2
    spec = bandits.spec("round_robin")
    assert spec.summary == "Plays the arms in turn (a test plugin)."
    assert [f["name"] for f in spec.Params.describe()] == ["start"]
    with pytest.raises(ValueError, match="start"):
        bandits.make("round_robin", 4, start=-1)
    with pytest.raises(ValueError, match="failed to load"):
        bandits.make("broken", 4)
    # A plugin gets the base class's JSON state for free.
    b.update(2, 0.5)
    assert b.select() == 3
    other = bandits.make("round_robin", 4, seed=1, start=2)
    other.load_state_dict(json.loads(json.dumps(b.state_dict())))
    assert other.select() == 3
    np.testing.assert_array_equal(other.values(), b.values())


@pytest.fixture
def scratch_names():
    """Names a test registers, forgotten afterwards."""
    names: list[str] = []
    yield names
    for name in names:
        bandits.REGISTRY.unregister(name)


def test_register_decorator_and_duplicates(plugin_module, scratch_names):
    scratch_names += ["round_robin_sub", "lazy_rr"]
    module = __import__(plugin_module)

    @bandits.register("round_robin_sub")
    class Sub(module.RoundRobin):
        """A registered subclass."""

    assert bandits.make("round_robin_sub", 3).select() == 0
    assert Sub.name == "round_robin_sub"
    bandits.register("lazy_rr", f"{plugin_module}:RoundRobin")
    assert bandits.make("lazy_rr", 3, start=2).select() == 2
    with pytest.raises(ValueError, match="already registered"):
        bandits.register("ucb1", Sub)
    with pytest.raises(ValueError, match="lower-case"):
        bandits.register("Bad Name", Sub)
    with pytest.raises(ValueError, match="Bandit subclass"):
        bandits.register("not_a_bandit", dict)


def test_specs_and_descriptions_are_json_and_complete():
    described = bandits.describe()
    json.dumps(described, allow_nan=False)
    by_name = {d["name"]: d for d in described}
    assert set(by_name) >= TWELVE
    for name in TWELVE:
        d = by_name[name]
        assert d["summary"]
        params_cls = bandits.params_class(name)
        defaults = params_cls()  # every hyperparameter has a default
        for field in d["hyperparameters"]:
            assert field["help"], (name, field["name"])
            assert getattr(defaults, field["name"]) == field["default"]
            if field["low"] is not None:  # the sweep range is itself valid
                params_cls(**{field["name"]: field["low"]})
                params_cls(**{field["name"]: field["high"]})
    assert by_name["ucb1"]["hyperparameters"][0]["name"] == "c"
    assert by_name["exp3"]["hyperparameters"][1]["type"] == "float | None"
    assert by_name["uniform"]["hyperparameters"] == []
    assert bandits.spec("thompson_beta").reward_range == (0.0, 1.0)
    assert bandits.spec("thompson_gaussian").reward_range[0] < 0.0


def test_hyperparameters_are_frozen():
    params = bandits.make("ucb1", 3).params
    with pytest.raises(AttributeError):
        params.c = 3.0
