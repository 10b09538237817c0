"""``arith``: a synthetic arithmetic task with topics and graded difficulty.

The embedded default data source: generated in code, deterministic by seed,
needing no download. Five topics -- ``addition``, ``subtraction``,
``multiplication``, ``expression`` (multi-step, operator precedence) and
``word`` (short word problems from templates) -- each at six levels. A level
grows the number of digits and of steps, from what SmolLM2-135M-Instruct often
gets right (``3 + 4``) to what it never does (``4821 * 3907 + 1375 * 2468``):

=====  ===============  ===============  ==============  =======================  ==================
level  addition         subtraction      multiplication  expression               word
=====  ===============  ===============  ==============  =======================  ==================
1      1d + 1d          1d - 1d (>= 0)   1d x 1d         a + b - c, 1d            1 step, add, 1d
2      2d + 1d          2d - 1d          2d x 1d         a x b + c, 1d            1 step, sub, 2d
3      2d + 2d          2d - 2d (>= 0)   2d x 2d         a + b x c - d, 2d        1 step, mul, 2d x 1d
4      3d + 3d          3d - 3d (>= 0)   3d x 2d         (a + b) x c - d, 2d      2 steps, 2d
5      4d + 4d          4d - 4d          3d x 3d         a x b + c x d, 3d x 2d   3 steps, 2-3d
6      6d + 6d          6d - 6d          4d x 4d         a x b + c x d, 4d x 4d   3 steps, 3-4d
=====  ===============  ===============  ==============  =======================  ==================

Train and test are disjoint by construction, for every seed and size: a
question belongs to the test split iff a hash of its text falls in one fifth of
the buckets, and each split keeps only its own questions. Questions are drawn
round-robin over the (topic, level) cells so every cell is equally represented
until its small question space runs out (there are only 100 ``1d + 1d`` sums).

The prompt asks for the final answer only: the real learner samples ~16 tokens
on a CPU, so a short answer is the only kind it can produce.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from sparft.curricula.examples import Example
from sparft.curricula.prompts import ANSWER_INSTRUCTION, answer_prompt

TOPICS = ("addition", "subtraction", "multiplication", "expression", "word")
LEVELS = (1, 2, 3, 4, 5, 6)
SPLITS = ("train", "test")
DEFAULT_N = {"train": 600, "test": 150}


# One question in five goes to the test split (by a hash of its text).
_TEST_BUCKETS = 5
_MAX_TRIES_PER_DRAW = 60

_NAMES = (
    "Ava",
    "Ben",
    "Chloe",
    "Dan",
    "Emma",
    "Farid",
    "Grace",
    "Hugo",
    "Isla",
    "Jon",
    "Mia",
    "Omar",
)
_ITEMS = ("apples", "pencils", "stickers", "marbles", "cookies", "books", "stamps", "shells")


@dataclass(frozen=True)
class ArithConfig:
    """What to generate.

    Attributes:
        n: number of questions in the split (``None``: 600 train, 150 test).
        seed: draws are a pure function of ``(seed, split)``.
        topics: which topics, a subset of :data:`TOPICS`.
        levels: which levels, a subset of 1..6.
    """

    n: int | None = None
    seed: int = 0
    topics: tuple[str, ...] = TOPICS
    levels: tuple[int, ...] = LEVELS
    instruction: str = field(default=ANSWER_INSTRUCTION, repr=False)

    def __post_init__(self) -> None:
        if self.n is not None and self.n < 1:
            raise ValueError(f"arith: n must be >= 1, got {self.n}")
        bad = [t for t in self.topics if t not in TOPICS]
        if bad or not self.topics:
            raise ValueError(
                f"arith: unknown topic(s) {bad or '(none)'}; choose from {', '.join(TOPICS)}"
            )
        badl = [lv for lv in self.levels if lv not in LEVELS]
        if badl or not self.levels:
            raise ValueError(f"arith: levels must be within 1..6, got {list(self.levels)}")


def _digits(rng: np.random.Generator, d: int) -> int:
    """A number with exactly ``d`` digits (``d == 1``: 0..9)."""
    if d == 1:
        return int(rng.integers(0, 10))
    return int(rng.integers(10 ** (d - 1), 10**d))


def _nonzero(rng: np.random.Generator, d: int) -> int:
    return int(rng.integers(2, 10)) if d == 1 else _digits(rng, d)


Drawn = tuple[str, int, int]  # question, answer, number of steps

_ADD_DIGITS = {1: (1, 1), 2: (2, 1), 3: (2, 2), 4: (3, 3), 5: (4, 4), 6: (6, 6)}
_MUL_DIGITS = {1: (1, 1), 2: (2, 1), 3: (2, 2), 4: (3, 2), 5: (3, 3), 6: (4, 4)}


def _addition(rng: np.random.Generator, level: int) -> Drawn:
    da, db = _ADD_DIGITS[level]
    a, b = _digits(rng, da), _digits(rng, db)
    return f"What is {a} + {b}?", a + b, 1


def _subtraction(rng: np.random.Generator, level: int) -> Drawn:
    da, db = _ADD_DIGITS[level]
    a, b = _digits(rng, da), _digits(rng, db)
    if level in (1, 3, 4) and b > a:  # keep the easy levels free of negative results
        a, b = b, a
    return f"What is {a} - {b}?", a - b, 1


def _multiplication(rng: np.random.Generator, level: int) -> Drawn:
    da, db = _MUL_DIGITS[level]
    a, b = _nonzero(rng, da), _nonzero(rng, db)
    return f"What is {a} * {b}?", a * b, 1


def _expression(rng: np.random.Generator, level: int) -> Drawn:
    if level == 1:
        a, b, c = (_digits(rng, 1) for _ in range(3))
        return f"What is {a} + {b} - {c}?", a + b - c, 2
    if level == 2:
        a, b, c = _nonzero(rng, 1), _nonzero(rng, 1), _digits(rng, 1)
        return f"What is {a} * {b} + {c}?", a * b + c, 2
    if level == 3:
        a, b, c, d = _digits(rng, 2), _nonzero(rng, 1), _nonzero(rng, 1), _digits(rng, 2)
        return f"What is {a} + {b} * {c} - {d}?", a + b * c - d, 3
    if level == 4:
        a, b, c, d = _digits(rng, 2), _digits(rng, 2), _nonzero(rng, 1), _digits(rng, 2)
        return f"What is ({a} + {b}) * {c} - {d}?", (a + b) * c - d, 3
    da, db = (3, 2) if level == 5 else (4, 4)
    a, b, c, d = _digits(rng, da), _digits(rng, db), _digits(rng, da), _digits(rng, db)
    return f"What is {a} * {b} + {c} * {d}?", a * b + c * d, 3


def _pick(rng: np.random.Generator, options: Sequence[str]) -> str:
    return options[int(rng.integers(len(options)))]


def _word(rng: np.random.Generator, level: int) -> Drawn:
    name, item = _pick(rng, _NAMES), _pick(rng, _ITEMS)
    variant = int(rng.integers(2))
    if level == 1:
        a, b = _nonzero(rng, 1), _nonzero(rng, 1)
        if variant == 0:
            return (
                f"{name} has {a} {item} and gets {b} more. How many {item} does {name} have now?",
                a + b,
                1,
            )
        return (
            f"There are {a} {item} in a bag and {b} {item} on the table. How many {item} are there altogether?",
            a + b,
            1,
        )
    if level == 2:
        a, b = _digits(rng, 2), _nonzero(rng, 1)
        if variant == 0:
            return (
                f"{name} had {a} {item} and gave {b} to a friend. How many {item} does {name} have left?",
                a - b,
                1,
            )
        return (
            f"A shop had {a} {item} and sold {b} of them. How many {item} are left in the shop?",
            a - b,
            1,
        )
    if level == 3:
        a, b = _digits(rng, 2), _nonzero(rng, 1)
        if variant == 0:
            return (
                f"There are {b} boxes with {a} {item} in each box. How many {item} are there in total?",
                a * b,
                1,
            )
        return (
            f"{name} buys {b} packs of {item}. Each pack holds {a} {item}. How many {item} does {name} buy?",
            a * b,
            1,
        )
    if level == 4:
        a, b = _nonzero(rng, 1), _digits(rng, 2)
        c = int(rng.integers(1, a * b))
        if variant == 0:
            q = f"{name} buys {a} packs of {b} {item} and gives away {c}. How many {item} does {name} keep?"
            return q, a * b - c, 2
        q = f"A class of {b} children each bring {a} {item}. The teacher uses {c} of them. How many {item} are left?"
        return q, a * b - c, 2
    if level == 5:
        a, b, c = _digits(rng, 2), _nonzero(rng, 1), _digits(rng, 2)
        d = int(rng.integers(1, a * b * c))
        q = (
            f"{name} earns ${a} per hour, works {b} hours a day for {c} days and then spends ${d}. "
            f"How many dollars does {name} have left?"
        )
        if variant == 1:
            q = (
                f"A bakery bakes {a} trays of {b} cookies every day for {c} days and sells {d} cookies. "
                "How many cookies are left?"
            )
        return q, a * b * c - d, 3
    a, b = _digits(rng, 4), _digits(rng, 2)
    c, d = _digits(rng, 3), _digits(rng, 3)
    if variant == 0:
        if c * d > a * b:  # the factory cannot ship more than it made
            (a, b), (c, d) = (c, d), (a, b)
        q = (
            f"A factory makes {a} {item} a day for {b} days and ships {c} crates of {d} {item} each. "
            f"How many {item} does the factory have left?"
        )
        return q, a * b - c * d, 3
    q = (
        f"A warehouse receives {a} {item} a week for {b} weeks and {c} boxes of {d} {item}. "
        f"How many {item} does it receive in total?"
    )
    return q, a * b + c * d, 3


GENERATORS: dict[str, Callable[[np.random.Generator, int], Drawn]] = {
    "addition": _addition,
    "subtraction": _subtraction,
    "multiplication": _multiplication,
    "expression": _expression,
    "word": _word,
}


def split_of(question: str) -> str:
    """The split a question belongs to, by a hash of its text (the same for every seed)."""
    bucket = int(hashlib.sha1(question.encode()).hexdigest()[:8], 16) % _TEST_BUCKETS
    return "test" if bucket == 0 else "train"


def generate(split: str = "train", config: ArithConfig | None = None) -> list[Example]:
    """The ``split`` of the arith task: a deterministic function of ``(config, split)``.

    Raises ``ValueError`` when the chosen topics and levels cannot supply ``n``
    distinct questions (only with tiny topic/level subsets and a large ``n``).
    """
    config = config or ArithConfig()
    if split not in SPLITS:
        raise ValueError(f"arith has splits {', '.join(SPLITS)}, not {split!r}")
    n = config.n if config.n is not None else DEFAULT_N[split]
    # One stream per split, so the train draw does not shift when the test size changes.
    rng = np.random.default_rng([config.seed, SPLITS.index(split), 0xA817])
    cells = [(t, lv) for lv in config.levels for t in config.topics]
    alive = list(cells)
    seen: set[str] = set()
    out: list[Example] = []
    while len(out) < n and alive:
        still = []
        for topic, level in alive:
            if len(out) >= n:
                still.append((topic, level))
                continue
            for _ in range(_MAX_TRIES_PER_DRAW):
                question, answer, steps = GENERATORS[topic](rng, level)
                if question not in seen and split_of(question) == split:
                    break
            else:  # this cell's question space is used up
                continue
            still.append((topic, level))
            seen.add(question)
            out.append(
                Example(
                    id=f"arith/s{config.seed}/{split}/{len(out)}",
                    prompt=answer_prompt(question, config.instruction),
                    answer=str(answer),
                    topic=topic,
                    difficulty=float(level),
                    meta={
                        "question": question,
                        "level": level,
                        "steps": steps,
                        "split": split,
                        "seed": config.seed,
                        "level_range": [min(LEVELS), max(LEVELS)],
                    },
                )
            )
        alive = still
    if len(out) < n:
        raise ValueError(
            f"arith: only {len(out)} distinct {split} questions exist for topics={list(config.topics)} "
            f"levels={list(config.levels)}; ask for n <= {len(out)} or allow more topics/levels"
        )
    return out
