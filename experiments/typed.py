"""Plain data -> typed, frozen dataclasses, with errors a researcher can act on.

Every config section and every algorithm's hyperparameters are frozen
dataclasses whose fields carry their help text (``metadata={"help": ...}``).
This module turns the plain mappings of a YAML file (or of ``--set`` overrides,
or of an Optuna trial) into instances of them, and back:

- an unknown or misspelt key is an error naming the closest valid key;
- a value of the wrong type is an error naming the field, the expected type and
  the value (ints are accepted where floats are expected, nothing else is
  silently converted: ``"0.1"`` for a float is a mistake worth reporting);
- ``Literal`` fields list their choices; nested dataclasses recurse, and the
  error names the full dotted path (``sweep.space.gamma.low``).

The dataclass's own ``__post_init__`` then validates ranges, so the rules live
in one place: the class.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Union, get_args, get_origin

import yaml


def closest(name: str, choices: Sequence[str]) -> str | None:
    """The choice most like ``name`` (difflib ratio >= 0.5), or None."""
    found = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.5)
    return found[0] if found else None


def unknown_key_message(key: str, where: str, valid: Sequence[str]) -> str:
    guess = closest(key, valid)
    hint = f"did you mean {guess!r}? " if guess else ""
    return f"unknown key {where + '.' if where else ''}{key}: {hint}valid keys: {', '.join(sorted(valid))}"


def field_help(cls: type, name: str) -> str:
    for f in dataclasses.fields(cls):
        if f.name == name:
            return str(f.metadata.get("help", ""))
    return ""


def type_name(tp: Any) -> str:
    """A type as an error message names it: ``int``, ``'a' | 'b'``, ``list of str``, ``mapping``."""
    origin = get_origin(tp)
    if tp is type(None):
        return "null"
    if origin is Literal:
        return " | ".join(repr(a) for a in get_args(tp))
    if origin in (Union, types.UnionType):
        return " | ".join(type_name(a) for a in get_args(tp))
    if origin in (list, tuple, Sequence):
        raw = get_args(tp)
        if origin is tuple and raw and Ellipsis not in raw:
            return "[" + ", ".join(type_name(a) for a in raw) + "]"
        args = [a for a in raw if a is not Ellipsis]
        return f"list of {type_name(args[0])}" if args else "list"
    if origin in (dict, Mapping):
        return "mapping"
    if dataclasses.is_dataclass(tp):
        return "mapping"
    return getattr(tp, "__name__", str(tp))


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class _Mismatch(Exception):
    pass


def convert(value: Any, tp: Any, where: str) -> Any:
    """Check ``value`` against the annotation ``tp`` and build nested dataclasses.

    Raises ``ValueError`` naming ``where`` on a mismatch.
    """
    try:
        return _convert(value, tp, where)
    except _Mismatch:
        raise ValueError(
            f"{where}: expected {type_name(tp)}, got {_describe(value)} ({type(value).__name__})"
        ) from None


def _convert(value: Any, tp: Any, where: str) -> Any:
    if tp is Any or tp is object:
        return value
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        args = get_args(tp)
        if value is None:
            if type(None) in args:
                return None
            raise _Mismatch
        # Try each non-None member; a nested error from a dataclass member is
        # more useful than "expected A | B", so re-raise it when it is the only one.
        errors: list[ValueError] = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(value, arg, where)
            except _Mismatch:
                continue
            except ValueError as e:
                errors.append(e)
        if len(errors) == 1:
            raise errors[0]
        raise _Mismatch
    if origin is Literal:
        choices = get_args(tp)
        if any(value == c and type(value) is type(c) for c in choices):
            return value
        guess = closest(str(value), [str(c) for c in choices])
        hint = f"; did you mean {guess!r}?" if guess else ""
        raise ValueError(
            f"{where}: {_describe(value)} is not one of {', '.join(repr(c) for c in choices)}{hint}"
        )
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if isinstance(value, tp):
            return value
        if not isinstance(value, Mapping):
            raise _Mismatch
        return from_dict(tp, value, where)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise _Mismatch
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise _Mismatch
    if tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise _Mismatch
    if tp is str:
        if isinstance(value, str):
            return value
        raise _Mismatch
    if origin in (list, tuple, Sequence) or tp in (list, tuple):
        if isinstance(value, str | bytes) or not isinstance(value, Sequence):
            raise _Mismatch
        raw_args = get_args(tp)
        is_tuple = origin is tuple or tp is tuple
        if is_tuple and raw_args and Ellipsis not in raw_args:
            # A fixed-length tuple: (str, float) checks each position.
            if len(value) != len(raw_args):
                raise _Mismatch
            return tuple(
                _convert_item(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, raw_args))
            )
        args = [a for a in raw_args if a is not Ellipsis]
        item_tp = args[0] if args else Any
        items = [_convert_item(v, item_tp, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if is_tuple else items
    if origin in (dict, Mapping) or tp in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise _Mismatch
        args = get_args(tp)
        val_tp = args[1] if len(args) == 2 else Any
        return {str(k): _convert_item(v, val_tp, f"{where}.{k}") for k, v in value.items()}
    if isinstance(tp, type):
        if isinstance(value, tp):
            return value
        raise _Mismatch
    return value


def _convert_item(value: Any, tp: Any, where: str) -> Any:
    return convert(value, tp, where)


def type_hints(cls: type) -> dict[str, Any]:
    """Resolved annotations of a dataclass (handles ``from __future__ import annotations``)."""
    import sys

    module = sys.modules.get(cls.__module__)
    return typing.get_type_hints(cls, globalns=vars(module) if module else None)


def from_dict(cls: type, data: Mapping[str, Any] | None, where: str = "") -> Any:
    """Build the dataclass ``cls`` from a mapping, checking keys and types.

    Missing keys take the field's default; a field without a default is required.
    Errors from the class's ``__post_init__`` are prefixed with ``where``.
    """
    data = {} if data is None else data
    if not isinstance(data, Mapping):
        raise ValueError(f"{where or cls.__name__}: expected a mapping, got {_describe(data)}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    hints = type_hints(cls)
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        key = str(key)
        if key not in fields:
            raise ValueError(unknown_key_message(key, where, list(fields)))
        kwargs[key] = convert(value, hints.get(key, Any), f"{where}.{key}" if where else key)
    for name, f in fields.items():
        if (
            name not in kwargs
            and f.default is dataclasses.MISSING
            and f.default_factory is dataclasses.MISSING
        ):
            raise ValueError(f"{where + '.' if where else ''}{name} is required: {field_help(cls, name)}")
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as e:
        msg = str(e)
        raise ValueError(f"{where}: {msg}" if where and not msg.startswith(where) else msg) from None


def check_fields(cls: type, data: Mapping[str, Any] | None, where: str = "") -> dict[str, Any]:
    """Check a partial mapping of ``cls``'s fields (keys and types) without building it.

    For overrides applied on top of an existing instance (``dataclasses.replace``).
    """
    data = {} if data is None else data
    if not isinstance(data, Mapping):
        raise ValueError(f"{where or cls.__name__}: expected a mapping, got {_describe(data)}")
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    hints = type_hints(cls)
    out = {}
    for key, value in data.items():
        key = str(key)
        if key not in names:
            raise ValueError(unknown_key_message(key, where, names))
        out[key] = convert(value, hints.get(key, Any), f"{where}.{key}" if where else key)
    return out


def to_dict(obj: Any) -> Any:
    """Plain data (dicts, lists, scalars) from dataclasses, tuples and numpy scalars."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {str(k): to_dict(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_dict(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item) and getattr(obj, "shape", None) == ():
        return obj.item()
    return obj


# ------------------------------------------------------------------ overrides
def parse_override(text: str) -> tuple[list[str], Any]:
    """``"a.b.c=value"`` -> (``["a", "b", "c"]``, value parsed as YAML)."""
    if "=" not in text:
        raise ValueError(f"--set {text!r}: expected path.to.key=value (e.g. --set env.budget=100)")
    path, raw = text.split("=", 1)
    path = path.strip()
    if not path or any(not p for p in path.split(".")):
        raise ValueError(f"--set {text!r}: the key path is empty or has an empty part")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return path.split("."), value


def set_path(data: dict[str, Any], path: Sequence[str], value: Any) -> None:
    """Set ``data[p0][p1]...`` to ``value``, creating mappings on the way.

    A scalar in the way (``strategy: sparft`` then ``--set strategy.params.x=1``)
    is an error unless a ``normalise`` hook turned it into a mapping first.
    """
    node = data
    for i, part in enumerate(path[:-1]):
        nxt = node.get(part)
        if nxt is None:
            nxt = {}
            node[part] = nxt
        if not isinstance(nxt, dict):
            raise ValueError(
                f"cannot set {'.'.join(path)}: {'.'.join(path[: i + 1])} is {_describe(nxt)}, not a mapping"
            )
        node = nxt
    node[path[-1]] = value

