"""The ``hog`` locator: OpenCV's HOG people detector every ``detect_every`` frames, template tracking in between,
and MediaPipe Pose on a square crop around the box (refines the box, gives keypoints).

Made for small, distant athletes that whole-frame MediaPipe misses: the crop is enlarged to ``pose_size`` before
the pose graph sees it. The frame is rescaled for HOG so that a person ``min_height`` pixels tall fills HOG's
64x128 window.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from judgemind.video.locators.base import Box, Detection, Locator, register_locator, require_package
from judgemind.video.locators.mp_pose import PoseEstimator


def iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def inside_fraction(a: Box, b: Box) -> float:
    """Fraction of box ``a``'s area that lies inside box ``b``."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    area = (a[2] - a[0]) * (a[3] - a[1])
    return ix * iy / area if area > 0 else 0.0


def square_window(box: Box, margin: float, w: int, h: int) -> tuple[int, int, int]:
    """Integer square ``(x0, y0, side)`` centred on ``box``, side = margin x longer box side (may leave the frame)."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    side = max(8, int(round(max(box[2] - box[0], box[3] - box[1]) * margin)))
    return int(round(cx - side / 2)), int(round(cy - side / 2)), side


def cut_square(img: np.ndarray, x0: int, y0: int, side: int) -> np.ndarray:
    """``img[y0:y0+side, x0:x0+side]`` with zero padding where the square leaves the image."""
    h, w = img.shape[:2]
    out = np.zeros((side, side) + img.shape[2:], img.dtype)
    sx0, sy0, sx1, sy1 = max(0, x0), max(0, y0), min(w, x0 + side), min(h, y0 + side)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = img[sy0:sy1, sx0:sx1]
    return out


@register_locator
class HogLocator(Locator):
    """HOG detect -> template track -> MediaPipe Pose on the crop.

    Args:
        detect_every: run HOG on every k-th frame given (and whenever the track is lost).
        min_height: smallest person (pixels of the frames given) HOG should find; the frame is scaled by
            128 / min_height for HOG (capped by ``max_side``).
        scale_step, hit_threshold: HOG pyramid step and SVM threshold (``cv2.HOGDescriptor.detectMultiScale``).
        pose: run MediaPipe Pose on the crop (keypoints + refined box); False = boxes only (faster).
        margin: crop side / longer box side for the pose crop and the template search.
        pose_size: side of the square crop given to MediaPipe.
        max_side: cap on the longer side of the image HOG scans (speed).
    """

    name = "hog"
    description = "OpenCV HOG people detector every k frames + template tracking + MediaPipe Pose on the crop"
    requires = ("cv2", "mediapipe")
    gives_keypoints = True

    def __init__(
        self,
        detect_every: int = 5,
        min_height: int = 96,
        scale_step: float = 1.05,
        hit_threshold: float = 0.0,
        pose: bool = True,
        margin: float = 1.4,
        pose_size: int = 256,
        max_side: int = 1280,
        min_track_score: float = 0.4,
    ):
        self.cv2 = require_package("cv2", "the hog locator")
        if detect_every < 1 or min_height < 16:
            raise ValueError("detect_every must be >= 1 and min_height >= 16")
        self.opts = dict(
            detect_every=int(detect_every),
            min_height=int(min_height),
            scale_step=float(scale_step),
            hit_threshold=float(hit_threshold),
            pose=bool(pose),
            margin=float(margin),
            pose_size=int(pose_size),
            max_side=int(max_side),
            min_track_score=float(min_track_score),
        )
        self.hog = self.cv2.HOGDescriptor()
        self.hog.setSVMDetector(self.cv2.HOGDescriptor_getDefaultPeopleDetector())
        self.pose = None
        if pose:
            self.pose = PoseEstimator(static_image_mode=False)
        self.reset()

    def config(self) -> dict[str, Any]:
        return {"name": self.name, **self.opts}

    def reset(self) -> None:
        self._n = 0
        self._box: Box | None = None
        self._template: np.ndarray | None = None
        if self.pose is not None:
            self.pose.reset()

    def close(self) -> None:
        if self.pose is not None:
            self.pose.close()

    # -- steps -----------------------------------------------------------------------------------------------------
    def hog_detect(self, gray: np.ndarray) -> list[tuple[Box, float]]:
        """All people HOG finds in a gray frame: ``[(box, weight)]`` in frame pixels."""
        cv2 = self.cv2
        h, w = gray.shape
        f = 128.0 / self.opts["min_height"]
        f = min(f, self.opts["max_side"] / max(h, w))
        img = (
            gray
            if abs(f - 1) < 1e-3
            else cv2.resize(
                gray,
                (max(64, round(w * f)), max(128, round(h * f))),
                interpolation=cv2.INTER_LINEAR if f > 1 else cv2.INTER_AREA,
            )
        )
        fx, fy = img.shape[1] / w, img.shape[0] / h
        if img.shape[0] < 128 or img.shape[1] < 64:
            return []
        rects, weights = self.hog.detectMultiScale(
            img,
            hitThreshold=self.opts["hit_threshold"],
            winStride=(8, 8),
            padding=(8, 8),
            scale=self.opts["scale_step"],
        )
        out = []
        for (x, y, rw, rh), wt in zip(rects, np.asarray(weights).reshape(-1)):
            # HOG's window keeps a border around the person: trim 1/8 of the width and 1/16 of the height per side
            x0, y0, x1, y1 = x + rw / 8, y + rh / 16, x + rw - rw / 8, y + rh - rh / 16
            out.append(((x0 / fx, y0 / fy, x1 / fx, y1 / fy), float(wt)))
        return out

    def _track(self, gray: np.ndarray) -> tuple[Box | None, float]:
        """Move the last box to where its template matches best in a window around it."""
        cv2 = self.cv2
        if self._box is None or self._template is None:
            return None, 0.0
        th, tw = self._template.shape
        x0, y0, x1, y1 = self._box
        bw, bh = x1 - x0, y1 - y0
        h, w = gray.shape
        sx0, sy0 = max(0, int(x0 - bw)), max(0, int(y0 - bh))
        sx1, sy1 = min(w, int(x1 + bw) + 1), min(h, int(y1 + bh) + 1)
        if sx1 - sx0 < tw or sy1 - sy0 < th:
            return None, 0.0
        res = cv2.matchTemplate(gray[sy0:sy1, sx0:sx1], self._template, cv2.TM_CCOEFF_NORMED)
        _, score, _, loc = cv2.minMaxLoc(res)
        nx, ny = sx0 + loc[0], sy0 + loc[1]
        return (float(nx), float(ny), float(nx + tw), float(ny + th)), float(score)

    def _remember(self, gray: np.ndarray, box: Box) -> None:
        h, w = gray.shape
        x0, y0 = max(0, int(round(box[0]))), max(0, int(round(box[1])))
        x1, y1 = min(w, int(round(box[2]))), min(h, int(round(box[3])))
        if x1 - x0 >= 4 and y1 - y0 >= 4:
            self._box = (float(x0), float(y0), float(x1), float(y1))
            self._template = gray[y0:y1, x0:x1].copy()
        else:
            self._box, self._template = None, None

    def _refine(self, frame: np.ndarray, box: Box) -> tuple[Box | None, np.ndarray | None, float]:
        """MediaPipe Pose on a square crop around ``box``: (box, keypoints) in frame pixels, or (None, None, 0)."""
        cv2 = self.cv2
        h, w = frame.shape[:2]
        x0, y0, side = square_window(box, self.opts["margin"], w, h)
        crop = cut_square(frame, x0, y0, side)
        ps = self.opts["pose_size"]
        crop = cv2.resize(crop, (ps, ps), interpolation=cv2.INTER_LINEAR if side < ps else cv2.INTER_AREA)
        r = self.pose(crop)
        if r.keypoints is None or r.box is None:
            return None, None, 0.0
        s = side / ps
        kp = r.keypoints.copy()
        kp[:, 0] = kp[:, 0] * s + x0
        kp[:, 1] = kp[:, 1] * s + y0
        b = r.box
        fb = (
            max(0.0, b[0] * s + x0),
            max(0.0, b[1] * s + y0),
            min(float(w), b[2] * s + x0),
            min(float(h), b[3] * s + y0),
        )
        if fb[2] - fb[0] < 2 or fb[3] - fb[1] < 2:
            return None, None, 0.0
        return fb, kp, r.confidence

    def detect(self, frame: np.ndarray, index: int) -> Detection:
        cv2 = self.cv2
        gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        box, conf = None, 0.0
        tracked, score = self._track(gray)
        if tracked is not None and score < self.opts["min_track_score"]:
            tracked = None
        if tracked is None or self._n % self.opts["detect_every"] == 0:
            found = self.hog_detect(gray)
            if found:
                if tracked is not None:
                    best = max(found, key=lambda bw: iou(bw[0], tracked))
                    if iou(best[0], tracked) < 0.1:
                        best = None
                else:
                    best = max(found, key=lambda bw: bw[1])
                if best is not None:
                    box, conf = best[0], float(1.0 - np.exp(-max(best[1], 0.0)))
        if box is None and tracked is not None:
            box, conf = tracked, 0.8 * max(score, 0.0)
        self._n += 1
        keypoints = None
        if box is not None and self.pose is not None:
            pbox, kp, pconf = self._refine(frame, box)
            # a pose box mostly outside the tracked box belongs to someone (or something) else
            if pbox is not None and pconf >= 0.3 and inside_fraction(pbox, box) >= 0.6:
                box, keypoints, conf = pbox, kp, max(conf, pconf)
        if box is None:
            self._box, self._template = None, None
            return Detection(None, 0.0)
        self._remember(gray, box)
        return Detection(tuple(float(v) for v in box), float(conf), keypoints)
