"""Real-model learners: loading, generation, the GRPO update, the TRL adapter, checkpoints.

=========================  ==========================================================
module                     owns
=========================  ==========================================================
``models``                 ``load_policy(spec)``: alias, ``.gguf``, checkpoint folder, hub id
``generation``             batched generation (transformers / vLLM), ``GenerateFn``
``grpo``                   TRL-equal GRPO loss, advantages, log-probs
``learner``                ``GRPOLearner`` (the environment's real learner) and its config
``feed``                   ``CurriculumFeed``: teacher-side of any engine (TRL, verl, ...)
``trl_adapter``            ``CurriculumGRPOTrainer``: a teacher drives TRL's ``GRPOTrainer``
``checkpoint``             ``save_checkpoint`` / ``load_checkpoint``
=========================  ==========================================================

Names are imported lazily, so ``import sparft.trainers`` does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "load_policy": "models",
    "tiny_policy": "models",
    "Policy": "models",
    "LoraSettings": "models",
    "SamplingConfig": "generation",
    "TransformersGenerator": "generation",
    "VLLMGenerator": "generation",
    "make_generator": "generation",
    "grpo_loss": "grpo",
    "GRPOLearner": "learner",
    "GRPOLearnerConfig": "learner",
    "CurriculumFeed": "feed",
    "CurriculumGRPOTrainer": "trl_adapter",
    "save_checkpoint": "checkpoint",
    "load_checkpoint": "checkpoint",
    "latest_checkpoint": "checkpoint",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"sparft.trainers.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'sparft.trainers' has no attribute {name!r}")
