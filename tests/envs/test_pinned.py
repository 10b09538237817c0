"""Pinned trajectories: each registered ``sparft/*`` id, a fixed seed and fixed actions give
the stored rewards and observations.

A change of an id's dynamics (the simulator, a preset, the batch draw, the reward signal)
fails here. If the change is intended, publish it under a new version of the id
(``-v0`` -> ``-v1``, keeping the old one where results were made with it) and re-pin:

    .venv/bin/python tests/envs/test_pinned.py --update

Compared with a tolerance of 1e-9, so processors that round the last bit differently
(AVX-512 against AMX builds of numpy) agree.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import sparft.envs  # noqa: F401  (registers the ids)

PINS = Path(__file__).with_name("pinned_trajectories.json")
STEPS, SEED = 40, 0


def registered_ids() -> list[str]:
    return sorted(i for i in gym.registry if i.startswith("sparft/"))


def trajectory(env_id: str) -> dict:
    env = gym.make(env_id)
    obs, _ = env.reset(seed=SEED)
    env.action_space.seed(SEED)
    actions, rewards = [], []
    for _ in range(STEPS):
        action = env.action_space.sample()
        obs, reward, terminated, truncated, _ = env.step(action)
        actions.append(np.asarray(action).tolist())
        rewards.append(float(reward))
        if terminated or truncated:
            break
    final = gym.spaces.flatten(env.observation_space, obs)
    env.close()
    return {"actions": actions, "rewards": rewards, "final_obs": np.asarray(final, float).tolist()}


def test_every_registered_id_is_pinned():
    pinned = json.loads(PINS.read_text())
    missing = sorted(set(registered_ids()) - set(pinned))
    assert not missing, f"no pinned trajectory for {missing}: run `python {__file__} --update`"


@pytest.mark.parametrize("env_id", registered_ids())
def test_dynamics_match_the_pinned_trajectory(env_id):
    pinned = json.loads(PINS.read_text()).get(env_id)
    if pinned is None:
        pytest.fail(f"{env_id} is not pinned: run `python {__file__} --update`")
    now = trajectory(env_id)
    hint = f"{env_id} changed its dynamics: bump the id's version, then re-pin (see this file)"
    assert now["actions"] == pinned["actions"], "the action space's sampling changed; " + hint
    np.testing.assert_allclose(now["rewards"], pinned["rewards"], rtol=0, atol=1e-9, err_msg=hint)
    np.testing.assert_allclose(
        now["final_obs"], pinned["final_obs"], rtol=0, atol=1e-9, err_msg=hint
    )


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit(f"usage: python {__file__} --update   (re-pins every registered id)")
    PINS.write_text(json.dumps({i: trajectory(i) for i in registered_ids()}, indent=1) + "\n")
    print(f"pinned {len(registered_ids())} ids in {PINS}")
