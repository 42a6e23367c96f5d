"""Helpers shared by the feature tests: valid records and tiny datasets written on the fly."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np

from judgemind.data import DatasetMeta, write_dataset
from judgemind.video.encode import moving_figure, write_video

JUDGES = [{"air": Decimal("1.5"), "form": Decimal("4.0"), "landing": Decimal("2.5")}] * 5


def _final(dd: Decimal) -> Decimal:
    from judgemind import rules

    return rules.score_aerials([(j["air"], j["form"], j["landing"]) for j in JUDGES], dd).score


def record(rid: str, video: str, start: int, end: int, boxes: dict | None = None, cuts=()) -> dict:
    """A valid aerials record spanning [start, end) of ``video``."""
    a, b = start + (end - start) // 3, start + 2 * (end - start) // 3
    d = {
        "id": rid,
        "video": video,
        "frames": [start, end],
        "action_code": "bFF",
        "dd": Decimal("3.5"),
        "stages": {"takeoff": [start, a], "flight": [a, b], "landing": [b, end]},
        "judges": JUDGES,
        "final_score": _final(Decimal("3.5")),
        "deductions": [],
    }
    if boxes:
        d["boxes"] = {int(k): list(v) for k, v in boxes.items()}
    if cuts:
        d["cuts"] = list(cuts)
    return d


def figure_boxes(n: int, size: int, start: int = 0, every: int = 4) -> dict:
    """Approximate boxes of :func:`moving_figure`'s figure, annotated on every ``every``-th frame."""
    out = {}
    fh = int(size * 0.4)
    for i in range(start, n, every):
        t = i / max(1, n - 1)
        cx = (0.1 + 0.8 * t) * size
        top = size * 0.3 + 0.1 * size * np.sin(2 * np.pi * 2 * t)
        out[i] = (cx - fh / 3, top, cx + fh / 3, top + fh)
    return out


def write_tiny_dataset(
    root: Path,
    n_records: int = 2,
    n_frames: int = 40,
    size: int = 96,
    extra: list[dict] | None = None,
    splits: dict | None = None,
) -> Path:
    """``n_records`` records on 96x96 test-pattern videos with annotated boxes, plus ``extra`` raw records."""
    (root / "videos").mkdir(parents=True, exist_ok=True)
    recs = []
    for k in range(n_records):
        write_video(root / f"videos/v{k}.mp4", moving_figure(n_frames, size, size, seed=k), fps=25)
        recs.append(record(f"r{k}", f"videos/v{k}.mp4", 2, n_frames - 2, figure_boxes(n_frames - 2, size, 2)))
    recs += extra or []
    ids = [r["id"] for r in recs]
    meta = DatasetMeta(
        name="tiny",
        fps=25.0,
        splits=splits or {"train": tuple(ids[:-1]), "test": tuple(ids[-1:])},
        synthetic=True,
        source="tests",
    )
    write_dataset(root, meta, recs)
    return root
