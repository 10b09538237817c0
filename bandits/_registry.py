"""The bandit registry (:data:`REGISTRY`, a :class:`sparft.registry.Registry`).

Names resolve from the built-ins (``@register("name")`` in each algorithm's module;
every ``_*.py`` module of this package is imported on the first lookup, so a new
algorithm is one new file), from entry points in the group ``sparft.bandits``, and
from any ``"package.module:Class"`` string. Every path ends in a ``Bandit``
subclass; anything else, and any unknown name, is a one-line ``ValueError`` that
names the closest valid names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sparft.bandits._base import Bandit, Hyperparameters
from sparft.registry import Entry, Registry

__all__ = [
    "ENTRY_POINT_GROUP",
    "REGISTRY",
    "BanditSpec",
    "available",
    "register",
    "resolve",
    "spec",
]


def _check_class(cls: Any, where: str) -> type[Bandit]:
    if not (isinstance(cls, type) and issubclass(cls, Bandit)):
        raise ValueError(f"{where} is not a sparft.bandits.Bandit subclass (got {cls!r})")
    return cls


def _check(name: str, cls: Any) -> type[Bandit]:
    _check_class(cls, name)
    if ":" not in name and not cls.__dict__.get("name"):
        cls.name = name  # a registered or plugin name; a "module:Class" path names none
    return cls


def _row(entry: Entry[type[Bandit]]) -> dict[str, Any]:
    return BanditSpec.of(entry.name, entry.target).to_dict()


REGISTRY: Registry[type[Bandit]] = Registry(
    "bandit",
    listing="sparft bandits",
    modules=("sparft.bandits", "_"),
    check=_check,
    row=_row,
    alternatives="'package.module:Class'",
)
ENTRY_POINT_GROUP = REGISTRY.group


def register(name: str, target: type[Bandit] | str | None = None, *, overwrite: bool = False):
    """Register a bandit class under ``name``.

    As a decorator: ``@register("my_ucb")`` above the class. As a call:
    ``register("my_ucb", MyUCB)`` or ``register("my_ucb", "pkg.mod:MyUCB")`` (imported
    on first use). Names are lower-case identifiers; re-registering a taken name
    raises unless ``overwrite=True``.
    """
    return REGISTRY.register(name, target, overwrite=overwrite)


def available() -> list[str]:
    """Names ``make`` accepts: built-ins and installed plugins, sorted."""
    return REGISTRY.names()


def resolve(name: str | type[Bandit]) -> type[Bandit]:
    """The class behind a registered name, a plugin name, or a ``"module:Class"`` path."""
    if isinstance(name, type):
        return _check_class(name, repr(name))
    return REGISTRY.get(name)


@dataclass(frozen=True)
class BanditSpec:
    """What a registered algorithm is: for configs, sweeps and ``sparft bandits``."""

    name: str
    cls: type[Bandit]
    summary: str
    reward_range: tuple[float, float]
    has_probabilities: bool

    @classmethod
    def of(cls, name: str, bandit: type[Bandit]) -> BanditSpec:
        return cls(
            name=name,
            cls=bandit,
            summary=bandit.summary(),
            reward_range=tuple(bandit.reward_range),
            has_probabilities=bool(bandit.has_probabilities),
        )

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
    return BanditSpec.of(name if isinstance(name, str) else cls.label(), cls)
