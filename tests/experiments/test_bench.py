"""`sparft bench`: strategies x seeds, statistics, outputs, resumable cells."""

from __future__ import annotations

import csv
import json
import signal
import time

from sparft.experiments import bench
from sparft.experiments.cli import main
from sparft.experiments.config import load_config, strategy_of

STRATEGIES = "uniform,learnability,adarft"


def test_bench_end_to_end_with_two_workers(h, tmp_path, capsys):
    cfg = h.write_config(tmp_path)
    out = tmp_path / "bench"
    code = main(["bench", str(cfg), "--strategies", STRATEGIES, "--seeds", "3", "--workers", "2",
                 "--out", str(out), "--quiet"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "| strategy | seeds | final acc. (95% CI)" in printed and "learnability" in printed
    assert len(list((out / "cells").glob("*.json"))) == 9
    for name in ("table.md", "results.csv", "cells.csv", "summary.json", "curves.png", "arms.png", "final.png"):
        assert (out / name).is_file(), name
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert {r["strategy"] for r in rows} == {"uniform", "learnability", "adarft"}
    by = {r["strategy"]: r for r in rows}
    assert by["uniform"]["vs_baseline_p"] == ""  # no test of uniform against itself
    for r in rows:
        assert float(r["final_ci_low"]) <= float(r["final_mean"]) <= float(r["final_ci_high"])
        assert int(r["budget_steps"]) == 20 and float(r["samples"]) == 20 * 4
    p = float(by["learnability"]["vs_baseline_p"])
    assert 0.0 <= p <= 1.0


def test_cells_equal_single_runs_and_workers_do_not_change_results(h, tmp_path):
    from sparft.experiments.runner import run_episode

    cfg = load_config(h.write_config(tmp_path))
    strategies = [strategy_of(s) for s in ("uniform", "learnability")]
    results = {}
    for workers in (1, 2):
        p = bench.plan(cfg, tmp_path / f"b{workers}", strategies, n_seeds=2)
        bench.prepare(p)
        results[workers] = bench.execute(p, workers=workers, progress=False)
    for name in ("uniform", "learnability"):
        assert [c["final_accuracy"] for c in results[1][name]] == [c["final_accuracy"] for c in results[2][name]]
    single = run_episode(cfg, 1, p.strategies[1])
    assert results[1]["learnability"][1]["accuracy"] == single.accuracy


def test_finished_cells_are_not_rerun(h, tmp_path):
    cfg = load_config(h.write_config(tmp_path))
    p = bench.plan(cfg, tmp_path / "b", [strategy_of("uniform"), strategy_of("learnability")], n_seeds=3)
    bench.prepare(p)
    ran: list = []
    bench.execute(p, progress=False, on_cell=lambda s, seed: ran.append((s, seed)))
    assert len(ran) == 6
    (tmp_path / "b" / "cells" / bench.cell_name("learnability", 1)).unlink()
    ran.clear()
    bench.execute(p, progress=False, on_cell=lambda s, seed: ran.append((s, seed)))
    assert ran == [("learnability", 1)]
    # More seeds later: only the new cells run.
    ran.clear()
    p4 = bench.plan(cfg, tmp_path / "b", p.strategies, n_seeds=4)
    bench.execute(p4, progress=False, on_cell=lambda s, seed: ran.append((s, seed)))
    assert sorted(ran) == [("learnability", 3), ("uniform", 3)]


def test_a_bench_folder_of_another_config_is_refused(h, tmp_path, capsys):
    cfg = h.write_config(tmp_path)
    out = tmp_path / "b"
    assert main(["bench", str(cfg), "--strategies", "uniform", "--seeds", "1", "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    code = main(["bench", str(cfg), "--strategies", "uniform", "--seeds", "1", "--out", str(out),
                 "--set", "env.batch_size=8", "--quiet"])
    assert code == 2 and "different config" in capsys.readouterr().err


def test_bad_strategy_list_fails_before_any_work(h, tmp_path, capsys):
    cfg = h.write_config(tmp_path)
    out = tmp_path / "b"
    assert main(["bench", str(cfg), "--strategies", "uniform,learnabilty", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'learnability'" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
    assert main(["bench", str(cfg), "--strategies", "uniform,uniform", "--out", str(out)]) == 2
    assert "listed twice" in capsys.readouterr().err


def test_killed_bench_resumes_to_the_same_results(h, tmp_path):
    cfg = h.write_config(tmp_path, env={"budget": 150, "batch_size": 4, "group_size": 4, "eval_every": 10})
    args = ["--strategies", STRATEGIES, "--seeds", "6", "--workers", "2", "--quiet", "--no-plots"]
    ref = h.cli("bench", str(cfg), "--out", str(tmp_path / "ref"), *args)
    assert ref.returncode == 0, ref.stderr
    out = tmp_path / "killed"
    proc = h.popen("bench", str(cfg), "--out", str(out), *args)
    deadline = time.time() + 120
    while time.time() < deadline and len(list((out / "cells").glob("*.json"))) < 4:
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    done = len(list((out / "cells").glob("*.json")))
    assert 4 <= done < 18, done
    res = h.cli("bench", str(cfg), "--out", str(out), *args)
    assert res.returncode == 0, res.stderr
    got = json.loads((out / "summary.json").read_text())["rows"]
    want = json.loads((tmp_path / "ref" / "summary.json").read_text())["rows"]
    strip = [{k: v for k, v in r.items() if k != "wall_time"} for r in got]
    assert strip == [{k: v for k, v in r.items() if k != "wall_time"} for r in want]


def test_analyse_on_hand_made_cells(h):
    def cell(final, curve):
        return {"final_accuracy": final, "initial_accuracy": 0.0, "eval_steps": [10, 20],
                "accuracy": curve, "budget": 20, "samples": 80, "rollouts": 320, "tokens": 1000,
                "unique_examples": 10, "wall_time": 0.1}

    cells = {
        "uniform": [cell(0.4, [0.2, 0.4]), cell(0.4, [0.2, 0.4])],
        "fast": [cell(0.6, [0.5, 0.6]), cell(0.6, [0.4, 0.6])],
    }
    rows = bench.analyse(cells, baseline="uniform", reference="sparft")
    assert [r["strategy"] for r in rows] == ["fast", "uniform"]
    fast, uni = rows
    assert fast["steps_to_baseline"] == 10  # mean curve 0.45 >= 0.4 at step 10
    assert uni["steps_to_baseline"] == 20
    # AUC of (0, 0) (10, .5) (20, .6): (.25*10 + .55*10) / 20 = .4 ; of (.4 at 10): (.2*10 + .5*10)/20 = .35
    assert abs(fast["auc_mean"] - (0.4 + 0.35) / 2) < 1e-12
    assert abs(fast["vs_baseline_diff"] - 0.2) < 1e-12
    assert fast["vs_baseline_p"] == 0.0  # both constant, means differ
    assert fast["vs_reference_p"] != fast["vs_reference_p"]  # NaN: no sparft in this bench


def test_report_only_rebuilds_identical_tables_from_stored_cells(h, tmp_path, capsys):
    cfg = h.write_config(tmp_path)
    out = tmp_path / "bench"
    assert main(["bench", str(cfg), "--strategies", "uniform,learnability", "--seeds", "3",
                 "--out", str(out), "--quiet", "--no-plots"]) == 0
    names = ("table.md", "results.csv", "cells.csv")
    first = {n: (out / n).read_bytes() for n in names}
    for n in names:
        (out / n).unlink()
    capsys.readouterr()
    assert main(["bench", "--report-only", str(out), "--no-plots"]) == 0
    assert "| learnability |" in capsys.readouterr().out
    assert {n: (out / n).read_bytes() for n in names} == first
    # Cells carry what calibration and provenance need.
    cell = json.loads((out / "cells" / bench.cell_name("uniform", 0)).read_text())
    assert len(cell["outcomes"]) == cell["budget"] == 20
    step = cell["outcomes"][0]
    assert len(step["ids"]) == len(step["arm"]) == len(step["reward"]) == 4 and step["n"] == [4] * 4
    assert sum(o["tokens"] for o in cell["outcomes"]) == cell["tokens"]
    assert {"commit", "machine", "date"} <= set(cell["provenance"])


def test_report_of_a_partial_bench_says_so_and_pairs_by_seed(h, tmp_path, capsys):
    cfg = h.write_config(tmp_path)
    out = tmp_path / "bench"
    assert main(["bench", str(cfg), "--strategies", "uniform,learnability", "--seeds", "3",
                 "--out", str(out), "--quiet", "--no-plots"]) == 0
    full = {r["strategy"]: r for r in csv.DictReader((out / "results.csv").open())}
    assert float(full["learnability"]["vs_baseline_pairs"]) == 3
    (out / "cells" / bench.cell_name("uniform", 1)).unlink()
    capsys.readouterr()
    assert main(["bench", "--report-only", str(out), "--no-plots"]) == 0
    assert "5 of 6 cells finished (partial)" in (out / "table.md").read_text()
    rows = {r["strategy"]: r for r in csv.DictReader((out / "results.csv").open())}
    assert rows["uniform"]["seeds"] == "2" and rows["learnability"]["seeds"] == "3"
    assert float(rows["learnability"]["vs_baseline_pairs"]) == 2  # seeds 0 and 2 only


def test_paired_difference_of_the_table_matches_the_cells(h, tmp_path):
    import numpy as np

    cfg = load_config(h.write_config(tmp_path))
    p = bench.plan(cfg, tmp_path / "b", [strategy_of("uniform"), strategy_of("learnability")], n_seeds=4)
    bench.prepare(p)
    cells = bench.execute(p, progress=False)
    rows = {r["strategy"]: r for r in bench.analyse(cells)}
    a = np.array([c["final_accuracy"] for c in cells["learnability"]])
    b = np.array([c["final_accuracy"] for c in cells["uniform"]])
    r = rows["learnability"]
    assert r["vs_baseline_diff"] == __import__("pytest").approx(float((a - b).mean()))
    assert r["vs_baseline_ci_low"] <= r["vs_baseline_diff"] <= r["vs_baseline_ci_high"]


def test_report_only_errors_name_the_fix(tmp_path, capsys):
    assert main(["bench", "--report-only", str(tmp_path)]) == 2
    assert "not a bench folder" in capsys.readouterr().err
    assert main(["bench"]) == 2
    assert "give a config file" in capsys.readouterr().err


def test_a_token_budget_ends_runs_when_spent_and_keeps_curves_aligned(h, tmp_path):
    """Equal compute, not equal steps: a filtering teacher (3x candidates per update)
    makes fewer updates than uniform within the same token budget."""
    cfg = load_config(h.write_config(tmp_path), ["env.budget_unit=tokens", "env.budget=20000",
                                                 "env.eval_every=5000"])
    p = bench.plan(cfg, tmp_path / "b", [strategy_of("uniform"), strategy_of("dynamic_filter")], n_seeds=2)
    bench.prepare(p)
    cells = bench.execute(p, progress=False)
    for cs in cells.values():
        for c in cs:
            assert c["budget_unit"] == "tokens"
            assert 20000 <= c["tokens"] < 20000 + max(o["tokens"] for o in c["outcomes"])
            x, acc = bench.curve(c)
            assert x == [0, 5000, 10000, 15000, 20000] and len(acc) == 5
            assert c["eval_spent"] == sorted(c["eval_spent"]) and c["eval_spent"][-1] == c["tokens"]
    steps = {n: [len(c["outcomes"]) for c in cs] for n, cs in cells.items()}
    assert max(steps["dynamic_filter"]) < min(steps["uniform"])
    rows = {r["strategy"]: r for r in bench.analyse(cells)}
    assert rows["uniform"]["budget_unit"] == "tokens"
    table = bench.markdown_table(list(rows.values()), "uniform", "sparft")
    assert "tokens to uniform" in table
    summary = bench.write_report(p, cells, plots=True)  # runs of unequal length plot too
    assert set(summary["figures"]) >= {"curves", "arms", "final", "tokens"}
