"""sparft.fileio: atomic, fsynced, umask-honouring writes; all-or-nothing folders; one JSON encoder."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sparft import fileio
from sparft.experiments import records


@pytest.fixture
def umask():
    """Set the process umask for one test and put the old one back."""
    old = os.umask(0o022)
    os.umask(old)
    yield lambda mask: os.umask(mask)
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077])
def test_files_and_staged_folders_honour_the_umask(tmp_path, umask, mask):
    umask(mask)
    path = fileio.atomic_write_json(tmp_path / "summary.json", {"a": 1})
    assert _mode(path) == 0o666 & ~mask  # not mkstemp's 0600
    fileio.atomic_write_json(path, {"a": 2})  # replacing keeps honouring it
    assert _mode(path) == 0o666 & ~mask
    with fileio.staged_dir(tmp_path / "out") as tmp:
        (tmp / "a.txt").write_text("x")
    assert _mode(tmp_path / "out") == 0o777 & ~mask  # not mkdtemp's 0700
    assert _mode(tmp_path / "out" / "a.txt") == 0o666 & ~mask


def test_the_file_is_fsynced_before_the_rename_and_the_folder_after(tmp_path, monkeypatch):
    path = tmp_path / "state.json"
    path.write_text("old")
    real_fsync, calls = os.fsync, []

    def fsync(fd):
        # What is fsynced (a file or a folder), and what the target held at that moment.
        calls.append((stat.S_ISDIR(os.fstat(fd).st_mode), path.read_text()))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    fileio.atomic_write_text(path, "new")
    assert calls == [(False, "old"), (True, "new")]
    assert path.read_text() == "new"


def test_an_exception_in_the_writer_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "cells.npz"
    fileio.atomic_write_bytes(path, b"old content")
    with pytest.raises(RuntimeError, match="disk full"), fileio.atomic_writer(path) as f:
        f.write(b"half of the new")
        raise RuntimeError("disk full")
    assert path.read_bytes() == b"old content"
    assert os.listdir(tmp_path) == ["cells.npz"]
    # An object the encoder rejects fails before any file exists.
    with pytest.raises(TypeError, match="cannot write a object"):
        fileio.atomic_write_json(path, {"x": object()})
    assert path.read_bytes() == b"old content" and os.listdir(tmp_path) == ["cells.npz"]


def test_a_failed_rename_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "table.md"
    fileio.atomic_write_text(path, "old")

    def replace(src, dst):
        raise OSError("simulated failure of the rename")

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError, match="simulated"):
        fileio.atomic_write_text(path, "new")
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["table.md"]


def test_a_process_killed_mid_write_leaves_the_old_file(tmp_path):
    path = tmp_path / "summary.json"
    fileio.atomic_write_text(path, "old")
    code = (
        "import os, sys\n"
        "from sparft import fileio\n"
        "with fileio.atomic_writer(sys.argv[1]) as f:\n"
        "    f.write(b'half'); f.flush()\n"
        "    os._exit(9)  # dies like SIGKILL: no cleanup, no rename\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, timeout=60)
    assert proc.returncode == 9, proc.stderr
    assert path.read_text() == "old"
    (leftover,) = fileio.stale_temporaries(tmp_path, "summary.json")
    assert leftover.name.startswith(".summary.json.") and leftover.read_bytes() == b"half"


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2-exchange", "move-aside"])
def test_a_staged_folder_is_published_all_or_nothing(tmp_path, monkeypatch, exchange):
    if not exchange:
        monkeypatch.setattr(fileio, "_exchange", lambda a, b: False)
    out = tmp_path / "arms"
    out.mkdir()
    (out / "arms.json").write_text("old arms")
    (out / "clusters.png").write_text("old plot")
    # A failure after the first file: the folder is exactly as it was.
    with pytest.raises(RuntimeError), fileio.staged_dir(out) as tmp:
        (tmp / "arms.json").write_text("new arms")
        raise RuntimeError("plotting failed")
    assert {p.name: p.read_text() for p in out.iterdir()} == {
        "arms.json": "old arms",
        "clusters.png": "old plot",
    }
    assert sorted(os.listdir(tmp_path)) == ["arms"]  # no staging folder left
    # Success replaces the folder whole: no old file survives beside the new ones.
    with fileio.staged_dir(out) as tmp:
        (tmp / "arms.json").write_text("new arms")
    assert {p.name: p.read_text() for p in out.iterdir()} == {"arms.json": "new arms"}
    assert sorted(os.listdir(tmp_path)) == ["arms"]
    # A new folder is published by a plain rename.
    with fileio.staged_dir(tmp_path / "fresh" / "ckpt") as tmp:
        (tmp / "meta.json").write_text("{}")
    assert os.listdir(tmp_path / "fresh") == ["ckpt"]


def test_the_exchange_is_atomic_where_the_kernel_has_it(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a")
    (b / "x").write_text("b")
    if not fileio._exchange(a, b):
        pytest.skip("no renameat2(RENAME_EXCHANGE) here; publish_dir moves the old folder aside")
    assert (a / "x").read_text() == "b" and (b / "x").read_text() == "a"


@dataclasses.dataclass
class _Point:
    x: float
    label: str


def test_one_encoder_for_numpy_paths_dataclasses_and_nan():
    value = {
        np.int64(3): np.float32(0.5),
        "ints": np.arange(3, dtype=np.int32),
        "grid": np.array([[1.0, np.nan], [np.inf, 2.0]]),
        "flag": np.bool_(True),
        "path": Path("runs") / "a",
        "point": _Point(np.float64(1.5), "p"),
        "pair": (1, (2, 3)),
        "big": 2**100,  # PCG64 generator states hold 128-bit integers
    }
    out = fileio.to_jsonable(value)
    assert out == {
        "3": 0.5,
        "ints": [0, 1, 2],
        "grid": [[1.0, None], [None, 2.0]],
        "flag": True,
        "path": os.path.join("runs", "a"),
        "point": {"x": 1.5, "label": "p"},
        "pair": [1, [2, 3]],
        "big": 2**100,
    }
    assert type(out["flag"]) is bool and type(out["3"]) is float and type(out["ints"][0]) is int
    # "keep": NaN survives a round trip through Python's json (for state files).
    kept = json.loads(fileio.dumps({"grid": value["grid"]}, nonfinite="keep"))
    assert math.isnan(kept["grid"][0][1]) and kept["grid"][1][0] == math.inf
    # "null" (the default) is strict JSON that any tool reads.
    assert fileio.dumps({"v": np.float64("nan")}) == '{"v": null}'
    with pytest.raises(ValueError, match="not a finite number"):
        fileio.to_jsonable([1.0, float("nan")], nonfinite="raise")
    with pytest.raises(TypeError, match="cannot write a set"):
        fileio.to_jsonable({"s": {1, 2}})
    with pytest.raises(ValueError, match="nonfinite must be"):
        fileio.to_jsonable(1.0, nonfinite="drop")


def test_records_helpers_are_the_same_writer_and_encoder(tmp_path):
    assert records.atomic_write_json is fileio.atomic_write_json
    assert records.atomic_write_text is fileio.atomic_write_text
    assert records.atomic_write_bytes is fileio.atomic_write_bytes
    value = {"a": np.float32(0.25), "b": float("nan"), "c": (1, 2)}
    assert records.clean(value) == fileio.to_jsonable(value) == {"a": 0.25, "b": None, "c": [1, 2]}
    assert records.dumps(value, indent=1) == fileio.dumps(value, indent=1)
    path = records.atomic_write_json(tmp_path / "s.json", value)
    assert path.read_text() == '{\n "a": 0.25,\n "b": null,\n "c": [\n  1,\n  2\n ]\n}\n'


def test_fileio_imports_nothing_else_of_sparft():
    code = "import sys, sparft.fileio; print(sorted(m for m in sys.modules if m.startswith('sparft.')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['sparft.fileio']"
