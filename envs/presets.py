"""Named simulator presets: an ArmSet and the SimParams that make one curriculum problem.

``default`` simulates any ArmSet (GSM8K arms, ``arith`` arms) with the default
dynamics; without an ArmSet it builds the default problem below. The challenge
presets follow TeachMyAgent (Romac et al. 2021, "TeachMyAgent: a Benchmark for
Automatic Curriculum Learning in Deep RL", ICML, arXiv 2103.09815), which tests
teachers on task spaces that are mostly unfeasible, on forgetting students and on
rugged difficulty landscapes:

=================  =====================================================================
preset             what a teacher must cope with
=================  =====================================================================
default            2 topics x 4 difficulty tiers (12 items each); the hard tiers are
                   out of reach at first and become learnable once the easier ones are
unlearnable        5 of 8 arms are corrupt (never solved, so never a GRPO signal); their
                   labelled difficulties look like the learnable arms'
forgetting         4 unrelated topics (no transfer) that decay when not practised: about a
                   third of a topic's gain is lost over 150 updates spent elsewhere
prerequisites      a chain of 4 topics: a topic's skill grows only once the previous
                   topic is mastered, though all of them start half-solvable
noisy_difficulty   the default arms with labelled difficulty far from the true one
                   (std 0.25) and noisy updates
large_pool         4,000 prompts (4 topics x 1,000), most of them all-solved or
                   never-solved by the starting policy and few in between; 16 arms of
                   250 that mix difficulties, so that choosing prompts matters more
                   than choosing arms
=================  =====================================================================

``make_preset(name, arms)`` returns ``(ArmSet, SimParams)``; a challenge preset
given an ArmSet applies its dynamics to those arms (its named topics must exist).

Calibration: held-out accuracy before and after 300 updates (B = 8, G = 8,
mean of 8 seeds) when each update trains on a uniformly random arm, or on the
arm whose items are nearest half-solved by the learner's true solve probabilities
(an oracle; ``train`` in ``tests/envs/test_simulator.py``):

=================  ======  =======  ======
preset             before  uniform  oracle
=================  ======  =======  ======
default            0.30    0.65     0.91
unlearnable        0.20    0.52     0.93
forgetting         0.22    0.65     0.69
prerequisites      0.29    0.53     0.74
noisy_difficulty   0.32    0.59     0.70
large_pool         0.50    0.54     0.76
=================  ======  =======  ======

On ``large_pool`` about 9% of the prompts give a varied group of 8 at the start
(40% are all-solved, 40% never solved); a per-prompt oracle that trains on the 8 of
64 random prompts nearest half-solved reaches 0.90, far above the best arm (0.76).

A plain UCB1 teacher on the ``learnability`` signal reaches 0.82 on ``default``;
one on ``failure_rate`` (hard-first) 0.59, below uniform.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sparft.curricula.arms import ArmSet
from sparft.envs.simulator import SimParams
from sparft.registry import Registry

__all__ = [
    "PRESETS", "available_presets", "default_arms", "large_pool_arms", "make_preset", "tiered_arms",
]


#: Every simulator preset: a function ``(ArmSet | None) -> (ArmSet, SimParams)``. The
#: challenges below register here; fitted ones register from their files
#: (:mod:`sparft.envs.calibrated`); entry points ``sparft.presets`` add one from outside.
PRESETS: Registry[Callable[[ArmSet | None], tuple[ArmSet, SimParams]]] = Registry(
    "simulator preset",
    group="sparft.presets",
    listing="sparft plugins preset",
    alternatives="a preset file from `sparft calibrate` (sparft.envs.calibrated.register_preset)",
)


def tiered_arms(
    topics: list[str],
    tiers: list[float],
    per_arm: int = 12,
    spread: float = 0.1,
    source: str = "sim",
) -> ArmSet:
    """One arm per (topic, tier), each of ``per_arm`` items evenly spread over ``tier +- spread``."""
    difficulties, arm_topics = [], []
    for t in topics:
        for c in tiers:
            difficulties.append(
                np.clip(np.linspace(c - spread, c + spread, per_arm), 0.0, 1.0).tolist()
            )
            arm_topics.append(t)
    return ArmSet.synthetic(difficulties, topics=arm_topics, source=source)


def default_arms() -> ArmSet:
    """The default problem: 2 topics x 4 difficulty tiers, 12 items per arm (96, like SPaRFT's ~100)."""
    return tiered_arms(["topic0", "topic1"], [0.125, 0.375, 0.625, 0.875], source="sim:default")


@PRESETS.register("default")
def _default(arms: ArmSet | None) -> tuple[ArmSet, SimParams]:
    """2 topics x 4 difficulty tiers; the hard tiers become learnable once the easier ones are."""
    return (arms if arms is not None else default_arms()), SimParams()


@PRESETS.register("unlearnable")
def _unlearnable(arms: ArmSet | None) -> tuple[ArmSet, SimParams]:
    """5 of 8 arms are corrupt (never solved), their labelled difficulties like the others'."""
    if arms is None:
        learnable = tiered_arms(["learnable"], [0.3, 0.55, 0.8])
        corrupt = tiered_arms(["corrupt"], [0.15, 0.4, 0.65, 0.8, 0.9])
        diffs = [learnable.difficulties(k).tolist() for k in range(3)]
        diffs += [corrupt.difficulties(k).tolist() for k in range(5)]
        # Interleave so that the learnable arms are not simply the first indices.
        order = [3, 0, 4, 5, 1, 6, 2, 7]
        names = ["learnable"] * 3 + ["corrupt"] * 5
        arms = ArmSet.synthetic(
            [diffs[i] for i in order], topics=[names[i] for i in order], source="sim:unlearnable"
        )
    return arms, SimParams(unsolvable_topics=("corrupt",))


@PRESETS.register("forgetting")
def _forgetting(arms: ArmSet | None) -> tuple[ArmSet, SimParams]:
    """4 unrelated topics that decay when not practised."""
    if arms is None:
        arms = tiered_arms([f"skill{j}" for j in range(4)], [0.35, 0.6], source="sim:forgetting")
    return arms, SimParams(forgetting=0.008, transfer=0.0, learning_rate=0.012)


@PRESETS.register("prerequisites")
def _prerequisites(arms: ArmSet | None) -> tuple[ArmSet, SimParams]:
    """A chain of 4 topics: one grows only once the previous one is mastered."""
    names = [f"stage{j}" for j in range(4)]
    if arms is None:
        arms = tiered_arms(names, [0.35, 0.6], source="sim:prerequisites")
    prereqs = tuple((names[j], names[j - 1], 0.55) for j in range(1, 4))
    forward = tuple((names[j - 1], names[j], 0.2) for j in range(1, 4))
    return arms, SimParams(
        initial_skill=0.35,
        transfer=0.0,
        topic_transfer=forward,
        prerequisites=prereqs,
        learning_rate=0.01,
    )


@PRESETS.register("noisy_difficulty")
def _noisy_difficulty(arms: ArmSet | None) -> tuple[ArmSet, SimParams]:
    """The default arms with labelled difficulty far from the true one, and noisy updates."""
    return (arms if arms is not None else default_arms()), SimParams(
        difficulty_noise=0.25, update_noise=0.5
    )


def large_pool_arms(
    n_topics: int = 4,
    per_topic: int = 1000,
    arms_per_topic: int = 4,
    shares: tuple[float, float, float] = (0.45, 0.1, 0.45),
    sort_noise: float = 0.15,
    seed: int = 0,
) -> ArmSet:
    """The ``large_pool`` problem: a big pool where few prompts sit near the learner's frontier.

    Per topic, ``shares`` of the ``per_topic`` labelled difficulties are drawn from
    ``U(0, 0.25)`` (easy), ``U(0.3, 0.7)`` (in between) and ``U(0.75, 1)`` (hard). The arms
    stand for embedding clusters, which follow difficulty only loosely: within a topic
    the prompts are sorted by ``difficulty + N(0, sort_noise)`` and cut into
    ``arms_per_topic`` equal arms. The draw is fixed by ``seed`` (the world, not a
    training seed). Ids are ``"t{topic}/{j}"``.
    """
    rng = np.random.default_rng(seed)
    bands = ((0.0, 0.25), (0.3, 0.7), (0.75, 1.0))
    counts = np.floor(np.asarray(shares) / np.sum(shares) * per_topic).astype(np.int64)
    counts[1] += per_topic - counts.sum()
    arms, difficulty, topic = [], {}, {}
    for m in range(n_topics):
        d = np.concatenate([rng.uniform(lo, hi, c) for (lo, hi), c in zip(bands, counts)])
        ids = [f"t{m}/{j}" for j in range(per_topic)]
        order = np.argsort(d + rng.normal(0.0, sort_noise, per_topic), kind="stable")
        for part in np.array_split(order, arms_per_topic):
            arms.append([ids[j] for j in part])
        for i, x in zip(ids, d):
            difficulty[i] = float(x)
            topic[i] = f"topic{m}"
    return ArmSet(
        arms=arms, difficulty=difficulty, topic=topic, source="sim:large_pool", difficulty_source="synthetic"
    )


@PRESETS.register("large_pool")
def _large_pool(arms: ArmSet | None) -> tuple[ArmSet, SimParams]:
    """4,000 prompts, most all-solved or never solved at first; 16 arms that mix difficulties."""
    # A sharp item-response curve (a = 20) around a starting skill of 0.5: items labelled
    # easy are solved by every rollout, hard ones by none; labels are noisy (std 0.1) and
    # the hardest items (true difficulty >= 0.97) can never be solved (wrong references).
    return (arms if arms is not None else large_pool_arms()), SimParams(
        discrimination=20.0,
        initial_skill=0.5,
        learning_rate=0.01,
        difficulty_noise=0.1,
        unsolvable_from=0.97,
    )


def available_presets() -> list[str]:
    """The names of every simulator preset, sorted."""
    return PRESETS.names()


def make_preset(name: str = "default", arms: ArmSet | None = None) -> tuple[ArmSet, SimParams]:
    """``(ArmSet, SimParams)`` of a preset; a ``ValueError`` names the valid presets and the closest."""
    make = PRESETS.get(name)
    if arms is not None and not isinstance(arms, ArmSet):
        raise TypeError(f"arms must be an ArmSet, got {type(arms).__name__}")
    return make(arms)
