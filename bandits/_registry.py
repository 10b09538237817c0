"""The bandit registry: names to classes, from three places.

1. Built-ins, registered by ``@register("name")`` in each algorithm's module.
2. Third-party plugins: an entry point in the group ``sparft.bandits`` whose
   value is ``"package.module:Class"`` (looked up when a name is not built in).
3. Any ``"package.module:Class"`` string, imported on the spot.

Every path ends in a ``Bandit`` subclass; anything else, and any unknown name,
is a one-line ``ValueError`` that lists the valid names and the closest match.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import re
from dataclasses import dataclass
from typing import Any

from sparft.bandits._base import Bandit, Hyperparameters

__all__ = ["ENTRY_POINT_GROUP", "BanditSpec", "available", "register", "resolve", "spec"]

ENTRY_POINT_GROUP = "sparft.bandits"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_REGISTRY: dict[str, type[Bandit] | str] = {}


def register(name: str, target: type[Bandit] | str | None = None, *, overwrite: bool = False):
    """Register a bandit class under ``name``.

    As a decorator: ``@register("my_ucb")`` above the class. As a call:
    ``register("my_ucb", MyUCB)`` or ``register("my_ucb", "pkg.mod:MyUCB")`` (imported
    on first use). Names are lower-case identifiers; re-registering a taken name
    raises unless ``overwrite=True``.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"bandit names are lower-case identifiers like 'my_ucb', got {name!r}")
    if name in _REGISTRY and not overwrite:
        raise ValueError(f"a bandit named {name!r} is already registered; pass overwrite=True")

    def add(cls: type[Bandit] | str) -> type[Bandit] | str:
        if isinstance(cls, str):
            _check_path(cls)
        else:
            _check_class(cls, name)
            if not cls.__dict__.get("name"):
                cls.name = name
        _REGISTRY[name] = cls
        return cls

    return add if target is None else add(target)


def _check_path(path: str) -> None:
    if not re.match(r"^[\w.]+:[\w.]+$", path):
        raise ValueError(f"expected 'package.module:Class', got {path!r}")


def _check_class(cls: Any, where: str) -> type[Bandit]:
    if not (isinstance(cls, type) and issubclass(cls, Bandit)):
        raise ValueError(f"{where} is not a sparft.bandits.Bandit subclass (got {cls!r})")
    return cls


def _import(path: str) -> type[Bandit]:
    _check_path(path)
    module_name, _, attr = path.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as e:
        raise ValueError(f"cannot import bandit {path!r}: {e}") from None
    return _check_class(obj, path)


def _entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    # Read on every call (cheap next to a run), so that newly installed plugins
    # and tests that fake entry points are seen without a cache to clear.
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}


def available() -> list[str]:
    """Names ``make`` accepts: built-ins and installed plugins, sorted."""
    return sorted(set(_REGISTRY) | set(_entry_points()))


def resolve(name: str | type[Bandit]) -> type[Bandit]:
    """The class behind a registered name, a plugin name, or a ``"module:Class"`` path."""
    if isinstance(name, type):
        return _check_class(name, repr(name))
    if not isinstance(name, str):
        raise ValueError(f"a bandit is named by a string, got {name!r}")
    if ":" in name:
        return _import(name)
    if name in _REGISTRY:
        target = _REGISTRY[name]
        if isinstance(target, str):
            target = _REGISTRY[name] = _import(target)
            if not target.__dict__.get("name"):
                target.name = name
        return target
    eps = _entry_points()
    if name in eps:
        try:
            cls = eps[name].load()
        except Exception as e:  # a broken plugin must not look like an unknown name
            raise ValueError(f"bandit plugin {name!r} ({eps[name].value}) failed to load: {e}") from None
        _check_class(cls, f"entry point {name!r} ({eps[name].value})")
        if not cls.__dict__.get("name"):
            cls.name = name
        return cls
    names = available()
    close = difflib.get_close_matches(name, names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ValueError(
        f"unknown bandit {name!r}{hint} Available: {', '.join(names)}; "
        "or pass 'package.module:Class'"
    )


@dataclass(frozen=True)
class BanditSpec:
    """What a registered algorithm is: for configs, sweeps and ``sparft bandits``."""

    name: str
    cls: type[Bandit]
    summary: str
    reward_range: tuple[float, float]
    has_probabilities: bool

    @property
    def Params(self) -> type[Hyperparameters]:  # noqa: N802 - mirrors the class attribute
        """The frozen hyperparameter dataclass (fields, defaults, help in metadata)."""
        return self.cls.Params

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "class": f"{self.cls.__module__}:{self.cls.__qualname__}",
            "summary": self.summary,
            "reward_range": list(self.reward_range),
            "has_probabilities": self.has_probabilities,
            "hyperparameters": self.cls.Params.describe(),
        }


def spec(name: str | type[Bandit]) -> BanditSpec:
    """The ``BanditSpec`` of a name, plugin or ``"module:Class"`` path."""
    cls = resolve(name)
    return BanditSpec(
        name=name if isinstance(name, str) else cls.label(),
        cls=cls,
        summary=cls.summary(),
        reward_range=tuple(cls.reward_range),
        has_probabilities=bool(cls.has_probabilities),
    )
