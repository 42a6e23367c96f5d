"""Atomic writes: a file is either absent or complete, never half-written.

Everything is written to a temporary file in the destination folder and moved into place with ``os.replace``,
which is atomic on POSIX file systems. Use these for every output a later step reads.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator

from judgemind.utils import open_regular
from judgemind.utils.lock import try_lock_dir


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(dest: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``dest``; on success move it to ``dest``, on error delete it.

    ``suffix`` defaults to the destination's suffix so that writers that pick a format by extension
    (PyAV, matplotlib, safetensors) still work.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{dest.name}.part.", suffix=dest.suffix if suffix is None else suffix, dir=dest.parent
    )
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp makes private files, and some writers (safetensors) replace the file we made: set the mode of
        # what was written, so outputs look like normal files (0666 less the umask) to other users
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def atomic_write_bytes(dest: str | os.PathLike, data: bytes) -> None:
    with atomic_path(dest) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())


def atomic_write_text(dest: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(dest, text.encode("utf-8"))


def atomic_write_json(dest: str | os.PathLike, obj: Any, indent: int | None = 2) -> None:
    """Write ``obj`` as strict JSON: NaN and Infinity are refused (``ValueError``), never written as bare tokens
    that other JSON readers reject. Documents whose figures may be undefined are cleaned by their writers first
    (``judgemind.utils.clean_json``: null); settings (feature manifests) must never hold NaN and are refused."""
    atomic_write_text(dest, json.dumps(obj, indent=indent, sort_keys=False, ensure_ascii=False, allow_nan=False) + "\n")


@contextlib.contextmanager
def temp_dir_beside(dest: str | os.PathLike) -> Iterator[Path]:
    """A new hidden folder ``.<name>.*.part`` beside ``dest``, locked while it exists and deleted on exit unless
    the caller moved it away; stale ones left by killed processes are removed first."""

    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(dest)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent))
    os.chmod(tmp, 0o777 & ~_umask())
    # hold a lock on the folder while it is built: a later run tells it from one left by a killed process
    fd = try_lock_dir(tmp)
    try:
        yield tmp
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        if fd is not None:
            os.close(fd)


@contextlib.contextmanager
def atomic_dir(dest: str | os.PathLike) -> Iterator[Path]:
    """Build a whole folder in a temporary sibling and move it into place when complete.

    ``dest`` must not exist yet (callers decide about ``--overwrite`` before calling). A folder left by a killed
    process is removed by the next call for the same ``dest``.
    """
    dest = Path(dest)
    with temp_dir_beside(dest) as tmp:
        yield tmp
        if dest.exists():
            if dest.is_dir() and not any(dest.iterdir()):
                dest.rmdir()
            else:
                raise FileExistsError(f"{dest} appeared while it was being written")
        os.replace(tmp, dest)


def write_dir(dest: str | os.PathLike, files: dict[str, bytes]) -> None:
    """``dest`` holds exactly ``files`` (name -> bytes) afterwards, as one unit: they are written into a hidden
    temporary sibling ``.<name>.*.part`` and it is renamed into place; a ``dest`` already there is first renamed
    away (to a hidden ``.part`` folder, deleted at once, or by the next call when a kill came in between). A
    reader therefore sees the old files or the new ones, never a mix, or (after a kill) no folder at all.

    ``dest`` may only be replaced when it is a folder holding nothing but files of these names (and temporary
    files of them): anything else there is a ``FileExistsError`` naming it, never deleted."""
    dest = Path(dest)
    if dest.is_symlink() or (dest.exists() and not dest.is_dir()):
        raise FileExistsError(f"{dest} exists and is not a folder of judgemind's; move it away")
    if dest.is_dir():
        other = sorted(p.name for p in dest.iterdir() if p.name not in files and not _is_part_of(p.name, files))
        if other:
            raise FileExistsError(
                f"{dest} holds files judgemind did not write ({', '.join(other[:3])}); move them "
                f"away or write elsewhere"
            )
    with temp_dir_beside(dest) as tmp:
        for name, data in files.items():
            with open(tmp / name, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        trash = None
        if dest.is_dir():
            trash = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".gone.part", dir=dest.parent))
            os.replace(dest, trash)  # (onto the empty folder just made: a unique name nobody else uses)
        os.replace(tmp, dest)
        if trash is not None:
            shutil.rmtree(trash, ignore_errors=True)


def _is_part_of(name: str, files) -> bool:
    """``name`` is a temporary file that :func:`atomic_path` makes for one of ``files``."""
    return any(name.startswith(f".{f}.part.") for f in files)


def remove_stale_part_files(folder: str | os.PathLike, names) -> list[Path]:
    """Delete the temporary files ``.<name>.part.*`` that a killed :func:`atomic_path` left in ``folder`` for
    the given file ``names``. Only for a folder that the caller holds a lock on (no live writer can own them)."""
    folder = Path(folder)
    removed = []
    for name in names:
        for p in folder.glob(f".{glob_escape(name)}.part.*"):
            if p.is_file() and not p.is_symlink():
                p.unlink(missing_ok=True)
                removed.append(p)
    return removed


def remove_stale_parts(dest: str | os.PathLike) -> list[Path]:
    """Delete the temporary folders ``.<name>.*.part`` beside ``dest`` that a killed :func:`atomic_dir` left
    behind (no live process holds their lock); returns them. Folders being built by a live process are kept."""

    dest = Path(dest)
    removed = []
    if not dest.parent.is_dir():
        return removed
    for p in dest.parent.glob(f".{glob_escape(dest.name)}.*.part"):
        if not p.is_dir() or p.is_symlink() or p.name.startswith(f".{dest.name}.old."):
            continue  # (.old. folders were backups of older judgemind versions: never deleted automatically)
        fd = try_lock_dir(p)
        if fd is None:
            continue
        try:
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
        finally:
            os.close(fd)
    return removed


def make_dirs(path: str | os.PathLike) -> list[Path]:
    """``mkdir -p path``; the folders it created, innermost first (for :func:`remove_made_dirs` when the command
    that needed them fails)."""
    path = Path(path)
    missing = []
    p = path
    while not p.exists() and not p.is_symlink() and p != p.parent:
        missing.append(p)
        p = p.parent
    path.mkdir(parents=True, exist_ok=True)
    return missing


def remove_made_dirs(made: list[Path]) -> None:
    """Remove the folders that :func:`make_dirs` created while they are empty, innermost first (stops at the first
    that is not empty: nothing a command did not create is ever removed)."""
    for d in made:
        try:
            d.rmdir()
        except OSError:
            break


def glob_escape(name: str) -> str:

    return glob.escape(name)


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20, what: str = "file") -> str:
    """The SHA-256 of a regular file (a FIFO or a folder is a ``JudgemindError`` naming ``what``, never a hang)."""

    h = hashlib.sha256()
    with open_regular(path, what) as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()
