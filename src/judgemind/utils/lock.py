"""Advisory file locks (``flock``) so that two processes never write one cache or one run folder at cross purposes.

A lock belongs to an open file descriptor: it is released when the process ends, however it ends (``kill -9``
included), so a crash never leaves a stale lock behind. The lock files are small hidden files that stay in place.

    with FileLock(cache_dir / ".lock", shared=True, what="feature cache x"):
        ...
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from judgemind.errors import JudgemindError

try:  # POSIX; on other systems locking is a no-op (documented in docs/reliability.md)
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]


class LockBusy(JudgemindError):
    """Another process holds the lock."""


class FileLock:
    """An exclusive (or shared) ``flock`` on ``path``; raises :class:`LockBusy` naming ``what`` when ``blocking``
    is False and another process holds it. Usable as a context manager or with ``acquire`` / ``release``."""

    def __init__(
        self, path: str | os.PathLike, *, shared: bool = False, blocking: bool = False, what: str | None = None
    ):
        self.path = Path(path)
        self.shared = shared
        self.blocking = blocking
        self.what = what or str(self.path.parent)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> "FileLock":
        if self._fd is not None:
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        if fcntl is not None:
            op = (fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX) | (0 if self.blocking else fcntl.LOCK_NB)
            try:
                fcntl.flock(fd, op)
            except OSError as e:
                os.close(fd)
                if e.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise LockBusy(
                        f"{self.what} is in use by another judgemind process; wait for it to finish "
                        f"(or stop it) and re-run"
                    ) from None
                raise
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            try:
                os.close(self._fd)  # closing the descriptor releases the flock
            finally:
                self._fd = None

    def __enter__(self) -> "FileLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def try_lock_dir(path: str | os.PathLike) -> int | None:
    """An open descriptor holding an exclusive non-blocking ``flock`` on the folder ``path``, or None when another
    process holds it (or the folder is gone). Used to tell a temporary folder that a live process is building from
    one left behind by a killed process."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return None
    if fcntl is None:  # pragma: no cover
        return fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd
