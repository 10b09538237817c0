"""Answer checking as reward functions: ``reward(completion, answer) -> float``.

Every checker here is a pure function of the model's completion and the
reference answer, returning ``1.0`` (correct) or ``0.0`` (wrong), so that a GRPO
group's rewards are Bernoulli outcomes and every curriculum signal (solve rate,
learnability ``p(1-p)``, ...) is well defined.

* :func:`numeric_reward` -- GSM8K-style: extract the final number of the
  completion (an explicit ``#### N``, ``\\boxed{N}`` or "the answer is N" wins,
  otherwise the last number in the text) and compare it numerically with the
  reference. Tolerant of thousands separators, ``$``, ``%``, trailing units and
  full stops ("The answer is $1,234.50." matches ``1234.5``). This is the
  "flexible extract" of lm-evaluation-harness' GSM8K task (Cobbe et al. 2021,
  arXiv 2110.14168, for the ``#### N`` convention).
* :func:`math_reward` -- symbolic equivalence with Hugging Face ``math-verify``
  for LaTeX answers (``\\frac{1}{2}`` vs ``0.5``); falls back to
  :func:`numeric_reward` when the reference cannot be parsed.
* :func:`format_reward` -- 1.0 when the completion gives a clearly marked final
  answer (a bare number, ``#### N``, ``\\boxed{..}`` or "answer: N"), as an
  optional shaping term.

:func:`get_reward` looks a checker up by name (``"numeric"``, ``"math"``,
``"format"``) or by ``"package.module:function"``.
"""

from __future__ import annotations

import difflib
import importlib
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from typing import Any

RewardFn = Callable[[Any, str], float]

__all__ = [
    "REWARDS",
    "RewardFn",
    "available_rewards",
    "completion_text",
    "extract_final_number",
    "format_reward",
    "get_reward",
    "math_reward",
    "normalize_number",
    "numeric_reward",
    "numbers_equal",
]

# A number as people write it: optional sign, optional currency sign, digits with
# optional thousands separators ("1,234,567"), optional decimals. The sign is only
# a minus when it does not follow a word or a digit, so "5-3" yields 5 and 3, not -3.
_NUMBER = re.compile(
    r"(?<![\w.])(?P<sign>[-\u2212])?\s?\$?\s?"
    r"(?P<int>\d{1,3}(?:,\d{3})+(?!\d)|\d+)"
    r"(?P<frac>\.\d+)?"
    r"(?!\d)"
)
_HASHES = re.compile(r"####\s*(?P<rest>[^\n]*)")
_BOXED = re.compile(r"\\boxed\s*\{(?P<rest>[^{}]*(?:\{[^{}]*\}[^{}]*)*)\}")
# "answer" must be a whole word followed by "is", ":" or "=", so "she answered 3 questions"
# or "to answer this, add 3 and 4" do not mark 3 as the final answer.
_ANSWER_IS = re.compile(
    r"\banswer\s*(?:is\b|[:=])\s*[:=]?\s*(?P<rest>[^\n]*)", re.IGNORECASE
)
# A completion that *is* the answer: a number with at most a unit word and a full stop.
_BARE = re.compile(r"^\s*[-\u2212]?\s?\$?\s?[\d,]*\d(?:\.\d+)?\s*%?\s*[A-Za-z]{0,12}\.?\s*$")


def completion_text(completion: Any) -> str:
    """The text of a completion: a string, or chat messages (TRL's conversational format)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Mapping):
        return str(completion.get("content", ""))
    if isinstance(completion, Sequence) and completion:
        last = completion[-1]
        return str(last.get("content", "")) if isinstance(last, Mapping) else str(last)
    return "" if completion is None else str(completion)


def _numbers(text: str) -> list[str]:
    out = []
    for m in _NUMBER.finditer(text):
        sign = "-" if m.group("sign") else ""
        out.append(sign + m.group("int").replace(",", "") + (m.group("frac") or ""))
    return out


def normalize_number(text: str) -> str | None:
    """Canonical decimal string of a single written number (``"$1,200.50"`` -> ``"1200.5"``).

    Returns ``None`` when ``text`` holds no number.
    """
    nums = _numbers(text.strip())
    if not nums:
        return None
    return _canonical(nums[0])


def _canonical(num: str) -> str:
    value = Fraction(num)
    if value.denominator == 1:
        return str(value.numerator)
    # Decimal strings parse exactly; print them back without trailing zeros.
    text = f"{float(value):.10f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def extract_final_number(text: Any) -> str | None:
    """The final numeric answer of ``text`` as a canonical string, or ``None``.

    Priority: the number after the last ``####`` (GSM8K reference format), then
    the last ``\\boxed{...}``, then the last "answer is ..." phrase, then simply
    the last number in the text. Each marked form takes the *first* number after
    its marker, so "#### 72 apples (3 boxes)" gives 72.
    """
    text = completion_text(text)
    if not text:
        return None
    for pattern in (_HASHES, _BOXED, _ANSWER_IS):
        matches = list(pattern.finditer(text))
        for m in reversed(matches):
            nums = _numbers(m.group("rest"))
            if nums:
                return _canonical(nums[0])
    nums = _numbers(text)
    return _canonical(nums[-1]) if nums else None


def numbers_equal(a: str, b: str, rel_tol: float = 1e-6) -> bool:
    """Numeric equality of two canonical number strings (exact for integers)."""
    fa, fb = Fraction(a), Fraction(b)
    if fa == fb:
        return True
    return abs(fa - fb) <= Fraction(rel_tol) * max(Fraction(1), abs(fb))


def _reference_number(answer: str) -> str | None:
    # A reference is either the bare answer ("1,000") or a full GSM8K solution ending in "#### N".
    answer = str(answer)
    if "####" in answer:
        return extract_final_number(answer)
    return normalize_number(answer) if _numbers(answer) else None


def numeric_reward(completion: Any, answer: str) -> float:
    """1.0 when the completion's final number equals the reference number, else 0.0."""
    ref = _reference_number(answer)
    got = extract_final_number(completion)
    if ref is None or got is None:
        return 0.0
    return 1.0 if numbers_equal(got, ref) else 0.0


def format_reward(completion: Any, answer: str = "") -> float:
    """1.0 when the completion states a clearly marked final answer, else 0.0.

    Marked means: the whole completion is a number (with at most a unit word),
    or it contains ``#### N``, ``\\boxed{N}`` or "answer is N". Correctness is not
    checked; ``answer`` is accepted only so every reward has the same signature.
    """
    text = completion_text(completion)
    if _BARE.match(text):
        return 1.0
    for pattern in (_HASHES, _BOXED, _ANSWER_IS):
        for m in pattern.finditer(text):
            if _numbers(m.group("rest")):
                return 1.0
    return 0.0


def math_reward(completion: Any, answer: str) -> float:
    """1.0 when ``math-verify`` finds the completion equivalent to the reference, else 0.0.

    The reference may be LaTeX without delimiters (``\\frac{1}{2}``) or a GSM8K
    solution; it is wrapped in ``$...$`` for math-verify's LaTeX extractor. When
    math-verify cannot parse the reference at all, the numeric checker decides.
    """
    try:
        from math_verify import parse, verify
    except ImportError as e:  # pragma: no cover - depends on the install
        raise ImportError("math_reward needs math-verify: pip install 'sparft[train]'") from e

    text = completion_text(completion)
    ref = str(answer)
    if "####" in ref:
        ref = extract_final_number(ref) or ref
    # math-verify's timeouts use SIGALRM, which only works in the main thread.
    timeout = 5 if threading.current_thread() is threading.main_thread() else None
    gold_text = ref if ("$" in ref or "\\boxed" in ref) else f"${ref}$"
    gold = parse(gold_text, parsing_timeout=timeout)
    if not gold:
        return numeric_reward(text, answer)
    pred = parse(text, parsing_timeout=timeout)
    if not pred:
        return 0.0
    try:
        return 1.0 if verify(gold, pred, timeout_seconds=timeout) else 0.0
    except Exception:  # math-verify raises on exotic sympy objects; a wrong answer, not a crash
        return 0.0


REWARDS: dict[str, RewardFn] = {
    "numeric": numeric_reward,
    "math": math_reward,
    "format": format_reward,
}


def available_rewards() -> list[str]:
    return sorted(REWARDS)


def get_reward(name: str | RewardFn) -> RewardFn:
    """A reward function by registry name or ``"package.module:function"`` (a callable passes through)."""
    if callable(name):
        return name
    if name in REWARDS:
        return REWARDS[name]
    if ":" in name:
        module_name, _, attr = name.partition(":")
        try:
            fn = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as e:
            raise ValueError(
                f"cannot import reward {name!r} ({e}); give 'package.module:function'"
            ) from e
        if not callable(fn):
            raise ValueError(f"reward {name!r} is not callable")
        return fn
    close = difflib.get_close_matches(name, REWARDS, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ValueError(
        f"unknown reward {name!r}{hint}; choose one of {', '.join(available_rewards())} "
        "or give 'package.module:function'"
    )
