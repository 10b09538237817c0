"""The shipped real bench (configs/real_bench_arith.yaml) at a tiny budget: real GRPO of
SmolLM2-135M-Instruct with vLLM rollouts, killed after its first cell and resumed."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "real_bench_arith.yaml"

#: The shipped config, shrunk: 2 GRPO updates per cell, 32 held-out questions, fewer
#: training questions to embed and cluster. Everything else (model, backend, dtypes,
#: arms' recipe, B, G, learning rate) is what the real bench runs.
TINY = ("--set", "env.budget=2", "--set", "env.eval_every=1", "--set", "data.n_train=200",
        "--set", "data.n_test=32", "--strategies", "uniform,sparft_target", "--seeds", "1",
        "--workers", "1", "--quiet", "--no-plots")


def _cells(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / "cells").glob("*.json"))}


def test_a_killed_real_bench_resumes_without_repeating_or_losing_a_cell(h, tmp_path):
    out = tmp_path / "real"
    proc = h.popen("bench", str(CONFIG), "--out", str(out), *TINY)
    deadline = time.time() + 900
    while not _cells(out):
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        assert time.time() < deadline, "no cell finished in 15 minutes"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    first = _cells(out)
    assert len(first) == 1, sorted(first)  # killed within the second cell
    (name, data), = first.items()
    cell = json.loads(data)
    assert len(cell["outcomes"]) == 2 and cell["rollouts"] == 2 * 4 * 8 and cell["tokens"] > 0
    assert cell["eval_steps"] == [1, 2] and all(0.0 <= a <= 1.0 for a in cell["accuracy"])
    assert all(sum(o["n"]) == 4 * 8 for o in cell["outcomes"])

    res = h.cli("bench", str(CONFIG), "--out", str(out), *TINY, timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "WARNING" not in res.stdout and "| sparft_target |" in res.stdout  # vLLM logs to stderr
    done = _cells(out)
    assert sorted(done) == ["sparft_target__seed000.json", "uniform__seed000.json"]
    assert done[name] == data  # the finished cell was kept, not rerun
    table = (out / "table.md").read_bytes()
    assert b"partial" not in table and b"| sparft_target | 1 |" in table and b"| uniform | 1 |" in table

    again = h.cli("bench", "--report-only", str(out), "--no-plots")
    assert again.returncode == 0, again.stderr[-3000:]
    assert (out / "table.md").read_bytes() == table and _cells(out) == done
