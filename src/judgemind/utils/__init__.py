"""Small shared helpers (atomic writes, hashing, JSON-safe values)."""

import errno
import math
import os
import stat
from pathlib import Path

from judgemind.errors import JudgemindError


def display_text(text) -> str:
    """``text`` (a path or name, possibly holding undecodable bytes from the file system as surrogate escapes)
    as printable Unicode: undecodable bytes become U+FFFD, so the text can be printed, put in JSON and encoded to
    UTF-8 HTML. Never use the result to open a file."""

    raw = os.fsencode(text) if not isinstance(text, str) else text.encode("utf-8", "surrogateescape")
    return raw.decode("utf-8", "replace")


def not_a_file_reason(path) -> str | None:
    """Why ``path`` cannot be read as a regular file -- "does not exist", "is a folder", "is a FIFO ...",
    "is a symbolic link loop", "is not readable (permission denied)" -- or None when it can."""

    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "is a broken symbolic link" if os.path.islink(path) else "does not exist"
    except OSError as e:
        if e.errno == errno.ELOOP:
            return "is a symbolic link loop"
        if e.errno == errno.ENAMETOOLONG:
            return "has a name that is too long"
        return f"cannot be read ({e.strerror})"
    except ValueError:  # an embedded NUL byte
        return "is not a valid path (it holds a NUL byte)"
    if stat.S_ISDIR(st.st_mode):
        return "is a folder, not a file"
    if not stat.S_ISREG(st.st_mode):
        kind = (
            "a FIFO (named pipe)"
            if stat.S_ISFIFO(st.st_mode)
            else "a socket"
            if stat.S_ISSOCK(st.st_mode)
            else "a device"
            if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
            else "not a regular file"
        )
        return f"is {kind}, not a regular file"
    if not os.access(path, os.R_OK):
        return "is not readable (permission denied)"
    return None


def open_regular(path, what: str):
    """``path`` opened for reading when it is a regular file, else a :class:`JudgemindError` "PATH: WHAT is a FIFO
    (named pipe), not a regular file" (does not exist, is a folder, ...). Opened non-blocking, so a FIFO swapped in
    after the check cannot hang the reader either."""

    why = not_a_file_reason(path)
    if why:
        raise JudgemindError(f"{display_text(path)}: {what} {why}")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as e:
        raise JudgemindError(f"{display_text(path)}: {what} cannot be opened ({e.strerror or e})") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise JudgemindError(f"{display_text(path)}: {what} is not a regular file")
    return os.fdopen(fd, "rb")


def check_out_dir(out, flag: str = "--out") -> None:
    """Refuse an output folder that is obviously not one to write a command's files into: the file system's root,
    the home folder, or a FineSkiing data set's own folder (it holds ``dataset.json``); raises
    ``JudgemindError`` naming the flag."""

    try:
        real = Path(os.path.realpath(out))
        home = Path(os.path.realpath(Path.home()))
    except (OSError, RuntimeError, ValueError):
        return  # an unusable path is reported where it is used
    if real == Path(real.anchor):
        raise JudgemindError(
            f"{flag} {display_text(out)}: refusing to write into the root of the file system; give a folder of its own"
        )
    if real == home:
        raise JudgemindError(
            f"{flag} {display_text(out)}: refusing to write into your home folder itself; give a "
            f"folder of its own (e.g. {flag} {display_text(Path(out) / 'judgemind_out')})"
        )
    if (real / "dataset.json").is_file():
        raise JudgemindError(
            f"{flag} {display_text(out)} is a data set's folder (it holds dataset.json); give a folder of its own"
        )


def clean_json(x):
    """NaN/Inf -> None, numpy scalars -> Python, recursively (JSON has no NaN)."""

    if isinstance(x, dict):
        return {str(k): clean_json(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [clean_json(v) for v in x]
    if hasattr(x, "item") and not isinstance(x, (str, bytes)):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x
