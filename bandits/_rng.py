"""Random streams shared by the per-object and the vectorised bandits.

A bandit run owns a handful of independent PCG64 generators ("channels"),
derived from its seed by ``SeedSequence`` child keys, so that run ``i`` of a
vectorised bandit seeded with ``s`` and a single bandit seeded with
``SeedSequence(s).spawn(n)[i]`` draw exactly the same numbers. Each channel
holds one kind of variate (uniform or standard normal) and is read row by row,
one row per step, from a block drawn ahead of time: drawing a block and drawing
its rows one at a time give the same numbers, so the block size is an
implementation detail (the vectorised form uses shorter blocks to bound
memory) and never changes a trajectory.

The saved state of a channel is its generator state at the current row (the
block is replayed to find it), as plain JSON: a run stopped mid-way and
loaded elsewhere continues with the same draws.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "Draws",
    "Queue",
    "Queues",
    "child",
    "generator_from_state",
    "generator_state",
    "run_seed_sequences",
    "seed_sequence",
]

# Channel numbers inside one run; fixed, because they define the streams.
SELECT, UPDATE, SPARE, QUEUE = 0, 1, 2, 3

# The per-object form draws this many steps ahead; the vector form fewer when
# n_runs * width would make a block large (see ``Draws``).
OBJECT_BLOCK = 256
VECTOR_BLOCK_VALUES = 1 << 22


def seed_sequence(seed: Any) -> np.random.SeedSequence:
    """A ``SeedSequence`` from ``None`` (fresh entropy), an int, a ``SeedSequence``
    or a ``Generator`` (which is advanced: its next draws seed the bandit)."""
    if seed is None:
        return np.random.SeedSequence()
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(seed.integers(0, 2**63, size=4).tolist())
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool | np.bool_):
        if seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {seed}")
        return np.random.SeedSequence(int(seed))
    raise ValueError(
        f"seed must be None, a non-negative int, a numpy SeedSequence or Generator; got {seed!r}"
    )


def child(ss: np.random.SeedSequence, *keys: int) -> np.random.SeedSequence:
    """The descendant of ``ss`` at ``keys``: ``child(ss, i)`` is ``ss.spawn(i + 1)[i]`` on a
    fresh ``ss``, without mutating ``ss``'s spawn counter; ``child(ss, i, j)`` is ``i``'s
    ``j``-th child."""
    return np.random.SeedSequence(ss.entropy, spawn_key=(*ss.spawn_key, *keys),
                                  pool_size=ss.pool_size)


def run_seed_sequences(seed: Any, n_runs: int) -> list[np.random.SeedSequence]:
    """Seeds of the ``n_runs`` runs of a vectorised bandit.

    ``seed`` is either one seed (run ``i`` gets its ``i``-th child, so it equals a
    single bandit made with ``seed=SeedSequence(seed).spawn(n_runs)[i]``) or a
    sequence of ``n_runs`` seeds (run ``i`` equals a single bandit with
    ``seed=seed[i]``).
    """
    if isinstance(seed, Sequence | np.ndarray) and not isinstance(seed, str | bytes):
        if len(seed) != n_runs:
            raise ValueError(f"got {len(seed)} seeds for n_runs={n_runs}; pass one seed per run")
        return [seed_sequence(s.item() if isinstance(s, np.generic) else s) for s in seed]
    base = seed_sequence(seed)
    return [child(base, i) for i in range(n_runs)]


def generator(ss: np.random.SeedSequence) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(ss))


def generator_state(gen: np.random.Generator) -> dict:
    """PCG64 state as JSON-safe data (the 128-bit integers as hex strings)."""
    st = gen.bit_generator.state
    return {
        "state": format(st["state"]["state"], "x"),
        "inc": format(st["state"]["inc"], "x"),
        "has_uint32": int(st["has_uint32"]),
        "uinteger": int(st["uinteger"]),
    }


def set_generator_state(gen: np.random.Generator, data: dict) -> None:
    try:
        gen.bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {"state": int(data["state"], 16), "inc": int(data["inc"], 16)},
            "has_uint32": int(data["has_uint32"]),
            "uinteger": int(data["uinteger"]),
        }
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"bad generator state in state_dict: {e}") from None


def generator_from_state(data: dict) -> np.random.Generator:
    gen = np.random.Generator(np.random.PCG64(0))
    set_generator_state(gen, data)
    return gen


def _with_state(st: dict) -> np.random.Generator:
    """A generator at a raw numpy state (``bit_generator.state`` dict)."""
    g = np.random.Generator(np.random.PCG64(0))  # seeded: no OS entropy read
    g.bit_generator.state = st
    return g


def _fill(gen: np.random.Generator, kind: str, shape: tuple[int, ...],
          out: np.ndarray | None = None) -> np.ndarray:
    if kind == "uniform":
        return gen.random(shape, out=out)
    return gen.standard_normal(shape, out=out)


class Draws:
    """The variates one channel-group of a bandit consumes, one row per call of ``next``.

    ``layout`` is a tuple of ``(kind, width)`` with kind ``"uniform"`` or
    ``"normal"``; each entry has its own generator per run (built from
    ``seeds[r][k]``). ``prepare`` maps the raw block arrays to what the
    algorithm reads (work done once per block rather than once per step). For
    one run (``n_runs=None``) step ``i`` is ``arrays[k][i]``, shape ``(width,)``;
    for many, blocks are ``(n_runs, block, width)`` and step ``i`` is
    ``arrays[k][:, i]``, shape ``(n_runs, width)``.
    """

    __slots__ = ("arrays", "_block", "_gens", "_layout", "_n_runs", "_pos", "_prepare", "_raw",
                 "_starts")

    def __init__(
        self,
        seeds: Sequence[Sequence[np.random.SeedSequence]],
        layout: Sequence[tuple[str, int]],
        n_runs: int | None = None,
        prepare: Callable[..., tuple[np.ndarray, ...]] | None = None,
    ):
        self._layout = tuple(layout)
        self._n_runs = n_runs
        self._prepare = prepare
        # _gens[k][r]: generator of entry k for run r.
        self._gens = [[generator(run[k]) for run in seeds] for k in range(len(self._layout))]
        width = sum(w for _, w in self._layout)
        if n_runs is None:
            self._block = OBJECT_BLOCK
        else:
            self._block = int(np.clip(VECTOR_BLOCK_VALUES // max(1, n_runs * width), 1, OBJECT_BLOCK))
        self._pos = self._block
        self._starts: list[list[dict]] = []
        self._raw: list[np.ndarray] = []
        self.arrays: tuple[np.ndarray, ...] = ()

    def next(self) -> int:
        """Index of the next row (draws a new block when the current one is used up)."""
        pos = self._pos
        if pos == self._block:
            self._refill()
            pos = 0
        self._pos = pos + 1
        return pos

    def take(self) -> np.ndarray:
        """The next row of the first (often the only) entry of the layout."""
        i = self.next()
        return self.arrays[0][i] if self._n_runs is None else self.arrays[0][:, i]

    def _refill(self) -> None:
        b = self._block
        self._starts = [[g.bit_generator.state for g in gens] for gens in self._gens]
        raw = []
        for (kind, width), gens in zip(self._layout, self._gens):
            if self._n_runs is None:
                raw.append(_fill(gens[0], kind, (b, width)))
            else:
                # (run, row, width), each run's block written in place.
                out = np.empty((self._n_runs, b, width))
                for r, g in enumerate(gens):
                    _fill(g, kind, (b, width), out[r])
                raw.append(out)
        self._raw = raw
        self.arrays = self._prepare(*raw) if self._prepare else tuple(raw)

    def reprepare(self) -> None:
        """Run ``prepare`` again on the current block (after the state it reads changed)."""
        if self._prepare and self._raw and self._pos < self._block:
            self.arrays = self._prepare(*self._raw)

    def state(self) -> list[list[dict]]:
        """Per entry, per run: the generator state at the next unread row."""
        out = []
        for k, ((kind, width), gens) in enumerate(zip(self._layout, self._gens)):
            states = []
            for r, g in enumerate(gens):
                if self._pos == self._block:
                    states.append(generator_state(g))
                else:  # replay the rows read so far from the block's start
                    tmp = _with_state(self._starts[k][r])
                    _fill(tmp, kind, (self._pos, width))
                    states.append(generator_state(tmp))
            out.append(states)
        return out

    def load(self, data: list[list[dict]]) -> None:
        n = 1 if self._n_runs is None else self._n_runs
        if len(data) != len(self._gens) or any(len(s) != n for s in data):
            raise ValueError("state_dict's random streams do not match this bandit's layout")
        for gens, states in zip(self._gens, data):
            for g, st in zip(gens, states):
                set_generator_state(g, st)
        self._pos = self._block


QUEUE_CHUNK = 256


def _replayed(start: list[dict], kinds: Sequence[str], n: int) -> list[dict]:
    """States of the generators of ``kinds`` after ``n`` draws each from ``start``."""
    out = []
    for kind, st in zip(kinds, start):
        tmp = _with_state(st)
        _fill(tmp, kind, (n,))
        out.append(tmp.bit_generator.state)
    return out


class Queue:
    """Variates read one tuple at a time at an irregular rate, for one run.

    Entry ``k`` of each tuple comes from generator ``k`` (kind ``kinds[k]``), so
    which values a run gets depends only on how many tuples it has taken, not
    on how they were buffered. Used for the retries of rejection samplers; the
    generators are made on first use.
    """

    __slots__ = ("_buf", "_gens", "_kinds", "_pos", "_seeds", "_start")

    def __init__(self, seeds: Sequence[np.random.SeedSequence], kinds: Sequence[str]):
        self._kinds = tuple(kinds)
        self._seeds = list(seeds)
        self._gens: list[np.random.Generator] = []
        self._buf: list[tuple[float, ...]] = []
        self._pos = 0
        self._start: list[dict] = []

    def _generators(self) -> list[np.random.Generator]:
        if not self._gens:
            self._gens = [generator(s) for s in self._seeds]
        return self._gens

    def pop(self) -> tuple[float, ...]:
        if self._pos == len(self._buf):
            gens = self._generators()
            self._start = [g.bit_generator.state for g in gens]
            cols = [_fill(g, k, (QUEUE_CHUNK,)).tolist() for g, k in zip(gens, self._kinds)]
            self._buf = list(zip(*cols))
            self._pos = 0
        self._pos += 1
        return self._buf[self._pos - 1]

    def state(self) -> list[dict]:
        if self._pos == len(self._buf):
            return [generator_state(g) for g in self._generators()]
        states = _replayed(self._start, self._kinds, self._pos)
        return [generator_state(_with_state(st)) for st in states]

    def load(self, data: list[dict]) -> None:
        if len(data) != len(self._kinds):
            raise ValueError("state_dict's retry streams do not match this bandit's layout")
        for g, st in zip(self._generators(), data):
            set_generator_state(g, st)
        self._buf, self._pos = [], 0


class Queues:
    """``Queue`` for many runs at once: ``take(runs)`` gives one tuple per entry of
    ``runs`` (sorted by run), each run reading its own streams in order. A run's
    generators are made when it first needs a retry."""

    def __init__(self, seeds: Sequence[Sequence[np.random.SeedSequence]], kinds: Sequence[str]):
        self._kinds = tuple(kinds)
        self._n_runs = len(seeds)
        self._seeds = [list(run) for run in seeds]
        self._gens: list[list[np.random.Generator] | None] = [None] * self._n_runs
        self._buf = [np.empty((self._n_runs, QUEUE_CHUNK)) for _ in kinds]
        self._pos = np.full(self._n_runs, QUEUE_CHUNK)
        self._start: list[list[dict]] = [[] for _ in range(self._n_runs)]

    def _generators(self, r: int) -> list[np.random.Generator]:
        gens = self._gens[r]
        if gens is None:
            gens = self._gens[r] = [generator(self._seeds[r][k]) for k in range(len(self._kinds))]
        return gens

    def _refill(self, r: int) -> None:
        # Restart run r's buffer at its current position (replaying what was read),
        # so each buffer is always a contiguous stretch of the run's streams.
        gens = self._generators(r)
        if self._start[r] and self._pos[r] < QUEUE_CHUNK:
            for g, st, kind in zip(gens, self._start[r], self._kinds):
                g.bit_generator.state = st
                _fill(g, kind, (int(self._pos[r]),))  # now at the first unread value
        self._start[r] = [g.bit_generator.state for g in gens]
        for k, (g, kind) in enumerate(zip(gens, self._kinds)):
            self._buf[k][r] = _fill(g, kind, (QUEUE_CHUNK,))
        self._pos[r] = 0

    def take(self, runs: np.ndarray) -> tuple[np.ndarray, ...]:
        counts = np.bincount(runs, minlength=self._n_runs)
        for r in np.flatnonzero(self._pos + counts > QUEUE_CHUNK).tolist():
            if counts[r] > QUEUE_CHUNK:  # pragma: no cover - needs > 256 retries in one step
                raise RuntimeError("too many rejection-sampler retries in one step")
            self._refill(r)
        first = np.searchsorted(runs, runs)  # index of each run's first entry (runs sorted)
        idx = self._pos[runs] + (np.arange(runs.size) - first)
        self._pos += counts
        return tuple(b[runs, idx] for b in self._buf)

    def state(self) -> list[list[dict]]:
        out = []
        for r in range(self._n_runs):
            gens = self._generators(r)
            if not self._start[r] or self._pos[r] == QUEUE_CHUNK:
                out.append([generator_state(g) for g in gens])
            else:
                states = _replayed(self._start[r], self._kinds, int(self._pos[r]))
                out.append([generator_state(_with_state(st)) for st in states])
        return out

    def load(self, data: list[list[dict]]) -> None:
        if len(data) != self._n_runs or any(len(d) != len(self._kinds) for d in data):
            raise ValueError("state_dict's retry streams do not match this bandit's layout")
        for r, states in enumerate(data):
            for g, st in zip(self._generators(r), states):
                set_generator_state(g, st)
        self._pos[:] = QUEUE_CHUNK
        self._start = [[] for _ in range(self._n_runs)]
