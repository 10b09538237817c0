"""One registry shape for every name-to-thing lookup of sparft.

Bandits, strategies, signals, data sources, rescalers, simulator presets, executors
and learners each own one :class:`Registry`. A plugin registers itself in its own
module, with a decorator (or a call)::

    BANDITS = Registry("bandit", listing="sparft bandits", modules=("sparft.bandits", "_"))

    @BANDITS.register("my_ucb")
    class MyUCB(Bandit): ...

``make(name, *args, **params)`` builds one and ``get(name)`` returns what was
registered. A name resolves, in this order, from

1. what is registered in this process: built-ins register when their module is
   imported, and every module of the kind's own folder (``modules``: a package and
   a file-name prefix) is imported on the first lookup, so a new plugin is one new
   file with nothing else to edit;
2. an entry point of an installed distribution in the group ``sparft.<kind>s``
   (``[project.entry-points."sparft.bandits"] my_ucb = "pkg.mod:MyUCB"``), loaded on
   first use; a module that registers itself on import keeps the metadata it gave;
3. a ``"package.module:Attr"`` string, imported on the spot.

An unknown name is one ``ValueError`` line that names the kind, the bad name, the
closest valid names, every valid name and how to list them. ``names()`` and
``describe()`` (one JSON-able row per plugin) feed the ``sparft`` listings; a row
holds the plugin's one-line summary and, where it declares one, its hyperparameter
dataclass (fields with their help and sweep ranges, see :func:`param_rows`).

This module imports nothing else of sparft, so every folder may use it.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import importlib.metadata
import pkgutil
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

__all__ = ["Entry", "Registry", "default_row", "import_path", "param_rows", "subclass_check", "summary_of"]

T = TypeVar("T")

NAME = re.compile(r"^[a-z][a-z0-9_]*$")
PATH = re.compile(r"^[\w.]+:[\w.]+$")


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One registered plugin: its name, the object, and what listings show of it."""

    name: str
    target: T
    summary: str = ""
    #: the hyperparameter dataclass (fields carry ``help`` and sweep ranges), if any
    params: type | None = None
    #: whatever else the kind declares (e.g. ``takes_path`` of a data source)
    meta: Mapping[str, Any] = field(default_factory=dict)
    listed: bool = True

    @property
    def source(self) -> str:
        """``module:qualname`` of the object (of its class, for an instance)."""
        obj = self.target if hasattr(self.target, "__qualname__") else type(self.target)
        return f"{obj.__module__}:{obj.__qualname__}"


def summary_of(obj: Any) -> str:
    """An object's ``description`` string, else the first line of its docstring (of its
    class, for an instance)."""
    text = getattr(obj, "description", None)
    if not isinstance(text, str) or not text:
        text = getattr(obj, "__doc__", None) or type(obj).__doc__ or ""
    lines = text.strip().splitlines()
    return lines[0].strip() if lines else ""


def param_rows(params: type | None) -> list[dict[str, Any]]:
    """One dict per field of a hyperparameter dataclass: name, type, default, and its
    metadata (``help``; ``low``/``high``/``log`` or ``choices`` where a sweep makes sense)."""
    if params is None or not dataclasses.is_dataclass(params):
        return []
    rows = []
    for f in dataclasses.fields(params):
        default = f.default
        if f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        elif default is dataclasses.MISSING:
            default = None
        rows.append({"name": f.name, "type": str(f.type), "default": default, **f.metadata})
    return rows


def import_path(path: str) -> Any:
    """The object a ``"package.module:Attr"`` (or ``"package.module:Outer.Inner"``) string names."""
    if not PATH.match(path):
        raise ValueError(f"expected 'package.module:Attr', got {path!r}")
    module_name, _, attr = path.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as e:
        raise ValueError(f"cannot import {path!r}: {e}") from None
    return obj


def subclass_check(base: type, public: str, params: str) -> Callable[[str, Any], Any]:
    """A :class:`Registry` ``check`` for plugins that subclass ``base`` (named ``public``
    in errors) and declare their hyperparameters as a dataclass ``Params``: a plugin
    registered under a name (not a ``"module:Class"`` path) takes that name."""

    def check(name: str, cls: Any) -> Any:
        if not (isinstance(cls, type) and issubclass(cls, base)):
            raise ValueError(f"{name!r} is not a {public} subclass (got {cls!r})")
        if not dataclasses.is_dataclass(getattr(cls, "Params", None)):
            raise ValueError(f"{cls.__name__}.Params must be {params}")
        if ":" not in name:
            cls.name = name
        return cls

    return check


def default_row(entry: Entry[Any]) -> dict[str, Any]:
    """A listing row: name, summary, source and (where declared) the hyperparameters."""
    row: dict[str, Any] = {"name": entry.name, "summary": entry.summary, "source": entry.source}
    if entry.params is not None:
        row["params"] = param_rows(entry.params)
    return row


class Registry(Generic[T]):
    """Names to plugins of one kind (see the module docstring).

    Args:
        kind: what one plugin is, in error messages (``"bandit"``, ``"data source"``).
        plural: its plural (default ``kind + "s"``).
        group: the entry-point group (default ``"sparft." + plural``).
        listing: the command that lists them, named in errors (``"sparft bandits"``).
        modules: ``(package, prefix)``: every module of ``package`` whose name starts
            with ``prefix`` is imported on the first lookup (the built-ins register there).
        check: called as ``check(name, obj)`` on everything registered or loaded; returns
            the object to keep (it may set attributes) or raises ``ValueError``.
        row: the :meth:`describe` row of an entry (default :func:`default_row`).
        alternatives: the end of an unknown-name error: what else may be given.
    """

    def __init__(
        self,
        kind: str,
        *,
        plural: str | None = None,
        group: str | None = None,
        listing: str = "",
        modules: tuple[str, str] | None = None,
        check: Callable[[str, Any], T] | None = None,
        row: Callable[[Entry[T]], Mapping[str, Any]] = default_row,
        alternatives: str = "'package.module:Attr'",
    ) -> None:
        self.kind, self.plural = kind, plural or f"{kind}s"
        self.group = group or f"sparft.{self.plural.replace(' ', '_')}"
        self.listing, self.modules, self.check, self.row = listing, modules, check, row
        self.alternatives = alternatives
        self._entries: dict[str, Entry[T]] = {}
        self._paths: dict[str, tuple[str, dict[str, Any]]] = {}  # registered by import path
        self._discovered = modules is None

    # ------------------------------------------------------------ registering
    def register(
        self,
        name: str,
        target: Any = None,
        *,
        summary: str | None = None,
        params: type | None = None,
        listed: bool = True,
        overwrite: bool = False,
        **meta: Any,
    ) -> Any:
        """Register ``target`` under ``name``; without ``target``, a decorator.

        ``target`` may be a ``"package.module:Attr"`` string, imported on first use.
        ``summary`` defaults to :func:`summary_of`, ``params`` to the object's ``Params``
        when that is a dataclass; ``meta`` is kept as declared. ``listed=False`` keeps a
        name out of :meth:`names` (it still resolves). Re-registering a taken name
        raises unless ``overwrite`` (or it is the same object).
        """
        if not isinstance(name, str) or not NAME.match(name):
            raise ValueError(
                f"{self.kind} names are lower-case identifiers like 'my_name', got {name!r}"
            )
        options = {"summary": summary, "params": params, "listed": listed, **meta}

        def add(obj: Any) -> Any:
            # (no lookup here: registering never imports the kind's folder)
            taken = name in self._entries or name in self._paths
            if taken and not overwrite and not self._same(name, obj):
                raise ValueError(
                    f"a {self.kind} named {name!r} is already registered; pass overwrite=True"
                )
            self._entries.pop(name, None)
            self._paths.pop(name, None)
            if isinstance(obj, str):
                if not PATH.match(obj):
                    raise ValueError(f"expected 'package.module:Attr', got {obj!r}")
                self._paths[name] = (obj, options)
            else:
                self._entries[name] = self._entry(name, obj, **options)
            return obj

        return add if target is None else add(target)

    def unregister(self, name: str) -> None:
        """Forget ``name`` (tests, and plugins that replace themselves)."""
        self._entries.pop(name, None)
        self._paths.pop(name, None)

    def _same(self, name: str, obj: Any) -> bool:
        if name in self._paths:
            return self._paths[name][0] == obj
        old = self._entries[name].target
        # The same class of a module imported again (importlib.reload, a test's import mode).
        reloaded = isinstance(obj, type) and isinstance(old, type)
        return old is obj or (
            reloaded and (obj.__module__, obj.__qualname__) == (old.__module__, old.__qualname__)
        )

    def _entry(
        self,
        name: str,
        obj: Any,
        summary: str | None = None,
        params: type | None = None,
        listed: bool = True,
        **meta: Any,
    ) -> Entry[T]:
        if self.check is not None:
            obj = self.check(name, obj)
        if params is None:
            declared = getattr(obj, "Params", None)
            params = (
                declared
                if isinstance(declared, type) and dataclasses.is_dataclass(declared)
                else None
            )
        return Entry(
            name, obj, summary_of(obj) if summary is None else summary, params, meta, listed
        )

    # ------------------------------------------------------------ lookups
    def discover(self, again: bool = False) -> None:
        """Import the modules of the kind's own folder (done once, on the first lookup;
        ``again`` looks for modules added since)."""
        if self.modules is None or (self._discovered and not again):
            return
        self._discovered = True  # first: a module being imported may look names up
        package_name, prefix = self.modules
        package = importlib.import_module(package_name)
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
            if info.name.startswith(prefix):
                importlib.import_module(f"{package_name}.{info.name}")

    def _entry_points(self) -> dict[str, importlib.metadata.EntryPoint]:
        # Read on every call (cheap next to a run), so that newly installed plugins
        # and tests that fake entry points are seen without a cache to clear.
        return {ep.name: ep for ep in importlib.metadata.entry_points(group=self.group)}

    def names(self) -> list[str]:
        """The listed names: registered ones and installed entry points, sorted."""
        self.discover()
        own = [n for n, e in self._entries.items() if e.listed]
        own += [n for n, (_, options) in self._paths.items() if options["listed"]]
        return sorted(set(own) | set(self._entry_points()))

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        self.discover()
        return name in self._entries or name in self._paths or name in self._entry_points()

    def entry(self, name: str) -> Entry[T]:
        """The :class:`Entry` of a name, an entry point or a ``"package.module:Attr"`` string."""
        if not isinstance(name, str):
            raise ValueError(f"a {self.kind} is named by a string, got {name!r}")
        self.discover()
        if name in self._paths:
            path, options = self._paths[name]
            self.register(
                name,
                self._import(path, f"{self.kind} {name!r} ({path})"),
                overwrite=True,
                **options,
            )
        if name in self._entries:
            return self._entries[name]
        if ":" in name:
            return self._entry(name, self._import(name, f"{self.kind} {name!r}"), listed=False)
        eps = self._entry_points()
        if name not in eps:
            raise ValueError(self.unknown(name))
        try:
            obj = eps[name].load()
        except Exception as e:  # a broken plugin must not look like an unknown name
            raise ValueError(
                f"{self.kind} plugin {name!r} ({eps[name].value}) failed to load: {e}"
            ) from None
        if name not in self._entries:  # (a module that registers itself keeps its metadata)
            self._entries[name] = self._entry(name, obj)
        return self._entries[name]

    def get(self, name: str) -> T:
        """What is registered as ``name`` (see :meth:`entry`)."""
        return self.entry(name).target

    def make(self, name: str, /, *args: Any, **params: Any) -> Any:
        """``get(name)(*args, **params)``: a new plugin object."""
        return self.get(name)(*args, **params)  # type: ignore[operator]

    def unknown(self, name: Any) -> str:
        """The one-line error for an unknown ``name``."""
        valid = self.names()
        close = [repr(c) for c in difflib.get_close_matches(str(name), valid, n=3, cutoff=0.5)]
        hint = ""
        if close:
            hint = f" did you mean {close[0] if len(close) == 1 else ', '.join(close[:-1]) + ' or ' + close[-1]}?"
        return (
            f"unknown {self.kind} {name!r}:{hint} valid {self.plural}: "
            f"{', '.join(valid) or '(none)'}"
            + (f" (`{self.listing}` describes them)" if self.listing else "")
            + (f"; or {self.alternatives}" if self.alternatives else "")
        )

    @staticmethod
    def _import(path: str, what: str) -> Any:
        try:
            return import_path(path)
        except ValueError as e:
            raise ValueError(f"cannot load {what}: {e}") from None

    # ------------------------------------------------------------ listings
    def describe(self, names: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """One JSON-able row per plugin (the kind's ``row``, default :func:`default_row`).
        Named plugins that fail to load raise; when listing all of them, a broken plugin
        is a row with its ``error`` instead, so that it hides none of the others."""
        rows = []
        for name in self.names() if names is None else names:
            try:
                rows.append(dict(self.row(self.entry(name))))
            except ValueError as e:
                if names is not None:
                    raise
                rows.append({"name": name, "error": str(e)})
        return rows
