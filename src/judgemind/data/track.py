"""One skeleton track, whatever made it.

Every perception -- the data set's annotated skeletons, AerialsPose, MediaPipe, the temporal refiner -- produces a
:class:`SkeletonTrack`, and every consumer (the skeleton tokens of :mod:`judgemind.features.skeleton`, the refiner)
reads it. Per frame ``n`` of the N frames it covers (``frames``, non-decreasing video frame indices: a clip shorter
than its steps repeats frames):

    uv           float32 (N, 19, 2)  points in video pixels (the 19 points of ``SKELETON_POINTS``)
    visibility   int8    (N, 19)     0 out of the picture, 1 hidden behind the body, 2 visible
    confidence   float32 (N, 19)     probability that the point is in the picture (1 for annotations)
    box          float32 (N, 4)      athlete box (x0, y0, x1, y1), video pixels
    found        bool    (N,)        the athlete was detected in this frame (else the row is filled from neighbours)
    detector     float32 (N,)        detector confidence (1 for annotations)
    camera       float32 (N, 4)      the camera's motion since the previous frame of the track: background shift
                                     dx / W, dy / H, log zoom, confidence (0 = not measured; see video.motion)
    world_rel    float32 (N, 19, 3)  pelvis-relative 3D pose in metres (world axes), or None where unknown
    trajectory   float32 (N, 3)      the pelvis's world position in metres (x down the course, y across, z up),
                                     or None where unknown

and per track: ``cuts`` (first frames of new camera shots), ``frame_size`` (W, H), ``fps`` and ``source`` (what
made it: ``annotated``, ``aerialspose``, ``mediapipe``, ``refined(...)``).

A track is stored in a feature cache as ``track_*`` tensors (:meth:`SkeletonTrack.to_tensors`,
:meth:`SkeletonTrack.from_tensors`), so a refiner can be trained and applied without decoding the video again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Mapping

import numpy as np

from judgemind.data.skeleton import OUT_OF_FRAME, SKELETON_POINTS
from judgemind.errors import JudgemindError

__all__ = ["SkeletonTrack", "track_from_skeleton", "point_extent", "N_POINTS", "PREFIX"]

N_POINTS = len(SKELETON_POINTS)
PREFIX = "track_"
_ARRAYS = ("frames", "uv", "visibility", "confidence", "box", "found", "detector", "camera")
_OPTIONAL = ("world_rel", "trajectory")


@dataclass(frozen=True, eq=False)
class SkeletonTrack:
    """The per-frame skeleton of one jump (see the module docstring for each field's shape and unit)."""

    frames: np.ndarray
    uv: np.ndarray
    visibility: np.ndarray
    confidence: np.ndarray
    box: np.ndarray
    found: np.ndarray
    detector: np.ndarray
    camera: np.ndarray
    cuts: tuple[int, ...]
    frame_size: tuple[int, int]
    fps: float
    source: str
    world_rel: np.ndarray | None = None
    trajectory: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.frames)
        want = {
            "uv": (n, N_POINTS, 2),
            "visibility": (n, N_POINTS),
            "confidence": (n, N_POINTS),
            "box": (n, 4),
            "found": (n,),
            "detector": (n,),
            "camera": (n, 4),
        }
        if self.world_rel is not None:
            want["world_rel"] = (n, N_POINTS, 3)
        if self.trajectory is not None:
            want["trajectory"] = (n, 3)
        for k, shape in want.items():
            got = tuple(np.shape(getattr(self, k)))
            if got != shape:
                raise JudgemindError(f"skeleton track ({self.source}): {k} has shape {got}, expected {shape}")
        # a clip shorter than its steps repeats frames (judgemind.video.decode.sample_indices): equal is allowed
        if n > 1 and np.any(np.diff(np.asarray(self.frames)) < 0):
            raise JudgemindError(f"skeleton track ({self.source}): frame indices must increase")

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def in_picture(self) -> np.ndarray:
        """(N, 19) bool: the point is in the picture."""
        return np.asarray(self.visibility) > OUT_OF_FRAME

    def shots(self) -> np.ndarray:
        """(N,) camera-shot index of every frame."""
        return np.searchsorted(np.sort(np.asarray(self.cuts, np.int64)), np.asarray(self.frames), side="right")

    def cut_before(self) -> np.ndarray:
        """(N,) bool: a camera cut lies between the previous frame of the track and this one."""
        s = self.shots()
        return np.concatenate([[False], s[1:] != s[:-1]])

    def world(self) -> np.ndarray | None:
        """(N, 19, 3) world points (pelvis-relative pose + trajectory) when both are known; the pose alone (pelvis
        at 0) when only it is known; None otherwise."""
        if self.world_rel is None:
            return None
        if self.trajectory is None:
            return np.asarray(self.world_rel, np.float64)
        return np.asarray(self.world_rel, np.float64) + np.asarray(self.trajectory, np.float64)[:, None, :]

    def at(self, frames) -> "SkeletonTrack":
        """The track at the given video frames (each must be one of ``self.frames``)."""
        want = np.asarray(frames, np.int64)
        rows = np.searchsorted(self.frames, want)
        if len(want) and (
            rows.max() >= len(self.frames) or np.any(self.frames[np.minimum(rows, len(self) - 1)] != want)
        ):
            raise JudgemindError(f"skeleton track ({self.source}): asked for frames it does not cover")
        return self.take(rows)

    def take(self, rows) -> "SkeletonTrack":
        """The track at the given row positions."""
        rows = np.asarray(rows, np.int64)
        kw = {k: np.asarray(getattr(self, k))[rows] for k in _ARRAYS}
        for k in _OPTIONAL:
            v = getattr(self, k)
            kw[k] = None if v is None else np.asarray(v)[rows]
        return replace(self, **kw)

    def to_tensors(self) -> dict[str, np.ndarray]:
        """``track_*`` arrays for a feature cache file (safetensors holds arrays only; the scalars go into
        ``track_meta``, a JSON string as uint8)."""
        t = {
            PREFIX + "frames": np.asarray(self.frames, np.int64),
            PREFIX + "uv": np.asarray(self.uv, np.float32),
            PREFIX + "visibility": np.asarray(self.visibility, np.int8),
            PREFIX + "confidence": np.asarray(self.confidence, np.float32),
            PREFIX + "box": np.nan_to_num(np.asarray(self.box, np.float32)),
            PREFIX + "found": np.asarray(self.found, np.uint8),
            PREFIX + "detector": np.asarray(self.detector, np.float32),
            PREFIX + "camera": np.asarray(self.camera, np.float32),
        }
        for k in _OPTIONAL:
            v = getattr(self, k)
            if v is not None:
                t[PREFIX + k] = np.nan_to_num(np.asarray(v, np.float32))
        meta = {
            "cuts": [int(c) for c in self.cuts],
            "frame_size": [int(v) for v in self.frame_size],
            "fps": float(self.fps),
            "source": self.source,
        }
        t[PREFIX + "meta"] = np.frombuffer(json.dumps(meta).encode("utf-8"), np.uint8).copy()
        return t

    @classmethod
    def from_tensors(cls, t: Mapping[str, np.ndarray], where: str) -> "SkeletonTrack":
        """The track stored by :meth:`to_tensors`; a clear error naming ``where`` when it is absent or damaged."""
        missing = [k for k in _ARRAYS + ("meta",) if PREFIX + k not in t]
        if missing:
            raise JudgemindError(
                f"{where}: holds no skeleton track (missing {', '.join(PREFIX + k for k in missing)}"
                f"); re-extract it with this judgemind version"
            )
        try:
            meta = json.loads(bytes(np.asarray(t[PREFIX + "meta"], np.uint8)).decode("utf-8"))
            kw = {k: np.asarray(t[PREFIX + k]) for k in _ARRAYS}
            kw["found"] = kw["found"].astype(bool)
            for k in _OPTIONAL:
                kw[k] = np.asarray(t[PREFIX + k]) if PREFIX + k in t else None
            return cls(
                cuts=tuple(int(c) for c in meta["cuts"]),
                frame_size=tuple(int(v) for v in meta["frame_size"]),
                fps=float(meta["fps"]),
                source=str(meta["source"]),
                **kw,
            )
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
            raise JudgemindError(f"{where}: damaged skeleton track ({e}); re-extract it") from None


def point_extent(uv: np.ndarray, inside: np.ndarray, min_points: int = 1) -> np.ndarray:
    """(N, 4) float64 box (x0, y0, x1, y1) of the in-picture points of each row of ``uv`` (N, P, 2); NaN where
    fewer than ``min_points`` points are in the picture (``inside`` (N, P) bool)."""
    uv = np.asarray(uv, np.float64)
    inside = np.asarray(inside, bool)
    lo = np.where(inside[..., None], uv, np.inf).min(axis=1)
    hi = np.where(inside[..., None], uv, -np.inf).max(axis=1)
    box = np.concatenate([lo, hi], axis=1)
    box[inside.sum(axis=1) < max(min_points, 1)] = np.nan
    return box


def track_from_skeleton(
    uv: np.ndarray,
    visibility: np.ndarray,
    world: np.ndarray | None,
    frames,
    cuts,
    frame_size,
    fps: float,
    source: str = "annotated",
) -> SkeletonTrack:
    """A track from annotated skeleton arrays (``uv`` (N, 19, 2), ``visibility`` (N, 19), ``world`` (N, 19, 3)
    metres or None) at video ``frames``: confidence 1 where in the picture, every frame found, box = the extent of
    the in-picture points, no camera motion measured, the world points split into pelvis-relative pose and
    trajectory."""
    uv = np.nan_to_num(np.asarray(uv, np.float32))
    vis = np.asarray(visibility, np.int8)
    inside = vis > OUT_OF_FRAME
    n = len(uv)
    box = np.nan_to_num(point_extent(uv, inside)).astype(np.float32)
    world_rel = traj = None
    if world is not None and np.isfinite(world).all():
        w = np.asarray(world, np.float32)
        traj = w[:, SKELETON_POINTS.index("pelvis")].copy()
        world_rel = w - traj[:, None, :]
    return SkeletonTrack(
        frames=np.asarray(frames, np.int64),
        uv=uv,
        visibility=vis,
        confidence=inside.astype(np.float32),
        box=box,
        found=inside.any(axis=1),
        detector=np.ones(n, np.float32),
        camera=np.zeros((n, 4), np.float32),
        cuts=tuple(int(c) for c in cuts),
        frame_size=(int(frame_size[0]), int(frame_size[1])),
        fps=float(fps),
        source=source,
        world_rel=world_rel,
        trajectory=traj,
    )
