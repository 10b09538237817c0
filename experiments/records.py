"""Crash-safe files: append-only JSONL metrics and atomically replaced results.

A run may be killed at any instant (SIGINT, SIGKILL, power loss). Two rules
keep every file it leaves readable and honest:

1. **Metrics lines are appended whole and made durable one at a time**: one
   ``write`` of the full line including its newline, then ``flush`` and
   ``fsync``. A line without its final newline is, by definition, the one being
   written when the process died: readers ignore it, and :func:`truncate_jsonl`
   cuts it off before a resumed run appends again. A complete line that is not
   valid JSON is corruption, and is reported, never skipped.
2. **Every other file is replaced, never edited**, through :mod:`sparft.fileio`:
   written to a temporary file in the same folder, fsynced, then
   ``os.replace``-d over the target (atomic on POSIX), and the folder fsynced. A
   reader sees the old file or the new one, never half of either; a leftover
   ``.*.tmp`` file is ignored.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from sparft import fileio


def clean(obj: Any) -> Any:
    """JSON-safe plain data: numpy -> Python, NaN/inf -> None, tuples -> lists (:func:`fileio.to_jsonable`)."""
    return fileio.to_jsonable(obj, nonfinite="null")


def dumps(obj: Any, indent: int | None = None) -> str:
    """Strict JSON of :func:`clean` ``(obj)``: the one encoder, :func:`fileio.dumps`."""
    return fileio.dumps(obj, indent=indent, nonfinite="null")


# The one atomic writer lives in sparft.fileio; these names stay for existing callers.
atomic_write_bytes = fileio.atomic_write_bytes
atomic_write_text = fileio.atomic_write_text
atomic_write_json = fileio.atomic_write_json


def read_json(path: str | os.PathLike[str]) -> Any:
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{path} is not valid JSON ({e}); it was not written by sparft") from e


class JsonlWriter:
    """Append one JSON object per line, durable before :meth:`write` returns."""

    def __init__(self, path: str | os.PathLike[str], fsync: bool = True) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fsync = fsync
        self._f = open(self.path, "ab")  # noqa: SIM115 - closed in close()/__exit__

    def write(self, record: Mapping[str, Any]) -> None:
        self._f.write((dumps(record) + "\n").encode("utf-8"))
        self._f.flush()
        if self._fsync:
            os.fsync(self._f.fileno())

    def close(self) -> None:
        if not self._f.closed:
            self._f.close()

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _complete_lines(data: bytes) -> Iterable[tuple[int, bytes]]:
    """(end offset, line) for each newline-terminated line; a partial tail is left out."""
    start = 0
    while True:
        end = data.find(b"\n", start)
        if end < 0:
            return
        yield end + 1, data[start:end]
        start = end + 1


def read_jsonl(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every complete line of ``path`` (none if it does not exist); a partial last line is ignored."""
    path = Path(path)
    if not path.exists():
        return []
    out = []
    for lineno, (_, line) in enumerate(_complete_lines(path.read_bytes()), start=1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}:{lineno} is corrupted ({e}); delete the run folder and re-run") from e
    return out


def truncate_jsonl(
    path: str | os.PathLike[str], keep: Callable[[dict[str, Any]], bool]
) -> list[dict[str, Any]]:
    """Cut ``path`` just after its last line of the leading run of lines that ``keep`` accepts.

    Drops the partial last line (a write interrupted by a kill) and every line
    from the first one ``keep`` rejects; returns the lines kept. The cut is
    fsynced before returning, so an append that follows can never join a
    fragment.
    """
    path = Path(path)
    if not path.exists():
        return []
    data = path.read_bytes()
    kept: list[dict[str, Any]] = []
    cut = 0
    for lineno, (end, line) in enumerate(_complete_lines(data), start=1):
        if not line.strip():
            cut = end
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}:{lineno} is corrupted ({e}); delete the run folder and re-run") from e
        if not keep(record):
            break
        kept.append(record)
        cut = end
    if cut != len(data):
        with open(path, "r+b") as f:
            f.truncate(cut)
            f.flush()
            os.fsync(f.fileno())
    return kept
