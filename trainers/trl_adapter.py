"""TRL adapter: a ``GRPOTrainer`` whose prompts a sparft teacher chooses, step by step.

:class:`CurriculumGRPOTrainer` keeps TRL's whole training loop (generation, vLLM via
``use_vllm``, accelerate / DeepSpeed / FSDP, logging, checkpoints) and changes two
things, both through the engine-neutral :class:`~sparft.trainers.feed.CurriculumFeed`:

* **choice** -- at the moment TRL generates a batch (``_generate_and_score_completions``)
  the prompts of that batch are replaced by ``feed.next_batch()``: B examples, each
  repeated G times, this process taking its slice of the global rows;
* **feedback** -- the gathered rewards of all processes (``_calculate_rewards``) go
  back through ``feed.report`` as a :class:`~sparft.curricula.outcome.StepOutcome`.

Why at generation time and not in a custom ``_get_train_sampler`` (the usual advice):
accelerate's data loader fetches one batch ahead, so a sampler is asked for generation
round r+1 before round r's rewards exist; choosing at generation time removes that
lag. The dataset is still iterated (its rows only pace the loop).

Lag between a choice and its feedback. TRL generates once per ``steps_per_generation
* num_iterations`` optimizer steps (S * mu); the teacher chooses once per such round,
and that round's outcome reaches it right after the rewards are computed, before the
S * mu updates that use the round: 0 rounds of lag (``feed.pending`` is 0 between
rounds). The rewards it sees were earned by the policy as it was at the start of the
round; with S = mu = 1 (the default when ``gradient_accumulation_steps=1``) this is
exactly the environment's one choice, one update, one outcome.

Distributed: every process runs its own teacher with the same seed and observes the
same gathered rewards, so all choose the same batch; ``check_sync=True`` verifies it
by gathering the chosen ids each round (tests/trainers/test_trl_adapter.py runs two
CPU processes under ``accelerate launch``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch
from accelerate.utils import gather_object
from trl import GRPOTrainer

from sparft.curricula.examples import Example
from sparft.trainers.feed import CurriculumFeed
from sparft.trainers.grpo import advantages

__all__ = [
    "CurriculumGRPOTrainer",
    "answer_reward",
    "examples_dataset",
    "sync_colocated_vllm_on_cpu",
]


def answer_reward(
    reward_fn: Callable[[Any, str], float] | None = None,
) -> Callable[..., list[float]]:
    """A TRL reward function that checks each completion against the row's ``answer``."""
    if reward_fn is None:
        from sparft.curricula.rewards import numeric_reward as reward_fn

    def answer_correct(prompts: Any, completions: Any, answer: Any, **kwargs: Any) -> list[float]:
        return [float(reward_fn(c, a)) for c, a in zip(completions, answer)]

    return answer_correct


def _row(example: Example) -> dict[str, Any]:
    return {
        "prompt": [dict(m) for m in example.prompt],
        "answer": example.answer,
        "example_id": example.id,
    }


def examples_dataset(examples: Mapping[str, Example]) -> Any:
    """A ``datasets.Dataset`` with TRL's conversational ``prompt`` column, ``answer`` and ``example_id``."""
    from datasets import Dataset

    return Dataset.from_list([_row(e) for e in examples.values()])


def sync_colocated_vllm_on_cpu(trainer: GRPOTrainer) -> None:
    """Make TRL's colocated vLLM take the policy's weights on vLLM's CPU build too.

    TRL's colocate sync hands each parameter to ``model_runner.model.load_weights``.
    The CPU build's linear layers pack their weights for oneDNN at load time and leave
    ``weight`` empty, so that call fails there (and a tied ``lm_head`` would keep its
    packed copy of the old embeddings anyway). The smallest change that works: replace
    this one engine's ``sync_weights`` with vLLM's in-place reload of the same weights
    (:func:`~sparft.trainers.generation.reload_weights`, which re-packs), keeping
    TRL's own step bookkeeping around it. Only on the CPU build: on a GPU TRL's route
    is kept as it is. Sleep mode, tensor parallelism and FSDP / ZeRO-3 sharding are
    GPU features this path does not need (it reads the unwrapped model's parameters).
    """
    from vllm.platforms import current_platform

    if not current_platform.is_cpu():
        return
    from sparft.trainers.generation import policy_weights, reload_weights

    generation = trainer.vllm_generation
    llm = generation.llm
    dtype = llm.llm_engine.model_config.dtype

    def sync_weights() -> None:
        model = trainer.accelerator.unwrap_model(trainer.model)
        reload_weights(llm, policy_weights(model, dtype))

    generation.sync_weights = sync_weights


class CurriculumGRPOTrainer(GRPOTrainer):
    """``GRPOTrainer`` driven by a :class:`CurriculumFeed`.

    Args:
        feed: the teacher's feed; ``feed.batch_size * num_generations`` must equal
            TRL's global ``generation_batch_size``.
        examples: id -> Example for every id the teacher may choose.
        reward_fn: answer checker (default ``numeric_reward``), used when
            ``reward_funcs`` is not given.
        check_sync: gather the chosen ids from every process each round and fail
            if they differ.
        All other arguments go to ``GRPOTrainer``.
    """

    def __init__(
        self,
        *args: Any,
        feed: CurriculumFeed,
        examples: Mapping[str, Example],
        reward_fn: Callable[[Any, str], float] | None = None,
        check_sync: bool = False,
        **kwargs: Any,
    ) -> None:
        self.feed, self.examples, self.check_sync = feed, dict(examples), check_sync
        self.outcomes: list[Any] = []
        kwargs.setdefault("reward_funcs", answer_reward(reward_fn))
        kwargs.setdefault("train_dataset", examples_dataset(self.examples))
        super().__init__(*args, **kwargs)
        rows = feed.batch_size * self.num_generations
        if self.args.generation_batch_size != rows:
            raise ValueError(
                f"the feed chooses {feed.batch_size} prompts x {self.num_generations} generations = {rows} "
                f"rows per round, but TRL's generation_batch_size is {self.args.generation_batch_size}; "
                "make per_device_train_batch_size * processes * steps_per_generation equal to that"
            )
        self._round: Any = None
        if getattr(self, "use_vllm", False) and self.vllm_mode == "colocate":
            sync_colocated_vllm_on_cpu(self)

    def _generate_and_score_completions(self, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        if not self.model.training:  # evaluation keeps its own data
            return super()._generate_and_score_completions(inputs)
        batch = self.feed.next_batch()
        if self.check_sync:
            chosen = gather_object([batch.example_ids])
            if any(c != chosen[0] for c in chosen):
                raise RuntimeError(
                    f"processes chose different batches at step {batch.step}: {chosen}"
                )
        g, n = self.num_generations, len(inputs)
        rows = [self.examples[i] for i in batch.example_ids for _ in range(g)]
        start = self.accelerator.process_index * n
        self._round = batch
        return super()._generate_and_score_completions([_row(e) for e in rows[start : start + n]])

    def _calculate_rewards(
        self, inputs: Any, prompts: Any, completions: Any, completion_ids_list: Any
    ) -> Any:
        rewards_per_func = super()._calculate_rewards(
            inputs, prompts, completions, completion_ids_list
        )
        if self.model.training and self._round is not None:
            weights = self.reward_weights.to(rewards_per_func.device)
            rewards = torch.nansum(rewards_per_func * weights.unsqueeze(0), dim=1).cpu().numpy()
            lengths = gather_object([len(ids) for ids in completion_ids_list])
            shape = (self.feed.batch_size, self.num_generations)
            outcome = self.feed.report(
                rewards.reshape(shape),
                tokens=np.asarray(lengths).reshape(shape),
                advantages=advantages(rewards.reshape(shape), self.scale_rewards),
                example_ids=self._round.example_ids,
                extra={"global_step": int(self.state.global_step)},
            )
            self.outcomes.append(outcome)
            self._round = None
        return rewards_per_func
