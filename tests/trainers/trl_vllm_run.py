"""One teacher-driven TRL run of the real SmolLM2-135M with TRL's own colocated vLLM on the CPU.

Used by test_trl_adapter.py in a subprocess: a colocated engine initialises
``torch.distributed`` as an external launcher, which a test process that already runs
sparft's own engine must not share.

Usage: python trl_vllm_run.py OUT.json STEPS
Writes the teacher's rounds and, after the last step, how far the engine's
log-probabilities of its own samples are from the trained policy's and from the
untrained one's: the trained weights reached the engine only if the first is far smaller.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")  # GiB; otherwise a share of host memory
os.environ.setdefault("VLLM_LOGGING_LEVEL", "WARNING")

sys.path.insert(0, str(Path(__file__).parent))
from trainers_helpers import GreedyRandomTeacher  # noqa: E402

B, G, T = 2, 4, 12


def _arith():
    from sparft.curricula.arms import ArmSet
    from sparft.curricula.sources import load_source

    examples = load_source("arith:topics=addition,levels=1+2,n=32", split="train", seed=0)
    levels = sorted({float(e.difficulty or 0.0) for e in examples})
    arms = ArmSet(
        arms=[[e.id for e in examples if float(e.difficulty or 0.0) == d] for d in levels],
        difficulty={e.id: 0.0 for e in examples},
    )
    return {e.id: e for e in examples}, arms


def _parity(completion, answer) -> float:
    # Rewards that vary within every group (a correct answer is rare for this model in a
    # step or two), so that the step has a gradient and the weights move.
    return float(sum(map(ord, completion[-1]["content"])) % 2)


def _hf_logps(model, prompt_ids, completion_ids):
    import torch

    from sparft.trainers.grpo import per_token_logps

    ids = torch.tensor([list(prompt_ids) + list(completion_ids)])
    with torch.no_grad():
        return per_token_logps(model, ids, torch.ones_like(ids), len(completion_ids))[0]


def run(out: str, steps: int) -> dict:
    import copy

    import torch
    from trl import GRPOConfig
    from vllm import SamplingParams

    from sparft.trainers.feed import CurriculumFeed
    from sparft.trainers.generation import encode_prompts
    from sparft.trainers.models import load_policy
    from sparft.trainers.trl_adapter import CurriculumGRPOTrainer

    examples, arms = _arith()
    policy = load_policy("smollm2-135m-instruct", dtype="float32", device="cpu")
    untrained = copy.deepcopy(policy.model).eval()
    teacher = GreedyRandomTeacher(len(arms.arms), seed=7)
    feed = CurriculumFeed(teacher, arms, batch_size=B, seed=3)
    with tempfile.TemporaryDirectory() as tmp:
        args = GRPOConfig(
            output_dir=str(Path(tmp) / "trl"),
            per_device_train_batch_size=B * G,
            num_generations=G,
            max_completion_length=T,
            max_steps=steps,
            learning_rate=3e-4,  # large enough for one step to move the log-probs clearly
            report_to=[],
            use_cpu=True,
            bf16=False,
            logging_strategy="no",
            save_strategy="no",
            seed=0,
            disable_tqdm=True,
            use_vllm=True,
            vllm_mode="colocate",
        )
        trainer = CurriculumGRPOTrainer(
            model=policy.model,
            processing_class=policy.tokenizer,
            args=args,
            feed=feed,
            examples=examples,
            reward_fn=_parity,
        )
        trainer.train()
        generation = trainer.vllm_generation
        generation.sync_weights()  # what the next round would start with
        example = next(iter(examples.values()))
        prompt_ids = encode_prompts(policy.tokenizer, [example.prompt])[0]
        params = SamplingParams(temperature=1.0, max_tokens=T, logprobs=0, seed=1, ignore_eos=True)
        sample = generation.llm.generate([{"prompt_token_ids": prompt_ids}], params)[0].outputs[0]
    completion = list(sample.token_ids)
    engine = torch.tensor([next(iter(lp.values())).logprob for lp in sample.logprobs])
    trainer.model.eval()
    trained = _hf_logps(trainer.model, prompt_ids, completion)
    before = _hf_logps(untrained, prompt_ids, completion)
    result = {
        "rounds": len(trainer.outcomes),
        "chosen_ids": [list(o.example_ids) for o in trainer.outcomes],
        "feed_step": feed.step,
        # mean |difference| of the per-token log-probs of the engine's own sample
        "engine_vs_trained": float((engine - trained).abs().mean()),
        "engine_vs_untrained": float((engine - before).abs().mean()),
        "trained_vs_untrained": float((trained - before).abs().mean()),
        "engine_dtype": str(generation.llm.llm_engine.model_config.dtype),
    }
    Path(out).write_text(json.dumps(result))
    return result


if __name__ == "__main__":
    print(json.dumps(run(sys.argv[1], int(sys.argv[2]))))
