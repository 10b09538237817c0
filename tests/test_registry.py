"""The one registry shape (``sparft.registry``), and every kind of plugin that uses it."""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import sys

import pytest

from sparft.experiments.cli import main
from sparft.experiments.cmd_plugins import KINDS, registry
from sparft.registry import Registry, param_rows


@dataclasses.dataclass(frozen=True)
class WidgetParams:
    size: int = dataclasses.field(default=3, metadata={"help": "how big", "low": 1, "high": 9})


class Widget:
    """A widget for the tests."""

    Params = WidgetParams

    def __init__(self, size: int = 3) -> None:
        self.size = size


@pytest.fixture
def widgets() -> Registry:
    return Registry("widget", listing="sparft widgets")


def test_register_make_get_and_describe(widgets):
    widgets.register("plain")(Widget)
    assert widgets.make("plain", size=5).size == 5
    assert widgets.get("plain") is Widget and "plain" in widgets and widgets.names() == ["plain"]
    (row,) = widgets.describe()
    assert row["summary"] == "A widget for the tests." and row["source"].endswith(":Widget")
    assert row["params"] == [
        {"name": "size", "type": "int", "default": 3, "help": "how big", "low": 1, "high": 9}
    ]
    assert param_rows(None) == []
    widgets.register("hidden", Widget, listed=False, summary="not listed", colour="red")
    assert "hidden" not in widgets.names() and widgets.entry("hidden").meta == {"colour": "red"}


def test_names_are_checked_and_taken_names_kept(widgets):
    widgets.register("plain", Widget)
    widgets.register("plain", Widget)  # the same object again: fine
    with pytest.raises(ValueError, match="a widget named 'plain' is already registered"):
        widgets.register("plain", dict)
    widgets.register("plain", dict, overwrite=True)
    with pytest.raises(ValueError, match="lower-case identifiers"):
        widgets.register("Bad Name", Widget)
    widgets.unregister("plain")
    assert "plain" not in widgets


def test_an_unknown_name_is_one_line_with_the_closest_and_the_listing(widgets):
    for name in ("alpha", "beta", "gamma"):
        widgets.register(name, Widget)
    with pytest.raises(ValueError) as e:
        widgets.get("alpah")
    msg = str(e.value)
    assert msg.startswith(
        "unknown widget 'alpah': did you mean 'alpha'? valid widgets: alpha, beta, gamma"
    )
    assert "`sparft widgets`" in msg and "package.module:Attr" in msg and "\n" not in msg


def test_import_paths_lazy_registrations_and_checks(widgets):
    assert widgets.get("json:JSONDecoder").__name__ == "JSONDecoder"
    widgets.register("decoder", "json:JSONDecoder")  # imported on first use
    assert widgets.get("decoder").__name__ == "JSONDecoder"
    for bad in ("no_such_module_xyz:Thing", "json:NoSuchThing", "not a path:"):
        with pytest.raises(ValueError):
            widgets.get(bad)
    strict = Registry("widget", check=lambda name, obj: obj if obj is Widget else _raise(name))
    with pytest.raises(ValueError, match="not a widget"):
        strict.get("json:JSONDecoder")


def _raise(name):
    raise ValueError(f"{name} is not a widget")


def test_entry_points_load_lazily_and_broken_ones_say_so(widgets, monkeypatch):
    eps = importlib.metadata.EntryPoints(
        importlib.metadata.EntryPoint(name=n, value=v, group="sparft.widgets")
        for n, v in {"decoder": "json:JSONDecoder", "broken": "no_such_module_xyz:X"}.items()
    )
    real = importlib.metadata.entry_points
    monkeypatch.setattr(
        importlib.metadata,
        "entry_points",
        lambda **kw: eps if kw.get("group") == "sparft.widgets" else real(**kw),
    )
    assert widgets.group == "sparft.widgets" and widgets.names() == ["broken", "decoder"]
    assert widgets.get("decoder").__name__ == "JSONDecoder"
    with pytest.raises(ValueError, match="widget plugin 'broken' .* failed to load"):
        widgets.get("broken")
    rows = {r["name"]: r for r in widgets.describe()}  # a broken plugin does not hide the others
    assert "error" in rows["broken"] and rows["decoder"]["summary"]


def test_the_modules_of_a_kinds_folder_are_found_on_the_first_lookup(tmp_path, monkeypatch):
    package = tmp_path / "zz_widgets"
    package.mkdir()
    (package / "__init__.py").write_text(
        "from sparft.registry import Registry\nWIDGETS = Registry('widget', modules=('zz_widgets', 'w_'))\n"
    )
    (package / "w_round.py").write_text(
        "from zz_widgets import WIDGETS\n\n@WIDGETS.register('round')\nclass Round:\n    '''A round one.'''\n"
    )
    (package / "helpers.py").write_text(
        "raise RuntimeError('not a plugin module: never imported')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        import zz_widgets

        assert zz_widgets.WIDGETS.names() == ["round"]
        assert zz_widgets.WIDGETS.entry("round").summary == "A round one."
    finally:
        for name in [m for m in sys.modules if m.startswith("zz_widgets")]:
            del sys.modules[name]


# ------------------------------------------------------------------ every kind of sparft
@pytest.mark.parametrize("kind", list(KINDS))
def test_every_registered_plugin_resolves_and_is_described(kind):
    reg = registry(kind)
    names = reg.names()
    assert names, kind
    rows = reg.describe()
    assert [r["name"] for r in rows] == names
    for row in rows:
        assert "error" not in row, row
        assert row.get("summary"), (kind, row["name"])
        assert reg.get(row["name"]) is reg.entry(row["name"]).target
    json.dumps(rows, default=str)
    with pytest.raises(ValueError) as e:
        reg.get("zz_no_such_plugin")
    assert f"unknown {reg.kind} 'zz_no_such_plugin'" in str(e.value) and "\n" not in str(e.value)
    assert reg.listing in str(e.value)


def test_sparft_plugins_lists_every_kind(capsys):
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    for kind in KINDS:
        assert f"({kind}; entry points: {registry(kind).group})" in out
    assert main(["plugins", "learner", "grpo", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["learner"]
    assert [r["name"] for r in rows] == ["grpo"] and any(
        p["name"] == "learning_rate" for p in rows[0]["params"]
    )
    assert main(["plugins", "lerner"]) == 2
    assert "did you mean 'learner'?" in capsys.readouterr().err
