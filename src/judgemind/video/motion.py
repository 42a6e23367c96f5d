"""The camera's motion: how the background moves between consecutive frames.

A broadcast camera pans, tilts and zooms to follow the athlete, so the athlete's image position says little about
where on the hill it is; the background's motion says how the camera turned. Per pair of consecutive decoded frames:
corners of the background (outside the athlete's box and a margin) are tracked by pyramidal Lucas-Kanade flow on
grey images of at most ``WORK_SIDE`` px, and a similarity transform (shift, zoom, roll) is fitted to them with RANSAC,
so the athlete's own motion and badly tracked corners do not count. Slopes and skies are partly texture-less: a pair
with fewer than ``MIN_CORNERS`` trackable corners, or whose corners do not agree on one motion (``MIN_AGREE``),
reports no motion and a confidence of 0 instead of an invented shift. At a camera cut the motion is 0.

``camera_motion(images, indices, boxes, cuts)`` -> (N, 4) float32: per frame (dx, dy) of the background in
frame widths / heights since the previous decoded frame (positive = the background moved right / down, i.e. the
camera turned left / up), the log zoom, and the confidence (share of agreeing corners, 0 = not measured).
``accumulate(motion, frame_index, cuts)`` sums the shifts inside each shot (0 at a shot's first frame): the
camera's path. Measured on SynthAerials renders (160 px): where it reports a motion, the horizontal and vertical
shifts follow the true pan and tilt closely (docs/pose.md, "The camera's motion"); follow shots against the sky
often have nothing to track.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from judgemind.utils.optional import load_cv2
from judgemind.video.cuts import shot_index

__all__ = ["camera_motion", "accumulate", "MIN_CORNERS", "WORK_SIDE"]

WORK_SIDE = 160  # px: the longer side of the grey images that are correlated
MIN_AGREE = 0.6  # share of tracked corners that must agree on one motion (else: no measurable motion)
MIN_CORNERS = 6  # fewer trackable background corners (a flat sky) -> "no measurable motion"


def _grey(img: np.ndarray, box, side: int) -> np.ndarray:
    cv2 = load_cv2()

    h, w = img.shape[:2]
    s = side / max(h, w)
    small = cv2.resize(img, (max(8, int(round(w * s))), max(8, int(round(h * s)))), interpolation=cv2.INTER_AREA)
    g = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32) if small.ndim == 3 else small.astype(np.float32)
    if box is not None and np.all(np.isfinite(box)):
        x0, y0, x1, y1 = (float(v) * s for v in box)
        pw, ph = 0.15 * (x1 - x0) + 2, 0.15 * (y1 - y0) + 2  # a margin around the athlete (skis, motion blur)
        xa, xb = int(max(0, x0 - pw)), int(min(g.shape[1], x1 + pw + 1))
        ya, yb = int(max(0, y0 - ph)), int(min(g.shape[0], y1 + ph + 1))
        if xb > xa and yb > ya:
            g[ya:yb, xa:xb] = float(g.mean())
    return g


def _mask(shape, box, s: float) -> np.ndarray:
    m = np.full(shape, 255, np.uint8)
    if box is not None and np.all(np.isfinite(box)):
        x0, y0, x1, y1 = (float(v) * s for v in box)
        pw, ph = 0.15 * (x1 - x0) + 3, 0.15 * (y1 - y0) + 3  # a margin around the athlete (skis, blur)
        xa, xb = int(max(0, x0 - pw)), int(min(shape[1], x1 + pw + 1))
        ya, yb = int(max(0, y0 - ph)), int(min(shape[0], y1 + ph + 1))
        m[ya:yb, xa:xb] = 0
    return m


def _small(img: np.ndarray, side: int) -> tuple[np.ndarray, float]:
    cv2 = load_cv2()

    h, w = img.shape[:2]
    s = min(1.0, side / max(h, w))
    if s < 1.0:
        img = cv2.resize(img, (max(8, int(round(w * s))), max(8, int(round(h * s)))), interpolation=cv2.INTER_AREA)
    g = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY) if img.ndim == 3 else img.astype(np.uint8)
    return g, s


def camera_motion(
    images: Sequence[np.ndarray], indices: Sequence[int], boxes=None, cuts: Sequence[int] = (), side: int = WORK_SIDE
) -> np.ndarray:
    """(N, 4) float32 per decoded frame against the previous one: background shift dx / W, dy / H, log zoom
    (scale of the background), and the share of tracked background corners that agree (0..1, the confidence).
    0 for the first frame, at a cut and where too few corners could be tracked (a flat sky).
    ``boxes`` (N, 4) athlete boxes in the images' pixels (NaN rows: none) are masked out first."""

    n = len(images)
    out = np.zeros((n, 4), np.float32)
    if n < 2:
        return out
    cutset = {int(c) for c in cuts}
    box = np.full((n, 4), np.nan) if boxes is None else np.asarray(boxes, np.float64).reshape(n, 4)
    prev, s = _small(images[0], side)
    for k in range(1, n):
        cur, s = _small(images[k], side)
        if int(indices[k]) in cutset or cur.shape != prev.shape:
            prev = cur
            continue
        out[k] = _pair(prev, cur, _mask(prev.shape, box[k - 1], s))
        prev = cur
    return out


def _pair(prev: np.ndarray, cur: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(dx / W, dy / H, log scale, inlier share) of the background between two grey images: corners outside the
    athlete tracked by pyramidal Lucas-Kanade, a similarity transform fitted with RANSAC."""
    cv2 = load_cv2()

    h, w = prev.shape
    pts = cv2.goodFeaturesToTrack(prev, maxCorners=80, qualityLevel=0.003, minDistance=3, mask=mask, blockSize=5)
    if pts is None or len(pts) < MIN_CORNERS:
        return np.zeros(4, np.float32)
    nxt, st, _ = cv2.calcOpticalFlowPyrLK(prev, cur, pts, None, winSize=(15, 15), maxLevel=3)
    good = st.reshape(-1) == 1
    if good.sum() < MIN_CORNERS:
        return np.zeros(4, np.float32)
    a, b = pts.reshape(-1, 2)[good], nxt.reshape(-1, 2)[good]
    M, inl = cv2.estimateAffinePartial2D(
        a, b, method=cv2.RANSAC, ransacReprojThreshold=1.5, maxIters=200, refineIters=5
    )
    if M is None or inl is None or int(inl.sum()) < MIN_CORNERS or float(inl.mean()) < MIN_AGREE:
        return np.zeros(4, np.float32)
    scale = float(np.hypot(M[0, 0], M[1, 0]))
    # the shift of the image centre under the fitted transform
    c = np.array([w / 2.0, h / 2.0])
    d = M[:, :2] @ c + M[:, 2] - c
    return np.array([d[0] / w, d[1] / h, np.log(max(scale, 1e-3)), float(inl.mean())], np.float32)


def accumulate(motion: np.ndarray, frame_index: Sequence[int], cuts: Sequence[int] = ()) -> np.ndarray:
    """(N, 2) the background's displacement since each shot's first frame (sum of ``motion[:, :2]`` inside the
    shot; 0 at the first frame of every shot)."""

    m = np.asarray(motion, np.float64)[:, :2]
    shot = shot_index(cuts, frame_index)
    out = np.zeros_like(m)
    for s in np.unique(shot):
        rows = np.flatnonzero(shot == s)
        step = m[rows].copy()
        step[0] = 0.0
        out[rows] = np.cumsum(step, axis=0)
    return out.astype(np.float32)
