"""MediaPipe Pose (legacy ``mp.solutions.pose``, model complexity 1 -- the only one bundled in the wheel).

:class:`PoseEstimator` wraps one pose graph (33 landmarks + segmentation mask) for any RGB image; the
``mediapipe`` locator runs it on whole frames, the ``hog`` locator and the ``pose`` extractor on athlete crops.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from judgemind.video.locators.base import N_KEYPOINTS, Box, Detection, Locator, register_locator, require_package

VISIBLE = 0.5  # landmark visibility above which a landmark counts for the box


@dataclass(frozen=True)
class PoseResult:
    """``keypoints`` (33, 3) float32 (x, y pixels of the image given, visibility) or None; ``box`` from the mask
    and the visible landmarks; ``confidence`` = mean landmark visibility."""

    keypoints: np.ndarray | None
    box: Box | None
    confidence: float


def _import_mediapipe():
    os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's C++ logging is noisy on stderr
    return require_package("mediapipe", "MediaPipe pose")


class PoseEstimator:
    """One MediaPipe Pose graph. ``static_image_mode=False`` tracks between consecutive calls (faster, smoother);
    call :meth:`reset` between videos."""

    def __init__(
        self,
        *,
        static_image_mode: bool = False,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        segmentation: bool = True,
    ):
        self.options = dict(
            static_image_mode=bool(static_image_mode),
            model_complexity=1,
            enable_segmentation=bool(segmentation),
            min_detection_confidence=float(min_detection_confidence),
            min_tracking_confidence=float(min_tracking_confidence),
        )
        self._pose = None

    def _graph(self):
        if self._pose is None:
            mp = _import_mediapipe()
            self._pose = mp.solutions.pose.Pose(**self.options)
        return self._pose

    def reset(self) -> None:
        self.close()

    def close(self) -> None:
        if self._pose is not None:
            self._pose.close()
            self._pose = None

    def __call__(self, rgb: np.ndarray) -> PoseResult:
        h, w = rgb.shape[:2]
        res = self._graph().process(np.ascontiguousarray(rgb))
        if res.pose_landmarks is None:
            return PoseResult(None, None, 0.0)
        kp = np.array([(lm.x * w, lm.y * h, lm.visibility) for lm in res.pose_landmarks.landmark], np.float32)
        kp = kp.reshape(N_KEYPOINTS, 3)
        vis = kp[:, 2] >= VISIBLE
        pts = kp[vis, :2] if vis.sum() >= 3 else kp[:, :2]
        x0, y0 = pts.min(axis=0)
        x1, y1 = pts.max(axis=0)
        box = (float(x0), float(y0), float(x1), float(y1))
        mask = getattr(res, "segmentation_mask", None)
        if mask is not None:
            box = _union(box, _mask_box(mask, box))
        box = _clip(box, w, h)
        return PoseResult(kp, box, float(np.clip(kp[:, 2].mean(), 0.0, 1.0)))


def _mask_box(mask: np.ndarray, near: Box) -> Box | None:
    """Bounding box of mask pixels > 0.5 within the landmark box grown by half its size (drops stray blobs)."""
    h, w = mask.shape[:2]
    x0, y0, x1, y1 = near
    gx, gy = 0.5 * (x1 - x0) + 2, 0.5 * (y1 - y0) + 2
    ax0, ay0 = max(0, int(x0 - gx)), max(0, int(y0 - gy))
    ax1, ay1 = min(w, int(np.ceil(x1 + gx))), min(h, int(np.ceil(y1 + gy)))
    if ax1 <= ax0 or ay1 <= ay0:
        return None
    m = mask[ay0:ay1, ax0:ax1] > 0.5
    rows, cols = np.nonzero(m.any(axis=1))[0], np.nonzero(m.any(axis=0))[0]
    if not len(rows):
        return None
    return (float(ax0 + cols[0]), float(ay0 + rows[0]), float(ax0 + cols[-1] + 1), float(ay0 + rows[-1] + 1))


def _union(a: Box, b: Box | None) -> Box:
    if b is None:
        return a
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _clip(b: Box, w: int, h: int) -> Box | None:
    x0, y0 = max(0.0, b[0]), max(0.0, b[1])
    x1, y1 = min(float(w), b[2]), min(float(h), b[3])
    if x1 - x0 < 1 or y1 - y0 < 1:
        return None
    return (x0, y0, x1, y1)


@register_locator
class MediaPipeLocator(Locator):
    """MediaPipe Pose on the whole frame: box from the segmentation mask and landmarks, confidence = mean landmark
    visibility, 33 keypoints. Works when the athlete fills a good part of the frame; for small, distant athletes use
    ``hog``."""

    name = "mediapipe"
    description = "MediaPipe Pose on the whole frame (box from mask + landmarks, 33 keypoints)"
    requires = ("mediapipe",)
    gives_keypoints = True

    def __init__(
        self,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        static_image_mode: bool = False,
    ):
        self.pose = PoseEstimator(
            static_image_mode=static_image_mode,
            min_detection_confidence=min_detection_confidence,
            min_tracking_confidence=min_tracking_confidence,
        )

    def config(self) -> dict[str, Any]:
        o = self.pose.options
        return {
            "name": self.name,
            "model_complexity": o["model_complexity"],
            "min_detection_confidence": o["min_detection_confidence"],
            "min_tracking_confidence": o["min_tracking_confidence"],
            "static_image_mode": o["static_image_mode"],
        }

    def reset(self) -> None:
        self.pose.reset()

    def close(self) -> None:
        self.pose.close()

    def detect(self, frame: np.ndarray, index: int) -> Detection:
        r = self.pose(frame)
        if r.box is None:
            return Detection(None, 0.0, r.keypoints)
        return Detection(r.box, r.confidence, r.keypoints)
