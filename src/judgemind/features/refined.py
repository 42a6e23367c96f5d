"""``refined``: skeleton tokens of refined tracks, from another cache's tracks (no video decoded).

A perception's extractor (``aerialspose`` with AerialsPose or MediaPipe, ``skeleton`` with or without simulated
estimator noise) stores its raw skeleton track in its cache (``track_*`` tensors). This extractor reads those tracks
(``source``), runs the temporal refiner over each (:mod:`judgemind.pose.refiner`; ``refiner``: a weights file, or
``shipped``) and writes the ``skeleton`` extractor's token layout, so the judge reads refined tracks whatever the
estimator was:

    judgemind extract DATA --extractor aerialspose                              # perception (decodes the video)
    judgemind extract DATA --extractor refined --set source=aerialspose         # refined tracks -> tokens
    judgemind extract DATA --extractor skeleton --set jitter=5 --name skel_j5
    judgemind extract DATA --extractor refined --set source=skel_j5 --name refined_skel_j5

``camera``: a cache whose tracks carry the camera's motion measured from the video (default ``aerialspose`` when the
source has none, e.g. annotated skeletons, and that cache exists): the same video's camera motion for every
perception. ``world``: fill the 3D block (default true). ``points``: ``refined`` (default) or ``raw`` -- keep the
estimator's own 2D points and visibility and take only the refined 3D pose and trajectory (the 2D refinement
helps pose statistics but can smooth away the few degrees a fault shows: measure it, docs/results.md).
``trajectory``: put the refiner's pelvis trajectory into the tokens (default true; false leaves the pelvis
position and velocity entries at 0, as for a per-frame estimate).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from judgemind.data.track import SkeletonTrack
from judgemind.errors import JudgemindError
from judgemind.features.base import Extractor, Plan, register_extractor
from judgemind.features.cache import FeatureCache
from judgemind.features.skeleton import FG_DIM, GLOBAL_DIM, track_tokens
from judgemind.pose.refiner import check_points, load_refiner, refiner_sha256

__all__ = ["RefinedExtractor"]


@register_extractor
class RefinedExtractor(Extractor):
    """``refined``: another cache's skeleton tracks through the temporal refiner -> skeleton tokens."""

    name = "refined"
    description = (
        "skeleton tracks of another cache (aerialspose, skeleton, ...) through the temporal refiner -> "
        "the skeleton extractor's tokens; no video decoded"
    )
    weights_kind = "optional file"
    requires = ("torch",)
    dims_text = f"{GLOBAL_DIM} / {FG_DIM}"
    steps_text = "as the source"
    needs_video = False

    def __init__(
        self,
        source: str = "aerialspose",
        refiner: str = "shipped",
        camera: str = "auto",
        world: bool = True,
        points: str = "refined",
        trajectory: bool = True,
        steps: int | None = None,
        weights: str | None = None,
    ):
        if weights:
            raise JudgemindError("refined: give the refiner weights as --set refiner=FILE")
        if steps is not None:
            raise JudgemindError("refined: the steps are those of the source cache (no 'steps' option)")
        if not source or source == self.name:
            raise JudgemindError(
                "refined: --set source=CACHE names the cache whose tracks are refined (e.g. aerialspose)"
            )
        check_points(points, "refined")
        self.source, self.refiner_file, self.camera, self.world = str(source), str(refiner), str(camera), bool(world)
        self.points, self.trajectory = points, bool(trajectory)
        self.short_side = 0
        self._src = self._cam = None
        self._refiner = None

    def _weights(self):
        return None if self.refiner_file in ("shipped", "") else self.refiner_file

    def config(self) -> dict[str, Any]:

        return {
            "extractor": self.name,
            "source": self.source,
            "camera": self.camera,
            "world": self.world,
            "points": self.points,
            "trajectory": self.trajectory,
            "perception": f"refined tracks of {self.source}",
            "refiner_sha256": refiner_sha256(self.refiner_file),
            "refiner_file": self._weights(),
            "source_config": self._src.config if self._src is not None else None,
            "weights_sha256": None,
        }

    def dims(self) -> dict[str, int]:
        return {"global": GLOBAL_DIM, "foreground": FG_DIM}

    def plan(self, start: int, end: int) -> Plan:  # pragma: no cover - encode_record reads the source's steps
        raise JudgemindError("the refined extractor reads another cache's tracks, not frames")

    def bind(self, root, meta, records=()) -> None:

        self._src = FeatureCache(root, self.source)
        if not self._src.exists():
            raise JudgemindError(
                f"{self._src.dir}: no feature cache {self.source!r} to refine; run `judgemind "
                f"extract {root} --extractor aerialspose` (or skeleton) first"
            )
        missing = self._src.missing([r.id for r in records])
        if missing:
            raise JudgemindError(
                f"{self._src.dir}: no features for {len(missing)} records (e.g. {missing[0]!r}); "
                f"finish `judgemind extract` of {self.source!r} first"
            )
        cam = "aerialspose" if self.camera == "auto" else self.camera
        self._cam = None
        if cam not in ("none", "", self.source):
            c = FeatureCache(root, cam)
            if c.exists():
                self._cam = c
            elif self.camera != "auto":
                raise JudgemindError(f"{c.dir}: no feature cache {cam!r} for the camera's motion")

    def _track(self, record) -> SkeletonTrack:

        t = SkeletonTrack.from_tensors(self._src.load(record.id), str(self._src.path(record.id)))
        if self._cam is not None and not np.any(t.camera[:, 3] > 0) and self._cam.has(record.id):
            c = SkeletonTrack.from_tensors(self._cam.load(record.id), str(self._cam.path(record.id)))
            if np.array_equal(c.frames, t.frames):
                t = replace(t, camera=c.camera)
        return t

    def encode_record(self, record) -> dict[str, np.ndarray]:
        if self._src is None:
            raise JudgemindError("refined extractor: no data set bound (a bug: the pipeline binds it)")
        if self._refiner is None:
            self._refiner = load_refiner(self.refiner_file)
        raw = self._track(record)
        track = self._refiner(raw, points=self.points, trajectory=self.trajectory)
        g, fg, box, filled = track_tokens(track, self.world)
        return {
            "global": g,
            "foreground": fg,
            "frame_index": np.asarray(track.frames, np.int64),
            "box": np.asarray(raw.box, np.float32),
            "box_filled": (~np.asarray(raw.found, bool)).astype(np.uint8),
            "cuts": np.asarray(raw.cuts, np.int64),
            **track.to_tensors(),
        }

    def encode(self, frames, plan):  # pragma: no cover - the pipeline calls encode_record for this extractor
        raise JudgemindError("the refined extractor reads tracks, not frames")
