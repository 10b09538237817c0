"""``sparft bandits``: every registered algorithm with its hyperparameters and defaults."""

import json
import subprocess
import sys

from sparft import bandits
from sparft.experiments.cli import main

TWELVE = ["uniform", "epsilon_greedy", "softmax", "ucb1", "kl_ucb", "discounted_ucb",
          "sliding_window_ucb", "thompson_beta", "thompson_gaussian", "exp3", "exp3_ix", "exp3_s"]


def test_table_lists_every_algorithm_with_hyperparameters_and_defaults(capsys):
    assert main(["bandits"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    for name in TWELVE:
        row = next(line for line in lines if line.startswith(name + " "))
        assert bandits.spec(name).summary[:30] in row  # the one-line description
        for field in bandits.spec(name).Params.describe():
            assert any(line.strip().startswith(field["name"] + " ") for line in lines)
    assert "1.41421" in out  # ucb1's default c = sqrt(2)
    assert "[0, 1]" in out and "|r| <= 1e12" in out


def test_json_and_selection(capsys):
    assert main(["bandits", "--json"]) == 0
    described = json.loads(capsys.readouterr().out)
    assert set(TWELVE) <= {d["name"] for d in described}
    assert main(["bandits", "exp3", "ucb1", "--json"]) == 0
    described = json.loads(capsys.readouterr().out)
    assert [d["name"] for d in described] == ["exp3", "ucb1"]
    assert described[1]["hyperparameters"][0]["default"] == 2**0.5


def test_unknown_name_is_one_line_and_exit_2():
    proc = subprocess.run([sys.executable, "-m", "sparft.experiments.cli", "bandits", "ucb"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "did you mean 'ucb1'" in proc.stderr
