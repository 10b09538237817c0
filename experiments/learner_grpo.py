"""``learner.kind: grpo``: real GRPO on a language model (:class:`~sparft.trainers.learner.GRPOLearner`).

``learner.model`` names the policy (an alias, a hub id, a local folder or a ``.gguf``
file), ``learner.policy`` how :func:`~sparft.trainers.models.load_policy` loads it, and
``learner.params`` is a :class:`~sparft.trainers.learner.GRPOLearnerConfig` (G comes
from ``env.group_size``, the rollout seed from the run's). The weights are checkpointed
as files every 10 steps by default; a bench runs its cells one at a time and keeps its
arms in ``arms.json``.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sparft.experiments.learners import LearnerData, LearnerPlugin, register
from sparft.trainers.learner import GRPOLearnerConfig

if TYPE_CHECKING:
    from sparft.experiments.config import ExperimentConfig, LearnerConfig

#: logical memory one real-model cell reserves on a Ray node (a 135M-0.6B policy,
#: its optimizer state and rollouts)
GRPO_MEMORY = 4 * 1024**3


@register("grpo")
class GRPO(LearnerPlugin):
    """Real GRPO on a language model: rollouts, the clipped policy-gradient update, held-out accuracy."""

    Params = GRPOLearnerConfig
    parallel_cells = False
    needs_arms_file = True
    default_checkpoint_every = 10
    inline_state = False
    smoke = {
        "learner": {
            "model": "tiny",
            "params": {"max_new_tokens": 4, "learning_rate": 1e-3, "backend": "transformers"},
        },
    }

    def config(self, cfg: ExperimentConfig, seed: int | None = None) -> GRPOLearnerConfig:
        """``learner.params`` as a GRPOLearnerConfig, with G and the seed of the run."""
        from sparft.experiments import typed

        params = dict(cfg.learner.params)
        g = params.get("num_generations")
        if g is not None and g != cfg.env.group_size:
            raise ValueError(
                f"learner.params.num_generations={g} but env.group_size={cfg.env.group_size}; set only env.group_size"
            )
        params["num_generations"] = cfg.env.group_size
        params["seed"] = cfg.seed if seed is None else seed
        return typed.from_dict(GRPOLearnerConfig, params, "learner.params")

    def resolve(self, cfg: ExperimentConfig) -> LearnerConfig:
        from sparft.experiments import typed
        from sparft.trainers.models import load_policy

        learner = cfg.learner
        if not learner.model:
            raise ValueError(
                "learner.model is required for a grpo learner (e.g. smollm2-135m-instruct)"
            )
        valid = set(inspect.signature(load_policy).parameters) - {"spec"}
        for key in learner.policy:
            if key not in valid:
                raise ValueError(typed.unknown_key_message(key, "learner.policy", sorted(valid)))
        full = typed.to_dict(self.config(cfg))
        full.pop("num_generations"), full.pop("seed")
        return dataclasses.replace(learner, params=full)

    def build(self, cfg: ExperimentConfig, data: LearnerData, seed: int) -> Any:
        from sparft.trainers.learner import GRPOLearner
        from sparft.trainers.models import load_policy

        pool = {e.id: e for e in data.train()}
        missing = [i for i in data.arms.ids if i not in pool]
        if missing:
            raise ValueError(
                f"{len(missing)} arm examples are not in data.source (first {missing[0]!r}); "
                "the arms were built from other data"
            )
        policy = load_policy(cfg.learner.model, **cfg.learner.policy)
        return GRPOLearner(policy, pool, eval_examples=data.test(), config=self.config(cfg, seed))

    def save_state(self, learner: Any, checkpoint_dir: Path | None, step: int) -> dict[str, Any]:
        """The weights, optimizer and generator states as files under ``checkpoint_dir/model``
        (the newest two kept)."""
        if checkpoint_dir is None:
            raise ValueError("a grpo learner keeps its state in files: give a checkpoint folder")
        from sparft.trainers.checkpoint import save_checkpoint

        folder = save_checkpoint(checkpoint_dir / "model", step, learner=learner, keep=2)
        return {"folder": folder.name}

    def load_state(
        self, learner: Any, state: Mapping[str, Any], checkpoint_dir: Path | None
    ) -> None:
        if "inline" in state:
            return super().load_state(learner, state, checkpoint_dir)
        from sparft.trainers.checkpoint import load_checkpoint

        if checkpoint_dir is None:
            raise ValueError("this checkpoint keeps the model in files; resume from its run folder")
        folder = checkpoint_dir / "model" / state["folder"]
        if not folder.is_dir():
            raise FileNotFoundError(
                f"model checkpoint {folder} is missing; the run folder is incomplete"
            )
        load_checkpoint(folder, learner=learner)
        return None

    def resources(
        self, cfg: ExperimentConfig, nodes: Sequence[Mapping[str, float]]
    ) -> dict[str, Any]:
        """1 GPU on a cluster with GPUs (``learner.policy.device`` cuda or auto); on CPU a whole
        node, the largest: a GRPO step uses every core it is given (torch threads)."""
        import os

        device = str(cfg.learner.policy.get("device", "auto"))
        has_gpu = any(n.get("GPU", 0) >= 1 for n in nodes)
        if device.startswith("cuda") or (device == "auto" and has_gpu):
            return {"num_cpus": 1, "num_gpus": 1, "memory": GRPO_MEMORY}
        cpus = max((int(n.get("CPU", 0)) for n in nodes), default=0) or (os.cpu_count() or 1)
        return {"num_cpus": cpus, "memory": GRPO_MEMORY}

    def label(self, cfg: ExperimentConfig) -> str:
        return str(cfg.learner.model)
