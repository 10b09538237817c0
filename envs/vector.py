"""The simulated curriculum problem over many seeds at once: arrays of shape ``(n_envs, ...)``.

Benchmarks run every strategy on 16+ seeds; stepping them one Python object at
a time makes the simulator the bottleneck. :class:`VectorSimulatedLearner` is the
dynamics of :class:`~sparft.envs.simulator.SimulatedLearner` (see its docstring for
the model) written over a leading environment axis, and
:class:`CurriculumVectorEnv` is :class:`~sparft.envs.CurriculumEnv` on top of it,
as a Gymnasium :class:`~gymnasium.vector.VectorEnv`.

Each environment keeps its own generators (the env's, for drawing batches, and
the learner's, for rollouts), seeded exactly as the per-env form seeds them, and
they are consumed in the same order: environment ``i`` of a vector env reset with
``seed=s`` follows the same trajectory as ``CurriculumEnv`` reset with ``seed=s + i``
given the same actions (tested bit for bit). Only the random draws loop over
environments; everything else is array arithmetic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from sparft.curricula import signals
from sparft.curricula.arms import ArmSet
from sparft.curricula.outcome import StepOutcome, group_advantages
from sparft.envs.curriculum_env import (
    action_space,
    check_settings,
    observation,
    observation_space,
    simulated_setup,
)
from sparft.envs.sampling import ArmTable
from sparft.envs.simulator import SimParams, build_world, sigmoid

__all__ = ["CurriculumVectorEnv", "VectorSimulatedLearner"]


def _uniforms(rngs: Sequence[np.random.Generator], shape: tuple[int, ...]) -> np.ndarray:
    """``(len(rngs), *shape)`` uniforms, row ``i`` from ``rngs[i]``: the numbers ``rngs[i].random(shape)`` gives."""
    out = np.empty((len(rngs), *shape))
    for rng, row in zip(rngs, out):
        rng.random(out=row)
    return out


class VectorSimulatedLearner:
    """``n_envs`` independent simulated learners on the same arms and dynamics.

    State: ``skill`` ``(n_envs, M)``, ``memo`` ``(n_envs, N)``; ``rngs[i]`` is
    learner ``i``'s generator (``reset(seeds)`` seeds them like
    ``SimulatedLearner.reset(seeds[i])``).
    """

    def __init__(
        self, arms: ArmSet, params: SimParams | None = None, n_envs: int = 16, group_size: int = 8
    ) -> None:
        if int(n_envs) != n_envs or n_envs < 1:
            raise ValueError(f"n_envs must be a positive integer, got {n_envs!r}")
        if int(group_size) != group_size or group_size < 2:
            raise ValueError(f"group_size must be an integer >= 2, got {group_size!r}")
        self.arms = arms
        self.params = params if params is not None else SimParams()
        self.world = build_world(arms, self.params)
        self.n_envs = int(n_envs)
        self.group_size = int(group_size)
        self.reset([None] * self.n_envs)

    def reset(self, seeds: Sequence[int | None], mask: np.ndarray | None = None) -> None:
        """Re-initialise the learners (all, or those where ``mask`` is true) with ``seeds``."""
        w = self.world
        if mask is None:
            self.rngs = [np.random.default_rng(s) for s in seeds]
            self.skill = np.tile(w.initial_skill, (self.n_envs, 1))
            self.memo = np.zeros((self.n_envs, w.n_items))
            return
        for i, s in zip(np.flatnonzero(mask), seeds):
            self.rngs[i] = np.random.default_rng(s)
        self.skill[mask] = w.initial_skill
        self.memo[mask] = 0.0

    def solve_probability(self, items: np.ndarray) -> np.ndarray:
        """``(n_envs, B)``: chance that one rollout of each item is correct."""
        w = self.world
        rows = np.arange(self.n_envs)[:, None]
        logit = w.params.discrimination * (
            self.skill[rows, w.item_topic[items]]
            + self.memo[rows, items]
            - w.item_difficulty[items]
        )
        return w.item_ceiling[items] * sigmoid(logit)

    def train(self, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One update of every learner on its batch ``items`` ``(n_envs, B)``; returns (rewards, advantages)."""
        w, p = self.world, self.params
        n, b, g = self.n_envs, items.shape[1], self.group_size
        rows = np.arange(n)[:, None]
        u = _uniforms(self.rngs, (b, g))
        rewards = (u < self.solve_probability(items)[:, :, None]).astype(np.float64)

        k = rewards.sum(axis=2)
        info = k * (g - k) * (4.0 / (g * g))
        if p.variance_exponent != 1.0:
            info = np.where(info > 0, info**p.variance_exponent, 0.0)
        gain = np.zeros((n, w.n_topics))
        np.add.at(gain, (np.broadcast_to(rows, items.shape), w.item_topic[items]), info)
        gain *= p.learning_rate / b
        for m, r, s in w.prerequisites:
            gain[:, m] *= sigmoid(p.prerequisite_sharpness * (self.skill[:, r] - s))
        delta = gain[:, 0:1] * w.transfer[0]
        for m in range(1, w.n_topics):
            delta = delta + gain[:, m : m + 1] * w.transfer[m]
        if p.update_noise > 0:
            eps = np.empty((n, w.n_topics))
            for rng, row in zip(self.rngs, eps):
                rng.standard_normal(out=row)
            delta = delta * (1.0 + p.update_noise * eps)
        strength = info.sum(axis=1) / b
        if p.forgetting > 0:
            pull = (p.forgetting * strength)[:, None]
            self.skill = self.skill - pull * (self.skill - w.initial_skill)
            self.memo = self.memo * (1.0 - pull)
        self.skill = self.skill + delta
        np.add.at(
            self.memo,
            (np.broadcast_to(rows, items.shape), items),
            (p.learning_rate * p.memorisation) * info,
        )
        return rewards, group_advantages(rewards)

    def evaluate(self) -> dict[str, np.ndarray]:
        """Held-out metrics per learner: ``accuracy`` and ``accuracy/<topic>``, each ``(n_envs,)``."""
        w = self.world
        p = w.test_ceiling * sigmoid(
            w.params.discrimination * (self.skill[:, w.test_topic] - w.test_difficulty)
        )
        # Reductions must see C-ordered rows (fancy indexing on the last axis returns
        # F order), or the summation order and so the last bit differ from the per-env form.
        p = np.ascontiguousarray(p)
        out = {"accuracy": p.mean(axis=1)}
        for m, t in enumerate(w.topics):
            mask = w.test_topic == m
            if mask.any():
                out[f"accuracy/{t}"] = np.ascontiguousarray(p[:, mask]).mean(axis=1)
        return out


class CurriculumVectorEnv(VectorEnv):
    """``num_envs`` copies of the simulated :class:`~sparft.envs.CurriculumEnv`, stepped as arrays.

    Same spaces (batched), observation, reward and settings as the per-env form
    with ``learner=None`` (see its docstring). All copies share the budget, so they
    terminate together; the step after that resets them all (Gymnasium's
    next-step autoreset: that step ignores the action and returns reward 0).

    ``infos`` per step: ``arms`` and ``items`` ``(n, B)`` (slot arms, indices into
    ``arms.ids``), ``rewards``/``advantages`` ``(n, B, G)``, ``arm_counts`` ``(n, K)``,
    ``step``, and ``eval`` (a dict of ``(n,)`` arrays) on evaluated steps.
    :meth:`outcome` rebuilds environment ``i``'s :class:`StepOutcome`.
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(
        self,
        num_envs: int = 16,
        arms: ArmSet | None = None,
        batch_size: int = 8,
        group_size: int | None = None,
        budget: int = 300,
        reward_signal: str = "learning_progress",
        action_mode: str = "arm",
        eval_every: int | None = None,
        history_alpha: float = 1.0,
        preset: str = "default",
        sim_params: SimParams | Mapping[str, Any] | None = None,
        learner: None = None,
    ) -> None:
        if learner is not None:
            raise ValueError(
                "the vectorised environment simulates its learners; use CurriculumEnv for a real learner"
            )
        self.signal = signals.get(reward_signal)
        check_settings(batch_size, budget, action_mode, eval_every, self.signal)
        arms, params = simulated_setup(preset, arms, sim_params)
        self.learner = VectorSimulatedLearner(
            arms, params, num_envs, 8 if group_size is None else group_size
        )
        self.arms = arms
        self.table = ArmTable(arms.sizes)
        self.num_envs = int(num_envs)
        self.batch_size = int(batch_size)
        self.group_size = self.learner.group_size
        self.budget = int(budget)
        self.action_mode = action_mode
        self.eval_every = 1 if (eval_every is None and self.signal.needs_eval) else eval_every
        self.history = signals.ArmHistory(
            arms.n_arms, alpha=history_alpha, batch_shape=(self.num_envs,)
        )
        self.single_observation_space = observation_space(arms.n_arms)
        self.single_action_space = action_space(
            action_mode, arms.n_arms, self.table.n_items, self.batch_size
        )
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.env_rngs: list[np.random.Generator] | None = None
        self.t = 0
        self._needs_reset = True
        self._last: dict[str, Any] = {}

    # ----------------------------------------------------------------- gym API
    def reset(
        self,
        *,
        seed: int | Sequence[int | None] | None = None,
        options: dict[str, Any] | None = None,
    ):
        super().reset(seed=None)
        if seed is None:
            seeds: Sequence[int | None] = [None] * self.num_envs
        elif isinstance(seed, int | np.integer):
            seeds = [int(seed) + i for i in range(self.num_envs)]
        else:
            seeds = list(seed)
            if len(seeds) != self.num_envs:
                raise ValueError(f"got {len(seeds)} seeds for {self.num_envs} environments")
        if self.env_rngs is None:
            self.env_rngs = [seeding.np_random(s)[0] for s in seeds]
        else:
            # As the per-env form: a seed re-seeds; None keeps the generator running.
            self.env_rngs = [
                r if s is None else seeding.np_random(s)[0] for r, s in zip(self.env_rngs, seeds)
            ]
        self.learner.reset([int(r.integers(2**63 - 1)) for r in self.env_rngs])
        self.history.reset()
        self.t = 0
        self._needs_reset = False
        self._last = {}
        info = self._sizes()
        if self.eval_every:
            metrics = self.learner.evaluate()
            self.history.observe_eval(metrics["accuracy"])
            info["eval"] = metrics
        return observation(self.history, 0, self.budget), info

    def step(self, actions):
        if self._needs_reset:
            if self.env_rngs is None:
                raise RuntimeError("call reset() before step()")
            obs, info = self.reset()
            zeros = np.zeros(self.num_envs, dtype=bool)
            return obs, np.zeros(self.num_envs), zeros, zeros.copy(), info
        slot_arms, items = self.draw(actions)
        rewards, advantages = self.learner.train(items)
        self.t += 1
        terminated = self.t >= self.budget
        metrics = None
        if (self.eval_every and self.t % self.eval_every == 0) or (
            terminated and self.eval_every != 0
        ):
            metrics = self.learner.evaluate()
        stats = signals.batch_stats(
            rewards,
            advantages,
            slot_arms,
            self.arms.n_arms,
            None if metrics is None else metrics["accuracy"],
        )
        reward = np.asarray(self.signal.batch_values(stats, self.history), dtype=np.float64)
        self.history.update_stats(stats)
        self._needs_reset = terminated
        info = self._sizes()
        info.update(
            arms=slot_arms,
            items=items,
            rewards=rewards,
            advantages=advantages,
            arm_counts=stats.counts,
        )
        if metrics is not None:
            info["eval"] = metrics
        self._last = info
        term = np.full(self.num_envs, terminated)
        return (
            observation(self.history, self.t, self.budget),
            reward,
            term,
            np.zeros(self.num_envs, dtype=bool),
            info,
        )

    # ---------------------------------------------------------------- helpers
    def draw(self, actions) -> tuple[np.ndarray, np.ndarray]:
        """(slot arms, items), each ``(n, B)``, drawing keys from each env's generator."""
        table, b, n = self.table, self.batch_size, self.num_envs
        assert self.env_rngs is not None
        acts = np.asarray(actions, dtype=np.int64)
        if self.action_mode == "arm":
            acts = acts.reshape(n)
            if acts.min() < 0 or acts.max() >= table.n_arms:
                raise ValueError(f"actions must be arms in [0, {table.n_arms})")
            keys = _uniforms(self.env_rngs, (table.max_size,))
            return np.repeat(acts[:, None], b, axis=1), table.draw_arm(acts, keys, b)
        bound = table.n_arms if self.action_mode == "arms" else table.n_items
        if acts.shape != (n, b) or acts.min() < 0 or acts.max() >= bound:
            raise ValueError(
                f"actions must be ({n}, {b}) integers in [0, {bound}) for action_mode={self.action_mode!r}"
            )
        if self.action_mode == "arms":
            keys = _uniforms(self.env_rngs, (table.n_items,))
            return acts.copy(), table.draw_arms(acts, keys)
        return table.item_arm[acts], acts.copy()

    def outcome(self, i: int) -> StepOutcome:
        """The last step's :class:`StepOutcome` of environment ``i``."""
        if not self._last:
            raise RuntimeError("no step since the last reset")
        last, w = self._last, self.learner.world
        items = last["items"][i]
        metrics = {k: float(v[i]) for k, v in last["eval"].items()} if "eval" in last else {}
        ids = self.arms.ids
        k = last["rewards"][i].sum(axis=1)
        return StepOutcome(
            step=self.t - 1,
            example_ids=tuple(ids[j] for j in items),
            arms=last["arms"][i].copy(),
            rewards=last["rewards"][i].copy(),
            advantages=last["advantages"][i].copy(),
            tokens=np.repeat(w.item_tokens[items][:, None], self.group_size, axis=1),
            eval=metrics,
            extra={"informative": int(np.count_nonzero((k > 0) & (k < self.group_size)))},
        )

    def _sizes(self) -> dict[str, Any]:
        return {
            "step": self.t,
            "batch_size": self.batch_size,
            "group_size": self.group_size,
            "budget": self.budget,
            "n_arms": self.arms.n_arms,
            "action_mode": self.action_mode,
        }
