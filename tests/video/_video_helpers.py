"""Helpers shared by the video tests (a plain module: importing from conftest breaks with several conftests)."""

from __future__ import annotations

import numpy as np


def index_frames(n: int, w: int = 32, h: int = 24):
    """Frames whose gray level encodes their index (8 * i + 8), with a white marker square at the top left."""
    for i in range(n):
        img = np.full((h, w, 3), (8 * i + 8) % 256, np.uint8)
        img[: h // 3, : w // 3] = 255
        yield img


def level(frame: np.ndarray) -> int:
    """Index encoded by :func:`index_frames` (read far from the marker)."""
    h, w = frame.shape[:2]
    return int(round((float(frame[h // 2 :, w // 2 :].mean()) - 8) / 8))


LOSSLESS = {"qp": "0", "preset": "ultrafast"}
