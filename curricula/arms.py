"""``ArmSet``: the K arms a teacher chooses between, each a list of example ids.

An ArmSet is what SPaRFT's stage 1 (embed -> cluster -> reduce) produces and what
the environment and every teacher consume. Besides the ids it keeps, per example,
a normalised difficulty in ``[0, 1]`` (0 = easiest, 1 = hardest, whatever the
difficulty came from: ``1 - solve rate``, a rank-normalised label or a proxy) and
a topic, which is all the simulated learner needs to simulate the arms.
It is saved as one JSON file and validated on load.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sparft.fileio import atomic_write_json

FORMAT_VERSION = 1


@dataclass(frozen=True)
class ArmStats:
    """Per-arm summary shown in tables and used by observations."""

    arm: int
    size: int
    difficulty_mean: float
    difficulty_std: float
    topics: Mapping[str, int]
    representatives: tuple[str, ...] = ()


@dataclass
class ArmSet:
    """K arms of example ids with per-example difficulty and topic.

    Attributes:
        arms: ``arms[k]`` is the list of example ids in arm ``k``.
        difficulty: example id -> normalised difficulty in ``[0, 1]`` (1 = hardest).
        topic: example id -> topic label ("" when unknown).
        source: the data spec the arms were built from (e.g. ``"arith"``).
        difficulty_source: where difficulty came from (``"label"``, ``"solve_rate:<model>"``,
            ``"proxy:calc_steps"``).
        representatives: ``representatives[k]``: a few question texts that show arm ``k``.
        meta: how the set was built (K, l, PCA dimension, seeds, ...).
    """

    arms: list[list[str]]
    difficulty: dict[str, float]
    topic: dict[str, str] = field(default_factory=dict)
    source: str = ""
    difficulty_source: str = ""
    representatives: list[list[str]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.arms = [list(map(str, arm)) for arm in self.arms]
        self.validate()

    # ------------------------------------------------------------------ basics
    @property
    def n_arms(self) -> int:
        return len(self.arms)

    def __len__(self) -> int:
        return self.n_arms

    @property
    def ids(self) -> list[str]:
        """All example ids, arm by arm."""
        return [i for arm in self.arms for i in arm]

    @property
    def sizes(self) -> np.ndarray:
        return np.array([len(a) for a in self.arms], dtype=np.int64)

    def arm_of(self) -> dict[str, int]:
        """Example id -> arm index."""
        return {i: k for k, arm in enumerate(self.arms) for i in arm}

    def difficulties(self, arm: int) -> np.ndarray:
        return np.array([self.difficulty[i] for i in self.arms[arm]], dtype=np.float64)

    def stats(self) -> list[ArmStats]:
        out = []
        for k, arm in enumerate(self.arms):
            d = self.difficulties(k)
            topics: dict[str, int] = {}
            for i in arm:
                t = self.topic.get(i, "")
                topics[t] = topics.get(t, 0) + 1
            reps = tuple(self.representatives[k]) if k < len(self.representatives) else ()
            out.append(
                ArmStats(
                    arm=k,
                    size=len(arm),
                    difficulty_mean=float(d.mean()),
                    difficulty_std=float(d.std()),
                    topics=dict(sorted(topics.items(), key=lambda kv: -kv[1])),
                    representatives=reps,
                )
            )
        return out

    # -------------------------------------------------------------- validation
    def validate(self, known_ids: Sequence[str] | set[str] | None = None) -> None:
        """Raise ``ValueError`` on an ArmSet no teacher could use.

        Checks: at least one arm, no empty arm, no id in two arms, every id has a
        finite difficulty in [0, 1], and (when ``known_ids`` is given) every id
        exists in the data.
        """
        if not self.arms:
            raise ValueError("ArmSet has no arms: build it with k >= 1")
        seen: set[str] = set()
        for k, arm in enumerate(self.arms):
            if not arm:
                raise ValueError(f"ArmSet arm {k} is empty: every arm needs at least one example")
            for i in arm:
                if i in seen:
                    raise ValueError(f"example id {i!r} is in more than one arm; arms must be disjoint")
                seen.add(i)
                d = self.difficulty.get(i)
                if d is None:
                    raise ValueError(f"example id {i!r} (arm {k}) has no difficulty")
                if not (isinstance(d, int | float) and math.isfinite(d) and 0.0 <= d <= 1.0):
                    raise ValueError(
                        f"example id {i!r} has difficulty {d!r}; difficulties must be finite and in [0, 1]"
                    )
        if known_ids is not None:
            known = set(known_ids)
            missing = [i for i in seen if i not in known]
            if missing:
                raise ValueError(
                    f"{len(missing)} example ids of the ArmSet are not in the data (first: {missing[0]!r}); "
                    "rebuild the arms from this data with `sparft cluster`"
                )

    # ----------------------------------------------------------- persistence
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "sparft.ArmSet",
            "version": FORMAT_VERSION,
            "source": self.source,
            "difficulty_source": self.difficulty_source,
            "arms": self.arms,
            "difficulty": {i: float(self.difficulty[i]) for i in self.ids},
            "topic": {i: self.topic.get(i, "") for i in self.ids},
            "representatives": self.representatives,
            "meta": self.meta,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ArmSet:
        if data.get("format") != "sparft.ArmSet":
            raise ValueError("not an ArmSet file (no 'format: sparft.ArmSet'); build one with `sparft cluster`")
        if int(data.get("version", 0)) > FORMAT_VERSION:
            raise ValueError(
                f"ArmSet file version {data.get('version')} is newer than this sparft ({FORMAT_VERSION}); upgrade sparft"
            )
        return cls(
            arms=[list(a) for a in data["arms"]],
            difficulty={str(k): float(v) for k, v in data["difficulty"].items()},
            topic={str(k): str(v) for k, v in data.get("topic", {}).items()},
            source=data.get("source", ""),
            difficulty_source=data.get("difficulty_source", ""),
            representatives=[list(r) for r in data.get("representatives", [])],
            meta=dict(data.get("meta", {})),
        )

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write atomically (:func:`sparft.fileio.atomic_write_json`): a crash never leaves half a file."""
        return atomic_write_json(path, self.to_dict(), indent=1, nonfinite="keep")

    @classmethod
    def load(cls, path: str | os.PathLike[str], known_ids: Sequence[str] | None = None) -> ArmSet:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no ArmSet file at {path}; build one with `sparft cluster --out DIR`")
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as e:
            raise ValueError(f"{path} is not valid JSON ({e}); rebuild it with `sparft cluster`") from e
        arms = cls.from_dict(data)
        if known_ids is not None:
            arms.validate(known_ids)
        return arms

    # ------------------------------------------------------------- builders
    @classmethod
    def synthetic(
        cls,
        difficulties: Sequence[Sequence[float]],
        topics: Sequence[str] | None = None,
        source: str = "synthetic",
    ) -> ArmSet:
        """An ArmSet from per-arm difficulty lists (ids ``"a{k}/{j}"``): for tests and presets."""
        arms, diff, topic = [], {}, {}
        for k, ds in enumerate(difficulties):
            ids = [f"a{k}/{j}" for j in range(len(ds))]
            arms.append(ids)
            for i, d in zip(ids, ds):
                diff[i] = float(d)
                topic[i] = topics[k] if topics else f"topic{k}"
        return cls(arms=arms, difficulty=diff, topic=topic, source=source, difficulty_source="synthetic")
