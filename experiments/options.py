"""Numeric command-line options, checked by one mechanism.

Every number a ``sparft`` command takes goes through one of these ``argparse`` types,
so a count of zero or below, a negative seed or a share outside [0, 1] is refused at
parse time with one line naming the option and what it takes -- never turned into a
silent default later. ``tests/experiments/test_options.py`` walks every command's
parser and fails on a numeric option that bypasses them.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any

__all__ = ["NUMERIC_TYPES", "count", "fraction", "natural", "nonnegative", "positive", "seed_list"]


def _number(kind: Callable[[str], Any], text: str, what: str) -> Any:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    return value


def count(text: str) -> int:
    """An integer >= 1 (steps, seeds per strategy, workers, trials, ...)."""
    value = _number(int, text, "an integer >= 1")
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


def natural(text: str) -> int:
    """An integer >= 0 (a seed; a size where 0 means "all" or "off")."""
    value = _number(int, text, "an integer >= 0")
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return value


def positive(text: str) -> float:
    """A finite number > 0."""
    value = _number(float, text, "a number > 0")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def nonnegative(text: str) -> float:
    """A finite number >= 0 (a weight where 0 means "off")."""
    value = _number(float, text, "a number >= 0")
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def fraction(text: str) -> float:
    """A number in [0, 1] (a share)."""
    value = _number(float, text, "a number in [0, 1]")
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}")
    return value


def seed_list(text: str) -> list[int]:
    """Comma-separated seeds (integers >= 0), e.g. ``0,2,4``; at least one."""
    parts = [s.strip() for s in text.split(",") if s.strip()]
    if not parts:
        raise argparse.ArgumentTypeError(f"expected comma-separated seeds like 0,2, got {text!r}")
    try:
        return [natural(s) for s in parts]
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated seeds (integers >= 0) like 0,2, got {text!r}"
        ) from None


#: the types a numeric option may have (the parser test checks every option's)
NUMERIC_TYPES = (count, natural, positive, nonnegative, fraction, seed_list)
