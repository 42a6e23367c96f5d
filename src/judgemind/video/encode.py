"""Writing videos with PyAV (libx264 is bundled), for tests, benchmarks and generated data.

write_video("clip.mp4", frames, fps=25)                              # frames: iterable of (H, W, 3) uint8 RGB
write_video("vfr.mp4", frames, timestamps=[0.0, 0.04, 0.2, ...])     # variable frame rate (seconds)
write_video("phone.mp4", frames, rotation=-90)                       # display matrix: shown turned
write_video("gray.mkv", frames, codec="ffv1", pix_fmt="gray")        # grayscale stream
frames = moving_figure(100, 320, 240)                                 # a figure moving over a textured scene
"""

from __future__ import annotations

import os
from fractions import Fraction
from typing import Iterable, Iterator, Sequence

import numpy as np

from judgemind.rules.names import DEFAULT_FPS
from judgemind.utils.atomic import atomic_path
from judgemind.utils.optional import load_av

__all__ = ["write_video", "moving_figure"]


def write_video(
    path: str | os.PathLike,
    frames: Iterable[np.ndarray],
    fps: float = DEFAULT_FPS,
    *,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    rotation: int = 0,
    timestamps: Sequence[float] | None = None,
    options: dict | None = None,
) -> int:
    """Encode RGB frames into ``path`` (atomic). Returns the number of frames written.

    ``rotation``: counter-clockwise degrees stored in the display matrix (players turn the picture by it).
    ``timestamps``: per-frame presentation times in seconds (variable frame rate); default ``i / fps``.
    ``options``: encoder options, e.g. ``{"crf": "23", "preset": "ultrafast", "g": "50"}``.
    """
    av = load_av()

    n = 0
    fmt = {".mkv": "matroska", ".avi": "avi", ".mp4": "mp4", ".mov": "mov"}.get(os.path.splitext(str(path))[1])
    with atomic_path(path) as tmp:
        with av.open(str(tmp), "w", format=fmt) as container:
            stream = None
            for i, img in enumerate(frames):
                img = np.ascontiguousarray(img, dtype=np.uint8)
                if stream is None:
                    rate = Fraction(fps).limit_denominator(1001)
                    stream = container.add_stream(codec, rate=rate)
                    stream.height, stream.width = img.shape[:2]
                    stream.pix_fmt = pix_fmt
                    if options:
                        stream.options = dict(options)
                    if timestamps is not None:
                        stream.codec_context.time_base = Fraction(1, 1000)
                    if rotation:
                        stream.set_display_rotation(int(rotation))
                frame = av.VideoFrame.from_ndarray(img, format="rgb24")
                if timestamps is not None:
                    frame.pts = int(round(float(timestamps[i]) * 1000))
                    frame.time_base = Fraction(1, 1000)
                for packet in stream.encode(frame):
                    container.mux(packet)
                n += 1
            if stream is not None:
                for packet in stream.encode():
                    container.mux(packet)
    return n


def moving_figure(
    n: int, width: int, height: int, *, seed: int = 0, figure_height: float = 0.4
) -> Iterator[np.ndarray]:
    """``n`` RGB frames: a dark figure (head, torso, legs) of ``figure_height`` x frame height crossing a static,
    textured background from left to right while bobbing. Deterministic by ``seed``."""
    rng = np.random.default_rng(seed)
    bg = np.empty((height, width, 3), np.uint8)
    bg[:] = (150, 180, 210)
    bg[height // 2 :] = (200, 200, 195)
    noise = rng.integers(-12, 13, (height, width, 1))
    bg = np.clip(bg.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    fh = max(8, int(height * figure_height))
    fw = max(3, fh // 4)
    yy, xx = np.mgrid[0:height, 0:width]
    for i in range(n):
        t = i / max(1, n - 1)
        cx = int((0.1 + 0.8 * t) * width)
        top = int(height * 0.3 + 0.1 * height * np.sin(2 * np.pi * 2 * t))
        img = bg.copy()
        head_r = max(2, fh // 10)
        head = (xx - cx) ** 2 + (yy - (top + head_r)) ** 2 <= head_r**2
        torso = (abs(xx - cx) <= fw // 2) & (yy >= top + 2 * head_r) & (yy < top + fh * 6 // 10)
        swing = int(fw * 0.6 * np.sin(2 * np.pi * 4 * t))
        leg_y = (yy >= top + fh * 6 // 10) & (yy < top + fh)
        legs = leg_y & (
            (abs(xx - (cx - fw // 4 - swing * (yy - top) / fh)) <= fw // 5 + 1)
            | (abs(xx - (cx + fw // 4 + swing * (yy - top) / fh)) <= fw // 5 + 1)
        )
        img[head | torso | legs] = (40, 30, 35)
        yield img
