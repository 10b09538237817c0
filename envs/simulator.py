"""``SimulatedLearner``: a fast model of how GRPO fine-tuning responds to the data it sees.

Real GRPO on a real model costs seconds to minutes per update; curricula are
developed and swept on this simulator first. It keeps only what matters to a
curriculum, each piece from what is known about GRPO on pass/fail rewards:

* **Items and skills.** Example ``i`` has a topic ``m_i``, a (true) difficulty
  ``d_i`` in ``[0, 1]`` and a ceiling ``c_i`` (0 for items nobody can solve, e.g.
  a wrong reference answer). The learner has a skill ``theta_m`` per topic, on the
  difficulty scale, and an item-specific bonus ``mu_i`` (memorisation of training
  items; it never helps held-out items).
* **Rollouts.** Each of the G rollouts of item ``i`` succeeds independently with
  the item-response (2PL logistic) probability
  ``p_i = c_i * sigmoid(a * (theta_{m_i} + mu_i - d_i))`` (Lord 1980).
* **Only varied groups teach.** GRPO's advantage is the group-normalised reward
  (Shao et al. 2024, DeepSeekMath, arXiv 2402.03300): a group whose G rewards all
  agree has zero advantage and zero gradient (the reason DAPO filters them, Yu et
  al. 2025, arXiv 2503.14476). The informativeness of a group is its empirical
  reward variance, rescaled to ``[0, 1]``: ``w_i = (4 k_i (G - k_i) / G^2) ** rho``
  with ``k_i`` successes (``rho = variance_exponent``; ``rho = 0``: every varied
  group counts the same, as with std-scaled advantages).
* **Update.** Per topic ``g_m = (eta / B) * sum_{i: m_i = m} w_i * gate_m`` where
  ``gate_m = prod sigmoid(kappa * (theta_r - s))`` over the prerequisites
  ``(m needs r at skill s)``. Skill moves by ``Delta = T^T g``, with ``T`` the
  topic transfer matrix (``T_mm = 1``), times ``1 + sigma * eps_m`` (update noise,
  ``eps ~ N(0, 1)``). Memorisation: ``mu_i += eta * memorisation * w_i``.
* **Update size.** With ``nu = update_normalisation > 0`` the whole update (skills,
  memorisation, and the forgetting it causes) is divided by ``S^nu``, ``S = mean_i w_i``:
  at ``nu = 0`` a step's gain is linear in its informative groups, as with SGD; at
  ``nu = 1`` it has the same size however few groups carry signal, as with Adam, whose
  step is normalised by the gradient's running scale (Kingma & Ba 2015), and only its
  split among topics follows the groups.
* **Forgetting as interference.** Every update pulls all skills back towards their
  initial values in proportion to how much the update changed the policy:
  ``theta <- theta - lambda * S * (theta - theta_0)``, ``mu <- (1 - lambda S) mu``,
  with ``S = mean_i w_i``; the practised topic gains more than it loses. An update
  with no varied group (``S = 0``) changes nothing at all, as in GRPO.
* **Held-out accuracy** is the expected pass@1 on a fixed test set of items with
  the training items' topics and difficulties (without memorisation), at most
  ``n_test`` of them, evenly spread over topic and difficulty; items of
  ``unsolvable_topics`` (corrupt data) are left out of it.

Every number above is a field of :class:`SimParams` (a frozen dataclass), so that
the simulator can be fitted to real GRPO runs. The world (true difficulties when
``difficulty_noise > 0``) is drawn from ``world_seed`` and is the same for every
training seed; ``reset(seed)`` seeds the rollouts, so the same seed gives the
same trajectory.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sparft.curricula.arms import ArmSet
from sparft.curricula.outcome import StepOutcome, group_advantages

__all__ = ["SimParams", "SimWorld", "SimulatedLearner", "build_world", "sigmoid"]


def _hp(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function via tanh: no overflow for any input."""
    return 0.5 + 0.5 * np.tanh(0.5 * x)


@dataclass(frozen=True)
class SimParams:
    """Dynamics of the simulated learner: every number that could be fitted to real runs."""

    discrimination: float = _hp(10.0, "a: slope of the item-response curve per unit of skill - difficulty")
    initial_skill: float = _hp(0.3, "theta_0 of every topic, on the difficulty scale [0, 1]")
    topic_skill: tuple[tuple[str, float], ...] = _hp((), "(topic, theta_0) overrides of initial_skill")
    learning_rate: float = _hp(0.006, "eta: skill gained per update when every group is fully varied")
    variance_exponent: float = _hp(1.0, "rho: a group teaches (4 var)^rho; 0 = every varied group alike")
    transfer: float = _hp(0.3, "skill transferred to every other topic per unit gained on one")
    topic_transfer: tuple[tuple[str, str, float], ...] = _hp(
        (), "(from topic, to topic, coefficient) overrides of transfer"
    )
    prerequisites: tuple[tuple[str, str, float], ...] = _hp(
        (), "(topic, required topic, skill needed): gains on topic are gated by the required skill"
    )
    prerequisite_sharpness: float = _hp(30.0, "kappa: steepness of the prerequisite gate")
    forgetting: float = _hp(0.001, "lambda: pull towards theta_0 per update, scaled by its size")
    update_noise: float = _hp(0.0, "sigma: relative noise of each topic's skill change")
    update_normalisation: float = _hp(
        0.0, "nu: a step's update is divided by S^nu (S its mean informativeness); 0 = SGD-like, 1 = Adam-like"
    )
    memorisation: float = _hp(1.0, "item-specific gain relative to eta (helps training items only)")
    difficulty_noise: float = _hp(0.0, "std of (true - labelled) difficulty; the world is drawn from world_seed")
    unsolvable_topics: tuple[str, ...] = _hp((), "topics whose items are never solved (corrupt data)")
    unsolvable_from: float | None = _hp(None, "items at least this difficult are never solved (None: off)")
    world_seed: int = _hp(0, "seed of the world (true difficulties), fixed across training seeds")
    n_test: int = _hp(512, "held-out items (at most; fewer when the pool is smaller)")
    tokens_base: float = _hp(96.0, "completion tokens of a rollout on the easiest item")
    tokens_per_difficulty: float = _hp(160.0, "extra completion tokens per unit of difficulty")

    def __post_init__(self) -> None:
        # Tuples from JSON arrive as lists: normalise so that params compare and hash.
        object.__setattr__(self, "topic_skill", tuple((str(t), float(s)) for t, s in self.topic_skill))
        object.__setattr__(
            self, "topic_transfer", tuple((str(a), str(b), float(c)) for a, b, c in self.topic_transfer)
        )
        object.__setattr__(
            self, "prerequisites", tuple((str(a), str(b), float(c)) for a, b, c in self.prerequisites)
        )
        object.__setattr__(self, "unsolvable_topics", tuple(str(t) for t in self.unsolvable_topics))
        positive = ("discrimination", "prerequisite_sharpness")
        for name in positive:
            if not getattr(self, name) > 0:
                raise ValueError(f"SimParams.{name} must be > 0, got {getattr(self, name)}")
        non_negative = (
            "learning_rate", "variance_exponent", "forgetting", "update_noise", "memorisation",
            "difficulty_noise", "tokens_base", "tokens_per_difficulty",
        )
        for name in non_negative:
            if not getattr(self, name) >= 0:
                raise ValueError(f"SimParams.{name} must be >= 0, got {getattr(self, name)}")
        if not 0 <= self.update_normalisation <= 1:
            raise ValueError(f"SimParams.update_normalisation must be in [0, 1], got {self.update_normalisation}")
        if not self.forgetting <= 1:
            raise ValueError(f"SimParams.forgetting must be in [0, 1], got {self.forgetting}")
        if self.unsolvable_from is not None and not 0 <= self.unsolvable_from <= 1:
            raise ValueError(f"SimParams.unsolvable_from must be in [0, 1] or None, got {self.unsolvable_from}")
        if int(self.n_test) != self.n_test or self.n_test < 1:
            raise ValueError(f"SimParams.n_test must be a positive integer, got {self.n_test}")

    def replace(self, **changes: Any) -> SimParams:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SimParams:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown SimParams fields {unknown}; valid: {', '.join(sorted(names))}")
        return cls(**dict(data))


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True, eq=False)
class SimWorld:
    """The arrays the dynamics run on, built once from an ArmSet and SimParams (see :func:`build_world`)."""

    params: SimParams
    topics: tuple[str, ...]
    index: Mapping[str, int]          # example id -> item index (ArmSet.ids order)
    item_arm: np.ndarray              # (N,)
    item_topic: np.ndarray            # (N,)
    item_difficulty: np.ndarray       # (N,) true difficulty
    item_ceiling: np.ndarray          # (N,) 0 = never solved
    item_tokens: np.ndarray           # (N,)
    arm_offsets: np.ndarray           # (K,) first item index of each arm
    arm_sizes: np.ndarray             # (K,)
    initial_skill: np.ndarray         # (M,)
    transfer: np.ndarray              # (M, M), row = from, column = to
    prerequisites: tuple[tuple[int, int, float], ...]
    test_topic: np.ndarray            # (T,)
    test_difficulty: np.ndarray       # (T,)
    test_ceiling: np.ndarray          # (T,)

    @property
    def n_items(self) -> int:
        return len(self.item_topic)

    @property
    def n_topics(self) -> int:
        return len(self.topics)

    @property
    def n_arms(self) -> int:
        return len(self.arm_sizes)


def build_world(arms: ArmSet, params: SimParams) -> SimWorld:
    """Item and topic arrays for ``arms`` under ``params``; checks that named topics exist."""
    ids = arms.ids
    labels = [arms.topic.get(i, "") for i in ids]
    topics = tuple(sorted(set(labels)))
    tindex = {t: m for m, t in enumerate(topics)}

    def topic_id(name: str, what: str) -> int:
        if name not in tindex:
            raise ValueError(f"SimParams.{what} names topic {name!r}, but the arms have topics {list(topics)}")
        return tindex[name]

    item_topic = np.array([tindex[t] for t in labels], dtype=np.int64)
    label_difficulty = np.array([arms.difficulty[i] for i in ids], dtype=np.float64)
    difficulty = label_difficulty
    if params.difficulty_noise > 0:
        world_rng = np.random.default_rng(params.world_seed)
        noise = world_rng.normal(0.0, params.difficulty_noise, len(ids))
        difficulty = np.clip(label_difficulty + noise, 0.0, 1.0)
    ceiling = np.ones(len(ids))
    corrupt = np.zeros(len(ids), dtype=bool)
    for t in params.unsolvable_topics:
        corrupt |= item_topic == topic_id(t, "unsolvable_topics")
    ceiling[corrupt] = 0.0
    if params.unsolvable_from is not None:
        ceiling[difficulty >= params.unsolvable_from] = 0.0

    skill0 = np.full(len(topics), params.initial_skill, dtype=np.float64)
    for t, s in params.topic_skill:
        skill0[topic_id(t, "topic_skill")] = s
    transfer = np.full((len(topics), len(topics)), params.transfer, dtype=np.float64)
    for a, b, c in params.topic_transfer:
        transfer[topic_id(a, "topic_transfer"), topic_id(b, "topic_transfer")] = c
    np.fill_diagonal(transfer, 1.0)
    prereqs = tuple(
        (topic_id(a, "prerequisites"), topic_id(b, "prerequisites"), float(s)) for a, b, s in params.prerequisites
    )

    # Held-out set: copies of the (solvable-topic) items, evenly spread over (topic, difficulty).
    pool = np.flatnonzero(~corrupt)
    if pool.size == 0:
        raise ValueError("every topic is in SimParams.unsolvable_topics: no held-out items are left")
    pool = pool[np.lexsort((difficulty[pool], item_topic[pool]))]
    if pool.size > params.n_test:
        pool = pool[np.unique(np.linspace(0, pool.size - 1, params.n_test).round().astype(np.int64))]
    sizes = arms.sizes
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    tokens = np.round(params.tokens_base + params.tokens_per_difficulty * difficulty).astype(np.int64)
    return SimWorld(
        params=params,
        topics=topics,
        index={i: j for j, i in enumerate(ids)},
        item_arm=np.repeat(np.arange(len(sizes)), sizes),
        item_topic=item_topic,
        item_difficulty=difficulty,
        item_ceiling=ceiling,
        item_tokens=tokens,
        arm_offsets=offsets,
        arm_sizes=sizes,
        initial_skill=skill0,
        transfer=transfer,
        prerequisites=prereqs,
        test_topic=item_topic[pool],
        test_difficulty=difficulty[pool],
        test_ceiling=ceiling[pool],
    )


class SimulatedLearner:
    """The simulated GRPO learner (the per-run reference form); satisfies :class:`~sparft.envs.Learner`.

    Args:
        arms: the ArmSet whose examples the learner trains on (topics and difficulties
            are read from it).
        params: the dynamics (:class:`SimParams`); defaults when ``None``.
        group_size: G, rollouts per prompt.
        seed: seed of the rollouts; ``reset(seed)`` re-seeds.
    """

    def __init__(
        self,
        arms: ArmSet,
        params: SimParams | None = None,
        group_size: int = 8,
        seed: int | None = None,
    ) -> None:
        if int(group_size) != group_size or group_size < 2:
            raise ValueError(f"group_size must be an integer >= 2 (GRPO compares rollouts), got {group_size!r}")
        self.arms = arms
        self.params = params if params is not None else SimParams()
        self.group_size = int(group_size)
        self.world = build_world(arms, self.params)
        self.reset(seed)

    @classmethod
    def from_preset(
        cls, name: str = "default", arms: ArmSet | None = None, group_size: int = 8, seed: int | None = None,
        **overrides: Any,
    ) -> SimulatedLearner:
        """A learner on a named preset (see :mod:`sparft.envs.presets`), with SimParams overrides."""
        from sparft.envs.presets import make_preset

        arms, params = make_preset(name, arms)
        return cls(arms, params.replace(**overrides) if overrides else params, group_size, seed)

    # ------------------------------------------------------------------ state
    def reset(self, seed: int | None = None) -> None:
        """Back to the initial policy; ``seed`` seeds the rollouts."""
        self.rng = np.random.default_rng(seed)
        self.skill = self.world.initial_skill.copy()
        self.memo = np.zeros(self.world.n_items)

    def state_dict(self) -> dict[str, Any]:
        return {
            "params": self.params.to_dict(),
            "group_size": self.group_size,
            "skill": self.skill.tolist(),
            "memo": self.memo.tolist(),
            "rng": self.rng.bit_generator.state,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if SimParams.from_dict(state["params"]) != self.params:
            raise ValueError("the state was saved by a simulated learner with other SimParams")
        skill = np.asarray(state["skill"], dtype=np.float64)
        memo = np.asarray(state["memo"], dtype=np.float64)
        if skill.shape != self.skill.shape or memo.shape != self.memo.shape:
            raise ValueError("the state was saved by a simulated learner on other arms")
        self.skill, self.memo = skill, memo
        self.rng.bit_generator.state = state["rng"]

    # ------------------------------------------------------------- dynamics
    def solve_probability(self, items: np.ndarray) -> np.ndarray:
        """Chance that one rollout of each training item (indices into ``arms.ids``) is correct."""
        w = self.world
        logit = w.params.discrimination * (self.skill[w.item_topic[items]] + self.memo[items] - w.item_difficulty[items])
        return w.item_ceiling[items] * sigmoid(logit)

    def _items(self, example_ids: Sequence[str]) -> np.ndarray:
        w = self.world
        try:
            return np.fromiter((w.index[i] for i in example_ids), np.int64, len(example_ids))
        except KeyError as e:
            raise ValueError(f"example id {e.args[0]!r} is not in the learner's ArmSet") from None

    def _rollout(self, items: np.ndarray) -> np.ndarray:
        """``(B, G)`` pass/fail rewards of G rollouts of each item."""
        b, g = len(items), self.group_size
        return (self.rng.random((b, g)) < self.solve_probability(items)[:, None]).astype(np.float64)

    def _update(self, items: np.ndarray, rewards: np.ndarray) -> np.ndarray:
        """The GRPO update on these groups; returns each group's informativeness ``w_i``."""
        w, p = self.world, self.params
        b, g = rewards.shape
        # Informativeness of each group: its reward variance k(G-k)/G^2, times 4 to span [0, 1].
        k = rewards.sum(axis=1)
        info = k * (g - k) * (4.0 / (g * g))
        if p.variance_exponent != 1.0:
            info = np.where(info > 0, info ** p.variance_exponent, 0.0)
        topics = w.item_topic[items]
        gain = np.bincount(topics, weights=info, minlength=w.n_topics) * (p.learning_rate / b)
        for m, r, s in w.prerequisites:
            gain[m] *= sigmoid(p.prerequisite_sharpness * (self.skill[r] - s))
        delta = gain[0] * w.transfer[0]
        for m in range(1, w.n_topics):
            delta = delta + gain[m] * w.transfer[m]
        strength = info.sum() / b
        size = strength ** -p.update_normalisation if p.update_normalisation > 0 and strength > 0 else 1.0
        delta = delta * size
        if p.update_noise > 0:
            delta = delta * (1.0 + p.update_noise * self.rng.standard_normal(w.n_topics))
        strength = strength * size
        if p.forgetting > 0 and strength > 0:
            self.skill = self.skill - (p.forgetting * strength) * (self.skill - w.initial_skill)
            self.memo = self.memo * (1.0 - p.forgetting * strength)
        self.skill = self.skill + delta
        np.add.at(self.memo, items, (p.learning_rate * p.memorisation * size) * info)
        return info

    def _outcome(self, example_ids, arms, step, items, rewards, extra) -> StepOutcome:
        return StepOutcome(
            step=int(step),
            example_ids=tuple(example_ids),
            arms=arms,
            rewards=rewards,
            advantages=group_advantages(rewards),
            tokens=np.repeat(self.world.item_tokens[items][:, None], self.group_size, axis=1),
            extra=extra,
        )

    def train_step(self, example_ids: Sequence[str], arms: np.ndarray, step: int) -> StepOutcome:
        """One simulated GRPO update on the batch; returns its outcome."""
        items = self._items(example_ids)
        rewards = self._rollout(items)
        info = self._update(items, rewards)
        return self._outcome(
            example_ids, arms, step, items, rewards, {"informative": int(np.count_nonzero(info))}
        )

    def train_step_filtered(
        self, example_ids: Sequence[str], arms: np.ndarray, step: int, keep: int
    ) -> StepOutcome:
        """DAPO's dynamic sampling (Yu et al. 2025, arXiv 2503.14476) on over-sampled candidates.

        Rolls out every candidate, drops the groups whose G rewards are all equal
        and makes one update on the first ``keep`` groups that remain (on fewer when
        fewer remain; no update when none do). The outcome covers every candidate
        (their rewards, advantages and tokens: all were generated), with
        ``extra["kept"]`` marking the groups of the update.
        """
        if isinstance(keep, bool) or int(keep) != keep or keep < 1:
            raise ValueError(f"keep must be a positive integer, got {keep!r}")
        items = self._items(example_ids)
        rewards = self._rollout(items)
        varied = rewards.min(axis=1) < rewards.max(axis=1)
        kept = np.zeros(len(items), dtype=bool)
        kept[np.flatnonzero(varied)[: int(keep)]] = True
        if kept.any():
            self._update(items[kept], rewards[kept])
        return self._outcome(
            example_ids, arms, step, items, rewards,
            {"informative": int(varied.sum()), "kept": kept.tolist(), "trained": int(kept.sum())},
        )

    def evaluate(self, split: str = "test") -> dict[str, float]:
        """Expected pass@1 on the fixed held-out items: ``accuracy`` and ``accuracy/<topic>``."""
        if split != "test":
            raise ValueError(f"the simulated learner has one held-out split, 'test'; got {split!r}")
        w = self.world
        p = w.test_ceiling * sigmoid(w.params.discrimination * (self.skill[w.test_topic] - w.test_difficulty))
        out = {"accuracy": float(p.mean())}
        for m, t in enumerate(w.topics):
            mask = w.test_topic == m
            if mask.any():
                out[f"accuracy/{t}"] = float(p[mask].mean())
        return out
