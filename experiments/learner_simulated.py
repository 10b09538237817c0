"""``learner.kind: simulated``: the fast :class:`~sparft.envs.SimulatedLearner`.

``learner.preset`` names a simulator preset (:data:`sparft.envs.presets.PRESETS`), whose
:class:`~sparft.envs.SimParams` ``learner.params`` overrides field by field; with
``data.arms: null`` the preset's own arms are simulated. Its whole state is JSON, so
every step may be checkpointed and bench cells run in parallel processes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sparft.envs.simulator import SimParams
from sparft.experiments.learners import LearnerData, LearnerPlugin, register

if TYPE_CHECKING:
    from sparft.curricula.arms import ArmSet
    from sparft.experiments.config import ExperimentConfig, LearnerConfig


@register("simulated")
class Simulated(LearnerPlugin):
    """The simulated learner: an item-response model of GRPO, a run in seconds."""

    Params = SimParams
    has_own_arms = True

    def sim_params(self, cfg: ExperimentConfig) -> SimParams:
        """The simulator's SimParams: the preset's, with ``learner.params`` on top."""
        from sparft.envs.presets import PRESETS, make_preset
        from sparft.experiments import typed

        if cfg.learner.preset not in PRESETS:
            raise ValueError(f"learner.preset: {PRESETS.unknown(cfg.learner.preset)}")
        _, base = make_preset(cfg.learner.preset, None)
        changes = typed.check_fields(SimParams, cfg.learner.params, "learner.params")
        try:
            return base.replace(**changes)
        except ValueError as e:
            raise ValueError(f"learner.params: {e}") from None

    def resolve(self, cfg: ExperimentConfig) -> LearnerConfig:
        import dataclasses

        from sparft.envs.presets import PRESETS

        if cfg.learner.preset not in PRESETS:
            raise ValueError(f"learner.preset: {PRESETS.unknown(cfg.learner.preset)}")
        if cfg.env.group_size < 2:
            raise ValueError(
                "env.group_size must be at least 2: GRPO compares the rollouts of a prompt"
            )
        return dataclasses.replace(cfg.learner, params=self.sim_params(cfg).to_dict())

    def own_arms(self, cfg: ExperimentConfig) -> ArmSet:
        from sparft.envs.presets import make_preset

        return make_preset(cfg.learner.preset, None)[0]

    def build(self, cfg: ExperimentConfig, data: LearnerData, seed: int) -> Any:
        from sparft.envs.simulator import SimulatedLearner

        del seed  # the environment's reset seeds it
        return SimulatedLearner(
            data.arms, SimParams.from_dict(cfg.learner.params), group_size=cfg.env.group_size
        )

    def label(self, cfg: ExperimentConfig) -> str:
        return cfg.learner.preset
