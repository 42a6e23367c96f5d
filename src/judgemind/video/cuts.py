"""Hard camera cuts from decoded frames (colour-histogram jumps).

    cuts = find_cuts(images, indices)          # frames (H, W, 3) RGB in index order -> (frame where a shot starts, ...)

A cut is a frame whose colour histogram (8 x 8 x 8 bins, total-variation distance 0..1) differs from the previous
decoded frame's by more than ``threshold`` and stands out from the typical change between frames (median + 0.2);
a cut needs ``min_gap`` frames of the new shot before the next one counts.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from judgemind.utils.optional import load_cv2

__all__ = ["CUT_THRESHOLD", "find_cuts", "histogram", "shot_index"]


def histogram(img: np.ndarray) -> np.ndarray:
    """Normalised 512-bin colour histogram of one RGB frame (computed on a <= 64 px copy)."""
    cv2 = load_cv2()

    h, w = img.shape[:2]
    k = 64.0 / min(h, w)
    if k < 1.0:
        img = cv2.resize(img, (max(1, round(w * k)), max(1, round(h * k))), interpolation=cv2.INTER_AREA)
    hist = cv2.calcHist([np.ascontiguousarray(img)], [0, 1, 2], None, [8, 8, 8], [0, 256] * 3).ravel()
    return hist / max(float(hist.sum()), 1.0)


CUT_THRESHOLD = 0.35  # total variation distance between consecutive frames' colour histograms


def find_cuts(
    images: Iterable[np.ndarray], indices: Sequence[int], threshold: float = CUT_THRESHOLD, min_gap: int = 3
) -> tuple[int, ...]:
    """Frame indices where a new shot starts among ``images`` (decoded at ``indices``, increasing)."""
    hists = [histogram(im) for im in images]
    idx = [int(i) for i in indices]
    if len(hists) < 3:
        return ()
    d = np.array([0.5 * np.abs(hists[k] - hists[k - 1]).sum() for k in range(1, len(hists))])
    base = float(np.median(d))
    out: list[int] = []
    for k, v in enumerate(d):
        if v > threshold and v > base + 0.2 and (not out or idx[k + 1] - out[-1] >= min_gap):
            out.append(idx[k + 1])
    return tuple(out)


def shot_index(cuts, frame_index) -> np.ndarray:
    """Camera-shot index (0, 1, ...) of each frame: the number of cuts (first frames of new shots) at or before it.
    ``frame_index`` (T,) -> int64 (T,)."""
    return np.searchsorted(np.sort(np.asarray(cuts, dtype=np.int64)), np.asarray(frame_index), side="right").astype(
        np.int64
    )
