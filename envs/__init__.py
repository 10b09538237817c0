"""The curriculum as a Gymnasium environment, and the simulated learner to develop curricula on.

Importing this package registers the environment ids (``gymnasium.make`` needs
the import, or the ``"sparft.envs:sparft/Curriculum-v0"`` form of the id)::

    import gymnasium as gym
    import sparft.envs

    env = gym.make("sparft/Curriculum-v0")                 # simulated learner, default preset
    env = gym.make("sparft/Curriculum-v0", learner=my_learner, arms=arm_set,
                   batch_size=8, budget=300, reward_signal="learnability", action_mode="arm")

========================================  ================================================
id                                        simulator preset (:mod:`sparft.envs.presets`)
========================================  ================================================
``sparft/Curriculum-v0``                  ``default`` (or any learner and ArmSet you pass)
``sparft/Curriculum-Unlearnable-v0``      ``unlearnable``: most arms are never solved
``sparft/Curriculum-Forgetting-v0``       ``forgetting``: unpractised topics decay
``sparft/Curriculum-Prerequisites-v0``    ``prerequisites``: a chain of topics
``sparft/Curriculum-NoisyDifficulty-v0``  ``noisy_difficulty``: labels far from the truth
``sparft/Curriculum-LargePool-v0``        ``large_pool``: 4,000 prompts, few of them learnable
========================================  ================================================

Bump the version of an id whenever its dynamics change.
"""

from __future__ import annotations

import gymnasium as gym

from sparft.envs import calibrated  # noqa: F401 - registers the presets fitted by `sparft calibrate`
from sparft.envs.curriculum_env import CurriculumEnv
from sparft.envs.learner import Learner
from sparft.envs.presets import (
    PRESETS,
    available_presets,
    default_arms,
    large_pool_arms,
    make_preset,
    tiered_arms,
)
from sparft.envs.simulator import SimParams, SimulatedLearner, SimWorld, build_world

__all__ = [
    "ENV_IDS",
    "PRESETS",
    "CurriculumEnv",
    "Learner",
    "SimParams",
    "SimWorld",
    "SimulatedLearner",
    "available_presets",
    "build_world",
    "default_arms",
    "large_pool_arms",
    "make_preset",
    "register_envs",
    "tiered_arms",
]

#: id -> simulator preset.
ENV_IDS: dict[str, str] = {
    "sparft/Curriculum-v0": "default",
    "sparft/Curriculum-Unlearnable-v0": "unlearnable",
    "sparft/Curriculum-Forgetting-v0": "forgetting",
    "sparft/Curriculum-Prerequisites-v0": "prerequisites",
    "sparft/Curriculum-NoisyDifficulty-v0": "noisy_difficulty",
    "sparft/Curriculum-LargePool-v0": "large_pool",
}


def register_envs() -> None:
    """Register every id with Gymnasium (idempotent; done on import)."""
    for env_id, preset in ENV_IDS.items():
        if env_id in gym.registry:
            continue
        gym.register(
            id=env_id,
            entry_point="sparft.envs.curriculum_env:CurriculumEnv",
            kwargs={"preset": preset},
        )


register_envs()
