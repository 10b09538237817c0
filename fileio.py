"""One way to write a file: atomically, durably, honouring the umask; and one JSON encoder.

Every file sparft leaves behind is *replaced*, never edited in place: written to a
temporary file in the same folder, flushed and ``fsync``-ed, ``os.replace``-d over
the target (atomic on POSIX), and the folder ``fsync``-ed so that the rename itself
survives a power loss. A reader sees the old file or the new one, never half of
either; a crash leaves at most a hidden ``.NAME.XXXX.tmp`` file that nothing reads.
An output of several files is staged in a hidden sibling folder and published by
one final rename (:func:`staged_dir`, :func:`publish_dir`), so it too is all or
nothing.

Temporary files and folders are created with ``os.open(..., 0o666)`` and
``os.mkdir(..., 0o777)``, so the kernel applies the umask (and any default ACL)
exactly as for a plain ``open``; ``tempfile.mkstemp`` would make them 0600 and
``mkdtemp`` 0700, and the rename would carry that over to the published file.

:func:`to_jsonable` is the single encoder from numpy, paths and dataclasses to
plain JSON data. Its ``nonfinite`` policy says what NaN and infinities become:
``"null"`` for results that other tools read (strict JSON; the default),
``"keep"`` for state that must round-trip exactly through Python's ``json``
(written as ``NaN``/``Infinity``), ``"raise"`` where they would be a bug.

This module imports nothing else of sparft, so every folder may use it.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import errno
import json
import math
import os
import secrets
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np

__all__ = [
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "atomic_writer",
    "dumps",
    "fsync_dir",
    "publish_dir",
    "stale_temporaries",
    "staged_dir",
    "to_jsonable",
]

Nonfinite = Literal["null", "keep", "raise"]
_NONFINITE = ("null", "keep", "raise")
PathLike = str | os.PathLike[str]


# ====================================================================== JSON
def to_jsonable(obj: Any, *, nonfinite: Nonfinite = "null") -> Any:
    """``obj`` as plain JSON data: dicts with string keys, lists, str, int, float, bool, None.

    Converts numpy arrays and scalars, tuples (to lists), ``os.PathLike`` (to
    ``str``) and dataclass instances (to dicts of their fields). NaN and
    infinities follow ``nonfinite`` (see the module docstring). Anything else is
    a ``TypeError`` naming its type: better at write time than a file that cannot
    be read back.
    """
    if nonfinite not in _NONFINITE:
        raise ValueError(f"nonfinite must be one of {', '.join(_NONFINITE)}, got {nonfinite!r}")
    return _convert(obj, nonfinite)


def _convert(obj: Any, nonfinite: str) -> Any:
    if obj is None or isinstance(obj, str | bool):
        return obj
    if isinstance(obj, int):
        return int(obj)  # an IntEnum or other int subclass becomes a plain int
    if isinstance(obj, float):
        return _float(float(obj), nonfinite)
    if isinstance(obj, Mapping):
        return {_key(k): _convert(v, nonfinite) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_convert(v, nonfinite) for v in obj]
    if isinstance(obj, np.ndarray):
        return _array(obj, nonfinite)
    if isinstance(obj, np.generic):
        return _convert(obj.item(), nonfinite)
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _convert(getattr(obj, f.name), nonfinite) for f in dataclasses.fields(obj)}
    raise TypeError(
        f"cannot write a {type(obj).__name__} as JSON; convert it to plain data "
        "(dict, list, str, number, bool, None) first"
    )


def _key(k: Any) -> str:
    if isinstance(k, np.generic):
        k = k.item()
    return k if isinstance(k, str) else str(k)


def _float(x: float, nonfinite: str) -> float | None:
    if math.isfinite(x) or nonfinite == "keep":
        return x
    if nonfinite == "null":
        return None
    raise ValueError(f"{x} is not a finite number and cannot be written (nonfinite='raise')")


def _array(a: np.ndarray, nonfinite: str) -> Any:
    # tolist() already yields Python scalars; recurse only where a value needs a decision.
    if a.dtype.kind in "biu":
        return a.tolist()
    if a.dtype.kind == "f" and (nonfinite == "keep" or bool(np.isfinite(a).all())):
        return a.tolist()
    return _convert(a.tolist(), nonfinite)


def dumps(
    obj: Any,
    indent: int | None = None,
    *,
    nonfinite: Nonfinite = "null",
    sort_keys: bool = False,
) -> str:
    """``json.dumps(to_jsonable(obj))``; strict JSON unless ``nonfinite="keep"``."""
    return json.dumps(
        to_jsonable(obj, nonfinite=nonfinite),
        indent=indent,
        allow_nan=nonfinite == "keep",
        sort_keys=sort_keys,
    )


# ============================================================ atomic files
def fsync_dir(path: PathLike) -> None:
    """Make a rename or creation inside folder ``path`` durable (a no-op where unsupported)."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some filesystems cannot fsync a folder; the rename is still atomic
        pass
    finally:
        os.close(fd)


def _temp_name(final: Path, suffix: str) -> Path:
    # A sibling, so that the rename stays within one filesystem; short enough for NAME_MAX.
    return final.with_name(f".{final.name[:200]}.{secrets.token_hex(4)}{suffix}")


def _create_temp_file(final: Path) -> tuple[int, Path]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        tmp = _temp_name(final, ".tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp  # the umask applies, as for open()
        except FileExistsError:
            continue


def _create_temp_dir(final: Path) -> Path:
    while True:
        tmp = _temp_name(final, ".tmp")
        try:
            os.mkdir(tmp, 0o777)  # the umask applies, as for a plain mkdir
            return tmp
        except FileExistsError:
            continue


@contextlib.contextmanager
def atomic_writer(path: PathLike, mode: Literal["wb", "w"] = "wb") -> Iterator[IO[Any]]:
    """A file object whose content replaces ``path`` when the block ends without error.

    For writers that want a file (``np.savez(f, ...)``, ``torch.save(obj, f)``). If the
    block raises, ``path`` keeps its old content and the temporary file is removed.
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"mode must be 'wb' or 'w', got {mode!r}")
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temp_file(final)
    try:
        with os.fdopen(fd, mode, **({"encoding": "utf-8"} if mode == "w" else {})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(final.parent)


def atomic_write_bytes(path: PathLike, data: bytes) -> Path:
    """Replace ``path`` with ``data``: temp file, write, flush, fsync, rename, fsync the folder."""
    with atomic_writer(path, "wb") as f:
        f.write(data)
    return Path(path)


def atomic_write_text(path: PathLike, text: str) -> Path:
    """:func:`atomic_write_bytes` of ``text`` in UTF-8."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(
    path: PathLike, obj: Any, *, indent: int | None = 1, nonfinite: Nonfinite = "null"
) -> Path:
    """``obj`` through :func:`dumps`, with a final newline, written atomically.

    The encoding happens before the temporary file exists: an object that cannot be
    encoded leaves no trace and the old file untouched.
    """
    return atomic_write_text(path, dumps(obj, indent=indent, nonfinite=nonfinite) + "\n")


# ======================================================== multi-file outputs
def _fsync_tree(root: Path) -> None:
    """fsync every regular file and folder under ``root`` (files a library wrote itself)."""
    for folder, _, files in os.walk(root):
        for name in files:
            p = os.path.join(folder, name)
            if os.path.islink(p):
                continue
            try:
                fd = os.open(p, os.O_RDONLY)
            except PermissionError:  # a file its writer made unreadable: nothing we can flush
                continue
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(folder)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux ``renameat2(RENAME_EXCHANGE)``); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError, TypeError):  # not Linux, or a libc without renameat2
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):  # this kernel or filesystem lacks it
        return False
    raise OSError(err, os.strerror(err), os.fspath(b))


def publish_dir(tmp_dir: PathLike, final_dir: PathLike) -> Path:
    """Publish the finished folder ``tmp_dir`` as ``final_dir`` by one rename; returns ``final_dir``.

    ``tmp_dir`` must be on the same filesystem (a sibling, as :func:`staged_dir` makes).
    Its files are fsynced first. A ``final_dir`` that already exists is replaced
    whole: swapped atomically with ``renameat2(RENAME_EXCHANGE)`` where the kernel
    and filesystem have it, else moved aside just before the rename (a crash in
    between leaves the old folder as a hidden ``.NAME.XXXX.old`` sibling and no
    ``final_dir``, never a mix of the two). The old content is then deleted.
    """
    tmp, final = Path(tmp_dir), Path(final_dir)
    if not tmp.is_dir():
        raise NotADirectoryError(f"{tmp} is not a folder to publish")
    if final.exists() and not final.is_dir():
        raise NotADirectoryError(f"{final} is a file; a folder cannot be published over it")
    _fsync_tree(tmp)
    if not (final.exists() or final.is_symlink()):
        try:
            os.rename(tmp, final)
            fsync_dir(final.parent)
            return final
        except OSError as e:  # another process published first: replace theirs below
            if e.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
    if _exchange(tmp, final):
        shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the old content
    else:
        old = _temp_name(final, ".old")
        os.rename(final, old)
        os.rename(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    fsync_dir(final.parent)
    return final


@contextlib.contextmanager
def staged_dir(final: PathLike) -> Iterator[Path]:
    """A hidden sibling folder to fill; published as ``final`` when the block succeeds.

    ``with staged_dir(out) as tmp: write tmp/"a.json", tmp/"b.png"`` leaves either
    the old ``out`` or the complete new one, never some new files beside old ones.
    If the block raises, the staged folder is removed and ``final`` is untouched.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = _create_temp_dir(final)
    try:
        yield tmp
        publish_dir(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # gone after a publish; the leftovers otherwise


def stale_temporaries(folder: PathLike, name: str = "*") -> list[Path]:
    """Leftovers in ``folder`` of writes (files or staged folders) to ``name`` that a killed
    process never finished; ``name`` may be a glob pattern."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(folder.glob(f".{name}.*.tmp")) + sorted(folder.glob(f".{name}.*.old"))
