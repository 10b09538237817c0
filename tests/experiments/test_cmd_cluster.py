"""`sparft cluster`: arms.json + clusters.png + a table; bad input is one line, exit 2, nothing written."""

import json

import pytest

from sparft.curricula.arms import ArmSet
from sparft.curricula.sources import load_source
from sparft.experiments.cli import main

pytest.importorskip("sentence_transformers")


@pytest.fixture(autouse=True)
def cache(tmp_path_factory, monkeypatch):
    # One embedding cache for the module's runs: the arith questions are embedded once.
    path = tmp_path_factory.getbasetemp() / "cluster-cache"
    monkeypatch.setenv("SPARFT_CACHE", str(path))
    return path


ARGS = ["cluster", "--data", "arith:n=120", "--k", "4", "--per-cluster", "5", "--quiet"]


def test_cluster_writes_arms_plot_and_table(tmp_path, capsys):
    out = tmp_path / "arms"
    assert main([*ARGS, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    arms = ArmSet.load(out / "arms.json", known_ids=[e.id for e in load_source("arith:n=120")])
    assert arms.n_arms == 4 and arms.sizes.tolist() == [5] * 4
    assert arms.source == "arith:n=120" and arms.difficulty_source == "label"
    assert arms.meta["reduction"] == "farthest" and arms.meta["pool_size"] == 120
    png = (out / "clusters.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    assert sorted(p.name for p in out.iterdir()) == ["arms.json", "clusters.png"]
    # The table: a header and one row per arm with size, difficulty and a question.
    lines = printed.splitlines()
    assert lines[0].split()[:3] == ["arm", "kept/pool", "difficulty"]
    rows = [line for line in lines[2:6]]
    assert [r.split()[0] for r in rows] == ["0", "1", "2", "3"]
    for a, r in enumerate(rows):
        assert "±" in r and " ".join(arms.representatives[a][0].split())[:40] in r
    assert "4 arms, 20 of 120 examples kept" in printed


def test_cluster_is_deterministic(tmp_path):
    for name in ("a", "b"):
        assert (
            main([*ARGS, "--out", str(tmp_path / name), "--no-plot", "--reduction", "random"]) == 0
        )
    a = json.loads((tmp_path / "a" / "arms.json").read_text())
    b = json.loads((tmp_path / "b" / "arms.json").read_text())
    assert a == b


def test_suggest_k(tmp_path, capsys):
    assert (
        main(
            [
                "cluster",
                "--data",
                "arith:n=120",
                "--suggest-k",
                "--k-range",
                "2-5",
                "--per-cluster",
                "3",
                "--no-plot",
                "--quiet",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "silhouette by K" in printed
    arms = ArmSet.load(tmp_path / "arms.json")
    assert arms.n_arms == arms.meta["suggest_k"]["best"] and 2 <= arms.n_arms <= 5


def _bad_files(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    nan = tmp_path / "nan.jsonl"
    nan.write_text(
        "".join(
            json.dumps({"question": f"q{i}?", "answer": str(i)}).replace(
                "}", f', "level": {"NaN" if i == 3 else i}}}'
            )
            + "\n"
            for i in range(10)
        )
    )
    return empty, nan


@pytest.mark.parametrize(
    "extra, match",
    [
        (["--data", "arith:n=120", "--k", "500"], "larger than the pool"),
        (["--data", "arith:n=120", "--k", "4", "--per-cluster", "28"], "fewer than --per-cluster"),
        (["--data", "jsonl:EMPTY"], "has no usable examples"),
        (
            [
                "--data",
                "jsonl:NAN,level=level",
                "--difficulty",
                "label",
                "--k",
                "2",
                "--per-cluster",
                "2",
            ],
            "'level': not a number",
        ),
        (
            [
                "--data",
                "arith:n=40",
                "--difficulty",
                "label",
                "--k",
                "2",
                "--per-cluster",
                "2",
                "--data",
                "gsm9k",
            ],
            "unknown data source",
        ),
        (
            [
                "--data",
                "arith:n=40",
                "--k",
                "2",
                "--per-cluster",
                "2",
                "--embed-model",
                "/no/such/model",
            ],
            "cannot load embedding model",
        ),
        (["--data", "arith:n=40", "--k", "2", "--pca-dim", "0"], "pca-dim"),
        (
            ["--data", "arith:n=40", "--k", "2", "--per-cluster", "1", "--difficulty-weight", "-1"],
            "difficulty-weight",
        ),
    ],
)
def test_bad_input_exit_2_one_line_nothing_written(tmp_path, capsys, extra, match):
    empty, nan = _bad_files(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "arms.json").write_text("previous run")  # must survive a failed run untouched
    extra = [a.replace("EMPTY", str(empty)).replace("NAN", str(nan)) for a in extra]
    code = main(["cluster", "--quiet", "--no-plot", "--out", str(out), *extra])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert match in err and len(err.splitlines()) == 1, err
    assert sorted(p.name for p in out.iterdir()) == ["arms.json"]
    assert (out / "arms.json").read_text() == "previous run"


def test_out_is_a_file(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("x")
    assert main([*ARGS, "--out", str(target)]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_skip_reports_rows(tmp_path, capsys):
    data = tmp_path / "d.jsonl"
    rows = [
        json.dumps({"question": f"How many is {i} plus {i}?", "answer": f"#### {2 * i}"})
        for i in range(30)
    ]
    rows[4] = '{"question": "broken"'
    data.write_text("\n".join(rows) + "\n")
    assert (
        main(
            [
                "cluster",
                "--data",
                f"gsm8k:{data}",
                "--k",
                "2",
                "--per-cluster",
                "3",
                "--no-plot",
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 2
    )  # default: raise
    assert f"{data}:5: field '<json>'" in capsys.readouterr().err
    assert (
        main(
            [
                "cluster",
                "--data",
                f"gsm8k:{data}",
                "--k",
                "2",
                "--per-cluster",
                "3",
                "--no-plot",
                "--on-error",
                "skip",
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 0
    )
    err = capsys.readouterr().err
    assert "skipped 1 malformed rows" in err and f"skipped {data}:5" in err
    assert ArmSet.load(tmp_path / "o" / "arms.json").meta["skipped_rows"] == 1


def _arms(tag: str) -> ArmSet:
    return ArmSet(arms=[[f"{tag}0"], [f"{tag}1"]], difficulty={f"{tag}0": 0.2, f"{tag}1": 0.8})


def test_outputs_are_published_together_by_one_rename(tmp_path, monkeypatch):
    from sparft import fileio
    from sparft.experiments.cmd_cluster import _write_outputs

    out = tmp_path / "arms"
    _write_outputs(out, _arms("old"), b"old png")
    # The plot fails after arms.json was staged: the folder keeps the old pair.
    def boom(path, data):
        raise OSError("no space left for the plot")

    monkeypatch.setattr(fileio, "atomic_write_bytes", boom)
    with pytest.raises(OSError, match="no space"):
        _write_outputs(out, _arms("new"), b"new png")
    assert ArmSet.load(out / "arms.json").ids[0] == "old0"
    assert (out / "clusters.png").read_bytes() == b"old png"
    monkeypatch.undo()
    # A run without a plot replaces the pair whole: no stale plot of other arms stays behind.
    _write_outputs(out, _arms("new"), None)
    assert sorted(p.name for p in out.iterdir()) == ["arms.json"]
    assert ArmSet.load(out / "arms.json").ids[0] == "new0"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["arms"]  # no staging folder left


def test_an_out_folder_holding_other_files_is_refused_before_any_work(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    assert main([*ARGS, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "holds other files (notes.txt)" in err and len(err.splitlines()) == 1
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
