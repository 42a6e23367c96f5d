"""Running AerialsPose on frames: find the athlete, then its 19 points.

    est = AerialsPose()                        # the weights shipped with judgemind (or AerialsPose("my.safetensors"))
    res = est(frames)                          # list of (H, W, 3) uint8 RGB frames of one video
    res.uv (N, 19, 2) pixels, res.vis (N, 19) 0/1/2, res.world (N, 19, 3) metres (pelvis-relative),
    res.box (N, 4) pixels (NaN where no athlete was found), res.found (N,) bool, res.confidence (N,)

The detector (BoxNet) sees each frame letterboxed; the pose network (PoseNet) reads a crop around the detected box
and, with ``refine`` (default), a second crop around the box of its own in-picture points (the detector's box is
coarse, the skeleton's box is what the crop was trained on). With ``flip`` each crop is also read
mirrored and the two readings are averaged (left and right exchanged back); the 3D pose comes from the unmirrored
crop only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from judgemind.data.skeleton import OUT_OF_FRAME
from judgemind.errors import JudgemindError
from judgemind.pose.net import FLIP, AerialsPoseModel, load_weights, to_tensor
from judgemind.utils import not_a_file_reason
from judgemind.video.crop import (
    apply_affine,
    crop_transform,
    invert_affine,
    letterbox_transform,
    warp_crop,
    warp_letterbox,
)

__all__ = ["AerialsPose", "PoseResult", "default_weights", "shipped_weights"]

WEIGHTS_NAME = "aerialspose_v1.safetensors"


def shipped_weights() -> Path:
    """Path of the weights that ship inside the package (may not exist in a source tree without them)."""
    return Path(str(resources.files("judgemind.pose").joinpath("weights", WEIGHTS_NAME)))


def default_weights(weights: str | os.PathLike | None = None) -> Path:
    """``weights`` when given, else the shipped weights; a clear error when the file is missing."""

    path = Path(weights) if weights else shipped_weights()
    why = not_a_file_reason(path)
    if why:
        if weights:
            raise JudgemindError(f"{path}: AerialsPose weights file {why}")
        raise JudgemindError(
            f"{path}: the shipped AerialsPose weights are missing from this installation; "
            f"reinstall judgemind or pass --weights FILE (train one: judgemind pose train)"
        )
    return path


@dataclass
class PoseResult:
    uv: np.ndarray  # (N, 19, 2) float32 pixels of the frames given
    vis: np.ndarray  # (N, 19) int8: 0 out of picture, 1 hidden, 2 visible (0 everywhere where not found)
    vis_prob: np.ndarray  # (N, 19, 3) float32
    world: np.ndarray  # (N, 19, 3) float32 metres, pelvis-relative (NaN where not found)
    box: np.ndarray  # (N, 4) float32 (NaN where not found)
    found: np.ndarray  # (N,) bool
    confidence: np.ndarray  # (N,) float32 detector presence probability


class AerialsPose:
    """The learned estimator (weights: a file written by ``judgemind pose train``; default: shipped)."""

    def __init__(
        self,
        weights: str | os.PathLike | None = None,
        *,
        model: AerialsPoseModel | None = None,
        refine: bool = True,
        flip: bool = False,
        batch: int = 128,
        threshold: float = 0.5,
    ):
        """``model``: networks already in memory (e.g. just trained) instead of a weights file."""
        if model is not None:
            self.path, self.model, self.card = None, model.eval(), {}
        else:
            self.path = default_weights(weights)
            self.model, self.card = load_weights(self.path)
        self.cfg = self.model.cfg
        self.refine, self.flip = bool(refine), bool(flip)
        self.batch = int(batch)
        self.threshold = float(threshold)

    # ---- detector
    @torch.no_grad()
    def detect(self, frames: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Boxes (N, 4) float32 in frame pixels (NaN where the athlete is not found) and presence (N,)."""
        S, G = self.cfg.box_input, self.cfg.box_input // 8
        boxes = np.full((len(frames), 4), np.nan, np.float32)
        conf = np.zeros(len(frames), np.float32)
        for a in range(0, len(frames), self.batch):
            chunk = frames[a : a + self.batch]
            x = to_tensor(np.stack([warp_letterbox(f, S) for f in chunk]))
            out = self.model.box(x)
            p = out["present"].sigmoid().numpy()
            cell = out["cell"].argmax(1).numpy()
            cy, cx = cell // G, cell % G
            ar = np.arange(len(chunk))
            off = out["offset"].numpy()[ar, :, cy, cx]
            size = np.exp(out["size"].numpy()[ar, :, cy, cx]) * S
            c = (np.stack([cx, cy], -1) + off) * 8.0
            b = np.concatenate([c - size / 2, c + size / 2], -1)
            for k, f in enumerate(chunk):
                h, w = f.shape[:2]
                Minv = invert_affine(letterbox_transform(w, h, S))
                bb = apply_affine(Minv, b[k].reshape(2, 2)).reshape(4)
                conf[a + k] = p[k]
                if p[k] >= self.threshold:
                    boxes[a + k] = (max(bb[0], 0), max(bb[1], 0), min(bb[2], w), min(bb[3], h))
        return boxes, conf

    # ---- pose
    @torch.no_grad()
    def keypoints(self, frames: Sequence[np.ndarray], boxes: np.ndarray):
        """Points of the athlete in ``boxes`` (N, 4): uv (N, 19, 2), visibility probabilities (N, 19, 3),
        world (N, 19, 3)."""
        C = self.cfg.crop
        N = len(frames)
        uv = np.zeros((N, 19, 2), np.float32)
        vp = np.zeros((N, 19, 3), np.float32)
        world = np.zeros((N, 19, 3), np.float32)
        for a in range(0, N, self.batch):
            Ms = [crop_transform(boxes[k], self.cfg.margin, C) for k in range(a, min(N, a + self.batch))]
            crops = np.stack([warp_crop(frames[a + j], M, C) for j, M in enumerate(Ms)])
            out = self.model.pose(to_tensor(crops))
            xy = out["xy"].numpy()
            prob = out["visibility"].softmax(-1).numpy()
            if self.flip:  # test-time mirroring: the mirrored crop's points, mirrored back, left and right swapped
                fo = self.model.pose(to_tensor(np.ascontiguousarray(crops[:, :, ::-1])))
                fxy = fo["xy"].numpy()[:, FLIP]
                fxy[..., 0] = C - fxy[..., 0]
                xy = (xy + fxy) / 2
                prob = (prob + fo["visibility"].softmax(-1).numpy()[:, FLIP]) / 2
            for j, M in enumerate(Ms):
                uv[a + j] = apply_affine(invert_affine(M), xy[j])
            vp[a : a + len(Ms)] = prob
            world[a : a + len(Ms)] = out["world"].numpy()
        return uv, vp, world

    def __call__(self, frames: Sequence[np.ndarray], boxes: np.ndarray | None = None) -> PoseResult:
        """Detect (unless ``boxes`` are given: (N, 4), NaN rows = no athlete) and estimate the points."""
        frames = list(frames)
        N = len(frames)
        if boxes is None:
            boxes, conf = self.detect(frames)
        else:
            boxes = np.asarray(boxes, np.float32).reshape(N, 4)
            conf = np.where(np.isnan(boxes).any(-1), 0.0, 1.0).astype(np.float32)
        found = ~np.isnan(boxes).any(-1)
        uv = np.zeros((N, 19, 2), np.float32)
        vp = np.zeros((N, 19, 3), np.float32)
        vp[..., OUT_OF_FRAME] = 1.0
        world = np.full((N, 19, 3), np.nan, np.float32)
        idx = np.flatnonzero(found)
        if len(idx):
            sel = [frames[i] for i in idx]
            u, p, w = self.keypoints(sel, boxes[idx])
            if self.refine:
                rb = _points_box(u, p, boxes[idx])
                u, p, w = self.keypoints(sel, rb)
                boxes[idx] = rb
            uv[idx], vp[idx], world[idx] = u, p, w
        vis = vp.argmax(-1).astype(np.int8)
        vis[~found] = OUT_OF_FRAME
        return PoseResult(uv, vis, vp, world, boxes, found, conf)


def _points_box(uv: np.ndarray, vp: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Box of the points judged in the picture (probability of out-of-picture < 0.5); the fallback box where
    fewer than 3 are."""
    inside = vp[..., OUT_OF_FRAME] < 0.5
    out = fallback.copy()
    for k in range(len(uv)):
        if inside[k].sum() >= 3:
            p = uv[k, inside[k]]
            out[k] = (p[:, 0].min(), p[:, 1].min(), p[:, 0].max(), p[:, 1].max())
    return out
