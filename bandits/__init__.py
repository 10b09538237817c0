"""Multi-armed bandits for curricula: one registry, one contract, numpy only.

    >>> from sparft import bandits
    >>> b = bandits.make("ucb1", n_arms=4, seed=0)
    >>> arm = b.select(); b.update(arm, 1.0)

``make(name, n_arms, seed=None, **params)`` accepts a registered name (see
``available()``), a plugin name from the entry-point group ``sparft.bandits``,
or a ``"package.module:Class"`` path; ``register`` adds a class. The names live in
``REGISTRY`` (a :class:`sparft.registry.Registry`, the shape every kind of plugin
shares): a new algorithm is one new ``_name.py`` module here with
``@register("name")`` above its class, found on the first lookup.
``spec(name)`` says what an algorithm is (its hyperparameter dataclass
``spec(name).Params`` with defaults and help, its reward range) and
``describe()`` gives the same for every algorithm as JSON-able data.

Every algorithm keeps the ``Bandit`` contract: ``select()``,
``update(arm, reward)``, ``probabilities()`` (None where it has none),
``values()``, ``reset()``, ``state_dict()``/``load_state_dict()``; rewards
outside the algorithm's ``reward_range`` raise ``ValueError``. Each bandit draws
from its own ``numpy.random.Generator`` (``bandit.rng``), made from ``seed``.
"""

from __future__ import annotations

from typing import Any

# Importing each algorithm's module registers it (``@register`` in the module).
from sparft.bandits._base import REAL_REWARDS, UNIT_REWARDS, Bandit, Hyperparameters, hp
from sparft.bandits._discounted_ucb import DiscountedUCB, DiscountedUCBParams
from sparft.bandits._epsilon_greedy import EpsilonGreedy, EpsilonGreedyParams
from sparft.bandits._exp3 import EXP3, EXP3Params
from sparft.bandits._exp3_ix import EXP3IX, EXP3IXParams
from sparft.bandits._exp3_s import EXP3S, EXP3SParams
from sparft.bandits._kl_ucb import KLUCB, KLUCBParams
from sparft.bandits._registry import (
    ENTRY_POINT_GROUP,
    REGISTRY,
    BanditSpec,
    available,
    register,
    resolve,
    spec,
)
from sparft.bandits._sliding_window_ucb import SlidingWindowUCB, SlidingWindowUCBParams
from sparft.bandits._softmax import Softmax, SoftmaxParams
from sparft.bandits._thompson_beta import ThompsonBeta, ThompsonBetaParams
from sparft.bandits._thompson_gaussian import ThompsonGaussian, ThompsonGaussianParams
from sparft.bandits._ucb1 import UCB1, UCB1Params
from sparft.bandits._uniform import Uniform, UniformParams

__all__ = [
    "ENTRY_POINT_GROUP",
    "EXP3",
    "EXP3IX",
    "EXP3S",
    "KLUCB",
    "REAL_REWARDS",
    "REGISTRY",
    "UCB1",
    "UNIT_REWARDS",
    "Bandit",
    "BanditSpec",
    "DiscountedUCB",
    "DiscountedUCBParams",
    "EXP3IXParams",
    "EXP3Params",
    "EXP3SParams",
    "EpsilonGreedy",
    "EpsilonGreedyParams",
    "Hyperparameters",
    "KLUCBParams",
    "SlidingWindowUCB",
    "SlidingWindowUCBParams",
    "Softmax",
    "SoftmaxParams",
    "ThompsonBeta",
    "ThompsonBetaParams",
    "ThompsonGaussian",
    "ThompsonGaussianParams",
    "UCB1Params",
    "Uniform",
    "UniformParams",
    "available",
    "describe",
    "hp",
    "make",
    "params_class",
    "register",
    "resolve",
    "spec",
]


def make(name: str | type[Bandit], n_arms: int, seed: Any = None, **params: Any) -> Bandit:
    """A new bandit: ``name`` is a registered name, a plugin, or ``"package.module:Class"``.

    ``seed`` is None (fresh entropy), an int, a ``numpy.random.SeedSequence`` or a
    ``numpy.random.Generator``; ``params`` are the algorithm's hyperparameters
    (``spec(name).Params``). Unknown names and bad hyperparameters raise ``ValueError``.
    """
    return resolve(name)(n_arms, seed, **params)


def params_class(name: str | type[Bandit]) -> type[Hyperparameters]:
    """The frozen hyperparameter dataclass of ``name`` (fields carry ``help`` and a sweep
    range in their metadata; ``.describe()`` lists them)."""
    return resolve(name).Params


def describe(name: str | None = None) -> dict | list[dict]:
    """JSON-able description of one algorithm, or of every available one."""
    if name is not None:
        return spec(name).to_dict()
    return REGISTRY.describe(available())
