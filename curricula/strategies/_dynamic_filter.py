"""``dynamic_filter``: DAPO's dynamic sampling around any teacher (Yu et al. 2025, arXiv 2503.14476).

DAPO over-samples prompts, rolls all of them out and drops every group whose G
rewards are all equal (all solved or all failed: zero advantage, zero
gradient), so the update is made of informative groups only. It is orthogonal
to the curriculum, so here it wraps another teacher (``inner``, any strategy or
``{bandit, signal}`` composition):

* the inner teacher names ``oversample * B`` candidates instead of B (an arm for
  ``"arm"`` teachers, from which the environment draws that many examples; one
  arm or example per candidate slot for ``"arms"``/``"examples"`` teachers, built
  with ``batch_size = oversample * B``);
* the environment (built with :meth:`DynamicFilter.env_options`:
  ``oversample=m, filter_groups=True``) has the learner roll out every candidate,
  drop the zero-variance groups and update on the first B that remain
  (``Learner.train_step_filtered``);
* the inner teacher observes the outcome of *all* candidates (dropped groups
  included, marked in ``outcome.extra["kept"]``): an arm that is always solved
  should look solved to the teacher.

Choices: one over-sampled round of ``oversample = 3`` (DAPO's released recipe
generates three prompts per training prompt and tops up in further rounds only
when short; here a short batch trains on the informative groups it has); the
generated tokens of every candidate count toward the compute budget.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sparft.curricula.outcome import StepOutcome
from sparft.curricula.teachers import Teacher, get, hp, params_from_dict, register, resolve


@dataclass(frozen=True)
class DynamicFilterParams:
    inner: Any = hp("uniform", "the teacher that picks candidates: a strategy name or {bandit, signal}")
    inner_params: dict = hp({}, "hyperparameters of the inner teacher")
    oversample: int = hp(3, "candidates rolled out per training slot", low=2, high=6)

    def __post_init__(self) -> None:
        if not isinstance(self.inner, str | Mapping):
            raise ValueError(f"inner must be a strategy name or mapping, got {self.inner!r}")
        if isinstance(self.inner, Mapping):
            object.__setattr__(self, "inner", dict(self.inner))
        object.__setattr__(self, "inner_params", dict(self.inner_params))
        if int(self.oversample) != self.oversample or self.oversample < 1:
            raise ValueError(f"oversample must be a positive integer, got {self.oversample!r}")
        name, _ = resolve(self.inner, self.inner_params)
        if name == "dynamic_filter":
            raise ValueError("dynamic_filter cannot wrap itself")


@register("dynamic_filter")
class DynamicFilter(Teacher):
    """DAPO dynamic sampling: over-sample candidates, train on groups whose rewards differ."""

    Params = DynamicFilterParams

    @classmethod
    def action_mode_for(cls, params: Any) -> str:
        name, inner_params = resolve(params.inner, params.inner_params)
        inner = get(name)
        return inner.action_mode_for(params_from_dict(inner.Params, inner_params))

    def __init__(self, arms, params=None, seed=None, **kw) -> None:
        super().__init__(arms, params, seed, **kw)
        p = self.params
        name, inner_params = resolve(p.inner, p.inner_params)
        cls = get(name)
        m = int(p.oversample)
        self.inner: Teacher = cls(
            arms,
            params_from_dict(cls.Params, inner_params),
            seed=int(self.rng.integers(2**63 - 1)),
            batch_size=None if self._batch_size is None else self._batch_size * m,
            budget=self._budget,
        )
        self.action_mode = self.inner.action_mode

    def env_options(self) -> dict[str, Any]:
        return {"oversample": int(self.params.oversample), "filter_groups": True}

    def probabilities(self) -> np.ndarray | None:
        return self.inner.probabilities()

    def act(self, obs: Any = None, info: Mapping[str, Any] | None = None) -> int | np.ndarray:
        if self.inner._batch_size is None and self.action_mode != "arm":
            self.inner._batch_size = self.batch_size(info) * int(self.params.oversample)
        if self.inner._budget is None and info and info.get("budget") is not None:
            self.inner._budget = int(info["budget"])
        return self.inner.act(obs, info)

    def observe(self, outcome: StepOutcome) -> None:
        super().observe(outcome)
        self.inner.observe(outcome)

    def _get_state(self) -> dict[str, Any]:
        return {"inner": self.inner.state_dict()}

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self.inner.load_state_dict(state["inner"])
