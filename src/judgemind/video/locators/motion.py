"""The ``motion`` locator: OpenCV MOG2 background subtraction for a static camera; the athlete is the largest
moving blob. Needs a few frames to learn the background (the first frame of each shot yields no box; it is
filled from the next detections)."""

from __future__ import annotations

from typing import Any

import numpy as np

from judgemind.video.locators.base import Detection, Locator, register_locator, require_package


@register_locator
class MotionLocator(Locator):
    """Background subtraction (MOG2) on a copy of the frame scaled to ``work_width`` pixels wide.

    Args:
        history, var_threshold: MOG2 parameters (frames remembered; squared Mahalanobis distance threshold).
        work_width: width the frame is scaled to before subtraction (speed, noise).
        min_area, max_area: blob area as a fraction of the frame; smaller blobs are noise, larger ones a
            light change or camera motion (no box then).
        dilate: pixels to grow the foreground mask so that limbs join the body.
    """

    name = "motion"
    description = "OpenCV MOG2 background subtraction (static camera), largest moving blob"
    requires = ("cv2",)

    def __init__(
        self,
        history: int = 120,
        var_threshold: float = 25.0,
        work_width: int = 320,
        min_area: float = 0.0005,
        max_area: float = 0.5,
        dilate: int = 5,
    ):
        self.cv2 = require_package("cv2", "the motion locator")
        self.opts = dict(
            history=int(history),
            var_threshold=float(var_threshold),
            work_width=int(work_width),
            min_area=float(min_area),
            max_area=float(max_area),
            dilate=int(dilate),
        )
        self.reset()

    def config(self) -> dict[str, Any]:
        return {"name": self.name, **self.opts}

    def reset(self) -> None:
        self._mog = self.cv2.createBackgroundSubtractorMOG2(
            history=self.opts["history"], varThreshold=self.opts["var_threshold"], detectShadows=False
        )
        self._seen = 0

    def foreground(self, frame: np.ndarray) -> np.ndarray:
        """Update the background model with ``frame``; the cleaned foreground mask at work size (uint8 0/255)."""
        cv2 = self.cv2
        h, w = frame.shape[:2]
        ww = min(w, self.opts["work_width"])
        small = frame if ww == w else cv2.resize(frame, (ww, max(1, round(h * ww / w))), interpolation=cv2.INTER_AREA)
        small = cv2.GaussianBlur(small, (3, 3), 0)
        mask = self._mog.apply(small)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        if self.opts["dilate"] > 0:
            k = self.opts["dilate"]
            mask = cv2.dilate(mask, np.ones((k, k), np.uint8), iterations=1)
        return mask

    def detect(self, frame: np.ndarray, index: int) -> Detection:
        cv2 = self.cv2
        h, w = frame.shape[:2]
        mask = self.foreground(frame)
        self._seen += 1
        if self._seen == 1:
            return Detection(None, 0.0)  # everything is "new" in the first frame
        n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        if n <= 1:
            return Detection(None, 0.0)
        k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        x, y, bw, bh, area = (int(v) for v in stats[k])
        frac = area / float(mask.shape[0] * mask.shape[1])
        if frac < self.opts["min_area"] or frac > self.opts["max_area"]:
            return Detection(None, 0.0)
        f = w / mask.shape[1]
        fy = h / mask.shape[0]
        box = (x * f, y * fy, min(float(w), (x + bw) * f), min(float(h), (y + bh) * fy))
        fill = area / float(max(1, bw * bh))
        return Detection(box, float(np.clip(fill, 0.0, 1.0)))
