"""``pixels``: small grayscale images as tokens — the athlete crop and the whole frame, plus their motion.

No learned weights and almost no compute: per time step the foreground token is the athlete's square crop
(``fg_size`` x ``fg_size`` gray, standardised per crop) followed by its difference to the crop ``motion_gap``
frames earlier; the global token is the letter-boxed whole frame (``global_size``\\ :sup:`2` gray) and its
difference. The scoring model learns what to look at. On SynthAerials, where a random 3D CNN's pooled features
lose the body's configuration, these tokens keep it (see docs/model.md for the measured comparison).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from judgemind.errors import JudgemindError
from judgemind.features.base import Extractor, Frames, Plan, register_extractor
from judgemind.video.crop import letterbox, square_crop
from judgemind.video.decode import sample_indices


def _gray(img: np.ndarray) -> np.ndarray:
    return img[..., 0] * 0.299 + img[..., 1] * 0.587 + img[..., 2] * 0.114


def _std(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float32)
    x -= x.mean()
    return x / (x.std() + 8.0)  # +8: flat crops (athlete out of view) stay near zero instead of amplifying noise


@register_extractor
class PixelsExtractor(Extractor):
    """Options: ``steps`` (T, default 32), ``fg_size`` (crop side, default 24), ``global_size`` (default 16),
    ``margin`` (crop side / box side, default 1.3), ``motion_gap`` (frames, default 2), ``short_side``."""

    name = "pixels"
    description = "athlete crop + whole frame as small gray images with their motion; no weights, very fast"
    weights_kind = None
    requires = ("av", "cv2")
    dims_text = "2*global_size^2 / 2*fg_size^2 (default 512 / 1152)"

    def __init__(
        self,
        steps: int | None = None,
        fg_size: int = 24,
        global_size: int = 16,
        margin: float = 1.3,
        motion_gap: int = 2,
        short_side: int = 256,
    ):
        self.steps = 32 if steps is None else int(steps)
        if self.steps < 3 or fg_size < 4 or global_size < 4 or motion_gap < 1 or margin < 1.0:
            raise JudgemindError(
                "pixels: need steps >= 3, fg_size >= 4, global_size >= 4, motion_gap >= 1, margin >= 1"
            )
        self.fg_size, self.global_size = int(fg_size), int(global_size)
        self.margin, self.motion_gap, self.short_side = float(margin), int(motion_gap), int(short_side)

    def config(self) -> dict[str, Any]:
        return {
            "extractor": self.name,
            "steps": self.steps,
            "sampling": "linspace",
            "fg_size": self.fg_size,
            "global_size": self.global_size,
            "margin": self.margin,
            "motion_gap": self.motion_gap,
            "weights_sha256": None,
        }

    def dims(self) -> dict[str, int]:
        return {"global": 2 * self.global_size**2, "foreground": 2 * self.fg_size**2}

    def plan(self, start: int, end: int) -> Plan:
        steps = sample_indices(start, end, self.steps)
        prev = np.maximum(steps - self.motion_gap, start)
        dec = np.unique(np.concatenate([steps, prev])).astype(np.int64)
        return Plan(steps=steps.astype(np.int64), decode=dec, locate=dec, extra={"prev": prev.astype(np.int64)})

    def encode(self, frames: Frames, plan: Plan) -> dict[str, np.ndarray]:
        g_out, f_out = [], []
        for t, p in zip(plan.steps, plan.extra["prev"]):
            t, p = int(t), int(p)
            box = frames.boxes[t]  # the same box for both frames: motion inside a fixed window
            fc = _std(_gray(square_crop(frames.images[t], box, self.margin, self.fg_size)))
            fp = _std(_gray(square_crop(frames.images[p], box, self.margin, self.fg_size)))
            gc = _std(_gray(letterbox(frames.images[t], self.global_size)))
            gp = _std(_gray(letterbox(frames.images[p], self.global_size)))
            f_out.append(np.concatenate([fc.ravel(), (fc - fp).ravel()]))
            g_out.append(np.concatenate([gc.ravel(), (gc - gp).ravel()]))
        return {"global": np.asarray(g_out, np.float32), "foreground": np.asarray(f_out, np.float32)}
