"""The files of ``judgemind evaluate`` and ``judgemind predict`` (computed by ``judgemind.infer.predict``)::

    OUT/metrics.json        the evaluation document (every metric, computed by judgemind.evaluate)
    OUT/predictions.jsonl   one line per record: official score, components, bands, stages, deductions, truth

Every file is written atomically; NaN/Inf become null.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from judgemind.utils import clean_json
from judgemind.utils.atomic import atomic_write_json, atomic_write_text


def write_jsonl(path: str | os.PathLike, lines: list[dict]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(
        path, "".join(json.dumps(clean_json(x), ensure_ascii=False, allow_nan=False) + "\n" for x in lines)
    )
    return path


def write_evaluation(out: str | os.PathLike, doc: dict, lines: list[dict]) -> Path:
    """``OUT/metrics.json`` and ``OUT/predictions.jsonl``; returns OUT."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / "metrics.json", clean_json(doc))
    write_jsonl(out / "predictions.jsonl", lines)
    return out
