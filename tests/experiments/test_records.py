"""Crash-safe metrics files: partial lines are never read, truncation is exact."""

import json
import os

import pytest

from sparft.experiments import records


def test_jsonl_round_trip_and_partial_last_line_is_ignored(tmp_path):
    path = tmp_path / "metrics.jsonl"
    with records.JsonlWriter(path) as w:
        for step in range(3):
            w.write({"step": step, "acc": step / 10, "nan": float("nan")})
    with open(path, "ab") as f:  # a write cut short by a kill
        f.write(b'{"step": 3, "ac')
    lines = records.read_jsonl(path)
    assert [r["step"] for r in lines] == [0, 1, 2]
    assert lines[0]["nan"] is None


def test_truncate_drops_the_partial_line_and_everything_after_the_cut(tmp_path):
    path = tmp_path / "metrics.jsonl"
    with records.JsonlWriter(path) as w:
        for step in range(5):
            w.write({"step": step})
    with open(path, "ab") as f:
        f.write(b'{"step": 5')
    kept = records.truncate_jsonl(path, lambda r: r["step"] < 3)
    assert [r["step"] for r in kept] == [0, 1, 2]
    assert path.read_bytes().endswith(b"\n")
    with records.JsonlWriter(path) as w:
        w.write({"step": 3})
    assert [r["step"] for r in records.read_jsonl(path)] == [0, 1, 2, 3]


def test_a_corrupted_complete_line_is_an_error_not_a_skip(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"step": 0}\n{"step": 1, oops}\n{"step": 2}\n')
    with pytest.raises(ValueError, match="metrics.jsonl:2 is corrupted"):
        records.read_jsonl(path)


def test_atomic_write_leaves_no_temporary_file_and_replaces_whole(tmp_path):
    path = tmp_path / "sub" / "summary.json"
    records.atomic_write_json(path, {"a": 1})
    records.atomic_write_json(path, {"a": 2, "b": [1, 2]})
    assert json.loads(path.read_text()) == {"a": 2, "b": [1, 2]}
    assert os.listdir(path.parent) == ["summary.json"]


def test_atomic_write_failure_keeps_the_old_file(tmp_path):
    path = tmp_path / "summary.json"
    records.atomic_write_json(path, {"old": True})

    class Boom:
        pass

    with pytest.raises(TypeError):
        records.atomic_write_json(path, {"x": Boom()})
    assert json.loads(path.read_text()) == {"old": True}
    assert os.listdir(tmp_path) == ["summary.json"]
