"""The one crop geometry: a square around the athlete's box, and the whole frame letterboxed to a square.

Every consumer cuts the same square: side = ``margin x`` the box's longer side (at least 8 px), centred on the box
centre (:func:`square_window`). Two ways to cut it, both kept because they give different pixels and trained
weights depend on each:

- integer slicing (:func:`square_crop`, :func:`letterbox`): the square rounded to whole pixels, zero-padded where it
  leaves the frame, resized -- the feature extractors' tokens (``judgemind.features``);
- an affine map (:func:`crop_transform` + :func:`warp_crop`, :func:`letterbox_transform` + :func:`warp_letterbox`):
  sub-pixel, with the matrix to carry points into and out of the crop (:func:`apply_affine`,
  :func:`invert_affine`) -- AerialsPose (``judgemind.pose``) and the judge sheet's evidence crops, whose skeleton
  is drawn through the same matrix.

Frames are ``(H, W, 3) uint8``; boxes ``(x0, y0, x1, y1)`` in the frame's pixels; affine matrices ``(2, 3)
float32`` mapping frame pixels to crop pixels.
"""

from __future__ import annotations

import numpy as np

from judgemind.utils.optional import load_cv2

__all__ = [
    "MIN_SIDE",
    "square_window",
    "square_crop",
    "letterbox",
    "crop_transform",
    "warp_crop",
    "letterbox_transform",
    "warp_letterbox",
    "apply_affine",
    "invert_affine",
]

MIN_SIDE = 8.0  # px: the smallest square cut around a box (a degenerate box still gives an image)


def square_window(box, margin: float, scale: float = 1.0, shift=(0.0, 0.0)) -> tuple[float, float, float]:
    """``(cx, cy, side)`` of the square around ``box``: side = ``margin x scale x`` the box's longer side (at least
    :data:`MIN_SIDE`), centred on the box centre moved by ``shift`` (in units of that side)."""
    x0, y0, x1, y1 = (float(v) for v in box)
    side = max(max(x1 - x0, y1 - y0) * margin * scale, MIN_SIDE)
    return (x0 + x1) / 2 + shift[0] * side, (y0 + y1) / 2 + shift[1] * side, side


def _resize(img: np.ndarray, size: int) -> np.ndarray:
    cv2 = load_cv2()

    if img.shape[0] == size and img.shape[1] == size:
        return img
    interp = cv2.INTER_AREA if img.shape[0] > size else cv2.INTER_LINEAR
    return cv2.resize(img, (size, size), interpolation=interp)


def square_crop(frame: np.ndarray, box, margin: float, size: int) -> np.ndarray:
    """The :func:`square_window` of ``box`` rounded to whole pixels, zero-padded where it leaves the frame, resized to
    ``size`` x ``size``: ``(size, size, 3) uint8``."""
    cx, cy, side_f = square_window(box, margin)
    side = int(round(side_f))
    sx, sy = int(round(cx - side / 2)), int(round(cy - side / 2))
    h, w = frame.shape[:2]
    ax0, ay0, ax1, ay1 = max(0, sx), max(0, sy), min(w, sx + side), min(h, sy + side)
    if ax0 == sx and ay0 == sy and ax1 == sx + side and ay1 == sy + side:
        crop = frame[ay0:ay1, ax0:ax1]
    else:
        crop = np.zeros((side, side, 3), np.uint8)
        if ax1 > ax0 and ay1 > ay0:
            crop[ay0 - sy : ay1 - sy, ax0 - sx : ax1 - sx] = frame[ay0:ay1, ax0:ax1]
    return _resize(np.ascontiguousarray(crop), size)


def letterbox(frame: np.ndarray, size: int) -> np.ndarray:
    """The whole frame, zero-padded to a centred square (whole pixels) and resized to ``size`` x ``size``."""
    h, w = frame.shape[:2]
    if h != w:
        side = max(h, w)
        sq = np.zeros((side, side, 3), np.uint8)
        y0, x0 = (side - h) // 2, (side - w) // 2
        sq[y0 : y0 + h, x0 : x0 + w] = frame
        frame = sq
    return _resize(frame, size)


def crop_transform(
    box, margin: float, crop: int, scale: float = 1.0, shift=(0.0, 0.0), inside: tuple[int, int] | None = None
) -> np.ndarray:
    """2x3 affine matrix mapping frame pixels to the pixels of a ``crop`` x ``crop`` image of the
    :func:`square_window` of ``box``. ``inside`` (frame width, height): the square is moved, not padded, to lie
    inside the frame where it fits (a picture to look at; the networks' crops stay centred)."""
    cx, cy, side = square_window(box, margin, scale, shift)
    if inside is not None:
        w, h = (float(v) for v in inside)
        cx = min(max(cx, side / 2), w - side / 2) if side <= w else w / 2
        cy = min(max(cy, side / 2), h - side / 2) if side <= h else h / 2
    k = crop / side
    return np.array([[k, 0.0, crop / 2 - k * cx], [0.0, k, crop / 2 - k * cy]], np.float32)


def warp_crop(frame: np.ndarray, M: np.ndarray, crop: int) -> np.ndarray:
    """The ``crop`` x ``crop`` image of ``frame`` through ``M`` (bilinear, black outside the frame)."""
    cv2 = load_cv2()

    return cv2.warpAffine(
        frame, M, (crop, crop), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0)
    )


def letterbox_transform(width: int, height: int, side: int) -> np.ndarray:
    """2x3 affine matrix: the whole frame scaled into a ``side`` square, centred (padding on the short side)."""
    k = side / max(width, height)
    return np.array([[k, 0.0, (side - k * width) / 2], [0.0, k, (side - k * height) / 2]], np.float32)


def warp_letterbox(frame: np.ndarray, side: int) -> np.ndarray:
    """The whole frame through :func:`letterbox_transform` (area resampling, black padding)."""
    cv2 = load_cv2()

    h, w = frame.shape[:2]
    M = letterbox_transform(w, h, side)
    return cv2.warpAffine(
        frame, M, (side, side), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0)
    )


def apply_affine(M: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Points (..., 2) through the affine ``M``."""
    return pts @ M[:, :2].T + M[:, 2]


def invert_affine(M: np.ndarray) -> np.ndarray:
    """The inverse of a 2x3 affine matrix (crop pixels back to frame pixels)."""
    A = np.linalg.inv(np.vstack([M, [0.0, 0.0, 1.0]]))
    return A[:2].astype(np.float32)
