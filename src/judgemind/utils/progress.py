"""The one progress bar every long command shows: tqdm redrawn in place in a terminal; in a file or a CI log (stderr
not a terminal) one plain line per ~10 % of the work (per minute when the total is unknown), so a log of
``make demo`` stays a few kilobytes instead of hundreds of redraws."""

from __future__ import annotations

import math
import sys

__all__ = ["progress_bar", "LOG_STEPS", "LOG_SECONDS"]

LOG_STEPS = 10  # lines per bar in a log: one per 10 % of the total
LOG_SECONDS = 60.0  # at most one line a minute when the total is unknown


class _LineWriter:
    """A file for tqdm that turns its in-place redraws (``"\\r" + bar + padding``) into whole lines, one per state
    of the counter (tqdm's closing redraw of the same count, with a new rate, is not repeated)."""

    def __init__(self, file):
        self.file = file
        self.last = None

    def write(self, s: str) -> None:
        line = s.replace("\r", "").rstrip()
        # the state is the description, percentage and n/total: not the bar, whose width shrinks as the rate's text
        # grows (tqdm's closing redraw of 1000/1000 with a longer rate draws a shorter bar), nor the times and rate
        left, bar, right = line.partition("|")
        state = (left + right.rpartition("|")[2] if bar else line).split("[", 1)[0]
        if line and state != self.last:
            self.file.write(line + "\n")
            self.last = state

    def flush(self) -> None:
        self.file.flush()


def _is_terminal(file) -> bool:
    try:
        return bool(file.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed file
        return False


def progress_bar(
    iterable=None,
    *,
    total: int | None = None,
    desc: str = "",
    unit: str = "it",
    enabled: bool = True,
    initial: int = 0,
    file=None,
):
    """A tqdm bar over ``iterable`` (or updated by hand up to ``total``) on ``file`` (default stderr), shown only when
    ``enabled``. In a terminal: the usual redrawn bar; otherwise one line per ``1/LOG_STEPS`` of the total."""
    from tqdm import tqdm  # noqa: PLC0415 -- start-up time: tqdm only for the commands that show a bar

    file = sys.stderr if file is None else file
    if total is None and iterable is not None and hasattr(iterable, "__len__"):
        total = len(iterable)
    if _is_terminal(file):
        how = {"file": file, "dynamic_ncols": True}
    elif total:
        how = {
            "file": _LineWriter(file),
            "ncols": 80,
            "maxinterval": float("inf"),
            "mininterval": 0.0,
            "miniters": max(1, math.ceil(total / LOG_STEPS)),
        }
    else:
        how = {
            "file": _LineWriter(file),
            "ncols": 80,
            "maxinterval": float("inf"),
            "mininterval": LOG_SECONDS,
            "miniters": 1,
        }
    return tqdm(iterable, total=total, desc=desc, unit=unit, disable=not enabled, initial=initial, **how)
