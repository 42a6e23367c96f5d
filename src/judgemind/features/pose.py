"""``pose``: body-pose tokens from the athlete's 33 MediaPipe keypoints, plus cheap whole-frame descriptors.

FOREGROUND token per step (``FG_DIM`` = 118), all relative to the athlete box (centre c, size s = longer side):

    0:66    keypoints (x - cx) / s, (y - cy) / s, 33 x (x, y)
    66:99   keypoint visibility
    99:107  joint angles / pi: left/right knee (hip-knee-ankle), hip (shoulder-hip-knee), elbow
            (shoulder-elbow-wrist), shoulder (elbow-shoulder-hip)
    107:109 leg separation: ankle distance / s, knee distance / s
    109:111 body axis (mid-hip -> mid-shoulder) angle: sin, cos (upright = (0, 1), inverted = (0, -1))
    111:115 box centre x / W, y / H, box height / H, box aspect w / h
    115:118 locator confidence, box filled (interpolated), pose found

Keypoints come from the locator (``mediapipe``, ``hog``); with a locator that gives none (``annotation``,
``motion``) MediaPipe Pose runs on a square crop around the box. Steps without a pose have zeros in 0:111.

GLOBAL token per step (``GLOBAL_DIM`` = 81): an 8 x 8 gray thumbnail of the letterboxed frame (0..1), the mean
absolute gray difference to the frame ``motion_gap`` frames earlier in a 4 x 4 grid, and its overall mean.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from judgemind.errors import JudgemindError
from judgemind.features.base import Extractor, Frames, Plan, register_extractor
from judgemind.utils.optional import load_cv2
from judgemind.video.crop import letterbox, square_crop
from judgemind.video.decode import sample_indices
from judgemind.video.locators.mp_pose import PoseEstimator

__all__ = ["PoseExtractor", "pose_token", "global_token", "FG_DIM", "GLOBAL_DIM", "JOINTS"]

FG_DIM = 118
GLOBAL_DIM = 81
# (a, joint, b): angle at `joint` between the segments to a and b (MediaPipe landmark ids)
JOINTS = {
    "left_knee": (23, 25, 27),
    "right_knee": (24, 26, 28),
    "left_hip": (11, 23, 25),
    "right_hip": (12, 24, 26),
    "left_elbow": (11, 13, 15),
    "right_elbow": (12, 14, 16),
    "left_shoulder": (13, 11, 23),
    "right_shoulder": (14, 12, 24),
}
_L_SH, _R_SH, _L_HIP, _R_HIP, _L_KNEE, _R_KNEE, _L_ANK, _R_ANK = 11, 12, 23, 24, 25, 26, 27, 28


def _angle(a: np.ndarray, j: np.ndarray, b: np.ndarray) -> float:
    u, v = a - j, b - j
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    if nu < 1e-6 or nv < 1e-6:
        return 0.0
    return float(np.arccos(np.clip(np.dot(u, v) / (nu * nv), -1.0, 1.0)))


def pose_token(
    keypoints: np.ndarray | None, box, frame_size: tuple[int, int], confidence: float, filled: bool
) -> np.ndarray:
    """One FOREGROUND token ``(FG_DIM,) float32`` (layout in the module docstring)."""
    out = np.zeros(FG_DIM, np.float32)
    x0, y0, x1, y1 = (float(v) for v in box)
    w, h = frame_size
    bw, bh = max(x1 - x0, 1e-3), max(y1 - y0, 1e-3)
    out[111:115] = ((x0 + x1) / 2 / w, (y0 + y1) / 2 / h, bh / h, bw / bh)
    out[115:118] = (confidence, float(filled), 0.0)
    if keypoints is None:
        return out
    kp = np.asarray(keypoints, np.float32)
    s = max(bw, bh)
    c = np.array([(x0 + x1) / 2, (y0 + y1) / 2], np.float32)
    xy = (kp[:, :2] - c) / s
    out[0:66] = xy.reshape(-1)
    out[66:99] = kp[:, 2]
    out[99:107] = [_angle(xy[a], xy[j], xy[b]) / np.pi for a, j, b in JOINTS.values()]
    out[107] = np.linalg.norm(xy[_L_ANK] - xy[_R_ANK])
    out[108] = np.linalg.norm(xy[_L_KNEE] - xy[_R_KNEE])
    axis = (xy[_L_SH] + xy[_R_SH]) / 2 - (xy[_L_HIP] + xy[_R_HIP]) / 2
    n = np.linalg.norm(axis)
    if n > 1e-6:
        out[109:111] = (axis[0] / n, -axis[1] / n)  # image y points down; upright body -> cos = +1
    out[117] = 1.0
    return np.clip(out, -10.0, 10.0)


def global_token(frame: np.ndarray, previous: np.ndarray | None) -> np.ndarray:
    """One GLOBAL token ``(GLOBAL_DIM,) float32``: 8x8 gray thumbnail, 4x4 motion energy, mean motion."""
    cv2 = load_cv2()

    g = cv2.cvtColor(letterbox(frame, 32), cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    thumb = cv2.resize(g, (8, 8), interpolation=cv2.INTER_AREA).reshape(-1)
    if previous is None:
        motion = np.zeros(16, np.float32)
    else:
        p = cv2.cvtColor(letterbox(previous, 32), cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
        motion = cv2.resize(np.abs(g - p), (4, 4), interpolation=cv2.INTER_AREA).reshape(-1)
    return np.concatenate([thumb, motion, [motion.mean()]]).astype(np.float32)


@register_extractor
class PoseExtractor(Extractor):
    """``pose``: keypoint geometry (foreground) + thumbnail / motion energy (global), ``steps`` uniform steps.

    Options: ``steps`` (T, default 32), ``short_side`` (decode size, default 480: pose needs pixels),
    ``motion_gap`` (frames between the two frames of the motion energy), ``crop_margin`` / ``crop_size`` (crop
    given to MediaPipe when the locator has no keypoints).
    """

    name = "pose"
    description = "MediaPipe keypoints -> joint angles, leg separation, body axis (box-normalised); gray thumbnail"
    weights_kind = None
    requires = ("av", "cv2", "mediapipe")
    dims_text = f"{GLOBAL_DIM} / {FG_DIM}"
    wants_keypoints = True

    def __init__(
        self,
        steps: int | None = None,
        short_side: int = 480,
        motion_gap: int = 2,
        crop_margin: float = 1.4,
        crop_size: int = 256,
        weights: str | None = None,
    ):
        if weights:
            raise JudgemindError("the pose extractor takes no --weights (MediaPipe's model ships in its package)")
        self.steps = 32 if steps is None else int(steps)
        if self.steps < 1 or motion_gap < 1:
            raise JudgemindError("pose: steps and motion_gap must be >= 1")
        self.short_side = int(short_side)
        self.motion_gap = int(motion_gap)
        self.crop_margin, self.crop_size = float(crop_margin), int(crop_size)
        self._pose = None

    def config(self) -> dict[str, Any]:
        return {
            "extractor": self.name,
            "steps": self.steps,
            "sampling": "linspace",
            "motion_gap": self.motion_gap,
            "crop_margin": self.crop_margin,
            "crop_size": self.crop_size,
            "pose_model": "mediapipe-0.10.21-c1",
            "weights_sha256": None,
        }

    def dims(self) -> dict[str, int]:
        return {"global": GLOBAL_DIM, "foreground": FG_DIM}

    def plan(self, start: int, end: int) -> Plan:
        steps = sample_indices(start, end, self.steps)
        prev = np.maximum(steps - self.motion_gap, start)
        return Plan(
            steps=steps,
            decode=np.unique(np.concatenate([steps, prev])),
            locate=np.unique(steps),
            extra={"previous": prev},
        )

    def _crop_pose(self, frame: np.ndarray, box) -> tuple[np.ndarray | None, float]:
        """MediaPipe on a square crop around ``box``; keypoints in frame pixels."""

        if self._pose is None:
            self._pose = PoseEstimator(static_image_mode=False)
        x0, y0, x1, y1 = box
        side = max(8, int(round(max(x1 - x0, y1 - y0) * self.crop_margin)))
        sx, sy = int(round((x0 + x1) / 2 - side / 2)), int(round((y0 + y1) / 2 - side / 2))
        r = self._pose(square_crop(frame, box, self.crop_margin, self.crop_size))
        if r.keypoints is None:
            return None, 0.0
        kp = r.keypoints.copy()
        kp[:, :2] = kp[:, :2] * (side / self.crop_size) + (sx, sy)
        return kp, r.confidence

    def encode(self, frames: Frames, plan: Plan) -> dict[str, np.ndarray]:
        if self._pose is not None:
            self._pose.reset()  # a new video: no tracking across records
        g, f = [], []
        for c, p in zip(plan.steps, plan.extra["previous"]):
            c, p = int(c), int(p)
            img = frames.images[c]
            g.append(global_token(img, frames.images[p] if p != c else None))
            det = frames.detections.get(c)
            kp = det.keypoints if det is not None else None
            conf = det.confidence if det is not None else 0.0
            if kp is None:
                kp, pconf = self._crop_pose(img, frames.boxes[c])
                conf = max(conf, pconf) if kp is not None else conf
            f.append(pose_token(kp, frames.boxes[c], frames.size, conf, frames.filled[c]))
        return {"global": np.stack(g), "foreground": np.stack(f)}

    def close(self) -> None:
        if self._pose is not None:
            self._pose.close()
            self._pose = None
