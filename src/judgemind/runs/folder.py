"""Reading a run folder (its layout: ``judgemind.train.rundir``, which writes it) and the one checkpoint rule:
what ``judgemind train``, ``judgemind bench`` and ``judgemind evaluate`` share."""

from __future__ import annotations

import json
import math
from pathlib import Path

__all__ = ["LOG", "read_log", "is_better"]

LOG = "log.jsonl"


def read_log(run_dir: Path) -> list[dict]:
    p = run_dir / LOG
    if not p.is_file():
        return []
    out = []
    for line in p.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            break  # a line cut by a crash: it and anything after it are dropped on resume
    return out


def is_better(rho: float, best_rho: float, best_epoch: int) -> bool:
    """Checkpoint selection, the same for ``judgemind train`` and ``judgemind bench``: the first epoch, then any
    epoch whose validation rho is strictly higher (an undefined rho counts as -inf)."""
    return best_epoch < 0 or (rho if math.isfinite(rho) else -math.inf) > best_rho
