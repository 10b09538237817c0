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


def _checked(
    name: str, kind: Callable[[str], Any], what: str, ok: Callable[[Any], bool], doc: str
) -> Callable[[str], Any]:
    """An ``argparse`` type: ``kind(text)`` when finite and ``ok``, else one line saying ``what``."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not math.isfinite(value) or not ok(value):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value

    parse.__name__ = parse.__qualname__ = name
    parse.__doc__ = doc
    return parse


count = _checked(
    "count",
    int,
    "an integer >= 1",
    lambda v: v >= 1,
    "An integer >= 1 (steps, seeds, workers, trials).",
)
natural = _checked(
    "natural",
    int,
    "an integer >= 0",
    lambda v: v >= 0,
    'An integer >= 0 (a seed; a size where 0 means "all" or "off").',
)
positive = _checked("positive", float, "a number > 0", lambda v: v > 0, "A finite number > 0.")
nonnegative = _checked(
    "nonnegative",
    float,
    "a number >= 0",
    lambda v: v >= 0,
    'A finite number >= 0 (a weight where 0 means "off").',
)
fraction = _checked(
    "fraction", float, "a number in [0, 1]", lambda v: 0 <= v <= 1, "A number in [0, 1] (a share)."
)


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
