"""``i3d``: Kinetics I3D features with the FineDiving clip protocol, wrapping :mod:`judgemind.features.i3d`.

Per record: ``n_frames`` (96) frames sampled uniformly over ``[start, end)`` (``np.linspace``, like FineDiving),
cut into clips of ``clip_len`` (16) starting every ``stride`` (10) frames -> 9 clips = 9 time steps; each clip ->
one pooled 1024-d Mixed_5c vector (:class:`~judgemind.features.i3d.I3DClipEncoder`). GLOBAL = the whole frames
(shorter side resized to ``size``, centre crop, as FineDiving); FOREGROUND = the same encoder on square athlete
crops (``margin`` x the box's longer side, one box per sampled frame). ``frame_index`` = centre frame of each
clip. ``--weights`` (a converted checkpoint, family A or B) is required.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from judgemind.errors import JudgemindError
from judgemind.features.base import Extractor, Frames, Plan, register_extractor
from judgemind.features.i3d import NORMALIZATIONS, I3DClipEncoder, load_i3d_checkpoint
from judgemind.video.crop import square_crop

__all__ = ["I3DExtractor"]


@register_extractor
class I3DExtractor(Extractor):
    """Options: ``weights`` (required), ``n_frames`` (96), ``clip_len`` (16), ``stride`` (10), ``size`` (112),
    ``normalization`` ("imagenet" as the AQA repos, or "kinetics" = [-1, 1]), ``bn_eps``, ``family``
    ("auto"/"A"/"B"), ``margin`` (crop side / box side), ``short_side`` (decode size), ``batch_clips``.
    ``steps`` may be given only if it equals the number of clips (the protocol fixes T)."""

    name = "i3d"
    description = "Kinetics-400 I3D (user checkpoint), FineDiving protocol: 96 frames -> 9 clips of 16, stride 10"
    weights_kind = "required file"
    requires = ("torch", "av", "cv2")
    dims_text = "1024 / 1024"
    steps_text = "9 (n_frames 96, clip 16, stride 10)"

    def __init__(
        self,
        weights: str | None = None,
        steps: int | None = None,
        n_frames: int = 96,
        clip_len: int = 16,
        stride: int = 10,
        size: int = 112,
        normalization: str = "imagenet",
        bn_eps: float | None = None,
        family: str = "auto",
        margin: float = 1.25,
        short_side: int = 256,
        batch_clips: int = 3,
    ):
        if not weights:
            raise JudgemindError(
                "the i3d extractor needs --weights FILE: a Kinetics-400 I3D checkpoint (e.g. "
                "hassony2 model_rgb.pth or piergiaj rgb_imagenet.pt); none can be downloaded here"
            )

        if normalization not in NORMALIZATIONS:
            raise JudgemindError(f"i3d: unknown normalization {normalization!r} (one of {', '.join(NORMALIZATIONS)})")
        model, info = load_i3d_checkpoint(weights, bn_eps=bn_eps, family=family)
        mean, std = NORMALIZATIONS[normalization]
        try:
            self.encoder = I3DClipEncoder(
                model,
                clip_len=clip_len,
                stride=stride,
                n_frames=n_frames,
                size=size,
                mean=mean,
                std=std,
                batch_clips=batch_clips,
            )
        except ValueError as e:
            raise JudgemindError(f"i3d: {e}") from e
        if steps is not None and int(steps) != self.encoder.n_clips:
            raise JudgemindError(
                f"i3d: --steps {steps} does not fit the clip protocol, which gives "
                f"{self.encoder.n_clips} steps (n_frames={n_frames}, clip_len={clip_len}, "
                f"stride={stride}); change those instead"
            )
        self.info_ = info
        self.n_frames, self.size, self.margin = int(n_frames), int(size), float(margin)
        self.normalization = normalization
        self.short_side = int(short_side)

    def config(self) -> dict[str, Any]:
        enc = self.encoder.config()
        return {
            "extractor": self.name,
            "steps": self.encoder.n_clips,
            "sampling": "linspace",
            **enc,
            "normalization": self.normalization,
            "margin": self.margin,
            "family": self.info_["family"],
            "bn_eps": self.info_["bn_eps"],
            "weights_sha256": self.info_["sha256"],
        }

    def dims(self) -> dict[str, int]:
        return {"global": self.encoder.feature_dim, "foreground": self.encoder.feature_dim}

    def plan(self, start: int, end: int) -> Plan:
        if end <= start:
            raise JudgemindError(f"i3d: empty frame range [{start}, {end})")
        # the encoder's own sampling (linspace over the record's N frames, rounded down) and clip centres, so that
        # the frames decoded here are exactly the ones its protocol resamples
        sampled = self.encoder.sample_indices(end - start) + start
        centres = self.encoder.frame_index(end - start, frame_offset=start)
        uniq = np.unique(sampled)
        return Plan(steps=np.asarray(centres, np.int64), decode=uniq, locate=uniq, extra={"sampled": sampled})

    def encode(self, frames: Frames, plan: Plan) -> dict[str, np.ndarray]:
        sampled = [int(i) for i in plan.extra["sampled"]]
        whole = np.stack([frames.images[i] for i in sampled])
        crops = {i: square_crop(frames.images[i], frames.boxes[i], self.margin, self.size) for i in set(sampled)}
        fg = np.stack([crops[i] for i in sampled])
        return {"global": self.encoder.encode(whole), "foreground": self.encoder.encode(fg)}
