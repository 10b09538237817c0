"""Curriculum strategies ("teachers"): the base class, the registry and ``make``.

A teacher decides, before every GRPO update, what the learner trains on; after
the update it observes the :class:`~sparft.curricula.outcome.StepOutcome`. It
speaks the environment's action language, named by its ``action_mode``:

* ``"arm"``      -- one arm index; the environment draws the batch from that arm;
* ``"arms"``     -- an array of B arm indices, the arm of each batch slot (mixed batches);
* ``"examples"`` -- an array of B indices into ``arms.ids`` (the teacher picks examples).

Every strategy is one small module in :mod:`sparft.curricula.strategies` that
registers its class under a name with :func:`register`; its hyperparameters are
a frozen dataclass (``Params``) whose fields carry ``metadata={"help": ...}`` and,
where a sweep makes sense, a search range (``low``/``high``/``log``) or
``choices``. The experiments layer builds config files and Optuna sweep spaces
from those dataclasses (:func:`param_specs`).

:func:`make` accepts a registered name, a ``"bandit+signal"`` string, a mapping
(``{"bandit": "exp3_s", "signal": "learning_progress", ...}`` composes a bandit
and a signal; ``{"name": "sparft", ...params}`` names a strategy with its
parameters) or ``"package.module:Class"`` for a teacher defined outside sparft.
Unknown names raise a ``ValueError`` that lists the valid names and the closest
match.

A teacher's randomness is its own ``np.random.Generator`` seeded by ``seed``;
``state_dict()`` is plain JSON-able data that includes the generator's state, so
a run resumed from it makes exactly the same choices as one that never stopped.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np

from sparft.curricula.arms import ArmSet
from sparft.curricula.outcome import StepOutcome
from sparft.fileio import to_jsonable
from sparft.registry import Entry, Registry, param_rows, subclass_check

__all__ = [
    "ACTION_MODES",
    "STRATEGIES",
    "NoParams",
    "Teacher",
    "available",
    "check_choice",
    "describe",
    "get",
    "hp",
    "make",
    "param_specs",
    "params_from_dict",
    "register",
    "resolve",
    "resolve_class",
    "suggest",
]

ACTION_MODES = ("arm", "arms", "examples")

def hp(
    default: Any,
    help: str,
    *,
    low: float | None = None,
    high: float | None = None,
    log: bool = False,
    choices: tuple[Any, ...] | None = None,
) -> Any:
    """A hyperparameter field: its default, help text and (optionally) its sweep range.

    ``low``/``high`` (with ``log`` for a log-uniform range) or ``choices`` say what a
    sweep should try; fields without them are not swept. Mutable defaults (dicts)
    are copied per instance.
    """
    meta: dict[str, Any] = {"help": help}
    if low is not None or high is not None:
        meta.update(low=low, high=high, log=log)
    if choices is not None:
        meta["choices"] = tuple(choices)
    if isinstance(default, dict | list):
        return dataclasses.field(default_factory=lambda d=default: type(d)(d), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


@dataclasses.dataclass(frozen=True)
class NoParams:
    """A strategy without hyperparameters."""


def check_choice(name: str, value: Any, choices: tuple[Any, ...]) -> None:
    """Raise a ``ValueError`` naming the choices unless ``value`` is one of them."""
    if value not in choices:
        raise ValueError(f"{name}={value!r} is not one of {', '.join(map(repr, choices))}")


class Teacher:
    """Base class of every curriculum strategy.

    Subclasses set ``name`` (by :func:`register`), ``Params`` (a frozen dataclass)
    and ``action_mode``; they implement :meth:`act` and :meth:`observe` and keep
    every piece of evolving state in :meth:`_get_state` / :meth:`_set_state` so
    that :meth:`state_dict` round-trips through JSON.

    Args:
        arms: the arms the teacher chooses between.
        params: an instance of ``Params`` (defaults when ``None``).
        seed: seed of the teacher's generator (``None``: fresh entropy).
        batch_size: B, the number of prompts per update; teachers whose action
            is per slot need it (when ``None`` it is read from ``info["batch_size"]``
            the first time :meth:`act` sees it).
        budget: the run's length in updates, for schedules that need it (read
            from ``info["budget"]`` when ``None``).
    """

    name: ClassVar[str] = ""
    Params: ClassVar[type] = NoParams
    #: "arm" | "arms" | "examples"; an instance may decide it from its params.
    action_mode: str = "arm"

    @classmethod
    def action_mode_for(cls, params: Any) -> str:
        """The action mode an instance built with ``params`` will have."""
        del params
        return cls.action_mode

    def __init__(
        self,
        arms: ArmSet,
        params: Any = None,
        seed: int | None = None,
        *,
        batch_size: int | None = None,
        budget: int | None = None,
    ) -> None:
        if not isinstance(arms, ArmSet):
            raise TypeError(f"arms must be an ArmSet, got {type(arms).__name__}")
        if params is None:
            params = self.Params()
        if not isinstance(params, self.Params):
            raise TypeError(f"params must be {self.Params.__name__}, got {type(params).__name__}")
        for value, what in ((batch_size, "batch_size"), (budget, "budget")):
            if value is not None and (int(value) != value or value < 1):
                raise ValueError(f"{what} must be a positive integer, got {value!r}")
        self.arms = arms
        self.params = params
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self._batch_size = None if batch_size is None else int(batch_size)
        self._budget = None if budget is None else int(budget)
        self.steps = 0  # outcomes observed so far

    # ----------------------------------------------------------------- sizes
    @property
    def n_arms(self) -> int:
        return self.arms.n_arms

    def batch_size(self, info: Mapping[str, Any] | None = None) -> int:
        """B: from ``make(batch_size=...)``, else from the environment's ``info``."""
        if self._batch_size is None and info and info.get("batch_size") is not None:
            self._batch_size = int(info["batch_size"])
        if self._batch_size is None:
            raise ValueError(
                f"teacher {self.name!r} picks every batch slot and needs the batch size: "
                "pass batch_size=B to sparft.curricula.make"
            )
        return self._batch_size

    def budget(self, info: Mapping[str, Any] | None = None) -> int:
        """The run's length in updates: from ``make(budget=...)``, else ``info["budget"]``."""
        in_steps = not info or info.get("budget_unit", "steps") == "steps"
        if self._budget is None and info and info.get("budget") is not None and in_steps:
            self._budget = int(info["budget"])
        if self._budget is None:
            raise ValueError(
                f"teacher {self.name!r} follows a schedule over the run and needs its length: "
                "pass budget=STEPS to sparft.curricula.make"
            )
        return self._budget

    # ------------------------------------------------------------ behaviour
    def act(self, obs: Any = None, info: Mapping[str, Any] | None = None) -> int | np.ndarray:
        """The next action (an arm, B arms or B example indices, per ``action_mode``)."""
        raise NotImplementedError

    def observe(self, outcome: StepOutcome) -> None:
        """Learn from the outcome of the update made with the last action."""
        self.steps += 1

    def probabilities(self) -> np.ndarray | None:
        """Per-arm probability of being chosen next, where the strategy has one (for logs)."""
        return None

    def env_options(self) -> dict[str, Any]:
        """Options the environment must be built with for this teacher (e.g. dynamic sampling)."""
        return {}

    # ------------------------------------------------------------ persistence
    def _get_state(self) -> dict[str, Any]:
        return {}

    def _set_state(self, state: Mapping[str, Any]) -> None:
        del state

    def state_dict(self) -> dict[str, Any]:
        """Plain JSON-able state: name, params, generator state and what was learned."""
        return {
            "name": self.name,
            "params": dataclasses.asdict(self.params),
            "action_mode": self.action_mode,
            "batch_size": self._batch_size,
            "budget": self._budget,
            "steps": self.steps,
            "rng": to_jsonable(self.rng.bit_generator.state, nonfinite="keep"),
            "state": to_jsonable(self._get_state(), nonfinite="keep"),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if state.get("name") != self.name:
            raise ValueError(
                f"this state belongs to teacher {state.get('name')!r}, not {self.name!r}; "
                "build the teacher with the same strategy before loading it"
            )
        saved = params_from_dict(type(self.params), state.get("params", {}))
        if saved != self.params:
            raise ValueError(
                f"the saved {self.name!r} state was made with other parameters "
                f"({_diff(saved, self.params)}); build the teacher with the saved parameters"
            )
        if state.get("batch_size") is not None:
            self._batch_size = int(state["batch_size"])
        if state.get("budget") is not None:
            self._budget = int(state["budget"])
        self.steps = int(state.get("steps", 0))
        self.rng.bit_generator.state = dict(state["rng"])
        self._set_state(state.get("state", {}))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params}, arms={self.n_arms})"


def _diff(a: Any, b: Any) -> str:
    da, db = dataclasses.asdict(a), dataclasses.asdict(b)
    return ", ".join(f"{k}: {da[k]!r} vs {db[k]!r}" for k in da if da[k] != db.get(k))


# ----------------------------------------------------------------- registry
def _row(entry: Entry[type[Teacher]]) -> dict[str, Any]:
    cls = entry.target
    return {
        "name": cls.name or entry.name,
        "summary": entry.summary,
        "action_mode": cls.action_mode_for(cls.Params()),
        "params": param_specs(cls),
    }


#: Every strategy: each module of :mod:`sparft.curricula.strategies` registers its own
#: (the package's modules are imported on the first lookup, so a new strategy is one
#: new file there); entry points ``sparft.strategies``; ``"package.module:Class"``.
STRATEGIES: Registry[type[Teacher]] = Registry(
    "strategy",
    plural="strategies",
    listing="sparft strategies",
    modules=("sparft.curricula.strategies", "_"),
    check=subclass_check(Teacher, "sparft.curricula.Teacher", "a dataclass"),
    row=_row,
    alternatives="'BANDIT+SIGNAL' composes one, 'package.module:Class' imports one",
)


def register(name: str, *, listed: bool = True) -> Callable[[type[Teacher]], type[Teacher]]:
    """Class decorator: register a :class:`Teacher` subclass under ``name``.

    ``listed=False`` keeps a name out of :func:`available` (the composed
    ``bandit_signal`` teacher, reached through ``{"bandit": ..., "signal": ...}``).
    """
    return STRATEGIES.register(name, listed=listed)


def available() -> list[str]:
    """The registered strategy names, sorted."""
    return STRATEGIES.names()


def get(name: str) -> type[Teacher]:
    """The class registered as ``name`` (or ``"package.module:Class"``)."""
    return STRATEGIES.get(name)


def resolve_class(name: Any) -> tuple[type[Teacher], dict[str, Any]]:
    """``(teacher class, params its spelling implies)`` for any spelling of a strategy
    (``"sparft"``, ``"exp3_s+learning_progress"``, a mapping): see :func:`resolve`."""
    resolved, implied = resolve(name)
    return get(resolved), implied


def params_from_dict(params_cls: type, values: Mapping[str, Any]) -> Any:
    """Build a ``Params`` dataclass from a mapping, rejecting unknown keys by name."""
    fields = {f.name for f in dataclasses.fields(params_cls)}
    unknown = [k for k in values if k not in fields]
    if unknown:
        valid = sorted(fields)
        close = difflib.get_close_matches(str(unknown[0]), valid, n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"unknown parameter {unknown[0]!r} for {params_cls.__qualname__}; "
            f"valid parameters: {', '.join(valid) or '(none)'}{hint}"
        )
    return params_cls(**dict(values))


def make(
    name: str | Mapping[str, Any],
    arms: ArmSet,
    seed: int | None = None,
    *,
    batch_size: int | None = None,
    budget: int | None = None,
    **params: Any,
) -> Teacher:
    """Build a teacher.

    Args:
        name: a registered strategy (``"sparft"``), ``"BANDIT+SIGNAL"``
            (``"exp3_s+learning_progress"``), a mapping (``{"bandit": ..., "signal": ...,
            ...params}`` or ``{"name": "sparft", ...params}``) or ``"package.module:Class"``.
        arms: the ArmSet to choose from.
        seed: the teacher's seed.
        batch_size: prompts per update (needed by teachers that fill every slot).
        budget: updates in the run (needed by fixed schedules such as ``e2h``).
        **params: hyperparameters, overriding those given in ``name``'s mapping.
    """
    name, params = resolve(name, params)
    cls = get(name)
    return cls(
        arms,
        params_from_dict(cls.Params, params),
        seed=seed,
        batch_size=batch_size,
        budget=budget,
    )


def resolve(name: Any, params: Mapping[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """Normalise the spellings of a strategy to ``(registered name, params)``:
    ``"BANDIT+SIGNAL"`` and ``{"bandit": ..., "signal": ...}`` become ``"bandit_signal"``
    with those params; ``{"name": N, ...}`` becomes ``N`` with the rest."""
    params = dict(params or {})
    if isinstance(name, Mapping):
        spec = dict(name)
        spec.update(params)
        key = "name" if "name" in spec else "strategy" if "strategy" in spec else None
        if key is not None:
            return resolve(spec.pop(key), spec)
        if "bandit" in spec or "signal" in spec:
            return "bandit_signal", spec
        raise ValueError(
            "a strategy mapping needs 'name' (a registered strategy) or 'bandit' and 'signal' "
            f"(a composed one); got keys {sorted(spec)}"
        )
    if not isinstance(name, str):
        raise ValueError(f"a strategy is a name or a mapping, got {type(name).__name__}")
    if "+" in name and ":" not in name:
        bandit, _, signal = name.partition("+")
        params.setdefault("bandit", bandit.strip())
        params.setdefault("signal", signal.strip())
        return "bandit_signal", params
    return name, params


# ----------------------------------------------------------- introspection
def param_specs(cls_or_name: type[Teacher] | str) -> list[dict[str, Any]]:
    """One dict per hyperparameter: name, type, default, help and sweep range/choices."""
    cls = get(cls_or_name) if isinstance(cls_or_name, str) else cls_or_name
    return param_rows(cls.Params)


def describe(name: str) -> dict[str, Any]:
    """What ``sparft strategies`` shows: name, one-line summary, action mode, params."""
    return STRATEGIES.describe([name])[0]


def suggest(trial: Any, name: str, prefix: str = "") -> dict[str, Any]:
    """Draw the swept hyperparameters of ``name`` from an Optuna ``trial``.

    Only fields with a range or choices are drawn; the rest keep their defaults.
    """
    params: dict[str, Any] = {}
    for spec in param_specs(name):
        key = prefix + spec["name"]
        if "choices" in spec:
            params[spec["name"]] = trial.suggest_categorical(key, list(spec["choices"]))
        elif spec.get("low") is not None and spec.get("high") is not None:
            if isinstance(spec["default"], bool):
                continue
            if isinstance(spec["default"], int):
                params[spec["name"]] = trial.suggest_int(
                    key, int(spec["low"]), int(spec["high"]), log=spec.get("log", False)
                )
            else:
                params[spec["name"]] = trial.suggest_float(
                    key, float(spec["low"]), float(spec["high"]), log=spec.get("log", False)
                )
    return params
