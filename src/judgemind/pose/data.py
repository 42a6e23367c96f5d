"""Training and evaluation samples for AerialsPose.

A sample is one decoded frame of a data set with the record's skeleton at that frame:

    frame   (H, W, 3) uint8 RGB, the video's own size
    uv      (19, 2) float32 pixels;  vis (19,) int8 (0 out of picture, 1 hidden, 2 visible)
    world   (19, 3) float32 metres (NaN where the data set has none)

The box of a frame is the extent of its in-picture points (the skeleton extractor's box); the pose crop around it
and the detector's letterboxed frame are :mod:`judgemind.video.crop`'s (the one crop geometry, shared with
inference).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from judgemind.data import load_dataset
from judgemind.data.skeleton import OUT_OF_FRAME, SKELETON_POINTS, load_skeleton
from judgemind.errors import JudgemindError
from judgemind.utils.progress import progress_bar
from judgemind.video.decode import open_video

__all__ = [
    "PoseSamples",
    "load_samples",
    "skeleton_box",
]

PELVIS = SKELETON_POINTS.index("pelvis")


@dataclass
class PoseSamples:
    """Frames and their skeletons, stacked: ``frames`` (N, H, W, 3) uint8, ``uv`` (N, 19, 2), ``vis`` (N, 19),
    ``world`` (N, 19, 3) pelvis-relative metres, ``record`` (N,) record ids, ``frame`` (N,) frame indices."""

    frames: np.ndarray
    uv: np.ndarray
    vis: np.ndarray
    world: np.ndarray
    record: np.ndarray
    frame: np.ndarray

    def __len__(self) -> int:
        return len(self.frames)


def skeleton_box(uv: np.ndarray, vis: np.ndarray) -> np.ndarray | None:
    """(x0, y0, x1, y1) of the in-picture points of one frame, or None when no point is in the picture."""
    inside = vis > OUT_OF_FRAME
    if not inside.any():
        return None
    p = uv[inside]
    return np.array([p[:, 0].min(), p[:, 1].min(), p[:, 0].max(), p[:, 1].max()], np.float32)


def load_samples(
    root: str | os.PathLike,
    split: str | Sequence[str] | None,
    per_record: int,
    seed: int = 0,
    limit: int | None = None,
    progress: bool = False,
) -> PoseSamples:
    """``per_record`` frames of every record of ``split`` (a split name, "all" or None for every record, or a list
    of split names), drawn with ``seed``: frames
    are spread over the record (one random frame in each of ``per_record`` equal parts), so take-off, flight and
    landing all appear. Raises a JudgemindError naming the data set when it has no skeletons."""

    ds = load_dataset(root)
    layout = getattr(ds.meta, "skeleton", None)
    if layout is None:
        raise JudgemindError(
            f"{root}: AerialsPose learns from per-frame skeletons and this data set has none; "
            f"`judgemind synth` writes them (schema v2, docs/data.md 'Skeletons')"
        )
    missing = [n for n in SKELETON_POINTS if n not in layout.points]
    if missing:
        raise JudgemindError(f"{root}: the skeleton layout lacks {', '.join(missing)}")
    names = ["all"] if split is None else [split] if isinstance(split, str) else list(split)
    records = [r for name in names for r in ds.split(name)]
    records = [r for r in records if r.skeleton is not None]
    if limit:
        records = records[:limit]
    if not records:
        raise JudgemindError(f"{root}: no record with a skeleton in split {split!r}")
    idx = [layout.points.index(n) for n in SKELETON_POINTS]
    rng = np.random.default_rng(seed)
    frames, uvs, viss, worlds, rids, fids = [], [], [], [], [], []
    it = records
    if progress:
        it = progress_bar(records, desc="frames", unit="jump")
    for rec in it:
        sk = load_skeleton(ds.root, rec, layout)
        start, end = (int(v) for v in rec.frames)
        n = end - start
        k = min(per_record, n)
        edges = np.linspace(0, n, k + 1)
        rows = np.unique(np.minimum((edges[:-1] + rng.random(k) * np.diff(edges)).astype(int), n - 1))
        with open_video(ds.video_path(rec)) as v:
            got = dict(v.frames(rows + start))
        for r in rows:
            img = got.get(int(r + start))
            if img is None:
                continue
            frames.append(img)
            uvs.append(np.nan_to_num(sk.uv[r][idx]).astype(np.float32))
            viss.append(sk.visibility[r][idx].astype(np.int8))
            w = sk.world[r][idx].astype(np.float32)
            worlds.append(w - w[PELVIS])
            rids.append(rec.id)
            fids.append(int(r + start))
    return PoseSamples(
        np.stack(frames), np.stack(uvs), np.stack(viss), np.stack(worlds), np.array(rids), np.array(fids, np.int64)
    )
