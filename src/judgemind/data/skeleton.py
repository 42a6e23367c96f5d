"""Per-frame skeletons of a FineSkiing data set (schema v2, optional).

A record may reference one array file (``"skeleton": "skeletons/<id>.npy"``, relative to the data set root)
holding, for every frame of the record's ``[start, end)``, every point of the data set's skeleton layout:

    array (n_frames, n_points, 6) float32, channels  u, v, visibility, x, y, z

- ``u, v``: image coordinates in pixels of the decoded frame (x right, y down, origin at the top-left corner);
- ``visibility``: 0 out of the picture (outside the frame or behind the camera), 1 in the frame but hidden by the
  body, 2 visible. ``u, v`` are finite and inside the frame (within half a pixel) wherever visibility > 0; where it
  is 0 they may be NaN or any finite value;
- ``x, y, z``: world coordinates in metres where known (NaN where not: a 2D pose estimator leaves them NaN).

The layout (point names and the frame size in pixels) is declared once in ``dataset.json``::

    "skeleton": {"points": ["pelvis", ..., "r_ski_tail"], "channels": ["u", "v", "visibility", "x", "y", "z"],
                 "frame_size": [128, 128]}

Arrays live outside ``annotations.jsonl`` (a 120-frame jump is ~55 KB of float32; as JSON it would be twice
that, for every line) and are read by :func:`judgemind.utils.npy.read_npy`: a regular file holding numbers only,
its header checked against the file's size before anything is allocated.
SynthAerials fills it exactly (``SKELETON_POINTS``: 15 joints + both skis' tips and tails); a user's pose
estimator can fill it for real footage.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from judgemind.errors import JudgemindError
from judgemind.utils.atomic import atomic_path
from judgemind.utils.npy import read_npy

SKELETON_DIR = "skeletons"
CHANNELS = ("u", "v", "visibility", "x", "y", "z")
OUT_OF_FRAME, OCCLUDED, VISIBLE = 0, 1, 2
SKELETON_POINTS = (
    "pelvis",
    "neck",
    "head",
    "l_shoulder",
    "r_shoulder",
    "l_elbow",
    "r_elbow",
    "l_hand",
    "r_hand",
    "l_hip",
    "r_hip",
    "l_knee",
    "r_knee",
    "l_ankle",
    "r_ankle",
    "l_ski_tip",
    "l_ski_tail",
    "r_ski_tip",
    "r_ski_tail",
)
# the 8 joint angles a judge reads, (end, joint, end): knees (hip-knee-ankle), hips (shoulder-hip-knee), elbows
# (shoulder-elbow-hand), shoulders (elbow-shoulder-hip), left then right -- the skeleton tokens and the refiner's loss
JOINT_ANGLES = (
    ("l_hip", "l_knee", "l_ankle"),
    ("r_hip", "r_knee", "r_ankle"),
    ("l_shoulder", "l_hip", "l_knee"),
    ("r_shoulder", "r_hip", "r_knee"),
    ("l_shoulder", "l_elbow", "l_hand"),
    ("r_shoulder", "r_elbow", "r_hand"),
    ("l_elbow", "l_shoulder", "l_hip"),
    ("r_elbow", "r_shoulder", "r_hip"),
)
# the lines a picture of the skeleton draws (head to neck, arms, spine, legs, skis): judge sheets' evidence crops
SKELETON_BONES = (
    ("head", "neck"),
    ("neck", "l_shoulder"),
    ("neck", "r_shoulder"),
    ("l_shoulder", "l_elbow"),
    ("l_elbow", "l_hand"),
    ("r_shoulder", "r_elbow"),
    ("r_elbow", "r_hand"),
    ("neck", "pelvis"),
    ("pelvis", "l_hip"),
    ("pelvis", "r_hip"),
    ("l_hip", "l_knee"),
    ("l_knee", "l_ankle"),
    ("r_hip", "r_knee"),
    ("r_knee", "r_ankle"),
    ("l_ski_tip", "l_ski_tail"),
    ("r_ski_tip", "r_ski_tail"),
)
FRAME_TOLERANCE = 0.5  # px: a visible point may sit this far outside the frame (anti-aliased edge)
MAX_POINTS = 256
MAX_FRAMES = 1_000_000


@dataclass(frozen=True)
class SkeletonLayout:
    """The data set's skeleton layout: ``points`` names, ``frame_size`` (width, height) in pixels or None."""

    points: tuple[str, ...]
    frame_size: tuple[int, int] | None = None

    def to_dict(self) -> dict:
        d: dict[str, Any] = {"points": list(self.points), "channels": list(CHANNELS)}
        if self.frame_size is not None:
            d["frame_size"] = list(self.frame_size)
        return d


def layout_from_dict(d: Any) -> tuple[SkeletonLayout | None, str | None]:
    """Parse ``dataset.json``'s ``skeleton`` object: ``(layout, None)`` or ``(None, what is wrong)``."""
    if not isinstance(d, Mapping):
        return None, f"expected an object {{points, channels, frame_size}}, got {type(d).__name__}"
    pts = d.get("points")
    if (
        not isinstance(pts, list)
        or not pts
        or len(pts) > MAX_POINTS
        or not all(isinstance(p, str) and p for p in pts)
        or len(set(pts)) != len(pts)
    ):
        return None, f"points must be a list of 1-{MAX_POINTS} distinct point names"
    ch = d.get("channels", list(CHANNELS))
    if not isinstance(ch, list) or ch != list(CHANNELS):
        return None, f"channels must be {list(CHANNELS)} (got {ch!r})"
    fs = d.get("frame_size")
    size = None
    if fs is not None:
        if (
            not isinstance(fs, list)
            or len(fs) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= 100_000 for v in fs)
        ):
            return None, f"frame_size must be [width, height] in pixels, got {fs!r}"
        size = (int(fs[0]), int(fs[1]))
    return SkeletonLayout(tuple(pts), size), None


def check_array(arr: np.ndarray, n_frames: int, layout: SkeletonLayout) -> list[str]:
    """Everything wrong with a skeleton array of a record with ``n_frames`` frames (empty: it is valid)."""
    want = (n_frames, len(layout.points), len(CHANNELS))
    if arr.dtype.kind != "f":
        return [f"expected a float array, got dtype {arr.dtype}"]
    if arr.shape != want:
        return [
            f"shape {tuple(arr.shape)} does not match (frames {n_frames}, points {len(layout.points)}, "
            f"channels {len(CHANNELS)})"
        ]
    out = []
    vis = arr[..., 2]
    bad_vis = ~np.isin(vis, (OUT_OF_FRAME, OCCLUDED, VISIBLE))
    if bad_vis.any():
        t, p = np.argwhere(bad_vis)[0]
        out.append(
            f"visibility must be 0 (out of frame), 1 (occluded) or 2 (visible); frame {t} point "
            f"{layout.points[p]!r} has {vis[t, p]!r}"
        )
        return out
    shown = vis > 0
    uv = arr[..., :2]
    nonfinite = shown[..., None] & ~np.isfinite(uv)
    if nonfinite.any():
        t, p, _ = np.argwhere(nonfinite)[0]
        out.append(
            f"u, v must be finite where a point is in the frame; frame {t} point {layout.points[p]!r} "
            f"is flagged {int(vis[t, p])} with u, v = {uv[t, p].tolist()}"
        )
    if np.isinf(uv).any():
        out.append("u, v contain an infinite value (use NaN with visibility 0 for a point out of the picture)")
    if layout.frame_size is not None and not nonfinite.any():
        w, h = layout.frame_size
        tol = FRAME_TOLERANCE
        outside = shown & ((uv[..., 0] < -tol) | (uv[..., 0] > w + tol) | (uv[..., 1] < -tol) | (uv[..., 1] > h + tol))
        if outside.any():
            t, p = np.argwhere(outside)[0]
            out.append(
                f"frame {t} point {layout.points[p]!r} at u, v = {uv[t, p].round(2).tolist()} lies outside "
                f"the {w}x{h} frame but is flagged {int(vis[t, p])} (in the frame); flag it 0 (out of frame)"
            )
    if np.isinf(arr[..., 3:]).any():
        out.append("x, y, z contain an infinite value (use NaN where the world position is unknown)")
    return out


def read_array(path: Path) -> np.ndarray:
    """Load a skeleton array (numbers only, never a pickle); raise JudgemindError naming the file. A FIFO, a
    folder, a header that declares more than the file holds (or an array over the limits) is refused before
    anything is allocated (:func:`judgemind.utils.npy.read_npy`)."""

    def check(shape, dtype) -> None:
        if len(shape) != 3 or shape[0] > MAX_FRAMES or shape[1] > MAX_POINTS or shape[2] != len(CHANNELS):
            raise JudgemindError(
                f"{path}: skeleton array of shape {shape}; expected (frames, points, "
                f"{len(CHANNELS)}) with at most {MAX_FRAMES} frames and {MAX_POINTS} points"
            )

    # floats are what a skeleton holds; integers are read so that check_array names the dtype
    return read_npy(path, "skeleton array", kinds="fiu", check=check)


@dataclass(frozen=True)
class Skeleton:
    """One record's skeleton: ``uv`` (T, P, 2) pixels, ``visibility`` (T, P) int8, ``world`` (T, P, 3) metres
    (NaN where unknown), ``points`` names."""

    uv: np.ndarray
    visibility: np.ndarray
    world: np.ndarray
    points: tuple[str, ...]

    @classmethod
    def from_array(cls, arr: np.ndarray, points) -> "Skeleton":
        return cls(
            arr[..., :2].astype(np.float32), arr[..., 2].astype(np.int8), arr[..., 3:].astype(np.float32), tuple(points)
        )

    def to_array(self) -> np.ndarray:
        return np.concatenate([self.uv, self.visibility[..., None].astype(np.float32), self.world], axis=-1).astype(
            np.float32
        )


def load_skeleton(root: str | os.PathLike, rec, layout: SkeletonLayout | None) -> Skeleton:
    """The skeleton of ``rec`` in the data set at ``root``; a clear error when the data set has none."""
    if layout is None or rec.skeleton is None:
        raise JudgemindError(
            f"{root}: record {rec.id!r} has no skeleton. Skeletons are an optional field of "
            f"the FineSkiing format (schema v2): `judgemind synth` writes them; for your own "
            f"footage fill skeletons/<id>.npy from a pose estimator (docs/data.md)"
        )
    path = Path(root) / rec.skeleton
    arr = read_array(path)
    problems = check_array(arr, rec.n_frames, layout)
    if problems:
        raise JudgemindError(f"{path}: record {rec.id!r}, field 'skeleton': {problems[0]}")
    return Skeleton.from_array(arr, layout.points)


def save_array(path: str | os.PathLike, arr: np.ndarray) -> None:
    """Write a skeleton array atomically (``.npy``, float32; the same array gives the same bytes)."""

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.lib.format.write_array(fh, np.ascontiguousarray(arr, dtype=np.float32), allow_pickle=False)
