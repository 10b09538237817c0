"""Shared helpers for the bandit tests: a fixed Bernoulli problem and a play loop."""

import numpy as np
import pytest


class Problem:
    """Bernoulli arms with fixed means; rewards come from their own seeded stream."""

    def __init__(self, n_arms, seed=0):
        self.means = np.linspace(0.1, 0.9, n_arms) if n_arms > 1 else np.array([0.5])
        self.rng = np.random.default_rng(seed)

    def reward(self, arm):
        return float(self.rng.random() < self.means[arm])

    def rewards(self, arms):
        return (self.rng.random(len(arms)) < self.means[arms]).astype(float)

    def play(self, bandit, steps):
        """Run ``steps`` select/update pairs on a per-object bandit; the arms chosen."""
        arms = []
        for _ in range(steps):
            arm = bandit.select()
            bandit.update(arm, self.reward(arm))
            arms.append(arm)
        return arms

    def play_vector(self, vb, steps):
        """The same for a vectorised bandit; an (steps, n_runs) array of arms."""
        out = []
        for _ in range(steps):
            arms = vb.select()
            vb.update(arms, self.rewards(arms))
            out.append(arms)
        return np.array(out)


@pytest.fixture
def problem():
    """A factory: ``problem(n_arms, seed=0)``."""
    return Problem
