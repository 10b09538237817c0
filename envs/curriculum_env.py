"""``CurriculumEnv``: the curriculum problem as a Gymnasium environment.

Arms are clusters of training examples (an :class:`~sparft.curricula.arms.ArmSet`);
one step is one GRPO update of a learner on a batch the teacher chose; the
reward is a named curriculum signal (:mod:`sparft.curricula.signals`) of the
update's outcome. The environment works with any :class:`~sparft.envs.Learner`
(the :class:`~sparft.envs.SimulatedLearner` or a real model) and holds no
learner-specific code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from sparft.curricula import signals
from sparft.curricula.arms import ArmSet
from sparft.curricula.outcome import StepOutcome
from sparft.envs.core import BUDGET_UNITS, CurriculumCore
from sparft.envs.learner import Learner
from sparft.envs.sampling import ACTION_MODES
from sparft.envs.simulator import SimParams, SimulatedLearner

__all__ = ["BUDGET_UNITS", "CurriculumEnv", "observation_space", "action_space"]

def observation_space(n_arms: int) -> spaces.Box:
    """``[solve_rate (K), pulls (K), progress (K), budget_used (1)]``, float32."""
    low = np.concatenate([np.zeros(2 * n_arms), -np.ones(n_arms), [0.0]]).astype(np.float32)
    return spaces.Box(low=low, high=np.ones(3 * n_arms + 1, dtype=np.float32), dtype=np.float32)


def action_space(mode: str, n_arms: int, n_items: int, batch_size: int) -> spaces.Space:
    if mode == "arm":
        return spaces.Discrete(n_arms)
    if mode == "arms":
        return spaces.MultiDiscrete(np.full(batch_size, n_arms, dtype=np.int64))
    return spaces.MultiDiscrete(np.full(batch_size, n_items, dtype=np.int64))


def check_settings(
    batch_size: Any, budget: Any, action_mode: str, eval_every: Any, signal: signals.Signal
) -> None:
    """The settings checked before any learner is built (the core checks them too)."""
    for value, what in ((batch_size, "batch_size"), (budget, "budget")):
        if isinstance(value, bool) or int(value) != value or value < 1:
            raise ValueError(f"{what} must be a positive integer, got {value!r}")
    if action_mode not in ACTION_MODES:
        raise ValueError(f"action_mode {action_mode!r} is not one of {', '.join(ACTION_MODES)}")
    if signal.needs_eval and eval_every == 0:
        raise ValueError(f"reward_signal {signal.name!r} needs held-out evaluations: eval_every=0 turns them off")


#: ``rgb_array`` layout in pixels: bar width, gap between arms, panel height, margin.
_BAR, _GAP, _PANEL, _PAD = 6, 3, 48, 4
_WHITE, _GREY, _DARK = (255, 255, 255), (200, 200, 200), (110, 110, 110)
_GREEN, _BLUE, _ORANGE, _RED = (44, 160, 44), (31, 119, 180), (255, 127, 14), (214, 39, 40)


def rgb_frame(
    solve_rate: np.ndarray, share: np.ndarray, progress: np.ndarray, used: float
) -> np.ndarray:
    """The ``rgb_array`` picture of the arms: three panels of one bar per arm, then the budget.

    Top to bottom: solve rate (green, ``[0, 1]``), share of the examples drawn (blue,
    ``[0, 1]``), learning progress (``[-1, 1]`` about a grey midline: orange up, red
    down), and the fraction ``used`` of the budget as a dark strip. Values are clipped
    to those ranges and NaN drawn as 0 (a picture, not a check). For K arms the frame is
    ``(160, 9 * K + 5 rounded up to a multiple of 16, 3)`` uint8, the same at every step
    (video encoders want sides that are multiples of 16).
    """
    k = len(solve_rate)
    width = -(-(2 * _PAD + k * (_BAR + _GAP) - _GAP) // 16) * 16
    x = np.arange(width) - _PAD
    arm = np.clip(x // (_BAR + _GAP), 0, k - 1)
    in_bar = (x >= 0) & (x < k * (_BAR + _GAP)) & (x % (_BAR + _GAP) < _BAR)
    rows = np.arange(_PANEL)[:, None]

    def band(height: int, colour: tuple[int, int, int] = _WHITE) -> np.ndarray:
        out = np.empty((height, width, 3), dtype=np.uint8)
        out[:] = colour
        return out

    def panel(values: np.ndarray, lo: float, up: tuple, down: tuple = _RED) -> np.ndarray:
        # Pixel row of value v, counted from the top: v = 1 is row 0, v = lo is row _PANEL.
        v = np.clip(np.nan_to_num(np.asarray(values, dtype=np.float64)), lo, 1.0)[arm]
        end = np.rint(_PANEL * (1.0 - v) / (1.0 - lo)).astype(np.int64)
        zero = round(_PANEL / (1.0 - lo))
        out = band(_PANEL)
        if zero < _PANEL:
            out[zero] = _GREY
        out[in_bar & (rows >= end) & (rows < zero)] = up
        out[in_bar & (rows >= zero) & (rows < end)] = down
        return out

    strip = band(8)
    strip[2:6, _PAD : _PAD + round((width - 2 * _PAD) * min(max(float(used), 0.0), 1.0))] = _DARK
    panels = [
        panel(solve_rate, 0.0, _GREEN),
        panel(share, 0.0, _BLUE),
        panel(progress, -1.0, _ORANGE),
    ]
    rule = band(2, _GREY)
    return np.concatenate([band(2), panels[0], rule, panels[1], rule, panels[2], band(2), strip])


class CurriculumEnv(gym.Env):
    """A teacher picks what a GRPO learner trains on; each step is one update.

    **Action** (``action_mode``):

    * ``"arm"`` -- ``Discrete(K)``: the arm the whole batch is drawn from;
    * ``"arms"`` -- ``MultiDiscrete([K] * B)``: the arm of each batch slot;
    * ``"examples"`` -- ``MultiDiscrete([N] * B)``: indices into ``arms.ids``.

    Within an arm the examples are drawn uniformly without replacement with
    ``self.np_random`` (an arm smaller than its slots repeats, each example once
    before any repeats).

    **Observation** (float32 ``Box`` of length ``3K + 1``):

    * ``[0, K)`` -- each arm's solve rate at its last pull, exponentially smoothed with
      weight ``history_alpha`` on the newest pull; 0 before the arm's first pull, in ``[0, 1]``;
    * ``[K, 2K)`` -- share of all examples drawn so far that came from each arm, ``[0, 1]``;
    * ``[2K, 3K)`` -- each arm's last learning progress (change of that solve rate
      between its last two pulls), ``[-1, 1]``;
    * ``3K`` -- fraction of the step budget used, ``[0, 1]``.

    **Reward**: the ``reward_signal`` of the update (see :mod:`sparft.curricula.signals`
    for names and ranges). ``terminated`` once the budget is spent (``budget`` updates, or
    rollouts, or completion tokens: ``budget_unit``); never truncated. The last update
    may overshoot a rollout or token budget; ``info["spent"]`` says by how much.

    **Info** (step): ``outcome`` (the learner's :class:`StepOutcome`, with ``eval``
    filled in on evaluated steps), ``arm_counts`` (examples per arm in the batch),
    ``eval`` (held-out metrics, on evaluated steps only), ``step``, ``batch_size``,
    ``group_size``, ``budget``, ``n_arms``, ``action_mode``. Reset info carries the
    same sizes (and ``eval`` when evaluated).

    Args:
        learner: any :class:`~sparft.envs.Learner`; ``None``: a :class:`SimulatedLearner`
            on ``preset`` (``sim_params`` overrides its dynamics).
        arms: the ArmSet; with ``learner=None`` it is simulated with the preset's dynamics;
            with a learner of its own, ``None`` means ``learner.arms``.
        batch_size: B, prompts per update.
        group_size: G, rollouts per prompt (``None``: the learner's, 8 for a new simulator).
        budget: the episode's budget, in ``budget_unit``.
        reward_signal: a registered signal name.
        action_mode: ``"arm"``, ``"arms"`` or ``"examples"``.
        eval_every: held-out evaluation each time this much more of the budget is spent
            (every this many updates with ``budget_unit="steps"``), before the first update
            and after the last (``None``: only after the last update; ``0``: never). ``accuracy_gain`` needs
            it and sets it to 1 when ``None``.
        history_alpha: smoothing weight of the newest pull in the per-arm solve rate.
        preset: simulator preset when ``learner`` is ``None`` (:mod:`sparft.envs.presets`).
        sim_params: :class:`SimParams` (or a mapping of overrides) for that simulator.
        render_mode: ``None``, ``"ansi"`` (a text table of the arms) or ``"rgb_array"``
            (an ``(H, W, 3)`` uint8 picture of the same table: per arm, bars of solve rate,
            share of examples drawn and learning progress, and the budget used; the size
            depends only on the number of arms).
        budget_unit: ``"steps"`` (GRPO updates), ``"rollouts"`` (completions generated,
            every candidate of a filtering teacher included) or ``"tokens"`` (completion
            tokens generated): what equal budgets hold equal between strategies that
            spend different amounts per update.
        oversample: m, candidates per training slot: the action names ``m * B`` slots
            (``"arms"``/``"examples"``; ``"arm"`` draws ``m * B`` examples from the arm).
        filter_groups: DAPO's dynamic sampling (Yu et al. 2025, arXiv 2503.14476): the
            learner rolls out all ``m * B`` candidates, drops the groups whose rewards are
            all equal and updates on the first B that remain
            (``learner.train_step_filtered(ids, arms, step, keep=B)``, an optional
            Learner method). The outcome covers every candidate, with
            ``extra["kept"]`` marking the groups trained on. Set by the
            ``dynamic_filter`` teacher's ``env_options()``.
    """

    # render_fps: the rate a video recorder plays rgb_array frames at (one frame per update).
    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 30}

    def __init__(
        self,
        learner: Learner | None = None,
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
        render_mode: str | None = None,
        oversample: int = 1,
        filter_groups: bool = False,
        budget_unit: str = "steps",
    ) -> None:
        self.signal = signals.get(reward_signal)
        check_settings(batch_size, budget, action_mode, eval_every, self.signal)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode {render_mode!r} is not one of {self.metadata['render_modes']}")
        if learner is None:
            learner, arms = _simulated(preset, arms, sim_params, 8 if group_size is None else group_size)
            group_size = learner.group_size
        else:
            if sim_params is not None:
                raise ValueError("sim_params configures the simulated learner; it cannot apply to a given learner")
            if not isinstance(learner, Learner):
                raise TypeError(f"learner {type(learner).__name__} does not implement the Learner protocol")
            arms = arms if arms is not None else getattr(learner, "arms", None)
            if not isinstance(arms, ArmSet):
                raise ValueError("pass arms=ArmSet(...) with a learner that has no .arms")
            own = getattr(learner, "group_size", None)
            if group_size is not None and own is not None and own != group_size:
                raise ValueError(f"group_size={group_size} but the learner samples {own} rollouts per prompt")
            group_size = own if group_size is None else group_size
        if filter_groups and not callable(getattr(learner, "train_step_filtered", None)):
            raise ValueError(
                f"filter_groups needs a learner with train_step_filtered (DAPO dynamic sampling); "
                f"{type(learner).__name__} has none"
            )
        self.filter_groups = bool(filter_groups)
        self.learner = learner
        self.group_size = None if group_size is None else int(group_size)
        if eval_every is None and self.signal.needs_eval:
            eval_every = 1
        self.core = CurriculumCore(
            arms,
            batch_size,
            action_mode=action_mode,
            budget=budget,
            budget_unit=budget_unit,
            eval_every=eval_every,
            history_alpha=history_alpha,
            oversample=oversample,
        )
        self.render_mode = render_mode
        self.observation_space = observation_space(arms.n_arms)
        self.action_space = action_space(action_mode, arms.n_arms, len(arms.ids), self.n_slots)
        self._needs_reset = True
        self._last_outcome: StepOutcome | None = None

    # The run's settings and state live in the core; read them here.
    arms = property(lambda self: self.core.arms)
    table = property(lambda self: self.core.table)
    history = property(lambda self: self.core.history)
    batch_size = property(lambda self: self.core.batch_size)
    oversample = property(lambda self: self.core.oversample)
    action_mode = property(lambda self: self.core.action_mode)
    budget = property(lambda self: self.core.budget)
    budget_unit = property(lambda self: self.core.budget_unit)
    eval_every = property(lambda self: self.core.eval_every)
    n_slots = property(lambda self: self.core.n_slots, doc="Examples rolled out per step.")
    t = property(lambda self: self.core.t, doc="Updates made in this episode.")
    spent = property(lambda self: self.core.spent, doc="Budget spent, in budget_unit.")

    # ----------------------------------------------------------------- gym API
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        # The learner's own randomness is seeded from the env's generator: one seed fixes both.
        self.learner.reset(int(self.np_random.integers(2**63 - 1)))
        self.core.reset()
        self._needs_reset = False
        self._last_outcome = None
        info = self._sizes()
        if self.eval_every:
            metrics = dict(self.learner.evaluate("test"))
            self.history.observe_eval(metrics.get("accuracy", np.nan))
            info["eval"] = metrics
        return self.core.observation(), info

    def step(self, action):
        if self._needs_reset:
            raise RuntimeError("the episode is over (or never began): call reset() before step()")
        core = self.core
        slot_arms, items = core.draw(action, self.np_random)
        ids = core.example_ids(items)
        if self.filter_groups:
            outcome = self.learner.train_step_filtered(ids, slot_arms, core.t, keep=self.batch_size)
        else:
            outcome = self.learner.train_step(ids, slot_arms, core.t)
        self._check_outcome(outcome)
        evaluate, terminated = core.spend(outcome)
        metrics = None
        if evaluate:
            metrics = dict(self.learner.evaluate("test"))
            outcome.eval = metrics
        accuracy = None if metrics is None else metrics.get("accuracy")
        stats, reward = core.record(outcome, accuracy, self.signal)
        self._last_outcome = outcome
        self._needs_reset = terminated
        info = self._sizes()
        info.update(outcome=outcome, arm_counts=stats.counts, step=core.t)
        if metrics is not None:
            info["eval"] = dict(metrics)
        return core.observation(), reward, terminated, False, info

    def render(self) -> str | np.ndarray | None:
        h = self.history
        if self.render_mode == "rgb_array":
            share = h.examples / max(int(h.examples.sum()), 1)
            used = min(self.spent, self.budget) / self.budget
            return rgb_frame(h.solve_rate, share, h.progress, used)
        if self.render_mode != "ansi":
            return None
        lines = [f"step {self.t}/{self.budget}", " arm  size  solve_rate  pulls  progress"]
        for k in range(self.arms.n_arms):
            lines.append(
                f"{k:>4} {self.table.sizes[k]:>5} {h.solve_rate[k]:>11.3f} {h.pulls[k]:>6} {h.progress[k]:>+9.3f}"
            )
        return "\n".join(lines) + "\n"

    # ---------------------------------------------------------------- helpers
    def cost(self, outcome: StepOutcome) -> int:
        """What one update spends of the budget (see :meth:`CurriculumCore.cost`)."""
        return self.core.cost(outcome)

    def draw(self, action) -> tuple[np.ndarray, np.ndarray]:
        """(arm of each slot, item index of each slot) for an action; uses ``self.np_random``."""
        return self.core.draw(action, self.np_random)

    def _check_outcome(self, outcome: StepOutcome) -> None:
        if outcome.batch_size != self.n_slots:
            raise ValueError(f"the learner returned {outcome.batch_size} examples for a batch of {self.n_slots}")
        if self.group_size is not None and outcome.group_size != self.group_size:
            raise ValueError(f"the learner returned {outcome.group_size} rollouts per prompt; group_size is {self.group_size}")
        r = outcome.rewards
        if r.size and (r.min() < 0.0 or r.max() > 1.0):
            raise ValueError(
                f"the learner returned rewards in [{r.min()}, {r.max()}]; curriculum signals need rewards in [0, 1]"
            )

    def _sizes(self) -> dict[str, Any]:
        return {**self.core.sizes(), "group_size": self.group_size}

    @property
    def last_outcome(self) -> StepOutcome | None:
        return self._last_outcome

    def state_dict(self) -> dict[str, Any]:
        """The environment's own state as JSON-able data (the learner saves its own)."""
        return {
            "np_random": self.np_random.bit_generator.state,
            **self.core.state_dict(),
            "needs_reset": bool(self._needs_reset),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Resume from :meth:`state_dict`; with the learner's state restored too, the
        run continues exactly as one that never stopped."""
        rng = np.random.Generator(np.random.PCG64())
        rng.bit_generator.state = state["np_random"]
        self.np_random = rng
        self.core.load_state_dict(state)
        self._needs_reset = bool(state.get("needs_reset", self.spent >= self.budget))
        self._last_outcome = None


def simulated_setup(
    preset: str, arms: ArmSet | None, sim_params: SimParams | Mapping[str, Any] | None
) -> tuple[ArmSet, SimParams]:
    """The preset's ``(ArmSet, SimParams)``, with ``sim_params`` replacing or overriding the dynamics."""
    from sparft.envs.presets import make_preset

    arms, params = make_preset(preset, arms)
    if isinstance(sim_params, SimParams):
        params = sim_params
    elif sim_params is not None:
        params = params.replace(**dict(sim_params))
    return arms, params


def _simulated(
    preset: str, arms: ArmSet | None, sim_params: SimParams | Mapping[str, Any] | None, group_size: int
) -> tuple[SimulatedLearner, ArmSet]:
    arms, params = simulated_setup(preset, arms, sim_params)
    return SimulatedLearner(arms, params, group_size), arms
